"""The VPS manager's data for an OVHcloud VPS, on the cycle each part changes on.

- slow (hourly, as the OVH kind's other slow data): automated backup (option,
  available restore points, attached backups), backup storage, migration and
  upgrades on offer, disks' used and total space;
- monitoring (CPU, memory, network): read once per its own granularity, i.e.
  when the series can hold a new point (the step between its points), never on
  every fast cycle.

Each part is read and fails on its own: a part OVH does not serve for this VPS
(404, a withdrawn call) is None; a part whose read failed keeps its last value
and is listed in `VpsManagerData.unavailable` (its entities unavailable), with
one log line when it starts failing and one when it recovers. The rest of the
VPS is unaffected.

The entity descriptions below read a `VpsManagerData` (value_fn / exists_fn);
the low-disk binary sensor also raises a repair issue while it holds
(`async_sync_low_disk_issues`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
import datetime as dt
import logging
from typing import Any, Final

from homeassistant.components.binary_sensor import BinarySensorEntityDescription
from homeassistant.components.sensor import (
    SensorDeviceClass,
    SensorEntityDescription,
    SensorStateClass,
)
from homeassistant.const import (
    PERCENTAGE,
    EntityCategory,
    UnitOfDataRate,
    UnitOfInformation,
)
from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.typing import StateType

from ..api.errors import WakeHubError
from ..api.ovh import OvhClient
from ..api.ovh.backup import AttachedBackup, BackupOption, RestorePoint
from ..api.ovh.monitoring import MIN_STEP, DiskUse, VpsMonitoring
from ..api.ovh.offers import Migration, UpgradeModel
from ..api.ovh.storage import BackupStorage
from ..api.ovh.values import is_gone, size_bytes
from ..const import DOMAIN

try:
    from homeassistant.components.binary_sensor.const import BinarySensorDeviceClass
except ImportError:  # Home Assistant 2026.3 defines it in the package itself
    from homeassistant.components.binary_sensor import (  # type: ignore[attr-defined]
        BinarySensorDeviceClass,
    )

_LOGGER = logging.getLogger(__name__)

# The same hour as the OVH kind's slow cycle (kinds/ovh.py SLOW_INTERVAL).
SLOW_INTERVAL: Final = dt.timedelta(hours=1)
# Once OVH no longer serves monitoring to a VPS, ask again once a day only.
MONITORING_RETRY: Final = dt.timedelta(hours=24)
CONF_LOW_DISK_THRESHOLD: Final = "low_disk_threshold"  # percent used
DEFAULT_LOW_DISK_THRESHOLD: Final = 90.0

PART_BACKUP: Final = "backup"
PART_STORAGE: Final = "storage"
PART_OFFERS: Final = "offers"
PART_DISKS: Final = "disks"
PART_MONITORING: Final = "monitoring"
SLOW_PARTS: Final = (PART_BACKUP, PART_STORAGE, PART_OFFERS, PART_DISKS)

# Network rates OVH may write, to bytes per second.
_RATES: Final[dict[str, float]] = {
    "bytes/s": 1,
    "b/s": 1,
    "bps": 1 / 8,
    "kbps": 1000 / 8,
    "mbps": 1000**2 / 8,
}
# OVH's migration states, as the sensor's options (translation keys are snake_case).
_MIGRATION_STATES: Final[dict[str, str]] = {
    "available": "available",
    "notAvailable": "not_available",
    "toPlan": "to_plan",
    "planned": "planned",
    "ongoing": "ongoing",
}
MIGRATION_STATES: Final = list(_MIGRATION_STATES.values())


@dataclass(frozen=True, kw_only=True)
class Backup:
    """The automated backup option, its available points, what is mounted."""

    option: BackupOption
    restore_points: tuple[RestorePoint, ...] = ()
    attached: tuple[AttachedBackup, ...] = ()


@dataclass(frozen=True, kw_only=True)
class Offers:
    migration: Migration | None
    upgrades: tuple[UpgradeModel, ...]


@dataclass(frozen=True, kw_only=True)
class VpsManagerData:
    """What the VPS manager knows of one VPS. None: OVH has none for this VPS."""

    backup: Backup | None = None
    storage: BackupStorage | None = None
    offers: Offers | None = None
    disks: tuple[DiskUse, ...] | None = None
    monitoring: VpsMonitoring | None = None
    #: The VPS's memory (from its model), for the memory percentage.
    memory_bytes: int | None = None
    #: The VPS's page in the OVHcloud Control Panel (upgrades are ordered there).
    manager_url: str | None = None
    #: Parts whose last read failed: their entities are unavailable.
    unavailable: frozenset[str] = frozenset()

    def disk(self, disk_id: int) -> DiskUse | None:
        return next((d for d in self.disks or () if d.id == disk_id), None)


# -- reading ---------------------------------------------------------------------
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


async def read_offers(client: OvhClient, service: str) -> Offers:
    """2 requests: the migration on offer and the models to upgrade to."""
    migration, upgrades = await asyncio.gather(
        client.migration(service), _upgrades(client, service)
    )
    return Offers(migration=migration, upgrades=upgrades)


async def _upgrades(client: OvhClient, service: str) -> tuple[UpgradeModel, ...]:
    try:
        return tuple(await client.available_upgrades(service))
    except WakeHubError as err:
        if is_gone(err):
            return ()
        raise


async def read_disks(client: OvhClient, service: str) -> tuple[DiskUse, ...] | None:
    disks = await client.disks(service)
    return None if disks is None else tuple(disks)


_SLOW_READERS: Final[dict[str, Callable[[OvhClient, str], Awaitable[Any]]]] = {
    PART_BACKUP: read_backup,
    PART_STORAGE: lambda client, service: client.backup_storage(service),
    PART_OFFERS: read_offers,
    PART_DISKS: read_disks,
}
_FIELDS: Final = {
    PART_BACKUP: "backup",
    PART_STORAGE: "storage",
    PART_OFFERS: "offers",
    PART_DISKS: "disks",
    PART_MONITORING: "monitoring",
}


def next_monitoring_read(monitoring: VpsMonitoring, now: dt.datetime) -> dt.datetime:
    """The first moment after `now` at which the series can hold a new point.

    Aligned on the series' own points: the latest point plus whole steps.
    """
    step = max(
        (s.step for s in monitoring.series.values() if s.latest is not None),
        default=MIN_STEP,
    )
    due = monitoring.next_point or now + step
    if due <= now:
        due += step * ((now - due) // step + 1)
    return due


class VpsManagerPoller:
    """Reads the VPS manager's parts of many VPSes, each when it is due."""

    def __init__(
        self,
        client: OvhClient,
        *,
        manager_url: Callable[[str], str] | None = None,
    ) -> None:
        self.client = client
        self._manager_url = manager_url
        self.data: dict[str, VpsManagerData] = {}
        self._slow_due: dict[str, dt.datetime] = {}
        self._monitoring_due: dict[str, dt.datetime] = {}
        self._stale: set[str] = set()

    def mark_stale(self, service: str) -> None:
        """Read this VPS's slow parts again at the next update (after an action)."""
        self._stale.add(service)

    def due_parts(self, service: str, now: dt.datetime) -> list[str]:
        """The parts of `service` to read at `now`."""
        parts: list[str] = []
        slow_due = self._slow_due.get(service)
        if service in self._stale or slow_due is None or now >= slow_due:
            parts += SLOW_PARTS
        monitoring_due = self._monitoring_due.get(service)
        if monitoring_due is None or now >= monitoring_due:
            parts.append(PART_MONITORING)
        return parts

    async def async_update(
        self,
        services: Iterable[str],
        now: dt.datetime,
        *,
        memory_mb: Mapping[str, int | None] | None = None,
    ) -> dict[str, VpsManagerData]:
        """Read what is due for every VPS (concurrently); the data of all of them.

        `memory_mb`: each VPS's memory from its model (the fast cycle reads it).
        """
        names = list(services)
        await asyncio.gather(
            *(self._update_one(sn, now, (memory_mb or {}).get(sn)) for sn in names)
        )
        return {sn: self.data[sn] for sn in names if sn in self.data}

    async def _update_one(
        self, service: str, now: dt.datetime, memory_mb: int | None
    ) -> None:
        parts = self.due_parts(service, now)
        data = self.data.get(service) or VpsManagerData(
            manager_url=self._manager_url(service) if self._manager_url else None
        )
        results = await asyncio.gather(*(self._read(service, p) for p in parts))
        changes: dict[str, Any] = {}
        unavailable = set(data.unavailable)
        for part, (ok, value) in zip(parts, results, strict=True):
            if ok:
                changes[_FIELDS[part]] = value
                if part in unavailable:
                    unavailable.discard(part)
                    _LOGGER.info("OVH %s of %s is available again", part, service)
            elif part not in unavailable:
                unavailable.add(part)
                _LOGGER.warning(
                    "OVH %s of %s is unavailable, kept as last read: %s",
                    part,
                    service,
                    value,
                )
        if any(p in parts for p in SLOW_PARTS):
            self._slow_due[service] = now + SLOW_INTERVAL
            self._stale.discard(service)
        if PART_MONITORING in parts:
            self._monitoring_due[service] = self._after_monitoring(
                changes.get("monitoring", data.monitoring),
                PART_MONITORING in unavailable,
                now,
            )
        self.data[service] = replace(
            data,
            **changes,
            memory_bytes=memory_mb * 1024**2 if memory_mb else data.memory_bytes,
            unavailable=frozenset(unavailable),
        )

    @staticmethod
    def _after_monitoring(
        monitoring: VpsMonitoring | None, failed: bool, now: dt.datetime
    ) -> dt.datetime:
        if failed:
            return now + MIN_STEP  # try again soon, not on every fast cycle
        if monitoring is None:
            return now + MONITORING_RETRY  # withdrawn for this VPS
        return next_monitoring_read(monitoring, now)

    async def _read(self, service: str, part: str) -> tuple[bool, Any]:
        try:
            if part == PART_MONITORING:
                return True, await self.client.monitoring(service)
            return True, await _SLOW_READERS[part](self.client, service)
        except WakeHubError as err:
            return False, err


