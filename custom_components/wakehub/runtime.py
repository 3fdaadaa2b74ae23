"""What a loaded config entry holds (its `runtime_data`)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from homeassistant.config_entries import ConfigEntry

from .coordinator import WakeHubCoordinator
from .resource import Resource


@dataclass(kw_only=True)
class WakeHubRuntimeData[C: WakeHubCoordinator = WakeHubCoordinator]:
    """An entry's coordinator (typed per kind), the resources it powers, and
    what to close on unload."""

    coordinator: C
    resources: list[Resource]
    #: Awaited when the entry unloads (e.g. closing a client's own session).
    on_unload: list[Callable[[], Awaitable[None]]] = field(default_factory=list)


type WakeHubConfigEntry = ConfigEntry[WakeHubRuntimeData]
