"""Stop methods of qemu guests: shut down, hibernate (suspend to disk) or pause.

Each is followed to its end on the simulator, through the power switch, the
`wakehub.start` action and idle auto-shutdown; the wake uses what Proxmox reports
(a paused VM is resumed, a hibernated one started), and the guest's node is only
released when nothing is left in its RAM.
"""

from __future__ import annotations

from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.const import ATTR_ENTITY_ID, STATE_OFF, STATE_ON
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType, InvalidData
from homeassistant.exceptions import HomeAssistantError
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.wakehub.api.errors import ApiError, Conflict, TaskFailed
from custom_components.wakehub.api.proxmox import ActionNotSupported, GuestRef
from custom_components.wakehub.const import (
    CONF_IDLE_TIMEOUT,
    CONF_TIMEOUT,
    DOMAIN,
    EVENT_POWER,
)
from custom_components.wakehub.kinds.proxmox.const import CONF_STOP_METHOD
from custom_components.wakehub.kinds.proxmox.guest import ProxmoxGuestResource
from tests.conftest import record_events
from tests.power.conftest import (  # the lab: a node machine under the cluster
    NODE_SWITCH,
    Lab,
    lab,  # noqa: F401 (a fixture, found by its name)
)
from tests.power.test_idle import clocked, run_clock, tick
from tests.simulators.proxmox import ProxmoxSimulator

from .conftest import ENTRY_ID, guest_subentries, pve_data

PATH = "/api2/json/nodes/pve1/qemu/100/status/"
SWITCH = "switch.docker"
STATUS = "sensor.docker_status"


def _entry(
    hass: HomeAssistant, sim: ProxmoxSimulator, **settings: Any
) -> MockConfigEntry:
    """The cluster entry; `settings` go into every guest subentry's data."""
    subentries = guest_subentries()
    for subentry in subentries:
        subentry["data"] |= settings
    entry = MockConfigEntry(
        domain=DOMAIN,
        title="homelab",
        unique_id="homelab",
        data=pve_data(sim),
        options={CONF_TIMEOUT: 5},
        entry_id=ENTRY_ID,
        subentries_data=subentries,
    )
    entry.add_to_hass(hass)
    return entry


async def _setup(
    hass: HomeAssistant, sim: ProxmoxSimulator, **settings: Any
) -> MockConfigEntry:
    entry = _entry(hass, sim, **settings)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    return entry


async def _switch(hass: HomeAssistant, service: str, entity_id: str = SWITCH) -> None:
    await hass.services.async_call(
        "switch", service, {ATTR_ENTITY_ID: entity_id}, blocking=True
    )
    await hass.async_block_till_done()


def _guest(entry: MockConfigEntry, vmid: int) -> ProxmoxGuestResource:
    resource = next(
        r
        for r in entry.runtime_data.resources
        if isinstance(r, ProxmoxGuestResource) and r.vmid == vmid
    )
    assert isinstance(resource, ProxmoxGuestResource)
    return resource


def _posts(sim: ProxmoxSimulator) -> list[str]:
    """The power actions sent to VM 100, in order."""
    return [
        r.path.removeprefix(PATH)
        for r in sim.requests
        if r.method == "POST" and r.path.startswith(PATH)
    ]


# -- through the power switch --------------------------------------------------------


async def test_hibernate_then_wake(
    hass: HomeAssistant, pve_sim: ProxmoxSimulator
) -> None:
    """Off saves the RAM to disk; on starts the VM, which Proxmox restores."""
    await _setup(hass, pve_sim, **{CONF_STOP_METHOD: "hibernate"})
    pve_sim.requests.clear()

    await _switch(hass, "turn_off")
    guest = pve_sim.guests[100]
    assert (guest.status, guest.lock) == ("stopped", "suspended")
    assert _posts(pve_sim) == ["suspend"]
    assert hass.states.get(SWITCH).state == STATE_OFF
    status = hass.states.get(STATUS)
    assert status.state == "paused"
    assert status.attributes["lock"] == "suspended"

    await _switch(hass, "turn_on")
    assert (guest.status, guest.lock) == ("running", None)
    assert _posts(pve_sim) == ["suspend", "start"]
    assert hass.states.get(SWITCH).state == STATE_ON
    assert hass.states.get(STATUS).state == "running"