# -- values ----------------------------------------------------------------------
def _rate(monitoring: VpsMonitoring | None, metric: str) -> float | None:
    if monitoring is None or (value := monitoring.value(metric)) is None:
        return None
    factor = _RATES.get((monitoring.unit(metric) or "").strip().lower())
    return None if factor is None else round(value * factor, 1)


def cpu_percent(data: VpsManagerData) -> float | None:
    if data.monitoring is None or data.monitoring.unit("cpu:used") != "%":
        return None
    return data.monitoring.value("cpu:used")


def memory_percent(data: VpsManagerData) -> float | None:
    monitoring = data.monitoring
    if monitoring is None or (value := monitoring.value("mem:used")) is None:
        return None
    if monitoring.unit("mem:used") == "%":
        return value
    used = size_bytes({"unit": monitoring.unit("mem:used"), "value": value})
    if used is None or not data.memory_bytes:
        return None
    return round(used / data.memory_bytes * 100, 1)


def latest_restore_point(data: VpsManagerData) -> dt.datetime | None:
    points = data.backup.restore_points if data.backup else ()
    return points[-1].time if points else None


def low_disk(disk: DiskUse | None, threshold: float) -> bool | None:
    """Whether a disk is at least `threshold` % full (None: not known)."""
    if disk is None or (used := disk.used_percent) is None:
        return None
    return used >= threshold


