"""The OVH client: consumer key, discovery, fast polling and the VPS actions.

See the package docstring (__init__.py) for the whole public API.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable
from typing import Any
from urllib.parse import quote

from ..errors import ApiError, NotFound, PermissionDenied, WakeHubError
from ..fields import items, opt_int, opt_obj, opt_str, text
from .backup import BackupManager
from .details import DetailsReader
from .dns import DnsManager
from .error_map import CredentialExpired, CredentialRefused
from .models import (
    TASK_RUNNING_STATE,
    CredentialRequest,
    Image,
    SnapshotDownload,
    Task,
    VpsInfo,
    VpsState,
    parse_vps,
)
from .monitoring import MonitoringReader
from .offers import OffersReader
from .signing import ACCESS_RULES, missing_rules
from .spec_errors import SnapshotExists
from .storage import StorageManager
from .transport import vps_path


class OvhClient(
    BackupManager,
    DetailsReader,
    StorageManager,
    MonitoringReader,
    DnsManager,
    OffersReader,
):
    """Async client of the OVH API for one account (application + consumer key).

    The VPS manager's parts are mixins, one module each: backup.py, storage.py,
    monitoring.py, dns.py, offers.py (BackupManager is a TaskFollower).
    """

    # -- consumer key ------------------------------------------------------------------
    async def request_credential(
        self, redirection: str | None = None
    ) -> CredentialRequest:
        """Ask OVH for a consumer key limited to ACCESS_RULES (user must validate)."""
        body: dict[str, Any] = {
            "accessRules": [{"method": m, "path": p} for m, p in ACCESS_RULES]
        }
        if redirection:
            body["redirection"] = redirection
        answer = opt_obj(
            await self._call("POST", "/auth/credential", body=body, signed=False)
        )
        consumer_key = opt_str(answer.get("consumerKey"))
        if not consumer_key:
            raise ApiError("credential", "OVH returned no consumer key")
        return CredentialRequest(
            consumer_key=consumer_key,
            state=opt_str(answer.get("state")) or "pendingValidation",
            validation_url=opt_str(answer.get("validationUrl")) or "",
        )

    async def credential_status(self, consumer_key: str | None = None) -> str:
        """State of a consumer key (this client's by default).

        "validated" or "pendingValidation"; a refused or expired key is CredentialRejected.
        Passing a key adopts it: the config flow polls the key it just requested.
        """
        if consumer_key is not None:
            self.consumer_key = consumer_key
        answer = opt_obj(await self._call("GET", "/auth/currentCredential"))
        status = opt_str(answer.get("status")) or "unknown"
        if status == "refused":
            raise CredentialRefused(
                "the OVH consumer key was refused by the account owner"
            )
        if status == "expired":
            raise CredentialExpired("the OVH consumer key has expired")
        return status

    async def missing_access_rules(self) -> tuple[tuple[str, str], ...]:
        """The ACCESS_RULES this client's consumer key was not granted.

        Empty for a key requested by this version; a key from before the VPS
        manager lacks MANAGER_RULES and needs replacing (reauth) to use them.
        """
        answer = opt_obj(await self._call("GET", "/auth/currentCredential"))
        granted = [
            (text(rule.get("method")), text(rule.get("path")))
            for rule in map(opt_obj, answer.get("rules") or [])
        ]
        return missing_rules(granted)

    async def account_id(self) -> str:
        """Stable account id: the nichandle, or the application key without GET /me."""
        try:
            answer = opt_obj(await self._call("GET", "/me"))
        except PermissionDenied, NotFound:
            return self._application_key
        return opt_str(answer.get("nichandle")) or self._application_key

    # -- discovery ------------------------------------------------------------------
    async def list_services(self) -> list[str]:
        answer = await self._call("GET", "/vps")
        return [name for name in items(answer, "GET /vps") if isinstance(name, str)]

    async def get_vps(self, service: str) -> VpsInfo:
        return parse_vps(service, await self._call("GET", vps_path(service)))

    async def discover(self) -> list[VpsInfo]:
        """Every VPS of the account with its details (1 + N requests, concurrent)."""
        names = await self.list_services()
        return list(await asyncio.gather(*(self.get_vps(name) for name in names)))

    # -- polling -----------------------------------------------------------------------
    async def poll_vps(
        self, service: str, *, describe_new_tasks: bool = False
    ) -> VpsState:
        """Fast cycle for one VPS: 2 requests (state + running task ids)."""
        info_payload, task_ids = await asyncio.gather(
            self._call("GET", vps_path(service)),
            self._call(
                "GET", vps_path(service, "tasks"), query={"state": TASK_RUNNING_STATE}
            ),
        )
        ids = tuple(
            i
            for i in items(task_ids, f"the running tasks of {service}")
            if isinstance(i, int) and not isinstance(i, bool)
        )
        current = None
        for task_id in ids:
            current = self._tasks.get((service, task_id))
            if current is None and describe_new_tasks:
                current = await self.get_task(service, task_id)
            if current is not None:
                break
        return VpsState(parse_vps(service, info_payload), ids, current)

    async def fast_poll(
        self, services: Iterable[str], *, describe_new_tasks: bool = False
    ) -> dict[str, VpsState | WakeHubError]:
        """Fast cycle for many VPSes; a failing VPS yields its error, not a raise."""
        return await _gather_by_name(
            services,
            lambda name: self.poll_vps(name, describe_new_tasks=describe_new_tasks),
        )

    # -- actions ------------------------------------------------------------------------
    async def start(self, service: str) -> Task:
        return await self._task_call(service, "POST", "start")

    async def stop(self, service: str) -> Task:
        return await self._task_call(service, "POST", "stop")

    async def reboot(self, service: str) -> Task:
        return await self._task_call(service, "POST", "reboot")

    async def set_netboot(self, service: str, mode: str) -> None:
        """`local` (boot from disk) or `rescue`; takes effect at the next reboot."""
        await self._call("PUT", vps_path(service), body={"netbootMode": mode})

    async def rescue(self, service: str, enabled: bool = True) -> Task:
        """Reboot into rescue mode (or back to disk): netboot mode, then reboot."""
        await self.set_netboot(service, "rescue" if enabled else "local")
        return await self.reboot(service)

    async def create_snapshot(
        self, service: str, description: str | None = None
    ) -> Task:
        """Start a snapshot; OVH keeps one per VPS, so an existing one is a Conflict."""
        existing = await self.get_snapshot(service)
        if existing is not None:
            raise SnapshotExists(
                f"{service} already has a snapshot ({existing.description or existing.id}); "
                "delete it before creating a new one"
            )
        body = {"description": description} if description else {}
        return await self._task_call(service, "POST", "createSnapshot", body)

    async def restore_snapshot(self, service: str) -> Task:
        return await self._task_call(service, "POST", "snapshot/revert")

    async def delete_snapshot(self, service: str) -> Task:
        return await self._task_call(service, "DELETE", "snapshot")

    async def snapshot_download(self, service: str) -> SnapshotDownload:
        data = opt_obj(await self._call("GET", vps_path(service, "snapshot/download")))
        url = opt_str(data.get("url"))
        if not url:
            raise ApiError("snapshot", "OVH returned no download URL")
        return SnapshotDownload(url=url, size=opt_int(data.get("size")))

    async def console_url(self, service: str) -> str:
        answer = await self._call("POST", vps_path(service, "getConsoleUrl"))
        if not isinstance(answer, str) or not answer:
            raise ApiError("console", "OVH returned no console URL")
        return answer

    async def list_images(self, service: str) -> list[Image]:
        """Images this VPS can be rebuilt with (ids, then each one's name)."""
        ids = await self._call("GET", vps_path(service, "images/available"))
        details = await asyncio.gather(
            *(
                self._call(
                    "GET", vps_path(service, f"images/available/{quote(i, safe='')}")
                )
                for i in items(ids, f"the images of {service}")
                if isinstance(i, str)
            )
        )
        return [
            Image(id=text(d.get("id")), name=opt_str(d.get("name")))
            for d in map(opt_obj, details)
            if d.get("id")
        ]

    async def rebuild(
        self,
        service: str,
        image_id: str,
        *,
        ssh_key: str | None = None,
        public_ssh_key: str | None = None,
        do_not_send_password: bool = False,
    ) -> Task:
        """Reinstall the VPS from an image; every data on it is erased.

        `ssh_key` names a key of the account (/me/sshKey), `public_ssh_key` is the
        key itself; `do_not_send_password` needs one of them (ValueError otherwise).
        """
        if do_not_send_password and not (ssh_key or public_ssh_key):
            raise ValueError("do_not_send_password needs an SSH key")
        body: dict[str, Any] = {"imageId": image_id}
        if ssh_key:
            body["sshKey"] = ssh_key
        if public_ssh_key:
            body["publicSshKey"] = public_ssh_key
        if do_not_send_password:
            body["doNotSendPassword"] = True
        return await self._task_call(service, "POST", "rebuild", body)

    async def reset_password(self, service: str) -> Task:
        """New root password, e-mailed by OVH to the admin contact."""
        return await self._task_call(service, "POST", "setPassword")


async def _gather_by_name[T](
    names: Iterable[str], fetch: Callable[[str], Awaitable[T]]
) -> dict[str, T | WakeHubError]:
    async def one(name: str) -> tuple[str, T | WakeHubError]:
        try:
            return name, await fetch(name)
        except WakeHubError as err:
            return name, err

    return dict(await asyncio.gather(*(one(name) for name in names)))
