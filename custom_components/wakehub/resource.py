"""The common resource interface: what every kind offers the rest of WakeHub.

A *resource* is something WakeHub shows as a device: a machine, a Proxmox node or
guest, a Docker engine or container, an OVH VPS. Entities, actions and the power
orchestrator only talk to `Resource`; a kind joins by subclassing it and by
feeding its coordinator's data as typed states (state.py) keyed by `Resource.key`.

What a resource can do is declared, not guessed: the capabilities its class
implements (capabilities.py) say which actions exist and give its `features`,
`descriptions` which sensors and buttons. An action a resource does not support
is refused before anything is sent (ServiceValidationError naming why).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers.device_registry import DeviceEntry, DeviceInfo

from .capabilities import implemented_features
from .const import CONF_DEPENDENCIES, CONF_TIMEOUT, DEFAULT_TIMEOUT
from .coordinator import WakeHubCoordinator
from .descriptions import STATUS, ResourceDescriptions
from .features import ResourceFeature
from .hosting import HostKind, KnownAs
from .naming import Noun
from .state import ResourceState

if TYPE_CHECKING:
    from homeassistant.config_entries import ConfigEntry


class Resource(ABC):
    """A thing WakeHub shows as a device (and usually powers)."""

    #: Its sensors and buttons, read from its typed state (descriptions.py).
    descriptions: ResourceDescriptions = ResourceDescriptions(sensors=(STATUS,))
    #: What it can do: the capabilities its class implements (capabilities.py),
    #: derived once per class; an instance may narrow it (an LXC has no reset).
    features: ResourceFeature = ResourceFeature(0)
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
    #: Its own translation keys for some of its entities (key: the usual one),
    #: for a resource whose figures would read like another's on the same
    #: computer ("Proxmox CPU" beside the machine's "CPU"), so names and new
    #: entity ids never clash.
    translation_keys: Mapping[str, str] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.features = implemented_features(cls)

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

    def start_failure(self, state: ResourceState | None) -> HomeAssistantError | None:
        """Why the start that was just sent failed for good, seen in `state`
        (probed after the platform accepted it), or None to go on waiting:
        the cascade then says so at once rather than after its timeout."""
        return None

    @property
    def host_slot(self) -> str | None:
        """Which of its entry's host links it runs on: None, the entry's own
        (every resource of a server with one host); a Proxmox guest or node,
        that of its node."""
        return None

    @property
    def on_linked_host(self) -> bool:
        """Whether the part of its server it runs on is powered by a host link.

        Then, while its server sleeps with its hosts (asleep.py), it is known
        stopped. Every resource of a server with one host is; a Proxmox guest
        or node is only on a node linked to a machine (a cluster may be linked
        in part: a guest on another node may run while the API sleeps).
        """
        return True

    def dependency_ids(self) -> list[str]:
        """Registry ids of the power switches this resource needs running first."""
        ids = list(self.settings.get(CONF_DEPENDENCIES, []))
        if (link := self.host_link_id) is not None and link not in ids:
            ids.insert(0, link)
        return ids

    def acts_on(self) -> tuple[str, ...]:
        """Keys of the other resources its own start and stop change (a compose
        stack: its containers), so those changes count as WakeHub's
        (observed.py)."""
        return ()

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
