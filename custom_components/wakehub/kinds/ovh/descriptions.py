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
    CPU,
    MEMORY,
    NETWORK_IN,
    NETWORK_OUT,
    REBOOT,
    ResourceDescriptions,
    WakeHubButtonEntityDescription,
    WakeHubSensorEntityDescription,
    act,
    disabled,
    status_sensor,
)
from ...features import ResourceFeature
from .state import OvhVpsState, aware, expiration, restore_points, task_text

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


def _has_backup(state: OvhVpsState) -> bool:
    return state.has_backup


def _reports_usage(state: OvhVpsState) -> bool:
    return state.reports_usage


def _usage[D: WakeHubSensorEntityDescription[Any]](description: D) -> D:
    """A `/use` figure: only where OVH still serves it, and disabled by default
    (OVH deprecated the call)."""
    return disabled(replace(description, exists_fn=_reports_usage))


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
BACKUP = WakeHubSensorEntityDescription[OvhVpsState](
    key="backup",
    translation_key="backup",
    entity_category=EntityCategory.DIAGNOSTIC,
    entity_registry_enabled_default=False,
    value_fn=_details(
        lambda d: d.automated_backup.state if d.automated_backup else None
    ),
    attr_fn=lambda state: (
        {"schedule": state.details.automated_backup.schedule}
        if state.details and state.details.automated_backup
        else None
    ),
    exists_fn=_has_backup,
)
LAST_RESTORE_POINT = WakeHubSensorEntityDescription[OvhVpsState](
    key="last_restore_point",
    translation_key="last_restore_point",
    device_class=SensorDeviceClass.TIMESTAMP,
    entity_category=EntityCategory.DIAGNOSTIC,
    entity_registry_enabled_default=False,
    value_fn=lambda state: (
        points[-1] if (points := restore_points(state.details)) else None
    ),
    attr_fn=lambda state: (
        {"restore_points": len(restore_points(state.details))}
        if state.has_backup
        else None
    ),
    exists_fn=_has_backup,
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
    await act(resource, lambda: rescue.async_rescue(True))


async def _rescue_off(power: PowerManager, resource: Resource) -> None:
    rescue = capability(resource, Rescue, "rescue")
    await act(resource, lambda: rescue.async_rescue(False))


async def _create_snapshot(power: PowerManager, resource: Resource) -> None:
    snapshots = capability(resource, Snapshots, "create_snapshot")
    await act(resource, lambda: snapshots.async_create_snapshot(None, None, False))


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

# Where to reach it and until when it is paid for; the rest on demand.
VPS = ResourceDescriptions(
    sensors=(
        status_sensor(_status_attributes),
        _usage(CPU),
        _usage(MEMORY),
        _usage(NETWORK_IN),
        _usage(NETWORK_OUT),
        CURRENT_TASK,
        EXPIRATION,
        SNAPSHOT,
        BACKUP,
        LAST_RESTORE_POINT,
        disabled(_addresses("ipv4")),
        disabled(_addresses("ipv6")),
        DATACENTER,
        MODEL,
    ),
    buttons=(REBOOT, RESCUE_ON, RESCUE_OFF, CREATE_SNAPSHOT),
)
