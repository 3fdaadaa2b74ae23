"""OVH client against the OVH simulator, over real HTTPS sockets on loopback."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
import datetime as dt
import json
import time

import aiohttp
import pytest

from custom_components.wakehub.api.errors import (
    ApiError,
    CannotConnect,
    Conflict,
    InvalidAuth,
    NotFound,
    PermissionDenied,
    RateLimited,
    TaskFailed,
)
from custom_components.wakehub.api.models import ResourceStatus
from custom_components.wakehub.api.ovh import OvhClient, VpsDetails, VpsState
from custom_components.wakehub.api.ovh.error_map import ServiceExpired
from custom_components.wakehub.api.ovh.models import parse_task, vps_status
from custom_components.wakehub.api.ovh.signing import (
    ACCESS_RULES,
    ENDPOINTS,
    resolve_endpoint,
    sign,
)
from custom_components.wakehub.api.tls import format_fingerprint
from tests.contract import spec_path
from tests.simulators.ovh import OvhSimulator

FAST = {"timeout": 5, "interval": 0.01}


@pytest.fixture
async def sim() -> AsyncIterator[OvhSimulator]:
    simulator = OvhSimulator(vps_count=3, task_duration=0.05)
    await simulator.start()
    yield simulator
    await simulator.stop()
    assert simulator.violations == []


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client_session:
        yield client_session


def make_client(
    sim: OvhSimulator, session: aiohttp.ClientSession, **kwargs: object
) -> OvhClient:
    assert sim.certificate is not None
    options: dict[str, object] = {
        "endpoint": f"{sim.url}/1.0",
        "application_key": sim.application_key,
        "application_secret": sim.application_secret,
        "consumer_key": sim.consumer_key,
        "fingerprint": format_fingerprint(sim.certificate.der),
        "retry_backoff": 0.01,
    }
    options.update(kwargs)
    return OvhClient(session, **options)  # type: ignore[arg-type]


@pytest.fixture
def client(sim: OvhSimulator, session: aiohttp.ClientSession) -> OvhClient:
    return make_client(sim, session)


def first(sim: OvhSimulator) -> str:
    """The running "web" VPS, which has the snapshot and backup options."""
    return next(name for name, vps in sim.vps.items() if vps.display_name == "web")


# -- pure functions -------------------------------------------------------------------
def test_signature_vectors() -> None:
    vectors = json.loads(spec_path("ovh-signature-test-vectors.json").read_text())
    for vector in vectors["vectors"]:
        assert (
            sign(
                vectors["application_secret"],
                vectors["consumer_key"],
                vector["method"],
                vector["url"],
                vector["body"],
                timestamp=vectors["timestamp"],
            )
            == vector["signature"]
        )


def test_resolve_endpoint() -> None:
    assert resolve_endpoint("ovh-eu") == "https://eu.api.ovh.com/1.0"
    assert resolve_endpoint("OVH-CA") == "https://ca.api.ovh.com/1.0"
    assert resolve_endpoint("ovh-us") == "https://api.us.ovhcloud.com/1.0"
    assert len(ENDPOINTS) == 7
    assert (
        resolve_endpoint("https://127.0.0.1:8443/1.0/") == "https://127.0.0.1:8443/1.0"
    )
    with pytest.raises(ValueError, match="unknown OVH endpoint"):
        resolve_endpoint("ovh-mars")


def test_status_mapping() -> None:
    assert vps_status("running") is ResourceStatus.RUNNING
    assert vps_status("rescued") is ResourceStatus.RESCUED
    assert vps_status("upgrading") is ResourceStatus.UPGRADING
    assert vps_status("stopped", "startVm") is ResourceStatus.STARTING
    assert vps_status("weird") is ResourceStatus.UNKNOWN
    assert vps_status(None) is ResourceStatus.UNKNOWN
    task = parse_task({"id": 1, "state": "doing", "date": "not a date"})
    assert task.date is None
    assert not task.finished


def test_access_rules_cover_every_call() -> None:
    methods = {m for m, _ in ACCESS_RULES}
    assert methods == {"GET", "POST", "PUT", "DELETE"}
    assert ("GET", "/me") in ACCESS_RULES
    assert ("POST", "/vps/*/reboot") in ACCESS_RULES


# -- clock and auth -------------------------------------------------------------------
async def test_clock_offset(sim: OvhSimulator, client: OvhClient) -> None:
    sim.clock_skew = 600  # our clock is 10 minutes behind OVH's
    assert await client.list_services() == sorted(sim.vps)
    # Measured once, then every signed call is on time with the offset.
    assert await client.list_services() == sorted(sim.vps)
    assert sim.count("GET", "/1.0/auth/time") == 1


async def test_clock_drift_resynced_once(sim: OvhSimulator, client: OvhClient) -> None:
    await client.list_services()
    sim.clock_skew = -900  # the server clock jumped after our measure
    assert await client.list_services() == sorted(sim.vps)
    assert sim.count("GET", "/1.0/auth/time") == 2


async def test_stale_timestamp_without_resync_is_api_error(
    sim: OvhSimulator, client: OvhClient
) -> None:
    await client.list_services()
    sim.inject_error(400, "QUERY_TIME_OUT", "Query out of time", count=2)
    with pytest.raises(ApiError, match="Query out of time") as err:
        await client.list_services()
    assert err.value.code == 400


async def test_credential_flow(
    sim: OvhSimulator, session: aiohttp.ClientSession
) -> None:
    client = make_client(sim, session, consumer_key=None)
    request = await client.request_credential(redirection="https://ha.local/done")
    assert request.state == "pendingValidation"
    assert request.validation_url.startswith(f"{sim.url}/auth/?credentialToken=")
    assert request.consumer_key not in repr(request)
    rules = sim.credentials[request.consumer_key].rules
    assert [(r["method"], r["path"]) for r in rules] == list(ACCESS_RULES)
    assert await client.credential_status(request.consumer_key) == "pendingValidation"
    with pytest.raises(InvalidAuth, match="not valid"):
        await client.list_services()
    # The user opens the validation page.
    async with session.get(request.validation_url, ssl=False) as page:
        assert "WakeHub access granted" in await page.text()
    assert await client.credential_status() == "validated"
    assert await client.list_services() == sorted(sim.vps)
    assert await client.account_id() == sim.nichandle


async def test_credential_refused_and_expired(
    sim: OvhSimulator, session: aiohttp.ClientSession
) -> None:
    client = make_client(sim, session, consumer_key=None)
    with pytest.raises(InvalidAuth, match="no OVH consumer key"):
        await client.list_services()
    request = await client.request_credential()
    sim.refuse_credential(request.consumer_key)
    with pytest.raises(InvalidAuth, match="refused"):
        await client.credential_status(request.consumer_key)
    sim.expire_credential(request.consumer_key)
    with pytest.raises(InvalidAuth, match="expired"):
        await client.credential_status()
    sim.validate_credential(request.consumer_key)
    assert await client.credential_status() == "validated"


async def test_auto_validation(session: aiohttp.ClientSession) -> None:
    sim = OvhSimulator(vps_count=1, auto_validate_after=0.01)
    await sim.start()
    try:
        client = make_client(sim, session, consumer_key=None)
        request = await client.request_credential()
        await asyncio.sleep(0.05)
        assert await client.credential_status(request.consumer_key) == "validated"
    finally:
        await sim.stop()
    assert sim.violations == []


@pytest.mark.parametrize(
    ("changes", "match"),
    [
        ({"consumer_key": "unknownunknownunknownunknown1234"}, "does not exist"),
        ({"application_key": "nope"}, "Invalid application key"),
        ({"application_secret": "wrong-secret"}, "Invalid signature"),
    ],
)
async def test_bad_credentials(
    sim: OvhSimulator,
    session: aiohttp.ClientSession,
    changes: dict[str, str],
    match: str,
) -> None:
    client = make_client(sim, session, **changes)
    with pytest.raises(InvalidAuth, match=match):
        await client.list_services()


async def test_account_id_falls_back_to_application_key(
    sim: OvhSimulator, session: aiohttp.ClientSession
) -> None:
    ck = sim.add_credential(
        rules=[{"method": "GET", "path": "/vps"}], state="validated"
    )
    client = make_client(sim, session, consumer_key=ck)
    assert await client.account_id() == sim.application_key
    with pytest.raises(PermissionDenied) as err:
        await client.get_vps(first(sim))
    assert err.value.privilege == f"GET /vps/{first(sim)}"
    assert "not been granted" in str(err.value)


@pytest.mark.parametrize(
    ("status", "code", "error", "text"),
    [
        (400, "INVALID_BODY", ApiError, "bad body"),
        (401, "NOT_AUTHENTICATED", InvalidAuth, "login first"),
        (403, "NOT_GRANTED_CALL", PermissionDenied, "not been granted"),
        (403, "NOT_CREDENTIAL", InvalidAuth, "does not exist"),
        (403, "INVALID_KEY", InvalidAuth, "application key"),
        (403, "INVALID_CREDENTIAL", InvalidAuth, "not valid"),
        (403, "FORBIDDEN", PermissionDenied, "forbidden by policy"),
        (404, None, NotFound, "does not exist"),
        (409, None, Conflict, "already running on this VPS"),
        (460, None, ServiceExpired, "expired"),
        (500, "INTERNAL", ApiError, "internal failure"),
        (503, None, ApiError, "maintenance"),
    ],
)
async def test_error_mapping(
    sim: OvhSimulator,
    client: OvhClient,
    status: int,
    code: str | None,
    error: type[Exception],
    text: str,
) -> None:
    sim.inject_error(status, code, f"OVH says {text}", path_contains="/vps")
    with pytest.raises(error, match=text) as err:
        await client.get_vps(first(sim))
    if isinstance(err.value, ApiError):
        assert err.value.code == status
        assert err.value.message == f"OVH says {text}"


async def test_connection_and_tls_options(
    sim: OvhSimulator, session: aiohttp.ClientSession
) -> None:
    client = make_client(sim, session, endpoint="https://127.0.0.1:1/1.0")
    with pytest.raises(CannotConnect):
        await client.server_time()
    insecure = make_client(sim, session, fingerprint=None, verify_ssl=False)
    assert abs(await insecure.server_time() - time.time()) < 5


async def test_rate_limit_retried(sim: OvhSimulator, client: OvhClient) -> None:
    await client.list_services()
    sim.rate_limit(2, retry_after=0.01)
    assert await client.list_services() == sorted(sim.vps)
    assert sim.count("GET", "/1.0/vps") == 4


async def test_rate_limit_gives_up(sim: OvhSimulator, client: OvhClient) -> None:
    await client.list_services()
    sim.rate_limit(10, retry_after=0.01)
    with pytest.raises(RateLimited) as err:
        await client.list_services()
    assert err.value.retry_after == 0.01
    assert sim.count("GET", "/1.0/vps") == 1 + 4  # first call + 1 try + 3 retries


async def test_rate_limit_too_long_to_wait(
    sim: OvhSimulator, session: aiohttp.ClientSession
) -> None:
    client = make_client(sim, session, max_retry_delay=1)
    await client.list_services()
    sim.rate_limit(1, retry_after=3600)
    with pytest.raises(RateLimited) as err:
        await client.list_services()
    assert err.value.retry_after == 3600


# -- discovery and polling --------------------------------------------------------------
async def test_discovery(sim: OvhSimulator, client: OvhClient) -> None:
    found = await client.discover()
    assert [v.service_name for v in found] == sorted(sim.vps)
    web = next(v for v in found if v.display_name == "web")
    assert web.service_name.endswith(".vps.ovh.net")
    assert web.model is not None
    assert web.model.name == "VPS Elite 2025"
    assert web.model.vcore == 8
    assert web.status is ResourceStatus.RUNNING
    assert web.netboot_mode == "local"
    assert {v.status for v in found} == {ResourceStatus.RUNNING, ResourceStatus.STOPPED}


async def test_fast_poll_two_requests_per_vps(
    sim: OvhSimulator, client: OvhClient
) -> None:
    await client.sync_time()
    before = len(sim.requests)
    result = await client.fast_poll(sim.vps)
    assert len(sim.requests) - before == 2 * len(sim.vps)
    for name in sim.vps:
        state = result[name]
        assert isinstance(state, VpsState)
        assert state.running_task_ids == ()
        assert state.current_task is None
    assert sim.count("GET", "/1.0/vps/") == 2 * len(sim.vps)


async def test_fast_poll_describes_tasks(sim: OvhSimulator, client: OvhClient) -> None:
    sim.task_duration = 5
    name = first(sim)
    stopped = next(n for n, v in sim.vps.items() if v.state == "stopped")
    task = await client.start(stopped)
    # A task started elsewhere (the OVH manager): unknown to this client.
    sim.vps[name].tasks[1] = {
        "id": 1,
        "date": "2026-01-27T10:00:00+00:00",
        "progress": 5,
        "state": "doing",
        "type": "rebootVm",
    }
    await asyncio.sleep(0.05)  # todo -> doing
    result = await client.fast_poll([stopped, name])
    mine = result[stopped]
    assert isinstance(mine, VpsState)
    await asyncio.sleep(0.01)
    assert mine.current_task is not None
    assert mine.current_task.id == task.id
    assert mine.status is ResourceStatus.STARTING
    theirs = result[name]
    assert isinstance(theirs, VpsState)
    assert theirs.running_task_ids == (1,)
    assert theirs.current_task is None
    before = len(sim.requests)
    described = await client.poll_vps(name, describe_new_tasks=True)
    assert len(sim.requests) - before == 3
    assert described.status is ResourceStatus.REBOOTING
    before = len(sim.requests)
    await client.poll_vps(name, describe_new_tasks=True)
    assert len(sim.requests) - before == 2  # cached from now on


async def test_fast_poll_keeps_per_vps_errors(
    sim: OvhSimulator, client: OvhClient
) -> None:
    name = first(sim)
    sim.vps[name].expired = True
    result = await client.fast_poll(sim.vps)
    assert isinstance(result[name], ServiceExpired)
    assert sum(isinstance(r, VpsState) for r in result.values()) == len(sim.vps) - 1


async def test_benchmark_100_vps(session: aiohttp.ClientSession) -> None:
    sim = OvhSimulator(vps_count=100)
    await sim.start()
    try:
        client = make_client(sim, session)
        await client.sync_time()
        result = await client.fast_poll(await client.list_services())
        assert len(result) == 100
        assert sim.count("GET", "/1.0/vps/") == 200
    finally:
        await sim.stop()
    assert sim.violations == []


async def test_details(sim: OvhSimulator, client: OvhClient) -> None:
    result = {name: await client.get_details(name) for name in sim.vps}
    web = next(n for n, v in sim.vps.items() if v.display_name == "web")
    details = result[web]
    assert isinstance(details, VpsDetails)
    assert details.service_info is not None
    assert details.service_info.expiration == dt.date(2026, 12, 31)
    assert details.service_info.automatic_renew is True
    assert details.ipv4 == (sim.vps[web].ipv4,)
    assert details.ipv6 == (sim.vps[web].ipv6,)
    assert details.datacenter is not None
    assert details.datacenter.name == "gra"
    assert details.image is not None
    assert details.image.name == "Debian 12"
    assert details.snapshot is None
    # The automated backup and the figures are the VPS manager's: not read here.
    assert not any("automatedBackup" in r.path or r.path.endswith("/use") for r in sim.requests)  # fmt: skip


async def test_image_fallback_to_distribution(
    sim: OvhSimulator, client: OvhClient
) -> None:
    name = first(sim)
    sim.inject_error(
        400, None, "Not available for this range", path_contains="images/current"
    )
    image = await client.current_image(name)
    assert image is not None
    assert image.id == "1401"
    sim.inject_error(404, None, "gone", path_contains="images/current")
    sim.inject_error(404, None, "gone", path_contains="distribution")
    assert await client.current_image(name) is None
    sim.inject_error(500, None, "boom", path_contains="images/current")
    with pytest.raises(ApiError):
        await client.current_image(name)


# -- actions ----------------------------------------------------------------------------
async def test_stop_start_reboot(sim: OvhSimulator, client: OvhClient) -> None:
    name = first(sim)
    task = await client.stop(name)
    assert task.type == "stopVm"
    assert task.state == "todo"
    done = await client.wait_for_task(name, task.id, **FAST)
    assert done.state == "done"
    assert done.finished
    assert (await client.get_vps(name)).status is ResourceStatus.STOPPED
    task = await client.start(name)
    await client.wait_for_task(name, task.id, **FAST)
    assert (await client.get_vps(name)).status is ResourceStatus.RUNNING
    task = await client.reboot(name)
    await asyncio.sleep(0.01)
    assert (await client.get_vps(name)).state == "rebooting"
    await client.wait_for_task(name, task.id, **FAST)
    assert (await client.get_vps(name)).state == "running"


async def test_conflict_during_task(sim: OvhSimulator, client: OvhClient) -> None:
    name = first(sim)
    await client.reboot(name)
    with pytest.raises(Conflict, match="already running on this VPS"):
        await client.stop(name)


async def test_task_failure_and_timeout(sim: OvhSimulator, client: OvhClient) -> None:
    name = first(sim)
    sim.fail_next_task(name)
    task = await client.reboot(name)
    with pytest.raises(TaskFailed, match=r"rebootVm .* ended in state error"):
        await client.wait_for_task(name, task.id, **FAST)
    sim.task_duration = 5
    task = await client.reboot(name)
    with pytest.raises(TaskFailed, match="still"):
        await client.wait_for_task(name, task.id, timeout=0.05, interval=0.02)


async def test_task_purged_is_done(sim: OvhSimulator, client: OvhClient) -> None:
    name = first(sim)
    sim.task_duration = 5
    task = await client.reboot(name)
    with pytest.raises(NotFound):
        await client.wait_for_task(name, 999, **FAST)
    await client.get_task(name, task.id)

    async def purge_soon() -> None:
        await asyncio.sleep(0.03)
        sim.forget_task(name, task.id)

    purge = asyncio.create_task(purge_soon())
    done = await client.wait_for_task(name, task.id, **FAST)
    await purge
    assert done.state == "done"


async def test_rescue(sim: OvhSimulator, client: OvhClient) -> None:
    name = first(sim)
    task = await client.rescue(name, enabled=True)
    assert sim.vps[name].netboot_mode == "rescue"
    await client.wait_for_task(name, task.id, **FAST)
    assert (await client.get_vps(name)).status is ResourceStatus.RESCUED
    task = await client.rescue(name, enabled=False)
    await client.wait_for_task(name, task.id, **FAST)
    assert (await client.get_vps(name)).status is ResourceStatus.RUNNING
    assert sim.count("PUT", f"/1.0/vps/{name}") == 2


async def test_snapshot_lifecycle(sim: OvhSimulator, client: OvhClient) -> None:
    name = first(sim)
    assert await client.get_snapshot(name) is None
    with pytest.raises(NotFound):
        await client.snapshot_download(name)
    task = await client.create_snapshot(name, "before upgrade")
    assert task.type == "createSnapshot"
    await client.wait_for_task(name, task.id, **FAST)
    snapshot = await client.get_snapshot(name)
    assert snapshot is not None
    assert snapshot.description == "before upgrade"
    assert snapshot.creation_date is not None
    with pytest.raises(Conflict, match="already has a snapshot"):
        await client.create_snapshot(name)
    download = await client.snapshot_download(name)
    assert download.url.startswith("https://storage.")
    assert download.size
    task = await client.restore_snapshot(name)
    await client.wait_for_task(name, task.id, **FAST)
    task = await client.delete_snapshot(name)
    await client.wait_for_task(name, task.id, **FAST)
    assert await client.get_snapshot(name) is None
    task = await client.create_snapshot(name)  # no description: empty body
    await client.wait_for_task(name, task.id, **FAST)


async def test_snapshot_option_missing(sim: OvhSimulator, client: OvhClient) -> None:
    name = next(n for n, v in sim.vps.items() if not v.snapshot_option)
    with pytest.raises(ApiError, match="snapshot option"):
        await client.create_snapshot(name, "x")


async def test_console_images_rebuild_password(
    sim: OvhSimulator, client: OvhClient
) -> None:
    name = first(sim)
    url = await client.console_url(name)
    assert url.startswith("https://compute.")
    images = await client.list_images(name)
    assert {i.name for i in images} == {"Debian 12", "Ubuntu 24.04", "AlmaLinux 9"}
    ubuntu = next(i for i in images if i.name == "Ubuntu 24.04")
    with pytest.raises(ValueError, match="SSH key"):
        await client.rebuild(name, ubuntu.id, do_not_send_password=True)
    task = await client.rebuild(
        name,
        ubuntu.id,
        public_ssh_key="ssh-ed25519 AAAAC3Nza me@home",
        do_not_send_password=True,
    )
    assert task.type == "reinstallVm"
    await client.wait_for_task(name, task.id, **FAST)
    assert (await client.current_image(name)).name == "Ubuntu 24.04"  # type: ignore[union-attr]
    task = await client.rebuild(name, ubuntu.id, ssh_key="my-key")
    await client.wait_for_task(name, task.id, **FAST)
    with pytest.raises(ApiError, match="not available"):
        await client.rebuild(name, "no-such-image")
    task = await client.reset_password(name)
    assert task.type == "changeRootPassword"
    await client.wait_for_task(name, task.id, **FAST)


async def test_unknown_vps(sim: OvhSimulator, client: OvhClient) -> None:
    with pytest.raises(NotFound, match="does not exist"):
        await client.get_vps("vps-00000000.vps.ovh.net")


async def test_backup_disabled_and_no_image(
    sim: OvhSimulator, client: OvhClient
) -> None:
    name = first(sim)
    sim.vps[name].automated_backup = "disabled"
    backup = await client.backup_option(name)
    assert backup is not None
    assert backup.state == "disabled"
    assert not backup.enabled


def test_defensive_parsing() -> None:
    from custom_components.wakehub.api.ovh import error_map, models

    assert error_map.error_payload(b"<html>Bad gateway</html>") == (
        "<html>Bad gateway</html>",
        None,
    )
    assert error_map.error_payload(b"") == ("no message", None)
    assert error_map.error_payload(b'["odd"]') == ("no message", None)
    assert error_map.error_payload(b'"quota exceeded"') == ("quota exceeded", None)
    assert error_map.parse_retry_after("soon") is None
    assert error_map.parse_retry_after(None) is None
    assert models.parse_date("31/12/2026") is None
    assert models.parse_date(None) is None
    assert models.parse_datetime(42) is None
    info = models.parse_vps("vps-x", {"state": "running", "model": "odd"})
    assert info.model is None
    assert info.display_name == "vps-x"
    assert info.status is ResourceStatus.RUNNING


async def test_task_cache_is_bounded(client: OvhClient) -> None:
    for task_id in range(1002):
        client._remember("vps-x", parse_task({"id": task_id, "state": "done"}))
    assert len(client._tasks) < 1002
