"""Protection: a cascade stop never releases a host that still runs a workload,
whether WakeHub manages that workload or not (and never while it cannot ask)."""

from __future__ import annotations

import asyncio
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import ATTR_ENTITY_ID, STATE_ON, STATE_UNKNOWN
from homeassistant.core import Event, HomeAssistant
from homeassistant.helpers import entity_registry as er
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.wakehub.const import (
    CONF_DEPENDENCIES,
    CONF_KIND,
    CONF_TIMEOUT,
    DOMAIN,
    KIND_DOCKER,
)
from custom_components.wakehub.power import async_get_power_manager
from tests.conftest import record_events
from tests.power.conftest import JELLYFIN, NODE_SWITCH, VM_SWITCH, Lab, turn
from tests.power.logbook_lines import async_messages
from tests.power.test_idle import clocked, run_clock, setup_nas, switch, tick
from tests.simulators.docker import DockerSimulator
from tests.simulators.machine import MachineSimulator

NAS_SWITCH = "switch.nas"
NAS_AUTO = "switch.nas_auto_shutdown"
NAS_ACTIVE = "binary_sensor.nas_active"


def kept_on(events: list[Event]) -> list[dict[str, Any]]:
    return [dict(e.data) for e in events if e.data["result"] == "kept_on"]


async def until_down(server: Any) -> None:
    """The lab's gate takes a platform's API down within a few ms."""
    async with asyncio.timeout(5):
        while server._runner is not None:  # noqa: ASYNC110 - no event for it
            await asyncio.sleep(0.01)


async def test_an_unmanaged_container_keeps_its_vm_and_node_on(
    hass: HomeAssistant, lab: Lab
) -> None:
    """sonarr runs on the engine but was never added to WakeHub: turning off the
    last managed container must not take the VM (and sonarr) down."""
    await turn(hass, "turn_on", JELLYFIN)
    lab.docker.add_container("sonarr", image="linuxserver/sonarr", state="running")
    lab.docker.add_container("radarr", image="linuxserver/radarr", state="running")
    events = record_events(hass, "wakehub_power")

    await turn(hass, "turn_off", JELLYFIN)

    assert lab.docker.containers["jellyfin"].state == "exited"
    assert lab.docker.containers["sonarr"].state == "running"
    assert lab.pve.guests[100].status == "running"
    assert lab.node.powered
    assert hass.states.get(VM_SWITCH).state == STATE_ON
    [kept] = kept_on(events)
    assert kept["name"] == "docker"
    assert kept["unmanaged"] == ["sonarr", "radarr"]
    assert "managed" not in kept
    assert kept["reason"] == "in_use"
    describe = await async_messages(hass)
    assert describe(kept) == "Kept on: still used by sonarr, radarr (not in WakeHub)"

    # Once nothing else runs there, the same stop releases the VM and the node.
    lab.docker.containers["sonarr"].state = "exited"
    lab.docker.containers["radarr"].state = "exited"
    events.clear()
    await turn(hass, "turn_off", JELLYFIN)
    assert lab.pve.guests[100].status == "stopped"
    assert not lab.node.powered
    assert kept_on(events) == []


async def test_a_paused_container_counts_as_running(
    hass: HomeAssistant, lab: Lab
) -> None:
    await turn(hass, "turn_on", JELLYFIN)
    lab.docker.add_container("backup", image="restic/restic", state="paused")
    await turn(hass, "turn_off", JELLYFIN)
    assert lab.pve.guests[100].status == "running"


async def test_an_unmanaged_guest_keeps_its_node_machine_on(
    hass: HomeAssistant, lab: Lab
) -> None:
    """windows11 runs on pve1 and is not in WakeHub: the VM under jellyfin is
    released, the node's machine is not."""
    await turn(hass, "turn_on", JELLYFIN)
    lab.pve.set_status(101, "running")
    events = record_events(hass, "wakehub_power")

    await turn(hass, "turn_off", JELLYFIN)

    assert lab.pve.guests[100].status == "stopped"
    assert lab.pve.guests[101].status == "running"
    assert lab.node.powered
    [kept] = kept_on(events)
    assert kept["name"] == "Node pve1"
    assert kept["unmanaged"] == ["windows11"]
    describe = await async_messages(hass)
    assert describe(kept) == "Kept on: still used by windows11 (not in WakeHub)"

    lab.pve.set_status(101, "stopped")
    await turn(hass, "turn_off", VM_SWITCH)  # already off: releases the node now
    assert not lab.node.powered


