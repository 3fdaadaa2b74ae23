"""The Docker client against a real engine (dockerd on a private unix socket).

Start the engine first (root, Debian's docker.io and busybox-static installed):

    export WAKEHUB_DOCKER_SOCKET=$(tests/services/dockerd.sh start)
    .venv/bin/pytest tests/api/test_docker_real_engine.py -q -p no:cacheprovider

Without WAKEHUB_DOCKER_SOCKET (or when it does not answer) every test is skipped
with that message. Containers are created through the API from the image
`wakehub/busybox:test` that the script imports, with network "none", and removed
afterwards. The last test stops and restarts the daemon through the script.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
import os
from pathlib import Path
import secrets
import socket
from typing import Any

import aiohttp
import pytest
import pytest_socket

from custom_components.wakehub.api.docker import DockerClient
from custom_components.wakehub.api.errors import CannotConnect, Conflict, NotFound
from custom_components.wakehub.api.models import ResourceStatus

SOCKET = os.environ.get("WAKEHUB_DOCKER_SOCKET", "")
SCRIPT = Path(__file__).resolve().parents[1] / "services" / "dockerd.sh"
IMAGE = "wakehub/busybox:test"
SECOND = 1_000_000_000  # Docker durations are nanoseconds
# A shell as PID 1 that ignores SIGTERM, as many entrypoint scripts do.
IGNORES_SIGTERM = ["sh", "-c", 'trap "" TERM; while :; do sleep 1; done']

Create = Callable[..., Awaitable[str]]


def _answers(path: str) -> bool:
    if not path or not Path(path).is_socket():
        return False
    with socket.socket(socket.AF_UNIX) as probe:
        probe.settimeout(2)
        try:
            probe.connect(path)
            probe.sendall(b"GET /_ping HTTP/1.0\r\nHost: docker\r\n\r\n")
            return b"200 OK" in probe.recv(64)
        except OSError:
            return False


pytestmark = pytest.mark.skipif(
    not _answers(SOCKET),
    reason="no Docker engine: run `export WAKEHUB_DOCKER_SOCKET=$(tests/services/dockerd.sh start)` (root) to test against a real one",
)


@pytest.fixture(autouse=True)
def allow_unix_sockets() -> Any:
    """pytest-homeassistant-custom-component allows 127.0.0.1 only."""
    saved_connect = socket.socket.connect
    pytest_socket.socket_allow_hosts(["127.0.0.1"], allow_unix_socket=True)
    yield
    socket.socket.connect = saved_connect  # type: ignore[method-assign]


@pytest.fixture
async def client() -> AsyncIterator[DockerClient]:
    docker = DockerClient(None, f"unix://{SOCKET}", timeout=30)
    yield docker
    await docker.close()


@pytest.fixture
async def raw() -> AsyncIterator[aiohttp.ClientSession]:
    """A plain session on the socket, for what the client does not offer."""
    async with aiohttp.ClientSession(
        connector=aiohttp.UnixConnector(path=SOCKET)
    ) as session:
        yield session


@pytest.fixture
async def create(raw: aiohttp.ClientSession) -> AsyncIterator[Create]:
    """Create containers through the API; remove them all afterwards."""
    names: list[str] = []

    async def factory(name: str, cmd: list[str], **config: Any) -> str:
        body = {
            "Image": IMAGE,
            "Cmd": cmd,
            "StopTimeout": 1,
            "HostConfig": {"NetworkMode": "none"},
            **config,
        }
        async with raw.post(
            "http://docker/v1.41/containers/create", params={"name": name}, json=body
        ) as response:
            assert response.status == 201, await response.text()
            names.append(name)
            return str((await response.json())["Id"])

    yield factory
    for name in names:
        async with raw.delete(
            f"http://docker/v1.41/containers/{name}", params={"force": "1"}
        ) as response:
            assert response.status in (204, 404)


def _unique(prefix: str) -> str:
    return f"wakehub-{prefix}-{secrets.token_hex(3)}"


async def _wait_for(
    client: DockerClient, name: str, predicate: Callable[[Any], bool], timeout: float
) -> Any:
    async with asyncio.timeout(timeout):
        while True:
            container = (await client.list_containers()).get(name)
            if container is not None and predicate(container):
                return container
            await asyncio.sleep(0.2)


async def test_connect(client: DockerClient) -> None:
    engine = await client.connect()
    assert engine.id
    assert engine.server_version
    assert engine.api_version >= "1.41"
    assert engine.os_type == "linux"


async def test_discovery_and_actions(client: DockerClient, create: Create) -> None:
    name = _unique("web")
    container_id = await create(name, ["sleep", "3600"])
    containers = await client.list_containers()
    assert containers[name].id == container_id
    assert containers[name].state == "created"
    assert containers[name].status is ResourceStatus.STOPPED
    assert containers[name].image == IMAGE

    await client.start(name)
    await client.start(name)  # 304: already running
    running = (await client.list_containers())[name]
    assert running.status is ResourceStatus.RUNNING
    assert running.health is None
    started = await client.started_at(running)
    assert started is not None
    stats = await client.container_stats([running])
    assert stats[name].memory_usage is not None
    assert stats[name].network_rx is None  # network "none"
    await asyncio.sleep(0.2)
    assert (await client.container_stats([running]))[name].cpu_percent is not None

    await client.restart(name, timeout=1)
    restarted = (await client.list_containers())[name]
    assert restarted.running
    assert (await client.started_at(restarted) or started) > started

    await client.stop(name, timeout=1)
    await client.stop(name, timeout=1)  # 304: already stopped
    assert (await client.list_containers())[name].status is ResourceStatus.STOPPED

    await client.start(name)
    await client.kill(name)
    stopped = (await client.list_containers())[name]
    assert stopped.state == "exited"
    assert stopped.status_text.startswith("Exited (137)")
    assert await client.started_at(stopped) is None

    with pytest.raises(NotFound):
        await client.start(_unique("ghost"))


async def test_health_goes_unhealthy(client: DockerClient, create: Create) -> None:
    name = _unique("health")
    await create(
        name,
        ["sh", "-c", "touch /tmp/ok; sleep 2; rm /tmp/ok; sleep 3600"],
        Healthcheck={
            "Test": ["CMD", "test", "-f", "/tmp/ok"],
            "Interval": SECOND // 4,
            "Timeout": SECOND,
            "Retries": 1,
        },
    )
    await client.start(name)
    await _wait_for(client, name, lambda c: c.health == "healthy", 10)
    unhealthy = await _wait_for(client, name, lambda c: c.health == "unhealthy", 10)
    assert "(unhealthy)" in unhealthy.status_text
    assert (await client.inspect(name)).health == "unhealthy"


async def test_recreated_under_same_name(
    client: DockerClient, create: Create, raw: aiohttp.ClientSession
) -> None:
    name = _unique("recreate")
    first_id = await create(name, ["sleep", "3600"])
    await client.start(name)
    first = (await client.list_containers())[name]
    assert await client.started_at(first) is not None
    async with raw.delete(
        f"http://docker/v1.41/containers/{name}", params={"force": "1"}
    ) as response:
        assert response.status == 204
    second_id = await create(name, ["sleep", "3600"])
    assert second_id != first_id
    await client.start(name)
    second = (await client.list_containers())[name]
    assert second.id == second_id
    assert second.running
    assert await client.started_at(second) is not None
    await client.stop(name, timeout=1)


@pytest.mark.skipif(
    os.geteuid() != 0
    or f"{os.environ.get('WAKEHUB_DOCKERD_DIR', '/tmp/wakehub-dockerd')}/docker.sock"
    != SOCKET,
    reason="the daemon restart needs root and the engine of tests/services/dockerd.sh",
)
async def test_daemon_stops_and_comes_back(client: DockerClient) -> None:
    assert await client.list_containers() is not None

    async def script(action: str) -> None:
        process = await asyncio.create_subprocess_exec(
            str(SCRIPT),
            action,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
        )
        _, stderr = await process.communicate()
        assert process.returncode == 0, stderr.decode()

    await script("stop")
    try:
        with pytest.raises(CannotConnect):
            await client.list_containers()
        with pytest.raises(CannotConnect):
            await client.connect()
    finally:
        await script("start")
    engine = await client.connect()
    assert engine.id
    assert isinstance(await client.list_containers(), dict)


async def test_stop_timeout_and_pause(client: DockerClient, create: Create) -> None:
    """`docker stop`'s grace: a PID 1 that ignores SIGTERM is killed after the
    container's own StopTimeout; pause freezes it and is refused when stopped."""
    name = _unique("stubborn")
    await create(name, IGNORES_SIGTERM, StopTimeout=2)
    assert (await client.inspect(name)).stop_timeout == 2
    await client.start(name)
    await client.pause(name)
    assert (await client.list_containers())[name].status is ResourceStatus.PAUSED
    await client.unpause(name)
    assert (await client.list_containers())[name].running

    await client.stop(name)  # no `t`: the engine applies the container's own
    stopped = (await client.list_containers())[name]
    assert stopped.status_text.startswith("Exited (137)")  # SIGKILL
    with pytest.raises(Conflict):
        await client.pause(name)