@pytest.mark.usefixtures("entity_registry_enabled_by_default")
async def test_pause_then_resume(
    hass: HomeAssistant, pve_sim: ProxmoxSimulator
) -> None:
    """Off pauses the VM in RAM; on resumes it (a start would be refused)."""
    await _setup(hass, pve_sim, **{CONF_STOP_METHOD: "pause"})
    before = hass.states.get("sensor.docker_booted").state
    pve_sim.requests.clear()

    await _switch(hass, "turn_off")
    guest = pve_sim.guests[100]
    assert (guest.status, guest.paused, guest.lock) == ("running", True, None)
    assert _posts(pve_sim) == ["suspend"]
    assert hass.states.get(SWITCH).state == STATE_OFF
    assert hass.states.get(STATUS).state == "paused"
    assert hass.states.get(STATUS).attributes["lock"] is None
    # Paused, it did not reboot: its boot time stays.
    assert hass.states.get("sensor.docker_booted").state == before

    await _switch(hass, "turn_on")
    assert (guest.status, guest.paused) == ("running", False)
    assert _posts(pve_sim) == ["suspend", "resume"]
    assert hass.states.get(SWITCH).state == STATE_ON
    assert hass.states.get(STATUS).state == "running"


@pytest.mark.parametrize("method", ["hibernate", "pause"])
async def test_wakehub_start_wakes(
    hass: HomeAssistant, pve_sim: ProxmoxSimulator, method: str
) -> None:
    """`wakehub.stop` and `wakehub.start` take the same paths as the switch."""
    await _setup(hass, pve_sim, **{CONF_STOP_METHOD: method})
    target = {ATTR_ENTITY_ID: SWITCH}
    await hass.services.async_call(DOMAIN, "stop", target, blocking=True)
    assert hass.states.get(SWITCH).state == STATE_OFF
    await hass.services.async_call(DOMAIN, "start", target, blocking=True)
    assert hass.states.get(SWITCH).state == STATE_ON
    assert _posts(pve_sim)[-1] == ("start" if method == "hibernate" else "resume")


async def test_paused_by_hand_wakes_and_is_not_stopped_again(
    hass: HomeAssistant, pve_sim: ProxmoxSimulator
) -> None:
    """What Proxmox reports decides the wake, not the stop method: a VM paused
    outside WakeHub is resumed; turning it off again sends nothing (Proxmox
    refuses to shut down a paused VM)."""
    entry = await _setup(hass, pve_sim)
    assert _guest(entry, 100).stop_method == "shutdown"
    pve_sim.guests[100].paused = True
    await entry.runtime_data.coordinator.async_refresh()
    assert hass.states.get(SWITCH).state == STATE_OFF
    assert hass.states.get(STATUS).state == "paused"
    pve_sim.requests.clear()

    events = record_events(hass, EVENT_POWER)
    await _switch(hass, "turn_off")
    assert _posts(pve_sim) == []
    # The guest itself was already stopped (its node, powered through the
    # cluster, is then kept on: nodes are not released by default).
    own = [e.data for e in events if e.data["resource"] == _guest(entry, 100).key]
    assert own[-1]["reason"] == "already_stopped"

    await _switch(hass, "turn_on")
    assert _posts(pve_sim) == ["resume"]
    assert hass.states.get(SWITCH).state == STATE_ON


async def test_hibernating_shows_paused_while_it_runs(
    hass: HomeAssistant, pve_sim: ProxmoxSimulator
) -> None:
    """While its RAM is written (lock `suspending`) the VM still runs."""
    entry = await _setup(hass, pve_sim)
    pve_sim.set_locked(100, "suspending")
    await entry.runtime_data.coordinator.async_refresh()
    assert hass.states.get(STATUS).state == "paused"
    assert hass.states.get(STATUS).attributes["lock"] == "suspending"
    assert hass.states.get(SWITCH).state == STATE_ON


