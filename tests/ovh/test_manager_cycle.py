"""The VPS manager's data path: what is read on which cycle, how many requests,
degraded parts, the entity descriptions over the data, the low-disk repair."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
import datetime as dt
import logging

import aiohttp
from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir
import pytest

from custom_components.wakehub.api.ovh import OvhClient, VpsState
from custom_components.wakehub.api.ovh.monitoring import MIN_STEP
from custom_components.wakehub.api.tls import format_fingerprint
from custom_components.wakehub.const import DOMAIN
from custom_components.wakehub.descriptions import WakeHubSensorEntityDescription
from custom_components.wakehub.kinds.ovh.const import SLOW_INTERVAL
from custom_components.wakehub.kinds.ovh.descriptions import (
    MANAGER_SENSORS,
    vps_descriptions,
)
from custom_components.wakehub.kinds.ovh.manager.data import (
    PART_MONITORING,
    PART_STORAGE,
    VpsManagerData,
)
from custom_components.wakehub.kinds.ovh.manager.low_disk import (
    async_sync_low_disk_issues,
    low_disk_issue_id,
    low_disk_sensor,
)
from custom_components.wakehub.kinds.ovh.manager.monitoring import (
    cpu_percent,
    memory_percent,
)
from custom_components.wakehub.kinds.ovh.manager.poller import (
    MONITORING_RETRY,
    VpsManagerPoller,
    next_monitoring_read,
)
from custom_components.wakehub.kinds.ovh.manager.storage import disk_sensors
from custom_components.wakehub.kinds.ovh.state import OvhVpsState
from tests.simulators.ovh import OvhSimulator

ENTRY = "01OVHMANAGER000000000000000"


@pytest.fixture
async def sim() -> AsyncIterator[OvhSimulator]:
    simulator = OvhSimulator(vps_count=3, task_duration=0.05)
    await simulator.start()
    yield simulator
    await simulator.stop()
    assert simulator.violations == []


@pytest.fixture
async def poller(sim: OvhSimulator) -> AsyncIterator[VpsManagerPoller]:
    assert sim.certificate is not None
    async with aiohttp.ClientSession() as session:
        client = OvhClient(
            session,
            endpoint=f"{sim.url}/1.0",
            application_key=sim.application_key,
            application_secret=sim.application_secret,
            consumer_key=sim.consumer_key,
            fingerprint=format_fingerprint(sim.certificate.der),
            retry_backoff=0.01,
        )
        yield VpsManagerPoller(client, manager_url=lambda sn: f"https://manager/{sn}")


def named(sim: OvhSimulator, display: str) -> str:
    return next(n for n, v in sim.vps.items() if v.display_name == display)


def requests_of(sim: OvhSimulator, service: str) -> int:
    return sim.count(None, f"/1.0/vps/{service}/")


async def states_of(
    poller: VpsManagerPoller, data: dict[str, VpsManagerData]
) -> dict[str, OvhVpsState]:
    """Each VPS's state with its manager's data, as the coordinator makes it."""
    fast = await poller.client.fast_poll(data)
    return {
        sn: OvhVpsState(status=vps.status, vps=vps, details=None, manager=data[sn])
        for sn, vps in fast.items()
        if isinstance(vps, VpsState)
    }


def sensors_of(state: OvhVpsState) -> list[WakeHubSensorEntityDescription[OvhVpsState]]:
    """The sensors a VPS in `state` has (the sensor platform's rule)."""
    return [
        d
        for d in vps_descriptions(state).sensors
        if d.exists_fn is None or d.exists_fn(state)
    ]


async def test_each_part_on_its_cycle(
    sim: OvhSimulator, poller: VpsManagerPoller
) -> None:
    web, db, mail = (named(sim, n) for n in ("web", "db", "mail"))
    # Just after a point of the simulator's 5-minute series, so that "a minute
    # later" is always before the next point, whenever the test runs.
    step = sim.vps[web].monitoring_step
    now = dt.datetime.fromtimestamp(sim.server_time() // step * step + 1, dt.UTC)
    data = await poller.async_update([web, db, mail], now, memory_mb={web: 24576})
    # Slow parts + monitoring, per VPS: backup 1 (+2 when enabled), storage 1,
    # offers 2, disks 1 + 3 per disk, monitoring 4.
    assert requests_of(sim, web) == 3 + 1 + 2 + 4 + 4
    assert requests_of(sim, db) == 1 + 1 + 2 + 4 + 4
    assert data[web].backup is not None
    assert data[web].backup.option.enabled
    assert len(data[web].backup.restore_points) == 2
    assert data[db].backup is None
    assert data[web].storage is not None
    assert data[db].storage is None
    assert data[db].offers is not None
    assert data[db].offers.migration is not None
    assert data[web].offers is not None
    assert data[web].offers.migration is None
    assert data[web].manager_url == f"https://manager/{web}"
    assert data[web].memory_bytes == 24576 * 1024**2
    assert data[web].unavailable == frozenset()

    # A fast cycle later: nothing of the manager is due.
    before = sim.count()
    await poller.async_update([web, db, mail], now + dt.timedelta(seconds=60))
    assert sim.count() == before
    # Once a new monitoring point can exist: monitoring only (4 per VPS).
    later = now + dt.timedelta(seconds=301)
    assert poller.due_parts(web, later) == [PART_MONITORING]
    await poller.async_update([web, db, mail], later)
    assert sim.count() == before + 3 * 4
    # An hour later: the slow parts again.
    assert len(poller.due_parts(web, now + SLOW_INTERVAL)) == 5
    # After an action, the slow parts of that VPS at the next update.
    poller.mark_stale(db)
    assert len(poller.due_parts(db, later)) == 4


def test_monitoring_read_once_per_granularity() -> None:
    from custom_components.wakehub.api.ovh.monitoring import VpsMonitoring, parse_series

    start = dt.datetime(2026, 1, 27, 10, tzinfo=dt.UTC)
    stamp = int(start.timestamp())
    series = parse_series(
        {
            "unit": "%",
            "values": [{"timestamp": stamp + 60 * i, "value": 1} for i in range(3)],
        }
    )
    monitoring = VpsMonitoring(series={"cpu:used": series})
    latest = start + dt.timedelta(minutes=2)
    assert next_monitoring_read(monitoring, latest) == latest + dt.timedelta(minutes=1)
    # Read late: the next boundary after now, not a read per fast cycle.
    late = latest + dt.timedelta(minutes=4, seconds=30)
    assert next_monitoring_read(monitoring, late) == latest + dt.timedelta(minutes=5)
    empty = VpsMonitoring(series={})
    assert next_monitoring_read(empty, start) == start + MIN_STEP


async def test_degraded_parts(
    sim: OvhSimulator, poller: VpsManagerPoller, caplog: pytest.LogCaptureFixture
) -> None:
    web = named(sim, "web")
    now = dt.datetime.now(dt.UTC)
    first = (await poller.async_update([web], now))[web]
    assert first.storage is not None
    # The storage answers 500 twice: kept as last read, unavailable, logged once.
    sim.inject_error(500, None, "Internal error", count=2, path_contains="backupftp")
    sim.vps[web].monitoring_status = 404
    caplog.set_level(logging.INFO)
    poller.mark_stale(web)
    later = now + dt.timedelta(minutes=6)
    data = (await poller.async_update([web], later))[web]
    assert data.storage == first.storage
    assert PART_STORAGE in data.unavailable
    usage = {d.key: d for d in MANAGER_SENSORS}["backup_storage_usage"]
    assert usage.value_fn((await states_of(poller, {web: data}))[web]) is None
    assert data.backup == first.backup  # the rest is unaffected
    assert data.monitoring is None  # withdrawn: the monitoring sensors go away
    assert poller.due_parts(web, later + MONITORING_RETRY) != []
    poller.mark_stale(web)
    await poller.async_update([web], later)
    assert sum("unavailable" in r.message for r in caplog.records) == 1
    poller.mark_stale(web)
    data = (await poller.async_update([web], later))[web]
    assert data.unavailable == frozenset()
    assert sum("available again" in r.message for r in caplog.records) == 1


async def test_descriptions_with_and_without_backup(
    sim: OvhSimulator, poller: VpsManagerPoller
) -> None:
    web, db = named(sim, "web"), named(sim, "db")
    now = dt.datetime.now(dt.UTC)
    data = await poller.async_update([web, db], now, memory_mb={web: 4096, db: 4096})
    states = await states_of(poller, data)
    with_backup = {d.key: d for d in sensors_of(states[web])}
    without = {d.key for d in sensors_of(states[db])}
    assert {"backup", "last_restore_point", "backup_storage_usage"} <= set(with_backup)
    assert not {"backup", "last_restore_point", "backup_storage_usage"} & without
    assert "migration" in without
    assert "migration" not in with_backup
    values = {k: d.value_fn(states[web]) for k, d in with_backup.items()}
    assert values["backup"] == "enabled"
    assert values["last_restore_point"] == dt.datetime(2026, 1, 27, 3, tzinfo=dt.UTC)
    assert values["backup_storage_usage"] == 12 * 1000**3
    assert values["backup_storage_quota"] == 100 * 1000**3
    assert values["cpu"] == 13.0
    assert values["memory"] == round((1843 + 1) * 1000**2 / (4096 * 1024**2) * 100, 1)
    assert values["network_in"] == 5121.0
    assert values["available_upgrades"] == 0
    assert values["disk_1_used"] == pytest.approx(400 * 1000**3 * 0.35)
    schedule = with_backup["backup"].attr_fn(states[web])
    assert schedule is not None
    assert schedule["schedule"] == "03:00:00"
    upgrades = {d.key: d for d in MANAGER_SENSORS}["available_upgrades"]
    attributes = upgrades.attr_fn(states[db])
    assert attributes is not None
    assert attributes["models"][0]["name"] == "VPS Elite 2025"
    assert attributes["manager_url"] == f"https://manager/{db}"
    migration = {d.key: d for d in MANAGER_SENSORS}["migration"]
    assert migration.value_fn(states[db]) == "available"
    plans = migration.attr_fn(states[db])
    assert plans is not None
    assert plans["plans"] == ["vps-2020-value-1"]
    assert migration.attr_fn(states[web]) is None
    assert cpu_percent(VpsManagerData()) is None
    assert memory_percent(VpsManagerData()) is None
    assert disk_sensors(99)[0].value_fn(states[web]) is None


async def test_low_disk_repair_raised_and_cleared(
    hass: HomeAssistant, sim: OvhSimulator, poller: VpsManagerPoller
) -> None:
    db = named(sim, "db")  # 55 % used
    now = dt.datetime.now(dt.UTC)
    data = (await poller.async_update([db], now))[db]
    (disk,) = data.disks or ()
    binary = low_disk_sensor(disk.id)
    state = (await states_of(poller, {db: data}))[db]
    assert binary.exists_fn is not None
    assert binary.exists_fn(state)
    assert binary.is_on_fn(state) is False  # at the default threshold, 90 %
    assert binary.is_on_fn(replace(state, low_disk_threshold=50)) is True
    issues = ir.async_get(hass)
    issue_id = low_disk_issue_id(ENTRY, db, disk.id)

    async_sync_low_disk_issues(
        hass, entry_id=ENTRY, service=db, name="db", data=data, threshold=50
    )
    issue = issues.async_get_issue(DOMAIN, issue_id)
    assert issue is not None
    assert issue.translation_key == "ovh_low_disk_space"
    assert issue.translation_placeholders == {
        "name": "db",
        "disk": str(disk.id),
        "used": "55",
        "threshold": "50",
    }
    sim.vps[db].disks[0]["used_mb"] = 20_000
    poller.mark_stale(db)
    data = (await poller.async_update([db], now))[db]
    async_sync_low_disk_issues(
        hass, entry_id=ENTRY, service=db, name="db", data=data, threshold=50
    )
    assert issues.async_get_issue(DOMAIN, issue_id) is None
