"""Power changes WakeHub did not make get a logbook line of their own.

The lab of conftest.py: the VM "docker" on the machine "Node pve1", and on the
VM's engine the containers jellyfin and nextcloud. Someone stops a container
from the engine's command line, the VM is shut down from Proxmox's web
interface, an engine starts a container by its restart policy when its VM comes
up: each is said as what it is, and nothing WakeHub did itself is said twice.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from homeassistant.const import ATTR_ENTITY_ID, STATE_UNAVAILABLE
from homeassistant.core import Event, HomeAssistant
from homeassistant.helpers import entity_registry as er
import pytest

from custom_components.wakehub import asleep
from custom_components.wakehub.const import DOMAIN
from tests.conftest import record_events
from tests.power.conftest import JELLYFIN, NODE_SWITCH, VM_SWITCH, Lab, poll, turn
from tests.power.logbook_lines import async_logbook


async def poll_until(hass: HomeAssistant, lab: Lab, done: Callable[[], bool]) -> None:
    """Poll every server until `done` (a platform follows its host within
    some tens of milliseconds)."""
    for _ in range(100):
        await poll(lab)
        await hass.async_block_till_done()
        if done():
            return
        await asyncio.sleep(0.02)
    raise AssertionError("the lab never got there")


def observed(events: list[Event]) -> list[Event]:
    return [e for e in events if e.data["result"] == "observed"]


async def test_a_container_stopped_and_started_outside_wakehub(
    hass: HomeAssistant, lab: Lab
) -> None:
    describe = await async_logbook(hass)
    await turn(hass, "turn_on", JELLYFIN)
    events = record_events(hass, "wakehub_power")

    lab.docker.set_state("jellyfin", "exited")  # `docker stop jellyfin`
    await poll_until(hass, lab, lambda: hass.states.get(JELLYFIN).state == "off")
    lab.docker.set_state("jellyfin", "running")  # `docker start jellyfin`
    await poll_until(hass, lab, lambda: hass.states.get(JELLYFIN).state == "on")

    assert [(e.data["name"], e.data["action"], e.data["result"]) for e in events] == [
        ("jellyfin", "stop", "observed"),
        ("jellyfin", "start", "observed"),
    ]
    assert events[0].data["reason"] is None
    assert events[0].data["entity_id"] == JELLYFIN  # on its device's logbook
    assert [(describe(e)["message"], describe(e)["icon"]) for e in events] == [
        ("Stopped outside WakeHub", "mdi:power-off"),
        ("Started outside WakeHub", "mdi:power"),
    ]


async def test_containers_go_down_and_come_up_with_their_vm(
    hass: HomeAssistant, lab: Lab
) -> None:
    """The VM shut down from Proxmox: the VM stopped outside WakeHub, its
    container with it; started again, the engine starts the container by its
    restart policy."""
    describe = await async_logbook(hass)
    await turn(hass, "turn_on", JELLYFIN)
    events = record_events(hass, "wakehub_power")

    lab.pve.guests[100].status = "stopped"
    await poll_until(hass, lab, lambda: hass.states.get(JELLYFIN).state == "off")
    lines = [(describe(e)["name"], describe(e)["message"]) for e in events]
    assert lines == [
        ("docker", "Stopped outside WakeHub"),
        ("jellyfin", "Stopped with docker, which it runs on"),
    ]
    assert events[1].data["reason"] == "with_host"
    assert events[1].data["cause"] == {"name": "docker", "kind": "vm"}

    events.clear()
    lab.pve.guests[100].status = "running"
    await poll_until(hass, lab, lambda: hass.states.get(JELLYFIN).state == "on")
    assert [(describe(e)["name"], describe(e)["message"]) for e in events] == [
        ("docker", "Started outside WakeHub"),
        ("jellyfin", "Started with docker, which it runs on"),
    ]


async def test_a_host_switched_off_by_hand_takes_the_chain_down(
    hass: HomeAssistant, lab: Lab
) -> None:
    """The node's power button: each layer says what it went down with."""
    describe = await async_logbook(hass)
    await turn(hass, "turn_on", JELLYFIN)
    events = record_events(hass, "wakehub_power")

    await lab.node.power_off()  # the Proxmox API goes with it
    await poll_until(hass, lab, lambda: hass.states.get(VM_SWITCH).state == "off")
    lab.pve.guests[100].status = "stopped"  # and the VM's engine
    await poll_until(hass, lab, lambda: hass.states.get(JELLYFIN).state == "off")
    assert sorted((describe(e)["name"], describe(e)["message"]) for e in events) == [
        ("Node pve1", "Stopped outside WakeHub"),
        ("docker", "Stopped with Node pve1, which it runs on"),
        ("jellyfin", "Stopped with docker, which it runs on"),
    ]


