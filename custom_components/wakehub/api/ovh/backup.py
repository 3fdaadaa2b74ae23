"""Automated backup (Veeam) of a VPS: state and schedule, restore points, restore,
reschedule, the backup attached for file recovery, detaching it.

Restore points are dates OVH hands out and expects back verbatim: each keeps the
text OVH sent (`RestorePoint.value`) beside its parsed time, so a restore names
exactly the point listed.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
import datetime as dt
from typing import Final

from ..errors import NotFound
from ..fields import items, obj, opt_obj, opt_str
from .models import Task, parse_datetime
from .tasks import TaskFollower
from .transport import vps_path
from .values import aware

RESTORE_STATES: Final = ("available", "restoring", "restored")
RESTORE_TYPES: Final = ("file", "full")


@dataclass(frozen=True, slots=True)
class BackupOption:
    """`GET /vps/{sn}/automatedBackup`: "enabled" or "disabled", daily time."""

    state: str | None
    schedule: dt.time | None

    @property
    def enabled(self) -> bool:
        return self.state == "enabled"


@dataclass(frozen=True, slots=True)
class RestorePoint:
    """One restore point: OVH's own text, its time, and its state."""

    value: str
    time: dt.datetime
    state: str


@dataclass(frozen=True, slots=True)
class AttachedBackup:
    """A restore point mounted for file recovery, with where to reach it."""

    restore_point: str
    time: dt.datetime | None
    nfs: str | None
    smb: str | None
    additional_disk: str | None


def parse_schedule(value: object) -> dt.time | None:
    """OVH's `time` ("03:00:00"); None when absent or unreadable."""
    if not isinstance(value, str):
        return None
    try:
        return dt.time.fromisoformat(value)
    except ValueError:
        return None


def parse_attached(payload: object) -> AttachedBackup | None:
    data = opt_obj(payload)
    point = opt_str(data.get("restorePoint"))
    if not point:
        return None
    access = opt_obj(data.get("access"))
    return AttachedBackup(
        restore_point=point,
        time=aware(parse_datetime(point)),
        nfs=opt_str(access.get("nfs")),
        smb=opt_str(access.get("smb")),
        additional_disk=opt_str(access.get("additionalDisk")),
    )


class BackupManager(TaskFollower):
    """The automated backup option of a VPS."""

    async def backup_option(self, service: str) -> BackupOption | None:
        """The option's state and schedule; None when the VPS does not have it."""
        try:
            answer = await self._call("GET", vps_path(service, "automatedBackup"))
        except NotFound:
            return None
        data = obj(answer, f"the automated backup of {service}")
        return BackupOption(
            state=opt_str(data.get("state")),
            schedule=parse_schedule(data.get("schedule")),
        )

    async def restore_points(
        self, service: str, state: str = "available"
    ) -> list[RestorePoint]:
        """Restore points in one state, oldest first (one request)."""
        answer = await self._call(
            "GET",
            vps_path(service, "automatedBackup/restorePoints"),
            query={"state": state},
        )
        points = []
        for value in items(answer, f"the restore points of {service}"):
            when = aware(parse_datetime(value))
            if isinstance(value, str) and when is not None:
                points.append(RestorePoint(value=value, time=when, state=state))
        return sorted(points, key=lambda p: p.time)

    async def all_restore_points(self, service: str) -> list[RestorePoint]:
        """Every restore point with its state (one request per state)."""
        lists = await asyncio.gather(
            *(self.restore_points(service, state) for state in RESTORE_STATES)
        )
        return sorted((p for points in lists for p in points), key=lambda p: p.time)

    async def restore_backup(
        self,
        service: str,
        restore_point: str,
        restore_type: str,
        *,
        change_password: bool | None = None,
    ) -> Task:
        """Restore a point: `file` mounts it for file recovery, `full` replaces
        the whole VPS (every change since is lost)."""
        if restore_type not in RESTORE_TYPES:
            raise ValueError(f"unknown restore type {restore_type!r}")
        body: dict[str, object] = {"restorePoint": restore_point, "type": restore_type}
        if change_password is not None:
            body["changePassword"] = change_password
        return await self._task_call(service, "POST", "automatedBackup/restore", body)

    async def reschedule_backup(self, service: str, schedule: dt.time) -> Task:
        """Move the daily backup to `schedule` (OVH's time of day)."""
        body = {"schedule": schedule.replace(microsecond=0).isoformat()}
        return await self._task_call(
            service, "POST", "automatedBackup/reschedule", body
        )

    async def attached_backups(self, service: str) -> list[AttachedBackup]:
        """Restore points currently mounted for file recovery."""
        answer = await self._call(
            "GET", vps_path(service, "automatedBackup/attachedBackup")
        )
        listed = items(answer, f"the attached backups of {service}")
        return [a for a in map(parse_attached, listed) if a is not None]

    async def detach_backup(self, service: str, restore_point: str) -> Task:
        """Unmount a restore point attached by a `file` restore."""
        return await self._task_call(
            service,
            "POST",
            "automatedBackup/detachBackup",
            {"restorePoint": restore_point},
        )
