"""Every OVHcloud action end to end against the simulator, and its failures."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.wakehub.const import DOMAIN
from tests.ovh.conftest import vps_named
from tests.simulators.ovh import IMAGES, OvhSimulator

WEB = {"entity_id": "switch.web"}


async def act(
    hass: HomeAssistant, action: str, data: dict[str, Any] | None = None
) -> Any:
    response = action in {
        "rescue",
        "list_snapshots",
        "console_url",
        "list_images",
        "rebuild",
        "reset_password",
    }
    result = await hass.services.async_call(
        DOMAIN,
        action,
        {**WEB, **(data or {})},
        blocking=True,
        return_response=response,
    )
    return result["switch.web"] if response else None


def web(sim: OvhSimulator) -> str:
    return vps_named(sim, "web")


@pytest.mark.usefixtures("entity_registry_enabled_by_default")
async def test_power_switch(
    hass: HomeAssistant, init_ovh: MockConfigEntry, ovh_sim: OvhSimulator
) -> None:
    await hass.services.async_call(
        "switch", "turn_off", {"entity_id": "switch.web"}, blocking=True
    )
    assert ovh_sim.vps[web(ovh_sim)].state == "stopped"
    assert hass.states.get("switch.web").state == "off"
    await hass.services.async_call(
        "switch", "turn_on", {"entity_id": "switch.web"}, blocking=True
    )
    assert hass.states.get("switch.web").state == "on"
    assert hass.states.get("sensor.web_current_task").state == "idle"


async def test_reboot_button(
    hass: HomeAssistant, init_ovh: MockConfigEntry, ovh_sim: OvhSimulator
) -> None:
    await hass.services.async_call(
        "button", "press", {"entity_id": "button.web_reboot"}, blocking=True
    )
    sn = web(ovh_sim)
    assert ovh_sim.count("POST", f"/1.0/vps/{sn}/reboot") == 1
    assert ovh_sim.count("GET", f"/1.0/vps/{sn}/tasks/") >= 1
    assert hass.states.get("sensor.web_status").state == "running"


@pytest.mark.usefixtures("entity_registry_enabled_by_default")
async def test_current_task_shows_progress(
    hass: HomeAssistant, init_ovh: MockConfigEntry, ovh_sim: OvhSimulator
) -> None:
    """A task WakeHub follows shows its type and progress while it runs."""
    sn = web(ovh_sim)
    client = init_ovh.runtime_data.coordinator.client
    # Longer than any busy machine takes to run this test: the task stays
    # under way until the test ends it.
    ovh_sim.task_duration = 3600
    task = await client.reboot(sn)
    await client.get_task(sn, task.id)
    # Once OVH has begun it (which sets its own progress), it is 40 % done.
    for _ in range(1000):
        if ovh_sim.vps[sn].tasks[task.id]["state"] == "doing":
            break
        await asyncio.sleep(0.01)
    ovh_sim.vps[sn].tasks[task.id]["progress"] = 40
    await client.get_task(sn, task.id)
    await init_ovh.runtime_data.coordinator.async_refresh()
    state = hass.states.get("sensor.web_current_task")
    assert state.state == "reboot (40%)"
    assert state.attributes["task_id"] == task.id
    assert hass.states.get("sensor.web_status").state == "rebooting"
    # A task started elsewhere (not described: 2 requests per VPS) shows its id.
    client._tasks.clear()
    await init_ovh.runtime_data.coordinator.async_refresh()
    assert hass.states.get("sensor.web_current_task").state == f"task {task.id}"
    ovh_sim.vps[sn].tasks[task.id]["state"] = "done"


async def test_rescue(
    hass: HomeAssistant, init_ovh: MockConfigEntry, ovh_sim: OvhSimulator
) -> None:
    result = await act(hass, "rescue", {"enabled": True})
    assert result["netboot"] == "rescue"
    assert "e-mail" in result["message"]
    assert hass.states.get("sensor.web_status").state == "rescued"
    assert hass.states.get("sensor.web_status").attributes["netboot_mode"] == "rescue"
    # From an automation, without asking for the response (it is optional).
    await hass.services.async_call(
        DOMAIN, "rescue", {**WEB, "enabled": False}, blocking=True
    )
    assert hass.states.get("sensor.web_status").state == "running"
    assert hass.states.get("sensor.web_status").attributes["netboot_mode"] == "local"


@pytest.mark.usefixtures("entity_registry_enabled_by_default")
async def test_snapshots(
    hass: HomeAssistant, init_ovh: MockConfigEntry, ovh_sim: OvhSimulator
) -> None:
    assert (await act(hass, "list_snapshots")) == {"snapshots": []}
    await act(hass, "create_snapshot", {"description": "before upgrade"})
    assert hass.states.get("sensor.web_snapshot").state != "unavailable"
    assert (
        hass.states.get("sensor.web_snapshot").attributes["description"]
        == "before upgrade"
    )
    listed = (await act(hass, "list_snapshots"))["snapshots"]
    assert len(listed) == 1
    assert listed[0]["description"] == "before upgrade"
    assert listed[0]["download_url"].startswith("https://storage.")
    assert listed[0]["expires"] is not None

    with pytest.raises(HomeAssistantError) as err:
        await act(hass, "create_snapshot", {"description": "again"})
    assert err.value.translation_key == "ovh_snapshot_exists"

    await act(hass, "restore_snapshot")
    await act(hass, "delete_snapshot")
    assert hass.states.get("sensor.web_snapshot").state == "unknown"
    with pytest.raises(HomeAssistantError) as err:
        await act(hass, "restore_snapshot")
    assert err.value.translation_key == "ovh_no_snapshot"


async def test_snapshot_without_download_link(
    hass: HomeAssistant, init_ovh: MockConfigEntry, ovh_sim: OvhSimulator
) -> None:
    await act(hass, "create_snapshot")
    ovh_sim.inject_error(404, None, "gone", path_contains="snapshot/download")
    listed = (await act(hass, "list_snapshots"))["snapshots"]
    assert listed[0]["download_url"] is None


async def test_snapshot_include_ram_refused(
    hass: HomeAssistant, init_ovh: MockConfigEntry
) -> None:
    with pytest.raises(ServiceValidationError) as err:
        await act(hass, "create_snapshot", {"include_ram": True})
    assert err.value.translation_key == "ovh_include_ram"


async def test_snapshot_option_missing(
    hass: HomeAssistant, init_ovh: MockConfigEntry, ovh_sim: OvhSimulator
) -> None:
    """The specification's "option not available" text, with OVH's own message."""
    ovh_sim.vps[web(ovh_sim)].snapshot_option = False
    with pytest.raises(HomeAssistantError) as err:
        await act(hass, "create_snapshot")
    assert err.value.translation_key == "ovh_option_not_available"
    assert (
        "snapshot option is not enabled"
        in err.value.translation_placeholders["message"]
    )


async def test_console_and_images(
    hass: HomeAssistant, init_ovh: MockConfigEntry
) -> None:
    console = await act(hass, "console_url")
    assert console["url"].startswith("https://compute.")
    images = (await act(hass, "list_images"))["images"]
    assert {i["id"]: i["name"] for i in images} == IMAGES


async def test_rebuild(
    hass: HomeAssistant, init_ovh: MockConfigEntry, ovh_sim: OvhSimulator
) -> None:
    ubuntu = next(i for i, n in IMAGES.items() if n == "Ubuntu 24.04")
    result = await act(
        hass,
        "rebuild",
        {
            "image_id": ubuntu,
            "public_ssh_key": "ssh-ed25519 AAAA test",
            "do_not_send_password": True,
            "confirm": True,
        },
    )
    assert result["image"] == "Ubuntu 24.04"
    assert ovh_sim.vps[web(ovh_sim)].image_id == ubuntu
    assert hass.states.get("sensor.web_status").state == "running"


async def test_rebuild_refused_input(
    hass: HomeAssistant, init_ovh: MockConfigEntry, ovh_sim: OvhSimulator
) -> None:
    with pytest.raises(ServiceValidationError) as err:
        await act(hass, "rebuild", {"image_id": "nope", "confirm": True})
    assert err.value.translation_key == "ovh_unknown_image"
    with pytest.raises(ServiceValidationError) as err:
        await act(
            hass,
            "rebuild",
            {
                "image_id": next(iter(IMAGES)),
                "do_not_send_password": True,
                "confirm": True,
            },
        )
    assert err.value.translation_key == "ovh_password_needs_key"
    assert ovh_sim.count("POST", f"/1.0/vps/{web(ovh_sim)}/rebuild") == 0


async def test_reset_password(
    hass: HomeAssistant, init_ovh: MockConfigEntry, ovh_sim: OvhSimulator
) -> None:
    result = await act(hass, "reset_password")
    assert "e-mail" in result["message"]
    assert ovh_sim.count("POST", f"/1.0/vps/{web(ovh_sim)}/setPassword") == 1


async def test_conflict_while_a_task_runs(
    hass: HomeAssistant, init_ovh: MockConfigEntry, ovh_sim: OvhSimulator
) -> None:
    """409: the user reads that a task is running (the specification's own
    text, on an older action too), with OVH's words."""
    sn = web(ovh_sim)
    ovh_sim.task_duration = 5
    await init_ovh.runtime_data.coordinator.client.reboot(sn)
    with pytest.raises(HomeAssistantError) as err:
        await act(hass, "reset_password")
    assert err.value.translation_key == "ovh_task_in_progress"
    assert "A task is already pending" in err.value.translation_placeholders["message"]
    for task in ovh_sim.vps[sn].tasks.values():
        task["state"] = "done"


