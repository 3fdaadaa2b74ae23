"""Idle detection and auto-shutdown.

A running resource is *active* while something keeps it awake (activity.py),
and *idle* otherwise. When auto-shutdown is on for a resource and it has been
idle for its idle timeout, it is stopped with cascade and protection, and the
decision is recorded as a `wakehub_power` event; so is a countdown cancelled
because something became active. The idle-since times and the auto-shutdown
switches are stored (in one delayed write for all the changes of a few
seconds), so a restart of Home Assistant resumes the countdown instead of
resetting it. Idle time cannot start before the resource last booted: a
countdown restored from before a reboot (by hand while Home Assistant was down,
or between two polls) counts from the boot.

Nothing is auto-shut down in the first minutes after Home Assistant starts or
the entry loads (`STARTUP_GRACE`): a deadline that falls in them, or passed
while Home Assistant was down, is checked again at their end. An auto-shutdown
that fails is tried again `RETRY_AFTER_FAILURE` later, while the resource
stays idle.

A poll of a coordinator re-evaluates each of its resources, and what they depend
on, once: a node under a thousand guests is evaluated once per poll, not once
per guest.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
import logging
from typing import TYPE_CHECKING, Any

from homeassistant.core import (
    CALLBACK_TYPE,
    CoreState,
    Event,
    EventStateChangedData,
    HomeAssistant,
    callback,
)
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers.dispatcher import async_dispatcher_send
from homeassistant.helpers.event import (
    async_track_point_in_utc_time,
    async_track_state_change_event,
)
from homeassistant.helpers.start import async_at_started
from homeassistant.helpers.storage import Store
from homeassistant.util import dt as dt_util
from homeassistant.util.hass_dict import HassKey

from .activity import Activity, activity_reasons, idle_timeout
from .const import CONF_KEEP_AWAKE, DOMAIN
from .features import ResourceFeature
from .power import PowerManager, async_get_power_manager
from .power_events import PowerAction, PowerEvent, Reason, ReasonKind, Result, Step
from .resource import Resource

if TYPE_CHECKING:
    from .coordinator import WakeHubCoordinator

_LOGGER = logging.getLogger(__name__)

DATA_IDLE: HassKey[IdleMonitor] = HassKey(f"{DOMAIN}_idle")
SIGNAL_IDLE = f"{DOMAIN}_idle"
STORAGE_KEY = f"{DOMAIN}.idle"
STORAGE_VERSION = 1
# Seconds the store waits to write after a change (a stop writes what is pending).
SAVE_DELAY = 10
# No auto-shutdown this long after Home Assistant has started, or the entry has
# loaded if later. Until then what keeps a resource awake cannot be told: the
# integrations of keep-awake entities may not be loaded yet (`unavailable`,
# `unknown` or no state at all, then `playing` a moment later), nor the servers
# of its dependents. A wrong stop loses people's work; a NAS left on a few more
# minutes costs little. After it, an unavailable or unknown keep-awake entity
# counts as inactive again (activity.py, `INACTIVE_STATES`): many devices read
# unavailable while switched off (a TV at the plug), and one unavailable for
# good (removed, renamed) would otherwise keep the resource on forever without
# telling anyone.
STARTUP_GRACE = timedelta(minutes=5)
# A failed auto-shutdown (the machine refused the login, a server did not
# answer) is tried again this much later while the resource stays idle: one
# failure at night must not leave it on until something else changes.
RETRY_AFTER_FAILURE = timedelta(minutes=15)


@dataclass
class _Group:
    """The tracked resources of one coordinator, evaluated together after a poll."""

    unsubscribe: CALLBACK_TYPE
    resources: dict[str, Resource] = field(default_factory=dict)


class IdleMonitor:
    """Watches every powered resource and stops those idle for too long."""

    def __init__(self, hass: HomeAssistant, power: PowerManager) -> None:
        self.hass = hass
        self.power = power
        self._store: Store[dict[str, Any]] = Store(hass, STORAGE_VERSION, STORAGE_KEY)
        self._idle_since: dict[str, datetime] = {}
        self._enabled: dict[str, bool] = {}
        self._activity: dict[str, Activity] = {}
        self._timers: dict[str, CALLBACK_TYPE] = {}
        self._tracked: dict[str, Resource] = {}
        self._keep_awake: dict[str, CALLBACK_TYPE] = {}
        # The earliest each tracked resource may be auto-shut down: the end of
        # its startup grace (STARTUP_GRACE), or the next try after a failed
        # one (RETRY_AFTER_FAILURE).
        self._not_before: dict[str, datetime] = {}
        self._at_started: dict[str, CALLBACK_TYPE] = {}
        self._groups: dict[WakeHubCoordinator, _Group] = {}
        self._loaded = False

    async def async_load(self) -> None:
        if self._loaded:
            return
        self._loaded = True
        stored = await self._store.async_load() or {}
        for key, value in stored.get("idle_since", {}).items():
            if (parsed := dt_util.parse_datetime(value)) is not None:
                self._idle_since[key] = parsed
        self._enabled.update(stored.get("enabled", {}))

    @callback
    def _save(self) -> None:
        """Persist idle-since times and switches (called when one changed).

        Changes of one poll are written together, a few seconds later; stopping
        Home Assistant writes what is pending, so a restart loses nothing.
        """
        self._store.async_delay_save(self._data_to_store, SAVE_DELAY)

    @callback
    def _data_to_store(self) -> dict[str, Any]:
        return {
            "idle_since": {k: v.isoformat() for k, v in self._idle_since.items()},
            "enabled": dict(self._enabled),
        }

    # -- per resource --------------------------------------------------------------
    def enabled(self, resource: Resource) -> bool:
        """Whether auto-shutdown is on (off until the user turns it on)."""
        return self._enabled.get(resource.key, False)

    @callback
    def async_set_enabled(self, resource: Resource, enabled: bool) -> None:
        if self._enabled.get(resource.key) != enabled:
            self._enabled[resource.key] = enabled
            self._save()
        self.async_evaluate(resource)

    def activity(self, resource: Resource) -> Activity | None:
        return self._activity.get(resource.key)

    @callback
    def async_track(self, resource: Resource) -> Callable[[], None]:
        """Follow `resource`: its polls, its keep-awake entities, its dependents."""
        coordinator = resource.coordinator
        group = self._groups.get(coordinator)
        if group is None:
            group = self._groups[coordinator] = self._group(coordinator)
        group.resources[resource.key] = resource
        self._tracked[resource.key] = resource
        # The grace counts from now, and again from Home Assistant's start if
        # it is still starting (integrations load until then, and after).
        self._not_before[resource.key] = dt_util.utcnow() + STARTUP_GRACE

        @callback
        def started(_hass: HomeAssistant) -> None:
            self._at_started.pop(resource.key, None)
            self._not_before[resource.key] = dt_util.utcnow() + STARTUP_GRACE
            self.async_evaluate(resource)

        if self.hass.state is not CoreState.running:
            self._at_started[resource.key] = async_at_started(self.hass, started)
        keep_awake = list(resource.settings.get(CONF_KEEP_AWAKE, []))
        if keep_awake:

            @callback
            def keep_awake_changed(event: Event[EventStateChangedData]) -> None:
                self.async_evaluate(resource)

            self._keep_awake[resource.key] = async_track_state_change_event(
                self.hass, keep_awake, keep_awake_changed
            )
        self.async_evaluate(resource)

        @callback
        def untrack() -> None:
            if self._tracked.get(resource.key) is resource:
                del self._tracked[resource.key]
            if group.resources.get(resource.key) is resource:
                del group.resources[resource.key]
            if not group.resources and self._groups.get(coordinator) is group:
                del self._groups[coordinator]
                group.unsubscribe()
            if (unsub := self._keep_awake.pop(resource.key, None)) is not None:
                unsub()
            if (timer := self._timers.pop(resource.key, None)) is not None:
                timer()
            if (at_started := self._at_started.pop(resource.key, None)) is not None:
                at_started()
            self._activity.pop(resource.key, None)
            self._not_before.pop(resource.key, None)

        return untrack

    def _group(self, coordinator: WakeHubCoordinator) -> _Group:
        resources: dict[str, Resource] = {}
        unsubscribe = coordinator.async_add_listener(
            lambda: self._evaluate_polled(list(resources.values()))
        )
        return _Group(unsubscribe, resources)

    @callback
    def _evaluate_polled(self, polled: list[Resource]) -> None:
        """A poll updated `polled`: they and what they depend on may change.

        Each is evaluated once, after every state of the poll is known; a shared
        dependency is not evaluated again for each of its dependents.
        """
        touched = {resource.key: resource for resource in polled}
        for resource in polled:
            for dependency in self.power.graph.dependencies(resource):
                if dependency.key in self._tracked:
                    touched.setdefault(dependency.key, dependency)
        for resource in touched.values():
            self.async_evaluate(resource)

    # -- the decision ------------------------------------------------------------
    @callback
    def async_evaluate(self, resource: Resource) -> None:
        """Recompute activity and (re)arm or cancel the auto-shutdown timer."""
        if ResourceFeature.POWER not in resource.features:
            return
        state = resource.state
        if state is None:
            # Not polled yet, or the platform does not answer: nothing is known,
            # so a restored idle-since time is kept rather than reset.
            return
        previous = self._activity.get(resource.key)
        running = state.is_running
        reasons = activity_reasons(self.hass, self.power, resource) if running else []
        active = bool(reasons)

        if not running or active:
            if self._idle_since.pop(resource.key, None) is not None:
                self._save()
        else:
            self._idle_from(resource.key, state.boot_time)
        idle_since = self._idle_since.get(resource.key)

        timeout = idle_timeout(resource)
        auto_off_at = None
        if idle_since is not None and timeout is not None and self.enabled(resource):
            auto_off_at = idle_since + timeout
            # Not before the startup grace ends (STARTUP_GRACE), nor before
            # the retry of a failed try, when it is checked again like any
            # deadline.
            not_before = self._not_before.get(resource.key, auto_off_at)
            auto_off_at = max(auto_off_at, not_before)

        if previous and previous.auto_off_at and auto_off_at is None and active:
            self.power.fire(
                resource,
                PowerEvent(
                    action=PowerAction.AUTO_STOP,
                    result=Result.CANCELLED,
                    step=Step.DECISION,
                    reason=Reason(ReasonKind.ACTIVE),
                    activity=tuple(reasons),
                ),
            )

        activity = Activity(active, tuple(reasons), idle_since, auto_off_at)
        if activity != previous:
            self._activity[resource.key] = activity
            self._arm(resource, auto_off_at)
            async_dispatcher_send(self.hass, f"{SIGNAL_IDLE}_{resource.key}")

    @callback
    def _idle_from(self, key: str, booted: datetime | None) -> None:
        """The running resource `key` is idle: start its idle time if it has
        none, or move it to its last boot if that is later.

        Idle time cannot start before the resource booted: a restored idle-since
        time from before a reboot (by hand while Home Assistant was down, or
        between two polls) would otherwise stop it as soon as it is back.
        """
        now = dt_util.utcnow()
        since = self._idle_since.get(key)
        if since is None:
            since = now
        elif booted is not None and booted > since:
            since = min(booted, now)
        else:
            return
        self._idle_since[key] = since
        self._save()

    @callback
    def _arm(self, resource: Resource, when: datetime | None) -> None:
        if (timer := self._timers.pop(resource.key, None)) is not None:
            timer()
        if when is None:
            return

        @callback
        def fire(_now: datetime) -> None:
            self._timers.pop(resource.key, None)
            self.hass.async_create_background_task(
                self._async_auto_stop(resource), f"{DOMAIN} auto-stop {resource.name}"
            )

        self._timers[resource.key] = async_track_point_in_utc_time(
            self.hass, fire, when
        )

    async def _async_auto_stop(self, resource: Resource) -> None:
        """The timeout passed: check once more, then stop with cascade."""
        await resource.coordinator.async_refresh()
        # Ask the servers running on it too: a workload started since their
        # last poll keeps it awake.
        await self.power.async_workloads_on(resource)
        self.async_evaluate(resource)
        activity = self._activity.get(resource.key)
        if activity is None or activity.auto_off_at is None:
            return  # became active (logged as cancelled) or was switched off
        if activity.auto_off_at > dt_util.utcnow():
            return  # re-armed for later
        timeout = idle_timeout(resource)
        minutes = round(timeout.total_seconds() / 60) if timeout else 0
        idle = Reason(ReasonKind.IDLE)
        self.power.fire(
            resource,
            PowerEvent(
                action=PowerAction.AUTO_STOP,
                result=Result.DECIDED,
                step=Step.DECISION,
                reason=idle,
                idle_minutes=minutes,
            ),
        )
        try:
            # Its servers were asked above: the stop need not ask again.
            await self.power.async_stop(resource, reason=idle, wait=False, asked=True)
        except HomeAssistantError as err:
            retry = RETRY_AFTER_FAILURE.total_seconds() / 60
            _LOGGER.warning(
                "Auto-shutdown of %s failed: %s; trying again in %d minutes if it "
                "is still idle",
                resource.name,
                err,
                retry,
            )
            self._not_before[resource.key] = dt_util.utcnow() + RETRY_AFTER_FAILURE
            self.async_evaluate(resource)


@callback
def async_get_idle_monitor(hass: HomeAssistant) -> IdleMonitor:
    if (monitor := hass.data.get(DATA_IDLE)) is None:
        monitor = hass.data[DATA_IDLE] = IdleMonitor(
            hass, async_get_power_manager(hass)
        )
    return monitor