async def test_a_managed_user_and_an_unmanaged_one_are_both_named(
    hass: HomeAssistant, lab: Lab
) -> None:
    await turn(hass, "turn_on", JELLYFIN)
    await turn(hass, "turn_on", "switch.nextcloud")
    lab.docker.add_container("sonarr", image="linuxserver/sonarr", state="running")
    events = record_events(hass, "wakehub_power")
    await turn(hass, "turn_off", JELLYFIN)
    [kept] = kept_on(events)
    assert kept["managed"] == ["nextcloud"]
    assert kept["unmanaged"] == ["sonarr"]
    describe = await async_messages(hass)
    assert describe(kept) == (
        "Kept on: still used by nextcloud; sonarr (not in WakeHub)"
    )


async def test_nothing_is_released_while_the_engine_cannot_be_asked(
    hass: HomeAssistant, lab: Lab
) -> None:
    """The VM runs but its Docker API does not answer: nobody can say that
    nothing runs there, so it stays on, and the logbook says why."""
    await turn(hass, "turn_on", JELLYFIN)
    await hass.services.async_call(
        "wakehub", "stop", {ATTR_ENTITY_ID: JELLYFIN, "cascade": False}, blocking=True
    )
    lab.down.add("docker")
    await until_down(lab.docker)
    events = record_events(hass, "wakehub_power")

    await turn(hass, "turn_off", JELLYFIN)

    assert lab.pve.guests[100].status == "running"
    assert lab.node.powered
    [kept] = kept_on(events)
    assert kept["name"] == "docker"
    assert kept["reason"] == "platform_unreachable"
    assert kept["platforms"] == ["docker-vm"]
    describe = await async_messages(hass)
    assert describe(kept) == "Kept on: docker-vm cannot be asked what runs there"


async def test_nothing_is_released_while_proxmox_cannot_be_asked(
    hass: HomeAssistant, lab: Lab
) -> None:
    await turn(hass, "turn_on", JELLYFIN)
    await hass.services.async_call(
        "wakehub", "stop", {ATTR_ENTITY_ID: VM_SWITCH, "cascade": False}, blocking=True
    )
    lab.down.add("pve")
    await until_down(lab.pve)
    events = record_events(hass, "wakehub_power")

    await turn(hass, "turn_off", VM_SWITCH)

    assert lab.node.powered
    [kept] = kept_on(events)
    assert kept["name"] == "Node pve1"
    assert kept["platforms"] == ["homelab"]


async def test_turning_off_a_host_directly_names_what_it_takes_down(
    hass: HomeAssistant, lab: Lab
) -> None:
    """The user asked for the VM itself: it stops, and the event says that the
    containers WakeHub does not manage went down with it."""
    await turn(hass, "turn_on", JELLYFIN)
    lab.docker.add_container("sonarr", image="linuxserver/sonarr", state="running")
    events = record_events(hass, "wakehub_power")

    await turn(hass, "turn_off", VM_SWITCH)

    assert lab.pve.guests[100].status == "stopped"
    requested = [
        dict(e.data)
        for e in events
        if e.data["name"] == "docker" and e.data["result"] == "requested"
    ]
    assert requested[0]["unmanaged"] == ["sonarr"]
    describe = await async_messages(hass)
    assert describe(requested[0]) == (
        "Shutdown requested; also takes down sonarr (not in WakeHub)"
    )
    # The managed container was stopped cleanly first.
    assert ("jellyfin", "done") in [(e.data["name"], e.data["result"]) for e in events]


async def test_an_unmanaged_workload_keeps_a_host_active_for_auto_shutdown(
    hass: HomeAssistant, lab: Lab
) -> None:
    await turn(hass, "turn_on", JELLYFIN)
    await hass.services.async_call(
        "wakehub", "stop", {ATTR_ENTITY_ID: JELLYFIN, "cascade": False}, blocking=True
    )
    lab.docker.add_container("sonarr", image="linuxserver/sonarr", state="running")
    await lab.docker_entry.runtime_data.coordinator.async_refresh()
    await lab.pve_entry.runtime_data.coordinator.async_refresh()
    await hass.async_block_till_done()
    await turn(hass, "turn_on", "switch.docker_auto_shutdown")
    active = hass.states.get("binary_sensor.docker_active")
    assert active.state == STATE_ON
    assert "sonarr is running (not in WakeHub)" in active.attributes["reasons"]
    node_active = hass.states.get(NODE_SWITCH.replace("switch.", "binary_sensor."))
    assert node_active is None or node_active.state == STATE_ON


