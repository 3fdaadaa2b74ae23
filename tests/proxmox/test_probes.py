"""A change under way is probed on the one guest it concerns, not the cluster."""

from __future__ import annotations

from collections.abc import AsyncIterator

from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.wakehub.const import CONF_TIMEOUT, DOMAIN
from tests.contract import spec_path
from tests.contract.pve import SPEC_NAME
from tests.simulators.proxmox import ProxmoxSimulator

from .conftest import pve_data

GUESTS = 50
STARTED = 101  # generated stopped (odd index), on pve2


@pytest.fixture
async def cluster() -> AsyncIterator[ProxmoxSimulator]:
    spec_path(SPEC_NAME)
    sim = ProxmoxSimulator(
        node_count=3, guest_count=GUESTS, start_delay=0.02, stop_delay=0.02
    )
    await sim.start()
    yield sim
    await sim.stop()
    assert sim.violations == []


@pytest.fixture
async def cluster_entry(
    hass: HomeAssistant, cluster: ProxmoxSimulator
) -> MockConfigEntry:
    entry = MockConfigEntry(
        domain=DOMAIN,
        title="homelab",
        unique_id="homelab",
        data=pve_data(cluster, nodes=list(cluster.nodes)),
        options={CONF_TIMEOUT: 5},
        subentries_data=[
            {
                "subentry_id": f"SUB{guest.vmid}",
                "subentry_type": "guest",
                "title": guest.name,
                "unique_id": str(guest.vmid),
                "data": {
                    "vmid": guest.vmid,
                    "type": guest.type,
                    "node": guest.node,
                    "name": guest.name,
                },
            }
            for guest in cluster.guests.values()
        ],
    )
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    return entry


def _paths(sim: ProxmoxSimulator, suffix: str) -> list[str]:
    return [r.path for r in sim.requests if r.path.endswith(suffix)]


@pytest.mark.parametrize(
    ("service", "status"), [("turn_on", "running"), ("turn_off", "stopped")]
)
async def test_probes_read_the_one_guest_then_one_full_poll(
    hass: HomeAssistant,
    cluster: ProxmoxSimulator,
    cluster_entry: MockConfigEntry,
    service: str,
    status: str,
) -> None:
    """Starting (or stopping) one guest of 50: its probes ask Proxmox about that
    guest alone, and the cluster is polled once, when the change is over."""
    vmid = STARTED if service == "turn_on" else STARTED - 1
    guest = cluster.guests[vmid]
    cluster.requests.clear()
    await hass.services.async_call(
        "switch", service, {"entity_id": f"switch.guest_{vmid}"}, blocking=True
    )
    await hass.async_block_till_done()
    assert guest.status == status
    own = f"/api2/json/nodes/{guest.node}/{guest.type}/{vmid}/status/current"
    assert _paths(cluster, "/status/current") == [own]
    assert len(_paths(cluster, "/cluster/resources")) == 1
    assert hass.states.get(f"switch.guest_{vmid}").state == (
        "on" if status == "running" else "off"
    )


async def test_a_slow_guest_is_probed_until_it_runs(
    hass: HomeAssistant, cluster: ProxmoxSimulator, cluster_entry: MockConfigEntry
) -> None:
    """Proxmox still says "stopped" after the task: probed again, on that guest
    only; one full poll at the end."""
    guest = cluster.guests[STARTED]
    own = f"/api2/json/nodes/{guest.node}/{guest.type}/{STARTED}/status/current"
    stale = '{"data": {"vmid": 101, "status": "stopped", "cpus": 2}}'
    cluster.inject(own, body=stale, count=2)
    cluster.requests.clear()
    await hass.services.async_call(
        "switch", "turn_on", {"entity_id": f"switch.guest_{STARTED}"}, blocking=True
    )
    assert _paths(cluster, "/status/current") == [own] * 3
    assert len(_paths(cluster, "/cluster/resources")) == 1
    assert hass.states.get(f"switch.guest_{STARTED}").state == "on"


async def test_a_failed_probe_falls_back_to_a_full_poll(
    hass: HomeAssistant, cluster: ProxmoxSimulator, cluster_entry: MockConfigEntry
) -> None:
    guest = cluster.guests[STARTED]
    own = f"/api2/json/nodes/{guest.node}/{guest.type}/{STARTED}/status/current"
    cluster.inject(own, body='{"data": []}', count=1)
    cluster.requests.clear()
    await hass.services.async_call(
        "switch", "turn_on", {"entity_id": f"switch.guest_{STARTED}"}, blocking=True
    )
    assert _paths(cluster, "/status/current") == [own]
    # The failed probe fell back to a full poll, which saw it running: no
    # other poll is needed to end the change.
    assert len(_paths(cluster, "/cluster/resources")) == 1
    assert hass.states.get(f"switch.guest_{STARTED}").state == "on"
