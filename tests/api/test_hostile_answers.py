"""Nothing a server sends can crash a client: property-based, over real sockets.

For each client, hypothesis picks a request the integration makes and an answer
(any JSON value, the real answer with one field replaced, the real answer cut
short, HTML, an empty or oversized body, odd statuses and content types). The
simulator serves that answer instead of its own (`HttpSimulator.inject`); the
client must parse it or raise a WakeHubError, and an answer no client can read
as a success must be an error.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
import re
from typing import Any

import aiohttp
from hypothesis import given, strategies as st
import pytest

from custom_components.wakehub.api.docker import DockerClient
from custom_components.wakehub.api.errors import (
    InvalidResponse,
    NotThatKind,
    WakeHubError,
)
from custom_components.wakehub.api.machine import (
    MachineClient,
    MachineMetrics,
    SshCredentials,
    parse_metrics,
)
from custom_components.wakehub.api.ovh import OvhClient
from custom_components.wakehub.api.proxmox import GuestRef, ProxmoxClient
from tests.api.hostile import HOSTILE, Answer, answers, outcome
from tests.simulators.base import HttpSimulator
from tests.simulators.docker import DockerSimulator
from tests.simulators.machine import LINUX_METRICS_OUTPUT, MachineSimulator
from tests.simulators.ovh import OvhSimulator
from tests.simulators.proxmox import DEFAULT_TOKEN_SECRET, ProxmoxSimulator

type Call[C] = Callable[[C], Awaitable[Any]]


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client_session:
        yield client_session


async def _serve_and_call[C](
    sim: HttpSimulator, path: str, answer: Answer, client: C, call: Call[C]
) -> Any:
    """Serve `answer` on `path` until the call returns; its result or error."""
    spoiled = sim.spoiled
    sim.inject(
        path,
        body=answer.body,
        status=answer.status,
        content_type=answer.content_type,
        count=None,
    )
    try:
        result = await outcome(lambda: call(client))
    finally:
        sim.clear_faults()
    assert sim.spoiled > spoiled, f"the call never asked for {path}"
    if answer.unreadable and answer.status == 200:
        assert isinstance(result, WakeHubError), result
    if isinstance(result, WakeHubError):
        # Say what went wrong in words, never as a Python repr of the body.
        assert str(result)
    return result


# -- Proxmox -------------------------------------------------------------------------
GUEST = GuestRef(node="pve1", type="qemu", vmid=100)
UPID = "UPID:pve1:00001234:00005678:65A0B1C2:qmstart:100:root@pam:"
PVE_CALLS: dict[str, tuple[str, Call[ProxmoxClient]]] = {
    "state": ("/cluster/resources", lambda c: c.fetch_state()),
    "locate": ("/cluster/resources", lambda c: c.locate(100)),
    "snapshots": ("/qemu/100/snapshot", lambda c: c.list_snapshots(GUEST)),
    "current": ("/qemu/100/status/current", lambda c: c.current(GUEST)),
    "task": ("/tasks/", lambda c: c.task_status("pve1", UPID)),
    "start": ("/status/start", lambda c: c.start(GUEST)),
    "version": ("/version", lambda c: c.check()),
    "permissions": ("/access/permissions", lambda c: c.check()),
    "cluster": ("/cluster/status", lambda c: c.check()),
    "login": ("/access/ticket", lambda c: c.fetch_state()),
}


@pytest.fixture
async def pve() -> AsyncIterator[ProxmoxSimulator]:
    sim = ProxmoxSimulator(task_delay=0.01, start_delay=0.01)
    await sim.start()
    yield sim
    await sim.stop()
    assert sim.violations == []


def _pve_client(
    pve: ProxmoxSimulator, session: aiohttp.ClientSession, *, password: bool = False
) -> ProxmoxClient:
    auth: dict[str, Any] = (
        {"password": "proxmox"}
        if password
        else {"token_id": "wakehub", "token_secret": DEFAULT_TOKEN_SECRET}
    )
    return ProxmoxClient(
        session, pve.url, username="root@pam", fingerprint=pve.fingerprint, **auth
    )


@pytest.fixture
async def pve_templates(
    pve: ProxmoxSimulator, session: aiohttp.ClientSession
) -> dict[str, Any]:
    """The real answers, read once: hypothesis needs the same ones every example."""
    client = _pve_client(pve, session)
    return {
        name: await _pve_template(client, path) for name, (path, _) in PVE_CALLS.items()
    }


@HOSTILE
@given(name=st.sampled_from(sorted(PVE_CALLS)), data=st.data())
async def test_proxmox_answers(
    pve: ProxmoxSimulator,
    session: aiohttp.ClientSession,
    pve_templates: dict[str, Any],
    name: str,
    data: st.DataObject,
) -> None:
    path, call = PVE_CALLS[name]
    client = _pve_client(pve, session, password=name == "login")
    answer = data.draw(answers(pve_templates[name]), label="answer")
    result = await _serve_and_call(pve, path, answer, client, call)
    if name == "version" and answer.unreadable:
        # The connection test names the server "not Proxmox", as the wizard says.
        assert isinstance(result, NotThatKind)


async def _pve_template(client: ProxmoxClient, path: str) -> Any:
    """The real answer on `path`, as the simulator sends it."""
    real = {
        "/cluster/resources": "/cluster/resources",
        "/qemu/100/snapshot": "/nodes/pve1/qemu/100/snapshot",
        "/qemu/100/status/current": "/nodes/pve1/qemu/100/status/current",
        "/version": "/version",
        "/access/permissions": "/access/permissions",
        "/cluster/status": "/cluster/status",
    }.get(path)
    if real is not None:
        return {"data": await client._request("GET", real)}
    if path == "/access/ticket":
        return {"data": {"ticket": "PVE:root@pam:1", "CSRFPreventionToken": "c"}}
    if path == "/tasks/":
        return {"data": {"status": "stopped", "exitstatus": "OK", "type": "qmstart"}}
    return {"data": UPID}


# -- Docker --------------------------------------------------------------------------
async def _stats(client: DockerClient) -> Any:
    containers = await client.list_containers()
    return await client.container_stats(containers.values())


DOCKER_CALLS: dict[str, tuple[str, Call[DockerClient]]] = {
    "info": ("/info", lambda c: c.connect()),
    "list": ("/containers/json", lambda c: c.list_containers()),
    "inspect": ("/containers/jellyfin/json", lambda c: c.inspect("jellyfin")),
    "stats": ("/stats", _stats),
    "start": ("/containers/nextcloud/start", lambda c: c.start("nextcloud")),
}


@pytest.fixture
async def docker() -> AsyncIterator[DockerSimulator]:
    sim = DockerSimulator()
    await sim.start()
    sim.add_container("jellyfin", image="jellyfin/jellyfin:10.10", health="healthy")
    sim.add_container("nextcloud", image="nextcloud:30", state="exited")
    yield sim
    await sim.stop()
    assert sim.violations == []


@pytest.fixture
async def docker_templates(
    docker: DockerSimulator, session: aiohttp.ClientSession
) -> dict[str, Any]:
    """The real answers, read once: hypothesis needs the same ones every example."""
    client = DockerClient(session, docker.docker_url)
    await client.connect()
    stats = f"/containers/{docker.containers['jellyfin'].id}/stats"
    return {
        "info": await client._request("GET", "/info"),
        "list": await client._request("GET", "/containers/json", {"all": "1"}),
        "inspect": await client._request("GET", "/containers/jellyfin/json"),
        "stats": await client._request("GET", stats, {"stream": "false"}),
        "start": {"message": "container already started"},
    }


@HOSTILE
@given(name=st.sampled_from(sorted(DOCKER_CALLS)), data=st.data())
async def test_docker_answers(
    docker: DockerSimulator,
    session: aiohttp.ClientSession,
    docker_templates: dict[str, Any],
    name: str,
    data: st.DataObject,
) -> None:
    path, call = DOCKER_CALLS[name]
    client = DockerClient(session, docker.docker_url)
    await client.connect()
    docker.containers["nextcloud"].state = "exited"
    answer = data.draw(answers(docker_templates[name]), label="answer")
    if name == "info":
        client = DockerClient(session, docker.docker_url)  # identify it again
    result = await _serve_and_call(docker, path, answer, client, call)
    if name == "info" and answer.unreadable:
        assert isinstance(result, NotThatKind)


# -- OVH -----------------------------------------------------------------------------
def _ovh_calls(sn: str) -> dict[str, tuple[str, Call[OvhClient]]]:
    vps = f"/vps/{sn}"
    return {
        "vps": (f"{vps}$", lambda c: c.poll_vps(sn)),
        "tasks": (f"{vps}/tasks", lambda c: c.poll_vps(sn)),
        "task": (f"{vps}/tasks/", lambda c: c.get_task(sn, 7)),
        "list": ("/vps$", lambda c: c.list_services()),
        "time": ("/auth/time", lambda c: c.server_time()),
        "me": ("/me", lambda c: c.account_id()),
        "credential": ("/auth/currentCredential", lambda c: c.credential_status()),
        "images": (f"{vps}/images/available", lambda c: c.list_images(sn)),
        "console": (f"{vps}/getConsoleUrl", lambda c: c.console_url(sn)),
        **{
            f"details{sub}": (f"{vps}{sub}", lambda c: c.get_details(sn))
            for sub in (
                "/serviceInfos",
                "/ips",
                "/datacenter",
                "/images/current",
                "/snapshot$",
            )
        },
    }


OVH_CALL_NAMES = sorted(_ovh_calls("x"))


@pytest.fixture
async def ovh() -> AsyncIterator[OvhSimulator]:
    sim = OvhSimulator(vps_count=1, task_duration=0.01)
    await sim.start()
    yield sim
    await sim.stop()
    assert sim.violations == []


def _ovh_client(ovh: OvhSimulator, session: aiohttp.ClientSession) -> OvhClient:
    return OvhClient(
        session,
        endpoint=f"{ovh.url}/1.0",
        application_key=ovh.application_key,
        application_secret=ovh.application_secret,
        consumer_key=ovh.consumer_key,
        verify_ssl=False,
        max_retries=0,
    )


@pytest.fixture
async def ovh_templates(
    ovh: OvhSimulator, session: aiohttp.ClientSession
) -> dict[str, Any]:
    """The real answers, read once: hypothesis needs the same ones every example."""
    sn = next(iter(ovh.vps))
    vps = ovh.vps[sn]
    vps.automated_backup = "enabled"
    vps.restore_points = ["2026-11-29T03:00:00+00:00"]
    vps.snapshot = {
        "id": "0123abcd",
        "creationDate": "2026-11-29T03:00:00+00:00",
        "description": "before upgrade",
        "region": "GRA1",
    }
    client = _ovh_client(ovh, session)
    task = {"id": 7, "state": "doing", "type": "rebootVm", "progress": 0}
    templates: dict[str, Any] = {
        "time": 1767225600,
        "task": task,
        "console": "https://x",
    }
    queries = {
        "tasks": {"state": "doing"},
    }
    for name, (path, _) in _ovh_calls(sn).items():
        if name not in templates:
            templates[name] = await client._call(
                "GET", path.removesuffix("$"), query=queries.get(name)
            )
    return templates


@HOSTILE
@given(name=st.sampled_from(OVH_CALL_NAMES), data=st.data())
async def test_ovh_answers(
    ovh: OvhSimulator,
    session: aiohttp.ClientSession,
    ovh_templates: dict[str, Any],
    name: str,
    data: st.DataObject,
) -> None:
    sn = next(iter(ovh.vps))
    path, call = _ovh_calls(sn)[name]
    client = _ovh_client(ovh, session)
    await client.sync_time()
    answer = data.draw(answers(ovh_templates[name]), label="answer")
    await _serve_and_call(ovh, path, answer, client, call)


# -- machine (metrics over SSH) ------------------------------------------------------
WORDS = st.one_of(
    st.sampled_from(["nan", "inf", "-1", "0", "1e400", "-0", "9" * 50, "", "x"]),
    st.integers().map(str),
    st.floats().map(str),
    st.text(max_size=6),
)


@st.composite
def metrics_outputs(draw: st.DrawFn) -> str:
    """Linux's answer with some of its figures replaced, or anything at all."""
    if draw(st.booleans()):
        return draw(st.text(max_size=200))
    # Words at even indexes, the whitespace between them at odd ones.
    parts = re.split(r"(\s+)", LINUX_METRICS_OUTPUT)
    for _ in range(draw(st.integers(1, 3))):
        parts[2 * draw(st.integers(0, len(parts) // 2))] = draw(WORDS)
    return "".join(parts)


@HOSTILE
@given(output=metrics_outputs())
def test_parse_metrics(output: str) -> None:
    """The pure parser: a plausible reading or ValueError, never a crash."""
    try:
        metrics = parse_metrics(output)
    except ValueError, KeyError, IndexError:
        return
    _plausible(metrics)


@pytest.fixture
async def machine() -> AsyncIterator[MachineSimulator]:
    sim = MachineSimulator(boot_delay=0.01)
    await sim.start(powered=True)
    yield sim
    await sim.stop()


@HOSTILE
@given(output=metrics_outputs())
async def test_machine_metrics_over_ssh(machine: MachineSimulator, output: str) -> None:
    machine.metrics_output = output
    client = MachineClient(
        SshCredentials(
            host=machine.host,
            port=machine.ssh_port,
            username=machine.username,
            password=machine.password,
            host_key=machine.host_key,
        )
    )
    result = await outcome(client.read_metrics)
    if isinstance(result, WakeHubError):
        assert isinstance(result, InvalidResponse)
    else:
        _plausible(result)


def _plausible(metrics: MachineMetrics) -> None:
    assert 0 <= metrics.cpu_percent <= 100
    assert 0 <= metrics.memory_percent <= 100
    assert metrics.cpu_count >= 1
    assert metrics.uptime_seconds >= 0
