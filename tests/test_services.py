"""The wakehub.* actions on a machine: targets, errors, and what is refused."""

from __future__ import annotations

import logging
from typing import Any

from homeassistant.const import ATTR_ENTITY_ID
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers import device_registry as dr
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.wakehub.const import DOMAIN
from tests.conftest import record_events
from tests.power.logbook_lines import async_logbook, async_messages
from tests.simulators.machine import MachineSimulator

SECRETS = ("correct horse",)


async def test_start_and_stop_by_device(
    hass: HomeAssistant,
    machine_sim: MachineSimulator,
    init_machine: MockConfigEntry,
    device_registry: dr.DeviceRegistry,
) -> None:
    [device] = dr.async_entries_for_config_entry(device_registry, init_machine.entry_id)
    await hass.services.async_call(
        DOMAIN, "start", {"device_id": device.id}, blocking=True
    )
    assert hass.states.get("switch.nas").state == "on"
    await hass.services.async_call(
        DOMAIN, "stop", {"device_id": device.id, "cascade": False}, blocking=True
    )
    assert hass.states.get("switch.nas").state == "off"
    assert not machine_sim.powered


async def test_start_when_already_running_sends_nothing(
    hass: HomeAssistant, machine_sim: MachineSimulator, machine_entry: MockConfigEntry
) -> None:
    await machine_sim.power_on()
    assert await hass.config_entries.async_setup(machine_entry.entry_id)
    await hass.async_block_till_done()
    await hass.services.async_call(
        DOMAIN, "start", {ATTR_ENTITY_ID: "switch.nas"}, blocking=True
    )
    assert machine_sim.packets == []


async def test_reboot_action_and_button(
    hass: HomeAssistant, machine_sim: MachineSimulator, machine_entry: MockConfigEntry
) -> None:
    await machine_sim.power_on()
    assert await hass.config_entries.async_setup(machine_entry.entry_id)
    await hass.async_block_till_done()
    # Down long enough for a probe to see it: the reboot is followed down, then up.
    machine_sim.boot_delay = 1.0
    await hass.services.async_call(
        DOMAIN, "reboot", {ATTR_ENTITY_ID: "switch.nas"}, blocking=True
    )
    assert machine_sim.boots == 2
    # Back quicker than a probe: never seen down, the reboot is given the
    # entry's timeout (5 s) to go down, then followed up.
    machine_sim.boot_delay = 0.2
    await hass.services.async_call(
        "button", "press", {ATTR_ENTITY_ID: "button.nas_reboot"}, blocking=True
    )
    assert machine_sim.boots == 3
    assert hass.states.get("sensor.nas_status").state == "running"


async def test_concurrent_starts_are_one_start(
    hass: HomeAssistant, machine_sim: MachineSimulator, init_machine: MockConfigEntry
) -> None:
    """Two automations and a tap at once: one wake-up, everyone told the outcome."""
    events = record_events(hass, "wakehub_power")
    calls = [
        hass.services.async_call(
            "switch", "turn_on", {ATTR_ENTITY_ID: "switch.nas"}, blocking=True
        ),
        hass.services.async_call(
            DOMAIN, "start", {ATTR_ENTITY_ID: "switch.nas"}, blocking=True
        ),
        hass.services.async_call(
            "switch", "turn_on", {ATTR_ENTITY_ID: "switch.nas"}, blocking=True
        ),
    ]
    import asyncio

    await asyncio.gather(*calls)
    await hass.async_block_till_done()
    assert len(machine_sim.packets) == 3  # one magic packet, sent three times
    assert [e.data["result"] for e in events] == ["requested", "done"]


async def test_target_that_is_not_wakehub(
    hass: HomeAssistant, init_machine: MockConfigEntry
) -> None:
    hass.states.async_set("switch.other", "off")
    with pytest.raises(ServiceValidationError) as err:
        await hass.services.async_call(
            DOMAIN, "start", {ATTR_ENTITY_ID: "switch.other"}, blocking=True
        )
    assert err.value.translation_key == "not_a_wakehub_target"
    assert err.value.translation_placeholders == {"target": "switch.other"}


async def test_device_that_is_not_wakehub(
    hass: HomeAssistant,
    init_machine: MockConfigEntry,
    device_registry: dr.DeviceRegistry,
) -> None:
    other = MockConfigEntry(domain="other")
    other.add_to_hass(hass)
    device = device_registry.async_get_or_create(
        config_entry_id=other.entry_id, identifiers={("other", "x")}, name="Lamp"
    )
    with pytest.raises(ServiceValidationError) as err:
        await hass.services.async_call(
            DOMAIN, "start", {"device_id": device.id}, blocking=True
        )
    assert err.value.translation_placeholders == {"target": "Lamp"}
    with pytest.raises(ServiceValidationError) as err:
        await hass.services.async_call(
            DOMAIN, "start", {"device_id": "missing"}, blocking=True
        )
    assert err.value.translation_placeholders == {"target": "missing"}


