"""Fixtures of the Docker kind: the simulated engine, entries, real unix sockets."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
import datetime as dt
import hashlib
from pathlib import Path
import socket
import tempfile
from typing import Any

from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
import pytest_socket

from custom_components.wakehub.api.docker.models import OCI_VERSION
from custom_components.wakehub.const import (
    CONF_KIND,
    CONF_SCAN_INTERVAL,
    CONF_TIMEOUT,
    DOMAIN,
    KIND_DOCKER,
)
from tests.simulators.docker import DockerSimulator

SimFactory = Callable[..., Awaitable[DockerSimulator]]
STARTED = dt.datetime(2026, 1, 5, 8, 30, tzinfo=dt.UTC)
ENTRY_ID = "01DOCKERENGINE00000000000"


@pytest.fixture(autouse=True)
def allow_unix_sockets() -> Iterator[None]:
    """pytest-homeassistant-custom-component allows 127.0.0.1 only and, through a
    pytest-socket quirk, not unix sockets: the engine's socket is one."""
    saved_connect = socket.socket.connect
    pytest_socket.socket_allow_hosts(["127.0.0.1"], allow_unix_socket=True)
    yield
    socket.socket.connect = saved_connect  # type: ignore[method-assign]


@pytest.fixture
def socket_dir() -> Iterator[str]:
    """A short directory for unix sockets (AF_UNIX paths are limited to ~107 bytes)."""
    directory = tempfile.mkdtemp(prefix="wh-dk-")
    Path(directory).chmod(0o755)
    yield directory
    for entry in Path(directory).iterdir():
        entry.unlink()
    Path(directory).rmdir()


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


def fixed_id(name: str) -> str:
    return hashlib.sha256(name.encode()).hexdigest()


def populate(sim: DockerSimulator) -> DockerSimulator:
    """A small home lab, with fixed times so entity states are stable."""
    sim.add_container(
        "jellyfin",
        image="jellyfin/jellyfin:10.10",
        health="healthy",
        started_at=STARTED,
        id=fixed_id("jellyfin"),
    )
    sim.add_container("nextcloud", image="nextcloud:30-apache", state="exited", id=fixed_id("nextcloud"))  # fmt: skip
    sim.add_container("homepage", image="ghcr.io/gethomepage/homepage:v1.0", started_at=STARTED, id=fixed_id("homepage"))  # fmt: skip
    sim.add_container("paperless", image="paperlessngx/paperless-ngx:2.14", state="paused", started_at=STARTED, id=fixed_id("paperless"), labels={OCI_VERSION: "2.14.7"})  # fmt: skip
    return sim


@pytest.fixture
async def docker_sim(make_sim: SimFactory) -> DockerSimulator:
    return populate(await make_sim(start_delay=0.05, stop_delay=0.05))


def container_subentry(name: str) -> dict[str, Any]:
    return {
        "subentry_type": "container",
        "data": {"container": name},
        "title": name,
        "unique_id": name,
        "subentry_id": f"sub_{name}",
    }


def stack_subentry(project: str) -> dict[str, Any]:
    """A followed compose stack, as the wizard stores it."""
    return {
        "subentry_type": "container",
        "data": {"stack": project},
        "title": project,
        "unique_id": f"stack:{project}",
        "subentry_id": f"sub_stack_{project}",
    }


def docker_entry_for(
    sim: DockerSimulator,
    containers: tuple[str, ...] = ("jellyfin", "nextcloud", "paperless"),
    *,
    data: dict[str, Any] | None = None,
    options: dict[str, Any] | None = None,
    stacks: tuple[str, ...] = (),
    entry_id: str = ENTRY_ID,
) -> MockConfigEntry:
    return MockConfigEntry(
        domain=DOMAIN,
        title="docker-host",
        unique_id=sim.engine_id,
        data={CONF_KIND: KIND_DOCKER, "url": sim.docker_url, "verify_ssl": True}
        | (data or {}),
        options={CONF_TIMEOUT: 5, CONF_SCAN_INTERVAL: 30} | (options or {}),
        entry_id=entry_id,
        subentries_data=[container_subentry(name) for name in containers]
        + [stack_subentry(project) for project in stacks],
    )


@pytest.fixture
def docker_entry(hass: HomeAssistant, docker_sim: DockerSimulator) -> MockConfigEntry:
    entry = docker_entry_for(docker_sim)
    entry.add_to_hass(hass)
    return entry


@pytest.fixture
async def init_docker(
    hass: HomeAssistant, docker_entry: MockConfigEntry
) -> MockConfigEntry:
    assert await hass.config_entries.async_setup(docker_entry.entry_id)
    await hass.async_block_till_done()
    return docker_entry
