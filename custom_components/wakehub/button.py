"""Buttons: what each kind declares (descriptions.py): reboot, and (disabled by
default) force stop and reset; OVH's rescue and snapshot."""

from __future__ import annotations

from typing import Any

from homeassistant.components.button import ButtonEntity
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .descriptions import WakeHubButtonEntityDescription
from .entity import WakeHubEntity, async_add_resource_entities
from .power import async_get_power_manager
from .runtime import WakeHubConfigEntry

PARALLEL_UPDATES = 0


async def async_setup_entry(
    hass: HomeAssistant,
    entry: WakeHubConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    power = async_get_power_manager(hass)
    async_add_resource_entities(
        entry,
        async_add_entities,
        lambda resource: [
            WakeHubButton(resource, power, description)
            for description in resource.descriptions.buttons
            if description.feature in resource.features
        ],
    )


class WakeHubButton(WakeHubEntity, ButtonEntity):
    entity_description: WakeHubButtonEntityDescription[Any]

    @property
    def available(self) -> bool:
        return super().available and self.entity_description.available_fn(
            self.state_data
        )

    async def async_press(self) -> None:
        await self.entity_description.press_fn(self.power, self.resource)
