"""Cascade start and stop across a machine, a Proxmox VM and Docker containers."""

from __future__ import annotations

import asyncio

from homeassistant.const import ATTR_ENTITY_ID, STATE_OFF, STATE_ON
from homeassistant.core import Event, HomeAssistant, callback
from homeassistant.exceptions import HomeAssistantError
import pytest

from tests.conftest import record_events
from tests.power.conftest import JELLYFIN, NEXTCLOUD, NODE_SWITCH, VM_SWITCH, Lab, turn
from tests.power.logbook_lines import async_messages


def steps(events: list[Event]) -> list[tuple[str, str, str, str | None]]:
    return [
        (e.data["name"], e.data["action"], e.data["result"], e.data["reason"])
        for e in events
    ]


def waits(events: list[Event]) -> list[tuple[str, list[dict[str, str]]]]:
    """Who waited for what, as the events name it."""
    return [
        (e.data["name"], e.data["waiting_for"])
        for e in events
        if e.data["result"] == "waiting"
    ]


async def test_everything_off_at_first(hass: HomeAssistant, lab: Lab) -> None:
    """Servers that are off still load, asleep with their hosts from setup on:
    what runs on them is stopped (status and switch, usable to wake them),
    their figures nobody reported unavailable."""
    assert hass.states.get(NODE_SWITCH).state == STATE_OFF
    assert hass.states.get(VM_SWITCH).state == STATE_OFF
    assert hass.states.get(JELLYFIN).state == STATE_OFF
    assert hass.states.get("sensor.jellyfin_status").state == "stopped"
    assert hass.states.get("sensor.jellyfin_health").state == "unavailable"


async def test_jellyfin_wakes_the_whole_chain(hass: HomeAssistant, lab: Lab) -> None:
    """Magic packet → node boots → Proxmox answers → VM starts → Docker answers →
    container starts → switch on."""
    events = record_events(hass, "wakehub_power")
    waiting: list[list[str]] = []

    @callback
    def record(event: Event) -> None:
        new = event.data["new_state"]
        if event.data["entity_id"] == "sensor.jellyfin_status" and new:
            waiting.append(new.attributes.get("waiting_for", []))

    hass.bus.async_listen("state_changed", record)

    await turn(hass, "turn_on", JELLYFIN)

    assert lab.node.powered
    assert lab.node.packets[0] == lab.node.expected_packet
    assert lab.pve.guests[100].status == "running"
    assert lab.docker.containers["jellyfin"].state == "running"
    assert hass.states.get(JELLYFIN).state == STATE_ON
    assert hass.states.get(VM_SWITCH).state == STATE_ON
    assert hass.states.get(NODE_SWITCH).state == STATE_ON
    # Nothing more was started than the chain needed.
    assert lab.docker.containers["nextcloud"].state == "exited"
    assert ["docker"] in waiting  # the status said what it waited for

    log = steps(events)
    assert waits(events)[:2] == [
        ("jellyfin", [{"name": "docker", "kind": "vm"}]),
        ("docker", [{"name": "Node pve1", "kind": "machine"}]),
    ]
    assert log[:2] == [
        ("jellyfin", "start", "waiting", None),
        ("docker", "start", "waiting", None),
    ]
    # Bottom-up: each layer is requested only once the one under it is done.
    # (Waits for a platform's API appear only when it is slower than its host.)
    assert [step for step in log if step[2] in ("requested", "done")] == [
        ("Node pve1", "start", "requested", None),
        ("Node pve1", "start", "done", None),
        ("docker", "start", "requested", None),
        ("docker", "start", "done", None),
        ("jellyfin", "start", "requested", None),
        ("jellyfin", "start", "done", None),
    ]


async def test_a_failing_middle_step_stops_the_cascade(
    hass: HomeAssistant, lab: Lab
) -> None:
    """The VM is locked by a backup: the user reads Proxmox's own words; the node
    that was already woken stays on; turning on again resumes from the VM."""
    lab.pve.set_locked(100, "backup")
    events = record_events(hass, "wakehub_power")
    with pytest.raises(HomeAssistantError) as err:
        await turn(hass, "turn_on", JELLYFIN)
    assert err.value.translation_key == "task_failed"
    assert str(err.value) == "docker: VM is locked (backup)"
    [failed] = [e for e in events if e.data["result"] == "failed"]
    assert failed.data["reason"] == "error"
    assert failed.data["translation_key"] == "task_failed"
    # The logbook says it in the words of the error the user saw.
    describe = await async_messages(hass)
    assert describe(failed) == "Start failed: docker: VM is locked (backup)"
    assert lab.node.powered
    assert hass.states.get(NODE_SWITCH).state == STATE_ON
    assert hass.states.get(JELLYFIN).state != STATE_ON

    lab.pve.set_locked(100, None)
    packets = len(lab.node.packets)
    await turn(hass, "turn_on", JELLYFIN)
    assert hass.states.get(JELLYFIN).state == STATE_ON
    assert len(lab.node.packets) == packets  # the node was not woken twice


