"""Space: the backup storage's and each disk's, how the disks are read, and
their sensors (sizes in bytes, shown in GB)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from homeassistant.components.sensor import SensorDeviceClass, SensorStateClass
from homeassistant.const import EntityCategory, UnitOfInformation

from ....api.ovh import OvhClient
from ....api.ovh.monitoring import DiskUse
from ....api.ovh.storage import BackupStorage
from ....descriptions import WakeHubSensorEntityDescription
from ..state import OvhVpsState
from .data import PART_DISKS, PART_STORAGE, VpsManagerData
from .values import attributes, exists, part_value


async def read_disks(client: OvhClient, service: str) -> tuple[DiskUse, ...] | None:
    disks = await client.disks(service)
    return None if disks is None else tuple(disks)


def _space(
    key: str,
    translation_key: str,
    *,
    part: str,
    read: Callable[[VpsManagerData], int | None],
    exists_fn: Callable[[VpsManagerData], bool],
    used: bool,
    attributes_fn: Callable[[VpsManagerData], dict[str, Any] | None] = lambda _: None,
    translation_placeholders: dict[str, str] | None = None,
) -> WakeHubSensorEntityDescription[OvhVpsState]:
    """A space in bytes: a used space is measured over time, a size is a
    diagnostic."""
    return WakeHubSensorEntityDescription[OvhVpsState](
        key=key,
        translation_key=translation_key,
        translation_placeholders=translation_placeholders,
        state_class=SensorStateClass.MEASUREMENT if used else None,
        entity_category=None if used else EntityCategory.DIAGNOSTIC,
        device_class=SensorDeviceClass.DATA_SIZE,
        native_unit_of_measurement=UnitOfInformation.BYTES,
        suggested_unit_of_measurement=UnitOfInformation.GIGABYTES,
        suggested_display_precision=1,
        value_fn=part_value(part, read),
        attr_fn=attributes(attributes_fn),
        exists_fn=exists(exists_fn),
    )


def _of[P, T](
    find: Callable[[VpsManagerData], P | None], read: Callable[[P], T]
) -> Callable[[VpsManagerData], T | None]:
    """`read` of what `find` finds in the data, None when it finds nothing."""

    def value(data: VpsManagerData) -> T | None:
        found = find(data)
        return None if found is None else read(found)

    return value


# -- backup storage -----------------------------------------------------------------
def _has_storage(data: VpsManagerData) -> bool:
    return data.storage is not None


def _storage[T](
    read: Callable[[BackupStorage], T],
) -> Callable[[VpsManagerData], T | None]:
    """`read` of the backup storage; None once OVH no longer serves it."""
    return _of(lambda data: data.storage, read)


STORAGE_SENSORS = (
    _space(
        "backup_storage_usage",
        "backup_storage_usage",
        part=PART_STORAGE,
        read=_storage(lambda s: s.usage_bytes),
        exists_fn=_has_storage,
        used=True,
        attributes_fn=_storage(lambda s: {"percent": s.usage_percent}),
    ),
    _space(
        "backup_storage_quota",
        "backup_storage_quota",
        part=PART_STORAGE,
        read=_storage(lambda s: s.quota_bytes),
        exists_fn=_has_storage,
        used=False,
    ),
    WakeHubSensorEntityDescription[OvhVpsState](
        key="backup_storage_address",
        translation_key="backup_storage_address",
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=part_value(PART_STORAGE, _storage(lambda s: s.address)),
        attr_fn=attributes(
            _storage(
                lambda s: {
                    "read_only_since": (
                        ro.isoformat() if (ro := s.read_only_since) else None
                    )
                }
            )
        ),
        exists_fn=exists(_has_storage),
    ),
)


# -- disks ----------------------------------------------------------------------------
def disk_sensors(
    disk_id: int,
) -> tuple[WakeHubSensorEntityDescription[OvhVpsState], ...]:
    """Used and total space of one disk (unique ids end in disk_<id>_used...)."""

    def disk[T](read: Callable[[DiskUse], T]) -> Callable[[VpsManagerData], T | None]:
        return _of(lambda data: data.disk(disk_id), read)

    def has_disk(data: VpsManagerData) -> bool:
        return data.disk(disk_id) is not None

    placeholders = {"disk": str(disk_id)}
    return (
        _space(
            f"disk_{disk_id}_used",
            "disk_used",
            part=PART_DISKS,
            read=disk(lambda d: d.used_bytes),
            exists_fn=has_disk,
            used=True,
            attributes_fn=disk(
                lambda d: {"percent": d.used_percent, "type": d.type, "state": d.state}
            ),
            translation_placeholders=placeholders,
        ),
        _space(
            f"disk_{disk_id}_total",
            "disk_total",
            part=PART_DISKS,
            read=disk(lambda d: d.total_bytes),
            exists_fn=has_disk,
            used=False,
            translation_placeholders=placeholders,
        ),
    )
