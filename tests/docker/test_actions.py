"""Start, stop, restart and kill containers; failures as translated errors."""

from __future__ import annotations

import logging

from homeassistant.const import (
    ATTR_ENTITY_ID,
    STATE_OFF,
    STATE_ON,
    STATE_UNAVAILABLE,
)
from homeassistant.core import Event, HomeAssistant, callback
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers import entity_registry as er, issue_registry as ir
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.wakehub.const import DOMAIN
from tests.conftest import record_events
from tests.simulators.docker import DockerSimulator

from .conftest import ENTRY_ID

pytestmark = pytest.mark.usefixtures("init_docker")


async def _switch(hass: HomeAssistant, service: str, entity_id: str) -> None:
    await hass.services.async_call(
        "switch", service, {ATTR_ENTITY_ID: entity_id}, blocking=True
    )


async def _press(hass: HomeAssistant, entity_id: str) -> None:
    await hass.services.async_call(
        "button", "press", {ATTR_ENTITY_ID: entity_id}, blocking=True
    )


async def test_start_and_stop(hass: HomeAssistant, docker_sim: DockerSimulator) -> None:
    events = record_events(hass, "wakehub_power")
    await _switch(hass, "turn_on", "switch.nextcloud")
    assert docker_sim.containers["nextcloud"].state == "running"
    assert hass.states.get("switch.nextcloud").state == STATE_ON
    assert hass.states.get("sensor.nextcloud_status").state == "running"

    await _switch(hass, "turn_off", "switch.nextcloud")
    assert docker_sim.containers["nextcloud"].state == "exited"
    assert hass.states.get("switch.nextcloud").state == STATE_OFF
    await hass.async_block_till_done()
    stop = next(r for r in docker_sim.requests if r.path.endswith("/stop"))
    # No stop timeout of its own: the engine's default, as `docker stop`.
    assert stop.query == {}
    assert docker_sim.containers["nextcloud"].exit_code == 0
    assert [(e.data["action"], e.data["result"]) for e in events] == [
        ("start", "requested"),
        ("start", "done"),
        ("stop", "requested"),
        ("stop", "done"),
    ]


async def test_start_already_running_elsewhere(
    hass: HomeAssistant, docker_sim: DockerSimulator
) -> None:
    """Started by someone else since the last poll: 304 is success."""
    docker_sim.set_state("nextcloud", "running")
    await _switch(hass, "turn_on", "switch.nextcloud")
    assert hass.states.get("switch.nextcloud").state == STATE_ON


async def test_start_failure_shows_dockers_message(
    hass: HomeAssistant, docker_sim: DockerSimulator
) -> None:
    docker_sim.fail_start("nextcloud", 'exec: "/init": permission denied')
    with pytest.raises(HomeAssistantError) as err:
        await _switch(hass, "turn_on", "switch.nextcloud")
    assert err.value.translation_key == "api_error"
    assert err.value.translation_placeholders == {
        "name": "nextcloud",
        "message": 'exec: "/init": permission denied',
    }
    assert hass.states.get("switch.nextcloud").state == STATE_OFF
    assert hass.states.get("sensor.nextcloud_status").state == "stopped"


async def test_reboot_button_restarts(
    hass: HomeAssistant, docker_sim: DockerSimulator
) -> None:
    before = docker_sim.containers["jellyfin"].started_at
    seen: list[str] = []

    @callback
    def record(event: Event) -> None:
        if event.data["entity_id"] == "sensor.jellyfin_status":
            seen.append(event.data["new_state"].state)

    hass.bus.async_listen("state_changed", record)
    await _press(hass, "button.jellyfin_reboot")
    await hass.async_block_till_done()  # deliver the last state_changed event
    assert docker_sim.count("POST", "/v1.56/containers/jellyfin/restart") == 1
    assert docker_sim.containers["jellyfin"].started_at > before
    assert seen[0] == "rebooting"
    assert seen[-1] == "running"
    assert hass.states.get("switch.jellyfin").state == STATE_ON


async def test_force_stop_button_kills(
    hass: HomeAssistant,
    docker_sim: DockerSimulator,
    entity_registry: er.EntityRegistry,
) -> None:
    entity = entity_registry.async_get("button.jellyfin_force_stop")
    assert entity is not None
    assert entity.disabled_by is er.RegistryEntryDisabler.INTEGRATION
    entity_registry.async_update_entity(entity.entity_id, disabled_by=None)
    await hass.config_entries.async_reload(ENTRY_ID)
    await hass.async_block_till_done()

    await _press(hass, "button.jellyfin_force_stop")
    await hass.async_block_till_done()
    assert docker_sim.containers["jellyfin"].exit_code == 137
    assert hass.states.get("switch.jellyfin").state == STATE_OFF

    # Killing a stopped container: Docker's 409, translated.
    with pytest.raises(HomeAssistantError) as err:
        await _press(hass, "button.jellyfin_force_stop")
    assert err.value.translation_key == "conflict"
    assert "is not running" in err.value.translation_placeholders["message"]


