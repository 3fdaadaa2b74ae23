"""Proxmox entities: what one poll shows, and how the cluster's changes show."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any
from unittest.mock import patch

from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from homeassistant.helpers import (
    device_registry as dr,
    entity_registry as er,
    issue_registry as ir,
)
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    snapshot_platform,
)
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator
from syrupy.assertion import SnapshotAssertion

from custom_components.wakehub.const import DOMAIN
from custom_components.wakehub.kinds import proxmox as pve_kind
from tests.conftest import find_device
from tests.simulators.base import SelfSignedCertificate
from tests.simulators.proxmox import (
    DEFAULT_PASSWORD,
    DEFAULT_TOKEN_SECRET,
    ProxmoxSimulator,
)

from .conftest import ENTRY_ID, guest_subentries, pve_data


def _device(hass: HomeAssistant, key: str) -> dr.DeviceEntry:
    device = find_device(hass, (DOMAIN, key), ENTRY_ID)
    assert device is not None
    return device


async def _refresh(entry: MockConfigEntry) -> None:
    await entry.runtime_data.coordinator.async_refresh()
    await entry.runtime_data.coordinator.hass.async_block_till_done()


@pytest.mark.parametrize("platform", ["button", "sensor", "switch"])
@pytest.mark.usefixtures("entity_registry_enabled_by_default")
async def test_entities(
    hass: HomeAssistant,
    platform: str,
    pve_sim: ProxmoxSimulator,
    pve_entry: MockConfigEntry,
    entity_registry: er.EntityRegistry,
    snapshot: SnapshotAssertion,
    freezer: FrozenDateTimeFactory,
) -> None:
    freezer.move_to("2026-05-01T12:00:00+00:00")
    now = time.time()
    for guest in pve_sim.guests.values():
        if guest.status == "running":
            guest.started_at = now - 3600 * (guest.vmid - 99)
    for node in pve_sim.nodes.values():
        node.boot_time = now - 3 * 86400
    with patch("custom_components.wakehub.PLATFORMS", [platform]):
        assert await hass.config_entries.async_setup(pve_entry.entry_id)
        await hass.async_block_till_done()
    await snapshot_platform(hass, entity_registry, snapshot, pve_entry.entry_id)


async def test_devices(hass: HomeAssistant, init_pve: MockConfigEntry) -> None:
    """Each node and each guest is a device; guests hang under their node."""
    pve2 = _device(hass, "homelab_pve2")
    assert (pve2.name, pve2.model) == ("pve2", "Proxmox VE node")
    pihole = _device(hass, "homelab_102")
    assert (pihole.name, pihole.model, pihole.serial_number) == (
        "pihole",
        "LXC container",
        "102",
    )
    assert pihole.via_device_id == pve2.id
    # The device belongs to the guest's subentry (2026.10 names it directly).
    subentries = getattr(pihole, "config_subentry_id", None) or next(
        iter(pihole.config_entries_subentries[ENTRY_ID])
    )
    assert subentries == "SUB102"
    assert (
        _device(hass, "homelab_100").via_device_id == _device(hass, "homelab_pve1").id
    )
    # A node without a machine is powered through the cluster (test_node_power.py).
    assert hass.states.get("switch.pve1").state == "on"


async def test_one_request_per_refresh(
    hass: HomeAssistant, pve_sim: ProxmoxSimulator, init_pve: MockConfigEntry
) -> None:
    pve_sim.requests.clear()
    await _refresh(init_pve)
    assert pve_sim.count() == 1
    assert pve_sim.requests[0].path == "/api2/json/cluster/resources"
    await _refresh(init_pve)
    assert pve_sim.count() == 2


@pytest.mark.usefixtures("entity_registry_enabled_by_default")
async def test_network_rates_from_two_polls(
    hass: HomeAssistant,
    pve_sim: ProxmoxSimulator,
    pve_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    freezer.move_to("2026-05-01T12:00:00+00:00")
    assert await hass.config_entries.async_setup(pve_entry.entry_id)
    await hass.async_block_till_done()
    assert hass.states.get("sensor.docker_network_in").state == STATE_UNAVAILABLE
    freezer.tick(10)
    await _refresh(pve_entry)
    # The simulator's counters grow by 4096 B/s in and 512 B/s out for vmid 100.
    assert float(hass.states.get("sensor.docker_network_in").state) == 4.096
    assert float(hass.states.get("sensor.docker_network_out").state) == 0.512


async def test_lock_shows_on_the_status(
    hass: HomeAssistant, pve_sim: ProxmoxSimulator, init_pve: MockConfigEntry
) -> None:
    status = hass.states.get("sensor.homeassistant_status")
    assert status.state == "backuping"
    assert status.attributes["lock"] == "backup"
    pve_sim.set_locked(104, "snapshot")
    await _refresh(init_pve)
    status = hass.states.get("sensor.homeassistant_status")
    assert (status.state, status.attributes["lock"]) == ("running", "snapshot")
    pve_sim.set_locked(104, None)
    await _refresh(init_pve)
    assert hass.states.get("sensor.homeassistant_status").attributes["lock"] is None


async def test_migration_moves_the_device(
    hass: HomeAssistant, pve_sim: ProxmoxSimulator, init_pve: MockConfigEntry
) -> None:
    pve_sim.migrate(100, "pve2")
    await _refresh(init_pve)
    assert (
        _device(hass, "homelab_100").via_device_id == _device(hass, "homelab_pve2").id
    )
    assert hass.states.get("sensor.docker_status").attributes["node"] == "pve2"
    # Actions go to the new node directly.
    pve_sim.requests.clear()
    await hass.services.async_call(
        "switch", "turn_off", {"entity_id": "switch.docker"}, blocking=True
    )
    assert pve_sim.count("POST", "/api2/json/nodes/pve2/qemu/100/status/shutdown") == 1
    assert pve_sim.count("POST", "/api2/json/nodes/pve1") == 0
    # After a reload the device is created under its new node straight away.
    await hass.config_entries.async_reload(init_pve.entry_id)
    await hass.async_block_till_done()
    assert (
        _device(hass, "homelab_100").via_device_id == _device(hass, "homelab_pve2").id
    )


async def test_guest_moved_while_home_assistant_was_off(
    hass: HomeAssistant, pve_sim: ProxmoxSimulator, pve_entry: MockConfigEntry
) -> None:
    """The subentry still names pve1; the device is created under pve2."""
    pve_sim.migrate(100, "pve2")
    other = MockConfigEntry(domain=DOMAIN, data={"kind": "proxmox"}, unique_id="x")
    other.add_to_hass(hass)
    assert await hass.config_entries.async_setup(pve_entry.entry_id)
    await hass.async_block_till_done()
    assert (
        _device(hass, "homelab_100").via_device_id == _device(hass, "homelab_pve2").id
    )
    # Another entry changing does not reload this one.
    hass.config_entries.async_update_entry(other, title="renamed")
    await hass.async_block_till_done()
    assert pve_entry.state is ConfigEntryState.LOADED


@pytest.mark.usefixtures("entity_registry_enabled_by_default")
async def test_node_offline_and_back(
    hass: HomeAssistant, pve_sim: ProxmoxSimulator, init_pve: MockConfigEntry
) -> None:
    assert hass.states.get("sensor.pve2_proxmox_cpu").state != STATE_UNAVAILABLE
    pve_sim.set_node_online("pve2", False)
    await _refresh(init_pve)
    assert hass.states.get("sensor.pve2_proxmox_status").state == "stopped"
    assert hass.states.get("sensor.pve2_proxmox_cpu").state == STATE_UNAVAILABLE
    assert hass.states.get("sensor.pihole_status").state == "unknown"
    for sensor in ("cpu", "memory", "disk", "booted"):
        assert hass.states.get(f"sensor.pihole_{sensor}").state == STATE_UNAVAILABLE
    assert hass.states.get("switch.pihole").state == "off"
    assert hass.states.get("sensor.docker_cpu").state != STATE_UNAVAILABLE

    pve_sim.set_node_online("pve2", True)
    await _refresh(init_pve)
    assert hass.states.get("sensor.pve2_proxmox_status").state == "running"
    assert hass.states.get("sensor.pve2_proxmox_cpu").state != STATE_UNAVAILABLE
    assert hass.states.get("sensor.pihole_status").state == "running"
    assert hass.states.get("sensor.pihole_cpu").state != STATE_UNAVAILABLE


async def test_cluster_unreachable_and_back(
    hass: HomeAssistant, pve_sim: ProxmoxSimulator, init_pve: MockConfigEntry
) -> None:
    await pve_sim.stop()
    await _refresh(init_pve)
    assert hass.states.get("switch.docker").state == STATE_UNAVAILABLE
    assert hass.states.get("sensor.pve1_proxmox_status").state == STATE_UNAVAILABLE
    await pve_sim.start()  # same port
    await _refresh(init_pve)
    assert hass.states.get("switch.docker").state == "on"


async def test_ticket_expiry_mid_session(
    hass: HomeAssistant, pve_sim: ProxmoxSimulator
) -> None:
    entry = MockConfigEntry(
        domain=DOMAIN,
        title="homelab",
        unique_id="homelab",
        data=pve_data(
            pve_sim, token_id=None, token_secret=None, password=DEFAULT_PASSWORD
        ),
        entry_id=ENTRY_ID,
        subentries_data=guest_subentries([100]),
    )
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert pve_sim.count("POST", "/api2/json/access/ticket") == 1
    pve_sim.expire_tickets()
    await _refresh(entry)
    assert pve_sim.count("POST", "/api2/json/access/ticket") == 2
    assert hass.states.get("switch.docker").state == "on"
    # Writes carry the renewed ticket's CSRF token.
    await hass.services.async_call(
        "switch", "turn_off", {"entity_id": "switch.docker"}, blocking=True
    )
    assert hass.states.get("switch.docker").state == "off"


async def test_deleted_guest_raises_a_repair_issue(
    hass: HomeAssistant,
    pve_sim: ProxmoxSimulator,
    init_pve: MockConfigEntry,
    issue_registry: ir.IssueRegistry,
) -> None:
    issue_id = f"proxmox_guest_missing_{ENTRY_ID}_102"
    pihole = pve_sim.guests.pop(102)
    await _refresh(init_pve)
    issue = issue_registry.async_get_issue(DOMAIN, issue_id)
    assert issue is not None
    assert not issue.is_fixable
    assert issue.translation_key == "proxmox_guest_missing"
    assert issue.translation_placeholders == {
        "name": "pihole",
        "vmid": "102",
        "cluster": "homelab",
    }
    assert init_pve.state is ConfigEntryState.LOADED
    assert hass.states.get("switch.pihole").state == STATE_UNAVAILABLE
    assert hass.states.get("switch.docker").state == "on"
    await _refresh(init_pve)  # still missing: one issue, not a new one each poll
    assert issue_registry.async_get_issue(DOMAIN, issue_id) is not None

    pve_sim.guests[102] = pihole
    await _refresh(init_pve)
    assert issue_registry.async_get_issue(DOMAIN, issue_id) is None
    assert hass.states.get("switch.pihole").state == "on"

    pve_sim.guests.pop(102)
    await _refresh(init_pve)
    assert await hass.config_entries.async_unload(init_pve.entry_id)
    assert issue_registry.async_get_issue(DOMAIN, issue_id) is None


async def test_changed_certificate_raises_a_repair_issue(
    hass: HomeAssistant,
    pve_sim: ProxmoxSimulator,
    init_pve: MockConfigEntry,
    issue_registry: ir.IssueRegistry,
    quiet_handshakes: None,
) -> None:
    issue_id = f"certificate_changed_{ENTRY_ID}"
    pinned = pve_sim.fingerprint
    await pve_sim.stop()
    pve_sim.certificate = SelfSignedCertificate.generate()
    await pve_sim.start()
    pve_sim.requests.clear()
    await _refresh(init_pve)
    issue = issue_registry.async_get_issue(DOMAIN, issue_id)
    assert issue is not None
    assert issue.translation_placeholders == {
        "name": "homelab",
        "fingerprint": pve_sim.fingerprint,
        "previous": pinned,
    }
    assert hass.states.get("switch.docker").state == STATE_UNAVAILABLE
    assert pve_sim.count(path_prefix="/api2") == 0, "nothing sent to the new server"

    # The user re-pins (reconfigure); the next poll clears the issue.
    hass.config_entries.async_update_entry(
        init_pve, data={**init_pve.data, "fingerprint": pve_sim.fingerprint}
    )
    await hass.config_entries.async_reload(init_pve.entry_id)
    await hass.async_block_till_done()
    assert issue_registry.async_get_issue(DOMAIN, issue_id) is None
    assert hass.states.get("switch.docker").state == "on"


async def test_refused_credentials_start_reauth(
    hass: HomeAssistant, pve_sim: ProxmoxSimulator, init_pve: MockConfigEntry
) -> None:
    pve_sim.add_token("root@pam", "wakehub", "revoked-and-recreated")
    await _refresh(init_pve)
    flows = hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    assert [f["context"]["source"] for f in flows] == ["reauth"]
    assert hass.states.get("switch.docker").state == STATE_UNAVAILABLE


class BrokenResources(ProxmoxSimulator):
    async def _resources(self, request: Any, _p: Any) -> Any:
        from tests.simulators.proxmox import PveError

        raise PveError(500, "cluster resources unavailable")


async def test_setup_retries_when_the_poll_fails(hass: HomeAssistant) -> None:
    sim = BrokenResources()
    await sim.start()
    try:
        entry = MockConfigEntry(domain=DOMAIN, unique_id="homelab", data=pve_data(sim))
        entry.add_to_hass(hass)
        assert not await hass.config_entries.async_setup(entry.entry_id)
        assert entry.state is ConfigEntryState.SETUP_RETRY
        assert "cluster resources unavailable" in str(entry.reason)
    finally:
        await sim.stop()


async def test_setup_retries_on_timeout(
    hass: HomeAssistant, pve_sim: ProxmoxSimulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pve_kind.const, "REQUEST_TIMEOUT", 0.3)

    async def handle(
        reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        await reader.read()
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        entry = MockConfigEntry(
            domain=DOMAIN,
            unique_id="homelab",
            data=pve_data(pve_sim, url=f"https://127.0.0.1:{port}"),
        )
        entry.add_to_hass(hass)
        assert not await hass.config_entries.async_setup(entry.entry_id)
        assert entry.state is ConfigEntryState.SETUP_RETRY
        assert "did not answer in time" in str(entry.reason)
    finally:
        server.close()
        await server.wait_closed()


async def test_no_secret_in_logs_or_diagnostics(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    pve_sim: ProxmoxSimulator,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    pve_sim.add_user("root@pam", "s3cret-password-value")
    entries = []
    for index, credentials in enumerate(
        (
            {},
            {
                "token_id": None,
                "token_secret": None,
                "password": "s3cret-password-value",
            },
        )
    ):
        entry = MockConfigEntry(
            domain=DOMAIN,
            title=f"homelab{index}",
            unique_id=f"homelab{index}",
            data=pve_data(pve_sim, cluster=f"homelab{index}", **credentials),
            subentries_data=guest_subentries([100, 104]) if index == 0 else (),
        )
        entry.add_to_hass(hass)
        assert await hass.config_entries.async_setup(entry.entry_id)
        entries.append(entry)
    await hass.async_block_till_done()
    # Failures: a refused action, an expired ticket, refused credentials.
    with pytest.raises(Exception, match="locked"):
        await hass.services.async_call(
            "switch", "turn_off", {"entity_id": "switch.homeassistant"}, blocking=True
        )
    pve_sim.expire_tickets()
    await _refresh(entries[1])
    diagnostics = [
        await get_diagnostics_for_config_entry(hass, hass_client, entry)
        for entry in entries
    ]
    pve_sim.tokens["root@pam!wakehub"] = "changed"
    pve_sim.passwords["root@pam"] = "changed"
    await _refresh(entries[0])
    await _refresh(entries[1])

    assert diagnostics[0]["entry"]["data"]["token_secret"] == "**REDACTED**"
    assert diagnostics[1]["entry"]["data"]["password"] == "**REDACTED**"
    assert diagnostics[0]["resources"]["homelab0_100"]["state"]["status"] == "running"
    text = caplog.text + repr(diagnostics)
    tickets = list(pve_sim.tickets)
    for secret in (DEFAULT_TOKEN_SECRET, "s3cret-password-value", *tickets):
        assert secret not in text
