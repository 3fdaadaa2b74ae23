"""What the VPS manager knows of one VPS, part by part."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from ....api.ovh.backup import AttachedBackup, BackupOption, RestorePoint
from ....api.ovh.monitoring import DiskUse, VpsMonitoring
from ....api.ovh.offers import Migration, UpgradeModel
from ....api.ovh.storage import BackupStorage

PART_BACKUP: Final = "backup"
PART_STORAGE: Final = "storage"
PART_OFFERS: Final = "offers"
PART_DISKS: Final = "disks"
PART_MONITORING: Final = "monitoring"
SLOW_PARTS: Final = (PART_BACKUP, PART_STORAGE, PART_OFFERS, PART_DISKS)


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
    """What the VPS manager knows of one VPS. None: OVH has none for this VPS.

    Each part's field is named as the part (`PART_*`)."""

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