async def test_lxc_always_shuts_down(
    hass: HomeAssistant, pve_sim: ProxmoxSimulator
) -> None:
    """A stop method stored for a container anyway (by hand) is not used."""
    entry = await _setup(hass, pve_sim, **{CONF_STOP_METHOD: "hibernate"})
    assert _guest(entry, 102).stop_method == "shutdown"
    assert _guest(entry, 100).stop_method == "hibernate"
    await _switch(hass, "turn_off", "switch.pihole")
    assert pve_sim.count("POST", "/api2/json/nodes/pve2/lxc/102/status/shutdown") == 1
    assert pve_sim.count("POST", "/api2/json/nodes/pve2/lxc/102/status/suspend") == 0
    assert pve_sim.guests[102].status == "stopped"


async def test_an_unknown_stop_method_shuts_down(
    hass: HomeAssistant, pve_sim: ProxmoxSimulator
) -> None:
    entry = await _setup(hass, pve_sim, **{CONF_STOP_METHOD: "evaporate"})
    assert _guest(entry, 100).stop_method == "shutdown"


async def test_client_refuses_lxc_hibernate_and_pause(
    hass: HomeAssistant, pve_sim: ProxmoxSimulator
) -> None:
    """Belt and braces: the client itself never sends them for a container."""
    entry = await _setup(hass, pve_sim)
    client = entry.runtime_data.coordinator.client
    ref = _guest(entry, 102).ref
    pve_sim.requests.clear()
    with pytest.raises(ActionNotSupported, match="hibernated"):
        await client.hibernate(ref)
    with pytest.raises(ActionNotSupported, match="paused"):
        await client.pause(ref)
    assert pve_sim.count("POST") == 0


async def test_hibernation_that_outlives_the_timeout(
    hass: HomeAssistant, pve_sim: ProxmoxSimulator
) -> None:
    """Writing the RAM takes longer than the timeout: the task goes on in Proxmox,
    and the message does not suggest a force stop mid-save."""
    entry = _entry(hass, pve_sim, **{CONF_STOP_METHOD: "hibernate"})
    hass.config_entries.async_update_entry(entry, options={CONF_TIMEOUT: 0.3})
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    pve_sim.hibernate_delay = 30
    with pytest.raises(HomeAssistantError) as err:
        await _switch(hass, "turn_off")
    assert err.value.translation_key == "proxmox_task_timeout"
    assert pve_sim.guests[100].lock == "suspending"


# -- idle auto-shutdown ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "wake"), [("hibernate", "start"), ("pause", "resume")]
)
async def test_idle_auto_shutdown_uses_the_stop_method(
    hass: HomeAssistant,
    pve_sim: ProxmoxSimulator,
    freezer: FrozenDateTimeFactory,
    method: str,
    wake: str,
) -> None:
    await _setup(hass, pve_sim, **{CONF_STOP_METHOD: method, CONF_IDLE_TIMEOUT: 30})
    await _switch(hass, "turn_on", "switch.docker_auto_shutdown")
    pve_sim.requests.clear()

    await tick(hass, freezer, 29)
    assert hass.states.get(SWITCH).state == STATE_ON
    await tick(hass, freezer, 1.5)
    await run_clock(hass, freezer, lambda: hass.states.get(SWITCH).state == STATE_OFF)
    assert _posts(pve_sim) == ["suspend"]
    assert hass.states.get(STATUS).state == "paused"
    # Dormant, it is not idle any more: no new countdown.
    assert hass.states.get("sensor.docker_auto_shutdown_at").state == "unknown"

    await clocked(hass, freezer, _switch(hass, "turn_on"))
    assert _posts(pve_sim) == ["suspend", wake]
    assert hass.states.get(SWITCH).state == STATE_ON


# -- the node under it ----------------------------------------------------------------


