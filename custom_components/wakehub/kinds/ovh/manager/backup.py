"""The VPS's automated backup: how it is read, and its sensors."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

from homeassistant.components.sensor import SensorDeviceClass

from ....api.ovh import OvhClient
from ....descriptions import WakeHubSensorEntityDescription
from ..state import OvhVpsState
from .data import PART_BACKUP, Backup, VpsManagerData
from .values import attributes, exists, part_value


async def read_backup(client: OvhClient, service: str) -> Backup | None:
    """1 request, 3 when the option is enabled."""
    option = await client.backup_option(service)
    if option is None:
        return None
    if not option.enabled:
        return Backup(option=option)
    points, attached = await asyncio.gather(
        client.restore_points(service, "available"), client.attached_backups(service)
    )
    return Backup(option=option, restore_points=tuple(points), attached=tuple(attached))


def _latest_restore_point(data: VpsManagerData) -> dt.datetime | None:
    points = data.backup.restore_points if data.backup else ()
    return points[-1].time if points else None


def _has_backup(data: VpsManagerData) -> bool:
    return data.backup is not None


def _backup_attributes(data: VpsManagerData) -> dict[str, Any]:
    backup = data.backup
    schedule = backup.option.schedule if backup else None
    return {
        "schedule": schedule.isoformat() if schedule else None,
        "attached": [a.restore_point for a in backup.attached] if backup else [],
    }


BACKUP_SENSORS = (
    WakeHubSensorEntityDescription[OvhVpsState](
        key="backup",
        translation_key="backup",
        device_class=SensorDeviceClass.ENUM,
        options=["enabled", "disabled"],
        value_fn=part_value(
            PART_BACKUP, lambda d: d.backup.option.state if d.backup else None
        ),
        attr_fn=attributes(_backup_attributes),
        exists_fn=exists(_has_backup),
    ),
    WakeHubSensorEntityDescription[OvhVpsState](
        key="last_restore_point",
        translation_key="last_restore_point",
        device_class=SensorDeviceClass.TIMESTAMP,
        value_fn=part_value(PART_BACKUP, _latest_restore_point),
        attr_fn=attributes(
            lambda d: {
                "restore_points": len(d.backup.restore_points) if d.backup else 0
            }
        ),
        exists_fn=exists(_has_backup),
    ),
)
