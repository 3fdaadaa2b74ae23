"""The VPS manager's actions end to end: Home Assistant, the integration, the
simulator over HTTPS. Each success path, and each of the specification's errors
as the user reads it (its translation key)."""

from __future__ import annotations

from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.wakehub.const import DOMAIN
from tests.ovh.conftest import vps_named
from tests.simulators.ovh import OvhSimulator


async def act(
    hass: HomeAssistant,
    action: str,
    data: dict[str, Any] | None = None,
    *,
    target: str = "switch.web",
    response: bool = True,
) -> Any:
    result = await hass.services.async_call(
        DOMAIN,
        action,
        {"entity_id": target, **(data or {})},
        blocking=True,
        return_response=response,
    )
    return result[target] if response else None


async def test_restore_points_and_file_restore(
    hass: HomeAssistant, init_ovh: MockConfigEntry, ovh_sim: OvhSimulator
) -> None:
    sn = vps_named(ovh_sim, "web")
    listed = await act(hass, "list_restore_points")
    assert listed["schedule"] == "03:00:00"
    assert [p["state"] for p in listed["restore_points"]] == ["available"] * 2
    assert listed["restore_points"][0]["restore_point"] == "2026-01-27T03:00:00+00:00"
    assert listed["attached"] == []

    restored = await act(
        hass, "restore_backup", {"type": "file", "restore_point": "2026-01-26 03:00:00"}
    )
    assert restored["restore_point"] == "2026-01-26T03:00:00+00:00"
    assert restored["attached"][0]["nfs"]
    # Followed to its end: the point is restored and mounted.
    assert ovh_sim.vps[sn].restore_point_states["2026-01-26T03:00:00+00:00"] == (
        "restored"
    )
    listed = await act(hass, "list_restore_points")
    assert {p["state"] for p in listed["restore_points"]} == {"available", "restored"}

    detached = await act(hass, "detach_backup")
    assert detached["restore_point"] == "2026-01-26T03:00:00+00:00"
    assert ovh_sim.vps[sn].attached == []
    with pytest.raises(ServiceValidationError) as err:
        await act(hass, "detach_backup", response=False)
    assert err.value.translation_key == "ovh_no_attached_backup"


async def test_full_restore_needs_confirm(
    hass: HomeAssistant, init_ovh: MockConfigEntry, ovh_sim: OvhSimulator
) -> None:
    with pytest.raises(ServiceValidationError) as err:
        await act(hass, "restore_backup", {"type": "full"}, response=False)
    assert err.value.translation_key == "ovh_restore_not_confirmed"
    assert ovh_sim.count("POST", "/1.0/vps/") == 0
    result = await act(hass, "restore_backup", {"type": "full", "confirm": True})
    assert result["type"] == "full"
    assert result["restore_point"] == "2026-01-27T03:00:00+00:00"
    assert "attached" not in result
    with pytest.raises(ServiceValidationError) as err:
        await act(
            hass,
            "restore_backup",
            {"type": "file", "restore_point": "2020-01-01 00:00:00"},
            response=False,
        )
    assert err.value.translation_key == "ovh_unknown_restore_point"


async def test_reschedule_and_task_in_progress(
    hass: HomeAssistant, init_ovh: MockConfigEntry, ovh_sim: OvhSimulator
) -> None:
    sn = vps_named(ovh_sim, "web")
    await act(hass, "reschedule_backup", {"time": "04:30"}, response=False)
    assert ovh_sim.vps[sn].backup_schedule == "04:30:00"
    ovh_sim.inject_error(
        409, None, "A task is already pending on this VPS", path_contains="reschedule"
    )
    with pytest.raises(HomeAssistantError) as err:
        await act(hass, "reschedule_backup", {"time": "05:00"}, response=False)
    assert err.value.translation_key == "ovh_task_in_progress"
    assert err.value.translation_placeholders["name"] == "web"


async def test_backup_option_missing_or_not_for_range(
    hass: HomeAssistant, init_ovh: MockConfigEntry, ovh_sim: OvhSimulator
) -> None:
    with pytest.raises(HomeAssistantError) as err:
        await act(hass, "list_restore_points", target="switch.db")
    assert err.value.translation_key == "ovh_no_automated_backup"
    ovh_sim.inject_error(
        400,
        None,
        "This option is not available for your VPS range",
        path_contains="restorePoints",
    )
    with pytest.raises(HomeAssistantError) as err:
        await act(hass, "list_restore_points")
    assert err.value.translation_key == "ovh_option_not_available"