async def test_a_paused_vm_keeps_its_node_a_hibernated_one_releases_it(
    hass: HomeAssistant,
    lab: Lab,  # noqa: F811 (the fixture imported above)
) -> None:
    """A paused VM lives in its node's RAM: a cascade stop keeps the node on.
    A hibernated VM is on disk: the node is released, and the next start wakes
    the node first, then restores the VM."""
    subentry = next(iter(lab.pve_entry.subentries.values()))

    def method(value: str) -> None:
        hass.config_entries.async_update_subentry(
            lab.pve_entry, subentry, data={**subentry.data, CONF_STOP_METHOD: value}
        )

    await _switch(hass, "turn_on")
    assert lab.node.powered

    method("pause")
    events = record_events(hass, EVENT_POWER)
    await _switch(hass, "turn_off")
    assert lab.pve.guests[100].paused
    assert lab.node.powered
    kept = [e.data for e in events if e.data["result"] == "kept_on"]
    assert kept
    assert kept[0]["name"] == "Node pve1"
    assert "docker" in kept[0]["managed"]

    await _switch(hass, "turn_on")
    assert not lab.pve.guests[100].paused

    method("hibernate")
    await _switch(hass, "turn_off")
    assert (lab.pve.guests[100].status, lab.pve.guests[100].lock) == (
        "stopped",
        "suspended",
    )
    assert not lab.node.powered
    assert hass.states.get(NODE_SWITCH).state == STATE_OFF

    await _switch(hass, "turn_on")
    assert lab.node.powered
    assert (lab.pve.guests[100].status, lab.pve.guests[100].lock) == ("running", None)
    assert hass.states.get(SWITCH).state == STATE_ON


# -- the setting in the guest's reconfigure form ------------------------------------


async def _reconfigure(
    hass: HomeAssistant, entry: MockConfigEntry, subentry_id: str
) -> Any:
    return await hass.config_entries.subentries.async_init(
        (entry.entry_id, "guest"),
        context={"source": "reconfigure", "subentry_id": subentry_id},
    )


async def test_form_offers_the_stop_method_for_a_vm(
    hass: HomeAssistant, pve_sim: ProxmoxSimulator
) -> None:
    entry = await _setup(hass, pve_sim)
    result = await _reconfigure(hass, entry, "SUB100")
    assert result["type"] is FlowResultType.FORM
    assert CONF_STOP_METHOD in result["data_schema"].schema
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], {CONF_STOP_METHOD: "hibernate", CONF_IDLE_TIMEOUT: 20}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    await hass.async_block_till_done()
    data = entry.subentries["SUB100"].data
    assert (data[CONF_STOP_METHOD], data[CONF_IDLE_TIMEOUT]) == ("hibernate", 20)
    assert data["vmid"] == 100  # the guest's own keys are kept
    assert _guest(entry, 100).stop_method == "hibernate"

    # Shown again with the stored choice; an unknown one is refused.
    result = await _reconfigure(hass, entry, "SUB100")
    schema = result["data_schema"].schema
    key = next(k for k in schema if k == CONF_STOP_METHOD)
    assert key.description == {"suggested_value": "hibernate"}
    with pytest.raises(InvalidData):
        await hass.config_entries.subentries.async_configure(
            result["flow_id"], {CONF_STOP_METHOD: "evaporate"}
        )


async def test_form_refuses_the_stop_method_for_a_container(
    hass: HomeAssistant, pve_sim: ProxmoxSimulator
) -> None:
    """LXC containers cannot hibernate nor pause: the field is not offered, and a
    value sent anyway is refused."""
    entry = await _setup(hass, pve_sim)
    result = await _reconfigure(hass, entry, "SUB102")
    assert result["type"] is FlowResultType.FORM
    assert CONF_STOP_METHOD not in result["data_schema"].schema
    with pytest.raises(InvalidData):
        await hass.config_entries.subentries.async_configure(
            result["flow_id"], {CONF_STOP_METHOD: "pause"}
        )
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], {CONF_IDLE_TIMEOUT: 20}
    )
    assert result["type"] is FlowResultType.ABORT
    await hass.async_block_till_done()
    assert CONF_STOP_METHOD not in entry.subentries["SUB102"].data


