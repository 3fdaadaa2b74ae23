"""A disk low on space, at the entry's threshold: a binary sensor per disk, and
a repair issue while it holds."""

from __future__ import annotations

from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir

from ....api.ovh.monitoring import DiskUse
from ....const import DOMAIN
from ....descriptions import WakeHubBinarySensorEntityDescription
from ..const import DEFAULT_LOW_DISK_THRESHOLD
from ..state import OvhVpsState
from .data import PART_DISKS, VpsManagerData

try:
    from homeassistant.components.binary_sensor.const import BinarySensorDeviceClass
except ImportError:  # Home Assistant 2026.3 defines it in the package itself
    from homeassistant.components.binary_sensor import (  # type: ignore[attr-defined]
        BinarySensorDeviceClass,
    )


def _low_disk(disk: DiskUse | None, threshold: float) -> bool | None:
    """Whether a disk is at least `threshold` % full (None: not known)."""
    if disk is None or (used := disk.used_percent) is None:
        return None
    return used >= threshold


def low_disk_sensor(
    disk_id: int,
) -> WakeHubBinarySensorEntityDescription[OvhVpsState]:
    """Disk `disk_id` low on space (a repair issue says it too, so the binary
    sensor is there for automations: disabled by default); None while the
    disks' read fails."""

    def is_on(state: OvhVpsState) -> bool | None:
        if PART_DISKS in state.manager.unavailable:
            return None
        return _low_disk(state.manager.disk(disk_id), state.low_disk_threshold)

    return WakeHubBinarySensorEntityDescription[OvhVpsState](
        key=f"disk_{disk_id}_low_space",
        translation_key="low_disk_space",
        translation_placeholders={"disk": str(disk_id)},
        device_class=BinarySensorDeviceClass.PROBLEM,
        entity_registry_enabled_default=False,
        is_on_fn=is_on,
        attr_fn=lambda state: {"threshold": state.low_disk_threshold},
        exists_fn=lambda state: state.manager.disk(disk_id) is not None,
    )


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
        state = _low_disk(disk, threshold)
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