async def test_concurrent_starts_are_one_cascade(hass: HomeAssistant, lab: Lab) -> None:
    await asyncio.gather(
        turn(hass, "turn_on", JELLYFIN),
        turn(hass, "turn_on", JELLYFIN),
        hass.services.async_call(
            "wakehub", "start", {ATTR_ENTITY_ID: JELLYFIN}, blocking=True
        ),
    )
    assert len(lab.node.packets) == 3  # one magic packet, sent three times
    assert lab.pve.count("POST", "/api2/json/nodes/pve1/qemu/100/status/start") == 1
    assert lab.docker.count("POST", "/v1.56/containers/jellyfin/start") == 1


async def test_shared_dependency_kept_on_then_released(
    hass: HomeAssistant, lab: Lab
) -> None:
    await turn(hass, "turn_on", JELLYFIN)
    await turn(hass, "turn_on", NEXTCLOUD)
    events = record_events(hass, "wakehub_power")

    await turn(hass, "turn_off", JELLYFIN)
    assert hass.states.get(JELLYFIN).state == STATE_OFF
    assert hass.states.get(VM_SWITCH).state == STATE_ON
    [kept] = [e.data for e in events if e.data["result"] == "kept_on"]
    assert (kept["name"], kept["reason"], kept["managed"]) == (
        "docker",
        "in_use",
        ["nextcloud"],
    )

    await turn(hass, "turn_off", NEXTCLOUD)
    # The last user is gone: the VM, then the node, stop downwards.
    assert lab.pve.guests[100].status == "stopped"
    assert not lab.node.powered
    assert "sudo systemctl poweroff" in lab.node.commands
    released = {
        e.data["name"]: e.data["cause"]
        for e in events
        if e.data["reason"] == "released_by"
    }
    assert released == {
        "docker": {"name": "nextcloud", "kind": "container"},
        "Node pve1": {"name": "docker", "kind": "vm"},
    }


async def test_a_cascade_stop_asks_each_server_once_per_release(
    hass: HomeAssistant, lab: Lab
) -> None:
    """jellyfin off, then its VM and node released: each release asks the
    servers on the layer it frees once, and the stop it decides does not ask
    them again. Docker's list: once when jellyfin is seen stopped, once for
    the VM's release; Proxmox's cluster: once when the VM is seen stopped,
    once for the node's release (Docker sleeps with the VM by then)."""
    await turn(hass, "turn_on", JELLYFIN)
    await hass.async_block_till_done()
    lab.pve.requests.clear()
    lab.docker.requests.clear()

    await turn(hass, "turn_off", JELLYFIN)
    await hass.async_block_till_done()

    assert not lab.node.powered
    assert lab.docker.count("GET", "/v1.56/containers/json") == 2
    assert lab.pve.count("GET", "/api2/json/cluster/resources") == 2


async def test_stop_without_cascade_keeps_dependencies(
    hass: HomeAssistant, lab: Lab
) -> None:
    await turn(hass, "turn_on", JELLYFIN)
    await hass.services.async_call(
        "wakehub", "stop", {ATTR_ENTITY_ID: JELLYFIN, "cascade": False}, blocking=True
    )
    assert lab.docker.containers["jellyfin"].state == "exited"
    assert lab.pve.guests[100].status == "running"
    assert lab.node.powered


async def test_stopping_the_host_stops_its_dependents_first(
    hass: HomeAssistant, lab: Lab
) -> None:
    await turn(hass, "turn_on", JELLYFIN)
    events = record_events(hass, "wakehub_power")
    await turn(hass, "turn_off", NODE_SWITCH)
    assert not lab.node.powered
    assert lab.pve.guests[100].status == "stopped"
    assert lab.docker.containers["jellyfin"].state == "exited"
    done = [(n, a) for n, a, r, _ in steps(events) if r == "done"]
    assert done == [("jellyfin", "stop"), ("docker", "stop"), ("Node pve1", "stop")]
    # Each guest says which host going down took it down.
    causes = {
        e.data["name"]: e.data["cause"]
        for e in events
        if e.data["reason"] == "host_stopping"
    }
    assert causes == {
        "jellyfin": {"name": "docker", "kind": "vm"},
        "docker": {"name": "Node pve1", "kind": "machine"},
    }
