"""Compose stacks as one resource, on the simulated engine: dependency order,
recreated members, the wizard, and protection of the engine's host."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

from homeassistant.config_entries import SOURCE_USER
from homeassistant.const import (
    ATTR_ENTITY_ID,
    STATE_OFF,
    STATE_ON,
    STATE_UNAVAILABLE,
)
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import entity_registry as er, issue_registry as ir
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.wakehub.api.docker import Container
from custom_components.wakehub.api.docker.models import parse_depends_on, parse_labels
from custom_components.wakehub.const import CONF_HOST_LINK, CONF_TIMEOUT, DOMAIN
from custom_components.wakehub.devices import entry_device
from custom_components.wakehub.kinds.docker.compose import stack_members
from custom_components.wakehub.power import async_get_power_manager
from tests.conftest import machine_data, record_events
from tests.simulators.docker import DockerSimulator
from tests.simulators.machine import MachineSimulator

from .conftest import ENTRY_ID, SimFactory, docker_entry_for, populate

# Dependency order (db, cache, jellyfin, web) is not name order (cache first).
MEDIA = {"jellyfin": ["db", "cache"], "db": [], "cache": ["db"], "web": ["jellyfin"]}
ORDER = ["media-db-1", "media-cache-1", "media-jellyfin-1", "media-web-1"]


@pytest.fixture
async def stack_sim(make_sim: SimFactory) -> DockerSimulator:
    sim = populate(await make_sim(start_delay=0.01, stop_delay=0.01))
    sim.add_stack("media", MEDIA, state="exited")
    # `docker compose run`'s throwaway container is no member of the stack.
    sim.add_container(
        "media-web-run-1a2b",
        state="exited",
        labels={
            "com.docker.compose.project": "media",
            "com.docker.compose.service": "web",
            "com.docker.compose.oneoff": "True",
        },
    )
    return sim


@pytest.fixture
async def stack_entry(
    hass: HomeAssistant, stack_sim: DockerSimulator
) -> MockConfigEntry:
    entry = docker_entry_for(stack_sim, ("jellyfin",), stacks=("media",))
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    return entry


async def _switch(hass: HomeAssistant, service: str, entity_id: str) -> None:
    await hass.services.async_call(
        "switch", service, {ATTR_ENTITY_ID: entity_id}, blocking=True
    )


async def _refresh(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    await entry.runtime_data.coordinator.async_refresh()
    await hass.async_block_till_done()


def test_compose_labels_are_parsed_defensively() -> None:
    assert parse_depends_on("db:service_healthy:false, cache::true,x,,") == {
        "db": "service_healthy",
        "cache": "service_started",
        "x": "service_started",
    }
    assert parse_depends_on("") == {}
    assert parse_labels({"a": "1", "b": 2, "c": None}) == {"a": "1"}
    assert parse_labels(["not", "an", "object"]) == {}


def _member(name: str, service: str, needs: str = "") -> Container:
    return Container(
        name=name,
        id=name,
        image="busybox",
        state="exited",
        status_text="Exited (0)",
        created=dt.datetime.fromtimestamp(0, dt.UTC),
        health=None,
        labels={
            "com.docker.compose.project": "p",
            "com.docker.compose.service": service,
            "com.docker.compose.depends_on": needs,
        },
    )


def test_start_order_of_odd_projects() -> None:
    """Replicas of a service start together; a dependency that is not in the
    project is ignored; a cycle (compose refuses it) is broken by name."""
    containers = [
        _member("p-web-2", "web", "api:service_started:false"),
        _member("p-web-1", "web", "api:service_started:false"),
        _member("p-api-1", "api", "db:service_healthy:false,gone:service_started"),
        _member("p-db-1", "db"),
        _member("p-a-1", "a", "b:service_started:false"),
        _member("p-b-1", "b", "a:service_started:false"),
    ]
    order = stack_members({c.name: c for c in containers}, "p")
    assert [c.name for c in order] == [
        "p-db-1",
        "p-api-1",
        "p-web-1",
        "p-web-2",
        "p-a-1",
        "p-b-1",
    ]


async def test_stack_starts_in_order_and_stops_in_reverse(
    hass: HomeAssistant, stack_sim: DockerSimulator, stack_entry: MockConfigEntry
) -> None:
    assert hass.states.get("switch.media").state == STATE_OFF
    status = hass.states.get("sensor.media_status")
    assert status.state == "stopped"
    assert status.attributes["containers"] == 4
    assert status.attributes["not_running"] == ORDER

    await _switch(hass, "turn_on", "switch.media")
    assert hass.states.get("switch.media").state == STATE_ON
    members = [stack_sim.containers[name] for name in ORDER]
    started = [c.started_at for c in members]
    assert all(s is not None for s in started)
    assert started == sorted(started)  # type: ignore[type-var]
    assert len(set(started)) == len(started)
    assert stack_sim.containers["media-web-run-1a2b"].state == "exited"
    assert hass.states.get("sensor.media_status").attributes["running"] == ORDER

    await _switch(hass, "turn_off", "switch.media")
    assert hass.states.get("switch.media").state == STATE_OFF
    finished = [c.finished_at for c in members]
    assert finished == sorted(finished, reverse=True)  # type: ignore[type-var]
    assert len(set(finished)) == len(finished)
    assert all(c.exit_code == 0 for c in members)


async def test_a_stack_changes_its_followed_members_as_wakehub(
    hass: HomeAssistant, stack_sim: DockerSimulator
) -> None:
    """A member followed on its own too: the stack's start and stop are
    WakeHub's, not changes made outside it; a member stopped by hand is one."""
    entry = docker_entry_for(stack_sim, ("media-jellyfin-1",), stacks=("media",))
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    events = record_events(hass, "wakehub_power")

    await _switch(hass, "turn_on", "switch.media")
    await _refresh(hass, entry)
    await _switch(hass, "turn_off", "switch.media")
    await _refresh(hass, entry)
    assert hass.states.get("switch.media_jellyfin_1").state == STATE_OFF
    assert [e for e in events if e.data["result"] == "observed"] == []

    await _switch(hass, "turn_on", "switch.media")
    events.clear()
    stack_sim.set_state("media-jellyfin-1", "exited")
    await _refresh(hass, entry)
    # The stack, partly up, reads `starting`: no change of power to tell.
    assert [(e.data["name"], e.data["action"], e.data["result"]) for e in events] == [
        ("media-jellyfin-1", "stop", "observed")
    ]
    assert hass.states.get("sensor.media_status").state == "starting"


