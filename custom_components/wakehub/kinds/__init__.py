"""One module per kind of server: its coordinator, its resources, its setup.

A kind module exposes `async_setup_kind(hass, entry) -> WakeHubRuntimeData`. The
integration's `async_setup_entry` only dispatches here, so a new kind joins by
adding a module and a line to `KINDS`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
import importlib
from typing import TYPE_CHECKING

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant

from ..const import KIND_DOCKER, KIND_MACHINE, KIND_OVH, KIND_PROXMOX

if TYPE_CHECKING:
    from ..runtime import WakeHubRuntimeData

type KindSetup = Callable[[HomeAssistant, ConfigEntry], Awaitable[WakeHubRuntimeData]]

KINDS: dict[str, str] = {
    KIND_MACHINE: "machine",
    KIND_PROXMOX: "proxmox",
    KIND_DOCKER: "docker",
    KIND_OVH: "ovh",
}


def kind_setup(kind: str) -> KindSetup | None:
    """The setup function of a kind, None while the kind is not implemented."""
    module_name = KINDS.get(kind)
    if module_name is None:
        return None
    try:
        module = importlib.import_module(f"{__package__}.{module_name}")
    except ModuleNotFoundError:
        return None
    setup: KindSetup = module.async_setup_kind
    return setup