# -- entity descriptions ------------------------------------------------------------
@dataclass(frozen=True, kw_only=True)
class OvhManagerSensorDescription(SensorEntityDescription):
    """A sensor of the VPS manager: which part it reads, how, and whether it exists."""

    part: str
    value_fn: Callable[[VpsManagerData], StateType | dt.datetime]
    attributes_fn: Callable[[VpsManagerData], dict[str, Any]] = field(
        default=lambda _: {}
    )
    exists_fn: Callable[[VpsManagerData], bool] = lambda _: True

    def available_fn(self, data: VpsManagerData) -> bool:
        return self.part not in data.unavailable


@dataclass(frozen=True, kw_only=True)
class OvhLowDiskDescription(BinarySensorEntityDescription):
    """Low disk space on one disk, at the entry's threshold."""

    disk_id: int
    is_on_fn: Callable[[VpsManagerData, float], bool | None]
    exists_fn: Callable[[VpsManagerData], bool]

    def available_fn(self, data: VpsManagerData) -> bool:
        return PART_DISKS not in data.unavailable


def _has_backup(data: VpsManagerData) -> bool:
    return data.backup is not None


def _has_storage(data: VpsManagerData) -> bool:
    return data.storage is not None


def _has_monitoring(data: VpsManagerData) -> bool:
    return data.monitoring is not None


