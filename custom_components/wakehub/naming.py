"""What WakeHub calls a resource or a server in the texts it writes.

A name alone can be ambiguous: a Docker engine is often named like the VM it
runs in ("media"), a Proxmox node like its machine. Every resource declares what
it is (`Resource.noun`), every kind of server has its noun here, and texts add
it in brackets where two different things share a name: "media (VM)",
"media (Docker engine)". The words themselves are translated (logbook.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from homeassistant.config_entries import ConfigEntry

from .const import CONF_KIND, KIND_DOCKER, KIND_MACHINE, KIND_OVH, KIND_PROXMOX


class Noun(StrEnum):
    """What a resource or a server is."""

    MACHINE = "machine"
    PROXMOX = "proxmox"  # a cluster (or a standalone host) and its API
    PROXMOX_NODE = "proxmox_node"
    VM = "vm"
    LXC = "lxc"
    DOCKER_ENGINE = "docker_engine"
    CONTAINER = "container"
    STACK = "stack"
    OVH = "ovh"  # an OVHcloud account
    VPS = "vps"


_SERVER_NOUNS: Mapping[str, Noun] = {
    KIND_MACHINE: Noun.MACHINE,
    KIND_PROXMOX: Noun.PROXMOX,
    KIND_DOCKER: Noun.DOCKER_ENGINE,
    KIND_OVH: Noun.OVH,
}


def server_noun(entry: ConfigEntry) -> Noun | None:
    """What the server of a config entry is."""
    return _SERVER_NOUNS.get(str(entry.data.get(CONF_KIND, KIND_MACHINE)))


@dataclass(frozen=True, slots=True)
class Named:
    """A resource or a server named in an event: its name and what it is."""

    name: str
    noun: Noun | None = None

    def as_data(self) -> dict[str, str | None]:
        return {"name": self.name, "kind": self.noun}

    @classmethod
    def from_data(cls, value: Any) -> Named | None:
        """The value `as_data` wrote (None for anything else)."""
        if not isinstance(value, Mapping) or not isinstance(value.get("name"), str):
            return None
        kind = value.get("kind")
        noun = Noun(kind) if isinstance(kind, str) and kind in Noun else None
        return cls(value["name"], noun)
