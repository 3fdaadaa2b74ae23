"""Nodes without a machine entry, powered through the cluster itself.

Shut down and rebooted by their own API; woken by Proxmox's Wake-on-LAN, which
another running node sends: here a real magic packet over loopback to the
machine simulator standing for the node's hardware.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from homeassistant.const import ATTR_ENTITY_ID, STATE_OFF, STATE_ON
from homeassistant.core import Event, HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import entity_registry as er
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.wakehub.const import (
    CONF_HOST_LINKS,
    CONF_STOP_WITH_DEPENDENTS,
    CONF_TIMEOUT,
    DOMAIN,
)
from custom_components.wakehub.power import async_get_power_manager
from tests.conftest import record_events
from tests.power.logbook_lines import async_messages
from tests.simulators.machine import MachineSimulator
from tests.simulators.proxmox import ProxmoxSimulator

from .conftest import ENTRY_ID, guest_subentries, pve_data

WAKEONLAN = "/api2/json/nodes/pve2/wakeonlan"


async def turn(hass: HomeAssistant, service: str, entity_id: str) -> None:
    await hass.services.async_call(
        "switch", service, {ATTR_ENTITY_ID: entity_id}, blocking=True
    )
    await hass.async_block_till_done()


def kept_on(events: list[Event]) -> list[dict[str, Any]]:
    return [dict(e.data) for e in events if e.data["result"] == "kept_on"]


@pytest.fixture
async def pve2_machine(pve_sim: ProxmoxSimulator) -> AsyncIterator[MachineSimulator]:
    """pve2's hardware, off: the node is offline until its magic packet arrives."""
    machine = MachineSimulator(mac="52:54:00:00:00:02", boot_delay=0.05)
    await machine.start()
    pve_sim.attach_machine("pve2", machine)
    yield machine
    await machine.stop()


async def setup_entry(
    hass: HomeAssistant, sim: ProxmoxSimulator, **options: Any
) -> MockConfigEntry:
    entry = MockConfigEntry(
        domain=DOMAIN,
        title="homelab",
        unique_id="homelab",
        data=pve_data(sim),
        options={CONF_TIMEOUT: 5, **options},
        entry_id=ENTRY_ID,
        subentries_data=guest_subentries(),
    )
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    return entry


async def test_node_shutdown_stops_its_guests_first(
    hass: HomeAssistant, pve_sim: ProxmoxSimulator, init_pve: MockConfigEntry
) -> None:
    assert hass.states.get("switch.pve1").state == STATE_ON
    pve_sim.set_status(101, "running")  # not in WakeHub: goes down with the node
    events = record_events(hass, "wakehub_power")

    await turn(hass, "turn_off", "switch.pve1")

    assert not pve_sim.nodes["pve1"].online
    assert hass.states.get("switch.pve1").state == STATE_OFF
    assert hass.states.get("sensor.pve1_proxmox_status").state == "stopped"
    # docker (in WakeHub) was shut down cleanly before the node.
    assert pve_sim.count("POST", "/api2/json/nodes/pve1/qemu/100/status/shutdown") == 1
    assert pve_sim.count("POST", "/api2/json/nodes/pve1/status") == 1
    assert pve_sim.guests[100].status == pve_sim.guests[101].status == "stopped"
    requested = next(
        e.data
        for e in events
        if e.data["name"] == "pve1" and e.data["result"] == "requested"
    )
    assert requested["unmanaged"] == ["windows11"]
    # pve2 and its guests are untouched.
    assert pve_sim.nodes["pve2"].online
    assert pve_sim.guests[102].status == "running"


async def test_node_reboot_comes_back(
    hass: HomeAssistant, pve_sim: ProxmoxSimulator, init_pve: MockConfigEntry
) -> None:
    boot = pve_sim.nodes["pve2"].boot_time
    pve_sim.node_reboot_delay = 0.6  # down long enough for a probe to see it
    await hass.services.async_call(
        "button", "press", {ATTR_ENTITY_ID: "button.pve2_reboot"}, blocking=True
    )
    await hass.async_block_till_done()

    assert pve_sim.count("POST", "/api2/json/nodes/pve2/status") == 1
    assert pve_sim.nodes["pve2"].online
    assert pve_sim.nodes["pve2"].boot_time > boot
    assert pve_sim.guests[102].status == "stopped"  # a reboot stops the guests
    assert hass.states.get("switch.pve2").state == STATE_ON