async def test_wakehub_actions(
    hass: HomeAssistant, docker_sim: DockerSimulator
) -> None:
    await hass.services.async_call(
        DOMAIN, "start", {ATTR_ENTITY_ID: "switch.nextcloud"}, blocking=True
    )
    assert docker_sim.containers["nextcloud"].state == "running"
    await hass.services.async_call(
        DOMAIN, "reboot", {ATTR_ENTITY_ID: "switch.nextcloud"}, blocking=True
    )
    assert docker_sim.count("POST", "/v1.56/containers/nextcloud/restart") == 1


async def test_recreated_container_keeps_its_entities(
    hass: HomeAssistant, docker_sim: DockerSimulator, init_docker: MockConfigEntry
) -> None:
    """`docker compose up`: same name, new id, new image."""
    old_id = docker_sim.containers["jellyfin"].id
    docker_sim.recreate("jellyfin", image="jellyfin/jellyfin:10.11")
    await init_docker.runtime_data.coordinator.async_refresh()
    await hass.async_block_till_done()
    status = hass.states.get("sensor.jellyfin_status")
    assert status.state == "running"
    assert status.attributes["id"] != old_id[:12]
    from custom_components.wakehub.devices import entry_device

    device = entry_device(
        hass, init_docker.entry_id, f"{docker_sim.engine_id}_jellyfin"
    )
    assert device is not None
    assert (device.model, device.sw_version) == ("jellyfin/jellyfin:10.11", "10.11")
    await _switch(hass, "turn_off", "switch.jellyfin")
    assert docker_sim.containers["jellyfin"].state == "exited"


async def test_container_disappears_and_comes_back(
    hass: HomeAssistant, docker_sim: DockerSimulator, init_docker: MockConfigEntry
) -> None:
    issues = ir.async_get(hass)
    issue_id = f"docker_container_missing_{ENTRY_ID}_nextcloud"
    coordinator = init_docker.runtime_data.coordinator
    gone = docker_sim.containers.pop("nextcloud")
    await coordinator.async_refresh()
    await hass.async_block_till_done()
    assert hass.states.get("switch.nextcloud").state == STATE_UNAVAILABLE
    assert hass.states.get("sensor.nextcloud_status").state == STATE_UNAVAILABLE
    assert hass.states.get("switch.jellyfin").state == STATE_ON
    issue = issues.async_get_issue(DOMAIN, issue_id)
    assert issue is not None
    assert not issue.is_fixable
    assert issue.translation_key == "docker_container_missing"

    docker_sim.containers["nextcloud"] = gone
    await coordinator.async_refresh()
    await hass.async_block_till_done()
    assert hass.states.get("switch.nextcloud").state == STATE_OFF
    assert issues.async_get_issue(DOMAIN, issue_id) is None


async def test_engine_down_and_back(
    hass: HomeAssistant, docker_sim: DockerSimulator, init_docker: MockConfigEntry
) -> None:
    coordinator = init_docker.runtime_data.coordinator
    docker_sim.fail_next("/containers/json", 500, "engine hiccup")
    await coordinator.async_refresh()
    await hass.async_block_till_done()
    assert not coordinator.last_update_success
    assert coordinator.last_exception.translation_key == "api_error"
    assert hass.states.get("switch.jellyfin").state == STATE_UNAVAILABLE
    assert (
        hass.states.get("sensor.docker_host_docker_status").state == STATE_UNAVAILABLE
    )
    await coordinator.async_refresh()
    await hass.async_block_till_done()
    assert hass.states.get("switch.jellyfin").state == STATE_ON


async def test_stop_waits_the_containers_own_stop_timeout(
    hass: HomeAssistant, docker_sim: DockerSimulator, init_docker: MockConfigEntry
) -> None:
    """PID 1 ignores SIGTERM: Docker kills it after the container's own stop
    timeout, not after WakeHub's (long) start/stop timeout."""
    docker_sim.second = 0.01
    jellyfin = docker_sim.containers["jellyfin"]
    jellyfin.ignores_sigterm = True
    jellyfin.stop_timeout = 2
    hass.config_entries.async_update_entry(
        init_docker, options={**init_docker.options, "timeout": 3600}
    )
    await _switch(hass, "turn_off", "switch.jellyfin")
    assert hass.states.get("switch.jellyfin").state == STATE_OFF
    assert (jellyfin.exit_code, jellyfin.killed_after) == (137, 2)
    stop = next(r for r in docker_sim.requests if r.path.endswith("/stop"))
    assert stop.query == {"t": "2"}
    assert docker_sim.count("GET", "/v1.56/containers/jellyfin/json") == 1


