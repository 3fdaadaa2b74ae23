"""One module per kind of server: its coordinator, its resources, its setup.

A kind module exposes `async_setup_kind(hass, entry) -> WakeHubRuntimeData`. The
integration's `async_setup_entry` only dispatches here, so a new kind joins by
adding a module and a line to `KINDS`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant

from ..const import KIND_DOCKER, KIND_MACHINE, KIND_OVH, KIND_PROXMOX
from ..runtime import WakeHubRuntimeData
from . import docker, machine, ovh, proxmox

type KindSetup = Callable[[HomeAssistant, ConfigEntry], Awaitable[WakeHubRuntimeData]]

# Imported up front: importing inside the event loop would block it.
KINDS: dict[str, KindSetup] = {
    KIND_MACHINE: machine.async_setup_kind,
    KIND_PROXMOX: proxmox.async_setup_kind,
    KIND_DOCKER: docker.async_setup_kind,
    KIND_OVH: ovh.async_setup_kind,
}


def kind_setup(kind: str) -> KindSetup | None:
    """The setup function of a kind (None for an unknown kind)."""
    return KINDS.get(kind)
