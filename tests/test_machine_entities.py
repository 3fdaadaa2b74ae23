"""The machine's device and entities: snapshot, metrics, availability, first contact."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from unittest.mock import patch

from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import STATE_UNAVAILABLE, Platform
from homeassistant.core import HomeAssistant
from homeassistant.helpers import (
    device_registry as dr,
    entity_registry as er,
    issue_registry as ir,
)
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_time_changed,
    snapshot_platform,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator
from syrupy.assertion import SnapshotAssertion

from custom_components.wakehub.const import CONF_HOST_KEY, DOMAIN
from tests.conftest import machine_data
from tests.simulators.machine import MachineSimulator


@pytest.mark.freeze_time("2026-11-21 08:00:00+00:00")
@pytest.mark.parametrize(
    "platform", [Platform.BUTTON, Platform.SENSOR, Platform.SWITCH]
)
@pytest.mark.usefixtures("entity_registry_enabled_by_default")
async def test_entities_snapshot(
    hass: HomeAssistant,
    machine_sim: MachineSimulator,
    machine_entry: MockConfigEntry,
    entity_registry: er.EntityRegistry,
    snapshot: SnapshotAssertion,
    platform: Platform,
) -> None:
    await machine_sim.power_on()
    # One platform per snapshot, as snapshot_platform requires.
    with patch("custom_components.wakehub.PLATFORMS", [platform]):
        assert await hass.config_entries.async_setup(machine_entry.entry_id)
        await hass.async_block_till_done()
    await snapshot_platform(hass, entity_registry, snapshot, machine_entry.entry_id)


async def test_device(
    hass: HomeAssistant,
    init_machine: MockConfigEntry,
    device_registry: dr.DeviceRegistry,
) -> None:
    [device] = dr.async_entries_for_config_entry(device_registry, init_machine.entry_id)
    assert (DOMAIN, "52:54:00:12:34:56") in device.identifiers
    assert device.name == "NAS"
    assert (dr.CONNECTION_NETWORK_MAC, "52:54:00:12:34:56") in device.connections


@pytest.mark.usefixtures("entity_registry_enabled_by_default")
async def test_metrics_follow_the_machine(
    hass: HomeAssistant,
    machine_sim: MachineSimulator,
    init_machine: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Off: figures unavailable. On: read over SSH. Not Linux: unavailable again."""
    assert hass.states.get("sensor.nas_cpu").state == STATE_UNAVAILABLE
    assert hass.states.get("sensor.nas_booted").state == STATE_UNAVAILABLE

    await machine_sim.power_on()
    freezer.tick(timedelta(seconds=31))
    async_fire_time_changed(hass)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert hass.states.get("sensor.nas_cpu").state == "13.0"
    assert hass.states.get("sensor.nas_memory").state == "25.0"
    booted = hass.states.get("sensor.nas_booted").state
    assert booted != STATE_UNAVAILABLE

    # The boot time stays put from one poll to the next (no flapping).
    freezer.tick(timedelta(seconds=31))
    async_fire_time_changed(hass)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert hass.states.get("sensor.nas_booted").state == booted

    # A host without /proc (Windows with OpenSSH): the figures go unavailable,
    # the machine itself stays on.
    machine_sim.metrics_output = None
    freezer.tick(timedelta(seconds=31))
    async_fire_time_changed(hass)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert hass.states.get("sensor.nas_cpu").state == STATE_UNAVAILABLE
    assert hass.states.get("switch.nas").state == "on"


async def test_host_key_pinned_at_first_contact(
    hass: HomeAssistant, machine_sim: MachineSimulator, freezer: FrozenDateTimeFactory
) -> None:
    """Added while off: the key is pinned the first time the machine answers."""
    entry = MockConfigEntry(
        domain=DOMAIN,
        title="NAS",
        unique_id=machine_sim.mac,
        data=machine_data(machine_sim, host_key=None),
    )
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert CONF_HOST_KEY not in entry.data

    await machine_sim.power_on()
    freezer.tick(timedelta(seconds=31))
    async_fire_time_changed(hass)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert entry.data[CONF_HOST_KEY] == machine_sim.host_key
    assert hass.states.get("sensor.nas_cpu").state == "13.0"


