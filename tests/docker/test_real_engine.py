"""Through Home Assistant, against a real Docker engine (tests/services/dockerd.sh).

    export WAKEHUB_DOCKER_SOCKET=$(tests/services/dockerd.sh start)

Skipped, saying so, without WAKEHUB_DOCKER_SOCKET. Containers come from the
api-level real-engine tests' helpers (created through the raw API, removed after).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
import datetime as dt
import os
from typing import Any

import aiohttp
from homeassistant.config_entries import SOURCE_USER
from homeassistant.const import ATTR_ENTITY_ID, STATE_OFF, STATE_ON, STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import entity_registry as er
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.wakehub.api.docker.models import parse_timestamp
from custom_components.wakehub.const import CONF_HOST_LINK, CONF_TIMEOUT, DOMAIN
from custom_components.wakehub.power import async_get_power_manager
from tests.api.test_docker_real_engine import (
    IGNORES_SIGTERM,
    SCRIPT,
    SECOND,
    SOCKET,
    Create,
    _answers,
    _unique,
    create,  # noqa: F401 - fixture
    raw,  # noqa: F401 - fixture
)
from tests.conftest import machine_data, record_events
from tests.simulators.machine import MachineSimulator

pytestmark = pytest.mark.skipif(
    not _answers(SOCKET),
    reason="no Docker engine: run `export WAKEHUB_DOCKER_SOCKET=$(tests/services/dockerd.sh start)` (root) to test against a real one",
)


async def _wait(
    hass: HomeAssistant, entity_id: str, check: Callable[[str], bool]
) -> str:
    """Poll the entry until `entity_id`'s state satisfies `check`."""
    entry = hass.config_entries.async_entries(DOMAIN)[0]
    async with asyncio.timeout(15):
        while True:
            await entry.runtime_data.coordinator.async_refresh()
            await hass.async_block_till_done()
            state = hass.states.get(entity_id)
            if state is not None and check(state.state):
                return state.state
            await asyncio.sleep(0.25)


@pytest.fixture
async def engine_entry(
    hass: HomeAssistant,
    create: Create,  # noqa: F811 - the fixture imported above
) -> AsyncIterator[dict[str, Any]]:
    """Discover the engine through the wizard and follow two new containers."""
    web = _unique("web")
    health = _unique("health")
    stubborn = _unique("stubborn")
    patient = _unique("patient")
    await create(web, ["sleep", "3600"])
    await create(stubborn, IGNORES_SIGTERM, StopTimeout=2)
    await create(patient, IGNORES_SIGTERM, StopTimeout=3600)
    await create(
        health,
        ["sh", "-c", "touch /tmp/ok; sleep 2; rm /tmp/ok; sleep 3600"],
        Healthcheck={
            "Test": ["CMD", "test", "-f", "/tmp/ok"],
            "Interval": SECOND // 4,
            "Timeout": SECOND,
            "Retries": 1,
        },
    )
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_USER}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "docker"}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"url": f"unix://{SOCKET}", "verify_ssl": True}
    )
    assert result["step_id"] == "resources"
    offered = [
        o["value"] for o in result["data_schema"].schema["resources"].config["options"]
    ]
    assert web in offered
    assert health in offered
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"resources": [web, health, stubborn, patient]}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    entry = result["result"]
    # Busybox's sleep ignores SIGTERM: a stop waits this long, then kills it.
    hass.config_entries.async_update_entry(entry, options={"timeout": 2})
    await hass.async_block_till_done()
    await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    yield {
        "web": web,
        "health": health,
        "stubborn": stubborn,
        "patient": patient,
        "entry": entry,
    }
    await hass.config_entries.async_unload(entry.entry_id)


def _slug(name: str) -> str:
    return name.replace("-", "_")


