"""Powering a physical machine: Wake-on-LAN on, SSH off, followed until confirmed."""

from __future__ import annotations

from homeassistant.const import ATTR_ENTITY_ID, STATE_OFF, STATE_ON
from homeassistant.core import Event, HomeAssistant, callback
from homeassistant.exceptions import HomeAssistantError
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from tests.conftest import record_events
from tests.simulators.machine import MachineSimulator

SWITCH = "switch.nas"
STATUS = "sensor.nas_status"


@pytest.mark.usefixtures("entity_registry_enabled_by_default")
async def test_switch_on_wakes_the_machine(
    hass: HomeAssistant, machine_sim: MachineSimulator, init_machine: MockConfigEntry
) -> None:
    """From off: the magic packet goes out, the switch turns on once SSH answers."""
    assert hass.states.get(SWITCH).state == STATE_OFF
    assert hass.states.get(STATUS).state == "stopped"
    events = record_events(hass, "wakehub_power")

    await hass.services.async_call(
        "switch", "turn_on", {ATTR_ENTITY_ID: SWITCH}, blocking=True
    )

    await hass.async_block_till_done()
    assert machine_sim.powered
    assert machine_sim.packets, "no magic packet reached the machine"
    assert all(p == machine_sim.expected_packet for p in machine_sim.packets)
    assert machine_sim.packets[0] == b"\xff" * 6 + bytes.fromhex("525400123456") * 16
    assert hass.states.get(SWITCH).state == STATE_ON
    assert hass.states.get(STATUS).state == "running"
    assert hass.states.get("sensor.nas_cpu").state == "13.0"
    assert hass.states.get("sensor.nas_memory").state == "25.0"
    assert [(e.data["action"], e.data["result"]) for e in events] == [
        ("start", "requested"),
        ("start", "done"),
    ]


async def test_status_shows_starting_while_waking(
    hass: HomeAssistant, machine_sim: MachineSimulator, init_machine: MockConfigEntry
) -> None:
    seen: list[str] = []

    @callback
    def record(event: Event) -> None:
        if event.data["entity_id"] == STATUS and event.data["new_state"]:
            seen.append(event.data["new_state"].state)

    hass.bus.async_listen("state_changed", record)
    await hass.services.async_call(
        "switch", "turn_on", {ATTR_ENTITY_ID: SWITCH}, blocking=True
    )
    assert seen[0] == "starting"
    assert seen[-1] == "running"


async def test_switch_off_runs_the_shutdown_command(
    hass: HomeAssistant, machine_sim: MachineSimulator, machine_entry: MockConfigEntry
) -> None:
    await machine_sim.power_on()
    assert await hass.config_entries.async_setup(machine_entry.entry_id)
    await hass.async_block_till_done()
    assert hass.states.get(SWITCH).state == STATE_ON

    await hass.services.async_call(
        "switch", "turn_off", {ATTR_ENTITY_ID: SWITCH}, blocking=True
    )

    assert "sudo systemctl poweroff" in machine_sim.commands
    assert not machine_sim.powered
    assert hass.states.get(SWITCH).state == STATE_OFF
    assert hass.states.get(STATUS).state == "stopped"


async def test_machine_that_never_wakes(
    hass: HomeAssistant, machine_sim: MachineSimulator, machine_entry: MockConfigEntry
) -> None:
    """The timeout passes: a translated error, and the status is back to stopped."""
    machine_sim.ignore_packets = True
    hass.config_entries.async_update_entry(machine_entry, options={"timeout": 2})
    assert await hass.config_entries.async_setup(machine_entry.entry_id)
    await hass.async_block_till_done()

    with pytest.raises(HomeAssistantError) as err:
        await hass.services.async_call(
            "switch", "turn_on", {ATTR_ENTITY_ID: SWITCH}, blocking=True
        )
    assert err.value.translation_key == "start_timeout"
    assert err.value.translation_placeholders == {"name": "NAS", "timeout": "2"}
    assert str(err.value) == "NAS did not start within 2 seconds"
    assert hass.states.get(SWITCH).state == STATE_OFF
    assert hass.states.get(STATUS).state == "stopped"


async def test_ssh_refused_during_shutdown(
    hass: HomeAssistant, machine_sim: MachineSimulator, machine_entry: MockConfigEntry
) -> None:
    await machine_sim.power_on()
    assert await hass.config_entries.async_setup(machine_entry.entry_id)
    await hass.async_block_till_done()
    machine_sim.refuse_logins = True

    with pytest.raises(HomeAssistantError) as err:
        await hass.services.async_call(
            "switch", "turn_off", {ATTR_ENTITY_ID: SWITCH}, blocking=True
        )
    assert err.value.translation_key == "invalid_auth"
    assert "SSH login to 127.0.0.1" in str(err.value)
    assert "refused" in str(err.value)
    assert machine_sim.powered
    assert hass.states.get(SWITCH).state == STATE_ON
    assert hass.states.get(STATUS).state == "running"


async def test_shutdown_command_not_allowed(
    hass: HomeAssistant, machine_sim: MachineSimulator, machine_entry: MockConfigEntry
) -> None:
    """sudo asks for a password: the user sees sudo's own words."""
    await machine_sim.power_on()
    machine_sim.sudo_password_required = True
    assert await hass.config_entries.async_setup(machine_entry.entry_id)
    await hass.async_block_till_done()

    with pytest.raises(HomeAssistantError) as err:
        await hass.services.async_call(
            "switch", "turn_off", {ATTR_ENTITY_ID: SWITCH}, blocking=True
        )
    assert err.value.translation_key == "task_failed"
    assert str(err.value) == "NAS: sudo: a password is required"


@pytest.mark.real_probe_pace
async def test_a_long_stop_does_not_get_home_assistant_banned_by_sshd(
    hass: HomeAssistant, machine_sim: MachineSimulator, machine_entry: MockConfigEntry
) -> None:
    """A machine that accepts the shutdown but stays up is watched for the
    whole stop timeout. Each port probe is a connection closed without a login,
    which OpenSSH 9.8 and later penalise: probed at the pace of other kinds, Home
    Assistant's address would be refused for minutes, and the user's second try
    with it. At the machine's pace it never is."""
    machine_sim.penalties = True
    machine_sim.ignore_shutdown = True
    await machine_sim.power_on()
    hass.config_entries.async_update_entry(machine_entry, options={"timeout": 10})
    assert await hass.config_entries.async_setup(machine_entry.entry_id)
    await hass.async_block_till_done()

    with pytest.raises(HomeAssistantError) as err:
        await hass.services.async_call(
            "switch", "turn_off", {ATTR_ENTITY_ID: SWITCH}, blocking=True
        )
    assert err.value.translation_key == "stop_timeout"
    assert machine_sim.dropped_by_penalty == 0
    # The second try reaches the machine.
    machine_sim.ignore_shutdown = False
    await hass.services.async_call(
        "switch", "turn_off", {ATTR_ENTITY_ID: SWITCH}, blocking=True
    )
    assert machine_sim.commands.count("sudo systemctl poweroff") == 2
    assert hass.states.get(SWITCH).state == STATE_OFF
