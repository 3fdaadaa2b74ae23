"""Buttons: reboot, and (disabled by default) force stop and reset."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from homeassistant.components.button import ButtonEntity, ButtonEntityDescription
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .action_errors import translate_error
from .api.errors import WakeHubError
from .entity import WakeHubEntity, async_add_resource_entities
from .power import PowerManager, async_get_power_manager
from .resource import Resource, ResourceFeature
from .runtime import WakeHubConfigEntry

PARALLEL_UPDATES = 0


@dataclass(frozen=True, kw_only=True)
class WakeHubButtonEntityDescription(ButtonEntityDescription):
    feature: ResourceFeature
    press_fn: Callable[[PowerManager, Resource], Awaitable[None]]


async def _force_stop(power: PowerManager, resource: Resource) -> None:
    try:
        await resource.async_force_stop()
    except WakeHubError as err:
        raise translate_error(err, resource.name) from err
    await resource.coordinator.async_request_refresh()


async def _reset(power: PowerManager, resource: Resource) -> None:
    try:
        await resource.async_reset()
    except WakeHubError as err:
        raise translate_error(err, resource.name) from err
    await resource.coordinator.async_request_refresh()


BUTTONS: tuple[WakeHubButtonEntityDescription, ...] = (
    WakeHubButtonEntityDescription(
        key="reboot",
        translation_key="reboot",
        feature=ResourceFeature.REBOOT,
        press_fn=lambda power, resource: power.async_reboot(resource),
    ),
    WakeHubButtonEntityDescription(
        key="force_stop",
        translation_key="force_stop",
        feature=ResourceFeature.FORCE_STOP,
        entity_registry_enabled_default=False,
        press_fn=_force_stop,
    ),
    WakeHubButtonEntityDescription(
        key="reset",
        translation_key="reset",
        feature=ResourceFeature.RESET,
        entity_registry_enabled_default=False,
        press_fn=_reset,
    ),
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
        lambda resource: [
            WakeHubButton(resource, power, description)
            for description in BUTTONS
            if description.feature in resource.features
        ],
    )


class WakeHubButton(WakeHubEntity, ButtonEntity):
    entity_description: WakeHubButtonEntityDescription

    async def async_press(self) -> None:
        await self.entity_description.press_fn(self.power, self.resource)