async def test_no_target(hass: HomeAssistant, init_machine: MockConfigEntry) -> None:
    with pytest.raises(ServiceValidationError) as err:
        await hass.services.async_call(DOMAIN, "start", {}, blocking=True)
    assert err.value.translation_key == "no_target"


@pytest.mark.parametrize(
    ("action", "data"),
    [
        ("create_snapshot", {"name": "before"}),
        ("list_snapshots", {}),
        ("restore_snapshot", {"name": "before"}),
        ("delete_snapshot", {"name": "before"}),
        ("rescue", {}),
        ("console_url", {}),
        ("list_images", {}),
        ("reset_password", {}),
        ("rebuild", {"image_id": "debian", "confirm": True}),
        ("pause", {}),
        ("unpause", {}),
    ],
)
async def test_actions_a_machine_does_not_support(
    hass: HomeAssistant,
    init_machine: MockConfigEntry,
    action: str,
    data: dict[str, object],
) -> None:
    response = action in {
        "list_snapshots",
        "rescue",
        "console_url",
        "list_images",
        "reset_password",
        "rebuild",
    }
    with pytest.raises(ServiceValidationError) as err:
        await hass.services.async_call(
            DOMAIN,
            action,
            {ATTR_ENTITY_ID: "switch.nas", **data},
            blocking=True,
            return_response=response,
        )
    assert err.value.translation_key == (
        "pause_not_supported"
        if action in {"pause", "unpause"}
        else "action_not_supported"
    )
    assert err.value.translation_placeholders == {"name": "NAS", "action": action}


async def test_rebuild_needs_confirmation(
    hass: HomeAssistant, init_machine: MockConfigEntry
) -> None:
    with pytest.raises(ServiceValidationError) as err:
        await hass.services.async_call(
            DOMAIN,
            "rebuild",
            {ATTR_ENTITY_ID: "switch.nas", "image_id": "debian"},
            blocking=True,
            return_response=True,
        )
    assert err.value.translation_key == "rebuild_not_confirmed"


async def test_stop_timeout(
    hass: HomeAssistant, machine_sim: MachineSimulator, machine_entry: MockConfigEntry
) -> None:
    """The shutdown command is accepted but the machine never goes down."""
    machine_sim.shutdown_command = "something else"  # the sim ignores our command
    await machine_sim.power_on()
    hass.config_entries.async_update_entry(machine_entry, options={"timeout": 1})
    assert await hass.config_entries.async_setup(machine_entry.entry_id)
    await hass.async_block_till_done()
    with pytest.raises(HomeAssistantError) as err:
        await hass.services.async_call(
            DOMAIN, "stop", {ATTR_ENTITY_ID: "switch.nas"}, blocking=True
        )
    # The simulated shell does not know the command: its own words reach the user.
    assert err.value.translation_key == "task_failed"
    assert "not found" in str(err.value)


