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
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.dispatcher import async_dispatcher_connect
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.helpers.typing import StateType

from .api.models import ResourceStatus
from .entity import WakeHubEntity, async_add_resource_entities
from .idle import SIGNAL_IDLE, async_get_idle_monitor
from .power import SIGNAL_TRANSITION, async_get_power_manager
from .progress import async_load_texts, progress, render
from .resource import ResourceFeature, ResourceState
from .runtime import WakeHubConfigEntry

PARALLEL_UPDATES = 0

# Sensors for which "no value" is a fact (no snapshot taken yet), shown as
# unknown; every other figure without a value is unavailable.
_NONE_IS_UNKNOWN = frozenset(
    {"status", "snapshot", "last_restore_point", "last_backup"}
)


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
    # Proxmox guests: read on a slow path, only while enabled (kinds/proxmox.py).
    WakeHubSensorEntityDescription(
        key="last_backup",
        translation_key="last_backup",
        device_class=SensorDeviceClass.TIMESTAMP,
        entity_category=EntityCategory.DIAGNOSTIC,
        entity_registry_enabled_default=False,
        value_fn=lambda state: state.extra.get("last_backup"),
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
            *(
                WakeHubSensor(resource, power, description)
                for description in SENSORS
                if description.key in resource.sensors
            ),
            *(
                [
                    WakeHubProgressSensor(resource, power, PROGRESS),
                    WakeHubAutoOffSensor(resource, power, AUTO_OFF_AT),
                ]
                if ResourceFeature.POWER in resource.features
                else []
            ),
        ],
    )


class WakeHubSensor(WakeHubEntity, SensorEntity):
    entity_description: WakeHubSensorEntityDescription

    @property
    def available(self) -> bool:
        # A figure the platform does not report right now (the machine is off, a
        # Windows host has no /proc) is unavailable, not a misleading zero.
        if self.entity_description.key == "status" and self.power.transition(
            self.resource.key
        ):
            return True  # "starting, waiting for pve1" while its server sleeps
        if not super().available:
            return False
        if self.entity_description.key in _NONE_IS_UNKNOWN:
            return True
        return self.entity_description.value_fn(self.state_data) is not None

    @property
    def extra_state_attributes(self) -> dict[str, Any] | None:
        if not self.available:
            return None
        state = self.resource.state
        attributes = (
            state.attributes.get(self.entity_description.key) if state else None
        )
        if self.entity_description.key == "status" and (
            transition := self.power.transition(self.resource.key)
        ):
            # While a cascade runs, say what it waits for ("pve1", "Proxmox").
            attributes = {
                **(attributes or {}),
                "waiting_for": list(transition.waiting_for),
            }
        return attributes

    @property
    def native_value(self) -> StateType | datetime:
        if self.entity_description.key == "status" and (
            transition := self.power.transition(self.resource.key)
        ):
            return transition.shown_status.value
        return self.entity_description.value_fn(self.state_data)


AUTO_OFF_AT = SensorEntityDescription(
    key="auto_off_at",
    translation_key="auto_off_at",
    device_class=SensorDeviceClass.TIMESTAMP,
)


class WakeHubAutoOffSensor(WakeHubEntity, SensorEntity):
    """When idle auto-shutdown will happen; unknown while active or disabled."""

    @property
    def available(self) -> bool:
        return True

    @property
    def native_value(self) -> datetime | None:
        activity = async_get_idle_monitor(self.hass).activity(self.resource)
        return activity.auto_off_at if activity else None

    async def async_added_to_hass(self) -> None:
        await super().async_added_to_hass()
        self.async_on_remove(
            async_dispatcher_connect(
                self.hass,
                f"{SIGNAL_IDLE}_{self.resource.key}",
                self.async_write_ha_state,
            )
        )


PROGRESS = SensorEntityDescription(key="progress", translation_key="progress")


class WakeHubProgressSensor(WakeHubEntity, SensorEntity):
    """What a start or stop under way waits for, in words (progress.py)."""

    @property
    def available(self) -> bool:
        # Most useful while the server under it sleeps: always shown.
        return True

    @property
    def native_value(self) -> str:
        return render(self.hass, progress(self.power, self.resource))

    @property
    def extra_state_attributes(self) -> dict[str, Any] | None:
        if (transition := self.power.transition(self.resource.key)) is None:
            return None
        return {
            "phase": transition.phase.value,
            "waiting_for": list(transition.waiting_for),
            "since": transition.since.isoformat(),
        }

    async def async_added_to_hass(self) -> None:
        await async_load_texts(self.hass)
        await super().async_added_to_hass()
        # The text names the layers underneath: any transition may change it.
        self.async_on_remove(
            async_dispatcher_connect(
                self.hass, SIGNAL_TRANSITION, self._transition_changed
            )
        )

    @callback
    def _transition_changed(self) -> None:
        shown = self.hass.states.get(self.entity_id)
        if shown is None or shown.state != self.native_value:
            self.async_write_ha_state()