async def test_partly_running_stack(
    hass: HomeAssistant, stack_sim: DockerSimulator, stack_entry: MockConfigEntry
) -> None:
    """One member started by hand: neither on nor off; on starts the rest."""
    stack_sim.set_state("media-db-1", "running")
    await _refresh(hass, stack_entry)
    assert hass.states.get("switch.media").state == STATE_OFF
    status = hass.states.get("sensor.media_status")
    assert status.state == "starting"
    assert status.attributes["running"] == ["media-db-1"]
    assert status.attributes["not_running"] == ORDER[1:]

    stack_sim.requests.clear()
    await _switch(hass, "turn_on", "switch.media")
    assert hass.states.get("switch.media").state == STATE_ON
    starts = [r.path for r in stack_sim.requests if r.path.endswith("/start")]
    assert starts == [f"/v1.56/containers/{name}/start" for name in ORDER[1:]]

    # Partly stopped (a member crashed): turning off stops the others.
    stack_sim.set_state("media-jellyfin-1", "exited")
    await _refresh(hass, stack_entry)
    assert hass.states.get("sensor.media_status").state == "starting"
    stack_sim.requests.clear()
    await _switch(hass, "turn_off", "switch.media")
    stops = [r.path for r in stack_sim.requests if r.path.endswith("/stop")]
    assert stops == [
        f"/v1.56/containers/{name}/stop"
        for name in ("media-web-1", "media-cache-1", "media-db-1")
    ]
    assert hass.states.get("sensor.media_status").state == "stopped"


async def test_paused_member_is_resumed(
    hass: HomeAssistant, stack_sim: DockerSimulator, stack_entry: MockConfigEntry
) -> None:
    stack_sim.set_state("media-db-1", "paused")
    await _switch(hass, "turn_on", "switch.media")
    assert hass.states.get("switch.media").state == STATE_ON
    assert stack_sim.count("POST", "/v1.56/containers/media-db-1/unpause") == 1
    assert stack_sim.count("POST", "/v1.56/containers/media-db-1/start") == 0


