"""What one poll says of an OVHcloud VPS: its typed state, and the figures
the sensors show, read from it."""

from __future__ import annotations

from dataclasses import dataclass
import datetime as dt
from typing import Final

from ...api.ovh import VpsDetails, VpsState, VpsUsage
from ...state import ResourceState

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
    """A VPS: the fast cycle's answer and the slow cycle's last one (None
    until the slow cycle answered once)."""

    vps: VpsState
    details: VpsDetails | None

    @property
    def reports_usage(self) -> bool:
        """OVH still serves the deprecated `/use` figures for this VPS."""
        return self.details is not None and self.details.usage is not None

    @property
    def has_backup(self) -> bool:
        """Automated backups are part of its offer."""
        return self.details is not None and self.details.automated_backup is not None


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


def restore_points(details: VpsDetails | None) -> list[dt.datetime]:
    """The automated backup's restore points, oldest first."""
    if details is None or details.automated_backup is None:
        return []
    return sorted(p for p in map(aware, details.automated_backup.restore_points) if p)


def expiration(details: VpsDetails | None) -> dt.datetime | None:
    """When the service expires (midnight UTC of OVH's date)."""
    service = details.service_info if details else None
    if service is None or not service.expiration:
        return None
    return dt.datetime.combine(service.expiration, dt.time(), tzinfo=dt.UTC)


def usage_figures(
    usage: VpsUsage | None, memory_mb: int | None
) -> tuple[float | None, float | None, float | None, float | None]:
    """cpu %, memory %, network in/out bytes/s from OVH's `/use` answers."""
    if usage is None:
        return None, None, None, None
    cpu = usage.cpu.value if usage.cpu else None
    memory = None
    if usage.memory and usage.memory.value is not None:
        if usage.memory.unit == "%":
            memory = usage.memory.value
        elif memory_mb:
            memory = round(usage.memory.value / memory_mb * 100, 2)
    net_in = usage.net_rx.value if usage.net_rx else None
    net_out = usage.net_tx.value if usage.net_tx else None
    return cpu, memory, net_in, net_out
