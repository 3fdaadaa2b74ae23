"""Sensors: status, and the figures each platform reports."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

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

from . import WakeHubConfigEntry
from .api.models import ResourceStatus
from .entity import WakeHubEntity
from .power import async_get_power_manager
from .resource import ResourceState

PARALLEL_UPDATES = 0


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
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: WakeHubConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    power = async_get_power_manager(hass)
    async_add_entities(
        WakeHubSensor(resource, power, description)
        for resource in entry.runtime_data.resources
        for description in SENSORS
        if description.key in resource.sensors
    )


class WakeHubSensor(WakeHubEntity, SensorEntity):
    entity_description: WakeHubSensorEntityDescription

    @property
    def available(self) -> bool:
        # A figure the platform does not report right now (the machine is off, a
        # Windows host has no /proc) is unavailable, not a misleading zero.
        if not super().available:
            return False
        if self.entity_description.key == "status":
            return True
        return self.entity_description.value_fn(self.state_data) is not None

    @property
    def native_value(self) -> StateType | datetime:
        if self.entity_description.key == "status" and (
            transition := self.power.transition(self.resource.key)
        ):
            return transition.status.value
        return self.entity_description.value_fn(self.state_data)
