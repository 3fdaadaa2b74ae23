"""Docker Engine client against the simulator, over real sockets (TCP, TLS, unix)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
import datetime as dt
import os
from pathlib import Path
import socket
import tempfile
from typing import Any

import aiohttp
from aiohttp import web
from hypothesis import given, strategies as st
import pytest
import pytest_socket

from custom_components.wakehub.api import docker as docker_api
from custom_components.wakehub.api.docker import (
    Container,
    DockerClient,
    client as docker_client,
)
from custom_components.wakehub.api.docker.certificates import build_ssl_context
from custom_components.wakehub.api.docker.error_map import (
    DockerEngineTooOld,
    DockerSocketMissing,
    DockerSocketPermission,
)
from custom_components.wakehub.api.docker.models import (
    OCI_VERSION,
    health_from_status,
    image_version,
    map_state,
    max_uptime,
    parse_timestamp,
)
from custom_components.wakehub.api.docker.stats import compute_stats
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
)
from custom_components.wakehub.api.models import ResourceStatus
from custom_components.wakehub.api.tls import format_fingerprint
from tests.simulators.docker import DockerSimulator, DockerTls, human_duration

SimFactory = Callable[..., Awaitable[DockerSimulator]]


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client_session:
        yield client_session


@pytest.fixture
async def make_sim() -> AsyncIterator[SimFactory]:
    """Start simulators; on teardown stop them and require a clean contract."""
    started: list[DockerSimulator] = []

    async def factory(**kwargs: Any) -> DockerSimulator:
        sim = DockerSimulator(**kwargs)
        await sim.start()
        started.append(sim)
        return sim

    yield factory
    for sim in started:
        await sim.stop()
    for sim in started:
        assert sim.violations == []


@pytest.fixture
async def sim(make_sim: SimFactory) -> DockerSimulator:
    simulator = await make_sim()
    simulator.add_container(
        "jellyfin", image="jellyfin/jellyfin:10.10", health="healthy"
    )
    simulator.add_container("nextcloud", image="nextcloud:30", state="exited")
    simulator.add_container("paused-one", state="paused")
    return simulator


@pytest.fixture(scope="module")
def tls_material() -> DockerTls:
    return DockerTls.generate()


@pytest.fixture
def socket_dir() -> Any:
    """A short directory for unix sockets, which the test may connect to.

    pytest-homeassistant-custom-component allows 127.0.0.1 only and, through a
    pytest-socket quirk, not unix sockets: allow them too for this test.
    """
    saved_connect = socket.socket.connect
    pytest_socket.socket_allow_hosts(["127.0.0.1"], allow_unix_socket=True)
    # AF_UNIX paths are limited to ~107 bytes: pytest's tmp_path can be too long.
    directory = tempfile.mkdtemp(prefix="wh-dock-")
    Path(directory).chmod(0o755)
    yield directory
    for entry in Path(directory).iterdir():
        entry.unlink()
    Path(directory).rmdir()
    socket.socket.connect = saved_connect  # type: ignore[method-assign]


async def _serve(app: web.Application) -> tuple[web.AppRunner, str]:
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    return runner, f"tcp://127.0.0.1:{port}"


# -- connection test and negotiation -------------------------------------------------
async def test_connect_over_tcp(
    sim: DockerSimulator, session: aiohttp.ClientSession
) -> None:
    client = DockerClient(session, sim.docker_url)
    engine = await client.connect()
    assert engine.id == sim.engine_id
    assert engine.name == "docker-host"
    assert engine.server_version == "29.0.0"
    assert engine.api_version == "1.56"
    assert engine.operating_system == "Debian GNU/Linux 13 (trixie)"
    assert engine.os_type == "linux"
    assert engine.architecture == "x86_64"
    assert [r.path for r in sim.requests] == ["/_ping", "/v1.56/info"]
    await client.close()  # no own session: nothing to close, the shared one lives
    assert not session.closed


@pytest.mark.parametrize(("advertised", "spoken"), [("1.41", "1.41"), ("1.47", "1.47"), ("1.60", "1.56")])  # fmt: skip
async def test_version_negotiation(
    make_sim: SimFactory, session: aiohttp.ClientSession, advertised: str, spoken: str
) -> None:
    sim = await make_sim(api_version=advertised)
    sim.add_container("web")
    client = DockerClient(session, sim.docker_url)
    containers = await client.list_containers()  # negotiates on first use
    assert client.api_version == spoken
    assert containers["web"].running
    assert sim.count("GET", f"/v{spoken}/containers/json") == 1


async def test_engine_too_old(
    make_sim: SimFactory, session: aiohttp.ClientSession
) -> None:
    sim = await make_sim(api_version="1.30")
    client = DockerClient(session, sim.docker_url)
    with pytest.raises(DockerEngineTooOld, match=r"API 1\.30") as err:
        await client.connect()
    assert isinstance(err.value, NotThatKind)
    assert err.value.api_version == "1.30"
    assert sim.count() == 1


async def test_unreadable_version_is_not_docker(session: aiohttp.ClientSession) -> None:
    async def ping(request: web.Request) -> web.Response:
        return web.Response(text="OK", headers={"Api-Version": "latest"})

    app = web.Application()
    app.router.add_get("/_ping", ping)
    runner, url = await _serve(app)
    try:
        with pytest.raises(NotThatKind, match="unreadable API version"):
            await DockerClient(session, url).connect()
    finally:
        await runner.cleanup()


async def test_not_docker_web_server(session: aiohttp.ClientSession) -> None:
    """A web server (here: 404 HTML on /_ping, 200 without Api-Version)."""

    async def ok_ping(request: web.Request) -> web.Response:
        return web.Response(text="OK")

    app = web.Application()
    app.router.add_get("/_ping", ok_ping)
    runner, url = await _serve(app)
    try:
        with pytest.raises(NotThatKind, match="not a Docker engine"):
            await DockerClient(session, url).connect()
    finally:
        await runner.cleanup()
    runner, url = await _serve(web.Application())
    try:
        with pytest.raises(NotThatKind, match=r"answered 404"):
            await DockerClient(session, url).connect()
    finally:
        await runner.cleanup()


async def test_not_docker_answers(session: aiohttp.ClientSession) -> None:
    """Something with a Docker-ish ping, but /info is not the engine's."""

    async def ping(request: web.Request) -> web.Response:
        return web.Response(text="OK", headers={"Api-Version": "1.41"})

    async def info(request: web.Request) -> web.Response:
        if request.app["mode"] == "html":
            return web.Response(text="<html>", content_type="text/html")
        if request.app["mode"] == "bad-json":
            return web.Response(text="{nope", content_type="application/json")
        return web.json_response({"Name": "x"})

    for mode, message in (
        ("html", "not JSON"),
        ("bad-json", "invalid JSON"),
        ("no-id", "without an engine ID"),
    ):
        app = web.Application()
        app["mode"] = mode
        app.router.add_get("/_ping", ping)
        app.router.add_get("/v1.41/info", info)
        runner, url = await _serve(app)
        try:
            with pytest.raises(NotThatKind, match=message):
                await DockerClient(session, url).connect()
        finally:
            await runner.cleanup()


