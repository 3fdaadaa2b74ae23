"""A server asleep with what it runs on: its resources are stopped, not unknown.

A Docker engine in a VM, a Proxmox cluster on machines WakeHub powers: when the
host is off, the server cannot answer, and its poll fails. What it would say is
known all the same: everything on it is stopped. Showing its resources as
"unavailable" then would say "we cannot tell" about something WakeHub itself
shut down, and every sensor of every container would flip to unavailable and
back in the logbook at each sleep. So while a server's last poll failed and
every host it is linked to is known stopped, its resources show their last
polled state as stopped (`ResourceState.stopped()`). Only those on a linked
host, though: in a cluster linked in part, a guest on a node no machine powers
may well run while the API, served by a linked node, sleeps; nobody knows.

A host that has just come back is given its server's start-up time
(`BOOT_GRACE`): a Proxmox API answers some seconds after its node's SSH, a
Docker engine after its VM. The server is still asleep while every host is
stopped or booted after the server last answered, less than that time ago (or,
for a host that does not report its boot, was last seen stopped less than that
time ago). A server whose host runs but that stays silent past that, or that
answered since the host booted, is unavailable: there, nobody knows.

A server that has not answered once since Home Assistant started (it restarted
while the lab slept) has no last state to show as stopped. All that is known of
its resources is that they are stopped: their power switches and status say so,
and the figures no one reported stay unavailable (`never_seen_asleep`).

It is decided once per poll of the server (and when a host's poll may change
it), by the dependency graph that watches every coordinator, and kept on the
coordinator: its entities only read it.
"""

from __future__ import annotations

from datetime import timedelta
from time import monotonic
from typing import TYPE_CHECKING

from homeassistant.util import dt as dt_util

from .api.models import ResourceStatus
from .coordinator import WakeHubCoordinator
from .hosting import entry_host_links
from .resource import Resource
from .state import ResourceState

if TYPE_CHECKING:
    from .graph import PowerGraph

#: How long a server may take to answer once its host runs again (seconds).
BOOT_GRACE = 300.0
BOOT_TIME_PRECISION = timedelta(seconds=1)
#: All that is known of a resource whose server never answered and sleeps.
STOPPED_UNSEEN = ResourceState(status=ResourceStatus.STOPPED)


def server_asleep(graph: PowerGraph, coordinator: WakeHubCoordinator) -> bool:
    """Whether `coordinator`'s server is off because what it runs on is (or was
    until a moment ago: see BOOT_GRACE). Its hosts' own `asleep` is already
    decided: links only lead to other servers' resources (a node's machine, an
    engine's VM), and a host's server is polled on its own."""
    if coordinator.last_update_success:
        coordinator.asleep_seen_at = None
        return False
    links = entry_host_links(coordinator.config_entry)
    hosts = [graph.resource_for_switch(link) for link in links]
    if not hosts or any(h is None or h.coordinator is coordinator for h in hosts):
        return False
    states = [shown_state(host) for host in hosts if host is not None]
    if all(state is not None and state.is_stopped for state in states):
        coordinator.asleep_seen_at = monotonic()
        return True
    if all(_stopped_or_booting(state, coordinator) for state in states):
        return True
    since = coordinator.asleep_seen_at
    return since is not None and monotonic() - since < BOOT_GRACE


def _stopped_or_booting(
    state: ResourceState | None, coordinator: WakeHubCoordinator
) -> bool:
    """A host that is stopped, or booted after the server last answered and
    less than its start-up time ago."""
    if state is None:
        return False
    if state.is_stopped:
        return True
    booted = state.boot_time
    if booted is None:
        return False
    answered = coordinator.last_success_at
    # Boot times come from uptimes counted in whole seconds: a boot within a
    # second of the last answer counts as after it (a host that just went down
    # cannot have served that answer long after).
    return (answered is None or booted > answered - BOOT_TIME_PRECISION) and (
        dt_util.utcnow() - booted
    ).total_seconds() < BOOT_GRACE


def sleeps(resource: Resource) -> bool:
    """Whether `resource` is off with its server's hosts: its server sleeps
    and it runs on a linked host (`Resource.on_linked_host`)."""
    return resource.coordinator.asleep and resource.on_linked_host


def never_seen_asleep(resource: Resource) -> bool:
    """Whether `resource` sleeps and its server has not answered once since setup."""
    return sleeps(resource) and resource.coordinator.data is None


def shown_state(resource: Resource) -> ResourceState | None:
    """The state entities show: the last poll's, stopped while it sleeps (only
    its status when its server never answered: `STOPPED_UNSEEN`)."""
    state = resource.state
    if state is not None and sleeps(resource):
        return state.stopped()
    if state is None and never_seen_asleep(resource):
        return STOPPED_UNSEEN
    return state