async def test_task_failure(
    hass: HomeAssistant, init_ovh: MockConfigEntry, ovh_sim: OvhSimulator
) -> None:
    ovh_sim.fail_next_task(web(ovh_sim))
    with pytest.raises(HomeAssistantError) as err:
        await hass.services.async_call(
            "button", "press", {"entity_id": "button.web_reboot"}, blocking=True
        )
    assert err.value.translation_key == "task_failed"
    assert "rebootVm" in err.value.translation_placeholders["message"]


@pytest.mark.parametrize(
    ("action", "data"),
    [
        ("reset_password", {}),
        ("console_url", {}),
        ("create_snapshot", {}),
        ("rescue", {"enabled": True}),
    ],
)
async def test_service_expired(
    hass: HomeAssistant,
    init_ovh: MockConfigEntry,
    ovh_sim: OvhSimulator,
    action: str,
    data: dict[str, Any],
) -> None:
    """460 reads as an expired service, with OVH's message."""
    ovh_sim.vps[web(ovh_sim)].expired = True
    with pytest.raises(HomeAssistantError) as err:
        await act(hass, action, data)
    assert err.value.translation_key == "ovh_service_expired"
    assert "expired" in err.value.translation_placeholders["message"]


async def test_power_on_expired_service(
    hass: HomeAssistant, init_ovh: MockConfigEntry, ovh_sim: OvhSimulator
) -> None:
    ovh_sim.vps[web(ovh_sim)].expired = True
    with pytest.raises(HomeAssistantError) as err:
        await hass.services.async_call(
            "switch", "turn_off", {"entity_id": "switch.web"}, blocking=True
        )
    assert err.value.translation_key == "ovh_service_expired"