async def test_wake_through_a_peer(
    hass: HomeAssistant,
    pve_sim: ProxmoxSimulator,
    pve2_machine: MachineSimulator,
    init_pve: MockConfigEntry,
) -> None:
    """pve1 sends pve2's magic packet: it reaches pve2's machine, which boots."""
    assert hass.states.get("switch.pve2").state == STATE_OFF

    await turn(hass, "turn_on", "switch.pve2")

    assert pve2_machine.packets == [pve2_machine.expected_packet]
    assert pve2_machine.powered
    assert pve_sim.wol_sent == [("pve2", "52:54:00:00:00:02")]
    assert pve_sim.count("POST", WAKEONLAN) == 1
    assert hass.states.get("switch.pve2").state == STATE_ON
    assert hass.states.get("sensor.pve2_proxmox_status").state == "running"


async def test_wake_refused_when_no_other_node_runs(
    hass: HomeAssistant,
    pve_sim: ProxmoxSimulator,
    pve2_machine: MachineSimulator,
    init_pve: MockConfigEntry,
) -> None:
    pve_sim.set_node_online("pve1", False)

    with pytest.raises(HomeAssistantError) as err:
        await turn(hass, "turn_on", "switch.pve2")

    assert err.value.translation_key == "proxmox_no_peer"
    assert err.value.translation_placeholders == {"name": "pve2", "cluster": "homelab"}
    assert str(err.value).startswith("No other node of homelab is running to wake pve2")
    assert pve_sim.count("POST", WAKEONLAN) == 0
    assert pve2_machine.packets == []


async def test_wake_refused_without_a_wakeonlan_mac(
    hass: HomeAssistant, pve_sim: ProxmoxSimulator, init_pve: MockConfigEntry
) -> None:
    machine = MachineSimulator(mac="52:54:00:00:00:02")
    await machine.start()
    try:
        pve_sim.attach_machine("pve2", machine, configure_mac=False)
        await init_pve.runtime_data.coordinator.async_refresh()
        with pytest.raises(HomeAssistantError) as err:
            await turn(hass, "turn_on", "switch.pve2")
    finally:
        await machine.stop()

    assert err.value.translation_key == "proxmox_wake_failed"
    assert err.value.translation_placeholders == {
        "name": "pve2",
        "cluster": "homelab",
        "message": "No wake on LAN MAC address defined for 'pve2'!",
    }
    assert "pvenode config set --wakeonlan" in str(err.value)
    assert machine.packets == []


async def test_wake_impossible_when_the_cluster_does_not_answer(
    hass: HomeAssistant,
) -> None:
    """A standalone host that is off serves no API: nothing can send its packet."""
    sim = ProxmoxSimulator(
        cluster_name=None, node_names=("pve",), stop_delay=0.02, task_delay=0.02
    )
    await sim.start()
    for guest in sim.guests.values():
        guest.node, guest.lock = "pve", None
    entry = await setup_entry(hass, sim)
    try:
        await turn(hass, "turn_off", "switch.pve")
        assert not sim.nodes["pve"].online
        sim.inject_reset(count=None)  # the host is off: its API with it

        with pytest.raises(HomeAssistantError) as err:
            await hass.services.async_call(
                DOMAIN, "start", {ATTR_ENTITY_ID: "switch.pve"}, blocking=True
            )
        assert err.value.translation_key == "proxmox_wake_unreachable"
        assert err.value.translation_placeholders["name"] == "pve"
        assert str(err.value).startswith("pve cannot be woken through homelab")
        assert sim.count("POST", "/api2/json/nodes/pve/wakeonlan") == 0
    finally:
        await hass.config_entries.async_unload(entry.entry_id)
        await sim.stop()
    assert sim.violations == []


async def test_starting_a_guest_wakes_its_node_through_a_peer_first(
    hass: HomeAssistant,
    pve_sim: ProxmoxSimulator,
    pve2_machine: MachineSimulator,
    init_pve: MockConfigEntry,
) -> None:
    """pihole's node pve2 is off and has no machine in WakeHub: the cascade
    wakes it through pve1, then starts pihole."""
    assert hass.states.get("switch.pihole").state == STATE_OFF
    events = record_events(hass, "wakehub_power")

    await turn(hass, "turn_on", "switch.pihole")

    assert pve2_machine.packets == [pve2_machine.expected_packet]
    assert pve_sim.guests[102].status == "running"
    assert hass.states.get("switch.pve2").state == STATE_ON
    assert hass.states.get("switch.pihole").state == STATE_ON
    steps = [
        (e.data["name"], e.data["step"], e.data["result"])
        for e in events
        if e.data["result"] in ("waiting", "requested", "done")
    ]
    assert steps.index(("pihole", "dependencies", "waiting")) < steps.index(
        ("pve2", "command", "requested")
    )
    assert steps.index(("pve2", None, "done")) < steps.index(
        ("pihole", "command", "requested")
    )


