"""The power orchestrator: every start, stop and reboot goes through here.

It owns what no single platform can:
- one run per resource and action, so two automations and a tap result in one
  start, and every caller learns its outcome;
- the cascade: a start first brings up what the resource depends on (bottom-up,
  independent branches in parallel), waiting at each layer until its platform
  really answers; a stop first stops running dependents, then stops the
  dependencies nothing else needs (and that are set to stop with them), and says
  why a dependency was kept on;
- protection: a dependency is released only when every platform running on it
  reports nothing else running there, managed by WakeHub or not (workloads.py),
  and never while one of them cannot be asked;
- the transitional status (starting, and waiting for what) shown while a change is
  under way, with its phase for the progress sensor (progress.py), and following
  the real state until the platform confirms it;
- the `wakehub_power` events that explain each step in the logbook.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
import logging
from typing import Any

from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant, callback
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers.dispatcher import async_dispatcher_send
from homeassistant.util import dt as dt_util
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
from .coordinator import WakeHubCoordinator
from .graph import PowerGraph
from .hosting import HostReport, entry_host_links
from .resource import Resource, ResourceState
from .runtime import WakeHubConfigEntry

_LOGGER = logging.getLogger(__name__)

DATA_POWER: HassKey[PowerManager] = HassKey(f"{DOMAIN}_power")
SIGNAL_TRANSITION = f"{DOMAIN}_transition"

# How long a reboot may take to go down before we assume it was too quick to see.
REBOOT_DOWN_GRACE = 60.0


class Phase(StrEnum):
    """What a change under way is doing right now."""

    DEPENDENCIES = "dependencies"  # waiting for what it needs to come up
    PLATFORM = "platform"  # waiting for its server's API to answer
    COMMAND = "command"  # its own start, stop or reboot is under way
    DEPENDENTS = "dependents"  # stopping what runs on it first


@dataclass(frozen=True)
class Transition:
    """A change under way, shown by the status sensor instead of the polled state."""

    status: ResourceStatus
    action: str
    #: What the change is waiting for (names of dependencies, or the platform).
    waiting_for: tuple[str, ...] = ()
    phase: Phase = Phase.COMMAND
    #: Keys of the resources named in `waiting_for`, when they are resources.
    waiting_keys: tuple[str, ...] = ()
    #: When this phase began.
    since: datetime = field(default_factory=dt_util.utcnow)

    @property
    def shown_status(self) -> ResourceStatus:
        """`waiting` while something else must happen first, else the change."""
        if self.phase in (Phase.DEPENDENCIES, Phase.PLATFORM):
            return ResourceStatus.WAITING
        return self.status


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

    def workloads_on(self, host: Resource) -> HostReport:
        """What runs on `host` now, as the last polls of its servers saw it."""
        return self._report(host)

    async def async_workloads_on(self, host: Resource) -> HostReport:
        """What runs on `host`, asking every server on it again first."""
        for coordinator in self._hosted_coordinators(host):
            await coordinator.async_refresh()
        return self._report(host)

    def _hosted_coordinators(self, host: Resource) -> list[WakeHubCoordinator]:
        return [
            entry.runtime_data.coordinator
            for entry in self._entries_on(host)
            if entry.state is ConfigEntryState.LOADED
        ]

    def _entries_on(self, host: Resource) -> list[WakeHubConfigEntry]:
        """The server entries whose host links name `host`.

        And the host's own entry when its server runs on it: a Proxmox node
        without a machine hosts its guests, reported under its own switch.
        """
        entries: list[WakeHubConfigEntry] = self.hass.config_entries.async_entries(
            DOMAIN
        )
        return [
            entry
            for entry in entries
            if any(
                self.graph.resource_for_switch(link) is host
                for link in entry_host_links(entry)
            )
            or (entry is host.entry and self._hosts_on_itself(host))
        ]

    def _hosts_on_itself(self, host: Resource) -> bool:
        """Whether `host`'s own server reports workloads under `host`'s switch."""
        if host.entry.state is not ConfigEntryState.LOADED:
            return False
        link = self.graph.registry_id(host)
        coordinator = host.entry.runtime_data.coordinator
        return link is not None and link in coordinator.hosted_workloads()

    def _report(self, host: Resource) -> HostReport:
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
                if self.graph.resource_for_switch(link) is not host:
                    continue
                for workload in workloads:
                    key = workload.resource_key
                    if key is None or key not in self.resources:
                        unmanaged.append(workload.name)
                    else:
                        managed.setdefault(key, self.resources[key].name)
        return HostReport(
            managed=tuple(managed.values()),
            unmanaged=tuple(dict.fromkeys(unmanaged)),
            unreachable=tuple(unreachable),
        )

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
        others' start. It belongs to the resource's entry: unloading the entry
        (a reload, a removal) cancels it rather than leaving it polling a
        coordinator nobody uses any more.
        """
        key = (resource.key, action)
        task = self._running.get(key)
        if task is None:
            task = resource.entry.async_create_background_task(
                self.hass, run(resource), f"{DOMAIN} {action} {resource.name}"
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
        first = Transition(
            ResourceStatus.STARTING,
            "start",
            tuple(d.name for d in pending),
            Phase.DEPENDENCIES if pending else Phase.COMMAND,
            tuple(d.key for d in pending),
        )
        async with _TransitionContext(self, resource, first):
            if pending:
                names = first.waiting_for
                self._fire(
                    resource, "start", "waiting", ", ".join(names), step="dependencies"
                )
                # Independent branches come up in parallel; the first failure
                # stops this start (what already started stays started).
                await asyncio.gather(*(self.async_start(d) for d in pending))
            if resource.woken_by_its_server:
                await resource.coordinator.async_refresh()
            else:
                # After waking what it runs on, the last successful poll is
                # stale (made before the host went down): ask the platform again.
                await self._wait_platform(resource, "start", fresh=bool(pending))
            if resource.coordinator.last_update_success and _is(
                resource.state, ResourceStatus.RUNNING
            ):
                self._fire(resource, "start", "done", "already_running")
                return
            self._update_transition(resource, Phase.COMMAND)
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
        self._update_transition(
            resource, Phase.PLATFORM, waiting_for=(resource.entry.title,)
        )
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
        if not dependents and _is(resource.state, ResourceStatus.STOPPED):
            self._fire(resource, "stop", "done", "already_stopped")
        else:
            first = Transition(
                ResourceStatus.STOPPING,
                "stop",
                tuple(d.name for d in dependents),
                Phase.DEPENDENTS if dependents else Phase.COMMAND,
                tuple(d.key for d in dependents),
            )
            async with _TransitionContext(self, resource, first):
                if dependents:
                    await self._stop_dependents(resource, dependents)
                await self._stop_itself(resource, reason)
        if cascade:
            await self._release_dependencies(resource)

    async def _stop_dependents(
        self, resource: Resource, dependents: list[Resource]
    ) -> None:
        """A host going down takes its guests with it: stop them cleanly first."""
        names = tuple(d.name for d in dependents)
        self._fire(resource, "stop", "waiting", ", ".join(names), step="dependents")
        await asyncio.gather(
            *(
                self.async_stop(d, cascade=False, reason="host_stopping")
                for d in dependents
            )
        )

    async def _stop_itself(self, resource: Resource, reason: str | None) -> None:
        if _is(resource.state, ResourceStatus.STOPPED):
            self._fire(resource, "stop", "done", "already_stopped")
            return
        if self._transitions[resource.key].phase is not Phase.COMMAND:
            self._update_transition(resource, Phase.COMMAND)
        # Asked for directly, a host stops even with workloads WakeHub does not
        # manage; the event says what went down with it.
        taken_down = self.workloads_on(resource).unmanaged
        await self._call(
            resource, "stop", resource.async_stop, reason, unmanaged=list(taken_down)
        )
        await self._follow(resource, "stop", ResourceStatus.STOPPED, resource.timeout)

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
            report = await self.async_workloads_on(dependency)
            if report.managed or report.unmanaged:
                self._fire(
                    dependency,
                    "stop",
                    "kept_on",
                    ", ".join((*report.managed, *report.unmanaged)),
                    step="dependencies",
                    managed=list(report.managed),
                    unmanaged=list(report.unmanaged),
                )
                continue
            if report.unreachable:
                self._fire(
                    dependency,
                    "stop",
                    "kept_on",
                    "platform_unreachable",
                    step="dependencies",
                    platforms=list(report.unreachable),
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
        async with _TransitionContext(
            self, resource, Transition(ResourceStatus.REBOOTING, "reboot")
        ):
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
        **details: Any,
    ) -> None:
        """Send the platform command; a client error becomes a translated error."""
        self._fire(resource, action, "requested", reason, step="command", **details)
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
    def set_transition(self, key: str, transition: Transition | None) -> None:
        if transition is None:
            self._transitions.pop(key, None)
        else:
            self._transitions[key] = transition
        async_dispatcher_send(self.hass, f"{SIGNAL_TRANSITION}_{key}")
        # Progress texts name what lies underneath ("waiting for pve1: ..."):
        # every one of them may change with this resource's transition.
        async_dispatcher_send(self.hass, SIGNAL_TRANSITION)

    def _update_transition(
        self,
        resource: Resource,
        phase: Phase,
        *,
        waiting_for: tuple[str, ...] = (),
        waiting_keys: tuple[str, ...] = (),
    ) -> None:
        if (current := self._transitions.get(resource.key)) is not None:
            self.set_transition(
                resource.key,
                Transition(
                    current.status, current.action, waiting_for, phase, waiting_keys
                ),
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
        **details: Any,
    ) -> None:
        data: dict[str, Any] = {
            "resource": resource.key,
            "name": resource.name,
            "action": action,
            "step": step,
            "result": result,
            "reason": reason,
            # Structured detail for the logbook and automations: names of what
            # kept a host on (managed / unmanaged), servers that did not answer.
            **{key: value for key, value in details.items() if value},
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