async def test_stack_stop_follows_each_containers_stop_rule(
    hass: HomeAssistant, stack_sim: DockerSimulator, stack_entry: MockConfigEntry
) -> None:
    """Each member its own StopTimeout (as `docker stop`); the stack's grace
    setting, when set, for all of them."""
    stack_sim.second = 0.01
    for name in ORDER:
        stack_sim.set_state(name, "running")
    db = stack_sim.containers["media-db-1"]
    db.ignores_sigterm, db.stop_timeout = True, 2
    hass.config_entries.async_update_entry(
        stack_entry, options={**stack_entry.options, CONF_TIMEOUT: 3600}
    )
    await hass.async_block_till_done()
    await _refresh(hass, stack_entry)
    stack_sim.requests.clear()
    await _switch(hass, "turn_off", "switch.media")
    stops = {
        r.path.split("/")[3]: r.query
        for r in stack_sim.requests
        if r.path.endswith("/stop")
    }
    assert stops["media-db-1"] == {"t": "2"}
    assert stops["media-web-1"] == {}
    assert (db.exit_code, db.killed_after) == (137, 2)

    subentry = stack_entry.subentries["sub_stack_media"]
    hass.config_entries.async_update_subentry(
        stack_entry, subentry, data={**subentry.data, "stop_grace": 1}
    )
    await hass.async_block_till_done()
    await _switch(hass, "turn_on", "switch.media")
    stack_sim.requests.clear()
    await _switch(hass, "turn_off", "switch.media")
    assert {str(r.query) for r in stack_sim.requests if r.path.endswith("/stop")} == {
        str({"t": "1"})
    }
    assert db.killed_after == 1


async def test_recreated_members_keep_the_stack(
    hass: HomeAssistant,
    entity_registry: er.EntityRegistry,
    stack_sim: DockerSimulator,
    stack_entry: MockConfigEntry,
) -> None:
    """`docker compose up` (new ids, same labels), then `down` and `up` again."""
    switch = entity_registry.async_get("switch.media")
    assert switch is not None
    assert switch.unique_id == f"{stack_sim.engine_id}_stack:media_power"
    device = entry_device(hass, ENTRY_ID, f"{stack_sim.engine_id}_stack:media")
    assert device is not None
    assert (device.manufacturer, device.model) == ("Docker", "Compose stack")
    engine = entry_device(hass, ENTRY_ID, stack_sim.engine_id)
    assert engine is not None
    assert device.via_device_id == engine.id

    old_ids = {name: stack_sim.containers[name].id for name in ORDER}
    for name in ORDER:
        stack_sim.recreate(name, state="running")
    await _refresh(hass, stack_entry)
    assert all(stack_sim.containers[n].id != old_ids[n] for n in ORDER)
    assert hass.states.get("switch.media").state == STATE_ON
    assert entity_registry.async_get("switch.media").id == switch.id

    issues = ir.async_get(hass)
    issue_id = f"docker_stack_missing_{ENTRY_ID}_media"
    labels = {name: stack_sim.containers.pop(name).labels for name in ORDER}
    await _refresh(hass, stack_entry)
    assert hass.states.get("switch.media").state == STATE_UNAVAILABLE
    assert hass.states.get("switch.jellyfin").state == STATE_ON
    issue = issues.async_get_issue(DOMAIN, issue_id)
    assert issue is not None
    assert issue.translation_key == "docker_stack_missing"
    assert issue.translation_placeholders == {"name": "media", "engine": "docker-host"}

    for name in ORDER:
        stack_sim.add_container(name, state="created", labels=labels[name])
    await _refresh(hass, stack_entry)
    assert hass.states.get("switch.media").state == STATE_OFF
    assert issues.async_get_issue(DOMAIN, issue_id) is None
    await _switch(hass, "turn_on", "switch.media")
    assert all(stack_sim.containers[n].state == "running" for n in ORDER)


# -- the wizard ----------------------------------------------------------------------
def _options(result: Any) -> list[tuple[str, str]]:
    options = result["data_schema"].schema["resources"].config["options"]
    return [(o["value"], o["label"]) for o in options]


