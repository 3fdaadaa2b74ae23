"""Binary sensors: what each kind declares (descriptions.py), and `active`,
what the idle detector currently sees for a resource (only where auto-shutdown
is on)."""

from __future__ import annotations

from typing import Any

from homeassistant.components.binary_sensor import (
    BinarySensorEntity,
    BinarySensorEntityDescription,
)
from homeassistant.const import EntityCategory, Platform
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .activity import Activity
from .descriptions import WakeHubBinarySensorEntityDescription, exists
from .entity import (
    WakeHubEntity,
    WakeHubIdleEntity,
    async_add_idle_entities,
    async_add_resource_entities,
)
from .idle import async_get_idle_monitor
from .power import async_get_power_manager
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
        lambda resource: [
            WakeHubBinarySensor(resource, power, description)
            for description in resource.descriptions.binary_sensors
            if exists(description, resource.state)
        ],
    )
    async_add_idle_entities(
        hass,
        entry,
        async_add_entities,
        platform=Platform.BINARY_SENSOR,
        description=ACTIVE,
        make=lambda resource: WakeHubActiveSensor(resource, power, ACTIVE),
    )


class WakeHubBinarySensor(WakeHubEntity, BinarySensorEntity):
    entity_description: WakeHubBinarySensorEntityDescription[Any]

    @property
    def available(self) -> bool:
        # Not known (a failed read, no figures): unavailable, not a guessed "off".
        return (
            super().available
            and self.entity_description.is_on_fn(self.state_data) is not None
        )

    @property
    def is_on(self) -> bool | None:
        return self.entity_description.is_on_fn(self.state_data)

    @property
    def extra_state_attributes(self) -> dict[str, Any] | None:
        if not self.available:
            return None
        return self.entity_description.attr_fn(self.state_data)


class WakeHubActiveSensor(WakeHubIdleEntity, BinarySensorEntity):
    """On while the resource is in use (keep-awake entity, dependent, load)."""

    @property
    def _activity(self) -> Activity | None:
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
