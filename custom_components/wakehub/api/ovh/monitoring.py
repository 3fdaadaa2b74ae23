"""Monitoring of a VPS: CPU, memory and network series, and each disk's space.

`GET /vps/{sn}/monitoring?type=...&period=today` answers a series of
`{timestamp, value}` points at OVH's own granularity; WakeHub keeps the latest
point of each metric and the series' step, so a caller reads again only once a
new point can exist (`VpsMonitoring.next_point`). OVH has marked the call
deprecated: once it is withdrawn (`values.is_gone`) the result is None, and the
rest of the VPS is unaffected.

Disks: `GET /vps/{sn}/disks` lists ids; for each, its description and its used
and total space (`/disks/{id}/use?type=used|max`).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
import datetime as dt
import itertools
from typing import Any, Final

from ..errors import WakeHubError
from ..fields import items, opt_float, opt_int, opt_obj, opt_str
from .transport import OvhTransport, vps_path
from .values import is_gone, size_bytes

#: The metrics read on each monitoring cycle (cpu:max and mem:max are fixed by
#: the model, which the fast cycle already reads).
METRICS: Final = ("cpu:used", "mem:used", "net:rx", "net:tx")
PERIOD: Final = "today"
#: Step assumed when a series has a single point.
DEFAULT_STEP: Final = dt.timedelta(minutes=5)
#: Never read more often than this, whatever a series' timestamps claim.
MIN_STEP: Final = dt.timedelta(minutes=1)


@dataclass(frozen=True, slots=True)
class Point:
    time: dt.datetime
    value: float


@dataclass(frozen=True, slots=True)
class Series:
    """One metric: its unit, its latest point with a value, its step."""

    unit: str | None
    latest: Point | None
    step: dt.timedelta


@dataclass(frozen=True, slots=True)
class VpsMonitoring:
    """The latest value of every metric of METRICS, by metric name."""

    series: dict[str, Series]

    def value(self, metric: str) -> float | None:
        found = self.series.get(metric)
        return found.latest.value if found and found.latest else None

    def unit(self, metric: str) -> str | None:
        found = self.series.get(metric)
        return found.unit if found else None

    @property
    def next_point(self) -> dt.datetime | None:
        """When the next point of every series should exist (None: unknown)."""
        dues = [
            s.latest.time + s.step for s in self.series.values() if s.latest is not None
        ]
        return min(dues) if dues else None


@dataclass(frozen=True, slots=True)
class DiskUse:
    """One disk: its size as sold, and its used and total space in bytes."""

    id: int
    type: str | None
    state: str | None
    size_gb: int | None
    used_bytes: int | None
    total_bytes: int | None

    @property
    def used_percent(self) -> float | None:
        if not self.total_bytes or self.used_bytes is None:
            return None
        return round(self.used_bytes / self.total_bytes * 100, 1)


def parse_series(payload: Any) -> Series:
    """A `UnitAndValues_vps.VpsTimestampValue`: points without a value are skipped."""
    data = opt_obj(payload)
    points = []
    for item in data.get("values") or []:
        entry = opt_obj(item)
        stamp = opt_int(entry.get("timestamp"))
        value = opt_float(entry.get("value"))
        if stamp is None or value is None or not 0 <= stamp < 2**33:
            continue
        points.append(Point(dt.datetime.fromtimestamp(stamp, dt.UTC), value))
    points.sort(key=lambda p: p.time)
    # The median gap: a missing point (a gap twice as long) does not change it.
    gaps = sorted(b.time - a.time for a, b in itertools.pairwise(points))
    step = gaps[len(gaps) // 2] if gaps else DEFAULT_STEP
    return Series(
        unit=opt_str(data.get("unit")),
        latest=points[-1] if points else None,
        step=max(step, MIN_STEP),
    )


class MonitoringReader(OvhTransport):
    """Monitoring series and disk space of a VPS."""

    async def series(self, service: str, metric: str, period: str = PERIOD) -> Series:
        answer = await self._call(
            "GET",
            vps_path(service, "monitoring"),
            query={"period": period, "type": metric},
        )
        return parse_series(answer)

    async def monitoring(self, service: str) -> VpsMonitoring | None:
        """Latest CPU, memory and network points (len(METRICS) requests).

        None, without raising, once OVH no longer serves the call to this VPS.
        """
        try:
            found = await asyncio.gather(*(self.series(service, m) for m in METRICS))
        except WakeHubError as err:
            if is_gone(err):
                return None
            raise
        return VpsMonitoring(series=dict(zip(METRICS, found, strict=True)))

    async def disk_ids(self, service: str) -> list[int]:
        answer = await self._call("GET", vps_path(service, "disks"))
        return [
            i
            for i in items(answer, f"the disks of {service}")
            if isinstance(i, int) and not isinstance(i, bool)
        ]

    async def disk(self, service: str, disk_id: int) -> DiskUse:
        """One disk: description, used and total space (3 requests)."""
        base = f"disks/{disk_id}"
        info, used, total = await asyncio.gather(
            self._call("GET", vps_path(service, base)),
            self._call("GET", vps_path(service, f"{base}/use"), query={"type": "used"}),
            self._call("GET", vps_path(service, f"{base}/use"), query={"type": "max"}),
        )
        data = opt_obj(info)
        return DiskUse(
            id=disk_id,
            type=opt_str(data.get("type")),
            state=opt_str(data.get("state")),
            size_gb=opt_int(data.get("size")),
            used_bytes=size_bytes(used),
            total_bytes=size_bytes(total),
        )

    async def disks(self, service: str) -> list[DiskUse] | None:
        """Every disk's space (1 + 3 per disk requests); None when not served."""
        try:
            ids = await self.disk_ids(service)
            return list(await asyncio.gather(*(self.disk(service, i) for i in ids)))
        except WakeHubError as err:
            if is_gone(err):
                return None
            raise
