"""A Proxmox guest (qemu VM or LXC container), found by vmid wherever it runs."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
import logging
from typing import TYPE_CHECKING, Any, Final

from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers.device_registry import DeviceInfo
from homeassistant.util import dt as dt_util

from ...action_errors import translate_error
from ...api.errors import ApiError, NotFound, TaskFailed
from ...api.proxmox import (
    ActionNotSupported,
    BackupCompress,
    BackupMode,
    GuestRef,
    GuestType,
    InvalidSnapshotName,
    ProxmoxClient,
    TaskTimeout,
)
from ...api.proxmox.models import upid_node, validate_snapshot_name
from ...capabilities import (
    Snapshot,
    async_take_safety_snapshot,
    safety_snapshot_name,
)
from ...const import DOMAIN
from ...devices import via
from ...features import ResourceFeature
from ...hosting import HostKind, KnownAs
from ...naming import Noun
from ...power_events import TIMEOUT_KEYS, PowerAction
from ...resource import Resource
from . import const
from .const import (
    CONF_STOP_METHOD,
    STOP_HIBERNATE,
    STOP_METHODS,
    STOP_PAUSE,
    STOP_SHUTDOWN,
    web_url,
)
from .descriptions import GUEST
from .state import is_paused

if TYPE_CHECKING:
    from .coordinator import ProxmoxCoordinator

_LOGGER = logging.getLogger(__name__)


# The power manager's timeout message for these actions (others: the task's own).
# A hibernation that outlives the timeout goes on writing the RAM: no "force stop".
_POWER_ACTIONS: Final = {
    "start": PowerAction.START,
    "resume": PowerAction.START,
    "shutdown": PowerAction.STOP,
    "reboot": PowerAction.REBOOT,
}
# Actions whose end is a guest that does not run: Proxmox refusing them because
# it does not run ("VM 100 not running") means they are done.
_STOPS: Final = frozenset({"shutdown", "stop", "hibernate", "pause"})


def _already_done(action: str, message: str) -> bool:
    """Proxmox refused the action because the guest is already where it leads:
    it stopped on its own since the last poll ("VM 100 not running"), or was
    started meanwhile (a booting node's `onboot` guests: "CT 102 already
    running")."""
    words = message.rstrip()
    return (action in _STOPS and words.endswith(" not running")) or (
        action == "start" and words.endswith(" already running")
    )


# What only the Proxmox client refuses, named before the common table.
_ERROR_KEYS: Final = (
    (ActionNotSupported, "proxmox_action_not_supported"),
    (InvalidSnapshotName, "proxmox_invalid_snapshot_name"),
)
_COMPRESS: Final[dict[str, BackupCompress]] = {
    "zstd": "zstd",
    "gzip": "gzip",
    "lzo": "lzo",
    "0": "0",
}


class ProxmoxGuestResource(Resource):
    """A qemu VM or LXC container, found by vmid wherever it runs."""

    # async_reboot follows Proxmox's reboot task to its end.
    reboot_completes_task = True

    descriptions = GUEST
    coordinator: ProxmoxCoordinator

    def __init__(
        self,
        *,
        vmid: int,
        guest_type: GuestType,
        node: str,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.vmid = vmid
        self.guest_type: GuestType = "lxc" if guest_type == "lxc" else "qemu"
        self.noun = Noun.VM if self.guest_type == "qemu" else Noun.LXC
        self.node = node
        if self.guest_type == "lxc":
            # Proxmox resets VMs only: a container has no reset to press.
            self.features &= ~ResourceFeature.RESET
        self.starting_text = (
            "starting_vm" if self.guest_type == "qemu" else "starting_lxc"
        )
        self.host_kind = HostKind.GUEST

    @property
    def client(self) -> ProxmoxClient:
        return self.coordinator.client

    @property
    def host_link_id(self) -> str | None:
        """What powers the node this guest runs on now (it may migrate): the
        node's machine, else the node itself."""
        return self.coordinator.node_host_link(self.node)

    @property
    def on_linked_host(self) -> bool:
        return self.coordinator.machine_link(self.node) is not None

    @property
    def host_slot(self) -> str | None:
        return self.node

    @property
    def ref(self) -> GuestRef:
        """Where the guest was last seen (the client follows it if it moved)."""
        return GuestRef(node=self.node, type=self.guest_type, vmid=self.vmid)

    def _target(self) -> GuestRef:
        """Where to send an action; refused while the guest is missing, so that
        nothing reaches another guest that now holds its vmid."""
        if self.vmid in self.coordinator.missing:
            raise translate_error(
                NotFound(f"guest {self.vmid} is not in the cluster"), self.name
            )
        return self.ref

    def known_as(self) -> KnownAs:
        """Its name, and its own addresses once Proxmox told them."""
        addresses = self.coordinator.guest_addresses.get(self.vmid, [])
        return KnownAs.of(addresses=addresses, names=[self.name])

    @property
    def device_info(self) -> DeviceInfo:
        return DeviceInfo(
            identifiers={(DOMAIN, self.key)},
            name=self.name,
            manufacturer="Proxmox Server Solutions",
            model="QEMU virtual machine"
            if self.guest_type == "qemu"
            else "LXC container",
            serial_number=str(self.vmid),
            configuration_url=web_url(self.entry, f"{self.guest_type}/{self.vmid}"),
            **via(self.coordinator.node_device(self.node)),
        )

    # -- power -----------------------------------------------------------------------

    @property
    def stop_method(self) -> str:
        """How the switch's off and auto-shutdown stop it: the user's choice for a
        qemu VM; an LXC container always shuts down."""
        method = self.settings.get(CONF_STOP_METHOD)
        if self.guest_type == "qemu" and method in STOP_METHODS:
            return str(method)
        return STOP_SHUTDOWN

    async def async_start(self) -> None:
        # What Proxmox reports decides, not the stop method: a VM paused by hand
        # (or before the method changed) wakes too. Proxmox refuses to start a
        # paused VM (it runs); a hibernated one starts normally and Proxmox
        # restores its saved RAM.
        if not self._is_paused():
            if await self._run("start", self.client.start):
                return
            # "Already running": started meanwhile (done), or paused since the
            # last poll, which only a resume continues.
            if not is_paused(await self.client.current(self._target())):
                return
        await self._run("resume", self.client.resume)

    async def async_stop(self) -> None:
        method = self.stop_method
        if method == STOP_HIBERNATE:
            await self._run("hibernate", self.client.hibernate)
        elif method == STOP_PAUSE:
            await self._run("pause", self.client.pause)
        else:
            await self._run("shutdown", self.client.shutdown)

    def _is_paused(self) -> bool:
        """Paused in RAM at the last poll."""
        guest = self.coordinator.guest_of(self.vmid)
        return guest is not None and is_paused(guest)

    async def async_reboot(self) -> None:
        await self._run("reboot", self.client.reboot)

    async def async_force_stop(self) -> None:
        await self._run("stop", self.client.stop)

    async def async_reset(self) -> None:
        await self._run("reset", self.client.reset)

    async def _run(self, action: str, send: Callable[[GuestRef], Any]) -> bool:
        """Send the action and follow its task; Proxmox's failure text is raised.

        False when Proxmox refused it because the guest already is where it
        leads (see `_already_done`): nothing was done, nothing is left to do.
        """
        try:
            upid: str = await send(self._target())
        except ActionNotSupported as err:
            raise translate_error(err, self.name, _ERROR_KEYS) from err
        except ApiError as err:
            if _already_done(action, err.message):
                _LOGGER.debug("%s: %s", self.name, err.message)
                return False
            raise
        try:
            await self._follow(upid, _POWER_ACTIONS.get(action))
        except TaskFailed as err:
            if _already_done(action, str(err)):
                _LOGGER.debug("%s: %s", self.name, err)
                return False
            raise
        return True

    async def _follow(
        self,
        upid: str,
        action: PowerAction | None = None,
        timeout: float | None = None,
    ) -> None:
        """Wait for the task; a task still running at the deadline is explained."""
        timeout = self.timeout if timeout is None else timeout
        try:
            await self.client.wait_for_task(
                upid_node(upid),
                upid,
                timeout=timeout,
                interval=const.TASK_POLL_INTERVAL,
            )
        except TaskTimeout as err:
            # A shutdown the guest ignores: the power manager's message suggests
            # force stop; other actions say the task goes on in Proxmox.
            raise HomeAssistantError(
                translation_domain=DOMAIN,
                translation_key=TIMEOUT_KEYS[action]
                if action
                else "proxmox_task_timeout",
                translation_placeholders={
                    "name": self.name,
                    "timeout": str(round(timeout)),
                },
            ) from err

    # -- snapshots -------------------------------------------------------------------

    def _snapshot_name(self, name: str | None) -> str:
        try:
            return validate_snapshot_name(name or "")
        except InvalidSnapshotName as err:
            raise translate_error(
                err, self.name, _ERROR_KEYS, snapshot=name or ""
            ) from err

    async def async_create_snapshot(
        self, name: str | None, description: str | None, include_ram: bool
    ) -> None:
        snapshot = self._snapshot_name(name)
        if include_ram and self.guest_type == "lxc":
            raise ServiceValidationError(
                translation_domain=DOMAIN,
                translation_key="proxmox_lxc_no_ram",
                translation_placeholders={"name": self.name},
            )
        upid = await self.client.create_snapshot(
            self._target(), snapshot, description or "", include_ram=include_ram
        )
        await self._follow(upid)

    async def async_list_snapshots(self) -> list[Snapshot]:
        return [
            Snapshot(
                name=s.name,
                description=s.description or None,
                time=datetime.fromtimestamp(s.snaptime, UTC) if s.snaptime else None,
                parent=s.parent,
                include_ram=s.vmstate,
            )
            for s in await self.client.list_snapshots(self._target())
        ]

    async def async_restore_snapshot(
        self, name: str | None, *, snapshot_first: bool = False
    ) -> None:
        snapshot = self._snapshot_name(name)
        # A name that does not exist is left to Proxmox's own refusal below,
        # without a snapshot taken for nothing.
        if snapshot_first and any(
            s.name == snapshot for s in await self.client.list_snapshots(self._target())
        ):
            await async_take_safety_snapshot(self, "restore_snapshot", "restore")
        upid = await self.client.rollback_snapshot(self._target(), snapshot)
        await self._follow(upid)

    async def async_snapshot_before(self, action: str, word: str) -> None:
        name = safety_snapshot_name(word, dt_util.utcnow())
        upid = await self.client.create_snapshot(
            self._target(), name, f"Taken by WakeHub before {action}"
        )
        # TaskTimeout and TaskFailed reach async_take_safety_snapshot as they are.
        await self.client.wait_for_task(
            upid_node(upid),
            upid,
            timeout=self.timeout,
            interval=const.TASK_POLL_INTERVAL,
        )

    # -- backups ---------------------------------------------------------------------

    async def async_backup(self, storage: str, mode: str, compress: str | None) -> None:
        """vzdump now; Proxmox's failure ("storage 'x' does not exist") is raised."""
        backup_mode: BackupMode = (
            "suspend" if mode == "suspend" else "stop" if mode == "stop" else "snapshot"
        )
        upid = await self.client.backup(
            self._target(), storage, backup_mode, _COMPRESS.get(compress or "")
        )
        await self._follow(upid, timeout=const.BACKUP_TIMEOUT)
        self.coordinator.backup_done(self.vmid)
        await self.coordinator.async_refresh()

    async def async_delete_snapshot(self, name: str | None) -> None:
        upid = await self.client.delete_snapshot(
            self._target(), self._snapshot_name(name)
        )
        await self._follow(upid)