async def test_actions_on_a_real_engine(
    hass: HomeAssistant,
    engine_entry: dict[str, Any],
    raw: aiohttp.ClientSession,  # noqa: F811
) -> None:
    web = _slug(engine_entry["web"])
    assert hass.states.get(f"switch.{web}").state == STATE_OFF
    assert hass.states.get(f"sensor.{web}_status").attributes["state"] == "created"

    await hass.services.async_call(
        "switch", "turn_on", {ATTR_ENTITY_ID: f"switch.{web}"}, blocking=True
    )
    assert hass.states.get(f"switch.{web}").state == STATE_ON
    assert hass.states.get(f"sensor.{web}_status").state == "running"

    await hass.services.async_call(
        "button", "press", {ATTR_ENTITY_ID: f"button.{web}_reboot"}, blocking=True
    )
    assert hass.states.get(f"switch.{web}").state == STATE_ON

    await hass.services.async_call(
        "switch", "turn_off", {ATTR_ENTITY_ID: f"switch.{web}"}, blocking=True
    )
    assert hass.states.get(f"switch.{web}").state == STATE_OFF

    # Kill: the force stop button is disabled by default; use the resource.
    await hass.services.async_call(
        "switch", "turn_on", {ATTR_ENTITY_ID: f"switch.{web}"}, blocking=True
    )
    entry = engine_entry["entry"]
    resource = next(
        r for r in entry.runtime_data.resources if r.name == engine_entry["web"]
    )
    await resource.async_force_stop()
    assert await _wait(hass, f"switch.{web}", lambda s: s == STATE_OFF)


async def test_health_goes_unhealthy(
    hass: HomeAssistant, engine_entry: dict[str, Any]
) -> None:
    health = _slug(engine_entry["health"])
    await hass.services.async_call(
        "switch", "turn_on", {ATTR_ENTITY_ID: f"switch.{health}"}, blocking=True
    )
    await _wait(hass, f"sensor.{health}_health", lambda s: s == "healthy")
    await _wait(hass, f"sensor.{health}_health", lambda s: s == "unhealthy")


async def test_recreated_under_the_same_name(
    hass: HomeAssistant,
    engine_entry: dict[str, Any],
    create: Create,  # noqa: F811
    raw: aiohttp.ClientSession,  # noqa: F811
) -> None:
    name = engine_entry["web"]
    async with raw.delete(
        f"http://docker/v1.41/containers/{name}", params={"force": "1"}
    ) as response:
        assert response.status == 204
    await _wait(hass, f"switch.{_slug(name)}", lambda s: s == STATE_UNAVAILABLE)
    await create(name, ["sleep", "3600"])
    await _wait(hass, f"switch.{_slug(name)}", lambda s: s == STATE_OFF)
    await hass.services.async_call(
        "switch", "turn_on", {ATTR_ENTITY_ID: f"switch.{_slug(name)}"}, blocking=True
    )
    assert hass.states.get(f"switch.{_slug(name)}").state == STATE_ON


@pytest.mark.skipif(
    os.geteuid() != 0
    or f"{os.environ.get('WAKEHUB_DOCKERD_DIR', '/tmp/wakehub-dockerd')}/docker.sock"
    != SOCKET,
    reason="the daemon restart needs root and the engine of tests/services/dockerd.sh",
)
async def test_daemon_stops_and_comes_back(
    hass: HomeAssistant, engine_entry: dict[str, Any]
) -> None:
    web = _slug(engine_entry["web"])

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
        await _wait(hass, f"switch.{web}", lambda s: s == STATE_UNAVAILABLE)
    finally:
        await script("start")
    await _wait(hass, f"switch.{web}", lambda s: s == STATE_OFF)