async def test_stop_grace_setting_overrides_the_container(
    hass: HomeAssistant, docker_sim: DockerSimulator, init_docker: MockConfigEntry
) -> None:
    docker_sim.second = 0.01
    jellyfin = docker_sim.containers["jellyfin"]
    jellyfin.ignores_sigterm = True
    jellyfin.stop_timeout = 300
    subentry = init_docker.subentries["sub_jellyfin"]
    hass.config_entries.async_update_subentry(
        init_docker, subentry, data={**subentry.data, "stop_grace": 1}
    )
    await hass.async_block_till_done()
    docker_sim.requests.clear()
    await _press(hass, "button.jellyfin_reboot")
    restart = next(r for r in docker_sim.requests if r.path.endswith("/restart"))
    assert restart.query == {"t": "1"}
    assert jellyfin.killed_after == 1
    assert hass.states.get("switch.jellyfin").state == STATE_ON

    await _switch(hass, "turn_off", "switch.jellyfin")
    assert hass.states.get("switch.jellyfin").state == STATE_OFF
    assert (jellyfin.exit_code, jellyfin.killed_after) == (137, 1)
    # The setting is enough: no inspect to read the container's own.
    assert docker_sim.count("GET", "/v1.56/containers/jellyfin/json") == 0


async def test_pause_and_unpause(
    hass: HomeAssistant, docker_sim: DockerSimulator
) -> None:
    await hass.services.async_call(
        DOMAIN, "pause", {ATTR_ENTITY_ID: "switch.jellyfin"}, blocking=True
    )
    assert docker_sim.containers["jellyfin"].state == "paused"
    assert hass.states.get("sensor.jellyfin_status").state == "paused"
    assert hass.states.get("switch.jellyfin").state == STATE_OFF

    await hass.services.async_call(
        DOMAIN, "unpause", {ATTR_ENTITY_ID: "switch.jellyfin"}, blocking=True
    )
    assert docker_sim.containers["jellyfin"].state == "running"
    assert hass.states.get("sensor.jellyfin_status").state == "running"
    assert hass.states.get("switch.jellyfin").state == STATE_ON


async def test_turning_on_a_paused_container_resumes_it(
    hass: HomeAssistant, docker_sim: DockerSimulator
) -> None:
    """Docker refuses to start a paused container; the power switch resumes it."""
    assert hass.states.get("switch.paperless").state == STATE_OFF
    await _switch(hass, "turn_on", "switch.paperless")
    assert docker_sim.containers["paperless"].state == "running"
    assert hass.states.get("switch.paperless").state == STATE_ON
    assert docker_sim.count("POST", "/v1.56/containers/paperless/start") == 0


async def test_pause_refused_for_the_engine(hass: HomeAssistant) -> None:
    """The engine's device is a WakeHub target that cannot be paused."""
    with pytest.raises(ServiceValidationError) as err:
        await hass.services.async_call(
            DOMAIN,
            "pause",
            {ATTR_ENTITY_ID: "sensor.docker_host_docker_status"},
            blocking=True,
        )
    assert err.value.translation_key == "pause_not_supported"
    assert err.value.translation_placeholders == {
        "name": "docker-host",
        "action": "pause",
    }


async def test_pause_failure_is_translated(
    hass: HomeAssistant, docker_sim: DockerSimulator
) -> None:
    docker_sim.fail_next("/pause", 500, "cgroup freezer unavailable")
    with pytest.raises(HomeAssistantError) as err:
        await hass.services.async_call(
            DOMAIN, "pause", {ATTR_ENTITY_ID: "switch.jellyfin"}, blocking=True
        )
    assert err.value.translation_key == "api_error"
    assert err.value.translation_placeholders == {
        "name": "jellyfin",
        "message": "cgroup freezer unavailable",
    }


async def test_an_engine_on_no_linked_host_that_goes_silent_is_an_error(
    hass: HomeAssistant,
    docker_sim: DockerSimulator,
    init_docker: MockConfigEntry,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Without a host that WakeHub powers, nothing says the engine may be off:
    its silence is Home Assistant's usual ERROR, once."""
    await docker_sim.stop()
    for _ in range(2):
        await init_docker.runtime_data.coordinator.async_refresh()
    errors = [
        r.getMessage()
        for r in caplog.records
        if r.name.startswith("custom_components") and r.levelno == logging.ERROR
    ]
    assert len(errors) == 1
    assert errors[0].startswith("Error fetching wakehub docker-host data")
