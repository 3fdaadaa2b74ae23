"""The power switch: the main entity of every resource's device."""

from __future__ import annotations

from typing import Any

from homeassistant.components.switch import SwitchEntity, SwitchEntityDescription
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .entity import WakeHubEntity, async_add_resource_entities
from .power import async_get_power_manager
from .resource import ResourceFeature
from .runtime import WakeHubConfigEntry

# The power manager serialises changes per resource and joins concurrent ones;
# different resources may change in parallel.
PARALLEL_UPDATES = 0

POWER = SwitchEntityDescription(key="power", translation_key="power", name=None)


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
            [WakeHubPowerSwitch(resource, power, POWER)]
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
    def is_on(self) -> bool:
        return self.state_data.is_running

    async def async_turn_on(self, **kwargs: Any) -> None:
        await self.power.async_start(self.resource)

    async def async_turn_off(self, **kwargs: Any) -> None:
        await self.power.async_stop(self.resource)
