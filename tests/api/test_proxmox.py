"""Proxmox VE client against the simulator, over real sockets on loopback."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
import contextlib
import socket
from typing import Any
from urllib.parse import quote

import aiohttp
import pytest

from custom_components.wakehub.api import proxmox
from custom_components.wakehub.api.errors import (
    ApiError,
    CannotConnect,
    CertificateError,
    Conflict,
    ConnectionTimeout,
    InvalidAuth,
    NotFound,
    NotThatKind,
    PermissionDenied,
    TaskFailed,
)
from custom_components.wakehub.api.models import ResourceStatus
from custom_components.wakehub.api.proxmox import (
    ActionNotSupported,
    GuestRef,
    InvalidSnapshotName,
    ProxmoxClient,
    ProxmoxGuest,
    TaskTimeout,
)
from custom_components.wakehub.api.proxmox.connection import (
    TICKET_RENEW_AFTER,
    normalize_url,
)
from custom_components.wakehub.api.proxmox.models import (
    counter_rate,
    guest_status,
    upid_node,
    validate_snapshot_name,
)
from custom_components.wakehub.api.tls import fetch_fingerprint, format_fingerprint
from tests.contract import spec_path
from tests.contract.pve import SPEC_NAME
from tests.simulators.base import SelfSignedCertificate
from tests.simulators.proxmox import (
    DEFAULT_PASSWORD,
    DEFAULT_TOKEN_SECRET,
    NotProxmoxSimulator,
    ProxmoxSimulator,
)

FAST = 0.01  # task polling interval in tests

type ClientFactory = Callable[..., ProxmoxClient]


@pytest.fixture
async def sim() -> AsyncIterator[ProxmoxSimulator]:
    spec_path(SPEC_NAME)  # skip clearly when the vendor schema is absent
    simulator = ProxmoxSimulator()
    await simulator.start()
    yield simulator
    await simulator.stop()
    assert simulator.violations == []


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client_session:
        yield client_session


@pytest.fixture
def make_client(sim: ProxmoxSimulator, session: aiohttp.ClientSession) -> ClientFactory:
    def factory(**kwargs: Any) -> ProxmoxClient:
        options: dict[str, Any] = {
            "username": "root@pam",
            "fingerprint": sim.fingerprint,
        }
        if "password" not in kwargs:
            options |= {"token_id": "wakehub", "token_secret": DEFAULT_TOKEN_SECRET}
        options |= kwargs
        return ProxmoxClient(session, kwargs.pop("url", sim.url), **options)

    return factory


@pytest.fixture
def client(make_client: ClientFactory) -> ProxmoxClient:
    return make_client()


@contextlib.asynccontextmanager
async def _rejected_handshakes() -> AsyncIterator[None]:
    """Let the client refuse the simulator's certificate without failing the test.

    The test harness runs the loop in debug mode, where asyncio reports the
    server side of an aborted TLS handshake (ConnectionResetError) as an
    uncaught error; that is the expected outcome here, so debug is off meanwhile.
    """
    loop = asyncio.get_running_loop()
    debug = loop.get_debug()
    loop.set_debug(False)
    try:
        yield
        await asyncio.sleep(0.05)  # let the server notice the abort quietly
    finally:
        loop.set_debug(debug)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# -- pure helpers ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("pve.lan", "https://pve.lan:8006"),
        ("192.168.1.10", "https://192.168.1.10:8006"),
        ("https://pve.lan:8006/", "https://pve.lan:8006"),
        ("https://pve.lan", "https://pve.lan:8006"),
        ("http://pve.lan:8080", "http://pve.lan:8080"),
        (" pve.lan:443 ", "https://pve.lan:443"),
        ("https://[fd00::1]", "https://[fd00::1]:8006"),
        ("https://pve.lan:8006/#v1:0:18:4", "https://pve.lan:8006"),
    ],
)
def test_normalize_url(given: str, expected: str) -> None:
    assert normalize_url(given) == expected


@pytest.mark.parametrize("bad", ["", "ftp://pve.lan", "https://"])
def test_normalize_url_refuses(bad: str) -> None:
    with pytest.raises(ValueError, match="URL"):
        normalize_url(bad)


@pytest.mark.parametrize(
    "name", ["1abc", "a", "with space", "x" * 41, "current", "été", "a.b"]
)
def test_snapshot_name_refused(name: str) -> None:
    with pytest.raises(InvalidSnapshotName):
        validate_snapshot_name(name)


@pytest.mark.parametrize("name", ["ab", "before_update-2", "A" * 40])
def test_snapshot_name_accepted(name: str) -> None:
    assert validate_snapshot_name(name) == name


def test_counter_rate() -> None:
    assert counter_rate(1000, 3000, 2) == 1000
    assert counter_rate(3000, 1000, 2) is None  # counter reset (guest restarted)
    assert counter_rate(None, 1000, 2) is None
    assert counter_rate(1000, 2000, 0) is None


@pytest.mark.parametrize(
    ("status", "lock", "expected"),
    [
        ("running", None, ResourceStatus.RUNNING),
        ("stopped", None, ResourceStatus.STOPPED),
        ("unknown", None, ResourceStatus.UNKNOWN),
        ("paused", None, ResourceStatus.PAUSED),
        ("running", "backup", ResourceStatus.BACKUPING),
        ("running", "migrate", ResourceStatus.MAINTENANCE),
        ("stopped", "create", ResourceStatus.INSTALLING),
        ("running", "suspended", ResourceStatus.PAUSED),
        ("running", "snapshot", ResourceStatus.RUNNING),
        ("weird", None, ResourceStatus.UNKNOWN),
    ],
)
def test_guest_status(status: str, lock: str | None, expected: ResourceStatus) -> None:
    guest = ProxmoxGuest(
        vmid=100, type="qemu", name="a", node="n", status=status, lock=lock
    )
    assert guest_status(guest) is expected
    assert guest.resource_status is expected


def test_upid_node() -> None:
    assert upid_node("UPID:pve2:0001:0002:0003:qmstart:100:root@pam:") == "pve2"
    with pytest.raises(ValueError, match="task id"):
        upid_node("not-a-upid")


async def test_credentials_required(session: aiohttp.ClientSession) -> None:
    with pytest.raises(ValueError, match="password"):
        ProxmoxClient(session, "pve.lan", username="root@pam", token_id="x")


# -- connection test ----------------------------------------------------------------------


async def test_check_with_token(sim: ProxmoxSimulator, client: ProxmoxClient) -> None:
    identity = await client.check()
    assert identity.name == "homelab"
    assert identity.is_cluster
    assert identity.nodes == ("pve1", "pve2")
    assert identity.version == "9.1.3"
    assert identity.privileges is not None
    assert {"VM.Audit", "VM.PowerMgmt", "VM.Snapshot"} <= identity.privileges
    assert identity.missing_privileges == ()
    auth = {r.path for r in sim.requests}
    assert "/api2/json/access/ticket" not in auth


async def test_full_token_id_accepted(make_client: ClientFactory) -> None:
    identity = await make_client(token_id="root@pam!wakehub").check()
    assert identity.name == "homelab"


async def test_standalone_host_named_after_node(
    session: aiohttp.ClientSession,
) -> None:
    spec_path(SPEC_NAME)
    standalone = ProxmoxSimulator(cluster_name=None, node_names=("pve",))
    await standalone.start()
    try:
        client = ProxmoxClient(
            session,
            standalone.url,
            username="root@pam",
            password=DEFAULT_PASSWORD,
            verify_ssl=False,
        )
        identity = await client.check()
        assert (identity.name, identity.is_cluster, identity.nodes) == (
            "pve",
            False,
            ("pve",),
        )
    finally:
        await standalone.stop()
    assert standalone.violations == []


def test_standalone_needs_one_node() -> None:
    with pytest.raises(ValueError, match="one node"):
        ProxmoxSimulator(cluster_name=None)


async def test_wrong_token_secret(make_client: ClientFactory) -> None:
    with pytest.raises(InvalidAuth):
        await make_client(token_secret="wrong").check()


async def test_wrong_password(
    sim: ProxmoxSimulator, make_client: ClientFactory
) -> None:
    with pytest.raises(InvalidAuth) as info:
        await make_client(password="wrong").check()
    assert "wrong" not in str(info.value)
    assert sim.count("POST", "/api2/json/access/ticket") == 1


async def test_unknown_user(make_client: ClientFactory) -> None:
    with pytest.raises(InvalidAuth):
        await make_client(username="nobody@pve", password="x").check()


async def test_unreachable_port(session: aiohttp.ClientSession) -> None:
    client = ProxmoxClient(
        session, f"https://127.0.0.1:{_free_port()}", username="u@pam", password="p"
    )
    with pytest.raises(CannotConnect) as info:
        await client.check()
    assert not isinstance(info.value, ConnectionTimeout)


async def test_timeout(session: aiohttp.ClientSession) -> None:
    async def silent(
        reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        await reader.read()  # accept, never answer, until the client gives up
        writer.close()

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        client = ProxmoxClient(
            session,
            f"https://127.0.0.1:{port}",
            username="root@pam",
            token_id="wakehub",
            token_secret="s",
            request_timeout=0.2,
        )
        with pytest.raises(ConnectionTimeout):
            await client.check()
    finally:
        server.close()
        await server.wait_closed()


async def test_untrusted_certificate_then_pin(
    sim: ProxmoxSimulator, make_client: ClientFactory
) -> None:
    async with _rejected_handshakes():
        with pytest.raises(CertificateError):
            await make_client(fingerprint=None, verify_ssl=True).check()
    # The config flow then offers to pin what the server presents.
    fingerprint = await fetch_fingerprint("127.0.0.1", sim.port)
    assert fingerprint == sim.fingerprint
    assert (await make_client(fingerprint=fingerprint).check()).name == "homelab"


async def test_verify_ssl_off(make_client: ClientFactory) -> None:
    assert (await make_client(fingerprint=None, verify_ssl=False).check()).nodes


async def test_changed_certificate(
    sim: ProxmoxSimulator, make_client: ClientFactory
) -> None:
    old = format_fingerprint(SelfSignedCertificate.generate().der)
    async with _rejected_handshakes():
        with pytest.raises(CertificateError) as info:
            await make_client(fingerprint=old).check()
    assert info.value.fingerprint == sim.fingerprint


@pytest.mark.parametrize("kind", ["html", "json", "data"])
@pytest.mark.parametrize("password", [None, "p"])
async def test_not_proxmox(
    session: aiohttp.ClientSession, kind: str, password: str | None
) -> None:
    other = NotProxmoxSimulator(kind=kind)
    await other.start()
    try:
        auth: dict[str, Any] = (
            {"password": password}
            if password
            else {"token_id": "wakehub", "token_secret": "s"}
        )
        client = ProxmoxClient(
            session, other.url, username="root@pam", verify_ssl=False, **auth
        )
        with pytest.raises(NotThatKind):
            await client.check()
    finally:
        await other.stop()


async def test_web_server_without_api(session: aiohttp.ClientSession) -> None:
    """A plain web server answering 404 pages is not Proxmox either."""
    from aiohttp import web

    runner = web.AppRunner(web.Application())
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        client = ProxmoxClient(
            session, f"http://127.0.0.1:{port}", username="u@pam", password="p"
        )
        with pytest.raises(NotThatKind):
            await client.check()
    finally:
        await runner.cleanup()


@pytest.mark.parametrize(
    ("privileges", "missing"),
    [(set(), "VM.Audit"), ({"VM.Audit"}, "VM.PowerMgmt")],
)
async def test_token_missing_privilege(
    sim: ProxmoxSimulator,
    make_client: ClientFactory,
    privileges: set[str],
    missing: str,
) -> None:
    sim.add_token("root@pam", "limited", "limited-secret", frozenset(privileges))
    client = make_client(token_id="limited", token_secret="limited-secret")
    with pytest.raises(PermissionDenied) as info:
        await client.check()
    assert info.value.privilege == missing


async def test_least_privilege_token(
    sim: ProxmoxSimulator, make_client: ClientFactory
) -> None:
    """Without Sys.Audit the cluster name is unreadable: nodes come from resources;
    without VM.Snapshot the check passes but says so, and snapshots are refused."""
    sim.add_token(
        "root@pam", "power", "power-secret", frozenset({"VM.Audit", "VM.PowerMgmt"})
    )
    client = make_client(token_id="power", token_secret="power-secret")
    identity = await client.check()
    assert identity.name == "pve1"
    assert identity.nodes == ("pve1", "pve2")
    assert identity.missing_privileges == ("VM.Snapshot",)
    guest = GuestRef("pve1", "qemu", 100)
    with pytest.raises(PermissionDenied) as info:
        await client.create_snapshot(guest, "before")
    assert info.value.privilege == "VM.Snapshot"
    assert "/vms/100" in str(info.value)


async def test_action_without_power_privilege(
    sim: ProxmoxSimulator, make_client: ClientFactory
) -> None:
    sim.add_token("root@pam", "audit", "audit-secret", frozenset({"VM.Audit"}))
    client = make_client(token_id="audit", token_secret="audit-secret")
    with pytest.raises(PermissionDenied) as info:
        await client.start(GuestRef("pve1", "qemu", 101))
    assert info.value.privilege == "VM.PowerMgmt"


# -- password tickets ------------------------------------------------------------------------


async def test_password_ticket_and_csrf(
    sim: ProxmoxSimulator, make_client: ClientFactory
) -> None:
    client = make_client(password=DEFAULT_PASSWORD)
    await client.check()
    upid = await client.start(GuestRef("pve1", "qemu", 101))
    await client.wait_for_task("pve1", upid, interval=FAST)
    assert sim.count("POST", "/api2/json/access/ticket") == 1
    assert all(r.status == 200 for r in sim.requests)
    assert sim.guests[101].status == "running"


async def test_csrf_token_required_on_writes(
    sim: ProxmoxSimulator, session: aiohttp.ClientSession, make_client: ClientFactory
) -> None:
    client = make_client(password=DEFAULT_PASSWORD)
    await client.fetch_state()
    ticket = next(iter(sim.tickets))
    async with session.post(
        f"{sim.url}/api2/json/nodes/pve1/qemu/101/status/start",
        headers={"Cookie": f"PVEAuthCookie={quote(ticket, safe='')}"},
        ssl=False,
    ) as response:
        assert response.status == 401
        assert response.reason == "Permission denied - invalid csrf token"
    assert sim.guests[101].status == "stopped"


async def test_ticket_renewed_before_expiry(
    sim: ProxmoxSimulator, make_client: ClientFactory
) -> None:
    client = make_client(password=DEFAULT_PASSWORD)
    await client.fetch_state()
    client._ticket_time -= TICKET_RENEW_AFTER + 1
    await client.fetch_state()
    assert sim.count("POST", "/api2/json/access/ticket") == 2
    assert all(r.status == 200 for r in sim.requests)


async def test_ticket_renewed_on_401(
    sim: ProxmoxSimulator, make_client: ClientFactory
) -> None:
    client = make_client(password=DEFAULT_PASSWORD)
    await client.fetch_state()
    sim.expire_tickets()
    state = await client.fetch_state()
    assert 100 in state.guests
    assert sim.count("POST", "/api2/json/access/ticket") == 2
    assert [r.status for r in sim.requests if r.path.endswith("/resources")] == [
        200,
        401,
        200,
    ]


async def test_password_changed_after_login(
    sim: ProxmoxSimulator, make_client: ClientFactory
) -> None:
    client = make_client(password=DEFAULT_PASSWORD)
    await client.fetch_state()
    sim.expire_tickets()
    sim.passwords["root@pam"] = "changed"
    with pytest.raises(InvalidAuth):
        await client.fetch_state()


# -- discovery and polling -----------------------------------------------------------------


async def test_discovery_excludes_templates(client: ProxmoxClient) -> None:
    guests = await client.discover()
    assert [(g.vmid, g.type, g.node, g.status) for g in guests] == [
        (100, "qemu", "pve1", "running"),
        (101, "qemu", "pve1", "stopped"),
        (102, "lxc", "pve2", "running"),
        (103, "lxc", "pve2", "stopped"),
        (104, "qemu", "pve2", "running"),
    ]
    assert guests[0].name == "docker"
    assert guests[4].lock == "backup"
    assert guests[4].resource_status is ResourceStatus.BACKUPING


async def test_one_request_per_refresh(
    sim: ProxmoxSimulator, make_client: ClientFactory
) -> None:
    for client in (make_client(), make_client(password=DEFAULT_PASSWORD)):
        await client.fetch_state()  # the password client logs in first
        sim.requests.clear()
        state = await client.fetch_state()
        assert [(r.method, r.path) for r in sim.requests] == [
            ("GET", "/api2/json/cluster/resources")
        ]
        assert set(state.nodes) == {"pve1", "pve2"}
        assert set(state.guests) == {100, 101, 102, 103, 104, 9000}
        assert state.guests[9000].template


async def test_state_figures(sim: ProxmoxSimulator, client: ProxmoxClient) -> None:
    sim.guests[102].name = "pihole"
    state = await client.fetch_state()
    node = state.nodes["pve1"]
    assert node.online
    assert node.cpu is not None
    assert 0 <= node.cpu <= 1
    assert node.mem
    assert node.maxmem
    assert node.mem <= node.maxmem
    assert node.uptime
    assert node.uptime > 0
    guest = state.guests[100]
    assert guest.cpu is not None
    assert guest.maxcpu == 2
    assert guest.mem
    assert guest.maxmem
    assert guest.disk
    assert guest.maxdisk
    assert guest.netin
    assert guest.netout
    assert guest.uptime
    stopped = state.guests[101]
    assert (stopped.uptime, stopped.mem, stopped.netin) == (0, 0, 0)


async def test_large_cluster_one_request(session: aiohttp.ClientSession) -> None:
    spec_path(SPEC_NAME)
    big = ProxmoxSimulator(node_count=3, guest_count=1000)
    await big.start()
    try:
        client = ProxmoxClient(
            session,
            big.url,
            username="root@pam",
            token_id="wakehub",
            token_secret=DEFAULT_TOKEN_SECRET,
            fingerprint=big.fingerprint,
        )
        state = await client.fetch_state()
        assert len(state.guests) == 1000
        assert set(state.nodes) == {"pve1", "pve2", "pve3"}
        assert len(big.requests) == 1
    finally:
        await big.stop()
    assert big.violations == []


async def test_offline_node(sim: ProxmoxSimulator, client: ProxmoxClient) -> None:
    sim.set_node_online("pve2", False)
    state = await client.fetch_state()
    assert not state.nodes["pve2"].online
    assert state.nodes["pve2"].uptime is None
    assert state.guests[102].status == "unknown"
    assert state.guests[102].resource_status is ResourceStatus.UNKNOWN
    assert state.guests[100].status == "running"
    with pytest.raises(CannotConnect):
        await client.shutdown(state.guests[102])
    sim.set_node_online("pve2", True)
    assert (await client.fetch_state()).guests[102].status == "running"


async def test_locate_and_migration(
    sim: ProxmoxSimulator, client: ProxmoxClient
) -> None:
    before = await client.locate(101)
    sim.migrate(101, "pve2")
    assert (await client.locate(101)).node == "pve2"
    assert (await client.fetch_state()).guests[101].node == "pve2"
    # An action with the old node follows the guest by vmid.
    upid = await client.start(before)
    assert upid_node(upid) == "pve2"
    await client.wait_for_task(upid_node(upid), upid, interval=FAST)
    assert sim.guests[101].status == "running"
    with pytest.raises(NotFound):
        await client.locate(999)
    with pytest.raises(NotFound):
        await client.start(GuestRef("pve1", "qemu", 999))
    with pytest.raises(KeyError):
        sim.migrate(101, "pve9")


# -- actions -------------------------------------------------------------------------------


async def _run(client: ProxmoxClient, upid: str) -> proxmox.ProxmoxTask:
    return await client.wait_for_task(upid_node(upid), upid, interval=FAST)


async def test_power_cycle_qemu(sim: ProxmoxSimulator, client: ProxmoxClient) -> None:
    guest = GuestRef("pve1", "qemu", 101)
    task = await _run(client, await client.start(guest))
    assert task.ok
    assert task.type == "qmstart"
    assert (await client.locate(101)).status == "running"
    uptime_before = sim.guests[101].started_at
    await _run(client, await client.reboot(guest))
    await _run(client, await client.reset(guest))
    assert sim.guests[101].started_at != uptime_before
    await _run(client, await client.suspend(guest))
    assert sim.guests[101].paused
    await _run(client, await client.resume(guest))
    assert not sim.guests[101].paused
    await _run(client, await client.shutdown(guest))
    assert (await client.locate(101)).status == "stopped"
    await _run(client, await client.start(guest))
    await _run(client, await client.stop(guest))
    assert sim.guests[101].status == "stopped"


async def test_power_cycle_lxc(sim: ProxmoxSimulator, client: ProxmoxClient) -> None:
    guest = (await client.fetch_state()).guests[103]
    task = await _run(client, await client.start(guest))
    assert task.type == "vzstart"
    await _run(client, await client.reboot(guest))
    await _run(client, await client.shutdown(guest))
    assert sim.guests[103].status == "stopped"


async def test_reset_refused_on_lxc(
    sim: ProxmoxSimulator, client: ProxmoxClient
) -> None:
    sim.requests.clear()
    with pytest.raises(ActionNotSupported):
        await client.reset(GuestRef("pve2", "lxc", 102))
    assert sim.requests == []


async def test_locked_guest_task_fails_with_proxmox_text(
    sim: ProxmoxSimulator, client: ProxmoxClient
) -> None:
    upid = await client.shutdown(GuestRef("pve2", "qemu", 104))
    with pytest.raises(TaskFailed) as info:
        await client.wait_for_task("pve2", upid, interval=FAST)
    assert str(info.value) == "VM is locked (backup)"
    sim.set_locked(103, "snapshot")
    upid = await client.start(GuestRef("pve2", "lxc", 103))
    with pytest.raises(TaskFailed, match=r"^CT is locked \(snapshot\)$"):
        await _run(client, upid)


async def test_locked_guest_reset_conflict(client: ProxmoxClient) -> None:
    with pytest.raises(Conflict, match="VM is locked"):
        await client.reset(GuestRef("pve2", "qemu", 104))


async def test_task_failure_text(sim: ProxmoxSimulator, client: ProxmoxClient) -> None:
    sim.fail_next("start", "start failed: QEMU exited with code 1")
    upid = await client.start(GuestRef("pve1", "qemu", 101))
    with pytest.raises(TaskFailed, match=r"^start failed: QEMU exited with code 1$"):
        await _run(client, upid)
    assert sim.guests[101].status == "stopped"
    # Starting a running guest: the task says so.
    upid = await client.start(GuestRef("pve1", "qemu", 100))
    with pytest.raises(TaskFailed, match="already running"):
        await _run(client, upid)


async def test_action_on_stopped_guest(client: ProxmoxClient) -> None:
    with pytest.raises(ApiError) as info:
        await client.shutdown(GuestRef("pve1", "qemu", 101))
    assert info.value.code == 500
    assert info.value.message == "VM 101 not running"


async def test_task_timeout(sim: ProxmoxSimulator, client: ProxmoxClient) -> None:
    sim.start_delay = 0.5
    upid = await client.start(GuestRef("pve1", "qemu", 101))
    with pytest.raises(TaskTimeout):
        await client.wait_for_task("pve1", upid, timeout=0.05, interval=FAST)
    task = await client.task_status("pve1", upid)
    assert task.running
    assert not task.ok
    await client.wait_for_task("pve1", upid, interval=0.05)


# -- snapshots -------------------------------------------------------------------------------


async def test_snapshots_crud(sim: ProxmoxSimulator, client: ProxmoxClient) -> None:
    vm = GuestRef("pve1", "qemu", 100)
    assert await client.list_snapshots(vm) == []
    task = await _run(
        client,
        await client.create_snapshot(vm, "before_update", "pre 9.1", include_ram=True),
    )
    assert task.type == "qmsnapshot"
    await _run(client, await client.create_snapshot(vm, "after-update"))
    snapshots = await client.list_snapshots(vm)
    assert [(s.name, s.parent, s.vmstate) for s in snapshots] == [
        ("before_update", None, True),
        ("after-update", "before_update", False),
    ]
    assert snapshots[0].description == "pre 9.1"
    assert snapshots[0].snaptime
    await _run(client, await client.rollback_snapshot(vm, "before_update"))
    assert sim.guests[100].status == "running"  # the RAM state was restored
    await _run(client, await client.delete_snapshot(vm, "before_update"))
    remaining = await client.list_snapshots(vm)
    assert [(s.name, s.parent) for s in remaining] == [("after-update", None)]
    await _run(client, await client.rollback_snapshot(vm, "after-update"))
    assert sim.guests[100].status == "stopped"


async def test_snapshot_lxc(sim: ProxmoxSimulator, client: ProxmoxClient) -> None:
    ct = GuestRef("pve2", "lxc", 102)
    with pytest.raises(ActionNotSupported):
        await client.create_snapshot(ct, "with-ram", include_ram=True)
    await _run(client, await client.create_snapshot(ct, "plain"))
    assert [s.name for s in await client.list_snapshots(ct)] == ["plain"]
    with pytest.raises(TaskFailed, match="snapshot name 'plain' already used"):
        await _run(client, await client.create_snapshot(ct, "plain"))


async def test_snapshot_errors(sim: ProxmoxSimulator, client: ProxmoxClient) -> None:
    vm = GuestRef("pve1", "qemu", 100)
    sim.requests.clear()
    with pytest.raises(InvalidSnapshotName):
        await client.create_snapshot(vm, "1-bad")
    with pytest.raises(InvalidSnapshotName):
        await client.delete_snapshot(vm, "current")
    assert sim.requests == []
    with pytest.raises(NotFound, match="snapshot 'missing' does not exist"):
        await client.rollback_snapshot(vm, "missing")
    upid = await client.create_snapshot(GuestRef("pve2", "qemu", 104), "during-backup")
    with pytest.raises(TaskFailed, match=r"VM is locked \(backup\)"):
        await _run(client, upid)


async def test_simulator_refuses_bad_snapshot_name(
    sim: ProxmoxSimulator, client: ProxmoxClient
) -> None:
    """Proxmox's own parameter check, and the contract catching the request."""
    with pytest.raises(ApiError) as info:
        await client._request(
            "POST", "/nodes/pve1/qemu/100/snapshot", form={"snapname": "1-bad"}
        )
    assert info.value.code == 400
    assert "Parameter verification failed." in info.value.message
    assert "snapname: invalid format" in info.value.message
    assert any("snapname" in v for v in sim.violations)
    sim.violations.clear()


