"""snapshot_first on a Proxmox restore: the snapshot is taken, and finished,
before the rollback is sent; when it fails, nothing is rolled back."""

from __future__ import annotations

from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.wakehub.const import DOMAIN
from tests.simulators.proxmox import ProxmoxSimulator

GUEST = "/api2/json/nodes/pve1/qemu/100"
ROLLBACK = f"{GUEST}/snapshot/before_upgrade/rollback"


async def act(hass: HomeAssistant, action: str, data: dict[str, Any]) -> None:
    await hass.services.async_call(
        DOMAIN, action, {"entity_id": "switch.docker", **data}, blocking=True
    )


async def with_snapshot(hass: HomeAssistant, sim: ProxmoxSimulator) -> None:
    await act(hass, "create_snapshot", {"name": "before_upgrade"})
    sim.requests.clear()


def index(sim: ProxmoxSimulator, method: str, path: str) -> int:
    return next(
        i for i, r in enumerate(sim.requests) if r.method == method and r.path == path
    )


async def test_restore_takes_a_snapshot_first(
    hass: HomeAssistant, pve_sim: ProxmoxSimulator, init_pve: MockConfigEntry
) -> None:
    await with_snapshot(hass, pve_sim)
    await act(
        hass, "restore_snapshot", {"name": "before_upgrade", "snapshot_first": True}
    )
    guest = pve_sim.guests[100]
    safety = [n for n in guest.snapshots if n.startswith("wakehub-before-restore-")]
    assert len(safety) == 1
    assert len(safety[0]) <= 40
    assert guest.snapshots[safety[0]].description == (
        "Taken by WakeHub before restore_snapshot"
    )
    # Order, from the simulator's log: snapshot sent, its task seen finished,
    # then the rollback.
    snapshot_task = [t for t in pve_sim.tasks.values() if t.type == "qmsnapshot"][-1]
    created = index(pve_sim, "POST", f"{GUEST}/snapshot")
    finished = max(
        i
        for i, r in enumerate(pve_sim.requests)
        if r.path == f"/api2/json/nodes/pve1/tasks/{snapshot_task.upid}/status"
    )
    assert created < finished < index(pve_sim, "POST", ROLLBACK)
    assert guest.current_parent == "before_upgrade"


async def test_restore_without_snapshot_first_takes_none(
    hass: HomeAssistant, pve_sim: ProxmoxSimulator, init_pve: MockConfigEntry
) -> None:
    await with_snapshot(hass, pve_sim)
    await act(hass, "restore_snapshot", {"name": "before_upgrade"})
    assert pve_sim.count("POST", f"{GUEST}/snapshot") == 1  # the rollback only
    assert list(pve_sim.guests[100].snapshots) == ["before_upgrade"]


@pytest.mark.parametrize(
    ("fail", "message"),
    [
        ("task", "snapshot feature is not available"),
        ("request", "Permission check failed (/vms/100, VM.Snapshot)"),
    ],
)
async def test_failed_snapshot_stops_the_restore(
    hass: HomeAssistant,
    pve_sim: ProxmoxSimulator,
    init_pve: MockConfigEntry,
    fail: str,
    message: str,
) -> None:
    await with_snapshot(hass, pve_sim)
    if fail == "task":
        pve_sim.fail_next("snapshot", message)
    else:
        token = "root@pam!wakehub"
        pve_sim.token_privileges[token] -= {"VM.Snapshot"}
        pve_sim.token_privileges[token] |= {"VM.Snapshot.Rollback"}
    with pytest.raises(HomeAssistantError) as err:
        await act(
            hass,
            "restore_snapshot",
            {"name": "before_upgrade", "snapshot_first": True},
        )
    assert err.value.translation_key == "snapshot_first_failed"
    assert err.value.translation_placeholders == {
        "name": "docker",
        "action": "restore_snapshot",
        "message": message,
    }
    assert str(err.value) == (
        "docker: the snapshot taken before restore_snapshot failed, so "
        f"restore_snapshot was not done: {message}"
    )
    assert pve_sim.count("POST", ROLLBACK) == 0


async def test_unknown_snapshot_takes_none(
    hass: HomeAssistant, pve_sim: ProxmoxSimulator, init_pve: MockConfigEntry
) -> None:
    """Restoring a name that does not exist: Proxmox refuses, nothing is taken."""
    with pytest.raises(HomeAssistantError) as err:
        await act(hass, "restore_snapshot", {"name": "nope", "snapshot_first": True})
    assert err.value.translation_placeholders["message"] == (
        "snapshot 'nope' does not exist"
    )
    assert pve_sim.guests[100].snapshots == {}
