"""The steps of a start, a stop and a reboot, layer by layer.

- A start first brings up what the resource depends on (bottom-up, independent
  branches in parallel), waiting at each layer until its platform really
  answers, then starts the resource and follows it until it runs.
- A stop first stops its running dependents (a host takes its guests down
  cleanly), then the resource; with cascade, it then releases the dependencies
  nothing else needs (and that are set to stop with them), and says why a
  dependency was kept on.
- Each step fires a `wakehub_power` event (power_events.py).

power.py runs these, once per resource and action at a time.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from typing import Protocol

from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError

from .action_errors import translate_error
from .api.errors import NotFound, WakeHubError
from .api.models import ResourceStatus
from .capabilities import Powered, Rebootable, capability
from .const import (
    CONF_STOP_WITH_DEPENDENTS,
    DEFAULT_STOP_WITH_DEPENDENTS,
    DOMAIN,
    PROBE_INTERVAL,
)
from .graph import PowerGraph
from .naming import Named, server_noun
from .power_events import (
    TIMEOUT_KEYS,
    Failure,
    PowerAction,
    PowerEvent,
    Reason,
    ReasonKind,
    Result,
    Step,
    async_fire_power_event,
)
from .resource import Resource
from .state import ResourceState
from .transitions import Transition, Transitions
from .workloads import HostWorkloads

# How long a reboot may take to go down before we assume it was too quick to see.
REBOOT_DOWN_GRACE = 60.0


type StartFn = Callable[[Resource], Awaitable[None]]


class StopFn(Protocol):
    """Stop another resource, through the power manager (one run at a time).

    `asked`: the caller has just asked the servers on it what runs there (a
    release deciding whether it is still needed), so the stop need not.
    """

    def __call__(
        self, resource: Resource, *, cascade: bool, reason: Reason, asked: bool
    ) -> Awaitable[None]: ...


#: Keys of the resources whose start (or stop) led to the one running in this
#: task: a dependency cycle stored in the settings (the forms refuse one, but a
#: host link set after a dependency, or restored settings, can close one) would
#: otherwise have a start wait for its own dependency's start, which waits for
#: it, forever, and a stop likewise. Tasks inherit it from the run that asked.
_CHAIN: ContextVar[frozenset[str]] = ContextVar(f"{DOMAIN}_chain", default=frozenset())


def _enter_chain(resource: Resource) -> frozenset[str]:
    """Record `resource` in this run's chain; return the chain below it."""
    chain = _CHAIN.get()
    _CHAIN.set(chain | {resource.key})
    return chain