# -- the simulator behaves as Proxmox, and is held to the API's contract -------------


async def test_simulator_suspend_and_resume_rules(
    hass: HomeAssistant, pve_sim: ProxmoxSimulator
) -> None:
    """A paused VM refuses start and shutdown; a hibernated one refuses all but a
    start or resume (which restore it); nothing is suspended that does not run."""
    entry = await _setup(hass, pve_sim)
    client = entry.runtime_data.coordinator.client
    vm = _guest(entry, 100).ref
    stopped = GuestRef("pve1", "qemu", 101)

    async def run(upid: str) -> None:
        await client.wait_for_task("pve1", upid, timeout=5, interval=0.01)

    await run(await client.pause(vm))
    with pytest.raises(TaskFailed, match="already running"):
        await run(await client.start(vm))
    with pytest.raises(ApiError, match="VM is paused - cannot shutdown"):
        await client.shutdown(vm)
    await run(await client.resume(vm))

    await run(await client.hibernate(vm))
    with pytest.raises(Conflict, match=r"VM is locked \(suspended\)"):
        await client.shutdown(vm)
    await run(await client.resume(vm))  # Proxmox lets resume restore it too
    assert (pve_sim.guests[100].status, pve_sim.guests[100].lock) == ("running", None)

    with pytest.raises(ApiError, match="VM 101 not running"):
        await client.hibernate(stopped)


async def test_simulator_flags_a_bad_suspend_request(
    hass: HomeAssistant, pve_sim: ProxmoxSimulator
) -> None:
    """The contract check sees the form WakeHub sends: a malformed one is caught."""
    entry = await _setup(hass, pve_sim)
    client = entry.runtime_data.coordinator.client
    await client._request("POST", f"{PATH[10:]}suspend", form={"todisk": "maybe"})
    assert any("todisk" in v for v in pve_sim.violations), pve_sim.violations
    pve_sim.violations.clear()
    # What WakeHub itself sends passes (the fixture asserts no violation at the end).
    await client.resume(_guest(entry, 100).ref)


async def test_hibernate_needs_the_disk_privilege(
    hass: HomeAssistant, pve_sim: ProxmoxSimulator
) -> None:
    """Proxmox also wants VM.Config.Disk to write the RAM image: the refusal
    names the missing privilege."""
    pve_sim.add_token(
        "root@pam",
        "wakehub",
        "limited-secret",
        privileges=frozenset({"VM.Audit", "VM.PowerMgmt"}),
    )
    entry = _entry(hass, pve_sim, **{CONF_STOP_METHOD: "hibernate"})
    hass.config_entries.async_update_entry(
        entry, data={**entry.data, "token_secret": "limited-secret"}
    )
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    with pytest.raises(HomeAssistantError) as err:
        await _switch(hass, "turn_off")
    assert err.value.translation_key == "permission_denied"
    assert "VM.Config.Disk" in str(err.value.translation_placeholders)
    assert pve_sim.guests[100].status == "running"


async def test_a_refused_hibernation_reports_proxmox_text(
    hass: HomeAssistant, pve_sim: ProxmoxSimulator
) -> None:
    """Some VMs cannot be hibernated (a passed-through PCI device): Proxmox's
    words reach the user and the VM stays on."""
    await _setup(hass, pve_sim, **{CONF_STOP_METHOD: "hibernate"})
    pve_sim.fail_next("suspend", "cannot suspend VM with PCI passthrough")
    with pytest.raises(HomeAssistantError) as err:
        await _switch(hass, "turn_off")
    assert err.value.translation_key == "task_failed"
    assert err.value.translation_placeholders["message"] == (
        "cannot suspend VM with PCI passthrough"
    )
    assert pve_sim.guests[100].status == "running"
    assert hass.states.get(SWITCH).state == STATE_ON
