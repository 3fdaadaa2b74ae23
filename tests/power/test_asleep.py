"""A server asleep with what it runs on shows its resources stopped.

The Docker engine runs in the VM "docker" on the node pve1. Once WakeHub has
shut the chain down, the engine cannot answer, but what it would say is known:
its containers are stopped. So their sensors say "stopped", not "unavailable"
(which would flip every sensor of every container in the logbook at each
sleep). An engine that does not answer while its VM runs stays unavailable:
there, nobody knows.
"""

from __future__ import annotations

import asyncio
import logging
from types import MappingProxyType

from homeassistant.config_entries import ConfigSubentry
from homeassistant.const import (
    STATE_OFF,
    STATE_ON,
    STATE_UNAVAILABLE,
)
from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import async_capture_events

from custom_components.wakehub import asleep
from custom_components.wakehub.const import EVENT_POWER
from tests.power.conftest import JELLYFIN, NODE_SWITCH, VM_SWITCH, Lab, poll, turn
from tests.proxmox.conftest import guest_subentries

STATUS = "sensor.jellyfin_status"
HEALTH = "sensor.jellyfin_health"
REBOOT = "button.jellyfin_reboot"
VM_STATUS = "sensor.docker_status"


def shown(hass: HomeAssistant, *entity_ids: str) -> list[str]:
    return [hass.states.get(entity_id).state for entity_id in entity_ids]


async def test_containers_of_a_sleeping_engine_are_stopped(
    hass: HomeAssistant, lab: Lab
) -> None:
    lab.docker.containers["jellyfin"].healthcheck = True
    await turn(hass, "turn_on", JELLYFIN)
    for _ in range(100):  # until its healthcheck has run
        await poll(lab)
        await hass.async_block_till_done()
        if shown(hass, HEALTH) == ["healthy"]:
            break
        await asyncio.sleep(0.02)
    assert shown(hass, STATUS, HEALTH, JELLYFIN) == ["running", "healthy", STATE_ON]

    await turn(hass, "turn_off", NODE_SWITCH)  # the whole chain goes down
    await poll(lab)
    await hass.async_block_till_done()

    assert not lab.docker_entry.runtime_data.coordinator.last_update_success
    assert not lab.pve_entry.runtime_data.coordinator.last_update_success
    # Stopped, as the engine would say; no healthcheck runs in a stopped
    # container, so it reports none; a stopped container cannot be rebooted.
    assert shown(hass, STATUS, HEALTH, JELLYFIN, REBOOT) == [
        "stopped",
        STATE_UNAVAILABLE,
        STATE_OFF,
        STATE_UNAVAILABLE,
    ]
    # The VM of a sleeping cluster is stopped too (its node is a stopped machine).
    assert shown(hass, VM_STATUS, VM_SWITCH) == ["stopped", STATE_OFF]

    # Turning it on still wakes the chain, and it comes back running.
    await turn(hass, "turn_on", JELLYFIN)
    assert shown(hass, STATUS, JELLYFIN) == ["running", STATE_ON]


async def test_an_engine_silent_on_a_running_vm_is_unavailable(
    hass: HomeAssistant, lab: Lab
) -> None:
    lab.docker.containers["jellyfin"].healthcheck = True
    await turn(hass, "turn_on", JELLYFIN)
    lab.down.add("docker")  # the VM runs, its engine does not answer
    lab.docker.containers["jellyfin"].state = "running"
    for _ in range(50):
        await poll(lab)
        if not lab.docker_entry.runtime_data.coordinator.last_update_success:
            break
    await hass.async_block_till_done()

    # Nobody knows what runs there: no stale "on", no cascade to start from.
    assert shown(hass, VM_STATUS, STATUS, HEALTH, JELLYFIN) == [
        "running",
        STATE_UNAVAILABLE,
        STATE_UNAVAILABLE,
        STATE_UNAVAILABLE,
    ]

    lab.down.discard("docker")
    for _ in range(50):
        await poll(lab)
        if lab.docker_entry.runtime_data.coordinator.last_update_success:
            break
    await hass.async_block_till_done()
    # Back: the engine's restart runs the healthcheck again.
    assert shown(hass, STATUS, HEALTH, JELLYFIN) in (
        ["running", "starting", STATE_ON],
        ["running", "healthy", STATE_ON],
    )