async def test_backup_storage_actions(
    hass: HomeAssistant, init_ovh: MockConfigEntry, ovh_sim: OvhSimulator
) -> None:
    sn = vps_named(ovh_sim, "web")
    reset = await act(hass, "backup_storage_password")
    assert reset["task_status"] == "todo"
    assert reset["address"].startswith("ftpback-")
    listed = await act(hass, "list_backup_storage_access")
    assert listed["access"] == []
    blocks = listed["authorizable_blocks"]
    added = await act(
        hass, "add_backup_storage_access", {"ip_block": blocks[1], "nfs": True}
    )
    assert added["ip_block"] == blocks[1]
    (access,) = (await act(hass, "list_backup_storage_access"))["access"]
    assert (access["ftp"], access["cifs"], access["nfs"]) == (True, False, True)
    await act(
        hass, "remove_backup_storage_access", {"ip_block": blocks[1]}, response=False
    )
    assert ovh_sim.vps[sn].storage_acl == {}

    with pytest.raises(ServiceValidationError) as err:
        await act(hass, "add_backup_storage_access", {"ip_block": "198.51.100.0/24"})
    assert err.value.translation_key == "ovh_block_not_authorizable"
    ovh_sim.vps[sn].storage_acl_limit = 0
    with pytest.raises(HomeAssistantError) as err:
        await act(hass, "add_backup_storage_access", {"ip_block": blocks[0]})
    assert err.value.translation_key == "ovh_ip_quota_reached"
    with pytest.raises(HomeAssistantError) as err:
        await act(hass, "list_backup_storage_access", target="switch.db")
    assert err.value.translation_key == "ovh_no_backup_storage"


async def test_secondary_dns_actions(
    hass: HomeAssistant, init_ovh: MockConfigEntry, ovh_sim: OvhSimulator
) -> None:
    sn = vps_named(ovh_sim, "web")
    listed = await act(hass, "list_secondary_dns")
    assert listed["name_server"]["hostname"] == "sdns2.ovh.net"
    assert [d["domain"] for d in listed["domains"]] == ["example.org"]
    added = await act(
        hass, "add_secondary_dns", {"domain": "Example.NET.", "ip": "192.0.2.7"}
    )
    assert added["domain"] == "example.net"
    assert added["name_server"] == "sdns2.ovh.net"
    assert ovh_sim.vps[sn].secondary_dns["example.net"]["ipMaster"] == "192.0.2.7"
    await act(hass, "remove_secondary_dns", {"domain": "example.org"}, response=False)
    assert set(ovh_sim.vps[sn].secondary_dns) == {"example.net"}
    with pytest.raises(HomeAssistantError) as err:
        await act(hass, "remove_secondary_dns", {"domain": "example.org"})
    assert err.value.translation_key == "not_found"


@pytest.mark.parametrize(
    ("action", "data"),
    [
        ("add_secondary_dns", {"domain": "not a domain"}),
        ("add_secondary_dns", {"domain": "example.org", "ip": "2001:db8::1"}),
        ("add_backup_storage_access", {"ip_block": "192.0.2.1/24"}),
        ("restore_backup", {"type": "partial"}),
        ("reschedule_backup", {"time": "25:00"}),
    ],
)
async def test_bad_input_refused(
    hass: HomeAssistant,
    init_ovh: MockConfigEntry,
    ovh_sim: OvhSimulator,
    action: str,
    data: dict[str, Any],
) -> None:
    before = len(ovh_sim.requests)
    with pytest.raises(vol_invalid()):
        await act(hass, action, data, response=False)
    assert not any(r.method != "GET" for r in ovh_sim.requests[before:])


def vol_invalid() -> type[Exception]:
    import voluptuous as vol

    return vol.Invalid


async def test_expired_service_and_no_restore_point(
    hass: HomeAssistant, init_ovh: MockConfigEntry, ovh_sim: OvhSimulator
) -> None:
    sn = vps_named(ovh_sim, "web")
    ovh_sim.vps[sn].restore_points = []
    with pytest.raises(ServiceValidationError) as err:
        await act(hass, "restore_backup", {"type": "file"}, response=False)
    assert err.value.translation_key == "ovh_no_restore_point"
    ovh_sim.vps[sn].expired = True
    with pytest.raises(HomeAssistantError) as err:
        await act(hass, "list_secondary_dns")
    assert err.value.translation_key == "ovh_service_expired"


async def test_only_on_ovh_vpses(
    hass: HomeAssistant,
    init_ovh: MockConfigEntry,
    init_machine: MockConfigEntry,
    ovh_sim: OvhSimulator,
) -> None:
    """A machine among the targets refuses the whole call, before anything is sent."""
    before = len(ovh_sim.requests)
    with pytest.raises(ServiceValidationError) as err:
        await hass.services.async_call(
            DOMAIN,
            "add_secondary_dns",
            {"entity_id": ["switch.web", "switch.nas"], "domain": "example.net"},
            blocking=True,
        )
    assert err.value.translation_key == "ovh_only"
    assert err.value.translation_placeholders == {
        "name": "NAS",
        "action": "add_secondary_dns",
    }
    assert not any(r.method != "GET" for r in ovh_sim.requests[before:])