async def test_no_secret_in_logs_events_or_diagnostics(
    hass: HomeAssistant,
    machine_sim: MachineSimulator,
    init_machine: MockConfigEntry,
    hass_client: ClientSessionGenerator,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    events = record_events(hass, "wakehub_power")
    await hass.services.async_call(
        "switch", "turn_on", {ATTR_ENTITY_ID: "switch.nas"}, blocking=True
    )
    machine_sim.refuse_logins = True
    with pytest.raises(HomeAssistantError) as err:
        await hass.services.async_call(
            "switch", "turn_off", {ATTR_ENTITY_ID: "switch.nas"}, blocking=True
        )
    await hass.async_block_till_done()
    assert await async_setup_component(hass, "diagnostics", {})
    diagnostics = await get_diagnostics_for_config_entry(
        hass, hass_client, init_machine
    )

    assert diagnostics["entry"]["data"]["password"] == "**REDACTED**"
    assert diagnostics["resources"]["52:54:00:12:34:56"]["state"]["status"] == "running"
    everything = caplog.text + repr(events) + str(err.value) + repr(diagnostics)
    for secret in SECRETS:
        assert secret not in everything


NAS = {"resource": "52:54:00:12:34:56", "name": "NAS", "kind": "machine"}
DOCKER_VM = {"name": "docker", "kind": "vm"}


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        (
            {
                "action": "start",
                "result": "waiting",
                "step": "dependencies",
                "waiting_for": [{"name": "pve1", "kind": "machine"}, DOCKER_VM],
            },
            "Start: waiting for pve1, docker",
        ),
        (
            {
                "action": "start",
                "result": "waiting",
                "step": "platform",
                "waiting_for": [{"name": "homelab", "kind": "proxmox"}],
            },
            "Start: waiting for homelab to answer",
        ),
        (
            {
                "action": "stop",
                "result": "waiting",
                "step": "dependents",
                "waiting_for": [DOCKER_VM],
            },
            "Shutdown: stopping what runs on it first: docker",
        ),
        ({"action": "start", "result": "requested"}, "Start requested"),
        ({"action": "start_alone", "result": "done"}, "Start done"),
        (
            {"action": "start", "result": "done", "reason": "already_running"},
            "Start done: already running",
        ),
        (
            {"action": "stop_alone", "result": "done", "reason": "already_stopped"},
            "Shutdown done: already stopped",
        ),
        (
            {
                "action": "stop",
                "result": "requested",
                "reason": "released_by",
                "cause": {"name": "jellyfin", "kind": "container"},
            },
            "Shutdown requested: no longer needed by jellyfin",
        ),
        (
            {
                "action": "stop",
                "result": "requested",
                "reason": "host_stopping",
                "cause": DOCKER_VM,
            },
            "Shutdown requested: docker, which it runs on, is shutting down",
        ),
        (
            {
                "action": "stop",
                "result": "requested",
                "unmanaged": ["sonarr", "radarr"],
            },
            "Shutdown requested; also takes down sonarr, radarr (not in WakeHub)",
        ),
        (
            {
                "action": "stop",
                "result": "kept_on",
                "reason": "in_use",
                "managed": ["nextcloud"],
                "unmanaged": ["sonarr", "radarr"],
            },
            "Kept on: still used by nextcloud; sonarr, radarr (not in WakeHub)",
        ),
        (
            {
                "action": "stop",
                "result": "kept_on",
                "reason": "platform_unreachable",
                "platforms": ["docker-vm"],
            },
            "Kept on: docker-vm cannot be asked what runs there",
        ),
        (
            {
                "action": "stop",
                "result": "kept_on",
                "reason": "not_stopped_with_dependents",
            },
            "Kept on: it is not set to stop with its dependents",
        ),
        (
            {
                "action": "auto_stop",
                "result": "cancelled",
                "reason": "active",
                "activity": [
                    {
                        "kind": "keep_awake",
                        "subject": "media_player.tv",
                        "value": "playing",
                    },
                    {"kind": "cpu", "value": "13", "limit": "10"},
                    {"kind": "sleeping"},  # of a later version: left out
                ],
            },
            "Auto-shutdown cancelled: media_player.tv is playing; CPU 13% > 10%",
        ),
        (
            {
                "action": "auto_stop",
                "result": "decided",
                "reason": "idle",
                "idle_minutes": 30,
            },
            "Auto-shutdown: idle for 30 min",
        ),
        (
            {
                "action": "stop",
                "result": "failed",
                "reason": "timeout",
                "error": "(the English copy of the message)",
                "translation_key": "stop_timeout",
                "translation_placeholders": {"name": "NAS", "timeout": "1"},
            },
            # The translation, in Home Assistant's language, not the copy.
            (
                "Shutdown failed: NAS did not stop within 1 seconds. It may still "
                "be shutting down; force stop it if it hangs"
            ),
        ),
        (
            {
                "action": "reboot",
                "result": "failed",
                "reason": "error",
                "error": "Something the kind did not translate",
            },
            "Reboot failed: Something the kind did not translate",
        ),
        # An event this version does not know is shown, not guessed.
        ({"action": "hibernate", "result": "done"}, "done"),
    ],
)
async def test_logbook_lines(
    hass: HomeAssistant,
    init_machine: MockConfigEntry,
    fields: dict[str, Any],
    message: str,
) -> None:
    describe = await async_messages(hass)
    assert describe({**NAS, **fields}) == message


async def test_a_failure_reads_as_the_error_the_user_saw(
    hass: HomeAssistant, machine_sim: MachineSimulator, machine_entry: MockConfigEntry
) -> None:
    """The shutdown command is refused: the logbook uses the action's words."""
    machine_sim.shutdown_command = "something else"
    await machine_sim.power_on()
    assert await hass.config_entries.async_setup(machine_entry.entry_id)
    await hass.async_block_till_done()
    events = record_events(hass, "wakehub_power")
    with pytest.raises(HomeAssistantError) as err:
        await hass.services.async_call(
            DOMAIN, "stop", {ATTR_ENTITY_ID: "switch.nas"}, blocking=True
        )
    [failed] = [e for e in events if e.data["result"] == "failed"]
    describe = await async_logbook(hass)
    assert describe(failed) == {
        "name": "NAS",
        "message": f"Shutdown failed: {err.value}",
        "icon": "mdi:alert-circle-outline",
        "entity_id": "switch.nas",
    }


async def test_logbook_describes_power_events(
    hass: HomeAssistant, machine_sim: MachineSimulator, init_machine: MockConfigEntry
) -> None:
    """Each wakehub_power event becomes a logbook line with its icon."""
    events = record_events(hass, "wakehub_power")
    describe = await async_logbook(hass)
    await hass.services.async_call(
        "switch", "turn_on", {ATTR_ENTITY_ID: "switch.nas"}, blocking=True
    )
    await hass.async_block_till_done()
    line = {"name": "NAS", "icon": "mdi:power", "entity_id": "switch.nas"}
    assert [describe(e) for e in events] == [
        {**line, "message": "Start requested"},
        {**line, "message": "Start done"},
    ]
