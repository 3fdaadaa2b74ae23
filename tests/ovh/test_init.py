"""Setup, polling cycles, entities and failures of an OVHcloud entry."""

from __future__ import annotations

from datetime import timedelta
import logging

from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import SOURCE_REAUTH, ConfigEntryState
from homeassistant.const import STATE_UNAVAILABLE, STATE_UNKNOWN, Platform
from homeassistant.core import HomeAssistant
from homeassistant.helpers import (
    device_registry as dr,
    entity_registry as er,
    issue_registry as ir,
)
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_time_changed,
    snapshot_platform,
)
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator
from syrupy.assertion import SnapshotAssertion

from custom_components.wakehub.const import DOMAIN
from tests.ovh.conftest import ENTRY_ID, vps_named
from tests.simulators.ovh import OvhSimulator

FAST = timedelta(seconds=60)


def vps_requests(sim: OvhSimulator) -> int:
    return sum(1 for r in sim.requests if r.path.startswith("/1.0/vps"))


async def tick(hass: HomeAssistant, freezer: FrozenDateTimeFactory) -> None:
    """One fast cycle (the default 60 s polling interval)."""
    freezer.tick(FAST)
    async_fire_time_changed(hass)
    await hass.async_block_till_done(wait_background_tasks=True)


@pytest.mark.usefixtures("entity_registry_enabled_by_default")
async def test_sensors(
    hass: HomeAssistant,
    ovh_entry: MockConfigEntry,
    entity_registry: er.EntityRegistry,
    snapshot: SnapshotAssertion,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("custom_components.wakehub.PLATFORMS", [Platform.SENSOR])
    assert await hass.config_entries.async_setup(ovh_entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)
    # No snapshot yet is a known fact: the sensor is unknown, not unavailable.
    no_snapshot = {
        e.entity_id
        for e in er.async_entries_for_config_entry(entity_registry, ENTRY_ID)
        if e.entity_id.endswith("_snapshot")
    }
    for entity_id in no_snapshot:
        assert hass.states.get(entity_id).state == STATE_UNKNOWN
    await snapshot_platform(hass, entity_registry, snapshot, ovh_entry.entry_id)


@pytest.mark.usefixtures("entity_registry_enabled_by_default")
async def test_low_disk_binary_sensors(
    hass: HomeAssistant,
    ovh_entry: MockConfigEntry,
    entity_registry: er.EntityRegistry,
    snapshot: SnapshotAssertion,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """One low-space binary sensor per disk the VPS manager reports."""
    monkeypatch.setattr("custom_components.wakehub.PLATFORMS", [Platform.BINARY_SENSOR])
    assert await hass.config_entries.async_setup(ovh_entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)
    await snapshot_platform(hass, entity_registry, snapshot, ovh_entry.entry_id)


async def test_entity_economy(
    hass: HomeAssistant, ovh_entry: MockConfigEntry, entity_registry: er.EntityRegistry
) -> None:
    """At most 6 entities enabled by default per VPS, however many the VPS
    manager adds (web has the automated backup, db not)."""
    assert await hass.config_entries.async_setup(ovh_entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)
    entries = er.async_entries_for_config_entry(entity_registry, ENTRY_ID)
    for name in ("web", "db", "mail"):
        mine = [e for e in entries if e.entity_id.split(".")[1].startswith(name)]
        enabled = [e.entity_id for e in mine if e.disabled_by is None]
        assert len(enabled) <= 6, enabled
    assert any(e.entity_id == "sensor.web_automated_backup" for e in entries)
    assert not any(e.entity_id == "sensor.db_automated_backup" for e in entries)


@pytest.mark.usefixtures("entity_registry_enabled_by_default")
async def test_switches_and_buttons(
    hass: HomeAssistant,
    ovh_entry: MockConfigEntry,
    entity_registry: er.EntityRegistry,
    snapshot: SnapshotAssertion,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for platform in (Platform.SWITCH, Platform.BUTTON):
        monkeypatch.setattr("custom_components.wakehub.PLATFORMS", [platform])
        assert await hass.config_entries.async_setup(ovh_entry.entry_id)
        await hass.async_block_till_done(wait_background_tasks=True)
        await snapshot_platform(hass, entity_registry, snapshot, ovh_entry.entry_id)
        assert await hass.config_entries.async_unload(ovh_entry.entry_id)
        for entry in er.async_entries_for_config_entry(entity_registry, ENTRY_ID):
            entity_registry.async_remove(entry.entity_id)


async def test_device(
    hass: HomeAssistant, init_ovh: MockConfigEntry, ovh_sim: OvhSimulator
) -> None:
    web = vps_named(ovh_sim, "web")
    device = next(
        d
        for d in dr.async_entries_for_config_entry(dr.async_get(hass), ENTRY_ID)
        if (DOMAIN, web) in d.identifiers
    )
    assert device.manufacturer == "OVHcloud"
    assert device.model == "VPS Elite 2025"
    assert device.sw_version == "Debian 12"
    assert device.name == "web"
    assert (
        device.configuration_url == f"https://www.ovh.com/manager/#/dedicated/vps/{web}"
    )
    switch = er.async_get(hass).async_get("switch.web")
    assert switch is not None
    assert switch.device_id == device.id
    assert init_ovh.subentries[switch.config_subentry_id].unique_id == web


def monitoring_requests(sim: OvhSimulator) -> int:
    return sum(1 for r in sim.requests if r.path.endswith("/monitoring"))


async def test_request_counts(
    hass: HomeAssistant,
    ovh_entry: MockConfigEntry,
    ovh_sim: OvhSimulator,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Fast cycle: 2 requests per VPS, monitoring (4) once per its 5-minute
    step. Slow cycle (hourly): the details (5) and the VPS manager's parts."""
    assert await hass.config_entries.async_setup(ovh_entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)
    # First refresh: fast (3 x 2) + details (3 x 5: serviceInfos, ips,
    # datacenter, images/current, snapshot) + the VPS manager: web 14 (backup
    # 3, storage 1, offers 2, disks 4, monitoring 4), db and mail 12 (backup 1).
    # The automated backup and /use are no longer read by the details (before:
    # 6 + 11 + 10 + 10).
    assert vps_requests(ovh_sim) == 6 + 3 * 5 + 14 + 12 + 12

    ovh_sim.requests.clear()
    await tick(hass, freezer)
    assert vps_requests(ovh_sim) - monitoring_requests(ovh_sim) == 6
    assert ovh_sim.count(path_prefix="/1.0/auth") == 0

    ovh_sim.requests.clear()
    for _ in range(58):  # up to 59 minutes: fast cycles and monitoring only
        await tick(hass, freezer)
    # Monitoring: once per 5-minute point, not on every fast cycle.
    assert monitoring_requests(ovh_sim) <= 3 * 4 * (58 // 5 + 1)
    assert vps_requests(ovh_sim) - monitoring_requests(ovh_sim) == 58 * 6

    ovh_sim.requests.clear()
    await tick(hass, freezer)  # 60 minutes: the slow cycle is due
    slow = vps_requests(ovh_sim) - monitoring_requests(ovh_sim)
    assert slow == 6 + 3 * 5 + 10 + 8 + 8


@pytest.mark.usefixtures("entity_registry_enabled_by_default")
async def test_monitoring_gone(
    hass: HomeAssistant,
    ovh_entry: MockConfigEntry,
    ovh_sim: OvhSimulator,
    freezer: FrozenDateTimeFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """OVH stops serving monitoring to a VPS: its figures go unavailable, quietly,
    and monitoring is asked again a day later only."""
    assert await hass.config_entries.async_setup(ovh_entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)
    cpu = "sensor.web_cpu"
    assert float(hass.states.get(cpu).state) == 13.0
    assert hass.states.get(cpu).attributes["state_class"] == "measurement"

    caplog.clear()
    caplog.set_level(logging.INFO)
    for vps in ovh_sim.vps.values():
        vps.monitoring_status = 404
    freezer.tick(timedelta(hours=1))
    async_fire_time_changed(hass)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert hass.states.get(cpu).state == STATE_UNAVAILABLE
    assert hass.states.get("sensor.web_status").state == "running"
    assert not [
        r
        for r in caplog.records
        if r.levelno >= logging.INFO and not r.name.startswith("asyncio")
    ]

    # Not asked again at the next hourly cycle (a day later only).
    ovh_sim.requests.clear()
    freezer.tick(timedelta(hours=1))
    async_fire_time_changed(hass)
    await hass.async_block_till_done(wait_background_tasks=True)
    web = vps_named(ovh_sim, "web")
    assert ovh_sim.count(path_prefix=f"/1.0/vps/{web}/monitoring") == 0

    for vps in ovh_sim.vps.values():
        vps.monitoring_status = 200
    freezer.tick(timedelta(hours=24))
    async_fire_time_changed(hass)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert float(hass.states.get(cpu).state) == 13.0


async def test_setup_retry_when_unreachable(
    hass: HomeAssistant, ovh_entry: MockConfigEntry, ovh_sim: OvhSimulator
) -> None:
    await ovh_sim.stop()
    await hass.config_entries.async_setup(ovh_entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert ovh_entry.state is ConfigEntryState.SETUP_RETRY
    await ovh_sim.start()  # same port: the fixture teardown stops it again


async def test_reauth_started_on_revoked_key(
    hass: HomeAssistant,
    init_ovh: MockConfigEntry,
    ovh_sim: OvhSimulator,
    freezer: FrozenDateTimeFactory,
) -> None:
    ovh_sim.expire_credential(ovh_sim.consumer_key)
    await tick(hass, freezer)
    assert hass.states.get("switch.web").state == STATE_UNAVAILABLE
    flows = hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    assert [f["context"]["source"] for f in flows] == [SOURCE_REAUTH]
    assert flows[0]["step_id"] == "reauth_confirm"


async def test_all_vps_failing_is_update_failed(
    hass: HomeAssistant,
    init_ovh: MockConfigEntry,
    ovh_sim: OvhSimulator,
    freezer: FrozenDateTimeFactory,
) -> None:
    ovh_sim.inject_error(500, None, "Internal server error", count=6)
    await tick(hass, freezer)
    coordinator = init_ovh.runtime_data.coordinator
    assert not coordinator.last_update_success
    assert hass.states.get("switch.web").state == STATE_UNAVAILABLE
    await tick(hass, freezer)
    assert coordinator.last_update_success
    assert hass.states.get("switch.web").state == "on"


async def test_rate_limited_polling_retries(
    hass: HomeAssistant, init_ovh: MockConfigEntry, ovh_sim: OvhSimulator
) -> None:
    """A 429 is retried after Retry-After; exhausted, the cycle fails, then recovers."""
    coordinator = init_ovh.runtime_data.coordinator
    ovh_sim.rate_limit(2, retry_after=0.01)
    await coordinator.async_refresh()
    assert coordinator.last_update_success
    assert ovh_sim.count(path_prefix="/1.0/vps") > 0

    ovh_sim.rate_limit(100, retry_after=0.01)
    await coordinator.async_refresh()
    assert not coordinator.last_update_success
    assert hass.states.get("switch.web").state == STATE_UNAVAILABLE
    ovh_sim.rate_limit(0)
    await coordinator.async_refresh()
    assert coordinator.last_update_success
    assert hass.states.get("switch.web").state == "on"


async def test_expired_service(
    hass: HomeAssistant,
    init_ovh: MockConfigEntry,
    ovh_sim: OvhSimulator,
    freezer: FrozenDateTimeFactory,
) -> None:
    """A 460 on one VPS: its entities go unavailable and a repair issue explains."""
    web = vps_named(ovh_sim, "web")
    ovh_sim.vps[web].expired = True
    await tick(hass, freezer)
    assert hass.states.get("switch.web").state == STATE_UNAVAILABLE
    assert hass.states.get("switch.mail").state == "on"
    issue_id = f"ovh_service_expired_{ENTRY_ID}_{web}"
    issue = ir.async_get(hass).async_get_issue(DOMAIN, issue_id)
    assert issue is not None
    assert issue.translation_key == "ovh_service_expired"
    assert not issue.is_fixable

    ovh_sim.vps[web].expired = False
    await tick(hass, freezer)
    assert hass.states.get("switch.web").state == "on"
    assert ir.async_get(hass).async_get_issue(DOMAIN, issue_id) is None


async def test_unload(hass: HomeAssistant, init_ovh: MockConfigEntry) -> None:
    assert await hass.config_entries.async_unload(init_ovh.entry_id)
    assert init_ovh.state is ConfigEntryState.NOT_LOADED


async def test_removing_subentry_reloads(
    hass: HomeAssistant, init_ovh: MockConfigEntry, ovh_sim: OvhSimulator
) -> None:
    sub = next(s for s in init_ovh.subentries.values() if s.title == "mail")
    assert hass.config_entries.async_remove_subentry(init_ovh, sub.subentry_id)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert init_ovh.state is ConfigEntryState.LOADED
    assert [r.name for r in init_ovh.runtime_data.resources] == ["web", "db"]
    assert hass.states.get("switch.mail") is None


async def test_no_vps(
    hass: HomeAssistant, ovh_entry: MockConfigEntry, ovh_sim: OvhSimulator
) -> None:
    for sub in list(ovh_entry.subentries):
        hass.config_entries.async_remove_subentry(ovh_entry, sub)
    assert await hass.config_entries.async_setup(ovh_entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert ovh_sim.count(path_prefix="/1.0/vps") == 0


async def test_diagnostics_redacted(
    hass: HomeAssistant,
    init_ovh: MockConfigEntry,
    ovh_sim: OvhSimulator,
    hass_client: ClientSessionGenerator,
) -> None:
    diagnostics = await get_diagnostics_for_config_entry(hass, hass_client, init_ovh)
    text = repr(diagnostics)
    assert ovh_sim.application_secret not in text
    assert ovh_sim.consumer_key not in text
    assert diagnostics["entry"]["data"]["application_secret"] == "**REDACTED**"
    assert diagnostics["entry"]["data"]["consumer_key"] == "**REDACTED**"
    web = vps_named(ovh_sim, "web")
    assert diagnostics["resources"][web]["state"]["status"] == "running"


@pytest.mark.usefixtures("entity_registry_enabled_by_default")
async def test_details_failure_keeps_last_and_retries(
    hass: HomeAssistant, init_ovh: MockConfigEntry, ovh_sim: OvhSimulator
) -> None:
    """A failed slow-cycle read keeps the last details and is retried next cycle."""
    coordinator = init_ovh.runtime_data.coordinator
    web = vps_named(ovh_sim, "web")
    coordinator.mark_stale(web)
    ovh_sim.inject_error(500, None, "oops", path_contains=f"{web}/serviceInfos")
    await coordinator.async_refresh()
    assert hass.states.get("sensor.web_ipv4_address").state == "51.68.0.2"
    ovh_sim.requests.clear()
    await coordinator.async_refresh()
    assert ovh_sim.count("GET", f"/1.0/vps/{web}/serviceInfos") == 1
    ovh_sim.requests.clear()
    await coordinator.async_refresh()
    assert ovh_sim.count("GET", f"/1.0/vps/{web}/serviceInfos") == 0


async def _press(hass: HomeAssistant, entity_id: str) -> None:
    await hass.services.async_call(
        "button", "press", {"entity_id": entity_id}, blocking=True
    )
    await hass.async_block_till_done()


@pytest.mark.usefixtures("entity_registry_enabled_by_default")
async def test_device_page_buttons(
    hass: HomeAssistant, init_ovh: MockConfigEntry, ovh_sim: OvhSimulator
) -> None:
    """Rescue on and off, and a snapshot, from the VPS's device page; each
    button is available only where it makes sense."""
    assert hass.states.get("button.web_boot_from_disk").state == STATE_UNAVAILABLE
    await _press(hass, "button.web_boot_into_rescue_mode")
    status = hass.states.get("sensor.web_status")
    assert status.attributes["netboot_mode"] == "rescue"
    assert hass.states.get("button.web_boot_into_rescue_mode").state == (
        STATE_UNAVAILABLE
    )
    await _press(hass, "button.web_boot_from_disk")
    assert hass.states.get("sensor.web_status").attributes["netboot_mode"] == "local"

    # OVHcloud keeps one snapshot per VPS: the button goes once it exists.
    assert hass.states.get("sensor.web_snapshot").state == STATE_UNKNOWN
    await _press(hass, "button.web_take_a_snapshot")
    assert hass.states.get("sensor.web_snapshot").state != STATE_UNKNOWN
    assert hass.states.get("button.web_take_a_snapshot").state == STATE_UNAVAILABLE
    snapshot = hass.states.get("sensor.web_snapshot")
    assert snapshot.attributes["snapshot_id"]


@pytest.mark.usefixtures("entity_registry_enabled_by_default")
async def test_low_disk_repair_through_the_cycle(
    hass: HomeAssistant,
    ovh_entry: MockConfigEntry,
    ovh_sim: OvhSimulator,
    freezer: FrozenDateTimeFactory,
) -> None:
    """A disk filling past the entry's threshold raises a repair issue and turns
    its binary sensor on; freed, both clear (disks are read hourly)."""
    hass.config_entries.async_update_entry(
        ovh_entry, options={**ovh_entry.options, "low_disk_threshold": 80}
    )
    assert await hass.config_entries.async_setup(ovh_entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)
    web = vps_named(ovh_sim, "web")
    disk = ovh_sim.vps[web].disks[0]
    issue_id = f"ovh_low_disk_{ENTRY_ID}_{web}_{disk['id']}"
    binary = f"binary_sensor.web_disk_{disk['id']}_low_on_space"
    issues = ir.async_get(hass)
    assert issues.async_get_issue(DOMAIN, issue_id) is None
    assert hass.states.get(binary).state == "off"
    assert hass.states.get(binary).attributes["threshold"] == 80

    disk["used_mb"] = disk["max_mb"] * 0.85
    freezer.tick(timedelta(hours=1))
    async_fire_time_changed(hass)
    await hass.async_block_till_done(wait_background_tasks=True)
    issue = issues.async_get_issue(DOMAIN, issue_id)
    assert issue is not None
    assert issue.translation_key == "ovh_low_disk_space"
    assert issue.translation_placeholders == {
        "name": "web",
        "disk": str(disk["id"]),
        "used": "85",
        "threshold": "80",
    }
    assert hass.states.get(binary).state == "on"

    disk["used_mb"] = disk["max_mb"] * 0.5
    freezer.tick(timedelta(hours=1))
    async_fire_time_changed(hass)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert issues.async_get_issue(DOMAIN, issue_id) is None
    assert hass.states.get(binary).state == "off"