def _storage(data: VpsManagerData) -> BackupStorage:
    assert data.storage is not None  # exists_fn holds
    return data.storage


def _backup_attributes(data: VpsManagerData) -> dict[str, Any]:
    backup = data.backup
    schedule = backup.option.schedule if backup else None
    return {
        "schedule": schedule.isoformat() if schedule else None,
        "attached": [a.restore_point for a in backup.attached] if backup else [],
    }


def _upgrade_attributes(data: VpsManagerData) -> dict[str, Any]:
    upgrades = data.offers.upgrades if data.offers else ()
    return {
        "models": [
            {
                "name": u.name,
                "vcores": u.vcore,
                "memory_mb": u.memory,
                "disk_gb": u.disk,
            }
            for u in upgrades
        ],
        "manager_url": data.manager_url,
    }


def _migration_attributes(data: VpsManagerData) -> dict[str, Any]:
    migration = data.offers.migration if data.offers else None
    if migration is None:
        return {}
    return {
        "date": migration.date.isoformat() if migration.date else None,
        "plans": [p.new_plan for p in migration.plans],
        "manager_url": data.manager_url,
    }


SENSORS: Final[tuple[OvhManagerSensorDescription, ...]] = (
    OvhManagerSensorDescription(
        key="backup",
        translation_key="backup",
        part=PART_BACKUP,
        device_class=SensorDeviceClass.ENUM,
        options=["enabled", "disabled"],
        value_fn=lambda d: d.backup.option.state if d.backup else None,
        attributes_fn=_backup_attributes,
        exists_fn=_has_backup,
    ),
    OvhManagerSensorDescription(
        key="last_restore_point",
        translation_key="last_restore_point",
        part=PART_BACKUP,
        device_class=SensorDeviceClass.TIMESTAMP,
        value_fn=latest_restore_point,
        attributes_fn=lambda d: {
            "restore_points": len(d.backup.restore_points) if d.backup else 0
        },
        exists_fn=_has_backup,
    ),
    OvhManagerSensorDescription(
        key="backup_storage_usage",
        translation_key="backup_storage_usage",
        part=PART_STORAGE,
        state_class=SensorStateClass.MEASUREMENT,
        value_fn=lambda d: _storage(d).usage_bytes,
        attributes_fn=lambda d: {"percent": _storage(d).usage_percent},
        exists_fn=_has_storage,
        device_class=SensorDeviceClass.DATA_SIZE,
        native_unit_of_measurement=UnitOfInformation.BYTES,
        suggested_unit_of_measurement=UnitOfInformation.GIGABYTES,
        suggested_display_precision=1,
    ),
    OvhManagerSensorDescription(
        key="backup_storage_quota",
        translation_key="backup_storage_quota",
        part=PART_STORAGE,
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=lambda d: _storage(d).quota_bytes,
        exists_fn=_has_storage,
        device_class=SensorDeviceClass.DATA_SIZE,
        native_unit_of_measurement=UnitOfInformation.BYTES,
        suggested_unit_of_measurement=UnitOfInformation.GIGABYTES,
        suggested_display_precision=1,
    ),
    OvhManagerSensorDescription(
        key="backup_storage_address",
        translation_key="backup_storage_address",
        part=PART_STORAGE,
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=lambda d: _storage(d).address,
        attributes_fn=lambda d: {
            "read_only_since": (
                ro.isoformat() if (ro := _storage(d).read_only_since) else None
            )
        },
        exists_fn=_has_storage,
    ),
    OvhManagerSensorDescription(
        key="cpu",
        translation_key="cpu",
        part=PART_MONITORING,
        native_unit_of_measurement=PERCENTAGE,
        state_class=SensorStateClass.MEASUREMENT,
        suggested_display_precision=1,
        value_fn=cpu_percent,
        exists_fn=_has_monitoring,
    ),
    OvhManagerSensorDescription(
        key="memory",
        translation_key="memory",
        part=PART_MONITORING,
        native_unit_of_measurement=PERCENTAGE,
        state_class=SensorStateClass.MEASUREMENT,
        suggested_display_precision=1,
        value_fn=memory_percent,
        exists_fn=_has_monitoring,
    ),
    OvhManagerSensorDescription(
        key="network_in",
        translation_key="network_in",
        part=PART_MONITORING,
        device_class=SensorDeviceClass.DATA_RATE,
        native_unit_of_measurement=UnitOfDataRate.BYTES_PER_SECOND,
        suggested_unit_of_measurement=UnitOfDataRate.KILOBYTES_PER_SECOND,
        state_class=SensorStateClass.MEASUREMENT,
        value_fn=lambda d: _rate(d.monitoring, "net:rx"),
        exists_fn=_has_monitoring,
    ),
    OvhManagerSensorDescription(
        key="network_out",
        translation_key="network_out",
        part=PART_MONITORING,
        device_class=SensorDeviceClass.DATA_RATE,
        native_unit_of_measurement=UnitOfDataRate.BYTES_PER_SECOND,
        suggested_unit_of_measurement=UnitOfDataRate.KILOBYTES_PER_SECOND,
        state_class=SensorStateClass.MEASUREMENT,
        value_fn=lambda d: _rate(d.monitoring, "net:tx"),
        exists_fn=_has_monitoring,
    ),
    OvhManagerSensorDescription(
        key="migration",
        translation_key="migration",
        part=PART_OFFERS,
        device_class=SensorDeviceClass.ENUM,
        options=MIGRATION_STATES,
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=lambda d: (
            _MIGRATION_STATES.get(d.offers.migration.status or "")
            if d.offers and d.offers.migration
            else None
        ),
        attributes_fn=_migration_attributes,
        exists_fn=lambda d: d.offers is not None and d.offers.migration is not None,
    ),
    OvhManagerSensorDescription(
        key="available_upgrades",
        translation_key="available_upgrades",
        part=PART_OFFERS,
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=lambda d: len(d.offers.upgrades) if d.offers else None,
        attributes_fn=_upgrade_attributes,
        exists_fn=lambda d: d.offers is not None,
    ),
)


