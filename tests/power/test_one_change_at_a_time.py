"""Never a start and a stop of one resource at once (power.py's `_once`).

A start and a stop of the same resource used to run side by side: "off" tapped
while jellyfin's node was still booting was answered "already stopped" and the
start then brought everything up; "on" tapped while jellyfin was stopping was
answered "already running", and the stop then released its VM and node. Now
the change asked for last runs once the other has ended, a start waiting so
keeps what it will need from being released, and a stop asked for by another
change (a host stopping its guests) gives up on a resource being started
rather than pulling its host from under it. An entry reloaded or removed
during a change tells its callers so, in words.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
import logging

from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import ATTR_ENTITY_ID, STATE_ON
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.typing import WebSocketGenerator

from custom_components.wakehub.const import CONF_TIMEOUT, DOMAIN
from custom_components.wakehub.power import async_get_power_manager
from tests.conftest import machine_data, record_events
from tests.power.conftest import JELLYFIN, NODE_SWITCH, VM_SWITCH, Lab, poll, turn
from tests.simulators.machine import MachineSimulator

SHUTDOWN_VM = "/api2/json/nodes/pve1/qemu/100/status/shutdown"


async def until(condition: Callable[[], bool], seconds: float = 10) -> None:
    async with asyncio.timeout(seconds):
        while not condition():  # noqa: ASYNC110 - polling simulators' state
            await asyncio.sleep(0.01)


async def settle(hass: HomeAssistant) -> None:
    """Let every power change under way end."""
    power = async_get_power_manager(hass)
    await until(lambda: not power._running, 30)
    await hass.async_block_till_done()


def outcomes(events: list, name: str, action: str) -> list[tuple[str, str | None]]:
    return [
        (e.data["result"], e.data.get("reason"))
        for e in events
        if e.data["name"] == name and e.data["action"] == action
        if e.data["result"] in ("done", "failed")
    ]


async def test_on_while_it_stops_starts_it_again_after(
    hass: HomeAssistant, lab: Lab
) -> None:
    """jellyfin's stop is under way (its process takes a second to exit) when
    the user turns it on again: the start waits for the stop, then starts it;
    the stop does not release the VM and node the waiting start needs."""
    await turn(hass, "turn_on", JELLYFIN)
    lab.docker.stop_delay = 1.0
    events = record_events(hass, "wakehub_power")
    stopping = hass.async_create_task(turn(hass, "turn_off", JELLYFIN))
    await until(lambda: lab.docker.count("POST", "/v1.56/containers/jellyfin/stop"))

    await turn(hass, "turn_on", JELLYFIN)
    await stopping
    await settle(hass)

    assert outcomes(events, "jellyfin", "stop") == [("done", None)]
    assert outcomes(events, "jellyfin", "start") == [("done", None)]
    assert lab.docker.containers["jellyfin"].state == "running"
    assert lab.pve.guests[100].status == "running"
    assert lab.node.powered
    # The VM was kept on, for jellyfin which was about to start.
    assert [e.data["result"] for e in events if e.data["name"] == "docker"] == [
        "kept_on"
    ]


async def test_on_while_its_vm_stops_waits_for_the_vm(
    hass: HomeAssistant, lab: Lab
) -> None:
    """The VM under the engine is shutting down (the user turned it off, or its
    idle time ran out) when jellyfin is turned on: jellyfin is not started on a
    VM about to go down; the VM's stop ends, and jellyfin's start brings the VM
    back up and then starts it."""
    await turn(hass, "turn_on", JELLYFIN)
    await hass.services.async_call(
        DOMAIN, "stop", {ATTR_ENTITY_ID: JELLYFIN, "cascade": False}, blocking=True
    )
    lab.pve.stop_delay = 1.0
    stopping = hass.async_create_task(turn(hass, "turn_off", VM_SWITCH))
    await until(lambda: lab.pve.count("POST", SHUTDOWN_VM) > 0)

    await turn(hass, "turn_on", JELLYFIN)
    await stopping
    await settle(hass)
    await poll(lab)
    await hass.async_block_till_done()

    assert lab.pve.guests[100].status == "running"
    assert lab.docker.containers["jellyfin"].state == "running"
    assert hass.states.get(JELLYFIN).state == STATE_ON
    assert lab.node.powered


async def test_off_while_it_starts_stops_it_after(
    hass: HomeAssistant, lab: Lab
) -> None:
    """jellyfin is being started (its node still booting) when the user turns
    it off: the stop is not answered "already stopped" while the start goes
    on; it waits for the start, then stops jellyfin and releases the chain."""
    await turn(hass, "turn_on", JELLYFIN)
    await turn(hass, "turn_off", JELLYFIN)
    assert not lab.node.powered
    lab.node.packets.clear()
    events = record_events(hass, "wakehub_power")
    starting = hass.async_create_task(turn(hass, "turn_on", JELLYFIN))
    await until(lambda: bool(lab.node.packets))

    await turn(hass, "turn_off", JELLYFIN)
    await starting
    await settle(hass)

    assert outcomes(events, "jellyfin", "start") == [("done", None)]
    assert outcomes(events, "jellyfin", "stop") == [("done", None)]
    assert lab.docker.containers["jellyfin"].state != "running"
    assert lab.pve.guests[100].status == "stopped"
    assert not lab.node.powered


async def test_a_host_stop_gives_up_on_a_guest_being_started(
    hass: HomeAssistant, lab: Lab
) -> None:
    """jellyfin is being started when the node is turned off: the node's stop
    would stop jellyfin first, but a stop asked for by another change does not
    wait for a start (two changes waiting for each other would never end): it
    fails, in words, and nothing is pulled from under jellyfin."""
    await turn(hass, "turn_on", JELLYFIN)
    await hass.services.async_call(
        DOMAIN, "stop", {ATTR_ENTITY_ID: JELLYFIN, "cascade": False}, blocking=True
    )
    lab.docker.start_delay = 1.0
    events = record_events(hass, "wakehub_power")
    starting = hass.async_create_task(turn(hass, "turn_on", JELLYFIN))
    await until(lambda: lab.docker.count("POST", "/v1.56/containers/jellyfin/start"))

    with pytest.raises(HomeAssistantError) as err:
        await turn(hass, "turn_off", NODE_SWITCH)
    await starting
    await settle(hass)

    assert err.value.translation_key == "stop_while_starting"
    assert err.value.translation_placeholders == {"name": "jellyfin"}
    [failed] = [
        e.data
        for e in events
        if e.data["name"] == "jellyfin" and e.data["result"] == "failed"
    ]
    assert failed["translation_key"] == "stop_while_starting"
    assert lab.docker.containers["jellyfin"].state == "running"
    assert lab.node.powered


# -- an entry reloaded or removed while one of its resources starts -----------


@pytest.fixture
async def slow_machine() -> AsyncIterator[MachineSimulator]:
    """A machine that takes 2 s to boot: long enough to act while it starts."""
    sim = MachineSimulator(boot_delay=2.0, shutdown_delay=0.05)
    await sim.start()
    yield sim
    await sim.stop()


@pytest.fixture
async def slow_entry(
    hass: HomeAssistant, slow_machine: MachineSimulator
) -> AsyncIterator[MockConfigEntry]:
    entry = MockConfigEntry(
        domain=DOMAIN,
        title="NAS",
        unique_id=slow_machine.mac,
        data=machine_data(slow_machine),
        options={CONF_TIMEOUT: 10},
    )
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    yield entry
    if entry.state is ConfigEntryState.LOADED:
        await hass.config_entries.async_unload(entry.entry_id)
    await slow_machine.settle()


def starting(hass: HomeAssistant, key: str) -> bool:
    return async_get_power_manager(hass).transition(key) is not None


def with_traceback(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.exc_info and r.levelno >= logging.WARNING]


async def test_entry_removed_while_its_start_runs(
    hass: HomeAssistant,
    slow_machine: MachineSimulator,
    slow_entry: MockConfigEntry,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The action's caller is told the start was interrupted (it used to get a
    bare CancelledError)."""
    call = hass.async_create_task(
        hass.services.async_call(
            DOMAIN, "start", {ATTR_ENTITY_ID: "switch.nas"}, blocking=True
        )
    )
    await until(lambda: starting(hass, slow_machine.mac))
    await hass.config_entries.async_remove(slow_entry.entry_id)

    with pytest.raises(HomeAssistantError) as err:
        await call
    assert err.value.translation_key == "change_interrupted"
    assert err.value.translation_placeholders == {"name": "NAS"}
    await hass.async_block_till_done()
    assert not starting(hass, slow_machine.mac)
    assert with_traceback(caplog) == []


async def test_switch_tapped_then_options_saved(
    hass: HomeAssistant,
    slow_machine: MachineSimulator,
    slow_entry: MockConfigEntry,
    hass_ws_client: WebSocketGenerator,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The user taps the switch, then saves the entry's options (a reload)
    while the machine boots: the tap is answered, in words. The cancellation
    used to end the websocket handler, and the UI never got an answer."""
    ws = await hass_ws_client(hass)
    await ws.send_json_auto_id(
        {
            "type": "call_service",
            "domain": "switch",
            "service": "turn_on",
            "target": {ATTR_ENTITY_ID: "switch.nas"},
        }
    )
    await until(lambda: starting(hass, slow_machine.mac))
    result = await hass.config_entries.options.async_init(slow_entry.entry_id)
    await hass.config_entries.options.async_configure(
        result["flow_id"], {CONF_TIMEOUT: 20}
    )
    await hass.async_block_till_done()

    async with asyncio.timeout(15):
        answer = await ws.receive_json()
    assert answer["type"] == "result", answer
    assert not answer["success"]
    assert answer["error"]["translation_key"] == "change_interrupted"
    assert with_traceback(caplog) == []
