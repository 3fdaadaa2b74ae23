"""An OVHcloud VPS as a resource: power, rescue, snapshots, rebuild."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
import datetime as dt
import logging
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

from homeassistant.exceptions import (
    HomeAssistantError,
    ServiceValidationError,
)
from homeassistant.helpers.device_registry import DeviceInfo
from homeassistant.util import dt as dt_util

from ...api.errors import (
    ApiError,
    NotFound,
    PermissionDenied,
)
from ...api.ovh import OvhClient, Task
from ...capabilities import (
    Snapshot,
    async_take_safety_snapshot,
    safety_snapshot_name,
)
from ...const import DOMAIN
from ...naming import Noun
from ...resource import Resource
from . import const
from .const import CONF_ENDPOINT, TASK_TIMEOUT, manager_url
from .descriptions import VPS
from .state import aware

if TYPE_CHECKING:
    from .coordinator import OvhCoordinator

_LOGGER = logging.getLogger(__name__)


class OvhVpsResource(Resource):
    """One OVHcloud VPS, keyed by its service name."""

    noun = Noun.VPS

    starting_text = "starting_vps"
    #: async_reboot returns once OVH's reboot task ended (see the report on power.py).
    reboot_completes_task = True
    descriptions = VPS
    coordinator: OvhCoordinator

    @property
    def client(self) -> OvhClient:
        return self.coordinator.client

    @property
    def device_info(self) -> DeviceInfo:
        state = self.coordinator.states.get(self.key)
        details = self.coordinator.details.get(self.key)
        model = state.info.model if state else None
        return DeviceInfo(
            identifiers={(DOMAIN, self.key)},
            name=self.name,
            manufacturer="OVHcloud",
            model=model.name if model else None,
            model_id=self.key,
            sw_version=details.image.name if details and details.image else None,
            configuration_url=manager_url(
                self.entry.data.get(CONF_ENDPOINT, ""), self.key
            ),
        )

    async def _follow(
        self,
        action: Callable[[], Awaitable[Task]],
        *,
        details: bool = False,
        refresh: bool = True,
    ) -> Task:
        """Send `action`, wait for its OVH task to end (TaskFailed if it fails).

        Then refresh at once (not debounced: two actions in a row must each show
        their outcome), unless the power manager follows the state itself.
        """
        task = await action()
        try:
            return await self.client.wait_for_task(
                self.key,
                task.id,
                timeout=TASK_TIMEOUT,
                interval=const.TASK_POLL_INTERVAL,
            )
        finally:
            if details:
                self.coordinator.mark_stale(self.key)
            if refresh:
                await self.coordinator.async_refresh()

    # -- power ----------------------------------------------------------------------
    async def async_start(self) -> None:
        await self._follow(lambda: self.client.start(self.key), refresh=False)

    async def async_stop(self) -> None:
        await self._follow(lambda: self.client.stop(self.key), refresh=False)

    async def async_reboot(self) -> None:
        await self._follow(lambda: self.client.reboot(self.key), refresh=False)

    async def async_rescue(self, enabled: bool) -> dict[str, Any]:
        await self._follow(lambda: self.client.rescue(self.key, enabled))
        if enabled:
            return {
                "netboot": "rescue",
                "message": "The VPS rebooted into rescue mode. OVHcloud e-mails "
                "the rescue system's credentials to the account's admin contact.",
            }
        return {"netboot": "local", "message": "The VPS rebooted from its disk."}

    # -- snapshots ------------------------------------------------------------------
    async def async_create_snapshot(
        self, name: str | None, description: str | None, include_ram: bool
    ) -> None:
        if include_ram:
            raise ServiceValidationError(
                translation_domain=DOMAIN,
                translation_key="ovh_include_ram",
                translation_placeholders={"name": self.name},
            )
        existing = await self.client.get_snapshot(self.key)
        if existing is not None:
            raise HomeAssistantError(
                translation_domain=DOMAIN,
                translation_key="ovh_snapshot_exists",
                translation_placeholders={
                    "name": self.name,
                    "snapshot": existing.description or existing.id or "",
                },
            )
        await self._follow(
            lambda: self.client.create_snapshot(self.key, description or name),
            details=True,
        )

    async def _on_snapshot(self, action: Callable[[], Awaitable[Task]]) -> None:
        try:
            await self._follow(action, details=True)
        except NotFound as err:
            raise HomeAssistantError(
                translation_domain=DOMAIN,
                translation_key="ovh_no_snapshot",
                translation_placeholders={"name": self.name},
            ) from err

    async def async_restore_snapshot(
        self, name: str | None, *, snapshot_first: bool = False
    ) -> None:
        if snapshot_first:
            # The snapshot to restore is the one OVHcloud keeps: none can be
            # taken beside it, so this refuses (unless there is nothing to restore).
            if await self.client.get_snapshot(self.key) is None:
                raise HomeAssistantError(
                    translation_domain=DOMAIN,
                    translation_key="ovh_no_snapshot",
                    translation_placeholders={"name": self.name},
                )
            await async_take_safety_snapshot(self, "restore_snapshot", "restore")
        await self._on_snapshot(lambda: self.client.restore_snapshot(self.key))

    async def async_snapshot_before(self, action: str, word: str) -> None:
        # One snapshot per VPS: an existing one is never deleted to make room.
        existing = await self.client.get_snapshot(self.key)
        if existing is not None:
            raise HomeAssistantError(
                translation_domain=DOMAIN,
                translation_key="ovh_snapshot_first_exists",
                translation_placeholders={
                    "name": self.name,
                    "action": action,
                    "snapshot": existing.description or existing.id or "",
                },
            )
        await self._follow(
            lambda: self.client.create_snapshot(
                self.key, safety_snapshot_name(word, dt_util.utcnow())
            ),
            details=True,
        )

    async def async_delete_snapshot(self, name: str | None) -> None:
        await self._on_snapshot(lambda: self.client.delete_snapshot(self.key))

    async def async_list_snapshots(self) -> list[Snapshot]:
        snapshot = await self.client.get_snapshot(self.key)
        if snapshot is None:
            return []
        extra: dict[str, Any] = {
            "id": snapshot.id,
            "region": snapshot.region,
            "download_url": None,
            "size": None,
            "expires": None,
        }
        try:
            download = await self.client.snapshot_download(self.key)
        except (NotFound, PermissionDenied, ApiError) as err:
            _LOGGER.debug("No download link for %s: %s", self.name, err)
        else:
            extra |= {
                "download_url": download.url,
                "size": download.size,
                "expires": _link_expiry(download.url),
            }
        return [
            Snapshot(
                name=snapshot.id or "snapshot",
                description=snapshot.description,
                time=aware(snapshot.creation_date),
                extra=extra,
            )
        ]

    # -- cloud server actions ------------------------------------------------------
    async def async_console_url(self) -> dict[str, Any]:
        return {"url": await self.client.console_url(self.key)}

    async def async_list_images(self) -> list[dict[str, Any]]:
        return [
            {"id": image.id, "name": image.name}
            for image in await self.client.list_images(self.key)
        ]

    async def async_rebuild(
        self,
        image_id: str,
        ssh_key: str | None,
        public_ssh_key: str | None,
        do_not_send_password: bool,
        *,
        snapshot_first: bool = False,
    ) -> dict[str, Any]:
        if do_not_send_password and not (ssh_key or public_ssh_key):
            raise ServiceValidationError(
                translation_domain=DOMAIN, translation_key="ovh_password_needs_key"
            )
        images = {i["id"]: i["name"] for i in await self.async_list_images()}
        if image_id not in images:
            raise ServiceValidationError(
                translation_domain=DOMAIN,
                translation_key="ovh_unknown_image",
                translation_placeholders={
                    "name": self.name,
                    "image_id": image_id,
                    "images": ", ".join(
                        f"{i} ({n})" for i, n in sorted(images.items())
                    ),
                },
            )
        if snapshot_first:
            await async_take_safety_snapshot(self, "rebuild", "rebuild")
        task = await self._follow(
            lambda: self.client.rebuild(
                self.key,
                image_id,
                ssh_key=ssh_key,
                public_ssh_key=public_ssh_key,
                do_not_send_password=do_not_send_password,
            ),
            details=True,
        )
        return {
            "task_id": task.id,
            "image_id": image_id,
            "image": images[image_id],
            "message": "The VPS was rebuilt."
            + (
                ""
                if do_not_send_password
                else " OVHcloud e-mails the new password to the admin contact."
            ),
        }

    async def async_reset_password(self) -> dict[str, Any]:
        task = await self._follow(lambda: self.client.reset_password(self.key))
        return {
            "task_id": task.id,
            "message": "OVHcloud e-mails the new root password to the admin contact.",
        }


def _link_expiry(url: str) -> str | None:
    """When a temporary download link expires (its `temp_url_expires`), if it says."""
    values = parse_qs(urlsplit(url).query).get("temp_url_expires")
    if not values or not values[0].isdigit():
        return None
    return dt.datetime.fromtimestamp(int(values[0]), dt.UTC).isoformat()