async def test_unknown_endpoint(sim: ProxmoxSimulator, client: ProxmoxClient) -> None:
    with pytest.raises(ApiError) as info:
        await client._request("GET", "/nodes/pve1/bogus")
    assert info.value.code == 501
    assert "not implemented" in info.value.message
    assert sim.violations == [
        "GET /nodes/pve1/bogus: no such endpoint in the Proxmox API"
    ]
    sim.violations.clear()


async def test_home_assistant_proxmoxve_endpoints(
    sim: ProxmoxSimulator, client: ProxmoxClient
) -> None:
    """What Home Assistant's own integration reads, for the benchmark."""
    assert await client._request("GET", "/access/permissions")
    nodes = await client._request("GET", "/nodes")
    assert [n["node"] for n in nodes] == ["pve1", "pve2"]
    qemu = await client._request("GET", "/nodes/pve1/qemu")
    assert {g["vmid"] for g in qemu} == {100, 101, 9000}
    lxc = await client._request("GET", "/nodes/pve2/lxc")
    assert {g["vmid"] for g in lxc} == {102, 103}
    assert await client._request("GET", "/nodes/pve1/storage")
    await _run(client, await client.start(GuestRef("pve1", "qemu", 101)))
    tasks = await client._request(
        "GET", "/nodes/pve1/tasks", params={"typefilter": "qmstart", "limit": "1"}
    )
    assert tasks[0]["status"] == "OK"
    assert (await client._request("GET", "/nodes/pve1/version"))["version"]
    assert await client._request("GET", "/nodes/pve1/apt/update") == []
    assert await client._request("GET", "/version")
    for path in (
        "/nodes/pve1/qemu/100/status/current",
        "/nodes/pve2/lxc/102/status/current",
    ):
        assert (await client._request("GET", path))["status"] == "running"
    sim.set_node_online("pve2", False)
    nodes = await client._request("GET", "/nodes")
    assert nodes[1] == {"node": "pve2", "level": "", "status": "offline"}
