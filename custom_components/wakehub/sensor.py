"""Sensors: status, and the figures each platform reports."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from homeassistant.components.sensor import (
    SensorDeviceClass,
    SensorEntity,
    SensorEntityDescription,
    SensorStateClass,
)
from homeassistant.const import PERCENTAGE, EntityCategory, UnitOfDataRate
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.helpers.typing import StateType

from .api.models import ResourceStatus
from .entity import WakeHubEntity, async_add_resource_entities
from .power import async_get_power_manager
from .resource import ResourceState
from .runtime import WakeHubConfigEntry

PARALLEL_UPDATES = 0

# Sensors for which "no value" is a fact (no snapshot taken yet), shown as
# unknown; every other figure without a value is unavailable.
_NONE_IS_UNKNOWN = frozenset({"status", "snapshot", "last_restore_point"})


@dataclass(frozen=True, kw_only=True)
class WakeHubSensorEntityDescription(SensorEntityDescription):
    value_fn: Callable[[ResourceState], StateType | datetime]


SENSORS: tuple[WakeHubSensorEntityDescription, ...] = (
    WakeHubSensorEntityDescription(
        key="status",
        translation_key="status",
        device_class=SensorDeviceClass.ENUM,
        options=[status.value for status in ResourceStatus],
        value_fn=lambda state: state.status.value,
    ),
    WakeHubSensorEntityDescription(
        key="cpu",
        translation_key="cpu",
        native_unit_of_measurement=PERCENTAGE,
        state_class=SensorStateClass.MEASUREMENT,
        suggested_display_precision=1,
        value_fn=lambda state: state.cpu,
    ),
    WakeHubSensorEntityDescription(
        key="memory",
        translation_key="memory",
        native_unit_of_measurement=PERCENTAGE,
        state_class=SensorStateClass.MEASUREMENT,
        suggested_display_precision=1,
        value_fn=lambda state: state.memory,
    ),
    WakeHubSensorEntityDescription(
        key="disk",
        translation_key="disk",
        native_unit_of_measurement=PERCENTAGE,
        state_class=SensorStateClass.MEASUREMENT,
        suggested_display_precision=1,
        value_fn=lambda state: state.disk,
    ),
    WakeHubSensorEntityDescription(
        key="network_in",
        translation_key="network_in",
        device_class=SensorDeviceClass.DATA_RATE,
        native_unit_of_measurement=UnitOfDataRate.BYTES_PER_SECOND,
        suggested_unit_of_measurement=UnitOfDataRate.KILOBYTES_PER_SECOND,
        state_class=SensorStateClass.MEASUREMENT,
        value_fn=lambda state: state.network_in,
    ),
    WakeHubSensorEntityDescription(
        key="network_out",
        translation_key="network_out",
        device_class=SensorDeviceClass.DATA_RATE,
        native_unit_of_measurement=UnitOfDataRate.BYTES_PER_SECOND,
        suggested_unit_of_measurement=UnitOfDataRate.KILOBYTES_PER_SECOND,
        state_class=SensorStateClass.MEASUREMENT,
        value_fn=lambda state: state.network_out,
    ),
    WakeHubSensorEntityDescription(
        key="uptime",
        translation_key="uptime",
        device_class=SensorDeviceClass.TIMESTAMP,
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=lambda state: state.boot_time,
    ),
    # Kind-specific figures, read from ResourceState.extra by key.
    WakeHubSensorEntityDescription(
        key="health",
        translation_key="health",
        device_class=SensorDeviceClass.ENUM,
        options=["healthy", "unhealthy", "starting", "none"],
        value_fn=lambda state: state.extra.get("health"),
    ),
    WakeHubSensorEntityDescription(
        key="current_task",
        translation_key="current_task",
        value_fn=lambda state: state.extra.get("current_task"),
    ),
    WakeHubSensorEntityDescription(
        key="expiration",
        translation_key="expiration",
        device_class=SensorDeviceClass.TIMESTAMP,
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=lambda state: state.extra.get("expiration"),
    ),
    WakeHubSensorEntityDescription(
        key="snapshot",
        translation_key="snapshot",
        device_class=SensorDeviceClass.TIMESTAMP,
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=lambda state: state.extra.get("snapshot"),
    ),
    WakeHubSensorEntityDescription(
        key="backup",
        translation_key="backup",
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=lambda state: state.extra.get("backup"),
    ),
    WakeHubSensorEntityDescription(
        key="last_restore_point",
        translation_key="last_restore_point",
        device_class=SensorDeviceClass.TIMESTAMP,
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=lambda state: state.extra.get("last_restore_point"),
    ),
    WakeHubSensorEntityDescription(
        key="ipv4",
        translation_key="ipv4",
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=lambda state: state.extra.get("ipv4"),
    ),
    WakeHubSensorEntityDescription(
        key="ipv6",
        translation_key="ipv6",
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=lambda state: state.extra.get("ipv6"),
    ),
    WakeHubSensorEntityDescription(
        key="datacenter",
        translation_key="datacenter",
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=lambda state: state.extra.get("datacenter"),
    ),
    WakeHubSensorEntityDescription(
        key="model",
        translation_key="model",
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=lambda state: state.extra.get("model"),
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
            WakeHubSensor(resource, power, description)
            for description in SENSORS
            if description.key in resource.sensors
        ],
    )


class WakeHubSensor(WakeHubEntity, SensorEntity):
    entity_description: WakeHubSensorEntityDescription

    @property
    def available(self) -> bool:
        # A figure the platform does not report right now (the machine is off, a
        # Windows host has no /proc) is unavailable, not a misleading zero.
        if not super().available:
            return False
        if self.entity_description.key in _NONE_IS_UNKNOWN:
            return True
        return self.entity_description.value_fn(self.state_data) is not None

    @property
    def extra_state_attributes(self) -> dict[str, Any] | None:
        if not self.available:
            return None
        return self.state_data.attributes.get(self.entity_description.key)

    @property
    def native_value(self) -> StateType | datetime:
        if self.entity_description.key == "status" and (
            transition := self.power.transition(self.resource.key)
        ):
            return transition.status.value
        return self.entity_description.value_fn(self.state_data)
