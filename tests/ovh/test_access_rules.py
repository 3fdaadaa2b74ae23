"""A consumer key from before the VPS manager: a repair issue, whose fix is the
reauth that requests a key with the new access rules."""

from __future__ import annotations

from homeassistant.config_entries import SOURCE_REAUTH, ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import issue_registry as ir
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.wakehub.api.ovh.signing import ACCESS_RULES, MANAGER_RULES
from custom_components.wakehub.const import DOMAIN
from tests.ovh.conftest import ENTRY_ID
from tests.ovh.test_config_flow import newest_key, submit
from tests.simulators.ovh import OvhSimulator
from tests.test_machine_entities import repairs_client, start_fix_flow

ISSUE = f"ovh_access_rules_{ENTRY_ID}"


def old_key(sim: OvhSimulator) -> str:
    """A validated key with the rules WakeHub asked for before the VPS manager."""
    return sim.add_credential(
        rules=[
            {"method": m, "path": p}
            for m, p in ACCESS_RULES
            if (m, p) not in MANAGER_RULES
        ],
        state="validated",
    )


async def test_old_key_repair_then_reauth_with_the_new_rules(
    hass: HomeAssistant,
    ovh_sim: OvhSimulator,
    ovh_entry: MockConfigEntry,
    hass_client: ClientSessionGenerator,
) -> None:
    hass.config_entries.async_update_entry(
        ovh_entry, data={**ovh_entry.data, "consumer_key": old_key(ovh_sim)}
    )
    assert await hass.config_entries.async_setup(ovh_entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)
    # The VPSes still work with the old rules; the issue says what is missing.
    assert ovh_entry.state is ConfigEntryState.LOADED
    assert hass.states.get("sensor.web_status").state == "running"
    issue = ir.async_get(hass).async_get_issue(DOMAIN, ISSUE)
    assert issue is not None
    assert issue.is_fixable
    assert issue.translation_key == "ovh_access_rules"
    assert (
        "POST /vps/*/automatedBackup/restore" in issue.translation_placeholders["rules"]
    )

    # The fix explains, then starts the reauth.
    client = await repairs_client(hass, hass_client)
    flow = await start_fix_flow(client, ISSUE)
    assert flow["step_id"] == "confirm"
    assert "POST /vps/*/automatedBackup/restore" in flow["description_placeholders"]["rules"]  # fmt: skip
    resp = await client.post(f"/api/repairs/issues/fix/{flow['flow_id']}", json={})
    assert (await resp.json())["type"] == "create_entry"
    await hass.async_block_till_done()
    reauth = ovh_entry.async_get_active_flows(hass, {SOURCE_REAUTH})
    (result,) = reauth
    assert result["step_id"] == "reauth_confirm"

    # Another key with the old rules is refused, with the reason.
    result = await submit(hass, result["flow_id"], {"consumer_key": old_key(ovh_sim)})
    assert result["step_id"] == "reauth_confirm"
    assert result["errors"] == {"base": "ovh_missing_rules"}
    # Left empty: a new key is requested, with every rule.
    result = await submit(hass, result["flow_id"], {})
    assert result["step_id"] == "ovh_validate"
    key = newest_key(ovh_sim)
    requested = {(r["method"], r["path"]) for r in ovh_sim.credentials[key].rules}
    assert set(MANAGER_RULES) <= requested
    ovh_sim.validate_credential(key)
    result = await submit(hass, result["flow_id"], {})
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reauth_successful"
    await hass.async_block_till_done(wait_background_tasks=True)
    assert ovh_entry.data["consumer_key"] == key
    assert ir.async_get(hass).async_get_issue(DOMAIN, ISSUE) is None


async def test_fix_of_a_removed_entry(
    hass: HomeAssistant,
    ovh_sim: OvhSimulator,
    ovh_entry: MockConfigEntry,
    hass_client: ClientSessionGenerator,
) -> None:
    hass.config_entries.async_update_entry(
        ovh_entry, data={**ovh_entry.data, "consumer_key": old_key(ovh_sim)}
    )
    assert await hass.config_entries.async_setup(ovh_entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)
    client = await repairs_client(hass, hass_client)
    assert await hass.config_entries.async_remove(ovh_entry.entry_id)
    flow = await start_fix_flow(client, ISSUE)
    assert flow["type"] == "abort"
    assert flow["reason"] == "entry_removed"