async def test_a_container_wakehub_does_not_manage_keeps_the_docker_host_on(
    hass: HomeAssistant,
    engine_entry: dict[str, Any],
    create: Create,  # noqa: F811
    raw: aiohttp.ClientSession,  # noqa: F811
) -> None:
    """The real engine runs on a (simulated) machine WakeHub powers. A container
    started outside WakeHub keeps that machine on when the last followed one
    is turned off; once it stops, the same turn-off releases the machine."""
    host = MachineSimulator(mac="52:54:00:00:d0:c1", shutdown_delay=0.05)
    await host.start(powered=True)
    try:
        machine = MockConfigEntry(
            domain=DOMAIN,
            title="Docker host",
            unique_id=host.mac,
            data=machine_data(host),
            options={CONF_TIMEOUT: 10},
        )
        machine.add_to_hass(hass)
        assert await hass.config_entries.async_setup(machine.entry_id)
        await hass.async_block_till_done()
        entry = engine_entry["entry"]
        link = er.async_get(hass).async_get("switch.docker_host")
        hass.config_entries.async_update_entry(
            entry, options={**entry.options, CONF_HOST_LINK: link.id}
        )
        await hass.config_entries.async_reload(entry.entry_id)
        await hass.async_block_till_done()

        other = _unique("unmanaged")
        await create(other, ["sleep", "3600"])
        async with raw.post(f"http://docker/v1.41/containers/{other}/start") as reply:
            assert reply.status == 204, await reply.text()
        events = record_events(hass, "wakehub_power")
        web = f"switch.{_slug(engine_entry['web'])}"
        await hass.services.async_call(
            "switch", "turn_on", {ATTR_ENTITY_ID: web}, blocking=True
        )
        await hass.services.async_call(
            "switch", "turn_off", {ATTR_ENTITY_ID: web}, blocking=True
        )
        assert host.powered
        kept = [e.data for e in events if e.data["result"] == "kept_on"]
        assert kept[0]["name"] == "Docker host"
        assert other in kept[0]["unmanaged"]

        async with raw.post(
            f"http://docker/v1.41/containers/{other}/stop", params={"t": "0"}
        ) as reply:
            assert reply.status in (204, 304), await reply.text()
        await hass.services.async_call(
            "switch", "turn_off", {ATTR_ENTITY_ID: web}, blocking=True
        )
        assert not host.powered
        await hass.config_entries.async_unload(machine.entry_id)
    finally:
        await host.stop()


async def test_stop_and_grace_on_a_real_engine(
    hass: HomeAssistant,
    engine_entry: dict[str, Any],
    create: Create,  # noqa: F811
    raw: aiohttp.ClientSession,  # noqa: F811
) -> None:
    """A container whose PID 1 ignores SIGTERM is off once its own stop timeout
    (2 s) is over, not WakeHub's start/stop timeout (an hour here); the grace
    setting overrides it. Pause and resume through the actions."""
    entry = engine_entry["entry"]
    name = engine_entry["stubborn"]
    switch = f"switch.{_slug(name)}"
    hass.config_entries.async_update_entry(entry, options={"timeout": 3600})
    await hass.services.async_call(
        "switch", "turn_on", {ATTR_ENTITY_ID: switch}, blocking=True
    )
    await hass.services.async_call(
        DOMAIN, "pause", {ATTR_ENTITY_ID: switch}, blocking=True
    )
    assert hass.states.get(f"sensor.{_slug(name)}_status").state == "paused"
    await hass.services.async_call(
        DOMAIN, "unpause", {ATTR_ENTITY_ID: switch}, blocking=True
    )
    assert hass.states.get(switch).state == STATE_ON
    # Paused again, then turned on: resumed (the engine would refuse a start).
    await hass.services.async_call(
        DOMAIN, "pause", {ATTR_ENTITY_ID: switch}, blocking=True
    )
    assert hass.states.get(switch).state == STATE_OFF
    await hass.services.async_call(
        "switch", "turn_on", {ATTR_ENTITY_ID: switch}, blocking=True
    )
    assert hass.states.get(switch).state == STATE_ON

    # A hang guard, not a timing: the old behaviour waited the hour.
    async with asyncio.timeout(60):
        await hass.services.async_call(
            "switch", "turn_off", {ATTR_ENTITY_ID: switch}, blocking=True
        )
    assert hass.states.get(switch).state == STATE_OFF
    assert await _exit_code(raw, name) == 137  # killed once the grace was over

    # The grace setting wins over the container's own (an hour, here).
    other = engine_entry["patient"]
    subentry = next(
        s for s in entry.subentries.values() if s.data["container"] == other
    )
    hass.config_entries.async_update_subentry(
        entry, subentry, data={**subentry.data, "stop_grace": 1}
    )
    await hass.services.async_call(
        "switch", "turn_on", {ATTR_ENTITY_ID: f"switch.{_slug(other)}"}, blocking=True
    )
    async with asyncio.timeout(60):
        await hass.services.async_call(
            "switch",
            "turn_off",
            {ATTR_ENTITY_ID: f"switch.{_slug(other)}"},
            blocking=True,
        )
    assert hass.states.get(f"switch.{_slug(other)}").state == STATE_OFF
    assert await _exit_code(raw, other) == 137


