"""The common resource interface: what every kind offers the rest of WakeHub.

A *resource* is something WakeHub shows as a device: a machine, a Proxmox node or
guest, a Docker engine or container, an OVH VPS. Entities, actions and the power
orchestrator only talk to `Resource`; a kind joins by subclassing it and by
feeding its coordinator's data as typed states (state.py) keyed by `Resource.key`.

What a resource can do is declared, not guessed: `features` says which actions
exist, `descriptions` which sensors and buttons. An action a resource does not support
is refused before anything is sent (ServiceValidationError naming why).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers.device_registry import DeviceEntry, DeviceInfo

from .action_errors import translate_error
from .api.errors import WakeHubError
from .const import CONF_DEPENDENCIES, CONF_TIMEOUT, DEFAULT_TIMEOUT, DOMAIN
from .coordinator import WakeHubCoordinator
from .descriptions import STATUS, ResourceDescriptions
from .features import ResourceFeature
from .hosting import HostKind, KnownAs
from .naming import Noun
from .state import ResourceState

if TYPE_CHECKING:
    from homeassistant.config_entries import ConfigEntry

# Kept importable from here, where the rest of WakeHub has always found them.
__all__ = [
    "Resource",
    "ResourceFeature",
    "ResourceState",
    "Snapshot",
    "safety_snapshot_name",
]


@dataclass(frozen=True, kw_only=True)
class Snapshot:
    """A snapshot as `wakehub.list_snapshots` returns it."""

    name: str
    description: str | None = None
    time: datetime | None = None
    parent: str | None = None
    include_ram: bool | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "description": self.description,
            "time": self.time.isoformat() if self.time else None,
            "parent": self.parent,
            "include_ram": self.include_ram,
            **self.extra,
        }


def safety_snapshot_name(action: str, now: datetime) -> str:
    """The snapshot `snapshot_first` takes: wakehub-before-<action>-<UTC time>.

    Short action words ("restore", "rebuild") keep it within Proxmox's 40
    characters for a snapshot name.
    """
    return f"wakehub-before-{action}-{now.strftime('%Y%m%d%H%M%S')}"


class Resource(ABC):
    """A thing WakeHub shows as a device (and usually powers)."""

    #: Its sensors and buttons, read from its typed state (descriptions.py).
    descriptions: ResourceDescriptions = ResourceDescriptions(sensors=(STATUS,))
    features: ResourceFeature = ResourceFeature.POWER
    #: What it is, said beside its name where another thing shares it (naming.py).
    noun: Noun | None = None
    #: What a server can run on this resource as (None: nothing runs on it).
    host_kind: HostKind | None = None
    #: Progress text (translations: "progress") while its own start runs.
    starting_text: str = "starting"
    #: `async_reboot` returns only once the platform's reboot finished (a Proxmox
    #: or OVH task, a Docker restart): nobody needs to watch the resource go down.
    reboot_completes_task: bool = False
    #: Its start is a request to its own server's API, served by others (a
    #: Proxmox node is woken by another node): a start does not wait for that
    #: API to come back; `async_start` explains why it cannot wake it.
    woken_by_its_server: bool = False
    #: Set at setup when the resource is shown on another server's device
    #: instead of its own `device_info` (a Proxmox node on its machine's).
    shown_on: DeviceEntry | None = None
    #: Prefix of its entities' translation keys, for a resource whose figures
    #: would read like another's on the same computer ("Proxmox CPU" beside the
    #: machine's "CPU"), so names and new entity ids never clash.
    translation_prefix: str = ""

    def __init__(
        self,
        *,
        key: str,
        name: str,
        coordinator: WakeHubCoordinator,
        entry: ConfigEntry,
        subentry_id: str | None = None,
    ) -> None:
        self.key = key
        self.name = name
        self.coordinator = coordinator
        self.entry = entry
        #: The config subentry this resource was chosen in (None: the entry itself).
        self.subentry_id = subentry_id

    @property
    def state(self) -> ResourceState | None:
        """The last polled state, None before the first poll or when it vanished."""
        data = self.coordinator.data
        return data.get(self.key) if data else None

    @property
    def settings(self) -> Mapping[str, Any]:
        """This resource's own settings: its subentry's data, else entry options."""
        if self.subentry_id is not None:
            subentry = self.entry.subentries.get(self.subentry_id)
            return subentry.data if subentry is not None else {}
        return self.entry.options

    @property
    def host_link_id(self) -> str | None:
        """Registry id of the power switch of what this resource runs on, if linked.

        Kinds whose servers run on another resource (a Proxmox guest on its
        node's machine, a container on its engine's VM) override this.
        """
        return None

    def dependency_ids(self) -> list[str]:
        """Registry ids of the power switches this resource needs running first."""
        ids = list(self.settings.get(CONF_DEPENDENCIES, []))
        if (link := self.host_link_id) is not None and link not in ids:
            ids.insert(0, link)
        return ids

    def known_as(self) -> KnownAs:
        """The names and addresses this resource is known by, to propose links."""
        return KnownAs.of(names=[self.name])

    @property
    def timeout(self) -> float:
        """Seconds a start or stop may take before it is reported as failed."""
        return float(self.entry.options.get(CONF_TIMEOUT, DEFAULT_TIMEOUT))

    @property
    @abstractmethod
    def device_info(self) -> DeviceInfo:
        """The device this resource is shown as."""

    # -- power (ResourceFeature.POWER) ----------------------------------------------
    async def async_start(self) -> None:
        """Ask the platform to start; return once the request was accepted.

        The power manager then follows the coordinator until the state says
        running, so implementations need not wait for the boot itself (they may
        wait for a platform task, and should raise its failure).
        """
        raise NotImplementedError

    async def async_stop(self) -> None:
        """Ask the platform for a graceful shutdown."""
        raise NotImplementedError

    async def async_reboot(self) -> None:
        raise NotImplementedError

    async def async_force_stop(self) -> None:
        raise NotImplementedError

    async def async_reset(self) -> None:
        raise NotImplementedError

    # -- pause (ResourceFeature.PAUSE) -------------------------------------------------
    async def async_pause(self) -> None:
        raise NotImplementedError

    async def async_unpause(self) -> None:
        raise NotImplementedError

    # -- snapshots (ResourceFeature.SNAPSHOTS) -----------------------------------------
    async def async_create_snapshot(
        self, name: str | None, description: str | None, include_ram: bool
    ) -> None:
        raise NotImplementedError

    async def async_list_snapshots(self) -> list[Snapshot]:
        raise NotImplementedError

    async def async_restore_snapshot(
        self, name: str | None, *, snapshot_first: bool = False
    ) -> None:
        raise NotImplementedError

    async def async_delete_snapshot(self, name: str | None) -> None:
        raise NotImplementedError

    async def async_snapshot_before(self, action: str, word: str) -> None:
        """Before `action`: take a snapshot named by `safety_snapshot_name(word)`
        and wait for it.

        For `snapshot_first`: raises a WakeHubError (or a translated
        HomeAssistantError saying why) when no snapshot could be taken, so the
        risky action is not performed.
        """
        raise NotImplementedError

    async def async_take_safety_snapshot(self, action: str, word: str) -> None:
        """`snapshot_first`: the snapshot before `action`, or an error saying
        that `action` was not done and why (the platform's words).

        Kinds call it once the action's input is checked, right before the
        request that can lose data; `word` goes in the snapshot's name.
        """
        try:
            await self.async_snapshot_before(action, word)
        except WakeHubError as err:
            placeholders = translate_error(err, self.name).translation_placeholders
            raise HomeAssistantError(
                translation_domain=DOMAIN,
                translation_key="snapshot_first_failed",
                translation_placeholders={
                    "name": self.name,
                    "action": action,
                    "message": (placeholders or {}).get("message", ""),
                },
            ) from err

    # -- backups (ResourceFeature.BACKUP) ----------------------------------------------
    async def async_backup(self, storage: str, mode: str, compress: str | None) -> None:
        """Back up now to `storage` and return once the platform's task ended."""
        raise NotImplementedError

    # -- cloud servers (RESCUE, CONSOLE, REBUILD, RESET_PASSWORD) ---------------------
    async def async_rescue(self, enabled: bool) -> dict[str, Any]:
        raise NotImplementedError

    async def async_console_url(self) -> dict[str, Any]:
        raise NotImplementedError

    async def async_list_images(self) -> list[dict[str, Any]]:
        raise NotImplementedError

    async def async_rebuild(
        self,
        image_id: str,
        ssh_key: str | None,
        public_ssh_key: str | None,
        do_not_send_password: bool,
        *,
        snapshot_first: bool = False,
    ) -> dict[str, Any]:
        raise NotImplementedError

    async def async_reset_password(self) -> dict[str, Any]:
        raise NotImplementedError
