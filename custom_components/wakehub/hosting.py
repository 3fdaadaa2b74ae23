"""Workloads: what a platform reports running on a host, managed by WakeHub or not.

WakeHub only powers the resources a user picked, but a host runs more than that:
an engine runs every container it has, a Proxmox node every guest on it. A
cascade stop must never release a host that still runs any of them, so each
server entry that runs on a WakeHub resource (its *host link*) reports, from its
last poll, everything running there. The power manager asks; this module only
holds the shapes and the one rule for reading an entry's links.
"""

from __future__ import annotations

from dataclasses import dataclass

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
