"""The power orchestrator: every start, stop and reboot goes through here.

It owns what no single platform can: one lock per resource (so two automations and
a tap result in one start), the transitional status shown while a change is under
way, following the real state until the platform confirms it (or the timeout
passes), and the `wakehub_power` events that explain each step in the logbook.
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
from .const import DOMAIN, EVENT_POWER, PROBE_INTERVAL
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


class PowerManager:
    """Registry of every WakeHub resource across entries, and their power changes."""

    def __init__(self, hass: HomeAssistant) -> None:
        self.hass = hass
        self.resources: dict[str, Resource] = {}
        self._transitions: dict[str, Transition] = {}
        self._running: dict[tuple[str, str], asyncio.Task[None]] = {}

    # -- registry -------------------------------------------------------------
    @callback
    def async_register(self, resource: Resource) -> Callable[[], None]:
        self.resources[resource.key] = resource

        @callback
        def unregister() -> None:
            if self.resources.get(resource.key) is resource:
                del self.resources[resource.key]

        return unregister

    def transition(self, key: str) -> Transition | None:
        return self._transitions.get(key)

    # -- actions --------------------------------------------------------------
    async def async_start(self, resource: Resource) -> None:
        """Start `resource` and return once it is really running."""
        await self._once(resource, "start", self._start)

    async def async_stop(self, resource: Resource) -> None:
        """Gracefully stop `resource` and return once it is really stopped."""
        await self._once(resource, "stop", self._stop)

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

    async def _start(self, resource: Resource) -> None:
        if _is(resource.state, ResourceStatus.RUNNING):
            self._fire(resource, "start", "done", "already_running")
            return
        async with self._transitioning(resource, ResourceStatus.STARTING, "start"):
            await self._call(resource, "start", resource.async_start)
            await self._follow(
                resource, "start", ResourceStatus.RUNNING, resource.timeout
            )

    async def _stop(self, resource: Resource) -> None:
        if _is(resource.state, ResourceStatus.STOPPED):
            self._fire(resource, "stop", "done", "already_stopped")
            return
        async with self._transitioning(resource, ResourceStatus.STOPPING, "stop"):
            await self._call(resource, "stop", resource.async_stop)
            await self._follow(
                resource, "stop", ResourceStatus.STOPPED, resource.timeout
            )

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
        self, resource: Resource, action: str, command: Callable[[], Awaitable[None]]
    ) -> None:
        """Send the platform command; a client error becomes a translated error."""
        self._fire(resource, action, "requested", None)
        try:
            await command()
        except WakeHubError as err:
            self._fire(resource, action, "failed", str(err))
            raise translate_error(err, resource.name) from err
        except HomeAssistantError as err:
            # Already translated by the kind (e.g. an expired OVH service).
            self._fire(resource, action, "failed", str(err))
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
                await self._wait_until(resource, lambda s: s.status is target)
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

    @callback
    def _fire(
        self, resource: Resource, action: str, result: str, reason: str | None
    ) -> None:
        data: dict[str, Any] = {
            "resource": resource.key,
            "name": resource.name,
            "action": action,
            "result": result,
            "reason": reason,
        }
        _LOGGER.debug("%s %s: %s (%s)", resource.name, action, result, reason)
        self.hass.bus.async_fire(EVENT_POWER, data)


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
    return state is not None and state.status is status


@callback
def async_get_power_manager(hass: HomeAssistant) -> PowerManager:
    """The one power manager of this Home Assistant instance."""
    if (manager := hass.data.get(DATA_POWER)) is None:
        manager = hass.data[DATA_POWER] = PowerManager(hass)
    return manager
