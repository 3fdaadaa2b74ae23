"""Power, buttons and snapshot actions on Proxmox guests, followed to the task's end."""

from __future__ import annotations

from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers import entity_registry as er
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.wakehub.const import DOMAIN
from custom_components.wakehub.kinds.proxmox.guest import ProxmoxGuestResource
from tests.simulators.proxmox import ProxmoxSimulator

from .conftest import ENTRY_ID, guest_subentries, pve_data


def _guest(entry: MockConfigEntry, key: str) -> ProxmoxGuestResource:
    resource = next(r for r in entry.runtime_data.resources if r.key == key)
    assert isinstance(resource, ProxmoxGuestResource)
    return resource


async def _switch(hass: HomeAssistant, service: str, entity_id: str) -> None:
    await hass.services.async_call(
        "switch", service, {"entity_id": entity_id}, blocking=True
    )


async def test_shutdown_then_start(
    hass: HomeAssistant, pve_sim: ProxmoxSimulator, init_pve: MockConfigEntry
) -> None:
    pve_sim.requests.clear()
    await _switch(hass, "turn_off", "switch.docker")
    assert pve_sim.guests[100].status == "stopped"
    assert hass.states.get("switch.docker").state == "off"
    assert hass.states.get("sensor.docker_status").state == "stopped"
    assert pve_sim.count("POST", "/api2/json/nodes/pve1/qemu/100/status/shutdown") == 1
    assert pve_sim.count("GET", "/api2/json/nodes/pve1/tasks/") >= 1

    await _switch(hass, "turn_on", "switch.docker")
    assert pve_sim.guests[100].status == "running"
    assert hass.states.get("switch.docker").state == "on"


async def test_locked_guest_reports_proxmox_text(
    hass: HomeAssistant, pve_sim: ProxmoxSimulator, init_pve: MockConfigEntry
) -> None:
    """The backup lock makes the shutdown task fail; Proxmox's words reach the user."""
    assert hass.states.get("switch.homeassistant").state == "on"
    with pytest.raises(HomeAssistantError) as err:
        await _switch(hass, "turn_off", "switch.homeassistant")
    assert err.value.translation_key == "task_failed"
    assert err.value.translation_placeholders == {
        "name": "homeassistant",
        "message": "VM is locked (backup)",
    }
    assert pve_sim.guests[104].status == "running"
    assert hass.states.get("sensor.homeassistant_status").state == "backuping"


async def test_start_failure(
    hass: HomeAssistant, pve_sim: ProxmoxSimulator, init_pve: MockConfigEntry
) -> None:
    pve_sim.set_status(102, "stopped")
    await init_pve.runtime_data.coordinator.async_refresh()
    pve_sim.fail_next("start", "startup for container '102' failed")
    with pytest.raises(HomeAssistantError) as err:
        await _switch(hass, "turn_on", "switch.pihole")
    assert err.value.translation_key == "task_failed"
    assert err.value.translation_placeholders["message"] == (
        "startup for container '102' failed"
    )
    assert hass.states.get("switch.pihole").state == "off"
    assert hass.states.get("sensor.pihole_status").state == "stopped"


async def test_shutdown_that_does_not_finish(
    hass: HomeAssistant, pve_sim: ProxmoxSimulator, pve_entry: MockConfigEntry
) -> None:
    """The shutdown task outlives the timeout: the message suggests force stop."""
    hass.config_entries.async_update_entry(pve_entry, options={"timeout": 0.3})
    assert await hass.config_entries.async_setup(pve_entry.entry_id)
    await hass.async_block_till_done()
    pve_sim.stop_delay = 30
    with pytest.raises(HomeAssistantError) as err:
        await _switch(hass, "turn_off", "switch.docker")
    assert err.value.translation_key == "stop_timeout"
    assert err.value.translation_placeholders == {"name": "docker", "timeout": "0"}
    assert "force stop" in str(err.value)
    assert hass.states.get("switch.docker").state == "on"


async def test_reboot(
    hass: HomeAssistant, pve_sim: ProxmoxSimulator, pve_sim_entry_fast: MockConfigEntry
) -> None:
    before = pve_sim.guests[100].started_at
    await hass.services.async_call(
        "button", "press", {"entity_id": "button.docker_reboot"}, blocking=True
    )
    assert pve_sim.count("POST", "/api2/json/nodes/pve1/qemu/100/status/reboot") == 1
    assert pve_sim.guests[100].started_at != before
    await hass.services.async_call(
        DOMAIN, "reboot", {"entity_id": "switch.pihole"}, blocking=True
    )
    assert pve_sim.count("POST", "/api2/json/nodes/pve2/lxc/102/status/reboot") == 1


@pytest.fixture
async def pve_sim_entry_fast(
    hass: HomeAssistant, pve_sim: ProxmoxSimulator
) -> MockConfigEntry:
    """An entry whose reboots wait at most 0.5 s to see the guest go down."""
    entry = MockConfigEntry(
        domain=DOMAIN,
        title="homelab",
        unique_id="homelab",
        data=pve_data(pve_sim),
        options={"timeout": 0.5},
        entry_id=ENTRY_ID,
        subentries_data=guest_subentries([100, 102]),
    )
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    return entry