async def test_a_node_is_kept_on_by_default(
    hass: HomeAssistant, pve_sim: ProxmoxSimulator, init_pve: MockConfigEntry
) -> None:
    """Turning off a guest does not power off a node nobody linked to a machine."""
    events = record_events(hass, "wakehub_power")
    await turn(hass, "turn_off", "switch.docker")
    assert pve_sim.guests[100].status == "stopped"
    assert pve_sim.nodes["pve1"].online
    [kept] = kept_on(events)
    assert (kept["name"], kept["reason"]) == ("pve1", "not_stopped_with_dependents")


async def test_an_unmanaged_guest_keeps_its_node_on(
    hass: HomeAssistant, pve_sim: ProxmoxSimulator
) -> None:
    """windows11 runs on pve1 and is not in WakeHub: stopping docker, the last
    guest WakeHub runs there, must not release the node."""
    await setup_entry(hass, pve_sim, **{CONF_STOP_WITH_DEPENDENTS: True})
    pve_sim.set_status(101, "running")
    events = record_events(hass, "wakehub_power")

    await turn(hass, "turn_off", "switch.docker")

    assert pve_sim.guests[100].status == "stopped"
    assert pve_sim.guests[101].status == "running"
    assert pve_sim.nodes["pve1"].online
    assert pve_sim.count("POST", "/api2/json/nodes/pve1/status") == 0
    [kept] = kept_on(events)
    assert kept["name"] == "pve1"
    assert kept["unmanaged"] == ["windows11"]
    describe = await async_messages(hass)
    assert describe(kept) == "Kept on: still used by windows11 (not in WakeHub)"

    # Once nothing runs there, the same stop releases the node.
    pve_sim.set_status(101, "stopped")
    await turn(hass, "turn_off", "switch.docker")
    assert not pve_sim.nodes["pve1"].online
    assert pve_sim.count("POST", "/api2/json/nodes/pve1/status") == 1


async def test_a_managed_guest_keeps_its_node_on(
    hass: HomeAssistant, pve_sim: ProxmoxSimulator
) -> None:
    """pihole and homeassistant both run on pve2: stopping one keeps the node."""
    await setup_entry(hass, pve_sim, **{CONF_STOP_WITH_DEPENDENTS: True})
    events = record_events(hass, "wakehub_power")
    await turn(hass, "turn_off", "switch.pihole")
    assert pve_sim.nodes["pve2"].online
    [kept] = kept_on(events)
    assert kept["managed"] == ["homeassistant"]


async def test_a_guest_depends_on_its_node_without_a_machine(
    hass: HomeAssistant, init_pve: MockConfigEntry
) -> None:
    resources = {r.key: r for r in init_pve.runtime_data.resources}
    graph = async_get_power_manager(hass).graph
    assert graph.dependencies(resources["homelab_102"]) == [resources["homelab_pve2"]]
    assert graph.dependencies(resources["homelab_pve2"]) == []


async def test_a_node_linked_to_a_machine_loses_its_own_power(
    hass: HomeAssistant, init_pve: MockConfigEntry
) -> None:
    """Linked, the node is powered by its machine: its switch and buttons go,
    its figures stay (with their ids)."""
    registry = er.async_get(hass)
    assert registry.async_get("switch.pve1") is not None
    hass.config_entries.async_update_entry(
        init_pve, options={**init_pve.options, CONF_HOST_LINKS: {"pve1": "0"}}
    )
    await hass.config_entries.async_reload(init_pve.entry_id)
    await hass.async_block_till_done()

    for entity_id in (
        "switch.pve1",
        "switch.pve1_auto_shutdown",
        "button.pve1_reboot",
        "sensor.pve1_progress",
    ):
        assert registry.async_get(entity_id) is None, entity_id
    assert registry.async_get("sensor.pve1_proxmox_status") is not None
    assert registry.async_get("switch.pve2") is not None


async def test_a_broken_wake_answer_is_not_blamed_on_the_mac(
    hass: HomeAssistant,
    pve_sim: ProxmoxSimulator,
    pve2_machine: MachineSimulator,
    init_pve: MockConfigEntry,
) -> None:
    """Something other than Proxmox answered (a proxy's page): no MAC advice."""
    pve_sim.inject(
        "/wakeonlan", body="<html>proxy error</html>", content_type="text/html"
    )
    with pytest.raises(HomeAssistantError) as err:
        await turn(hass, "turn_on", "switch.pve2")
    assert err.value.translation_key == "invalid_response"
    assert pve2_machine.packets == []
