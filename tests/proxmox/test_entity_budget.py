"""Home Assistant's cap on an entry's entities, as the choose step shows it."""

from __future__ import annotations

from collections.abc import AsyncIterator

from homeassistant.config_entries import SOURCE_USER
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import entity_registry as er
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.wakehub.flows.choose import (
    ENTITY_LIMIT,
    enabled_per_resource,
)
from tests.simulators.proxmox import ProxmoxSimulator

from .test_config_flow import TRUST, form, start_flow

#: One more guest than fits in full in one entry.
PER_GUEST = enabled_per_resource()
GUESTS = ENTITY_LIMIT // PER_GUEST + 1


@pytest.fixture
async def big_sim() -> AsyncIterator[ProxmoxSimulator]:
    sim = ProxmoxSimulator(node_count=3, guest_count=GUESTS, contract=False)
    await sim.start()
    yield sim
    await sim.stop()


async def test_choose_step_warns_past_the_entity_limit(
    hass: HomeAssistant, big_sim: ProxmoxSimulator, quiet_handshakes: None
) -> None:
    """Everything found would not fit in full: the form says how many fit, as a
    warning; a choice past it is no error."""
    flow_id = await start_flow(hass)
    result = await hass.config_entries.flow.async_configure(flow_id, form(big_sim))
    result = await hass.config_entries.flow.async_configure(flow_id, TRUST)
    assert result["step_id"] == "resources"
    assert "entity_limit" in result["data_schema"].schema
    assert result["description_placeholders"] == {
        "server": "homelab",
        "count": str(GUESTS),
        "limit": f"{ENTITY_LIMIT:,}",
        "per_resource": str(PER_GUEST),
        "fit": str(GUESTS - 1),
        "switches": str(ENTITY_LIMIT),
    }
    # Within the limit: created as usual.
    result = await hass.config_entries.flow.async_configure(
        flow_id, {"resources": ["100", "101"], "entity_limit": True}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()


async def test_small_server_has_no_warning(
    hass: HomeAssistant, pve_sim: ProxmoxSimulator, quiet_handshakes: None
) -> None:
    flow_id = await start_flow(hass)
    result = await hass.config_entries.flow.async_configure(flow_id, form(pve_sim))
    result = await hass.config_entries.flow.async_configure(flow_id, TRUST)
    assert "entity_limit" not in result["data_schema"].schema


async def _fill(
    hass: HomeAssistant, entry: MockConfigEntry, registry: er.EntityRegistry, room: int
) -> None:
    """Set `entry` up, then fill it with enabled entities up to `room` below the
    limit."""
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    enabled = [
        e
        for e in er.async_entries_for_config_entry(registry, entry.entry_id)
        if e.disabled_by is None
    ]
    for i in range(ENTITY_LIMIT - len(enabled) - room):
        registry.async_get_or_create(
            "sensor", "other", f"filler_{i}", config_entry=entry
        )


async def test_a_choice_past_the_limit_still_gets_its_power_switch(
    hass: HomeAssistant,
    pve_entry: MockConfigEntry,
    entity_registry: er.EntityRegistry,
) -> None:
    """Room for fewer entities than a guest has: warned, not refused, and the
    guest's power switch exists (it is created first)."""
    await _fill(hass, pve_entry, entity_registry, room=PER_GUEST - 1)
    result = await hass.config_entries.subentries.async_init(
        (pve_entry.entry_id, "guest"), context={"source": SOURCE_USER}
    )
    assert "entity_limit" in result["data_schema"].schema
    assert result["description_placeholders"]["fit"] == "0"
    assert result["description_placeholders"]["switches"] == str(PER_GUEST - 1)
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], {"resources": ["101"]}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    assert hass.states.get("switch.windows11") is not None


async def test_adding_guests_to_a_full_entry_is_refused(
    hass: HomeAssistant,
    pve_entry: MockConfigEntry,
    entity_registry: er.EntityRegistry,
) -> None:
    """An entry already at the limit: a new guest would not even get its power
    switch, so the choice is refused, saying how many more fit (none)."""
    await _fill(hass, pve_entry, entity_registry, room=0)
    result = await hass.config_entries.subentries.async_init(
        (pve_entry.entry_id, "guest"), context={"source": SOURCE_USER}
    )
    assert "entity_limit" in result["data_schema"].schema
    assert result["description_placeholders"]["fit"] == "0"
    assert result["description_placeholders"]["switches"] == "0"
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], {"resources": ["101"]}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": "entity_limit"}
