"""`active`: what the idle detector currently sees for a resource."""

from __future__ import annotations

from typing import Any

from homeassistant.components.binary_sensor import (
    BinarySensorEntity,
    BinarySensorEntityDescription,
)
from homeassistant.const import EntityCategory
from homeassistant.core import HomeAssistant
from homeassistant.helpers.dispatcher import async_dispatcher_connect
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .entity import WakeHubEntity, async_add_resource_entities
from .idle import SIGNAL_IDLE, async_get_idle_monitor
from .power import async_get_power_manager
from .resource import ResourceFeature
from .runtime import WakeHubConfigEntry

PARALLEL_UPDATES = 0

ACTIVE = BinarySensorEntityDescription(
    key="active", translation_key="active", entity_category=EntityCategory.DIAGNOSTIC
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
            [WakeHubActiveSensor(resource, power, ACTIVE)]
            if ResourceFeature.POWER in resource.features
            else []
        ),
    )


class WakeHubActiveSensor(WakeHubEntity, BinarySensorEntity):
    """On while the resource is in use (keep-awake entity, dependent, load)."""

    @property
    def _activity(self) -> Any:
        return async_get_idle_monitor(self.hass).activity(self.resource)

    @property
    def is_on(self) -> bool | None:
        activity = self._activity
        return activity.active if activity is not None else None

    @property
    def extra_state_attributes(self) -> dict[str, Any] | None:
        activity = self._activity
        if activity is None:
            return None
        return {
            "reasons": list(activity.reasons),
            "idle_since": activity.idle_since.isoformat()
            if activity.idle_since
            else None,
        }

    async def async_added_to_hass(self) -> None:
        await super().async_added_to_hass()
        self.async_on_remove(
            async_dispatcher_connect(
                self.hass,
                f"{SIGNAL_IDLE}_{self.resource.key}",
                self.async_write_ha_state,
            )
        )
