"""The power orchestrator: every start, stop and reboot goes through here.

It owns what no single platform can:
- the registry of every WakeHub resource across entries, and the dependency
  graph between them (graph.py);
- one run per resource and action, so two automations and a tap result in one
  start, and every caller learns its outcome; and never a start and a stop of
  one resource at once (`_once`): the one asked for last runs after the other;
- the cascade (cascade.py): what a resource depends on comes up first, what runs
  on it goes down first, and dependencies nothing needs any more are released;
- protection (workloads.py): a dependency is released only when every platform
  running on it reports nothing else running there, managed by WakeHub or not,
  and never while one of them cannot be asked;
- the changes under way, shown by the status and progress sensors
  (transitions.py);
- the `wakehub_power` events that explain each step in the logbook
  (power_events.py), and the changes WakeHub did not make (observed.py).
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator, Callable, Coroutine
import contextlib
from typing import Any

from homeassistant.core import HomeAssistant, callback
from homeassistant.exceptions import HomeAssistantError
from homeassistant.util.hass_dict import HassKey

from .cascade import Cascade
from .const import DOMAIN
from .graph import PowerGraph
from .hosting import HostReport
from .observed import PowerObserver
from .power_events import (
    Failure,
    PowerAction,
    PowerEvent,
    Reason,
    ReasonKind,
    Result,
    async_fire_power_event,
)
from .resource import Resource
from .transitions import SIGNAL_TRANSITION, Transition, Transitions
from .workloads import HostWorkloads

# Entities, the idle detector and the kinds import these from here.
__all__ = [
    "SIGNAL_TRANSITION",
    "PowerManager",
    "Transition",
    "async_get_power_manager",
]

DATA_POWER: HassKey[PowerManager] = HassKey(f"{DOMAIN}_power")

#: Which way each action takes a resource: two actions of one way may run
#: together (a stop and the same stop without cascade); two of different ways
#: never do.
_WAY: dict[PowerAction, str] = {
    PowerAction.START: "up",
    PowerAction.START_ALONE: "up",
    PowerAction.STOP: "down",
    PowerAction.STOP_ALONE: "down",
    PowerAction.REBOOT: "reboot",
}


class PowerManager:
    """Registry of every WakeHub resource across entries, and their power changes."""

    def __init__(self, hass: HomeAssistant) -> None:
        self.hass = hass
        self.resources: dict[str, Resource] = {}
        self.graph = PowerGraph(hass, self.resources)
        self.transitions = Transitions(hass)
        self.workloads = HostWorkloads(hass, self.resources, self.graph, self._starting)
        self._cascade = Cascade(
            hass,
            self.graph,
            self.transitions,
            self.workloads,
            start=self.async_start,
            # A host stopping its guests, or releasing what it ran on, does
            # not wait behind a start: it gives up (see `_once`).
            stop=lambda r, *, cascade, reason, asked: self.async_stop(
                r, cascade=cascade, reason=reason, wait=False, asked=asked
            ),
            starting=self._starting,
        )
        self._running: dict[tuple[str, PowerAction], asyncio.Task[None]] = {}
        #: Starts waiting for another change of their resource to end.
        self._queued_starts: Counter[str] = Counter()
        self.observer = PowerObserver(
            self.resources, self.graph, self.transitions, self.fire
        )

    # -- registry -------------------------------------------------------------
    @callback
    def async_register(self, resource: Resource) -> Callable[[], None]:
        self.resources[resource.key] = resource
        untrack = self.graph.async_track(resource)
        unwatch = self.observer.async_watch(resource)  # after the graph's

        @callback
        def unregister() -> None:
            if self.resources.get(resource.key) is resource:
                del self.resources[resource.key]
            unwatch()
            untrack()

        return unregister

    def transition(self, key: str) -> Transition | None:
        """The change under way on the resource of `key`, if any."""
        return self.transitions.get(key)

    def _starting(self, key: str) -> bool:
        """Whether the resource of `key` is being started, or will be once the
        change under way on it ends."""
        transition = self.transitions.get(key)
        return (transition is not None and transition.starts) or bool(
            self._queued_starts[key]
        )

    def workloads_on(self, host: Resource) -> HostReport:
        """What runs on `host` now, as the last polls of its servers saw it."""
        return self.workloads.report(host)

    async def async_workloads_on(self, host: Resource) -> HostReport:
        """What runs on `host`, asking every server on it again first."""
        return await self.workloads.async_report(host)

    # -- actions --------------------------------------------------------------
    async def async_start(self, resource: Resource, *, cascade: bool = True) -> None:
        """Start `resource` (and first what it depends on); return once it runs."""
        action = PowerAction.START if cascade else PowerAction.START_ALONE
        await self._once(
            resource, action, lambda r: self._cascade.start(r, cascade=cascade)
        )

    async def async_stop(
        self,
        resource: Resource,
        *,
        cascade: bool = True,
        reason: Reason | None = None,
        wait: bool = True,
        asked: bool = False,
    ) -> None:
        """Stop `resource` gracefully (its running dependents first).

        With `cascade`, the dependencies that nothing else running needs any more
        are stopped next, downwards. Without `wait`, a start or reboot under way
        on it is not waited for: the stop is refused (see `_once`). With
        `asked`, the caller has just asked the servers on it what runs there
        (async_workloads_on), and the stop does not ask them again.
        """
        action = PowerAction.STOP if cascade else PowerAction.STOP_ALONE
        await self._once(
            resource,
            action,
            lambda r: self._cascade.stop(
                r, cascade=cascade, reason=reason, asked=asked
            ),
            wait=wait,
        )

    async def async_reboot(self, resource: Resource) -> None:
        await self._once(resource, PowerAction.REBOOT, self._cascade.reboot)

    async def _once(
        self,
        resource: Resource,
        action: PowerAction,
        run: Callable[[Resource], Coroutine[Any, Any, None]],
        *,
        wait: bool = True,
    ) -> None:
        """Run `action` on `resource`, joining a run of it that is under way.

        Concurrent callers of the same action share one execution (and its
        result); the task is shielded so one caller giving up does not cancel the
        others' start. It belongs to the resource's entry: unloading the entry
        (a reload, a removal) cancels it rather than leaving it polling a
        coordinator nobody uses any more; its callers get a translated error.

        A change of the other way under way on the resource (a stop while it
        starts) ends first, whatever its outcome, and then this one runs: "off"
        tapped during a start ends off, and a start during a stop is not told
        "already running" by a resource about to go down. A start waiting so
        counts as starting, so the stop does not release what it will need.
        Only a stop asked for by another change (`wait=False`: a host stopping
        its guests, a release, the idle detector) gives up instead, with an
        error: a stop run never waits for a start, and as a start only waits
        for stops and for what it runs on, no two runs wait for each other.
        """
        key = (resource.key, action)
        while (task := self._running.get(key)) is None and (
            busy := self._other_way(resource.key, action)
        ):
            if not wait:
                raise self._refused(resource, action)
            async with self._queued(resource.key, action):
                await asyncio.wait(busy)
        if task is None:
            task = resource.entry.async_create_background_task(
                self.hass, run(resource), f"{DOMAIN} {action} {resource.name}"
            )
            self._running[key] = task
            task.add_done_callback(lambda _: self._running.pop(key, None))
        try:
            await asyncio.shield(task)
        except asyncio.CancelledError:
            current = asyncio.current_task()
            if not task.cancelled() or (current is not None and current.cancelling()):
                raise  # this caller itself is cancelled
            raise HomeAssistantError(
                translation_domain=DOMAIN,
                translation_key="change_interrupted",
                translation_placeholders={"name": resource.name},
            ) from None

    def _other_way(self, key: str, action: PowerAction) -> list[asyncio.Task[None]]:
        """The runs on the resource of `key` that take it another way."""
        return [
            task
            for (running, other), task in self._running.items()
            if running == key and _WAY[other] != _WAY[action]
        ]

    @contextlib.asynccontextmanager
    async def _queued(self, key: str, action: PowerAction) -> AsyncIterator[None]:
        starts = _WAY[action] == "up"
        if starts:
            self._queued_starts[key] += 1
        try:
            yield
        finally:
            if starts:
                self._queued_starts[key] -= 1
                if not self._queued_starts[key]:
                    del self._queued_starts[key]

    def _refused(self, resource: Resource, action: PowerAction) -> HomeAssistantError:
        """The error of a stop that does not wait for the start under way."""
        err = HomeAssistantError(
            translation_domain=DOMAIN,
            translation_key="stop_while_starting",
            translation_placeholders={"name": resource.name},
        )
        self.fire(
            resource,
            PowerEvent(
                action=action,
                result=Result.FAILED,
                reason=Reason(ReasonKind.ERROR),
                failure=Failure.of(err),
            ),
        )
        return err

    @callback
    def fire(self, resource: Resource, event: PowerEvent) -> None:
        """Record a decision taken elsewhere (the idle detector, the observer)
        as an event."""
        async_fire_power_event(self.hass, resource, event)


@callback
def async_get_power_manager(hass: HomeAssistant) -> PowerManager:
    """The one power manager of this Home Assistant instance."""
    if (manager := hass.data.get(DATA_POWER)) is None:
        manager = hass.data[DATA_POWER] = PowerManager(hass)
    return manager