async def test_wizard_offers_the_stack(
    hass: HomeAssistant, stack_sim: DockerSimulator
) -> None:
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_USER}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "docker"}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"url": stack_sim.docker_url, "verify_ssl": True}
    )
    assert result["step_id"] == "resources"
    options = _options(result)
    assert options[0] == ("stack:media", "stack: media (4 containers)")
    values = [value for value, _ in options]
    # Its containers are offered one by one too.
    assert set(ORDER) <= set(values)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"resources": ["stack:media", "jellyfin"]}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    entry = result["result"]
    assert sorted(
        (s.subentry_type, s.unique_id, s.title, dict(s.data))
        for s in entry.subentries.values()
    ) == [
        ("container", "jellyfin", "jellyfin", {"container": "jellyfin"}),
        ("container", "stack:media", "media", {"stack": "media"}),
    ]
    await hass.async_block_till_done()
    assert hass.states.get("switch.media").state == STATE_OFF
    assert hass.states.get("switch.jellyfin").state == STATE_ON


async def test_add_resources_offers_stacks_not_followed_yet(
    hass: HomeAssistant, stack_sim: DockerSimulator
) -> None:
    stack_sim.add_stack("tools", {"adminer": []})
    entry = docker_entry_for(
        stack_sim,
        ("jellyfin", "nextcloud", "homepage", "paperless", *ORDER),
        stacks=("tools",),
    )
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()

    async def add() -> Any:
        return await hass.config_entries.subentries.async_init(
            (entry.entry_id, "container"), context={"source": SOURCE_USER}
        )

    result = await add()
    assert _options(result) == [
        ("stack:media", "stack: media (4 containers)"),
        ("media-web-run-1a2b", "media-web-run-1a2b — nginx:1.27 (exited)"),
        ("tools-adminer-1", "tools-adminer-1 — nginx:1.27 (running)"),
    ]
    # A stack alone: the flow's own entry is the stack.
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], {"resources": ["stack:media"]}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    assert hass.states.get("switch.media").state == STATE_OFF
    assert hass.states.get("switch.tools").state == STATE_ON

    result = await add()
    assert [value for value, _ in _options(result)] == [
        "media-web-run-1a2b",
        "tools-adminer-1",
    ]
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], {"resources": ["tools-adminer-1", "media-web-run-1a2b"]}
    )
    await hass.async_block_till_done()
    result = await add()
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "nothing_new"

    # Removing the stack reloads the entry without it.
    subentry_id = next(
        s.subentry_id for s in entry.subentries.values() if s.unique_id == "stack:media"
    )
    assert hass.config_entries.async_remove_subentry(entry, subentry_id)
    await hass.async_block_till_done()
    assert hass.states.get("switch.media") is None
    assert hass.states.get("switch.media_web_1").state == STATE_OFF


# -- protection ------------------------------------------------------------------------
async def test_stack_is_a_running_workload_of_the_engines_host(
    hass: HomeAssistant, stack_sim: DockerSimulator
) -> None:
    """The engine runs on a machine WakeHub powers: the stack depends on it, and
    while the stack runs its containers count as managed by it."""
    host = MachineSimulator(mac="52:54:00:00:d0:c7", shutdown_delay=0.05)
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
        link = er.async_get(hass).async_get("switch.docker_host")
        assert link is not None
        entry = docker_entry_for(
            stack_sim,
            ("jellyfin",),
            stacks=("media",),
            options={CONF_HOST_LINK: link.id},
        )
        entry.add_to_hass(hass)
        assert await hass.config_entries.async_setup(entry.entry_id)
        await hass.async_block_till_done()

        power = async_get_power_manager(hass)
        stack = power.resources[f"{stack_sim.engine_id}_stack:media"]
        host_resource = power.resources[machine.runtime_data.resources[0].key]
        assert stack.host_link_id == link.id
        assert power.graph.dependencies(stack) == [host_resource]

        report = await power.async_workloads_on(host_resource)
        assert "media" not in report.managed
        assert "media-db-1" not in report.unmanaged

        await _switch(hass, "turn_on", "switch.media")
        report = await power.async_workloads_on(host_resource)
        assert "media" in report.managed
        assert not set(ORDER) & set(report.unmanaged)
        assert "homepage" in report.unmanaged  # running, not followed

        # The running stack keeps the host on when jellyfin goes off...
        await _switch(hass, "turn_off", "switch.jellyfin")
        assert host.powered
        # ...and releases it when it goes off last.
        stack_sim.set_state("homepage", "exited")
        stack_sim.set_state("paperless", "exited")
        await _switch(hass, "turn_off", "switch.media")
        assert not host.powered
        await hass.config_entries.async_unload(entry.entry_id)
        await hass.config_entries.async_unload(machine.entry_id)
    finally:
        await host.stop()