def disk_sensors(disk_id: int) -> tuple[OvhManagerSensorDescription, ...]:
    """Used and total space of one disk (unique ids end in disk_<id>_used...)."""
    placeholders = {"disk": str(disk_id)}

    def used(data: VpsManagerData) -> int | None:
        disk = data.disk(disk_id)
        return disk.used_bytes if disk else None

    def total(data: VpsManagerData) -> int | None:
        disk = data.disk(disk_id)
        return disk.total_bytes if disk else None

    def attributes(data: VpsManagerData) -> dict[str, Any]:
        disk = data.disk(disk_id)
        if disk is None:
            return {}
        return {"percent": disk.used_percent, "type": disk.type, "state": disk.state}

    def exists(data: VpsManagerData) -> bool:
        return data.disk(disk_id) is not None

    return (
        OvhManagerSensorDescription(
            key=f"disk_{disk_id}_used",
            translation_key="disk_used",
            translation_placeholders=placeholders,
            part=PART_DISKS,
            state_class=SensorStateClass.MEASUREMENT,
            value_fn=used,
            attributes_fn=attributes,
            exists_fn=exists,
            device_class=SensorDeviceClass.DATA_SIZE,
            native_unit_of_measurement=UnitOfInformation.BYTES,
            suggested_unit_of_measurement=UnitOfInformation.GIGABYTES,
            suggested_display_precision=1,
        ),
        OvhManagerSensorDescription(
            key=f"disk_{disk_id}_total",
            translation_key="disk_total",
            translation_placeholders=placeholders,
            part=PART_DISKS,
            entity_category=EntityCategory.DIAGNOSTIC,
            value_fn=total,
            exists_fn=exists,
            device_class=SensorDeviceClass.DATA_SIZE,
            native_unit_of_measurement=UnitOfInformation.BYTES,
            suggested_unit_of_measurement=UnitOfInformation.GIGABYTES,
            suggested_display_precision=1,
        ),
    )