async def test_a_host_just_back_gives_its_server_time_to_answer(
    hass: HomeAssistant, lab: Lab, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The VM runs again but its engine does not answer yet: its containers are
    still stopped (no flip to unavailable and back at every boot), until the
    engine's start-up time has passed; then nobody knows."""
    await turn(hass, "turn_on", JELLYFIN)
    await turn(hass, "turn_off", NODE_SWITCH)
    await poll(lab)
    await hass.async_block_till_done()
    assert shown(hass, STATUS) == ["stopped"]

    lab.down.add("docker")  # the engine will not answer when its VM runs
    await turn(hass, "turn_on", VM_SWITCH)  # wakes the node, starts the VM
    await poll(lab)
    await hass.async_block_till_done()
    assert shown(hass, VM_SWITCH, STATUS, JELLYFIN) == [STATE_ON, "stopped", STATE_OFF]

    # The clock moves past the grace (only asleep.py's: the lab's own timers
    # run on the loop's clock).
    later = asleep.monotonic() + asleep.BOOT_GRACE + 1
    monkeypatch.setattr(asleep, "monotonic", lambda: later)
    await poll(lab)
    await hass.async_block_till_done()
    assert shown(hass, STATUS, HEALTH) == [STATE_UNAVAILABLE, STATE_UNAVAILABLE]


async def test_the_host_stopping_after_its_server_went_silent(
    hass: HomeAssistant, lab: Lab
) -> None:
    """The engine stopped answering first (unavailable: its VM still ran); then
    the VM's own poll finds it stopped: the containers show stopped at once,
    without waiting for the engine's next failed poll."""
    await turn(hass, "turn_on", JELLYFIN)
    lab.down.add("docker")
    docker = lab.docker_entry.runtime_data.coordinator
    for _ in range(50):
        await docker.async_refresh()
        if not docker.last_update_success:
            break
    await hass.async_block_till_done()
    assert shown(hass, STATUS) == [STATE_UNAVAILABLE]

    lab.pve.guests[100].status = "stopped"  # shut down behind WakeHub's back
    await lab.pve_entry.runtime_data.coordinator.async_refresh()
    await hass.async_block_till_done()
    assert shown(hass, VM_STATUS, STATUS, JELLYFIN) == ["stopped", "stopped", STATE_OFF]


async def test_a_node_booted_since_its_cluster_last_answered(
    hass: HomeAssistant, lab: Lab
) -> None:
    """The cluster last answered before its node went down, and was not asked
    while it was down; the node boots, its API is not up yet: the guests are
    still stopped (the node booted after the cluster's last answer), not
    unavailable."""
    await turn(hass, "turn_on", JELLYFIN)
    await turn(hass, "turn_off", NODE_SWITCH)
    pve = lab.pve_entry.runtime_data.coordinator
    assert pve.last_update_success  # not asked since the node went down
    lab.down.add("pve")
    await turn(hass, "turn_on", NODE_SWITCH)
    await pve.async_refresh()
    await hass.async_block_till_done()
    assert not pve.last_update_success
    assert shown(hass, VM_STATUS, VM_SWITCH) == ["stopped", STATE_OFF]

    # Once it answers again, what it says is shown.
    lab.down.discard("pve")
    for _ in range(50):
        await pve.async_refresh()
        if pve.last_update_success:
            break
    await hass.async_block_till_done()
    assert shown(hass, VM_STATUS) == ["stopped"]


async def test_servers_never_seen_since_a_restart_while_the_lab_sleeps(
    hass: HomeAssistant, lab: Lab
) -> None:
    """Home Assistant started while the lab sleeps: the cluster and the engine
    have never answered, so nothing is known of their resources but this: they
    are stopped, since what they run on is. Their status says so; figures no
    one reported stay unavailable; the power switch can wake the chain."""
    await poll(lab)
    await hass.async_block_till_done()
    assert lab.docker_entry.runtime_data.coordinator.data is None
    assert shown(hass, STATUS, VM_STATUS) == ["stopped", "stopped"]
    assert shown(hass, JELLYFIN, VM_SWITCH, REBOOT, HEALTH) == [
        STATE_OFF,
        STATE_OFF,
        STATE_UNAVAILABLE,
        STATE_UNAVAILABLE,
    ]

    await turn(hass, "turn_on", JELLYFIN)
    assert shown(hass, STATUS, JELLYFIN) == ["running", STATE_ON]


async def test_a_server_asleep_with_its_host_is_no_error(
    hass: HomeAssistant, lab: Lab, caplog: pytest.LogCaptureFixture
) -> None:
    """Every night the chain goes down, and its servers stop answering: that is
    said once, at INFO, not as an ERROR in Home Assistant's log (and in
    scripts/demo's terminal)."""
    await turn(hass, "turn_on", JELLYFIN)
    caplog.clear()
    caplog.set_level(logging.INFO, logger="custom_components.wakehub")
    await turn(hass, "turn_off", NODE_SWITCH)
    for _ in range(3):
        await poll(lab)
    await hass.async_block_till_done()

    ours = [r for r in caplog.records if r.name.startswith("custom_components")]
    assert [r.getMessage() for r in ours if r.levelno >= logging.WARNING] == []
    silent = [r.getMessage() for r in ours if "does not answer" in r.getMessage()]
    assert sorted(message.split(" ")[0] for message in silent) == [
        "docker-vm",
        "homelab",
    ]
    assert all("may be off" in message for message in silent)

    await turn(hass, "turn_on", JELLYFIN)
    assert shown(hass, STATUS) == ["running"]


async def test_a_guest_on_a_node_no_machine_powers(
    hass: HomeAssistant, lab: Lab
) -> None:
    """A cluster linked in part: pve1 is the lab's machine, pve2 is linked to
    nothing and runs pihole. With pve1 off, the API (served by pve1) sleeps,
    and the docker VM on pve1 is known stopped; pihole may well run on pve2:
    nobody knows, so it is unavailable, not "stopped", and its coming back is
    not said to be a start with a host."""
    hass.config_entries.async_add_subentry(
        lab.pve_entry,
        ConfigSubentry(
            data=MappingProxyType(guest_subentries([102])[0]["data"]),
            subentry_type="guest",
            title="pihole",
            unique_id="102",
        ),
    )
    await hass.async_block_till_done()
    await turn(hass, "turn_on", VM_SWITCH)  # pve1 and the API up
    await poll(lab)
    await hass.async_block_till_done()
    assert shown(hass, "sensor.pihole_status", "switch.pihole") == [
        "running",
        STATE_ON,
    ]
    events = async_capture_events(hass, EVENT_POWER)

    await turn(hass, "turn_off", NODE_SWITCH)
    await poll(lab)
    await hass.async_block_till_done()
    assert lab.pve_entry.runtime_data.coordinator.asleep
    assert lab.pve.guests[102].status == "running"  # on pve2, untouched
    assert shown(hass, VM_STATUS, VM_SWITCH) == ["stopped", STATE_OFF]
    # pve2 itself, powered through the cluster, is as unknown as its guest.
    assert shown(
        hass, "sensor.pihole_status", "switch.pihole", "sensor.pve2_proxmox_status"
    ) == [STATE_UNAVAILABLE, STATE_UNAVAILABLE, STATE_UNAVAILABLE]

    await turn(hass, "turn_on", NODE_SWITCH)
    for _ in range(50):
        await poll(lab)
        if lab.pve_entry.runtime_data.coordinator.last_update_success:
            break
    await hass.async_block_till_done()
    assert shown(hass, "sensor.pihole_status", "switch.pihole") == [
        "running",
        STATE_ON,
    ]
    observed = [e.data for e in events if e.data.get("result") == "observed"]
    assert [e for e in observed if "pihole" in str(e)] == []
