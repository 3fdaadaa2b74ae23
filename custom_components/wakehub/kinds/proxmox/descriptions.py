"""The entities of Proxmox nodes and guests, over their typed state."""

from __future__ import annotations

from typing import Any

from homeassistant.components.sensor import SensorDeviceClass
from homeassistant.const import EntityCategory

from ...descriptions import (
    CPU,
    DISK,
    FORCE_STOP,
    MEMORY,
    NETWORK_IN,
    NETWORK_OUT,
    REBOOT,
    RESET,
    STATUS,
    UPTIME,
    ResourceDescriptions,
    WakeHubSensorEntityDescription,
    disabled,
    status_sensor,
)
from .state import GuestState

NODE = ResourceDescriptions(
    sensors=(STATUS, CPU, disabled(MEMORY), UPTIME),
    buttons=(REBOOT,),
)

# Read on a slow path, only while enabled (coordinator.py).
LAST_BACKUP = WakeHubSensorEntityDescription[GuestState](
    key="last_backup",
    translation_key="last_backup",
    device_class=SensorDeviceClass.TIMESTAMP,
    entity_category=EntityCategory.DIAGNOSTIC,
    entity_registry_enabled_default=False,
    value_fn=lambda state: state.last_backup,
    none_is_unknown=True,
)


def _guest_attributes(state: GuestState) -> dict[str, Any]:
    return {
        "vmid": state.vmid,
        "type": state.guest_type,
        "node": state.node,
        "lock": state.lock,
    }


GUEST = ResourceDescriptions(
    sensors=(
        status_sensor(_guest_attributes),
        CPU,
        disabled(MEMORY),
        disabled(DISK),
        disabled(NETWORK_IN),
        disabled(NETWORK_OUT),
        UPTIME,
        LAST_BACKUP,
    ),
    buttons=(REBOOT, FORCE_STOP, RESET),
)