async def _exit_code(session: aiohttp.ClientSession, name: str) -> int:
    async with session.get(f"http://docker/v1.41/containers/{name}/json") as response:
        return int((await response.json())["State"]["ExitCode"])


# -- compose stacks ---------------------------------------------------------------------
# A PID 1 that exits on SIGTERM: stops are quick and clean (exit code 0).
EXITS_ON_TERM = ["sh", "-c", "trap 'exit 0' TERM; while :; do sleep 0.1; done"]
# Dependency order db, cache, web; name order would start cache first. cache
# waits for db's healthcheck, which passes once db has run for a second.
STACK = {
    "web": ["cache:service_started", "db:service_started"],
    "cache": ["db:service_healthy"],
    "db": [],
}
DB_READY = [
    "sh",
    "-c",
    "trap 'exit 0' TERM; sleep 1; touch /tmp/ok; while :; do sleep 0.1; done",
]
DB_HEALTHCHECK = {
    "Test": ["CMD", "test", "-f", "/tmp/ok"],
    "Interval": SECOND // 4,
    "Timeout": SECOND,
    "Retries": 20,
}


async def _create_stack(create: Create, project: str) -> list[str]:  # noqa: F811
    """The project's containers as `docker compose create` labels them; their
    names in dependency order."""
    for service, needs in STACK.items():
        db = service == "db"
        await create(
            f"{project}-{service}-1",
            DB_READY if db else EXITS_ON_TERM,
            **({"Healthcheck": DB_HEALTHCHECK} if db else {}),
            Labels={
                "com.docker.compose.project": project,
                "com.docker.compose.service": service,
                "com.docker.compose.container-number": "1",
                "com.docker.compose.oneoff": "False",
                "com.docker.compose.depends_on": ",".join(
                    f"{need}:false" for need in needs
                ),
            },
        )
    return [f"{project}-{service}-1" for service in ("db", "cache", "web")]


async def _time(session: aiohttp.ClientSession, name: str, which: str) -> dt.datetime:
    """`StartedAt` or `FinishedAt` as the engine recorded it. Parsed, not
    compared as text: Go trims trailing zeros of the nanoseconds."""
    async with session.get(f"http://docker/v1.41/containers/{name}/json") as response:
        when = parse_timestamp((await response.json())["State"][which])
    assert when is not None, f"{name} has no {which}"
    return when


@pytest.fixture
async def stack_entry(
    hass: HomeAssistant,
    create: Create,  # noqa: F811
) -> AsyncIterator[dict[str, Any]]:
    """A compose-labelled project, followed as one stack through the wizard."""
    project = _unique("stack")
    members = await _create_stack(create, project)
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_USER}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "docker"}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"url": f"unix://{SOCKET}", "verify_ssl": True}
    )
    assert result["step_id"] == "resources"
    options = {
        o["value"]: o["label"]
        for o in result["data_schema"].schema["resources"].config["options"]
    }
    assert options[f"stack:{project}"] == f"stack: {project} (3 containers)"
    assert set(members) <= set(options)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"resources": [f"stack:{project}"]}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    entry = result["result"]
    await hass.async_block_till_done()
    yield {"project": project, "members": members, "entry": entry}
    await hass.config_entries.async_unload(entry.entry_id)