class Cascade:
    """The start, stop and reboot procedures over the dependency graph."""

    def __init__(
        self,
        hass: HomeAssistant,
        graph: PowerGraph,
        transitions: Transitions,
        workloads: HostWorkloads,
        *,
        start: StartFn,
        stop: StopFn,
        starting: Callable[[str], bool],
    ) -> None:
        self._hass = hass
        self._graph = graph
        self._transitions = transitions
        self._workloads = workloads
        #: Start (with cascade) and stop (cascade or not) another resource,
        #: joining a run of it already under way (power.py: a start waits for a
        #: stop under way to end; a stop gives up on a start under way).
        self._start_other = start
        self._stop_other = stop
        #: Whether the resource of that key is being, or about to be, started.
        self._starting = starting

    # -- start ----------------------------------------------------------------------
    async def start(self, resource: Resource, *, cascade: bool) -> None:
        chain = _enter_chain(resource)
        dependencies = [
            d
            for d in (self._graph.dependencies(resource) if cascade else [])
            if d.key not in chain  # a cycle: it is being started under this
        ]
        # A dependency going down (or rebooting) is not up to run on: starting
        # it waits for that change to end.
        pending = [
            d
            for d in dependencies
            if not _running(d.state) or self._changing_away(d.key)
        ]
        start = PowerAction.START
        if not pending and _running(resource.state):
            self._because(resource, start, Result.DONE, ReasonKind.ALREADY_RUNNING)
            return
        first = Transition(
            ResourceStatus.STARTING,
            start,
            tuple(d.name for d in pending),
            Step.DEPENDENCIES if pending else Step.COMMAND,
            tuple(d.key for d in pending),
        )
        async with self._transitions.showing(resource.key, first):
            if pending:
                self._event(
                    resource,
                    PowerEvent(
                        action=start,
                        result=Result.WAITING,
                        step=Step.DEPENDENCIES,
                        waiting_for=tuple(Named(d.name, d.noun) for d in pending),
                    ),
                )
                # Independent branches come up in parallel; the first failure
                # stops this start (what already started stays started).
                await asyncio.gather(*(self._start_other(d) for d in pending))
            if resource.woken_by_its_server:
                await resource.coordinator.async_refresh()
            else:
                # After waking what it runs on, the last successful poll is
                # stale (made before the host went down): ask the platform again.
                await self._wait_platform(resource, start, fresh=bool(pending))
            if resource.coordinator.last_update_success and _running(resource.state):
                self._because(resource, start, Result.DONE, ReasonKind.ALREADY_RUNNING)
                return
            self._transitions.move_to(resource.key, Step.COMMAND)
            powered = capability(resource, Powered, start)
            await self._call(resource, start, powered.async_start)
            await self._follow(resource, start, _running, resource.start_failure)

    def _changing_away(self, key: str) -> bool:
        """Whether a stop or a reboot of the resource of `key` is under way."""
        transition = self._transitions.get(key)
        return transition is not None and not transition.starts

    async def _wait_platform(
        self, resource: Resource, action: PowerAction, *, fresh: bool = False
    ) -> None:
        """Wait until the platform under `resource` answers (API up, engine up)."""
        coordinator = resource.coordinator
        if fresh:
            await coordinator.async_refresh()
        if coordinator.last_update_success and resource.state is not None:
            return
        if not fresh and coordinator.last_update_success:
            # Its server answered without it: asked again, still absent, it is
            # gone (deleted, or its id given to another), not late. (Right
            # after waking its host, a server may list it late: that waits.)
            await coordinator.async_refresh()
            if coordinator.last_update_success and resource.state is None:
                gone = NotFound(f"{resource.name} is not on {resource.entry.title}")
                err = translate_error(gone, resource.name)
                self._failed(resource, action, ReasonKind.ERROR, err, Step.PLATFORM)
                raise err from None
            if coordinator.last_update_success:
                return
        platform = resource.entry.title
        self._transitions.move_to(resource.key, Step.PLATFORM, waiting_for=(platform,))
        self._event(
            resource,
            PowerEvent(
                action=action,
                result=Result.WAITING,
                step=Step.PLATFORM,
                waiting_for=(Named(platform, server_noun(resource.entry)),),
            ),
        )
        try:
            async with asyncio.timeout(resource.timeout):
                while True:
                    await resource.coordinator.async_refresh()
                    if resource.coordinator.last_update_success and resource.state:
                        return
                    await asyncio.sleep(PROBE_INTERVAL.total_seconds())
        except TimeoutError:
            err = HomeAssistantError(
                translation_domain=DOMAIN,
                translation_key="platform_timeout",
                translation_placeholders={
                    "name": resource.name,
                    "platform": platform,
                    "timeout": str(round(resource.timeout)),
                },
            )
            self._failed(
                resource, action, ReasonKind.PLATFORM_TIMEOUT, err, Step.PLATFORM
            )
            raise err from None

    # -- stop -----------------------------------------------------------------------
    async def stop(
        self,
        resource: Resource,
        *,
        cascade: bool,
        reason: Reason | None,
        asked: bool = False,
    ) -> None:
        # Every dependent the host would take down is stopped cleanly first: a
        # paused container too (the engine unpauses it to stop it). One being
        # started, or about to be, anywhere above it counts: this stop is
        # refused before anything is stopped, rather than pulling its host
        # from under it (or stopping the others for nothing).
        chain = _enter_chain(resource)
        if (starting := self._starting_above(resource, chain)) is not None:
            raise self._refused(starting)
        # What runs on it is asked again first: a dependent started outside
        # WakeHub since its server's last poll is stopped cleanly too, not cut
        # off with its host (and the event names every workload taken down).
        # Not on a host seen stopped: nothing runs there, and its servers,
        # off with it, might only answer with a connection timeout. Nor when
        # the caller has just asked them (`asked`).
        if not asked and not _stopped(resource.state):
            await self._workloads.async_report(resource)
        dependents = [
            d
            for d in self._graph.dependents(resource)
            if d.key not in chain  # a cycle: it is being stopped under this
            and (_up(d.state) or self._starting(d.key))
        ]
        stop = PowerAction.STOP
        if not dependents and _stopped(resource.state):
            self._because(resource, stop, Result.DONE, ReasonKind.ALREADY_STOPPED)
        else:
            first = Transition(
                ResourceStatus.STOPPING,
                stop,
                tuple(d.name for d in dependents),
                Step.DEPENDENTS if dependents else Step.COMMAND,
                tuple(d.key for d in dependents),
            )
            async with self._transitions.showing(resource.key, first):
                if dependents:
                    await self._stop_dependents(resource, dependents)
                await self._stop_itself(resource, reason)
        if cascade:
            await self._release_dependencies(resource)

    def _starting_above(
        self, resource: Resource, chain: frozenset[str]
    ) -> Resource | None:
        """A resource that depends on `resource`, directly or not, and is being
        (or about to be) started: stopping `resource` would take it down."""
        seen = {resource.key, *chain}
        todo = [resource]
        while todo:
            for dependent in self._graph.dependents(todo.pop()):
                if dependent.key in seen:
                    continue
                if self._starting(dependent.key):
                    return dependent
                seen.add(dependent.key)
                todo.append(dependent)
        return None

    def _refused(self, starting: Resource) -> HomeAssistantError:
        """The error of a stop that would take down `starting` while it starts;
        the event on `starting` says so, as a stop of it would (power.py)."""
        err = HomeAssistantError(
            translation_domain=DOMAIN,
            translation_key="stop_while_starting",
            translation_placeholders={"name": starting.name},
        )
        self._failed(starting, PowerAction.STOP, ReasonKind.ERROR, err)
        return err

    async def _stop_dependents(
        self, resource: Resource, dependents: list[Resource]
    ) -> None:
        """A host going down takes its guests with it: stop them cleanly first."""
        self._event(
            resource,
            PowerEvent(
                action=PowerAction.STOP,
                result=Result.WAITING,
                step=Step.DEPENDENTS,
                waiting_for=tuple(Named(d.name, d.noun) for d in dependents),
            ),
        )
        reason = Reason(ReasonKind.HOST_STOPPING, Named(resource.name, resource.noun))
        await asyncio.gather(
            *(
                self._stop_other(d, cascade=False, reason=reason, asked=False)
                for d in dependents
            )
        )

    async def _stop_itself(self, resource: Resource, reason: Reason | None) -> None:
        stop = PowerAction.STOP
        if _stopped(resource.state):
            self._because(resource, stop, Result.DONE, ReasonKind.ALREADY_STOPPED)
            return
        transition = self._transitions.get(resource.key)
        if transition is not None and transition.phase is not Step.COMMAND:
            self._transitions.move_to(resource.key, Step.COMMAND)
        # Asked for directly, a host stops even with workloads WakeHub does not
        # manage; the event says what went down with it.
        taken_down = self._workloads.report(resource).unmanaged
        command = capability(resource, Powered, stop).async_stop
        await self._call(resource, stop, command, reason, unmanaged=taken_down)
        await self._follow(resource, stop, _stopped)

    async def _release_dependencies(self, resource: Resource) -> None:
        """Stop what `resource` needed, unless something else still needs it."""
        releasable: list[Resource] = []
        stop = PowerAction.STOP
        for dependency in self._graph.dependencies(resource):
            if not _running(dependency.state):
                continue
            if not dependency.settings.get(
                CONF_STOP_WITH_DEPENDENTS, DEFAULT_STOP_WITH_DEPENDENTS
            ):
                self._because(
                    dependency,
                    stop,
                    Result.KEPT_ON,
                    ReasonKind.NOT_STOPPED_WITH_DEPENDENTS,
                )
                continue
            report = await self._workloads.async_report(dependency)
            if report.managed or report.unmanaged:
                kept_on = PowerEvent(
                    action=stop,
                    result=Result.KEPT_ON,
                    step=Step.DEPENDENCIES,
                    reason=Reason(ReasonKind.IN_USE),
                    managed=report.managed,
                    unmanaged=report.unmanaged,
                )
            elif report.unreachable:
                kept_on = PowerEvent(
                    action=stop,
                    result=Result.KEPT_ON,
                    step=Step.DEPENDENCIES,
                    reason=Reason(ReasonKind.PLATFORM_UNREACHABLE),
                    platforms=report.unreachable,
                )
            else:
                releasable.append(dependency)
                continue
            self._event(dependency, kept_on)
        released = Reason(ReasonKind.RELEASED_BY, Named(resource.name, resource.noun))
        await asyncio.gather(
            *(
                self._stop_other(d, cascade=True, reason=released, asked=True)
                for d in releasable
            )
        )

    # -- reboot -----------------------------------------------------------------------
    async def reboot(self, resource: Resource) -> None:
        reboot = PowerAction.REBOOT
        async with self._transitions.showing(
            resource.key, Transition(ResourceStatus.REBOOTING, reboot)
        ):
            rebootable = capability(resource, Rebootable, reboot)
            await self._call(resource, reboot, rebootable.async_reboot)
            if not resource.reboot_completes_task:
                # A machine's reboot command returns at once: watch it go down
                # first, or "running" would be read before it even left. A fast
                # reboot may never be seen down between two probes: that is fine.
                try:
                    async with asyncio.timeout(
                        min(REBOOT_DOWN_GRACE, resource.timeout)
                    ):
                        await _wait_until(resource, _down)
                except TimeoutError:
                    pass
            await self._follow(resource, reboot, _running)

    # -- steps ------------------------------------------------------------------
    async def _call(
        self,
        resource: Resource,
        action: PowerAction,
        command: Callable[[], Awaitable[None]],
        reason: Reason | None = None,
        *,
        unmanaged: tuple[str, ...] = (),
    ) -> None:
        """Send the platform command; a client error becomes a translated error."""
        self._event(
            resource,
            PowerEvent(
                action=action,
                result=Result.REQUESTED,
                step=Step.COMMAND,
                reason=reason,
                unmanaged=unmanaged,
            ),
        )
        try:
            await command()
        except WakeHubError as err:
            translated = translate_error(err, resource.name)
            self._failed(resource, action, ReasonKind.ERROR, translated, Step.COMMAND)
            raise translated from err
        except HomeAssistantError as err:
            # Already translated by the kind (e.g. an expired OVH service).
            self._failed(resource, action, ReasonKind.ERROR, err, Step.COMMAND)
            raise

    async def _follow(
        self,
        resource: Resource,
        action: PowerAction,
        reached: Callable[[ResourceState | None], bool],
        failed: Callable[[ResourceState | None], HomeAssistantError | None] = (
            lambda state: None
        ),
    ) -> None:
        """Probe until the platform's state has `reached` the action's end, or
        fail after its timeout, or as soon as a state says it `failed`."""
        timeout = resource.timeout

        def ended(state: ResourceState | None) -> bool:
            if reached(state):
                return True
            if (err := failed(state)) is not None:
                raise _GaveUp(err)
            return False

        try:
            async with asyncio.timeout(timeout):
                await _wait_until(resource, ended)
        except _GaveUp as gave_up:
            self._failed(resource, action, ReasonKind.ERROR, gave_up.err)
            raise gave_up.err from None
        except TimeoutError:
            err = HomeAssistantError(
                translation_domain=DOMAIN,
                translation_key=TIMEOUT_KEYS[action],
                translation_placeholders={
                    "name": resource.name,
                    "timeout": str(round(timeout)),
                },
            )
            self._failed(resource, action, ReasonKind.TIMEOUT, err)
            raise err from None
        self._event(resource, PowerEvent(action=action, result=Result.DONE))

    # -- events ------------------------------------------------------------------------
    def _event(self, resource: Resource, event: PowerEvent) -> None:
        async_fire_power_event(self._hass, resource, event)

    def _because(
        self,
        resource: Resource,
        action: PowerAction,
        result: Result,
        reason: ReasonKind,
    ) -> None:
        """An event that needs no more than why."""
        self._event(
            resource, PowerEvent(action=action, result=result, reason=Reason(reason))
        )

    def _failed(
        self,
        resource: Resource,
        action: PowerAction,
        reason: ReasonKind,
        err: HomeAssistantError,
        step: Step | None = None,
    ) -> None:
        """A step failed with `err`: the event carries the same words."""
        self._event(
            resource,
            PowerEvent(
                action=action,
                result=Result.FAILED,
                step=step,
                reason=Reason(reason),
                failure=Failure.of(err),
            ),
        )


class _GaveUp(Exception):
    """A probed state says the change failed for good (`err` says how)."""

    def __init__(self, err: HomeAssistantError) -> None:
        super().__init__(err)
        self.err = err


async def _wait_until(
    resource: Resource, condition: Callable[[ResourceState | None], bool]
) -> None:
    await resource.coordinator.async_wait_until(resource.key, condition)


# Running and stopped as the platform means them (a locked guest still runs);
# None: not polled yet, or its server does not answer.
def _running(state: ResourceState | None) -> bool:
    return state is not None and state.is_running


def _up(state: ResourceState | None) -> bool:
    """Seen in any state but stopped: running, paused, in rescue..."""
    return state is not None and not state.is_stopped


def _stopped(state: ResourceState | None) -> bool:
    return state is not None and state.is_stopped


def _down(state: ResourceState | None) -> bool:
    """Seen not running by a poll that answered (a reboot going down)."""
    return state is not None and not state.is_running
