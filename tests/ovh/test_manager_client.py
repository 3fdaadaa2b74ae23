"""The VPS manager's client calls against the simulator, over real HTTPS sockets.

Every exchange is checked against OVH's OpenAPI document by the simulator (the
fixture asserts no violation), so these tests also prove the requests are the
ones OVH documents.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
import datetime as dt

import aiohttp
import pytest

from custom_components.wakehub.api.errors import (
    ApiError,
    Conflict,
    InvalidAuth,
    NotFound,
    PermissionDenied,
    TaskFailed,
)
from custom_components.wakehub.api.ovh import OvhClient
from custom_components.wakehub.api.ovh.backup import parse_attached, parse_schedule
from custom_components.wakehub.api.ovh.monitoring import (
    DEFAULT_STEP,
    MIN_STEP,
    parse_series,
)
from custom_components.wakehub.api.ovh.signing import (
    ACCESS_RULES,
    MANAGER_RULES,
    missing_rules,
)
from custom_components.wakehub.api.ovh.spec_errors import (
    IpQuotaReached,
    MigrationNotPossible,
    OptionNotAvailable,
    SnapshotExists,
    TaskInProgress,
    refine,
)
from custom_components.wakehub.api.ovh.values import is_gone, size_bytes
from custom_components.wakehub.api.tls import format_fingerprint
from tests.simulators.ovh import ALL_RULES, OvhSimulator

FAST = {"timeout": 5, "interval": 0.01}


@pytest.fixture
async def sim() -> AsyncIterator[OvhSimulator]:
    simulator = OvhSimulator(vps_count=3, task_duration=0.05)
    await simulator.start()
    yield simulator
    await simulator.stop()
    assert simulator.violations == []


@pytest.fixture
async def client(sim: OvhSimulator) -> AsyncIterator[OvhClient]:
    assert sim.certificate is not None
    async with aiohttp.ClientSession() as session:
        yield OvhClient(
            session,
            endpoint=f"{sim.url}/1.0",
            application_key=sim.application_key,
            application_secret=sim.application_secret,
            consumer_key=sim.consumer_key,
            fingerprint=format_fingerprint(sim.certificate.der),
            retry_backoff=0.01,
        )


def named(sim: OvhSimulator, display: str) -> str:
    return next(n for n, v in sim.vps.items() if v.display_name == display)


# -- automated backup ------------------------------------------------------------
async def test_backup_restore_file_then_detach(
    sim: OvhSimulator, client: OvhClient
) -> None:
    sn = named(sim, "web")
    option = await client.backup_option(sn)
    assert option is not None
    assert option.enabled
    assert option.schedule == dt.time(3, 0)
    points = await client.all_restore_points(sn)
    assert [p.state for p in points] == ["available", "available"]
    latest = points[-1]
    assert latest.time == dt.datetime(2026, 1, 27, 3, tzinfo=dt.UTC)

    task = await client.restore_backup(sn, latest.value, "file")
    assert task.type == "restoreVeeamBackup"
    assert [p.state for p in await client.all_restore_points(sn)] == [
        "available",
        "restoring",
    ]
    await client.wait_for_task(sn, task.id, **FAST)
    states = {p.value: p.state for p in await client.all_restore_points(sn)}
    assert states[latest.value] == "restored"
    (attached,) = await client.attached_backups(sn)
    assert attached.restore_point == latest.value
    assert attached.nfs
    assert attached.smb

    task = await client.detach_backup(sn, latest.value)
    await client.wait_for_task(sn, task.id, **FAST)
    assert await client.attached_backups(sn) == []


async def test_backup_full_restore_and_reschedule(
    sim: OvhSimulator, client: OvhClient
) -> None:
    sn = named(sim, "web")
    point = (await client.restore_points(sn))[0]
    task = await client.restore_backup(sn, point.value, "full", change_password=False)
    assert task.type == "restoreFullVeeamBackup"
    # A second change while the first runs: the specification's "task in progress".
    with pytest.raises(TaskInProgress):
        await client.reschedule_backup(sn, dt.time(4, 30))
    await client.wait_for_task(sn, task.id, **FAST)
    task = await client.reschedule_backup(sn, dt.time(4, 30, 15, 999))
    await client.wait_for_task(sn, task.id, **FAST)
    option = await client.backup_option(sn)
    assert option is not None
    assert option.schedule == dt.time(4, 30, 15)
    with pytest.raises(ValueError, match="restore type"):
        await client.restore_backup(sn, point.value, "partial")


async def test_backup_absent_or_disabled(sim: OvhSimulator, client: OvhClient) -> None:
    db = named(sim, "db")
    assert await client.backup_option(db) is None
    with pytest.raises(NotFound):
        await client.attached_backups(db)
    web = named(sim, "web")
    sim.vps[web].automated_backup = "disabled"
    with pytest.raises(OptionNotAvailable) as err:
        await client.reschedule_backup(web, dt.time(1))
    assert err.value.translation_key == "ovh_option_not_available"


# -- backup storage ---------------------------------------------------------------
async def test_backup_storage(sim: OvhSimulator, client: OvhClient) -> None:
    sn = named(sim, "web")
    storage = await client.backup_storage(sn)
    assert storage is not None
    assert storage.address == sim.vps[sn].backup_storage["ftpBackupName"]  # type: ignore[index]
    assert storage.quota_bytes == 100 * 1000**3
    assert storage.usage_bytes == 12 * 1000**3
    assert storage.usage_percent == 12.0
    assert storage.read_only_since is None
    assert await client.backup_storage(named(sim, "db")) is None

    task = await client.reset_storage_password(sn)
    assert task.function == "changePasswordBackupFTP"
    assert task.status == "todo"

    blocks = await client.authorizable_blocks(sn)
    assert blocks == sim.vps[sn].authorizable_blocks
    await client.add_storage_access(sn, blocks[0], ftp=True, cifs=False, nfs=True)
    (access,) = await client.storage_access(sn)
    assert access.ip_block == blocks[0]
    assert (access.ftp, access.cifs, access.nfs, access.applied) == (
        True,
        False,
        True,
        True,
    )
    await client.remove_storage_access(sn, blocks[0])
    assert await client.storage_access(sn) == []
    with pytest.raises(NotFound):
        await client.remove_storage_access(sn, blocks[0])


async def test_backup_storage_ip_quota(sim: OvhSimulator, client: OvhClient) -> None:
    sn = named(sim, "web")
    sim.vps[sn].storage_acl_limit = 1
    blocks = await client.authorizable_blocks(sn)
    await client.add_storage_access(sn, blocks[0], ftp=True, cifs=False, nfs=False)
    with pytest.raises(IpQuotaReached):
        await client.add_storage_access(sn, blocks[1], ftp=True, cifs=False, nfs=False)


# -- monitoring and disks -----------------------------------------------------------
async def test_monitoring(sim: OvhSimulator, client: OvhClient) -> None:
    sn = named(sim, "web")
    found = await client.monitoring(sn)
    assert found is not None
    assert found.value("cpu:used") == 13.0  # the last point with a value
    assert found.unit("mem:used") == "MB"
    assert found.value("net:rx") == 5121.0
    assert found.value("nothing") is None
    step = dt.timedelta(seconds=300)
    latest = found.series["cpu:used"].latest
    assert latest is not None
    assert found.series["cpu:used"].step == step
    assert found.next_point == latest.time + step
    assert sim.count("GET", f"/1.0/vps/{sn}/monitoring") == 4
    sim.vps[sn].monitoring_status = 404
    assert await client.monitoring(sn) is None
    assert await client.disks(sn) is None


async def test_disks(sim: OvhSimulator, client: OvhClient) -> None:
    sn = named(sim, "db")
    disks = await client.disks(sn)
    assert disks is not None
    (disk,) = disks
    assert disk.type == "primary"
    assert disk.size_gb == 200
    assert disk.total_bytes == 200 * 1000**3
    assert disk.used_percent == 55.0
    assert sim.count("GET", f"/1.0/vps/{sn}/disks") == 4


# -- secondary DNS -------------------------------------------------------------------
async def test_secondary_dns(sim: OvhSimulator, client: OvhClient) -> None:
    sn = named(sim, "web")
    (existing,) = await client.secondary_domains(sn)
    assert existing.domain == "example.org"
    assert existing.ip_master == sim.vps[sn].ipv4
    assert existing.created == dt.datetime(2026, 1, 2, 10, tzinfo=dt.UTC)
    server = await client.secondary_name_server(sn)
    assert server.hostname == "sdns2.ovh.net"
    assert server.ipv6 is None
    await client.add_secondary_domain(sn, "example.net", "192.0.2.7")
    await client.add_secondary_domain(sn, "example.com")
    found = {d.domain: d.ip_master for d in await client.secondary_domains(sn)}
    assert found == {
        "example.org": sim.vps[sn].ipv4,
        "example.net": "192.0.2.7",
        "example.com": sim.vps[sn].ipv4,
    }
    await client.remove_secondary_domain(sn, "example.org")
    with pytest.raises(NotFound):
        await client.remove_secondary_domain(sn, "example.org")
    with pytest.raises(ApiError):
        await client.add_secondary_domain(sn, "example.com")


# -- offers ------------------------------------------------------------------------
async def test_migration_and_upgrades(sim: OvhSimulator, client: OvhClient) -> None:
    db = named(sim, "db")
    migration = await client.migration(db)
    assert migration is not None
    assert migration.status == "available"
    assert migration.plans[0].new_plan == "vps-2020-value-1"
    assert await client.migration(named(sim, "web")) is None
    upgrades = await client.available_upgrades(db)
    assert [u.name for u in upgrades] == ["VPS Elite 2025"]
    assert upgrades[0].memory == 24576
    assert await client.available_upgrades(named(sim, "web")) == []


# -- the specification's errors -----------------------------------------------------
async def test_snapshot_exists_and_option(sim: OvhSimulator, client: OvhClient) -> None:
    web = named(sim, "web")
    sim.vps[web].snapshot = {
        "id": "s1",
        "creationDate": "2026-01-01T00:00:00+00:00",
        "description": "before",
        "region": "GRA1",
    }
    with pytest.raises(SnapshotExists):
        await client.create_snapshot(web)
    with pytest.raises(OptionNotAvailable):
        await client.create_snapshot(named(sim, "mail"))
    sim.inject_error(409, None, "A snapshot already exists for this VPS")
    with pytest.raises(SnapshotExists):
        await client.reboot(web)


def test_refine_table() -> None:
    def refined(status: int, message: str, call: str = "POST /vps/x/reboot") -> object:
        base = ApiError(status, message)
        return type(refine(base, status=status, message=message, call=call))

    assert refined(400, "Bad parameter") is ApiError
    assert refined(400, "This option is not available for your VPS range") is (
        OptionNotAvailable
    )
    assert refined(400, "Maximum number of additional IPs reached") is IpQuotaReached
    assert refined(400, "nope", "POST /vps/x/migration2018") is MigrationNotPossible
    assert refined(403, "nope", "POST /vps/x/migration2018") is MigrationNotPossible
    assert refined(400, "Snapshot already exists") is SnapshotExists
    # What means something else keeps its meaning, whatever the message.
    auth = InvalidAuth("option not available")
    assert refine(auth, status=401, message="option not available", call="") is auth
    denied = PermissionDenied("maximum IP")
    assert refine(denied, status=403, message="maximum IP", call="") is denied
    conflict = refine(Conflict("busy"), status=409, message="busy", call="")
    assert isinstance(conflict, TaskInProgress)
    assert conflict.translation_key == "ovh_task_in_progress"


# -- access rules -------------------------------------------------------------------
async def test_missing_access_rules(sim: OvhSimulator, client: OvhClient) -> None:
    assert await client.missing_access_rules() == ()
    old = [r for r in ACCESS_RULES if r not in MANAGER_RULES]
    client.consumer_key = sim.add_credential(
        rules=[{"method": m, "path": p} for m, p in old], state="validated"
    )
    assert await client.missing_access_rules() == MANAGER_RULES
    assert missing_rules((r["method"], r["path"]) for r in ALL_RULES) == ()
    assert missing_rules([("GET", "/vps/*")])[0] == ("GET", "/me")
    assert set(MANAGER_RULES) <= set(ACCESS_RULES)


async def test_new_rules_requested(sim: OvhSimulator, client: OvhClient) -> None:
    request = await client.request_credential()
    rules = sim.credentials[request.consumer_key].rules
    for method, path in MANAGER_RULES:
        assert {"method": method, "path": path} in rules


# -- pure parsers ------------------------------------------------------------------
def test_parsers_are_defensive() -> None:
    assert size_bytes({"unit": "MiB", "value": 2}) == 2 * 1024**2
    assert size_bytes({"unit": "parsecs", "value": 2}) is None
    assert size_bytes({"unit": "GB", "value": -1}) is None
    assert size_bytes("12 GB") is None
    assert parse_schedule("25:00:00") is None
    assert parse_schedule(300) is None
    assert parse_attached({"access": {}}) is None
    empty = parse_series({"unit": "%", "values": [{"timestamp": "x"}, "junk"]})
    assert empty.latest is None
    assert empty.step == DEFAULT_STEP
    dense = parse_series(
        {"values": [{"timestamp": t, "value": 1} for t in range(0, 50, 10)]}
    )
    assert dense.step == MIN_STEP
    assert parse_series(None).unit is None
    assert is_gone(NotFound("x"))
    assert is_gone(ApiError(410, "gone"))
    assert not is_gone(ApiError(503, "later"))
    assert not is_gone(TaskFailed("x"))
