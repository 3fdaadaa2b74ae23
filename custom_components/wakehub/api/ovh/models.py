"""What the OVH client returns: typed dataclasses and their defensive parsers.

A parser never raises on a missing or mistyped field (it becomes None), only on
an answer of the wrong shape (fields.py: InvalidResponse).
"""

from __future__ import annotations

from dataclasses import dataclass, field
import datetime as dt
from typing import Any, Final

from ..fields import obj, opt_int, opt_str
from ..models import ResourceStatus

_VPS_STATES: Final[dict[str, ResourceStatus]] = {
    "running": ResourceStatus.RUNNING,
    "stopped": ResourceStatus.STOPPED,
    "stopping": ResourceStatus.STOPPING,
    "rebooting": ResourceStatus.REBOOTING,
    "installing": ResourceStatus.INSTALLING,
    "rescued": ResourceStatus.RESCUED,
    "maintenance": ResourceStatus.MAINTENANCE,
    "backuping": ResourceStatus.BACKUPING,
    "upgrading": ResourceStatus.UPGRADING,
}
# A running task says more than the VPS state (a stopped VPS being started).
_TASK_STATUS: Final[dict[str, ResourceStatus]] = {
    "startVm": ResourceStatus.STARTING,
    "stopVm": ResourceStatus.STOPPING,
    "rebootVm": ResourceStatus.REBOOTING,
    "reinstallVm": ResourceStatus.INSTALLING,
}
TASK_FAILED_STATES: Final = frozenset({"error", "cancelled"})
TASK_RUNNING_STATE: Final = "doing"


def vps_status(state: str | None, task_type: str | None = None) -> ResourceStatus:
    """Map OVH's VPS `state` (and the running task, if known) to ResourceStatus."""
    if task_type in _TASK_STATUS:
        return _TASK_STATUS[task_type]
    return _VPS_STATES.get(state or "", ResourceStatus.UNKNOWN)


# -- returned data ----------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class CredentialRequest:
    """A new consumer key: usable once the user opened `validation_url`."""

    consumer_key: str = field(repr=False)
    state: str
    validation_url: str


@dataclass(frozen=True, slots=True)
class Task:
    """An OVH VPS task (`vps.Task`); OVH gives no error text, only a state."""

    id: int
    type: str | None
    state: str
    progress: int | None = None
    date: dt.datetime | None = None

    @property
    def finished(self) -> bool:
        return self.state == "done" or self.state in TASK_FAILED_STATES


@dataclass(frozen=True, slots=True)
class VpsModel:
    """The commercial model: name ("VPS Elite 2025"), cores, RAM (MB), disk (GB)."""

    name: str | None
    offer: str | None
    vcore: int | None
    memory: int | None
    disk: int | None
    version: str | None


@dataclass(frozen=True, slots=True)
class VpsInfo:
    """One VPS as `GET /vps/{serviceName}` describes it."""

    service_name: str
    display_name: str
    state: str | None
    status: ResourceStatus
    netboot_mode: str | None
    zone: str | None
    cluster: str | None
    vcore: int | None
    memory_limit: int | None
    offer_type: str | None
    model: VpsModel | None


@dataclass(frozen=True, slots=True)
class VpsState:
    """Fast-cycle result: the VPS plus the ids of its running tasks."""

    info: VpsInfo
    running_task_ids: tuple[int, ...]
    current_task: Task | None

    @property
    def status(self) -> ResourceStatus:
        task_type = self.current_task.type if self.current_task else None
        return vps_status(self.info.state, task_type)


@dataclass(frozen=True, slots=True)
class ServiceInfo:
    """Billing side of the service (`serviceInfos`)."""

    status: str | None
    expiration: dt.date | None
    creation: dt.date | None
    automatic_renew: bool | None


@dataclass(frozen=True, slots=True)
class Datacenter:
    name: str | None
    long_name: str | None
    country: str | None


@dataclass(frozen=True, slots=True)
class Image:
    id: str
    name: str | None


@dataclass(frozen=True, slots=True)
class Snapshot:
    """The one snapshot a VPS may have."""

    id: str | None
    description: str | None
    creation_date: dt.datetime | None
    region: str | None


@dataclass(frozen=True, slots=True)
class SnapshotDownload:
    """Temporary download link; OVH documents 24 h validity (not in the schema)."""

    url: str
    size: int | None


@dataclass(frozen=True, slots=True)
class AutomatedBackup:
    state: str | None
    schedule: str | None
    restore_points: tuple[dt.datetime, ...]


@dataclass(frozen=True, slots=True)
class VpsDetails:
    """Slow-cycle result (hourly)."""

    service_info: ServiceInfo | None
    ipv4: tuple[str, ...]
    ipv6: tuple[str, ...]
    datacenter: Datacenter | None
    image: Image | None
    snapshot: Snapshot | None


# -- parsing helpers ------------------------------------------------------------------
def parse_datetime(value: Any) -> dt.datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return dt.datetime.fromisoformat(value)
    except ValueError:
        return None


def parse_date(value: Any) -> dt.date | None:
    if not isinstance(value, str):
        return None
    try:
        return dt.date.fromisoformat(value[:10])
    except ValueError:
        return None


def parse_task(payload: Any) -> Task:
    data = obj(payload, "an OVH task")
    return Task(
        id=opt_int(data.get("id")) or 0,
        type=opt_str(data.get("type")),
        state=opt_str(data.get("state")) or "unknown",
        progress=opt_int(data.get("progress")),
        date=parse_datetime(data.get("date")),
    )


def parse_vps(service_name: str, payload: Any) -> VpsInfo:
    data = obj(payload, f"the VPS {service_name}")
    model_data = data.get("model")
    model = None
    if isinstance(model_data, dict):
        model = VpsModel(
            name=opt_str(model_data.get("name")),
            offer=opt_str(model_data.get("offer")),
            vcore=opt_int(model_data.get("vcore")),
            memory=opt_int(model_data.get("memory")),
            disk=opt_int(model_data.get("disk")),
            version=opt_str(model_data.get("version")),
        )
    state = opt_str(data.get("state"))
    return VpsInfo(
        service_name=opt_str(data.get("name")) or service_name,
        display_name=opt_str(data.get("displayName")) or service_name,
        state=state,
        status=vps_status(state),
        netboot_mode=opt_str(data.get("netbootMode")),
        zone=opt_str(data.get("zone")),
        cluster=opt_str(data.get("cluster")),
        vcore=opt_int(data.get("vcore")),
        memory_limit=opt_int(data.get("memoryLimit")),
        offer_type=opt_str(data.get("offerType")),
        model=model,
    )


def opt_bool(value: Any) -> bool | None:
    return value if isinstance(value, bool) else None
