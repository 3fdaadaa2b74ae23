"""What of the VPS manager is read when: each part of each VPS on its own cycle."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import replace
import datetime as dt
import logging
from typing import Any, Final

from ....api.errors import WakeHubError
from ....api.ovh import OvhClient
from ....api.ovh.monitoring import MIN_STEP, VpsMonitoring
from ..const import SLOW_INTERVAL
from .backup import read_backup
from .data import (
    PART_BACKUP,
    PART_DISKS,
    PART_MONITORING,
    PART_OFFERS,
    PART_STORAGE,
    SLOW_PARTS,
    VpsManagerData,
)
from .offers import read_offers
from .storage import read_disks

_LOGGER = logging.getLogger(__name__)

# Once OVH no longer serves monitoring to a VPS, ask again once a day only.
MONITORING_RETRY: Final = dt.timedelta(hours=24)

_READERS: Final[dict[str, Callable[[OvhClient, str], Awaitable[Any]]]] = {
    PART_BACKUP: read_backup,
    PART_STORAGE: lambda client, service: client.backup_storage(service),
    PART_OFFERS: read_offers,
    PART_DISKS: read_disks,
    PART_MONITORING: lambda client, service: client.monitoring(service),
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
        # Each part's field of VpsManagerData is named as the part.
        changes: dict[str, Any] = {}
        unavailable = set(data.unavailable)
        for part, (ok, value) in zip(parts, results, strict=True):
            if ok:
                changes[part] = value
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
                changes.get(PART_MONITORING, data.monitoring),
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
            return True, await _READERS[part](self.client, service)
        except WakeHubError as err:
            return False, err