def low_disk_sensor(disk_id: int) -> OvhLowDiskDescription:
    return OvhLowDiskDescription(
        key=f"disk_{disk_id}_low_space",
        translation_key="low_disk_space",
        translation_placeholders={"disk": str(disk_id)},
        device_class=BinarySensorDeviceClass.PROBLEM,
        disk_id=disk_id,
        is_on_fn=lambda data, threshold: low_disk(data.disk(disk_id), threshold),
        exists_fn=lambda data: data.disk(disk_id) is not None,
    )


def sensor_descriptions(
    data: VpsManagerData,
) -> list[OvhManagerSensorDescription]:
    """Every sensor this VPS has (per-disk ones included)."""
    found = [d for d in SENSORS if d.exists_fn(data)]
    for disk in data.disks or ():
        found += [d for d in disk_sensors(disk.id) if d.exists_fn(data)]
    return found


# -- the low-disk repair issue ------------------------------------------------------
def low_disk_issue_id(entry_id: str, service: str, disk_id: int) -> str:
    return f"ovh_low_disk_{entry_id}_{service}_{disk_id}"


def async_sync_low_disk_issues(
    hass: HomeAssistant,
    *,
    entry_id: str,
    service: str,
    name: str,
    data: VpsManagerData,
    threshold: float = DEFAULT_LOW_DISK_THRESHOLD,
) -> None:
    """Raise a repair issue for each disk at or past `threshold`, clear the rest.

    A disk whose figures are unknown (or unavailable) keeps its issue as it is.
    """
    if PART_DISKS in data.unavailable:
        return
    for disk in data.disks or ():
        issue_id = low_disk_issue_id(entry_id, service, disk.id)
        state = low_disk(disk, threshold)
        if state is None:
            continue
        if state:
            ir.async_create_issue(
                hass,
                DOMAIN,
                issue_id,
                is_fixable=False,
                severity=ir.IssueSeverity.WARNING,
                translation_key="ovh_low_disk_space",
                translation_placeholders={
                    "name": name,
                    "disk": str(disk.id),
                    "used": f"{disk.used_percent:g}",
                    "threshold": f"{threshold:g}",
                },
                learn_more_url=data.manager_url,
            )
        else:
            ir.async_delete_issue(hass, DOMAIN, issue_id)