# -- conditions: healthy services and one-shot jobs ---------------------------------
APP = {
    "db": [],
    "migrate": ["db:service_healthy"],
    "web": ["db:service_healthy", "migrate:service_completed_successfully"],
}


@pytest.fixture
async def app_entry(
    hass: HomeAssistant, make_sim: SimFactory
) -> tuple[DockerSimulator, MockConfigEntry]:
    """db with a healthcheck, a migration job, and web waiting for both."""
    sim = await make_sim(start_delay=0.01, stop_delay=0.01, health_delay=0.3)
    sim.add_stack("app", APP, state="exited")
    sim.set_health("app-db-1", "healthy")
    sim.containers["app-migrate-1"].runs_for = 0.1
    entry = docker_entry_for(sim, (), stacks=("app",))
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    return sim, entry


async def test_dependents_wait_for_health_and_jobs(
    hass: HomeAssistant, app_entry: tuple[DockerSimulator, MockConfigEntry]
) -> None:
    sim, _ = app_entry
    db, migrate, web = (sim.containers[f"app-{s}-1"] for s in ("db", "migrate", "web"))
    await _switch(hass, "turn_on", "switch.app")
    assert hass.states.get("switch.app").state == STATE_ON
    assert db.started_at is not None
    assert migrate.started_at is not None
    assert migrate.finished_at is not None
    assert web.started_at is not None
    # A lower bound, never flaky: migrate waited for db's healthcheck to pass.
    assert (migrate.started_at - db.started_at).total_seconds() >= 0.3
    assert web.started_at > migrate.finished_at
    # The finished job does not make the stack look partly stopped.
    status = hass.states.get("sensor.app_status")
    assert status.state == "running"
    assert status.attributes["not_running"] == ["app-migrate-1"]

    await _switch(hass, "turn_off", "switch.app")
    assert hass.states.get("switch.app").state == STATE_OFF
    assert sim.count("POST", "/v1.56/containers/app-migrate-1/stop") == 0


@pytest.mark.parametrize(
    ("breaks", "state"),
    [
        ("job", "Exited (3) Less than a second ago"),
        ("health", "Up Less than a second (unhealthy)"),
    ],
)
async def test_a_failed_dependency_stops_the_start(
    hass: HomeAssistant,
    app_entry: tuple[DockerSimulator, MockConfigEntry],
    breaks: str,
    state: str,
) -> None:
    sim, _ = app_entry
    if breaks == "job":
        sim.containers["app-migrate-1"].job_exit_code = 3
    else:
        sim.set_health("app-db-1", "unhealthy")
    with pytest.raises(HomeAssistantError) as err:
        await _switch(hass, "turn_on", "switch.app")
    assert err.value.translation_key == "docker_stack_dependency_failed"
    assert err.value.translation_placeholders == {
        "name": "app",
        "service": "migrate" if breaks == "job" else "db",
        "state": state,
    }
    assert sim.containers["app-web-1"].state == "exited"


async def test_a_dependency_that_never_gets_ready(
    hass: HomeAssistant, app_entry: tuple[DockerSimulator, MockConfigEntry]
) -> None:
    sim, entry = app_entry
    sim.health_delay = 3600
    hass.config_entries.async_update_entry(
        entry, options={**entry.options, "timeout": 1}
    )
    await hass.async_block_till_done()
    with pytest.raises(HomeAssistantError) as err:
        await _switch(hass, "turn_on", "switch.app")
    assert err.value.translation_key == "docker_stack_dependency_timeout"
    assert err.value.translation_placeholders == {
        "name": "app",
        "service": "db",
        "timeout": "1",
    }
    assert sim.containers["app-migrate-1"].state == "exited"


async def test_a_dependency_removed_while_awaited(
    hass: HomeAssistant, app_entry: tuple[DockerSimulator, MockConfigEntry]
) -> None:
    sim, _ = app_entry
    sim.health_delay = 3600
    start = hass.async_create_task(_switch(hass, "turn_on", "switch.app"))
    async with asyncio.timeout(10):  # until the stack waits for db's health
        while True:
            if sim.containers["app-db-1"].state == "running":
                break
            await asyncio.sleep(0.01)
    del sim.containers["app-db-1"]
    with pytest.raises(HomeAssistantError) as err:
        await start
    assert err.value.translation_key == "not_found"
