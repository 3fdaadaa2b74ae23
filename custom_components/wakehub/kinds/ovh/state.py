"""What one poll says of an OVHcloud VPS: its typed state, and the figures
the sensors show, read from it."""

from __future__ import annotations

from dataclasses import dataclass, field
import datetime as dt
from typing import Final

from ...api.ovh import VpsDetails, VpsState
from ...state import ResourceState
from .const import DEFAULT_LOW_DISK_THRESHOLD
from .manager.data import VpsManagerData

# OVH task types as users read them in the current_task sensor.
TASK_NAMES: Final[dict[str, str]] = {
    "startVm": "start",
    "stopVm": "stop",
    "rebootVm": "reboot",
    "reinstallVm": "rebuild",
    "createSnapshot": "create snapshot",
    "deleteSnapshot": "delete snapshot",
    "revertSnapshot": "restore snapshot",
    "changeRootPassword": "reset password",
}
IDLE: Final = "idle"


@dataclass(frozen=True, kw_only=True)
class OvhVpsState(ResourceState):
    """A VPS: the fast cycle's answer, the slow cycle's last one (None until
    the slow cycle answered once) and the VPS manager's parts."""

    vps: VpsState
    details: VpsDetails | None
    manager: VpsManagerData = field(default_factory=VpsManagerData)
    #: The entry's low-disk threshold, percent used.
    low_disk_threshold: float = DEFAULT_LOW_DISK_THRESHOLD


def task_text(state: VpsState) -> str:
    """ "idle", "reboot (40%)", or "task 123" for a task started elsewhere."""
    if not state.running_task_ids:
        return IDLE
    task = state.current_task
    if task is None:
        return f"task {state.running_task_ids[0]}"
    name = TASK_NAMES.get(task.type or "", task.type or f"task {task.id}")
    return f"{name} ({task.progress}%)" if task.progress is not None else name


def aware(value: dt.datetime | None) -> dt.datetime | None:
    if value is None:
        return None
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def expiration(details: VpsDetails | None) -> dt.datetime | None:
    """When the service expires (midnight UTC of OVH's date)."""
    service = details.service_info if details else None
    if service is None or not service.expiration:
        return None
    return dt.datetime.combine(service.expiration, dt.time(), tzinfo=dt.UTC)