async def test_auto_shutdown_asks_the_engine_again_before_stopping_a_vm(
    hass: HomeAssistant, lab: Lab, freezer: FrozenDateTimeFactory
) -> None:
    """The VM's countdown ran out, but a container was started on its engine
    outside WakeHub since the last poll: the VM stays on."""
    # The engine is not polled on a schedule (Home Assistant's "polling" system
    # option off), so only the check at the deadline can see the new container.
    hass.config_entries.async_update_entry(lab.docker_entry, pref_disable_polling=True)
    await hass.config_entries.async_reload(lab.docker_entry.entry_id)
    await hass.async_block_till_done()
    await clocked(hass, freezer, turn(hass, "turn_on", JELLYFIN))
    await turn(hass, "turn_on", "switch.docker_auto_shutdown")
    await clocked(
        hass,
        freezer,
        hass.services.async_call(
            "wakehub",
            "stop",
            {ATTR_ENTITY_ID: JELLYFIN, "cascade": False},
            blocking=True,
        ),
    )
    await hass.async_block_till_done()
    assert hass.states.get("sensor.docker_auto_shutdown_at").state != STATE_UNKNOWN

    lab.docker.add_container("sonarr", image="linuxserver/sonarr", state="running")
    events = record_events(hass, "wakehub_power")
    await tick(hass, freezer, 45)
    await run_clock(hass, freezer, lambda: False, seconds=0.5)

    assert lab.pve.guests[100].status == "running"
    assert hass.states.get(VM_SWITCH).state == STATE_ON
    assert ("auto_stop", "cancelled") in [
        (e.data["action"], e.data["result"]) for e in events
    ]
    assert (
        "sonarr is running (not in WakeHub)"
        in (hass.states.get("binary_sensor.docker_active").attributes["reasons"])
    )


async def test_nas_kept_on_while_a_dependent_server_cannot_be_asked(
    hass: HomeAssistant,
    machine_sim: MachineSimulator,
    machine_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """jellyfin (on an engine of its own host, not linked to anything) depends
    explicitly on the NAS. Home Assistant restarts while that engine does not
    answer: its entry is left to retry, jellyfin is not loaded. Nobody can say
    that jellyfin no longer uses the NAS, as nobody could for a host link: the
    NAS must not be auto-shut down meanwhile (it was: its reasons to stay awake
    were empty)."""
    engine = DockerSimulator()
    engine.add_container("jellyfin", image="jellyfin/jellyfin:10.10")
    await engine.start()
    await setup_nas(hass, machine_entry, machine_sim)
    nas = er.async_get(hass).async_get(NAS_SWITCH)
    docker_entry = MockConfigEntry(
        domain=DOMAIN,
        title="media-host",
        unique_id=engine.engine_id,
        data={CONF_KIND: KIND_DOCKER, "url": engine.docker_url, "verify_ssl": True},
        options={CONF_TIMEOUT: 5},
        subentries_data=[
            {
                "subentry_type": "container",
                "data": {"container": "jellyfin", CONF_DEPENDENCIES: [nas.id]},
                "title": "jellyfin",
                "unique_id": "jellyfin",
            }
        ],
    )
    docker_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(docker_entry.entry_id)
    await hass.async_block_till_done()
    await switch(hass, "turn_on", NAS_AUTO)
    assert hass.states.get(NAS_ACTIVE).attributes["reasons"] == ["jellyfin is running"]
    try:
        # The engine's host is unreachable while Home Assistant restarts.
        assert await hass.config_entries.async_unload(docker_entry.entry_id)
        await engine.stop()
        await hass.config_entries.async_setup(docker_entry.entry_id)
        await hass.async_block_till_done()
        assert docker_entry.state is ConfigEntryState.SETUP_RETRY

        await tick(hass, freezer, 31)
        await tick(hass, freezer, 31)
        await run_clock(hass, freezer, lambda: not machine_sim.powered, seconds=3)
        assert machine_sim.powered
    finally:
        await run_clock(
            hass, freezer, lambda: not async_get_power_manager(hass)._running
        )
        await hass.config_entries.async_remove(docker_entry.entry_id)
        await engine.stop()


async def test_a_host_turned_off_stops_its_paused_container_first(
    hass: HomeAssistant, lab: Lab
) -> None:
    """jellyfin is paused (frozen in RAM, not stopped) when the VM is turned
    off: it is stopped cleanly first, as a running one is (the engine unpauses
    it to deliver the signal), not frozen and then cut off with its VM."""
    await turn(hass, "turn_on", JELLYFIN)
    await hass.services.async_call(
        "wakehub", "pause", {ATTR_ENTITY_ID: JELLYFIN}, blocking=True
    )
    await lab.docker_entry.runtime_data.coordinator.async_refresh()
    assert lab.docker.containers["jellyfin"].state == "paused"
    events = record_events(hass, "wakehub_power")

    await turn(hass, "turn_off", VM_SWITCH)

    assert lab.pve.guests[100].status == "stopped"
    assert lab.docker.count("POST", "/v1.56/containers/jellyfin/stop") == 1
    steps = [
        (e.data["name"], e.data["result"])
        for e in events
        if e.data["action"] == "stop" and e.data["result"] in ("requested", "done")
    ]
    assert steps.index(("jellyfin", "done")) < steps.index(("docker", "requested"))
