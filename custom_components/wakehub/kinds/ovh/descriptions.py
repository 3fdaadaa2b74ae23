"""The entities of an OVHcloud VPS, over its typed state."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

from homeassistant.components.sensor import SensorDeviceClass
from homeassistant.const import EntityCategory
from homeassistant.helpers.typing import StateType

from ...api.ovh import VpsDetails
from ...capabilities import Rescue, Snapshots, capability
from ...descriptions import (
    REBOOT,
    ResourceDescriptions,
    WakeHubButtonEntityDescription,
    WakeHubSensorEntityDescription,
    act,
    disabled,
    status_sensor,
)
from ...features import ResourceFeature
from .manager.backup import BACKUP_SENSORS
from .manager.low_disk import low_disk_sensor
from .manager.monitoring import MONITORING_SENSORS
from .manager.offers import OFFER_SENSORS
from .manager.storage import STORAGE_SENSORS, disk_sensors
from .state import OvhVpsState, aware, expiration, task_text

if TYPE_CHECKING:
    from ...power import PowerManager
    from ...resource import Resource


def _status_attributes(state: OvhVpsState) -> dict[str, Any]:
    info = state.vps.info
    return {"state": info.state, "netboot_mode": info.netboot_mode}


def _task_attributes(state: OvhVpsState) -> dict[str, Any] | None:
    vps = state.vps
    if not vps.running_task_ids:
        return None
    task = vps.current_task
    return {
        "task_id": task.id if task else vps.running_task_ids[0],
        "type": task.type if task else None,
        "progress": task.progress if task else None,
    }


def _model_attributes(state: OvhVpsState) -> dict[str, Any] | None:
    if (model := state.vps.info.model) is None:
        return None
    return {
        "offer": model.offer,
        "vcores": model.vcore,
        "memory_mb": model.memory,
        "disk_gb": model.disk,
    }


def _datacenter_attributes(state: OvhVpsState) -> dict[str, Any] | None:
    if state.details is None or (center := state.details.datacenter) is None:
        return None
    return {"code": center.name, "country": center.country, "zone": state.vps.info.zone}


def _expiration_attributes(state: OvhVpsState) -> dict[str, Any] | None:
    service = state.details.service_info if state.details else None
    if service is None or not service.expiration:
        return None
    return {
        "service_status": service.status,
        "automatic_renew": service.automatic_renew,
    }


def _snapshot_attributes(state: OvhVpsState) -> dict[str, Any] | None:
    if state.details is None or (snapshot := state.details.snapshot) is None:
        return None
    return {"description": snapshot.description, "snapshot_id": snapshot.id}


def _details(
    read: Callable[[VpsDetails], StateType | datetime],
) -> Callable[[OvhVpsState], StateType | datetime]:
    """A value of the slow cycle: None until it answered once."""
    return lambda state: read(state.details) if state.details else None


def _addresses(
    version: str,
) -> WakeHubSensorEntityDescription[OvhVpsState]:
    def first(details: VpsDetails) -> str | None:
        addresses = details.ipv4 if version == "ipv4" else details.ipv6
        return addresses[0] if addresses else None

    def every(state: OvhVpsState) -> dict[str, Any] | None:
        if state.details is None:
            return None
        details = state.details
        return {"addresses": list(details.ipv4 if version == "ipv4" else details.ipv6)}

    return WakeHubSensorEntityDescription[OvhVpsState](
        key=version,
        translation_key=version,
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=_details(first),
        attr_fn=every,
    )


#: The VPS manager's sensors every VPS may have (per-disk ones: `vps_descriptions`),
#: each created when its part exists for this VPS, and disabled by default: the
#: card keeps its few figures; enable these from the device page.
MANAGER_SENSORS = tuple(
    disabled(d)
    for d in (*BACKUP_SENSORS, *STORAGE_SENSORS, *MONITORING_SENSORS, *OFFER_SENSORS)
)


CURRENT_TASK = WakeHubSensorEntityDescription[OvhVpsState](
    key="current_task",
    translation_key="current_task",
    entity_registry_enabled_default=False,
    value_fn=lambda state: task_text(state.vps),
    attr_fn=_task_attributes,
)
EXPIRATION = WakeHubSensorEntityDescription[OvhVpsState](
    key="expiration",
    translation_key="expiration",
    device_class=SensorDeviceClass.TIMESTAMP,
    entity_category=EntityCategory.DIAGNOSTIC,
    value_fn=lambda state: expiration(state.details),
    attr_fn=_expiration_attributes,
)
SNAPSHOT = WakeHubSensorEntityDescription[OvhVpsState](
    key="snapshot",
    translation_key="snapshot",
    device_class=SensorDeviceClass.TIMESTAMP,
    entity_category=EntityCategory.DIAGNOSTIC,
    entity_registry_enabled_default=False,
    value_fn=_details(
        lambda d: aware(d.snapshot.creation_date) if d.snapshot else None
    ),
    attr_fn=_snapshot_attributes,
    none_is_unknown=True,
)
DATACENTER = WakeHubSensorEntityDescription[OvhVpsState](
    key="datacenter",
    translation_key="datacenter",
    entity_category=EntityCategory.DIAGNOSTIC,
    entity_registry_enabled_default=False,
    value_fn=_details(
        lambda d: (
            (d.datacenter.long_name or d.datacenter.name) if d.datacenter else None
        )
    ),
    attr_fn=_datacenter_attributes,
)
MODEL = WakeHubSensorEntityDescription[OvhVpsState](
    key="model",
    translation_key="model",
    entity_category=EntityCategory.DIAGNOSTIC,
    entity_registry_enabled_default=False,
    value_fn=lambda state: model.name if (model := state.vps.info.model) else None,
    attr_fn=_model_attributes,
)


async def _rescue_on(power: PowerManager, resource: Resource) -> None:
    rescue = capability(resource, Rescue, "rescue")
    await act(power, resource, lambda: rescue.async_rescue(True))


async def _rescue_off(power: PowerManager, resource: Resource) -> None:
    rescue = capability(resource, Rescue, "rescue")
    await act(power, resource, lambda: rescue.async_rescue(False))


async def _create_snapshot(power: PowerManager, resource: Resource) -> None:
    snapshots = capability(resource, Snapshots, "create_snapshot")
    await act(
        power, resource, lambda: snapshots.async_create_snapshot(None, None, False)
    )


def _in_rescue(state: OvhVpsState) -> bool:
    return state.vps.info.netboot_mode == "rescue"


# The frequent actions, on the device page (enabled there by whoever uses
# them); rebuild, restore and delete stay actions, with their confirmation.
RESCUE_ON = WakeHubButtonEntityDescription[OvhVpsState](
    key="rescue_on",
    translation_key="rescue_on",
    feature=ResourceFeature.RESCUE,
    entity_registry_enabled_default=False,
    press_fn=_rescue_on,
    available_fn=lambda state: state.is_running and not _in_rescue(state),
)
RESCUE_OFF = WakeHubButtonEntityDescription[OvhVpsState](
    key="rescue_off",
    translation_key="rescue_off",
    feature=ResourceFeature.RESCUE,
    entity_registry_enabled_default=False,
    press_fn=_rescue_off,
    available_fn=_in_rescue,
)
# OVHcloud keeps one snapshot per VPS.
CREATE_SNAPSHOT = WakeHubButtonEntityDescription[OvhVpsState](
    key="create_snapshot",
    translation_key="create_snapshot",
    feature=ResourceFeature.SNAPSHOTS,
    entity_registry_enabled_default=False,
    press_fn=_create_snapshot,
    available_fn=lambda state: state.details is None or state.details.snapshot is None,
)

# Until when it is paid for; the rest on demand.
VPS = ResourceDescriptions(
    sensors=(
        status_sensor(_status_attributes),
        CURRENT_TASK,
        EXPIRATION,
        SNAPSHOT,
        disabled(_addresses("ipv4")),
        disabled(_addresses("ipv6")),
        DATACENTER,
        MODEL,
        *MANAGER_SENSORS,
    ),
    buttons=(REBOOT, RESCUE_ON, RESCUE_OFF, CREATE_SNAPSHOT),
)


def vps_descriptions(state: OvhVpsState | None) -> ResourceDescriptions:
    """A VPS's entities, with used and total space and low space of each disk
    the VPS manager reported when it was set up."""
    disks = [disk.id for disk in state.manager.disks or ()] if state else []
    return replace(
        VPS,
        sensors=VPS.sensors
        + tuple(disabled(d) for i in disks for d in disk_sensors(i)),
        binary_sensors=tuple(low_disk_sensor(i) for i in disks),
    )
