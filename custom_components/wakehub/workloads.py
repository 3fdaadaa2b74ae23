"""What runs on a host, gathered from every server on it.

A host is released by a cascade stop, and counted idle by the idle detector, only
when every platform running on it reports nothing else running there, managed by
WakeHub or not, and never while one of them cannot be asked (hosting.py holds the
shapes both sides share). The same goes for what depends on it by the user's
choice (a container that needs the NAS): a dependent whose server does not answer,
or whose entry is not loaded (its server was down when Home Assistant started),
may run, so it keeps the host on.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant

from .asleep import shown_state
from .const import CONF_DEPENDENCIES, DOMAIN
from .coordinator import WakeHubCoordinator
from .graph import PowerGraph
from .hosting import HostReport, entry_host_links
from .resource import Resource
from .runtime import WakeHubConfigEntry


class HostWorkloads:
    """Answers "what runs on this host?" for every loaded resource."""

    def __init__(
        self,
        hass: HomeAssistant,
        resources: Mapping[str, Resource],
        graph: PowerGraph,
        starting: Callable[[str], bool],
    ) -> None:
        self._hass = hass
        self._resources = resources
        self._graph = graph
        #: Whether the resource of that key is being started right now.
        self._starting = starting

    def running_dependents(self, resource: Resource) -> list[Resource]:
        """Dependents that are running (or being started) right now.

        Running as what they run on counts it: any state but stopped (a
        paused container, frozen with its work in memory, a VPS in rescue, a
        guest whose state is unknown), as their server shows it (stopped while
        it sleeps with its hosts: asleep.py).
        """
        return [
            other
            for other in self._graph.dependents(resource)
            if ((state := shown_state(other)) is not None and not state.is_stopped)
            or self._starting(other.key)
        ]

    def report(self, host: Resource) -> HostReport:
        """What runs on `host` now, as the last polls of its servers saw it."""
        managed = {d.key: d.name for d in self.running_dependents(host)}
        unmanaged: list[str] = []
        unreachable: list[str] = []
        for entry in self._entries_on(host):
            coordinator = (
                entry.runtime_data.coordinator
                if entry.state is ConfigEntryState.LOADED
                else None
            )
            if coordinator is None or not coordinator.last_update_success:
                # Not loaded, or its API does not answer: nobody can say that
                # nothing runs there.
                unreachable.append(entry.title)
                continue
            for link, workloads in coordinator.hosted_workloads().items():
                if self._graph.resource_for_switch(link) is not host:
                    continue
                for workload in workloads:
                    key = workload.resource_key
                    if key is None or key not in self._resources:
                        unmanaged.append(workload.name)
                    else:
                        managed.setdefault(key, self._resources[key].name)
        unreachable.extend(self._unanswered_dependents(host, managed))
        return HostReport(
            managed=tuple(managed.values()),
            unmanaged=tuple(dict.fromkeys(unmanaged)),
            unreachable=tuple(dict.fromkeys(unreachable)),
        )

    def _unanswered_dependents(
        self, host: Resource, running: Mapping[str, str]
    ) -> list[str]:
        """Titles of the servers of `host`'s dependents that cannot say whether
        they run: loaded ones that do not answer (and do not sleep with a host
        WakeHub stopped), and entries not loaded whose settings depend on it."""
        titles = [
            other.entry.title
            for other in self._graph.dependents(host)
            if other.key not in running
            and not other.coordinator.last_update_success
            and not other.coordinator.asleep
        ]
        if (link := self._graph.registry_id(host)) is not None:
            entries: list[WakeHubConfigEntry] = self._hass.config_entries.async_entries(
                DOMAIN
            )
            titles.extend(
                entry.title
                for entry in entries
                if entry.state is not ConfigEntryState.LOADED
                and _depends_on(entry, link)
            )
        return titles

    async def async_report(self, host: Resource) -> HostReport:
        """What runs on `host`, asking every server on it again first, and the
        servers of what depends on it: a dependent started outside WakeHub
        since their last poll (a `docker start`, the Proxmox web interface)
        needs it as much as one WakeHub started."""
        for coordinator in self._coordinators_to_ask(host):
            await coordinator.async_refresh()
        return self.report(host)

    def _coordinators_to_ask(self, host: Resource) -> list[WakeHubCoordinator]:
        """The servers on `host`, then those of its dependents (each once).

        A dependent's server asleep with its own hosts is not asked: they are
        stopped, so is everything on it (asleep.py), and asking a server whose
        machine is off may take a connection timeout.
        """
        found = [
            entry.runtime_data.coordinator
            for entry in self._entries_on(host)
            if entry.state is ConfigEntryState.LOADED
        ]
        for dependent in self._graph.dependents(host):
            coordinator = dependent.coordinator
            if coordinator not in found and not coordinator.asleep:
                found.append(coordinator)
        return found

    def _entries_on(self, host: Resource) -> list[WakeHubConfigEntry]:
        """The server entries whose host links name `host`.

        And the host's own entry when its server runs on it: a Proxmox node
        without a machine hosts its guests, reported under its own switch.
        """
        entries: list[WakeHubConfigEntry] = self._hass.config_entries.async_entries(
            DOMAIN
        )
        return [
            entry
            for entry in entries
            if any(
                self._graph.resource_for_switch(link) is host
                for link in entry_host_links(entry)
            )
            or (entry is host.entry and self._hosts_on_itself(host))
        ]

    def _hosts_on_itself(self, host: Resource) -> bool:
        """Whether `host`'s own server reports workloads under `host`'s switch."""
        if host.entry.state is not ConfigEntryState.LOADED:
            return False
        link = self._graph.registry_id(host)
        coordinator = host.entry.runtime_data.coordinator
        return link is not None and link in coordinator.hosted_workloads()


def _depends_on(entry: WakeHubConfigEntry, link: str) -> bool:
    """Whether a resource of `entry` (its own settings, or a subentry's) names
    the power switch `link` among its dependencies."""
    settings = [entry.options, *(sub.data for sub in entry.subentries.values())]
    return any(link in (found.get(CONF_DEPENDENCIES) or ()) for found in settings)