async def test_not_http_at_all(session: aiohttp.ClientSession) -> None:
    """An SSH server (or anything not HTTP) on the port."""

    async def banner(
        reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        writer.write(b"SSH-2.0-OpenSSH_9.6\r\n\r\n")
        await writer.drain()
        await reader.read(1024)
        writer.close()

    server = await asyncio.start_server(banner, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        with pytest.raises(NotThatKind, match="did not answer like a Docker engine"):
            await DockerClient(session, f"tcp://127.0.0.1:{port}").connect()
    finally:
        server.close()
        await server.wait_closed()


async def test_unreachable(session: aiohttp.ClientSession) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(CannotConnect, match=f"127.0.0.1:{port}") as err:
        await DockerClient(session, f"tcp://127.0.0.1:{port}").connect()
    assert type(err.value) is CannotConnect


async def test_timeout(make_sim: SimFactory, session: aiohttp.ClientSession) -> None:
    sim = await make_sim(delay=0.5)
    client = DockerClient(session, sim.docker_url, timeout=0.1)
    with pytest.raises(ConnectionTimeout):
        await client.connect()


# -- unix sockets ------------------------------------------------------------------------
async def test_unix_socket(make_sim: SimFactory, socket_dir: str) -> None:
    sim = await make_sim(unix_socket=f"{socket_dir}/docker.sock")
    sim.add_container("web")
    client = DockerClient(None, sim.docker_url)
    assert client.where == f"unix://{socket_dir}/docker.sock"
    engine = await client.connect()
    assert engine.id == sim.engine_id
    assert "web" in await client.list_containers()
    own = client._own_session
    assert own is not None
    await client.close()
    assert own.closed
    await client.close()  # twice is fine
    # A closed client may be used again: it opens a new session.
    assert "web" in await client.list_containers()
    await client.close()


async def test_unix_socket_missing(socket_dir: str) -> None:
    client = DockerClient(None, f"unix://{socket_dir}/nothing.sock")
    with pytest.raises(DockerSocketMissing, match="does not exist") as err:
        await client.connect()
    assert isinstance(err.value, CannotConnect)
    await client.close()
    # Any other failure (here: a path through a regular file) is generic.
    Path(f"{socket_dir}/file").write_text("")  # noqa: ASYNC240
    client = DockerClient(None, f"unix://{socket_dir}/file/docker.sock")
    with pytest.raises(CannotConnect) as err:
        await client.connect()
    assert type(err.value) is CannotConnect
    await client.close()


async def test_unix_socket_refused(socket_dir: str) -> None:
    """A stale socket file: the engine died without removing it."""
    path = f"{socket_dir}/stale.sock"
    with socket.socket(socket.AF_UNIX) as stale:
        stale.bind(path)
        client = DockerClient(None, f"unix://{path}")
        with pytest.raises(CannotConnect, match="is the Docker engine running"):
            await client.connect()
        await client.close()


async def test_unix_socket_permission(make_sim: SimFactory, socket_dir: str) -> None:
    path = f"{socket_dir}/docker.sock"
    await make_sim(unix_socket=path)
    Path(path).chmod(0o600)  # noqa: ASYNC240
    client = DockerClient(None, f"unix://{path}")
    as_root = os.geteuid() == 0
    if as_root:
        # Root ignores file modes: connect as `nobody` for the duration.
        os.seteuid(65534)
    try:
        with pytest.raises(DockerSocketPermission, match="docker group") as err:
            await client.connect()
    finally:
        if as_root:
            os.seteuid(0)
    assert isinstance(err.value, CannotConnect)
    await client.close()


# -- TLS ---------------------------------------------------------------------------------
async def test_tls_self_signed(
    make_sim: SimFactory, session: aiohttp.ClientSession
) -> None:
    sim = await make_sim(tls=True)
    assert sim.docker_url.startswith("https://")
    with pytest.raises(CertificateError):
        await DockerClient(session, sim.docker_url).connect()
    assert (await DockerClient(session, sim.docker_url, verify_ssl=False).connect()).id
    assert sim.certificate is not None
    pinned = format_fingerprint(sim.certificate.der)
    engine = await DockerClient(session, sim.docker_url, fingerprint=pinned).connect()
    assert engine.id == sim.engine_id
    with pytest.raises(CertificateError) as err:
        await DockerClient(session, sim.docker_url, fingerprint="AB" * 32).connect()
    assert err.value.fingerprint == pinned


async def test_tls_client_certificates(
    make_sim: SimFactory, session: aiohttp.ClientSession, tls_material: DockerTls
) -> None:
    sim = await make_sim(client_ca=tls_material)
    tcp_url = sim.docker_url.replace("https://", "tcp://")
    client = DockerClient(
        session,
        tcp_url,  # tcp:// with certificates means TLS, as with DOCKER_TLS_VERIFY
        ca_cert=tls_material.ca_cert,
        client_cert=tls_material.client_cert,
        client_key=tls_material.client_key,
    )
    assert (await client.connect()).id == sim.engine_id
    sim.add_container("web")
    assert (await client.list_containers())["web"].running


async def test_tls_client_certificate_refused(
    make_sim: SimFactory, session: aiohttp.ClientSession, tls_material: DockerTls
) -> None:
    sim = await make_sim(client_ca=tls_material)
    without = DockerClient(session, sim.docker_url, ca_cert=tls_material.ca_cert)
    with pytest.raises(CertificateError, match="requires a client certificate"):
        await without.connect()
    rogue = DockerClient(
        session,
        sim.docker_url,
        ca_cert=tls_material.ca_cert,
        client_cert=tls_material.rogue_client_cert,
        client_key=tls_material.rogue_client_key,
    )
    with pytest.raises(CertificateError, match="requires a client certificate"):
        await rogue.connect()
    # (How often the refused handshake reaches the server's loop handler depends
    # on the aiohttp release, so only what the client reports is asserted.)
    # While polling, a hang-up is an ordinary connection failure.
    polling = DockerClient(session, sim.docker_url, ca_cert=tls_material.ca_cert)
    polling.api_version, polling._prefix = "1.56", "/v1.56"
    with pytest.raises(CannotConnect) as err:
        await polling.list_containers()
    assert not isinstance(err.value, CertificateError)


async def test_tls_server_not_signed_by_given_ca(
    make_sim: SimFactory, session: aiohttp.ClientSession, tls_material: DockerTls
) -> None:
    sim = await make_sim(client_ca=tls_material)
    other = DockerTls.generate()
    client = DockerClient(
        session,
        sim.docker_url,
        ca_cert=other.ca_cert,
        client_cert=tls_material.client_cert,
        client_key=tls_material.client_key,
    )
    with pytest.raises(CertificateError, match="not trusted"):
        await client.connect()
    # verify_ssl=False: the server is not checked, the client cert still sent.
    lenient = DockerClient(
        session,
        sim.docker_url,
        ca_cert=other.ca_cert,
        client_cert=tls_material.client_cert,
        client_key=tls_material.client_key,
        verify_ssl=False,
    )
    assert (await lenient.connect()).id == sim.engine_id


async def test_tls_client_certificate_with_pinned_server(
    make_sim: SimFactory, session: aiohttp.ClientSession, tls_material: DockerTls
) -> None:
    """Client certificate + pinned fingerprint: the client owns its session."""
    sim = await make_sim(client_ca=tls_material)
    pinned = format_fingerprint(tls_material.server_der)
    client = DockerClient(
        session,
        sim.docker_url,
        client_cert=tls_material.client_cert,
        client_key=tls_material.client_key,
        fingerprint=pinned,
    )
    assert (await client.connect()).id == sim.engine_id
    await client.close()
    wrong = DockerClient(
        session,
        sim.docker_url,
        client_cert=tls_material.client_cert,
        client_key=tls_material.client_key,
        fingerprint="CD" * 32,
    )
    with pytest.raises(CertificateError) as err:
        await wrong.connect()
    assert err.value.fingerprint == pinned
    await wrong.close()


async def test_tls_bad_pem_never_echoed(
    make_sim: SimFactory, session: aiohttp.ClientSession
) -> None:
    sim = await make_sim(tls=True)
    secret_key = "-----BEGIN PRIVATE KEY-----\nc2VjcmV0LWtleQ==\n-----END PRIVATE KEY-----\n"  # fmt: skip
    client = DockerClient(
        session,
        sim.docker_url,
        client_cert="-----BEGIN CERTIFICATE-----\nnope\n-----END CERTIFICATE-----\n",
        client_key=secret_key,
    )
    with pytest.raises(CertificateError, match="cannot be loaded") as err:
        await client.connect()
    assert "c2VjcmV0" not in str(err.value)
    assert sim.count() == 0


def test_build_ssl_context_leaves_no_files(tls_material: DockerTls) -> None:
    before = set(Path(tempfile.gettempdir()).glob("wakehub-docker-*"))
    context = build_ssl_context(
        ca_cert=tls_material.ca_cert,
        client_cert=tls_material.client_cert,
        client_key=tls_material.client_key,
        verify=True,
    )
    assert context.check_hostname
    assert set(Path(tempfile.gettempdir()).glob("wakehub-docker-*")) == before
    assert build_ssl_context(
        ca_cert=None, client_cert=None, client_key=None, verify=True
    )


# -- URLs ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("url", "base", "where"),
    [
        ("tcp://docker.lan", "http://docker.lan:2375", "docker.lan:2375"),
        ("http://10.0.0.5:2375", "http://10.0.0.5:2375", "10.0.0.5:2375"),
        ("https://docker.lan", "https://docker.lan:2376", "docker.lan:2376"),
        ("tcp://[fd00::5]:2376", "http://[fd00::5]:2376", "[fd00::5]:2376"),
        (" unix:///var/run/docker.sock ", "http://localhost", "unix:///var/run/docker.sock"),
    ],
)  # fmt: skip
def test_urls(url: str, base: str, where: str) -> None:
    client = DockerClient(aiohttp.ClientSession.__new__(aiohttp.ClientSession), url)
    assert client._base == base
    assert client.where == where


@pytest.mark.parametrize(
    ("url", "kwargs"),
    [
        ("ssh://user@host", {}),
        ("unix://", {}),
        ("tcp://", {}),
        ("tcp://host:2376", {"client_cert": "x"}),
    ],
)
def test_bad_urls(url: str, kwargs: dict[str, str]) -> None:
    with pytest.raises(ValueError, match=r"."):
        DockerClient(
            aiohttp.ClientSession.__new__(aiohttp.ClientSession), url, **kwargs
        )


def test_session_required_for_tcp() -> None:
    with pytest.raises(ValueError, match="session"):
        DockerClient(None, "tcp://host:2375")


# -- polling -------------------------------------------------------------------------------
async def test_list_containers(
    sim: DockerSimulator, session: aiohttp.ClientSession
) -> None:
    client = DockerClient(session, sim.docker_url)
    containers = await client.list_containers()
    assert set(containers) == {"jellyfin", "nextcloud", "paused-one"}
    jellyfin = containers["jellyfin"]
    assert jellyfin.id == sim.containers["jellyfin"].id
    assert jellyfin.image == "jellyfin/jellyfin:10.10"
    assert jellyfin.state == "running"
    assert jellyfin.status is ResourceStatus.RUNNING
    assert jellyfin.status_text == "Up 3 hours (healthy)"
    assert jellyfin.health == "healthy"
    assert jellyfin.created.tzinfo is dt.UTC
    assert containers["nextcloud"].status is ResourceStatus.STOPPED
    assert containers["nextcloud"].health is None
    assert containers["paused-one"].status is ResourceStatus.PAUSED
    assert sim.count("GET", "/v1.56/containers/json") == 1
    assert sim.requests[-1].query == {"all": "1"}


async def test_health_without_health_field(
    make_sim: SimFactory, session: aiohttp.ClientSession
) -> None:
    """API < 1.52 has no Health in the list: the Status text carries it."""
    # Long enough to see "starting" on a busy machine; then wait for "healthy".
    sim = await make_sim(api_version="1.41", health_delay=0.5)
    sim.add_container("web", health="unhealthy")
    sim.add_container("db", state="exited", health="healthy")
    client = DockerClient(session, sim.docker_url)
    assert (await client.list_containers())["web"].health == "unhealthy"
    sim.set_health("web", "healthy")
    assert (await client.list_containers())["web"].health == "healthy"
    await client.start("db")
    assert (await client.list_containers())["db"].health == "starting"
    async with asyncio.timeout(10):
        while True:
            if (await client.list_containers())["db"].health == "healthy":
                break
            await asyncio.sleep(0.05)
    # Lists only: no inspect.
    assert sim.count("GET", "/v1.41/containers/") == sim.count(
        "GET", "/v1.41/containers/json"
    )


async def test_poll_cycle_request_economy(
    make_sim: SimFactory, session: aiohttp.ClientSession
) -> None:
    sim = await make_sim(container_count=30)
    client = DockerClient(session, sim.docker_url)
    await client.connect()
    selected = {"app-001", "app-002", "app-003", "app-004"}  # app-003 is exited
    for cycle in range(3):
        sim.requests.clear()
        containers = await client.list_containers()
        chosen = [containers[name] for name in selected]
        stats = await client.container_stats(chosen)
        for container in chosen:
            await client.started_at(container)
        assert set(stats) == {"app-001", "app-002", "app-004"}
        assert sim.count("GET", "/v1.56/containers/json") == 1
        assert sim.count("GET", "/v1.56/containers/") - 1 == (3 if cycle else 6)
        assert all(r.query == {"stream": "false", "one-shot": "true"} for r in sim.requests if r.path.endswith("/stats"))  # fmt: skip
        # The first cycle inspects the 3 running ones, later cycles use the cache.
        inspects = [r for r in sim.requests if r.path.endswith("/json") and r.path != "/v1.56/containers/json"]  # fmt: skip
        assert len(inspects) == (0 if cycle else 3)


async def test_stats_values_and_cpu_from_two_cycles(
    make_sim: SimFactory, session: aiohttp.ClientSession
) -> None:
    sim = await make_sim()
    sim.add_container("busy", cpu_load=0.5, memory=100 * 1024 * 1024)
    sim.add_container("offline", networked=False)
    client = DockerClient(session, sim.docker_url)
    containers = await client.list_containers()
    first = await client.container_stats(containers.values())
    assert first["busy"].cpu_percent is None
    assert first["busy"].memory_usage == 100 * 1024 * 1024
    assert first["busy"].memory_limit == sim.mem_total
    assert first["busy"].network_rx
    assert first["busy"].network_tx
    assert first["offline"].network_rx is None
    assert first["offline"].network_tx is None
    await asyncio.sleep(0.1)
    second = await client.container_stats(containers.values())
    assert second["busy"].cpu_percent == pytest.approx(50.0, abs=2)
    assert second["busy"].network_rx > first["busy"].network_rx  # type: ignore[operator]


async def test_stats_bounded_concurrency(
    make_sim: SimFactory, session: aiohttp.ClientSession
) -> None:
    sim = await make_sim(stats_delay=0.03)
    for index in range(12):
        sim.add_container(f"c{index}")
    client = DockerClient(session, sim.docker_url, stats_concurrency=3)
    containers = await client.list_containers()
    stats = await client.container_stats(containers.values())
    assert len(stats) == 12
    assert sim.max_concurrent_stats == 3
    assert sim.count("GET", "/v1.56/containers/") == 13


async def test_stats_disabled_or_nothing_running(
    sim: DockerSimulator, session: aiohttp.ClientSession
) -> None:
    client = DockerClient(session, sim.docker_url)
    containers = await client.list_containers()
    assert await client.container_stats([]) == {}
    assert await client.container_stats([containers["nextcloud"], containers["paused-one"]]) == {}  # fmt: skip
    assert sum(r.path.endswith("/stats") for r in sim.requests) == 0


async def test_stats_of_container_stopped_meanwhile(
    sim: DockerSimulator, session: aiohttp.ClientSession
) -> None:
    client = DockerClient(session, sim.docker_url)
    containers = await client.list_containers()
    sim.set_state("jellyfin", "exited")
    stats = await client.container_stats([containers["jellyfin"]])
    assert stats["jellyfin"].cpu_percent is None
    assert stats["jellyfin"].memory_usage is None


async def test_stats_of_vanished_container(
    sim: DockerSimulator, session: aiohttp.ClientSession
) -> None:
    client = DockerClient(session, sim.docker_url)
    containers = await client.list_containers()
    sim.fail_next("/stats", 404, "No such container: jellyfin")
    assert await client.container_stats([containers["jellyfin"]]) == {}
    sim.fail_next("/stats", 500, "cgroup gone")
    with pytest.raises(ApiError, match="cgroup gone"):
        await client.container_stats([containers["jellyfin"]])


async def test_recreated_container_is_followed_by_name(
    sim: DockerSimulator, session: aiohttp.ClientSession
) -> None:
    client = DockerClient(session, sim.docker_url)
    before = (await client.list_containers())["jellyfin"]
    await client.container_stats([before])
    await client.container_stats([before])
    assert await client.started_at(before) is not None
    new = sim.recreate("jellyfin", image="jellyfin/jellyfin:10.11")
    sim.requests.clear()
    after = (await client.list_containers())["jellyfin"]
    assert after.id == new.id != before.id
    assert after.image == "jellyfin/jellyfin:10.11"
    assert after.health == "healthy"
    # New id: no CPU reference yet, and StartedAt is read again.
    assert (await client.container_stats([after]))["jellyfin"].cpu_percent is None
    await client.started_at(after)
    assert sim.count("GET", f"/v1.56/containers/{new.id}/json") == 1
    # The old id is gone: actions by name reach the new container.
    await client.stop("jellyfin")
    assert sim.containers["jellyfin"].state == "exited"


async def test_started_at_cache(
    sim: DockerSimulator, session: aiohttp.ClientSession
) -> None:
    client = DockerClient(session, sim.docker_url)
    jellyfin = (await client.list_containers())["jellyfin"]
    started = await client.started_at(jellyfin)
    assert started == sim.containers["jellyfin"].started_at
    assert await client.started_at(jellyfin) == started
    assert sim.count("GET", "/v1.56/containers/" + jellyfin.id + "/json") == 1
    # Restarted behind our back (docker restart on the host): "Up 1 second".
    sim.containers["jellyfin"].started_at = dt.datetime.now(dt.UTC)
    jellyfin = (await client.list_containers())["jellyfin"]
    assert await client.started_at(jellyfin) == sim.containers["jellyfin"].started_at
    assert sim.count("GET", "/v1.56/containers/" + jellyfin.id + "/json") == 2
    # Restarted by us: inspected again.
    await client.restart("jellyfin")
    jellyfin = (await client.list_containers())["jellyfin"]
    assert await client.started_at(jellyfin) == sim.containers["jellyfin"].started_at
    assert sim.count("GET", "/v1.56/containers/" + jellyfin.id + "/json") == 3
    # Stopped: no uptime, no request.
    nextcloud = (await client.list_containers())["nextcloud"]
    assert await client.started_at(nextcloud) is None
    assert sim.count("GET", "/v1.56/containers/" + nextcloud.id + "/json") == 0


async def test_inspect(sim: DockerSimulator, session: aiohttp.ClientSession) -> None:
    client = DockerClient(session, sim.docker_url)
    details = await client.inspect("jellyfin")
    assert details.name == "jellyfin"
    assert details.id == sim.containers["jellyfin"].id
    assert details.state == "running"
    assert details.health == "healthy"
    assert details.started_at == sim.containers["jellyfin"].started_at
    stopped = await client.inspect("nextcloud")
    assert stopped.health is None
    with pytest.raises(NotFound, match="No such container: ghost"):
        await client.inspect("ghost")


# -- actions -------------------------------------------------------------------------------
async def test_start_and_already_running(
    sim: DockerSimulator, session: aiohttp.ClientSession
) -> None:
    sim.start_delay = 0.02
    client = DockerClient(session, sim.docker_url)
    await client.start("nextcloud")
    assert sim.containers["nextcloud"].state == "running"
    await client.start("nextcloud")  # 304: already running is success
    assert [r.status for r in sim.requests if r.path.endswith("/start")] == [204, 304]


async def test_stop_with_timeout_and_already_stopped(
    sim: DockerSimulator, session: aiohttp.ClientSession
) -> None:
    client = DockerClient(session, sim.docker_url, timeout=5)
    await client.stop("jellyfin", timeout=3)
    assert sim.containers["jellyfin"].state == "exited"
    await client.stop("jellyfin")
    stops = [r for r in sim.requests if r.path.endswith("/stop")]
    assert [(r.status, r.query) for r in stops] == [(204, {"t": "3"}), (304, {})]


async def test_stop_lasts_the_grace_period_without_being_cut(
    sim: DockerSimulator, session: aiohttp.ClientSession
) -> None:
    """A container that ignores SIGTERM is killed when its grace period ends: the
    engine answers only then, so the request outlives the client's own timeout."""
    stubborn = sim.add_container("stubborn", ignores_sigterm=True, stop_timeout=1)
    client = DockerClient(session, sim.docker_url, timeout=0.3)
    details = await client.inspect("stubborn")
    assert details.stop_timeout == 1
    assert (await client.inspect("jellyfin")).stop_timeout is None

    await client.stop("stubborn", timeout=details.stop_timeout)
    assert stubborn.state == "exited"
    assert stubborn.exit_code == 137
    assert stubborn.killed_after == 1

    # No `t`: the engine applies the container's own; `wait` sizes the request.
    await client.start("stubborn")
    await client.stop("stubborn", wait=1)
    assert (stubborn.exit_code, stubborn.killed_after) == (137, 1)
    await client.start("stubborn")
    await client.restart("stubborn", timeout=1)
    assert stubborn.state == "running"
    restarts = [r.query for r in sim.requests if r.path.endswith("/restart")]
    assert restarts == [{"t": "1"}]
    stops = [r.query for r in sim.requests if r.path.endswith("/stop")]
    assert stops == [{"t": "1"}, {}]


async def test_graceful_stop_and_default_grace(
    sim: DockerSimulator, session: aiohttp.ClientSession
) -> None:
    """A container that honours SIGTERM exits 0; one that does not and sets no
    stop timeout is killed after the engine's default."""
    sim.second = 0.01
    stubborn = sim.add_container("stubborn", ignores_sigterm=True)
    client = DockerClient(session, sim.docker_url)
    await client.stop("jellyfin")
    assert sim.containers["jellyfin"].exit_code == 0
    assert sim.containers["jellyfin"].killed_after is None
    await client.stop("stubborn")
    assert (stubborn.exit_code, stubborn.killed_after) == (137, 10)


async def test_restart_kill_pause(
    sim: DockerSimulator, session: aiohttp.ClientSession
) -> None:
    client = DockerClient(session, sim.docker_url)
    await client.restart("nextcloud", timeout=2)
    assert sim.containers["nextcloud"].state == "running"
    await client.restart("nextcloud")
    await client.pause("nextcloud")
    assert (await client.list_containers())["nextcloud"].status is ResourceStatus.PAUSED
    await client.unpause("nextcloud")
    assert sim.containers["nextcloud"].state == "running"
    await client.kill("nextcloud")
    assert sim.containers["nextcloud"].exit_code == 137
    await client.start("nextcloud")
    await client.kill("nextcloud", signal="SIGTERM")
    assert (await client.list_containers())["nextcloud"].status_text.startswith(
        "Exited (137)"
    )
    kills = [r.query for r in sim.requests if r.path.endswith("/kill")]
    assert kills == [{}, {"signal": "SIGTERM"}]


async def test_action_errors(
    sim: DockerSimulator, session: aiohttp.ClientSession
) -> None:
    client = DockerClient(session, sim.docker_url)
    with pytest.raises(NotFound, match="No such container: ghost"):
        await client.start("ghost")
    with pytest.raises(Conflict, match="is not running"):
        await client.kill("nextcloud")
    sim.fail_start("nextcloud", 'exec: "/init": permission denied')
    with pytest.raises(ApiError, match="permission denied") as err:
        await client.start("nextcloud")
    assert err.value.code == 500
    assert err.value.message == 'exec: "/init": permission denied'
    assert sim.containers["nextcloud"].state == "exited"


async def test_error_bodies(
    make_sim: SimFactory, session: aiohttp.ClientSession
) -> None:
    """Errors as an authorization plugin or a proxy would send them."""

    async def handler(request: web.Request) -> web.Response:
        if request.path == "/_ping":
            return web.Response(text="OK", headers={"Api-Version": "1.41"})
        status = int(request.query["status"]) if "status" in request.query else 418
        name = request.match_info.get("name", "")
        if name == "plain":
            return web.Response(status=502, text="Bad Gateway")
        if name == "empty":
            return web.Response(status=503)
        if name == "list":
            return web.json_response(["odd"], status=500)
        if name == "401":
            status = 401
        if name == "403":
            status = 403
        return web.json_response({"message": f"refused by authz {name}"}, status=status)

    app = web.Application()
    app.router.add_get("/_ping", handler)
    app.router.add_post("/v1.41/containers/{name}/start", handler)
    runner, url = await _serve(app)
    client = DockerClient(session, url)
    try:
        with pytest.raises(InvalidAuth, match="authz 401"):
            await client.start("401")
        with pytest.raises(PermissionDenied, match="authz 403"):
            await client.start("403")
        with pytest.raises(ApiError, match="Bad Gateway") as err:
            await client.start("plain")
        assert err.value.code == 502
        with pytest.raises(ApiError, match="HTTP 503"):
            await client.start("empty")
        with pytest.raises(ApiError, match=r'500: \["odd"\]'):
            await client.start("list")
        with pytest.raises(ApiError, match="418: refused by authz other"):
            await client.start("other")
    finally:
        await runner.cleanup()


# -- pure helpers ----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("state", "status"),
    [
        ("running", ResourceStatus.RUNNING),
        ("exited", ResourceStatus.STOPPED),
        ("created", ResourceStatus.STOPPED),
        ("dead", ResourceStatus.STOPPED),
        ("paused", ResourceStatus.PAUSED),
        ("restarting", ResourceStatus.REBOOTING),
        ("removing", ResourceStatus.STOPPING),
        ("Running", ResourceStatus.RUNNING),
        ("weird", ResourceStatus.UNKNOWN),
    ],
)
def test_map_state(state: str, status: ResourceStatus) -> None:
    assert map_state(state) is status


