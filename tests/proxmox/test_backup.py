"""wakehub.backup on Proxmox guests (vzdump followed to its end) and the
last-backup sensor read on its slow path."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from freezegun import freeze_time
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
import voluptuous as vol

from custom_components.wakehub.const import DOMAIN
from custom_components.wakehub.devices import entry_device
from custom_components.wakehub.kinds.proxmox.coordinator import ProxmoxCoordinator
from tests.simulators.proxmox import ALL_PRIVILEGES, ProxmoxSimulator

from .conftest import pve_data

VZDUMP_PVE1 = "/api2/json/nodes/pve1/vzdump"
TASKS_PVE1 = "/api2/json/nodes/pve1/tasks"


async def refresh_later(coordinator: Any, delay: timedelta) -> None:
    """A poll `delay` from now (nothing waits on a Proxmox task meanwhile, so
    freezing the clock for this one poll is safe)."""
    with freeze_time(dt_util.utcnow() + delay):
        await coordinator.async_refresh()


async def backup(hass: HomeAssistant, data: dict[str, Any]) -> None:
    await hass.services.async_call(DOMAIN, "backup", data, blocking=True)


def task_lists(sim: ProxmoxSimulator, vmid: int) -> int:
    """Backup task lists read for `vmid` (the last-backup sensor's request)."""
    return sum(
        1
        for r in sim.requests
        if r.method == "GET"
        and r.path.endswith("/tasks")
        and r.query.get("typefilter") == "vzdump"
        and r.query.get("vmid") == str(vmid)
    )


async def test_backup_follows_the_task(
    hass: HomeAssistant, pve_sim: ProxmoxSimulator, init_pve: MockConfigEntry
) -> None:
    pve_sim.requests.clear()
    await backup(
        hass,
        {
            "entity_id": "switch.docker",
            "storage": "local",
            "mode": "suspend",
            "compress": "zstd",
        },
    )
    assert pve_sim.count("POST", VZDUMP_PVE1) == 1
    task = next(t for t in pve_sim.tasks.values() if t.type == "vzdump")
    assert (task.id, task.running, task.exitstatus) == ("100", False, "OK")
    # The action returned only once Proxmox said the task stopped.
    assert pve_sim.count("GET", f"{TASKS_PVE1}/{task.upid}/status") >= 1
    assert pve_sim.guests[100].lock is None
    assert hass.states.get("sensor.docker_status").state == "running"


async def test_backup_of_a_container_with_defaults(
    hass: HomeAssistant, pve_sim: ProxmoxSimulator, init_pve: MockConfigEntry
) -> None:
    await backup(hass, {"entity_id": "switch.pihole", "storage": "local"})
    task = next(t for t in pve_sim.tasks.values() if t.type == "vzdump")
    assert (task.node, task.id, task.exitstatus) == ("pve2", "102", "OK")


@pytest.mark.parametrize(
    ("storage", "message"),
    [
        ("nas", "storage 'nas' does not exist"),
        ("local-lvm", "can't use storage 'local-lvm' for backups - wrong content type"),
    ],
)
async def test_backup_failure_in_proxmox_words(
    hass: HomeAssistant,
    pve_sim: ProxmoxSimulator,
    init_pve: MockConfigEntry,
    storage: str,
    message: str,
) -> None:
    with pytest.raises(HomeAssistantError) as err:
        await backup(hass, {"entity_id": "switch.docker", "storage": storage})
    assert err.value.translation_key == "task_failed"
    assert err.value.translation_placeholders == {"name": "docker", "message": message}
    # What the user reads in the UI.
    assert str(err.value) == f"docker: {message}"
    assert pve_sim.guests[100].lock is None


async def test_backup_of_a_locked_guest(
    hass: HomeAssistant, pve_sim: ProxmoxSimulator, init_pve: MockConfigEntry
) -> None:
    with pytest.raises(HomeAssistantError) as err:
        await backup(hass, {"entity_id": "switch.homeassistant", "storage": "local"})
    assert err.value.translation_placeholders["message"] == "VM is locked (backup)"


async def test_backup_without_the_privilege(
    hass: HomeAssistant, pve_sim: ProxmoxSimulator
) -> None:
    """A token without VM.Backup: Proxmox's permission text, before any task."""
    pve_sim.add_token(
        "root@pam", "nobackup", "s3cret", privileges=ALL_PRIVILEGES - {"VM.Backup"}
    )
    entry = MockConfigEntry(
        domain=DOMAIN,
        title="homelab",
        unique_id="homelab",
        data=pve_data(pve_sim, token_id="nobackup", token_secret="s3cret"),
        subentries_data=[
            {
                "subentry_type": "guest",
                "title": "docker",
                "unique_id": "100",
                "data": {"vmid": 100, "type": "qemu", "node": "pve1", "name": "docker"},
            }
        ],
    )
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    with pytest.raises(HomeAssistantError) as err:
        await backup(hass, {"entity_id": "switch.docker", "storage": "local"})
    assert err.value.translation_key == "permission_denied"
    assert "VM.Backup" in err.value.translation_placeholders["message"]
    assert not any(t.type == "vzdump" for t in pve_sim.tasks.values())


async def test_backup_input_checked_before_sending(
    hass: HomeAssistant, pve_sim: ProxmoxSimulator, init_pve: MockConfigEntry
) -> None:
    pve_sim.requests.clear()
    for data in (
        {"storage": "local", "mode": "hibernate"},
        {"storage": "local", "compress": "bzip2"},
        {},
    ):
        with pytest.raises(vol.Invalid):
            await backup(hass, {"entity_id": "switch.docker", **data})
    assert pve_sim.count("POST") == 0


async def test_backup_refused_on_a_node(
    hass: HomeAssistant,
    pve_sim: ProxmoxSimulator,
    init_pve: MockConfigEntry,
) -> None:
    """A node is a WakeHub device, but not a guest: refused, naming why."""
    node = entry_device(hass, init_pve.entry_id, "homelab_pve1")
    assert node is not None
    pve_sim.requests.clear()
    with pytest.raises(ServiceValidationError) as err:
        await backup(hass, {"device_id": node.id, "storage": "local"})
    assert err.value.translation_key == "backup_not_supported"
    assert err.value.translation_placeholders == {"name": "pve1", "action": "backup"}
    assert pve_sim.count("POST") == 0


@pytest.mark.usefixtures("entity_registry_enabled_by_default")
async def test_last_backup_sensor(
    hass: HomeAssistant,
    pve_sim: ProxmoxSimulator,
    init_pve: MockConfigEntry,
) -> None:
    """Read once when shown, after a backup, then only every 15 minutes."""
    coordinator = init_pve.runtime_data.coordinator
    assert isinstance(coordinator, ProxmoxCoordinator)
    await coordinator.async_refresh()  # the sensor now exists: read it once
    assert hass.states.get("sensor.docker_last_backup").state == "unknown"
    assert task_lists(pve_sim, 100) == 1

    await backup(hass, {"entity_id": "switch.docker", "storage": "local"})
    task = next(t for t in pve_sim.tasks.values() if t.type == "vzdump")
    assert task.endtime is not None
    shown = hass.states.get("sensor.docker_last_backup").state
    assert datetime.fromisoformat(shown) == datetime.fromtimestamp(task.endtime, UTC)
    assert task_lists(pve_sim, 100) == 2
    request = next(
        r for r in reversed(pve_sim.requests) if r.query.get("vmid") == "100"
    )
    assert request.query == {
        "typefilter": "vzdump",
        "vmid": "100",
        "statusfilter": "ok,warning",
        "limit": "1",
    }

    # The 30 s polls do not ask again...
    for _ in range(3):
        await coordinator.async_refresh()
    assert task_lists(pve_sim, 100) == 2
    # ...the slow path does, for every guest whose sensor is shown.
    await refresh_later(coordinator, timedelta(minutes=16))
    assert task_lists(pve_sim, 100) == 3
    assert task_lists(pve_sim, 102) == 2


async def test_last_backup_not_read_while_disabled(
    hass: HomeAssistant,
    pve_sim: ProxmoxSimulator,
    init_pve: MockConfigEntry,
) -> None:
    """Disabled by default: then it costs no request at all."""
    coordinator = init_pve.runtime_data.coordinator
    await backup(hass, {"entity_id": "switch.docker", "storage": "local"})
    await refresh_later(coordinator, timedelta(minutes=16))
    assert pve_sim.count("GET", TASKS_PVE1) == pve_sim.count("GET", f"{TASKS_PVE1}/")
    assert hass.states.get("sensor.docker_last_backup") is None


@pytest.mark.usefixtures("entity_registry_enabled_by_default")
async def test_last_backup_read_failure_keeps_polling(
    hass: HomeAssistant, pve_sim: ProxmoxSimulator, init_pve: MockConfigEntry
) -> None:
    """The task list failing does not fail the poll: the sensor stays unknown."""
    pve_sim.inject("/tasks$", status=500, body=b'{"data": null}')
    coordinator = init_pve.runtime_data.coordinator
    await coordinator.async_refresh()
    assert coordinator.last_update_success
    assert hass.states.get("sensor.docker_last_backup").state == "unknown"


async def test_backup_of_a_guest_that_migrated(
    hass: HomeAssistant, pve_sim: ProxmoxSimulator, init_pve: MockConfigEntry
) -> None:
    """Still believed on pve1, now on pve2: found again by vmid, backed up there."""
    pve_sim.migrate(100, "pve2")
    await backup(hass, {"entity_id": "switch.docker", "storage": "local"})
    assert pve_sim.count("POST", "/api2/json/nodes/pve2/vzdump") == 1
    task = next(t for t in pve_sim.tasks.values() if t.type == "vzdump")
    assert (task.node, task.exitstatus) == ("pve2", "OK")