async def test_force_stop_and_reset_buttons(
    hass: HomeAssistant,
    pve_sim: ProxmoxSimulator,
    init_pve: MockConfigEntry,
    entity_registry: er.EntityRegistry,
) -> None:
    """Disabled by default; reset only for qemu VMs, not for LXC containers."""
    ids = {
        key: entity_registry.async_get_entity_id("button", DOMAIN, f"homelab_{key}")
        for key in (
            "100_force_stop",
            "100_reset",
            "102_force_stop",
            "102_reset",
            "104_reset",
        )
    }
    assert ids["102_reset"] is None
    for entity_id in filter(None, ids.values()):
        assert entity_registry.async_get(entity_id).disabled_by is not None
        entity_registry.async_update_entity(entity_id, disabled_by=None)
    await hass.config_entries.async_reload(init_pve.entry_id)
    await hass.async_block_till_done()

    await hass.services.async_call(
        "button", "press", {"entity_id": "button.docker_reset"}, blocking=True
    )
    assert pve_sim.count("POST", "/api2/json/nodes/pve1/qemu/100/status/reset") == 1
    await hass.services.async_call(
        "button", "press", {"entity_id": "button.pihole_force_stop"}, blocking=True
    )
    assert pve_sim.guests[102].status == "stopped"  # the task was followed to its end
    await init_pve.runtime_data.coordinator.async_refresh()
    assert hass.states.get("switch.pihole").state == "off"

    # Reset refused by Proxmox on the locked VM (an immediate 500, not a task).
    with pytest.raises(HomeAssistantError) as err:
        await hass.services.async_call(
            "button",
            "press",
            {"entity_id": "button.homeassistant_reset"},
            blocking=True,
        )
    assert err.value.translation_key == "conflict"
    assert "VM is locked (backup)" in err.value.translation_placeholders["message"]

    # The client refuses an LXC reset before sending anything.
    with pytest.raises(ServiceValidationError) as err:
        await _guest(init_pve, "homelab_102").async_reset()
    assert err.value.translation_key == "proxmox_action_not_supported"


async def test_snapshots(
    hass: HomeAssistant, pve_sim: ProxmoxSimulator, init_pve: MockConfigEntry
) -> None:
    target = {"entity_id": "switch.docker"}
    await hass.services.async_call(
        DOMAIN,
        "create_snapshot",
        {**target, "name": "before_update", "description": "pre", "include_ram": True},
        blocking=True,
    )
    await hass.services.async_call(
        DOMAIN, "create_snapshot", {**target, "name": "second"}, blocking=True
    )
    response = await hass.services.async_call(
        DOMAIN, "list_snapshots", target, blocking=True, return_response=True
    )
    snapshots = response["switch.docker"]["snapshots"]
    assert [
        (s["name"], s["description"], s["parent"], s["include_ram"]) for s in snapshots
    ] == [
        ("before_update", "pre", None, True),
        ("second", None, "before_update", False),
    ]
    assert all(s["time"] for s in snapshots)

    await hass.services.async_call(
        DOMAIN, "restore_snapshot", {**target, "name": "before_update"}, blocking=True
    )
    await hass.services.async_call(
        DOMAIN, "delete_snapshot", {**target, "name": "second"}, blocking=True
    )
    assert list(pve_sim.guests[100].snapshots) == ["before_update"]

    with pytest.raises(HomeAssistantError) as err:
        await hass.services.async_call(
            DOMAIN, "restore_snapshot", {**target, "name": "nosuch"}, blocking=True
        )
    assert err.value.translation_key == "not_found"

    pve_sim.fail_next("snapshot", "snapshot feature is not available")
    with pytest.raises(HomeAssistantError) as err:
        await hass.services.async_call(
            DOMAIN, "create_snapshot", {**target, "name": "third"}, blocking=True
        )
    assert err.value.translation_key == "task_failed"
    assert err.value.translation_placeholders["message"] == (
        "snapshot feature is not available"
    )


@pytest.mark.parametrize(
    ("data", "key"),
    [
        ({"name": "1-starts-with-a-digit"}, "proxmox_invalid_snapshot_name"),
        ({"name": "current"}, "proxmox_invalid_snapshot_name"),
        ({}, "proxmox_invalid_snapshot_name"),
        ({"name": "fine", "include_ram": True}, "proxmox_lxc_no_ram"),
    ],
)
async def test_snapshot_input_refused(
    hass: HomeAssistant,
    pve_sim: ProxmoxSimulator,
    init_pve: MockConfigEntry,
    data: dict[str, object],
    key: str,
) -> None:
    pve_sim.requests.clear()
    with pytest.raises(ServiceValidationError) as err:
        await hass.services.async_call(
            DOMAIN,
            "create_snapshot",
            {"entity_id": "switch.pihole", **data},
            blocking=True,
        )
    assert err.value.translation_key == key
    assert pve_sim.count(path_prefix="/api2/json/nodes") == 0


async def test_snapshot_task_timeout(
    hass: HomeAssistant, pve_sim: ProxmoxSimulator, pve_sim_entry_fast: MockConfigEntry
) -> None:
    pve_sim.task_delay = 30
    with pytest.raises(HomeAssistantError) as err:
        await hass.services.async_call(
            DOMAIN,
            "create_snapshot",
            {"entity_id": "switch.docker", "name": "slow"},
            blocking=True,
        )
    assert err.value.translation_key == "proxmox_task_timeout"
