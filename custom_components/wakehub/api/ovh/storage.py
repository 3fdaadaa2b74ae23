"""Backup storage (the FTP space of a VPS): quota and usage, address, password,
and the access list (which IP blocks may reach it, over which protocols).

Its changes are `dedicated.server.Task`s, which no `/vps` call can read back:
WakeHub reports the task OVH created and its state at creation, and the next
read of the access list shows the outcome (`isApplied`).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
import datetime as dt
from typing import Any
from urllib.parse import quote

from ..errors import NotFound
from ..fields import items, obj, opt_int, opt_obj, opt_str
from .models import opt_bool, parse_datetime
from .transport import OvhTransport, vps_path
from .values import aware, size_bytes


@dataclass(frozen=True, slots=True)
class BackupStorage:
    """`GET /vps/{sn}/backupftp`: the server name is the address to connect to."""

    address: str | None
    type: str | None
    quota_bytes: int | None
    usage_bytes: int | None
    read_only_since: dt.datetime | None

    @property
    def usage_percent(self) -> float | None:
        if not self.quota_bytes or self.usage_bytes is None:
            return None
        return round(self.usage_bytes / self.quota_bytes * 100, 1)


@dataclass(frozen=True, slots=True)
class StorageAccess:
    """One access rule: an IP block and the protocols it may use."""

    ip_block: str
    ftp: bool | None
    cifs: bool | None
    nfs: bool | None
    applied: bool | None
    last_update: dt.datetime | None


@dataclass(frozen=True, slots=True)
class StorageTask:
    """A `dedicated.server.Task` as OVH answered it at creation."""

    id: int | None
    function: str | None
    status: str | None
    comment: str | None


def parse_storage_task(payload: Any) -> StorageTask:
    data = opt_obj(payload)
    return StorageTask(
        id=opt_int(data.get("taskId")),
        function=opt_str(data.get("function")),
        status=opt_str(data.get("status")),
        comment=opt_str(data.get("comment")),
    )


def parse_access(ip_block: str, payload: Any) -> StorageAccess:
    data = opt_obj(payload)
    return StorageAccess(
        ip_block=opt_str(data.get("ipBlock")) or ip_block,
        ftp=opt_bool(data.get("ftp")),
        cifs=opt_bool(data.get("cifs")),
        nfs=opt_bool(data.get("nfs")),
        applied=opt_bool(data.get("isApplied")),
        last_update=aware(parse_datetime(data.get("lastUpdate"))),
    )


def _block_path(service: str, ip_block: str) -> str:
    return vps_path(service, f"backupftp/access/{quote(ip_block, safe='')}")


class StorageManager(OvhTransport):
    """The backup storage option of a VPS."""

    async def backup_storage(self, service: str) -> BackupStorage | None:
        """Quota, usage and address; None when the VPS does not have the option."""
        try:
            answer = await self._call("GET", vps_path(service, "backupftp"))
        except NotFound:
            return None
        data = obj(answer, f"the backup storage of {service}")
        return BackupStorage(
            address=opt_str(data.get("ftpBackupName")),
            type=opt_str(data.get("type")),
            quota_bytes=size_bytes(data.get("quota")),
            usage_bytes=size_bytes(data.get("usage")),
            read_only_since=aware(parse_datetime(data.get("readOnlyDate"))),
        )

    async def reset_storage_password(self, service: str) -> StorageTask:
        """A new password, which OVH e-mails to the admin contact (never to us)."""
        answer = await self._call("POST", vps_path(service, "backupftp/password"))
        return parse_storage_task(answer)

    async def storage_access(self, service: str) -> list[StorageAccess]:
        """Every access rule (the list of blocks, then each one's protocols)."""
        answer = await self._call("GET", vps_path(service, "backupftp/access"))
        blocks = [
            b
            for b in items(answer, f"the backup storage access of {service}")
            if isinstance(b, str)
        ]
        details = await asyncio.gather(
            *(self._call("GET", _block_path(service, b)) for b in blocks)
        )
        return [parse_access(b, d) for b, d in zip(blocks, details, strict=True)]

    async def add_storage_access(
        self, service: str, ip_block: str, *, ftp: bool, cifs: bool, nfs: bool
    ) -> StorageTask:
        """Allow `ip_block` (one of `authorizable_blocks`) over these protocols."""
        body = {"ipBlock": ip_block, "ftp": ftp, "cifs": cifs, "nfs": nfs}
        answer = await self._call(
            "POST", vps_path(service, "backupftp/access"), body=body
        )
        return parse_storage_task(answer)

    async def remove_storage_access(self, service: str, ip_block: str) -> StorageTask:
        answer = await self._call("DELETE", _block_path(service, ip_block))
        return parse_storage_task(answer)

    async def authorizable_blocks(self, service: str) -> list[str]:
        """The IP blocks OVH lets this VPS's storage be opened to."""
        answer = await self._call(
            "GET", vps_path(service, "backupftp/authorizableBlocks")
        )
        return [
            b
            for b in items(answer, f"the authorizable blocks of {service}")
            if isinstance(b, str)
        ]
