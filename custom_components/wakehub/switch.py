"""The power switch: the main entity of every resource's device."""

from __future__ import annotations

from typing import Any

from homeassistant.components.switch import SwitchEntity, SwitchEntityDescription
from homeassistant.const import EntityCategory
from homeassistant.core import HomeAssistant
from homeassistant.helpers.dispatcher import async_dispatcher_send
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .asleep import never_seen_asleep
from .entity import SIGNAL_AUTO_SHUTDOWN, WakeHubEntity, async_add_resource_entities
from .features import ResourceFeature
from .idle import async_get_idle_monitor
from .power import async_get_power_manager
from .runtime import WakeHubConfigEntry

# The power manager serialises changes per resource and joins concurrent ones;
# different resources may change in parallel.
PARALLEL_UPDATES = 0

POWER = SwitchEntityDescription(key="power", translation_key="power", name=None)
AUTO_SHUTDOWN = SwitchEntityDescription(
    key="auto_shutdown",
    translation_key="auto_shutdown",
    entity_category=EntityCategory.CONFIG,
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: WakeHubConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    power = async_get_power_manager(hass)
    async_add_resource_entities(
        entry,
        async_add_entities,
        lambda resource: (
            [
                WakeHubPowerSwitch(resource, power, POWER),
                WakeHubAutoShutdownSwitch(resource, power, AUTO_SHUTDOWN),
            ]
            if ResourceFeature.POWER in resource.features
            else []
        ),
    )


class WakeHubPowerSwitch(WakeHubEntity, SwitchEntity):
    """On = start (and wait until it runs); off = graceful shutdown.

    The state is the platform's real state: it turns on when the resource answers,
    not when the command was sent. The `status` sensor shows starting/stopping.
    """

    @property
    def available(self) -> bool:
        # A resource whose server sleeps with its host is stopped and can be
        # turned on (the cascade wakes the host first), even when the server
        # never answered since setup (asleep.py). A server silent while its host
        # runs (crashed, its certificate changed) leaves it unavailable: its
        # last state is no longer known, and a cascade could not reach it.
        return super().available or never_seen_asleep(self.resource)

    @property
    def is_on(self) -> bool:
        state = self.shown_state
        return state is not None and state.is_running

    async def async_turn_on(self, **kwargs: Any) -> None:
        await self.power.async_start(self.resource, cascade=True)

    async def async_turn_off(self, **kwargs: Any) -> None:
        await self.power.async_stop(self.resource)


class WakeHubAutoShutdownSwitch(WakeHubEntity, SwitchEntity):
    """Whether the resource is stopped automatically once idle for its timeout.

    Off by default: nothing a user already runs is shut down until they ask.
    """

    @property
    def available(self) -> bool:
        # A setting, not a reading: it can be changed while the server is away.
        return True

    @property
    def is_on(self) -> bool:
        return async_get_idle_monitor(self.hass).enabled(self.resource)

    async def async_turn_on(self, **kwargs: Any) -> None:
        self._set(True)

    async def async_turn_off(self, **kwargs: Any) -> None:
        self._set(False)

    def _set(self, on: bool) -> None:
        monitor = async_get_idle_monitor(self.hass)
        changed = monitor.enabled(self.resource) != on
        monitor.async_set_enabled(self.resource, on)
        self.async_write_ha_state()
        if changed:
            # Its idle entities appear, or go.
            async_dispatcher_send(
                self.hass, SIGNAL_AUTO_SHUTDOWN, self.resource.key, on
            )
