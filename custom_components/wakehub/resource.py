"""The common resource interface: what every platform offers the rest of WakeHub.

A *resource* is something WakeHub powers on and off (a machine, a Proxmox guest, a
Docker container, an OVH VPS). Entities, actions and the power orchestrator only
talk to `Resource`; a platform joins by subclassing it and by feeding its
coordinator's data as `ResourceState` values keyed by `Resource.key`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from datetime import datetime
from enum import IntFlag
from typing import TYPE_CHECKING, Any

from homeassistant.helpers.device_registry import CONNECTION_NETWORK_MAC, DeviceInfo

from .api.machine import MachineClient, send_magic_packet
from .api.models import ResourceStatus
from .const import (
    CONF_BROADCAST_ADDRESS,
    CONF_BROADCAST_PORT,
    CONF_REBOOT_COMMAND,
    CONF_SHUTDOWN_COMMAND,
    CONF_TIMEOUT,
    DEFAULT_TIMEOUT,
    DOMAIN,
)

if TYPE_CHECKING:
    from homeassistant.config_entries import ConfigEntry

    from .coordinator import WakeHubCoordinator


class ResourceFeature(IntFlag):
    """Optional abilities; buttons and actions exist only where supported."""

    REBOOT = 1
    FORCE_STOP = 2
    RESET = 4


@dataclass(frozen=True, kw_only=True)
class ResourceState:
    """One poll's view of a resource. None means "not reported by the platform"."""

    status: ResourceStatus
    cpu: float | None = None  # percent
    memory: float | None = None  # percent
    disk: float | None = None  # percent
    network_in: float | None = None  # bytes per second
    network_out: float | None = None  # bytes per second
    boot_time: datetime | None = None
    attributes: dict[str, Any] = field(default_factory=dict)

    @property
    def is_running(self) -> bool:
        return self.status is ResourceStatus.RUNNING

    @property
    def is_stopped(self) -> bool:
        return self.status is ResourceStatus.STOPPED


class Resource(ABC):
    """A thing WakeHub powers, as the rest of the integration sees it."""

    #: The sensors this platform can fill (keys of sensor descriptions).
    sensors: frozenset[str] = frozenset({"status"})
    features: ResourceFeature = ResourceFeature(0)

    def __init__(
        self,
        *,
        key: str,
        name: str,
        coordinator: WakeHubCoordinator,
        entry: ConfigEntry,
    ) -> None:
        self.key = key
        self.name = name
        self.coordinator = coordinator
        self.entry = entry

    @property
    def state(self) -> ResourceState | None:
        """The last polled state, None before the first poll or when it vanished."""
        data = self.coordinator.data
        return data.get(self.key) if data else None

    @property
    def timeout(self) -> float:
        """Seconds a start or stop may take before it is reported as failed."""
        return float(self.entry.options.get(CONF_TIMEOUT, DEFAULT_TIMEOUT))

    @property
    @abstractmethod
    def device_info(self) -> DeviceInfo:
        """The device this resource is shown as."""

    @abstractmethod
    async def async_start(self) -> None:
        """Ask the platform to start; return once the request was accepted.

        The power manager then follows the coordinator until the state says
        running, so implementations need not wait for the boot itself.
        """

    @abstractmethod
    async def async_stop(self) -> None:
        """Ask the platform for a graceful shutdown."""

    async def async_reboot(self) -> None:
        raise NotImplementedError

    async def async_force_stop(self) -> None:
        raise NotImplementedError

    async def async_reset(self) -> None:
        raise NotImplementedError


class MachineResource(Resource):
    """A physical machine: Wake-on-LAN to start, SSH commands to stop/reboot."""

    sensors = frozenset({"status", "cpu", "memory", "uptime"})
    features = ResourceFeature.REBOOT

    @property
    def device_info(self) -> DeviceInfo:
        return DeviceInfo(
            identifiers={(DOMAIN, self.key)},
            connections={(CONNECTION_NETWORK_MAC, self.key)},
            name=self.name,
        )

    async def async_start(self) -> None:
        data = self.entry.data
        await send_magic_packet(
            self.key, data[CONF_BROADCAST_ADDRESS], data[CONF_BROADCAST_PORT]
        )

    async def async_stop(self) -> None:
        await self._client().run_power_command(self.entry.data[CONF_SHUTDOWN_COMMAND])

    async def async_reboot(self) -> None:
        await self._client().run_power_command(self.entry.data[CONF_REBOOT_COMMAND])

    def _client(self) -> MachineClient:
        from .coordinator import machine_credentials

        return MachineClient(machine_credentials(self.entry))
