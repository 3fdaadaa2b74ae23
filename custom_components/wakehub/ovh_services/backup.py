"""The automated backup's actions: list, restore, reschedule, detach."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any, Final

from homeassistant.core import ServiceCall, SupportsResponse
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import config_validation as cv

from ..api.ovh.backup import RESTORE_TYPES, AttachedBackup, BackupOption, RestorePoint
from ..const import DOMAIN
from ..kinds.ovh.state import aware
from ..kinds.ovh.vps import OvhVpsResource
from ..schema import vol
from .action import OvhAction, failed, follow, refused

ATTR_RESTORE_POINT: Final = "restore_point"
ATTR_TYPE: Final = "type"
ATTR_CONFIRM: Final = "confirm"
ATTR_TIME: Final = "time"


def _point(point: RestorePoint) -> dict[str, Any]:
    return {
        "restore_point": point.value,
        "time": point.time.isoformat(),
        "state": point.state,
    }


def _attached(backup: AttachedBackup) -> dict[str, Any]:
    return {
        "restore_point": backup.restore_point,
        "nfs": backup.nfs,
        "smb": backup.smb,
        "additional_disk": backup.additional_disk,
    }


async def _enabled_option(vps: OvhVpsResource) -> BackupOption:
    option = await vps.client.backup_option(vps.key)
    if option is None or not option.enabled:
        raise failed("ovh_no_automated_backup", vps.name)
    return option


async def list_restore_points(vps: OvhVpsResource, call: ServiceCall) -> dict[str, Any]:
    option = await _enabled_option(vps)
    points, attached = await asyncio.gather(
        vps.client.all_restore_points(vps.key), vps.client.attached_backups(vps.key)
    )
    return {
        "schedule": option.schedule.isoformat() if option.schedule else None,
        "restore_points": [_point(p) for p in reversed(points)],
        "attached": [_attached(a) for a in attached],
    }


async def restore_backup(vps: OvhVpsResource, call: ServiceCall) -> dict[str, Any]:
    await _enabled_option(vps)
    restore_type: str = call.data[ATTR_TYPE]
    available = await vps.client.restore_points(vps.key, "available")
    point = _chosen_point(vps, available, call.data.get(ATTR_RESTORE_POINT))
    task = await follow(
        vps, lambda: vps.client.restore_backup(vps.key, point.value, restore_type)
    )
    result: dict[str, Any] = {
        "task_id": task.id,
        "restore_point": point.value,
        "type": restore_type,
    }
    if restore_type == "file":
        attached = await vps.client.attached_backups(vps.key)
        result["attached"] = [
            _attached(a) for a in attached if a.restore_point == point.value
        ]
    return result


def _chosen_point(
    vps: OvhVpsResource, available: list[RestorePoint], wanted: dt.datetime | None
) -> RestorePoint:
    """The available point at `wanted` (the latest when not given)."""
    if not available:
        raise refused("ovh_no_restore_point", vps.name)
    if wanted is None:
        return available[-1]
    moment = aware(wanted)
    for point in available:
        if point.time == moment:
            return point
    raise refused(
        "ovh_unknown_restore_point",
        vps.name,
        restore_point=wanted.isoformat(),
        restore_points=", ".join(p.value for p in reversed(available)),
    )


async def reschedule_backup(vps: OvhVpsResource, call: ServiceCall) -> dict[str, Any]:
    await _enabled_option(vps)
    schedule: dt.time = call.data[ATTR_TIME]
    task = await follow(vps, lambda: vps.client.reschedule_backup(vps.key, schedule))
    return {"task_id": task.id, "schedule": schedule.replace(microsecond=0).isoformat()}


async def detach_backup(vps: OvhVpsResource, call: ServiceCall) -> dict[str, Any]:
    await _enabled_option(vps)
    attached = await vps.client.attached_backups(vps.key)
    wanted: dt.datetime | None = call.data.get(ATTR_RESTORE_POINT)
    if wanted is not None:
        moment = aware(wanted)
        attached = [a for a in attached if a.time == moment]
    if len(attached) != 1:
        raise refused(
            "ovh_no_attached_backup" if not attached else "ovh_which_attached_backup",
            vps.name,
        )
    point = attached[0].restore_point
    task = await follow(vps, lambda: vps.client.detach_backup(vps.key, point))
    return {"task_id": task.id, "restore_point": point}


def _confirmed_full_restore(call: ServiceCall) -> None:
    # A full restore replaces the whole VPS: never on a default.
    if call.data[ATTR_TYPE] == "full" and call.data.get(ATTR_CONFIRM) is not True:
        raise ServiceValidationError(
            translation_domain=DOMAIN, translation_key="ovh_restore_not_confirmed"
        )


_POINT: Final = {vol.Optional(ATTR_RESTORE_POINT): cv.datetime}
BACKUP_ACTIONS: Final = (
    OvhAction(
        name="list_restore_points",
        act=list_restore_points,
        response=SupportsResponse.ONLY,
    ),
    OvhAction(
        name="restore_backup",
        act=restore_backup,
        fields={
            **_POINT,
            vol.Required(ATTR_TYPE): vol.In(RESTORE_TYPES),
            vol.Optional(ATTR_CONFIRM, default=False): cv.boolean,
        },
        check=_confirmed_full_restore,
    ),
    OvhAction(
        name="reschedule_backup",
        act=reschedule_backup,
        fields={vol.Required(ATTR_TIME): cv.time},
    ),
    OvhAction(name="detach_backup", act=detach_backup, fields=_POINT),
)