async def test_rate_limited_action(
    hass: HomeAssistant, init_ovh: MockConfigEntry, ovh_sim: OvhSimulator
) -> None:
    """A 429 with Retry-After is waited out; when it lasts, the user is told."""
    ovh_sim.rate_limit(2, retry_after=0.01)
    assert (await act(hass, "console_url"))["url"]
    ovh_sim.rate_limit(10, retry_after=0.01)
    with pytest.raises(HomeAssistantError) as err:
        await act(hass, "console_url")
    assert err.value.translation_key == "rate_limited"
    ovh_sim.rate_limit(0)


async def test_no_secret_in_logs(
    hass: HomeAssistant,
    ovh_entry: MockConfigEntry,
    ovh_sim: OvhSimulator,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    events: list[Any] = []
    hass.bus.async_listen("*", events.append)
    assert await hass.config_entries.async_setup(ovh_entry.entry_id)
    await hass.async_block_till_done()
    await hass.services.async_call(
        "button", "press", {"entity_id": "button.web_reboot"}, blocking=True
    )
    ovh_sim.vps[web(ovh_sim)].expired = True
    ovh_sim.inject_error(403, "INVALID_SIGNATURE", "Invalid signature", count=1)
    for action in ("console_url", "reset_password"):
        with pytest.raises(HomeAssistantError):
            await act(hass, action)
    ovh_sim.expire_credential(ovh_sim.consumer_key)
    await ovh_entry.runtime_data.coordinator.async_refresh()
    await hass.async_block_till_done()
    text = caplog.text + repr([e.as_dict() for e in events])
    assert ovh_sim.application_secret not in text
    assert ovh_sim.consumer_key not in text
