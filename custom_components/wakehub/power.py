"""The power orchestrator: every start, stop and reboot goes through here.

It owns what no single platform can:
- one run per resource and action, so two automations and a tap result in one
  start, and every caller learns its outcome;
- the cascade: a start first brings up what the resource depends on (bottom-up,
  independent branches in parallel), waiting at each layer until its platform
  really answers; a stop first stops running dependents, then stops the
  dependencies nothing else needs (and that are set to stop with them), and says
  why a dependency was kept on;
- the transitional status (starting, and waiting for what) shown while a change is
  under way, and following the real state until the platform confirms it;
- the `wakehub_power` events that explain each step in the logbook.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
import logging
from typing import Any

from homeassistant.core import HomeAssistant, callback
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers.dispatcher import async_dispatcher_send
from homeassistant.util.hass_dict import HassKey

from .action_errors import translate_error
from .api.errors import WakeHubError
from .api.models import ResourceStatus
from .const import (
    CONF_STOP_WITH_DEPENDENTS,
    DEFAULT_STOP_WITH_DEPENDENTS,
    DOMAIN,
    EVENT_POWER,
    PROBE_INTERVAL,
)
from .graph import PowerGraph
from .resource import Resource, ResourceState

_LOGGER = logging.getLogger(__name__)

DATA_POWER: HassKey[PowerManager] = HassKey(f"{DOMAIN}_power")
SIGNAL_TRANSITION = f"{DOMAIN}_transition"

# How long a reboot may take to go down before we assume it was too quick to see.
REBOOT_DOWN_GRACE = 60.0


@dataclass(frozen=True)
class Transition:
    """A change under way, shown by the status sensor instead of the polled state."""

    status: ResourceStatus
    action: str
    #: What the change is waiting for (names of dependencies, or the platform).
    waiting_for: tuple[str, ...] = ()


class PowerManager:
    """Registry of every WakeHub resource across entries, and their power changes."""

    def __init__(self, hass: HomeAssistant) -> None:
        self.hass = hass
        self.resources: dict[str, Resource] = {}
        self.graph = PowerGraph(hass, self.resources)
        self._transitions: dict[str, Transition] = {}
        self._running: dict[tuple[str, str], asyncio.Task[None]] = {}

    # -- registry -------------------------------------------------------------
    @callback
    def async_register(self, resource: Resource) -> Callable[[], None]:
        self.resources[resource.key] = resource
        untrack = self.graph.async_track(resource)

        @callback
        def unregister() -> None:
            if self.resources.get(resource.key) is resource:
                del self.resources[resource.key]
            untrack()

        return unregister

    def transition(self, key: str) -> Transition | None:
        return self._transitions.get(key)

    def running_dependents(self, resource: Resource) -> list[Resource]:
        """Dependents that are running (or being started) right now."""
        return [
            other
            for other in self.graph.dependents(resource)
            if _is(other.state, ResourceStatus.RUNNING)
            or (self._transitions.get(other.key) or _NO_TRANSITION).action == "start"
        ]

    # -- actions --------------------------------------------------------------
    async def async_start(self, resource: Resource, *, cascade: bool = True) -> None:
        """Start `resource` (and first what it depends on); return once it runs."""
        action = "start" if cascade else "start_alone"
        await self._once(resource, action, lambda r: self._start(r, cascade=cascade))

    async def async_stop(
        self, resource: Resource, *, cascade: bool = True, reason: str | None = None
    ) -> None:
        """Stop `resource` gracefully (its running dependents first).

        With `cascade`, the dependencies that nothing else running needs any more
        are stopped next, downwards.
        """
        action = "stop" if cascade else "stop_alone"
        await self._once(
            resource, action, lambda r: self._stop(r, cascade=cascade, reason=reason)
        )

    async def async_reboot(self, resource: Resource) -> None:
        await self._once(resource, "reboot", self._reboot)

    async def _once(
        self,
        resource: Resource,
        action: str,
        run: Callable[[Resource], Coroutine[Any, Any, None]],
    ) -> None:
        """Run `action` on `resource`, joining a run of it that is under way.

        Concurrent callers of the same action share one execution (and its
        result); the task is shielded so one caller giving up does not cancel the
        others' start.
        """
        key = (resource.key, action)
        task = self._running.get(key)
        if task is None:
            task = self.hass.async_create_background_task(
                run(resource), f"{DOMAIN} {action} {resource.name}"
            )
            self._running[key] = task
            task.add_done_callback(lambda _: self._running.pop(key, None))
        await asyncio.shield(task)

    # -- start ----------------------------------------------------------------------
    async def _start(self, resource: Resource, *, cascade: bool) -> None:
        dependencies = self.graph.dependencies(resource) if cascade else []
        pending = [d for d in dependencies if not _is(d.state, ResourceStatus.RUNNING)]
        if not pending and _is(resource.state, ResourceStatus.RUNNING):
            self._fire(resource, "start", "done", "already_running")
            return
        async with self._transitioning(resource, ResourceStatus.STARTING, "start"):
            if pending:
                names = tuple(d.name for d in pending)
                self._update_transition(resource, waiting_for=names)
                self._fire(
                    resource, "start", "waiting", ", ".join(names), step="dependencies"
                )
                # Independent branches come up in parallel; the first failure
                # stops this start (what already started stays started).
                await asyncio.gather(*(self.async_start(d) for d in pending))
            # After waking what it runs on, the last successful poll is stale
            # (made before the host went down): ask the platform again.
            await self._wait_platform(resource, "start", fresh=bool(pending))
            if _is(resource.state, ResourceStatus.RUNNING):
                self._fire(resource, "start", "done", "already_running")
                return
            self._update_transition(resource, waiting_for=())
            await self._call(resource, "start", resource.async_start)
            await self._follow(
                resource, "start", ResourceStatus.RUNNING, resource.timeout
            )

    async def _wait_platform(
        self, resource: Resource, action: str, *, fresh: bool = False
    ) -> None:
        """Wait until the platform under `resource` answers (API up, engine up)."""
        if fresh:
            await resource.coordinator.async_refresh()
        if resource.coordinator.last_update_success and resource.state is not None:
            return
        self._update_transition(resource, waiting_for=(resource.entry.title,))
        self._fire(resource, action, "waiting", resource.entry.title, step="platform")
        try:
            async with asyncio.timeout(resource.timeout):
                while True:
                    await resource.coordinator.async_refresh()
                    if resource.coordinator.last_update_success and resource.state:
                        return
                    await asyncio.sleep(PROBE_INTERVAL.total_seconds())
        except TimeoutError:
            self._fire(resource, action, "failed", "platform_timeout", step="platform")
            raise HomeAssistantError(
                translation_domain=DOMAIN,
                translation_key="platform_timeout",
                translation_placeholders={
                    "name": resource.name,
                    "platform": resource.entry.title,
                    "timeout": str(round(resource.timeout)),
                },
            ) from None

    # -- stop -----------------------------------------------------------------------
    async def _stop(
        self, resource: Resource, *, cascade: bool, reason: str | None
    ) -> None:
        dependents = [
            d
            for d in self.graph.dependents(resource)
            if _is(d.state, ResourceStatus.RUNNING)
        ]
        if dependents:
            # A host going down takes its guests with it: stop them cleanly first.
            names = ", ".join(d.name for d in dependents)
            self._fire(resource, "stop", "waiting", names, step="dependents")
            await asyncio.gather(
                *(
                    self.async_stop(d, cascade=False, reason="host_stopping")
                    for d in dependents
                )
            )
        if _is(resource.state, ResourceStatus.STOPPED):
            self._fire(resource, "stop", "done", "already_stopped")
        else:
            async with self._transitioning(resource, ResourceStatus.STOPPING, "stop"):
                await self._call(resource, "stop", resource.async_stop, reason)
                await self._follow(
                    resource, "stop", ResourceStatus.STOPPED, resource.timeout
                )
        if cascade:
            await self._release_dependencies(resource)

    async def _release_dependencies(self, resource: Resource) -> None:
        """Stop what `resource` needed, unless something else still needs it."""
        releasable: list[Resource] = []
        for dependency in self.graph.dependencies(resource):
            if not _is(dependency.state, ResourceStatus.RUNNING):
                continue
            if not dependency.settings.get(
                CONF_STOP_WITH_DEPENDENTS, DEFAULT_STOP_WITH_DEPENDENTS
            ):
                self._fire(dependency, "stop", "kept_on", "not_stopped_with_dependents")
                continue
            if users := self.running_dependents(dependency):
                self._fire(
                    dependency,
                    "stop",
                    "kept_on",
                    ", ".join(u.name for u in users),
                    step="dependencies",
                )
                continue
            releasable.append(dependency)
        await asyncio.gather(
            *(
                self.async_stop(d, reason=f"released_by:{resource.name}")
                for d in releasable
            )
        )

    # -- reboot -----------------------------------------------------------------------
    async def _reboot(self, resource: Resource) -> None:
        async with self._transitioning(resource, ResourceStatus.REBOOTING, "reboot"):
            await self._call(resource, "reboot", resource.async_reboot)
            if not resource.reboot_completes_task:
                # A machine's reboot command returns at once: watch it go down
                # first, or "running" would be read before it even left. A fast
                # reboot may never be seen down between two probes: that is fine.
                try:
                    async with asyncio.timeout(
                        min(REBOOT_DOWN_GRACE, resource.timeout)
                    ):
                        await self._wait_until(resource, lambda s: not s.is_running)
                except TimeoutError:
                    pass
            await self._follow(
                resource, "reboot", ResourceStatus.RUNNING, resource.timeout
            )

    # -- steps ------------------------------------------------------------------
    async def _call(
        self,
        resource: Resource,
        action: str,
        command: Callable[[], Awaitable[None]],
        reason: str | None = None,
    ) -> None:
        """Send the platform command; a client error becomes a translated error."""
        self._fire(resource, action, "requested", reason, step="command")
        try:
            await command()
        except WakeHubError as err:
            self._fire(resource, action, "failed", str(err), step="command")
            raise translate_error(err, resource.name) from err
        except HomeAssistantError as err:
            # Already translated by the kind (e.g. an expired OVH service).
            self._fire(resource, action, "failed", str(err), step="command")
            raise

    async def _follow(
        self,
        resource: Resource,
        action: str,
        target: ResourceStatus,
        timeout: float,
    ) -> None:
        """Probe until the platform reports `target`, or fail after `timeout`."""
        try:
            async with asyncio.timeout(timeout):
                await self._wait_until(resource, lambda s: _is(s, target))
        except TimeoutError:
            self._fire(resource, action, "failed", "timeout")
            raise HomeAssistantError(
                translation_domain=DOMAIN,
                translation_key=f"{action}_timeout",
                translation_placeholders={
                    "name": resource.name,
                    "timeout": str(round(timeout)),
                },
            ) from None
        self._fire(resource, action, "done", None)

    async def _wait_until(
        self, resource: Resource, condition: Callable[[ResourceState], bool]
    ) -> None:
        while True:
            await resource.coordinator.async_refresh()
            state = resource.state
            if state is not None and condition(state):
                return
            await asyncio.sleep(PROBE_INTERVAL.total_seconds())

    # -- transitions and events ------------------------------------------------------
    def _transitioning(
        self, resource: Resource, status: ResourceStatus, action: str
    ) -> _TransitionContext:
        return _TransitionContext(self, resource, Transition(status, action))

    def set_transition(self, key: str, transition: Transition | None) -> None:
        if transition is None:
            self._transitions.pop(key, None)
        else:
            self._transitions[key] = transition
        async_dispatcher_send(self.hass, f"{SIGNAL_TRANSITION}_{key}")

    def _update_transition(
        self, resource: Resource, *, waiting_for: tuple[str, ...]
    ) -> None:
        if (current := self._transitions.get(resource.key)) is not None:
            self.set_transition(
                resource.key,
                Transition(current.status, current.action, waiting_for),
            )

    @callback
    def _fire(
        self,
        resource: Resource,
        action: str,
        result: str,
        reason: str | None,
        *,
        step: str | None = None,
    ) -> None:
        data: dict[str, Any] = {
            "resource": resource.key,
            "name": resource.name,
            "action": action,
            "step": step,
            "result": result,
            "reason": reason,
        }
        _LOGGER.debug("%s %s: %s %s (%s)", resource.name, action, step, result, reason)
        self.hass.bus.async_fire(EVENT_POWER, data)

    @callback
    def fire(
        self, resource: Resource, action: str, result: str, reason: str | None
    ) -> None:
        """Record a decision taken elsewhere (the idle detector) as an event."""
        self._fire(resource, action, result, reason, step="decision")


_NO_TRANSITION = Transition(ResourceStatus.UNKNOWN, "")


class _TransitionContext:
    """Shows `transition` on the resource for as long as the block runs."""

    def __init__(
        self, manager: PowerManager, resource: Resource, transition: Transition
    ) -> None:
        self._manager = manager
        self._resource = resource
        self._transition = transition

    async def __aenter__(self) -> None:
        self._manager.set_transition(self._resource.key, self._transition)

    async def __aexit__(self, *exc_info: object) -> None:
        self._manager.set_transition(self._resource.key, None)


def _is(state: ResourceState | None, status: ResourceStatus) -> bool:
    """Running/stopped as the platform means it (a locked guest still runs)."""
    if state is None:
        return False
    if status is ResourceStatus.RUNNING:
        return state.is_running
    if status is ResourceStatus.STOPPED:
        return state.is_stopped
    return state.status is status


@callback
def async_get_power_manager(hass: HomeAssistant) -> PowerManager:
    """The one power manager of this Home Assistant instance."""
    if (manager := hass.data.get(DATA_POWER)) is None:
        manager = hass.data[DATA_POWER] = PowerManager(hass)
    return manager
