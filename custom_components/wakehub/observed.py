"""Power changes WakeHub did not make, said in the logbook all the same.

"Why did the NAS stop?" has an answer even when WakeHub did not stop it: someone
shut it down from its own console, a container crashed, the VM under a Docker
engine went down and took its containers with it, or an engine started its
containers by their restart policy when its VM came up. Without a line of
WakeHub's, the logbook showed only the status changing, and a reader had to guess
whether WakeHub did it.

After each poll, a resource found running where it was last seen stopped (or the
other way) is a change WakeHub did not make when nothing of WakeHub's acted on it
since the poll before, on it or on a resource whose start and stop change it (a
compose stack's containers: `Resource.acts_on`):
- no change under way (transitions.py): a start or stop ends with a poll that
  sees it done while it is still under way;
- no action or button (`acting`), nor one that ended since that poll.
It fires a `wakehub_power` event with the result `observed`:
- with the reason `with_host` and the host as `cause` when its server sleeps
  with that host (asleep.py): it went down with it, or came up with it;
- with no reason otherwise: "outside WakeHub".

Only clean states count (running, stopped): a paused container or a VPS in
rescue says nothing about a change, nor does a server that cannot be asked (its
last answer, all that is kept of it, is old news). The first state a resource is
seen in (at setup, after a reload) is where it starts, not a change.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
import contextlib
from dataclasses import dataclass
import math
from time import monotonic

from homeassistant.core import CALLBACK_TYPE, callback

from .asleep import shown_state, sleeps
from .features import ResourceFeature
from .graph import PowerGraph
from .naming import Named
from .power_events import PowerAction, PowerEvent, Reason, ReasonKind, Result
from .resource import Resource
from .transitions import Transitions


@dataclass(frozen=True, slots=True)
class _Seen:
    """How a resource was last seen: running or not, and whether its server
    slept (its state then is what it would be with its host off)."""

    running: bool
    asleep: bool
    #: When (monotonic): what WakeHub did after this is what a change is
    #: measured against.
    at: float


class PowerObserver:
    """Notices the power changes nothing of WakeHub's made."""

    def __init__(
        self,
        resources: Mapping[str, Resource],
        graph: PowerGraph,
        transitions: Transitions,
        fire: Callable[[Resource, PowerEvent], None],
    ) -> None:
        self._resources = resources
        self._graph = graph
        self._transitions = transitions
        self._fire = fire
        self._seen: dict[str, _Seen] = {}
        #: Resources an action is running on, and how many actions.
        self._acting: dict[str, int] = {}
        #: When an action on each resource last ended (monotonic).
        self._acted: dict[str, float] = {}

    @callback
    def async_watch(self, resource: Resource) -> CALLBACK_TYPE:
        """Watch `resource` after each of its polls; returns the undo.

        Call it after the graph tracks the resource: the graph's listener
        decides whether its server sleeps, which this one reads.
        """
        if ResourceFeature.POWER not in resource.features:
            return lambda: None
        unlisten = resource.coordinator.async_add_listener(
            lambda: self._polled(resource)
        )

        @callback
        def unwatch() -> None:
            unlisten()
            self._seen.pop(resource.key, None)
            self._acted.pop(resource.key, None)

        return unwatch

    @contextlib.contextmanager
    def acting(self, resource: Resource) -> Iterator[None]:
        """WakeHub acts on `resource` while the block runs (an action, a
        button): the change it makes, seen by a poll during the block or the
        first one after, is WakeHub's."""
        key = resource.key
        self._acting[key] = self._acting.get(key, 0) + 1
        try:
            yield
        finally:
            self._acted[key] = monotonic()
            if (count := self._acting.pop(key) - 1) > 0:
                self._acting[key] = count

    @callback
    def _polled(self, resource: Resource) -> None:
        key = resource.key
        coordinator = resource.coordinator
        asleep = sleeps(resource)
        if not (coordinator.last_update_success or asleep):
            return  # its server is silent: its last answer is no news
        state = shown_state(resource)
        if state is None or not (state.is_running or state.is_stopped):
            return
        seen = self._seen.get(key)
        self._seen[key] = _Seen(state.is_running, asleep, monotonic())
        if seen is None or seen.running == state.is_running:
            return
        if self._acted_on(key, seen.at) or any(
            self._acted_on(other.key, seen.at)
            for other in self._resources.values()
            if key in other.acts_on()
        ):
            return
        # Down with its host: it sleeps now; up with it: it slept until now.
        with_host = asleep if not state.is_running else seen.asleep
        host = self._host(resource) if with_host else None
        self._fire(
            resource,
            PowerEvent(
                action=PowerAction.START if state.is_running else PowerAction.STOP,
                result=Result.OBSERVED,
                reason=Reason(ReasonKind.WITH_HOST, Named(host.name, host.noun))
                if host is not None
                else None,
            ),
        )

    def _acted_on(self, key: str, since: float) -> bool:
        """Whether a change or an action of WakeHub's runs on `key` now, or an
        action on it ended after `since`."""
        return (
            self._transitions.get(key) is not None
            or key in self._acting
            or self._acted.get(key, -math.inf) >= since
        )

    def _host(self, resource: Resource) -> Resource | None:
        link = resource.host_link_id
        return self._graph.resource_for_switch(link) if link is not None else None