async def test_stack_in_order_on_a_real_engine(
    hass: HomeAssistant,
    stack_entry: dict[str, Any],
    create: Create,  # noqa: F811
    raw: aiohttp.ClientSession,  # noqa: F811
) -> None:
    """Started in dependency order, stopped in reverse (the engine's own
    StartedAt/FinishedAt say so); deleted and created again with the same
    labels (`docker compose up` after `down`), it keeps its entities."""
    project, members = stack_entry["project"], stack_entry["members"]
    switch = f"switch.{_slug(project)}"
    registry = er.async_get(hass)
    entity = registry.async_get(switch)
    assert entity is not None
    assert hass.states.get(switch).state == STATE_OFF

    await hass.services.async_call(
        "switch", "turn_on", {ATTR_ENTITY_ID: switch}, blocking=True
    )
    assert hass.states.get(switch).state == STATE_ON
    started = [await _time(raw, name, "StartedAt") for name in members]
    assert started == sorted(started)
    assert len(set(started)) == len(started)
    # A lower bound, never flaky: cache waited for db's healthcheck to pass.
    assert (started[1] - started[0]).total_seconds() >= 1

    async with asyncio.timeout(60):  # a hang guard, not a timing
        await hass.services.async_call(
            "switch", "turn_off", {ATTR_ENTITY_ID: switch}, blocking=True
        )
    assert hass.states.get(switch).state == STATE_OFF
    finished = [await _time(raw, name, "FinishedAt") for name in members]
    assert finished == sorted(finished, reverse=True)
    assert len(set(finished)) == len(finished)
    assert [await _exit_code(raw, name) for name in members] == [0, 0, 0]

    for name in members:
        async with raw.delete(
            f"http://docker/v1.41/containers/{name}", params={"force": "1"}
        ) as response:
            assert response.status == 204
    await _wait(hass, switch, lambda s: s == STATE_UNAVAILABLE)
    await _create_stack(create, project)
    await _wait(hass, switch, lambda s: s == STATE_OFF)
    assert registry.async_get(switch).id == entity.id
    await hass.services.async_call(
        "switch", "turn_on", {ATTR_ENTITY_ID: switch}, blocking=True
    )
    assert hass.states.get(switch).state == STATE_ON
    async with asyncio.timeout(60):
        await hass.services.async_call(
            "switch", "turn_off", {ATTR_ENTITY_ID: switch}, blocking=True
        )


async def test_a_real_stack_keeps_the_docker_host_on(
    hass: HomeAssistant, stack_entry: dict[str, Any]
) -> None:
    """The engine on a (simulated) machine: the running stack is a managed
    workload of that machine, its containers no unmanaged ones."""
    host = MachineSimulator(mac="52:54:00:00:d0:c9", shutdown_delay=0.05)
    await host.start(powered=True)
    try:
        machine = MockConfigEntry(
            domain=DOMAIN,
            title="Docker host",
            unique_id=host.mac,
            data=machine_data(host),
            options={CONF_TIMEOUT: 10},
        )
        machine.add_to_hass(hass)
        assert await hass.config_entries.async_setup(machine.entry_id)
        await hass.async_block_till_done()
        entry = stack_entry["entry"]
        link = er.async_get(hass).async_get("switch.docker_host")
        hass.config_entries.async_update_entry(
            entry, options={**entry.options, CONF_HOST_LINK: link.id}
        )
        await hass.config_entries.async_reload(entry.entry_id)
        await hass.async_block_till_done()

        switch = f"switch.{_slug(stack_entry['project'])}"
        await hass.services.async_call(
            "switch", "turn_on", {ATTR_ENTITY_ID: switch}, blocking=True
        )
        power = async_get_power_manager(hass)
        host_resource = machine.runtime_data.resources[0]
        report = await power.async_workloads_on(host_resource)
        assert stack_entry["project"] in report.managed
        assert not set(stack_entry["members"]) & set(report.unmanaged)
        async with asyncio.timeout(60):
            await hass.services.async_call(
                "switch", "turn_off", {ATTR_ENTITY_ID: switch}, blocking=True
            )
        report = await power.async_workloads_on(host_resource)
        assert stack_entry["project"] not in report.managed
        await hass.config_entries.async_unload(machine.entry_id)
    finally:
        await host.stop()