@pytest.mark.parametrize(
    ("text", "health"),
    [
        ("Up 3 hours (healthy)", "healthy"),
        ("Up 3 seconds (health: starting)", "starting"),
        ("Up 2 days (unhealthy)", "unhealthy"),
        ("Up 2 days", None),
        ("Exited (0) 3 minutes ago", None),
    ],
)
def test_health_from_status(text: str, health: str | None) -> None:
    assert health_from_status(text) == health


@pytest.mark.parametrize(
    ("image", "labels", "version"),
    [
        ("jellyfin/jellyfin:10.10", {}, "10.10"),
        ("lscr.io/linuxserver/sonarr:latest", {OCI_VERSION: " 4.0.14 "}, "4.0.14"),
        ("nextcloud", {}, None),
        ("nextcloud:latest", {}, None),
        ("registry.lan:5000/app", {}, None),
        ("registry.lan:5000/app:1.2", {}, "1.2"),
        ("app:1.2@sha256:" + "0" * 64, {}, "1.2"),
        ("app@sha256:" + "0" * 64, {}, None),
        ("sha256:" + "0" * 64, {}, None),
        ("app:", {}, None),
        ("app:1.2", {OCI_VERSION: ""}, "1.2"),
        ("app:1.2", {OCI_VERSION: "x" * 129}, "1.2"),
        ("app:1.2", {OCI_VERSION: "1\n2"}, "1.2"),
    ],
)
def test_image_version(image: str, labels: dict[str, str], version: str | None) -> None:
    assert image_version(image, labels) == version


