"""Fixtures of the Proxmox tests: the simulator on loopback and a cluster entry."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.wakehub.const import (
    CONF_KIND,
    CONF_TIMEOUT,
    DOMAIN,
    KIND_PROXMOX,
)
from custom_components.wakehub.kinds import proxmox as pve_kind
from tests.contract import spec_path
from tests.contract.pve import SPEC_NAME
from tests.simulators.proxmox import DEFAULT_TOKEN_SECRET, ProxmoxSimulator

ENTRY_ID = "01PVECLUSTER0000000000000"
# The guests the entry follows: vmid -> (name, type, node) as the simulator has them.
GUESTS: dict[int, tuple[str, str, str]] = {
    100: ("docker", "qemu", "pve1"),
    102: ("pihole", "lxc", "pve2"),
    104: ("homeassistant", "qemu", "pve2"),
}


@pytest.fixture(autouse=True)
def fast_tasks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Follow Proxmox tasks every 10 ms instead of every second."""
    monkeypatch.setattr(pve_kind.const, "TASK_POLL_INTERVAL", 0.01)


@pytest.fixture
async def pve_sim() -> AsyncIterator[ProxmoxSimulator]:
    """The demo cluster "homelab" (pve1, pve2), with fast tasks."""
    spec_path(SPEC_NAME)
    sim = ProxmoxSimulator(start_delay=0.02, stop_delay=0.02, task_delay=0.02)
    await sim.start()
    yield sim
    await sim.stop()
    assert sim.violations == []


@pytest.fixture
async def quiet_handshakes() -> AsyncIterator[None]:
    """A refused certificate aborts the TLS handshake; the loop's debug mode would
    report the simulator's side of it as an error, which here is the expected
    outcome."""
    loop = asyncio.get_running_loop()
    debug = loop.get_debug()
    loop.set_debug(False)
    yield
    await asyncio.sleep(0.05)  # let the server notice the abort quietly
    loop.set_debug(debug)


def pve_data(sim: ProxmoxSimulator, **overrides: Any) -> dict[str, Any]:
    """The entry data the wizard creates for `sim` (token, pinned certificate)."""
    data: dict[str, Any] = {
        CONF_KIND: KIND_PROXMOX,
        "url": sim.url,
        "username": "root@pam",
        "token_id": "wakehub",
        "token_secret": DEFAULT_TOKEN_SECRET,
        "verify_ssl": True,
        "fingerprint": sim.fingerprint,
        "cluster": "homelab",
        "nodes": ["pve1", "pve2"],
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def guest_subentries(vmids: list[int] | None = None) -> list[dict[str, Any]]:
    return [
        {
            "subentry_id": f"SUB{vmid}",
            "subentry_type": "guest",
            "title": name,
            "unique_id": str(vmid),
            "data": {"vmid": vmid, "type": kind, "node": node, "name": name},
        }
        for vmid, (name, kind, node) in GUESTS.items()
        if vmids is None or vmid in vmids
    ]


def pve_entry_for(
    sim: ProxmoxSimulator,
    subentries: list[dict[str, Any]] | None = None,
    *,
    options: dict[str, Any] | None = None,
    **data: Any,
) -> MockConfigEntry:
    """The entry of the cluster `sim` (GUESTS unless `subentries` say), with a
    5 s timeout unless `options` say; `data` overrides pve_data's. Not added."""
    return MockConfigEntry(
        domain=DOMAIN,
        title="homelab",
        unique_id="homelab",
        data=pve_data(sim, **data),
        options={CONF_TIMEOUT: 5} | (options or {}),
        entry_id=ENTRY_ID,
        subentries_data=guest_subentries() if subentries is None else subentries,
    )


@pytest.fixture
def pve_entry(hass: HomeAssistant, pve_sim: ProxmoxSimulator) -> MockConfigEntry:
    entry = pve_entry_for(pve_sim)
    entry.add_to_hass(hass)
    return entry


@pytest.fixture
async def init_pve(hass: HomeAssistant, pve_entry: MockConfigEntry) -> MockConfigEntry:
    assert await hass.config_entries.async_setup(pve_entry.entry_id)
    await hass.async_block_till_done()
    return pve_entry