async def test_changed_host_key_raises_a_repair_and_is_fixed(
    hass: HomeAssistant,
    machine_sim: MachineSimulator,
    machine_entry: MockConfigEntry,
    issue_registry: ir.IssueRegistry,
    hass_client: ClientSessionGenerator,
) -> None:
    """Never accepted silently: a repair issue, and the fix flow pins the new key."""
    machine_sim.regenerate_host_key()
    await machine_sim.power_on()
    assert await hass.config_entries.async_setup(machine_entry.entry_id)
    await hass.async_block_till_done()

    issue_id = f"host_key_changed_{machine_entry.entry_id}"
    issue = issue_registry.async_get_issue(DOMAIN, issue_id)
    assert issue is not None
    assert issue.translation_key == "host_key_changed"
    assert issue.translation_placeholders == {
        "name": "NAS",
        "fingerprint": machine_sim.host_key_fingerprint,
    }
    # No credentials went to the impostor: the metrics stay unavailable.
    assert hass.states.get("sensor.nas_cpu").state == STATE_UNAVAILABLE
    assert machine_sim.commands == []

    client = await repairs_client(hass, hass_client)
    flow = await start_fix_flow(client, issue_id)
    assert flow["type"] == "menu"
    assert flow["step_id"] == "confirm"
    assert flow["menu_options"] == ["trust", "not_trusted"]
    assert (
        flow["description_placeholders"]["fingerprint"]
        == machine_sim.host_key_fingerprint
    )
    # "Cancel": nothing is pinned, the issue stays.
    resp = await client.post(
        f"/api/repairs/issues/fix/{flow['flow_id']}",
        json={"next_step_id": "not_trusted"},
    )
    assert (await resp.json())["reason"] == "not_trusted"
    assert machine_entry.data[CONF_HOST_KEY] != machine_sim.host_key
    assert issue_registry.async_get_issue(DOMAIN, issue_id) is not None
    # "Trust the new host key": pinned, set up again.
    flow = await start_fix_flow(client, issue_id)
    resp = await client.post(
        f"/api/repairs/issues/fix/{flow['flow_id']}", json={"next_step_id": "trust"}
    )
    assert (await resp.json())["type"] == "create_entry"
    await hass.async_block_till_done(wait_background_tasks=True)
    assert machine_entry.data[CONF_HOST_KEY] == machine_sim.host_key
    assert machine_entry.state is ConfigEntryState.LOADED
    assert issue_registry.async_get_issue(DOMAIN, issue_id) is None
    assert hass.states.get("sensor.nas_cpu").state == "13.0"


async def test_repair_flow_when_machine_is_off(
    hass: HomeAssistant,
    machine_sim: MachineSimulator,
    machine_entry: MockConfigEntry,
    hass_client: ClientSessionGenerator,
) -> None:
    machine_sim.regenerate_host_key()
    await machine_sim.power_on()
    assert await hass.config_entries.async_setup(machine_entry.entry_id)
    await hass.async_block_till_done()
    await machine_sim.power_off()
    client = await repairs_client(hass, hass_client)
    flow = await start_fix_flow(client, f"host_key_changed_{machine_entry.entry_id}")
    assert flow["type"] == "abort"
    assert flow["reason"] == "cannot_connect"


async def test_unload(hass: HomeAssistant, init_machine: MockConfigEntry) -> None:
    assert await hass.config_entries.async_unload(init_machine.entry_id)
    assert init_machine.state is ConfigEntryState.NOT_LOADED


async def test_platforms_registered(
    hass: HomeAssistant, init_machine: MockConfigEntry
) -> None:
    for platform in (Platform.SWITCH, Platform.BUTTON, Platform.SENSOR):
        assert hass.states.async_entity_ids(platform)


async def repairs_client(
    hass: HomeAssistant, hass_client: ClientSessionGenerator
) -> Any:
    """An HTTP client on Home Assistant's API with the repairs component loaded."""
    assert await async_setup_component(hass, "repairs", {})
    # Repairs platforms register in the background on older releases.
    await hass.async_block_till_done(wait_background_tasks=True)
    return await hass_client()


async def start_fix_flow(client: Any, issue_id: str) -> dict[str, Any]:
    resp = await client.post(
        "/api/repairs/issues/fix", json={"handler": DOMAIN, "issue_id": issue_id}
    )
    return dict(await resp.json())


async def test_a_poll_that_changes_nothing_writes_nothing(
    hass: HomeAssistant,
    machine_sim: MachineSimulator,
    init_machine: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Entities are written only when what they show changed (issue: scale)."""
    entity_ids = ("switch.nas", "sensor.nas_status", "button.nas_reboot")
    before = {e: hass.states.get(e).last_reported for e in entity_ids}
    freezer.tick(timedelta(seconds=31))
    async_fire_time_changed(hass)
    await hass.async_block_till_done(wait_background_tasks=True)
    # The machine is still off: same state, same attributes, nothing written.
    assert {e: hass.states.get(e).last_reported for e in entity_ids} == before

    await machine_sim.power_on()
    freezer.tick(timedelta(seconds=31))
    async_fire_time_changed(hass)
    await hass.async_block_till_done(wait_background_tasks=True)
    # It came on: what changed is written at once.
    assert hass.states.get("switch.nas").state == "on"
    assert hass.states.get("sensor.nas_status").state == "running"
    assert hass.states.get("button.nas_reboot").state != STATE_UNAVAILABLE


async def test_reboot_is_unavailable_while_the_machine_is_off(
    hass: HomeAssistant, init_machine: MockConfigEntry
) -> None:
    """A reboot never starts a resource that is off."""
    assert hass.states.get("switch.nas").state == "off"
    assert hass.states.get("button.nas_reboot").state == STATE_UNAVAILABLE