@given(image=st.text(max_size=300), label=st.none() | st.text(max_size=300))
def test_image_version_of_anything(image: str, label: str | None) -> None:
    """Whatever an engine reports: a short printable version, or none."""
    version = image_version(image, {} if label is None else {OCI_VERSION: label})
    assert version is None or (0 < len(version) <= 128 and version.isprintable())


@pytest.mark.parametrize(
    ("seconds", "bound"),
    [(0.3, 1), (1, 2), (42, 43), (61, 120), (600, 660), (3600, 7200),
     (5 * 3600, 6 * 3600), (3 * 86400, 4 * 86400), (20 * 86400, 3 * 7 * 86400),
     (90 * 86400, 4 * 30 * 86400), (800 * 86400, 3 * 365 * 86400)],
)  # fmt: skip
def test_max_uptime_matches_engine_text(seconds: float, bound: float) -> None:
    text = f"Up {human_duration(seconds)} (healthy)"
    assert max_uptime(text) == bound
    assert max_uptime(text) >= seconds  # type: ignore[operator]


@pytest.mark.parametrize("text", ["Exited (0) 2 hours ago", "Up sometime", "Up 3 fortnights", "Created"])  # fmt: skip
def test_max_uptime_unknown(text: str) -> None:
    assert max_uptime(text) is None


