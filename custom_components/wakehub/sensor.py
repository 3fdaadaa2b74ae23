"""Sensors: status and the figures each kind declares (descriptions.py), and
WakeHub's own progress and auto-shutdown time."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from homeassistant.components.sensor import (
    SensorDeviceClass,
    SensorEntity,
    SensorEntityDescription,
)
from homeassistant.const import Platform
from homeassistant.core import HomeAssistant
from homeassistant.helpers.dispatcher import async_dispatcher_connect
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.helpers.typing import StateType

from .asleep import never_seen_asleep
from .descriptions import WakeHubSensorEntityDescription, exists
from .entity import (
    WakeHubEntity,
    WakeHubIdleEntity,
    async_add_idle_entities,
    async_add_resource_entities,
)
from .features import ResourceFeature
from .idle import async_get_idle_monitor
from .power import SIGNAL_TRANSITION, async_get_power_manager
from .progress import async_load_texts, progress, render
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
            *(
                WakeHubSensor(resource, power, description)
                for description in resource.descriptions.sensors
                if exists(description, resource.state)
            ),
            *(
                [WakeHubProgressSensor(resource, power, PROGRESS)]
                if ResourceFeature.POWER in resource.features
                else []
            ),
        ],
    )
    async_add_idle_entities(
        hass,
        entry,
        async_add_entities,
        platform=Platform.SENSOR,
        description=AUTO_OFF_AT,
        make=lambda resource: WakeHubAutoOffSensor(resource, power, AUTO_OFF_AT),
    )


class WakeHubSensor(WakeHubEntity, SensorEntity):
    entity_description: WakeHubSensorEntityDescription[Any]

    @property
    def available(self) -> bool:
        # A figure the platform does not report right now (the machine is off, a
        # Windows host has no /proc) is unavailable, not a misleading zero.
        if self.entity_description.key == "status" and (
            self.power.transition(self.resource.key) or never_seen_asleep(self.resource)
        ):
            # "starting, waiting for pve1" while its server sleeps; "stopped"
            # while it sleeps, even when it never answered since setup.
            return True
        if not super().available:
            return False
        if self.entity_description.none_is_unknown:
            return True
        return self.entity_description.value_fn(self.state_data) is not None

    @property
    def extra_state_attributes(self) -> dict[str, Any] | None:
        if not self.available:
            return None
        # (A resource never polled has none of its kind's attributes.)
        state = self.shown_state if self.resource.state is not None else None
        attributes = self.entity_description.attr_fn(state) if state else None
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


class WakeHubAutoOffSensor(WakeHubIdleEntity, SensorEntity):
    """When idle auto-shutdown will happen; unknown while active."""

    @property
    def available(self) -> bool:
        return True

    @property
    def native_value(self) -> datetime | None:
        activity = async_get_idle_monitor(self.hass).activity(self.resource)
        return activity.auto_off_at if activity else None


# What a start waits for in the layers under it ("Waiting for pve1: Wake-on-LAN
# sent ..."), for a dashboard. Disabled by default: the device page tells the
# same story in WakeHub's logbook lines, and a sensor whose words change at each
# step of every layer would fill the logbook with its flips.
PROGRESS = SensorEntityDescription(
    key="progress", translation_key="progress", entity_registry_enabled_default=False
)


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
                self.hass, SIGNAL_TRANSITION, self.async_write_if_changed
            )
        )
