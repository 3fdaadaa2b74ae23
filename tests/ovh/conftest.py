"""Fixtures of the OVHcloud tests: the simulator over HTTPS on loopback, an entry."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.wakehub.api.tls import format_fingerprint
from custom_components.wakehub.const import CONF_KIND, CONF_TIMEOUT, DOMAIN, KIND_OVH
from custom_components.wakehub.kinds import ovh as ovh_kind
from tests.simulators.ovh import OvhSimulator

ENTRY_ID = "01OVHACCOUNT0000000000000"


@pytest.fixture(autouse=True)
def fast_ovh_timing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Follow tasks and back off after a 429 in milliseconds, not seconds."""
    monkeypatch.setattr(ovh_kind.const, "TASK_POLL_INTERVAL", 0.01)
    monkeypatch.setattr(ovh_kind.const, "RETRY_BACKOFF", 0.01)


@pytest.fixture
async def ovh_sim(hass: HomeAssistant) -> AsyncIterator[OvhSimulator]:
    """Three VPSes: web (running, snapshot + backup options), db (stopped), mail.

    Started after `hass`, so its loop exception handler wraps Home Assistant's.
    """
    sim = OvhSimulator(vps_count=3, task_duration=0.05, task_start_delay=0.01)
    await sim.start()
    yield sim
    await sim.stop()
    assert sim.violations == []


def sim_fingerprint(sim: OvhSimulator) -> str:
    assert sim.certificate is not None
    return format_fingerprint(sim.certificate.der)


def ovh_data(sim: OvhSimulator, **overrides: Any) -> dict[str, Any]:
    """The entry data the wizard creates for `sim`."""
    data = {
        CONF_KIND: KIND_OVH,
        "endpoint": f"{sim.url}/1.0",
        "application_key": sim.application_key,
        "application_secret": sim.application_secret,
        "consumer_key": sim.consumer_key,
        "fingerprint": sim_fingerprint(sim),
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def vps_named(sim: OvhSimulator, display_name: str) -> str:
    return next(n for n, v in sim.vps.items() if v.display_name == display_name)


def vps_subentries(sim: OvhSimulator, *names: str) -> list[dict[str, Any]]:
    chosen = names or ("web", "db", "mail")
    return [
        {
            "subentry_id": f"SUB{display.upper():0<23}"[:26],
            "subentry_type": "vps",
            "unique_id": vps_named(sim, display),
            "title": display,
            "data": {"service_name": vps_named(sim, display)},
        }
        for display in chosen
    ]


@pytest.fixture
def ovh_entry(hass: HomeAssistant, ovh_sim: OvhSimulator) -> MockConfigEntry:
    entry = MockConfigEntry(
        domain=DOMAIN,
        title=f"OVHcloud {ovh_sim.nichandle}",
        unique_id=ovh_sim.nichandle,
        data=ovh_data(ovh_sim),
        options={CONF_TIMEOUT: 1},
        entry_id=ENTRY_ID,
        subentries_data=vps_subentries(ovh_sim),
    )
    entry.add_to_hass(hass)
    return entry


@pytest.fixture
async def init_ovh(hass: HomeAssistant, ovh_entry: MockConfigEntry) -> MockConfigEntry:
    assert await hass.config_entries.async_setup(ovh_entry.entry_id)
    await hass.async_block_till_done()
    return ovh_entry