async def test_a_silent_engine_is_no_news(
    hass: HomeAssistant, lab: Lab, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The VM comes back but its engine stays silent past its start-up time:
    the engine's last answer (jellyfin running, from before the VM stopped) is
    kept, but it is old news, not a start."""
    describe = await async_logbook(hass)
    await turn(hass, "turn_on", JELLYFIN)
    lab.pve.guests[100].status = "stopped"
    await poll_until(hass, lab, lambda: hass.states.get(JELLYFIN).state == "off")
    events = record_events(hass, "wakehub_power")

    lab.down.add("docker")  # the engine will not answer when its VM runs
    lab.pve.guests[100].status = "running"
    await poll_until(hass, lab, lambda: hass.states.get(VM_SWITCH).state == "on")
    later = asleep.monotonic() + asleep.BOOT_GRACE + 1
    monkeypatch.setattr(asleep, "monotonic", lambda: later)
    await poll_until(
        hass, lab, lambda: hass.states.get(JELLYFIN).state == STATE_UNAVAILABLE
    )
    assert [describe(e)["message"] for e in events] == ["Started outside WakeHub"]

    lab.down.discard("docker")  # it answers at last
    await poll_until(hass, lab, lambda: hass.states.get(JELLYFIN).state == "on")
    assert [(describe(e)["name"], describe(e)["message"]) for e in events[1:]] == [
        ("jellyfin", "Started with docker, which it runs on")
    ]


async def test_what_wakehub_does_is_not_said_twice(
    hass: HomeAssistant, lab: Lab, entity_registry: er.EntityRegistry
) -> None:
    """A cascade on and off, an action, a button that acts directly: each is
    already explained by its own lines (or its button press)."""
    events = record_events(hass, "wakehub_power")
    await turn(hass, "turn_on", JELLYFIN)
    await hass.services.async_call(
        DOMAIN, "stop", {ATTR_ENTITY_ID: JELLYFIN, "cascade": False}, blocking=True
    )
    await hass.services.async_call(
        DOMAIN, "start", {ATTR_ENTITY_ID: JELLYFIN}, blocking=True
    )
    await turn(hass, "turn_off", NODE_SWITCH)  # down the whole chain
    await turn(hass, "turn_on", JELLYFIN)

    button = "button.jellyfin_force_stop"
    entity_registry.async_update_entity(button, disabled_by=None)
    await hass.config_entries.async_reload(lab.docker_entry.entry_id)
    await hass.async_block_till_done()
    await hass.services.async_call(
        "button", "press", {ATTR_ENTITY_ID: button}, blocking=True
    )
    await poll_until(hass, lab, lambda: hass.states.get(JELLYFIN).state == "off")

    assert events
    assert observed(events) == []


async def test_the_first_state_seen_is_not_a_change(
    hass: HomeAssistant, lab: Lab
) -> None:
    """What changed while WakeHub was not watching (an entry unloaded, Home
    Assistant stopped) is where it starts from, not something it saw."""
    await turn(hass, "turn_on", JELLYFIN)
    events = record_events(hass, "wakehub_power")
    await hass.config_entries.async_unload(lab.docker_entry.entry_id)
    lab.docker.set_state("jellyfin", "exited")
    await hass.config_entries.async_setup(lab.docker_entry.entry_id)
    await poll_until(hass, lab, lambda: hass.states.get(JELLYFIN).state == "off")
    assert events == []

    # A state that says nothing of power (a paused container) is no change
    # either, and the change after it is measured from the last clean one.
    lab.docker.set_state("jellyfin", "paused")
    await poll_until(
        hass, lab, lambda: hass.states.get("sensor.jellyfin_status").state == "paused"
    )
    lab.docker.set_state("jellyfin", "exited")
    await poll_until(
        hass, lab, lambda: hass.states.get("sensor.jellyfin_status").state == "stopped"
    )
    assert events == []
    assert hass.states.get(VM_SWITCH).state == "on"
