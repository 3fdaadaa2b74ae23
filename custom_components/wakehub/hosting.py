"""Hosting: servers that run on resources WakeHub powers, and what runs there.

A Proxmox node *is* a machine; a Docker engine runs in a VM or on a machine. Such
a server entry stores a *host link* per part that runs somewhere (one per
Proxmox node, one for a Docker engine): the entity-registry id of the host's
power switch. This module holds the shapes both sides of a link share:

- `Workload` and `HostReport`: WakeHub only powers the resources a user picked,
  but a host runs more (every container of an engine, every guest of a node). A
  cascade stop never releases a host that still runs any of them, so each
  server on a host reports everything running there (workloads.py asks);
- `HostKind`, `KnownAs` and `LinkTarget`: what can be a host, and the names and
  addresses by which links are proposed (links.py);
- the one place that reads and writes the stored links.
"""

from __future__ import annotations

from collections.abc import Iterable
import contextlib
from dataclasses import dataclass, field
from enum import StrEnum
import ipaddress

from homeassistant.config_entries import ConfigEntry

from .const import CONF_HOST_LINK, CONF_HOST_LINKS


@dataclass(frozen=True, slots=True)
class Workload:
    """One thing running on a host: a container, a guest."""

    name: str
    #: The WakeHub resource that manages it; None when the user did not add it.
    resource_key: str | None = None

    @property
    def managed(self) -> bool:
        return self.resource_key is not None


@dataclass(frozen=True, slots=True)
class HostReport:
    """Everything known to run on one host, gathered from every server on it."""

    #: Names of running WakeHub resources that need the host.
    managed: tuple[str, ...] = ()
    #: Names of running workloads WakeHub does not manage.
    unmanaged: tuple[str, ...] = ()
    #: Titles of servers on the host that could not be asked (API down).
    unreachable: tuple[str, ...] = ()

    @property
    def in_use(self) -> bool:
        """True while the host must stay on: something runs, or we cannot tell."""
        return bool(self.managed or self.unmanaged or self.unreachable)


class HostKind(StrEnum):
    """What a resource is, as something a server can run on."""

    MACHINE = "machine"  # a physical computer
    GUEST = "guest"  # a virtual machine or system container


@dataclass(frozen=True, slots=True)
class KnownAs:
    """The names and addresses something is known by, normalised for matching.

    The addresses every host gives itself identify nothing (127.0.0.1, ::1,
    Debian's 127.0.1.1 for its own name, localhost), and host names compare by
    their first label ("PVE1.lan" is "pve1").
    """

    addresses: frozenset[str] = frozenset()
    names: frozenset[str] = frozenset()

    @classmethod
    def of(
        cls, *, addresses: Iterable[str | None] = (), names: Iterable[str | None] = ()
    ) -> KnownAs:
        return cls(
            frozenset(a for a in map(_address, addresses) if a),
            frozenset(n for n in map(_name, names) if n),
        )


@dataclass(frozen=True, slots=True)
class LinkTarget:
    """A part of a server that runs on a host: a Proxmox node, a Docker engine."""

    #: Where its link is stored: a Proxmox node's name, None for the whole server.
    slot: str | None
    #: The part's name ("pve1", the engine's entry title).
    name: str
    known_as: KnownAs
    #: What it can run on: a node is a physical machine, an engine either.
    accepts: frozenset[HostKind] = field(default_factory=lambda: frozenset(HostKind))


def entry_host_links(entry: ConfigEntry) -> set[str]:
    """Registry ids of the power switches an entry's server runs on.

    A Docker entry names one (the VM or machine of its engine), a Proxmox entry
    one per node; other kinds run on nothing WakeHub powers.
    """
    links: set[str] = set()
    if link := entry.options.get(CONF_HOST_LINK):
        links.add(str(link))
    for node_link in (entry.options.get(CONF_HOST_LINKS) or {}).values():
        if node_link:
            links.add(str(node_link))
    return links


def stored_link(entry: ConfigEntry, slot: str | None) -> str | None:
    """The link of one part of an entry's server (None: not linked)."""
    if slot is None:
        link = entry.options.get(CONF_HOST_LINK)
    else:
        link = (entry.options.get(CONF_HOST_LINKS) or {}).get(slot)
    return str(link) if link else None


def options_with_link(
    entry: ConfigEntry, slot: str | None, link: str
) -> dict[str, object]:
    """The entry's options with one link set."""
    options = dict(entry.options)
    if slot is None:
        options[CONF_HOST_LINK] = link
    else:
        options[CONF_HOST_LINKS] = {**(options.get(CONF_HOST_LINKS) or {}), slot: link}
    return options


# What every host calls itself: never evidence of being a particular one.
_SELF = frozenset({"localhost", "127.0.0.1", "127.0.1.1", "::1", "0.0.0.0", "::"})  # noqa: S104


def _address(value: str | None) -> str | None:
    """An address that identifies a host, normalised; None for blank or "self"."""
    text = (value or "").strip().strip("[]").lower()
    # An IP address is normalised; a host name used as an address stays as given.
    with contextlib.suppress(ValueError):
        text = str(ipaddress.ip_address(text))
    return None if not text or text in _SELF else text


def _name(value: str | None) -> str | None:
    """A host name's first label, lower case; None for an address or blank."""
    text = (value or "").strip().lower()
    try:
        ipaddress.ip_address(text.strip("[]"))
    except ValueError:
        return text.split(".", 1)[0] or None
    return None
