"""snapshot_first on OVHcloud (rebuild, restore): the VPS's one snapshot is
taken and finished before the risky request; an existing snapshot is never
deleted to make room, and any failure leaves the VPS untouched. Also: a VPS
refuses wakehub.backup (Proxmox only)."""

from __future__ import annotations

from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.wakehub.const import DOMAIN
from tests.ovh.conftest import vps_named
from tests.simulators.ovh import IMAGES, OvhSimulator

UBUNTU = next(i for i, n in IMAGES.items() if n == "Ubuntu 24.04")
REBUILD = {
    "image_id": UBUNTU,
    "public_ssh_key": "ssh-ed25519 AAAA test",
    "confirm": True,
    "snapshot_first": True,
}


async def act(hass: HomeAssistant, action: str, data: dict[str, Any]) -> None:
    await hass.services.async_call(
        DOMAIN, action, {"entity_id": "switch.web", **data}, blocking=True
    )


def paths(sim: OvhSimulator, method: str) -> list[str]:
    return [r.path for r in sim.requests if r.method == method]


@pytest.mark.usefixtures("entity_registry_enabled_by_default")
async def test_rebuild_takes_a_snapshot_first(
    hass: HomeAssistant, init_ovh: MockConfigEntry, ovh_sim: OvhSimulator
) -> None:
    sn = vps_named(ovh_sim, "web")
    ovh_sim.requests.clear()
    await act(hass, "rebuild", REBUILD)
    # The snapshot request, then (its task done: OVH refuses a second task
    # while one runs) the rebuild.
    assert paths(ovh_sim, "POST") == [
        f"/1.0/vps/{sn}/createSnapshot",
        f"/1.0/vps/{sn}/rebuild",
    ]
    vps = ovh_sim.vps[sn]
    assert vps.snapshot is not None
    assert vps.snapshot["description"].startswith("wakehub-before-rebuild-")
    assert vps.image_id == UBUNTU
    assert hass.states.get("sensor.web_snapshot").state != "unknown"


async def test_rebuild_refused_when_a_snapshot_exists(
    hass: HomeAssistant, init_ovh: MockConfigEntry, ovh_sim: OvhSimulator
) -> None:
    sn = vps_named(ovh_sim, "web")
    await act(hass, "create_snapshot", {"description": "mine"})
    before = ovh_sim.vps[sn].image_id
    ovh_sim.requests.clear()
    with pytest.raises(HomeAssistantError) as err:
        await act(hass, "rebuild", REBUILD)
    assert err.value.translation_key == "ovh_snapshot_first_exists"
    assert err.value.translation_placeholders == {
        "name": "web",
        "action": "rebuild",
        "snapshot": "mine",
    }
    assert "rebuild was not done" in str(err.value)
    assert paths(ovh_sim, "POST") == []
    assert paths(ovh_sim, "DELETE") == []
    assert ovh_sim.vps[sn].snapshot["description"] == "mine"
    assert ovh_sim.vps[sn].image_id == before


async def test_failed_snapshot_stops_the_rebuild(
    hass: HomeAssistant, init_ovh: MockConfigEntry, ovh_sim: OvhSimulator
) -> None:
    sn = vps_named(ovh_sim, "web")
    before = ovh_sim.vps[sn].image_id
    ovh_sim.fail_next_task(sn)
    ovh_sim.requests.clear()
    with pytest.raises(HomeAssistantError) as err:
        await act(hass, "rebuild", REBUILD)
    assert err.value.translation_key == "snapshot_first_failed"
    assert err.value.translation_placeholders["action"] == "rebuild"
    assert "createSnapshot" in err.value.translation_placeholders["message"]
    assert paths(ovh_sim, "POST") == [f"/1.0/vps/{sn}/createSnapshot"]
    assert ovh_sim.vps[sn].image_id == before


async def test_snapshot_option_missing_stops_the_rebuild(
    hass: HomeAssistant, init_ovh: MockConfigEntry, ovh_sim: OvhSimulator
) -> None:
    sn = vps_named(ovh_sim, "web")
    ovh_sim.vps[sn].snapshot_option = False
    with pytest.raises(HomeAssistantError) as err:
        await act(hass, "rebuild", REBUILD)
    assert err.value.translation_key == "snapshot_first_failed"
    assert "snapshot option is not enabled" in str(err.value)
    assert ovh_sim.count("POST", f"/1.0/vps/{sn}/rebuild") == 0


async def test_bad_rebuild_input_takes_no_snapshot(
    hass: HomeAssistant, init_ovh: MockConfigEntry, ovh_sim: OvhSimulator
) -> None:
    """Input is checked before the snapshot: none is taken for nothing."""
    with pytest.raises(ServiceValidationError):
        await act(hass, "rebuild", {**REBUILD, "image_id": "nope"})
    assert ovh_sim.count("POST") == 0


async def test_restore_with_snapshot_first_is_refused(
    hass: HomeAssistant, init_ovh: MockConfigEntry, ovh_sim: OvhSimulator
) -> None:
    """The snapshot to restore is the VPS's only one: no other can be taken."""
    sn = vps_named(ovh_sim, "web")
    with pytest.raises(HomeAssistantError) as err:
        await act(hass, "restore_snapshot", {"snapshot_first": True})
    assert err.value.translation_key == "ovh_no_snapshot"
    await act(hass, "create_snapshot", {"description": "mine"})
    ovh_sim.requests.clear()
    with pytest.raises(HomeAssistantError) as err:
        await act(hass, "restore_snapshot", {"snapshot_first": True})
    assert err.value.translation_key == "ovh_snapshot_first_exists"
    assert err.value.translation_placeholders["action"] == "restore_snapshot"
    assert paths(ovh_sim, "POST") == []
    # Without it, the restore runs as before.
    await act(hass, "restore_snapshot", {})
    assert paths(ovh_sim, "POST") == [f"/1.0/vps/{sn}/snapshot/revert"]


async def test_backup_refused_on_a_vps(
    hass: HomeAssistant, init_ovh: MockConfigEntry, ovh_sim: OvhSimulator
) -> None:
    ovh_sim.requests.clear()
    with pytest.raises(ServiceValidationError) as err:
        await act(hass, "backup", {"storage": "local"})
    assert err.value.translation_key == "backup_not_supported"
    assert err.value.translation_placeholders == {"name": "web", "action": "backup"}
    assert str(err.value) == (
        "web cannot be backed up by WakeHub: only Proxmox VE guests can (backup)"
    )
    assert ovh_sim.count() == 0
