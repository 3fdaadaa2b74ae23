"""Run by scripts/bench/docker_real.py (not part of the test suite).

One test per (size, run): a fresh Home Assistant following SIZE running
containers of the real engine (WAKEHUB_DOCKER_SOCKET), stats on. It measures

- `poll`: one coordinator refresh with a stats sample due, until every task it
  started is done (the stats sample, where it has a task of its own);
- `state_poll`: one refresh with no stats sample due (the code before stats got
  their own schedule has no such thing: every poll samples stats);
- `stop` and `start`: action confirmation, from the engine's answer (the time
  of its `stop`/`start` event, which it logs just before answering) to the power
  switch showing the new state, with stats due, for one of the containers;

and prints them as a JSON line. Uses only what both the old and the new code
offer, so the same file measures both (scripts/bench/docker_real.py --code).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
import contextlib
import json
import os
import secrets
import socket
import time
from typing import Any, Self

import aiohttp
from homeassistant.const import ATTR_ENTITY_ID
from homeassistant.core import Event, HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
import pytest_socket

from custom_components.wakehub.const import CONF_KIND, DOMAIN, KIND_DOCKER
from tests.conftest import (  # noqa: F401 - fixtures used by pytest
    auto_enable_custom_integrations,
    real_sockets,
)

SOCKET = os.environ.get("WAKEHUB_DOCKER_SOCKET", "")
SIZES = [int(s) for s in os.environ.get("WAKEHUB_BENCH_SIZES", "1,10,20").split(",")]
RUNS = int(os.environ.get("WAKEHUB_BENCH_RUNS", "3"))
IMAGE = "wakehub/busybox:test"
# Exits on SIGTERM (within its 0.1 s sleep): the stop is the engine's, not a grace.
TERMINATES = ["sh", "-c", 'trap "exit 0" TERM; while :; do sleep 0.1; done']
API = "http://docker/v1.41"


@pytest.fixture
def allow_unix_sockets(hass: HomeAssistant) -> Iterator[None]:
    """The engine's socket is a unix one: allow it once Home Assistant is set up."""
    saved_connect = socket.socket.connect
    pytest_socket.socket_allow_hosts(["127.0.0.1"], allow_unix_socket=True)
    yield
    socket.socket.connect = saved_connect  # type: ignore[method-assign]


@pytest.fixture
async def raw(allow_unix_sockets: None) -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(
        connector=aiohttp.UnixConnector(path=SOCKET)
    ) as session:
        yield session


async def _containers(raw: aiohttp.ClientSession, size: int) -> list[str]:
    prefix = f"wakehub-bench-{secrets.token_hex(2)}"
    names = [f"{prefix}-{index:02d}" for index in range(size)]
    for name in names:
        body = {
            "Image": IMAGE,
            "Cmd": TERMINATES,
            "HostConfig": {"NetworkMode": "none"},
        }
        async with raw.post(
            f"{API}/containers/create", params={"name": name}, json=body
        ) as response:
            assert response.status == 201, await response.text()
        async with raw.post(f"{API}/containers/{name}/start") as response:
            assert response.status == 204, await response.text()
    return names


async def _remove(raw: aiohttp.ClientSession, names: list[str]) -> None:
    for name in names:
        async with raw.delete(
            f"{API}/containers/{name}", params={"force": "1"}
        ) as response:
            assert response.status in (204, 404)


class EngineEvents:
    """The engine's own event stream: when it logged `start`/`stop` of a container."""

    def __init__(self, raw: aiohttp.ClientSession, name: str) -> None:
        self.raw = raw
        self.name = name
        self.seen: list[tuple[str, float]] = []
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> Self:
        ready = asyncio.Event()

        async def read() -> None:
            filters = json.dumps({"container": [self.name], "type": ["container"]})
            async with self.raw.get(
                f"{API}/events", params={"filters": filters}, timeout=None
            ) as response:
                ready.set()
                async for line in response.content:
                    event = json.loads(line)
                    self.seen.append((event["Action"], event["timeNano"] / 1e9))

        self._task = asyncio.create_task(read())
        await ready.wait()
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._task is not None
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task

    async def at(self, action: str) -> float:
        async with asyncio.timeout(10):
            while True:
                for seen, when in self.seen:
                    if seen == action:
                        return when
                await asyncio.sleep(0.01)


def _stats_due(coordinator: Any) -> None:
    """Make the next refresh sample stats (benchmark only: a private poke, as
    waiting the 60 s interval three times per size would be slow)."""
    if hasattr(coordinator, "_stats_due"):
        coordinator._stats_due = None  # noqa: SLF001


@pytest.mark.parametrize("size", SIZES)
async def test_poll_and_confirmation(
    hass: HomeAssistant, raw: aiohttp.ClientSession, size: int
) -> None:
    names = await _containers(raw, size)
    try:
        await _measure(hass, raw, names)
    finally:
        await _remove(raw, names)


async def _measure(
    hass: HomeAssistant, raw: aiohttp.ClientSession, names: list[str]
) -> None:
    async with raw.get(f"{API}/info") as response:
        engine_id = (await response.json())["ID"]
    entry = MockConfigEntry(
        domain=DOMAIN,
        title="bench-engine",
        unique_id=engine_id,
        data={CONF_KIND: KIND_DOCKER, "url": f"unix://{SOCKET}", "verify_ssl": True},
        options={"timeout": 60, "scan_interval": 3600, "stats": True},
        subentries_data=[
            {
                "subentry_type": "container",
                "data": {"container": name},
                "title": name,
                "unique_id": name,
            }
            for name in names
        ],
    )
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    coordinator = entry.runtime_data.coordinator
    target = names[0]
    switch = f"switch.{target.replace('-', '_')}"
    changed: dict[str, float] = {}

    def record(event: Event) -> None:
        new = event.data["new_state"]
        if event.data["entity_id"] == switch and new is not None:
            changed.setdefault(new.state, time.time())

    hass.bus.async_listen("state_changed", record)
    for run in range(RUNS):
        _stats_due(coordinator)
        started = time.perf_counter()
        await coordinator.async_refresh()
        await hass.async_block_till_done()
        poll = time.perf_counter() - started

        started = time.perf_counter()
        await coordinator.async_refresh()
        await hass.async_block_till_done()
        state_poll = time.perf_counter() - started

        confirmation: dict[str, float] = {}
        for service, action, state in (
            ("turn_off", "stop", "off"),
            ("turn_on", "start", "on"),
        ):
            _stats_due(coordinator)
            changed.clear()
            async with EngineEvents(raw, target) as events:
                await hass.services.async_call(
                    "switch", service, {ATTR_ENTITY_ID: switch}, blocking=True
                )
                answered = await events.at(action)
            assert state in changed, (service, changed)
            confirmation[action] = changed[state] - answered
            await hass.async_block_till_done()
        print(
            "BENCH "
            + json.dumps(
                {
                    "size": len(names),
                    "run": run,
                    "poll": poll,
                    "state_poll": state_poll,
                    **confirmation,
                }
            )
        )
    await hass.config_entries.async_unload(entry.entry_id)