def test_parse_timestamp() -> None:
    assert parse_timestamp("2026-11-21T05:44:42.242281339Z") == dt.datetime(
        2026, 11, 21, 5, 44, 42, 242281, tzinfo=dt.UTC
    )
    assert parse_timestamp("2026-11-21T05:44:42+02:00") == dt.datetime(
        2026, 11, 21, 3, 44, 42, tzinfo=dt.UTC
    )
    assert parse_timestamp("0001-01-01T00:00:00Z") is None
    assert parse_timestamp(None) is None
    assert parse_timestamp("yesterday") is None


def test_compute_stats_variants() -> None:
    # Streamed stats (not one-shot) carry precpu_stats: used directly.
    raw = {
        "id": "a" * 64,
        "cpu_stats": {
            "cpu_usage": {"total_usage": 300, "percpu_usage": [1, 2]},
            "system_cpu_usage": 2000,
        },
        "precpu_stats": {"cpu_usage": {"total_usage": 100}, "system_cpu_usage": 1000},
        "memory_stats": {
            "usage": 1000,
            "stats": {"total_inactive_file": 200},
            "limit": 4000,
        },
        "networks": {
            "eth0": {"rx_bytes": 5, "tx_bytes": 6},
            "eth1": {"rx_bytes": 1, "tx_bytes": 1},
        },
    }
    stats, sample = compute_stats(raw, None)
    assert stats.cpu_percent == 40.0  # 200/1000 * 2 cpus * 100
    assert stats.memory_usage == 800
    assert stats.memory_limit == 4000
    assert (stats.network_rx, stats.network_tx) == (6, 7)
    assert sample is not None
    # A stopped container's sample: nothing usable.
    empty, none = compute_stats({"cpu_stats": {}, "memory_stats": {}}, sample)
    assert none is None
    assert empty.cpu_percent is None
    assert empty.memory_usage is None
    assert empty.memory_limit is None
    # Counters went backwards (container restarted between cycles): no figure.
    back = {
        "id": "a" * 64,
        "cpu_stats": {"cpu_usage": {"total_usage": 50}, "system_cpu_usage": 3000},
    }
    assert compute_stats(back, sample)[0].cpu_percent is None


def test_restart_detection_without_start_time() -> None:
    container = Container(
        name="x",
        id="1",
        image="i",
        state="running",
        status_text="Up 2 hours",
        created=dt.datetime.now(dt.UTC),
        health=None,
    )
    assert docker_client._restarted_since(container, None)
    long_ago = dt.datetime.now(dt.UTC) - dt.timedelta(days=1)
    assert docker_client._restarted_since(container, long_ago)
    assert not docker_client._restarted_since(container, dt.datetime.now(dt.UTC))


def test_container_properties() -> None:
    container = Container(
        name="x",
        id="1",
        image="i",
        state="restarting",
        status_text="Restarting (1) 2 seconds ago",
        created=dt.datetime.now(dt.UTC),
        health=None,
    )
    assert container.status is ResourceStatus.REBOOTING
    assert not container.running


def test_module_exports_documented() -> None:
    doc = docker_api.__doc__ or ""
    for name in (
        "connect",
        "list_containers",
        "container_stats",
        "started_at",
        "close",
    ):
        assert name in doc
