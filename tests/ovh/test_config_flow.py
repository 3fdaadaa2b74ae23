"""The OVHcloud wizard against the simulator over HTTPS on loopback."""

from __future__ import annotations

from typing import Any

from homeassistant.config_entries import SOURCE_USER, ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResult, FlowResultType
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.wakehub.api.ovh.signing import ENDPOINTS
from custom_components.wakehub.const import CONF_SCAN_INTERVAL, CONF_TIMEOUT, DOMAIN
from tests.ovh.conftest import ENTRY_ID, ovh_data, sim_fingerprint, vps_named
from tests.simulators.ovh import OvhSimulator

# Submits a trust menu: trust the certificate shown.
TRUST = {"next_step_id": "trust"}
# Submits the choose step with nothing but the server.
SERVER_ONLY = {"server_only": True}


def form(sim: OvhSimulator, **overrides: Any) -> dict[str, Any]:
    """What a user types into the `ovh` step for `sim`."""
    data = {
        "endpoint": f"{sim.url}/1.0",
        "application_key": sim.application_key,
        "application_secret": sim.application_secret,
        "consumer_key": sim.consumer_key,
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


async def start(hass: HomeAssistant) -> str:
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_USER}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "ovh"}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "ovh"
    return str(result["flow_id"])


async def submit(hass: HomeAssistant, flow_id: str, data: dict[str, Any]) -> Any:
    return await hass.config_entries.flow.async_configure(flow_id, data)


async def pin(hass: HomeAssistant, flow_id: str, sim: OvhSimulator) -> Any:
    """Submit the form and confirm the simulator's self-signed certificate."""
    result = await submit(hass, flow_id, form(sim))
    assert result["step_id"] == "certificate"
    assert result["description_placeholders"]["fingerprint"] == sim_fingerprint(sim)
    return result


def newest_key(sim: OvhSimulator) -> str:
    return list(sim.credentials)[-1]


def check_entry(result: FlowResult, sim: OvhSimulator, consumer_key: str) -> None:
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == f"OVHcloud {sim.nichandle}"
    assert result["data"] == ovh_data(sim, consumer_key=consumer_key)
    assert result["result"].unique_id == sim.nichandle


async def test_typed_consumer_key(hass: HomeAssistant, ovh_sim: OvhSimulator) -> None:
    flow_id = await start(hass)
    await pin(hass, flow_id, ovh_sim)
    result = await submit(hass, flow_id, TRUST)
    assert result["step_id"] == "resources"
    assert result["description_placeholders"] == {
        "server": f"OVHcloud {ovh_sim.nichandle}",
        "count": "3",
    }
    # None ticked, as for every kind.
    assert result["data_schema"]({})["resources"] == []
    web, db = vps_named(ovh_sim, "web"), vps_named(ovh_sim, "db")
    labels = result["data_schema"].schema["resources"].config["options"]
    assert {o["value"] for o in labels} == set(ovh_sim.vps)
    assert any("VPS Elite 2025, Gravelines, running" in o["label"] for o in labels)
    result = await submit(hass, flow_id, {"resources": [web, db]})
    check_entry(result, ovh_sim, ovh_sim.consumer_key)
    entry = result["result"]
    assert sorted((s.unique_id, s.title) for s in entry.subentries.values()) == sorted(
        [(web, "web"), (db, "db")]
    )
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED
    assert hass.states.get("switch.web").state == "on"
    assert hass.states.get("switch.db").state == "off"


async def test_new_consumer_key(hass: HomeAssistant, ovh_sim: OvhSimulator) -> None:
    """No consumer key: one is requested and validated through the link."""
    flow_id = await start(hass)
    await submit(hass, flow_id, form(ovh_sim, consumer_key=None))
    result = await submit(hass, flow_id, TRUST)
    assert result["step_id"] == "ovh_validate"
    key = newest_key(ovh_sim)
    assert "credentialToken=" in result["description_placeholders"]["url"]
    rules = {(r["method"], r["path"]) for r in ovh_sim.credentials[key].rules}
    assert ("POST", "/vps/*/reboot") in rules
    assert ("DELETE", "/vps/*") not in rules

    result = await submit(hass, flow_id, {})  # not opened yet
    assert result["step_id"] == "ovh_validate"
    assert result["errors"] == {"base": "ovh_not_validated_yet"}

    # Real OVH may answer 403 for a pending key: still "not validated yet".
    ovh_sim.inject_error(
        403, "INVALID_CREDENTIAL", "This credential is not valid", path_contains="auth"
    )
    result = await submit(hass, flow_id, {})
    assert result["errors"] == {"base": "ovh_not_validated_yet"}

    ovh_sim.inject_error(500, None, "Internal error", path_contains="auth/current")
    result = await submit(hass, flow_id, {})
    assert result["errors"] == {"base": "api_error"}

    ovh_sim.validate_credential(key)
    result = await submit(hass, flow_id, {})
    assert result["step_id"] == "resources"
    result = await submit(hass, flow_id, SERVER_ONLY)
    check_entry(result, ovh_sim, key)
    assert result["result"].subentries == {}


@pytest.mark.parametrize("state", ["refused", "expired"])
async def test_consumer_key_rejected(
    hass: HomeAssistant, ovh_sim: OvhSimulator, state: str
) -> None:
    flow_id = await start(hass)
    await submit(hass, flow_id, form(ovh_sim, consumer_key=None))
    result = await submit(hass, flow_id, TRUST)
    key = newest_key(ovh_sim)
    ovh_sim.credentials[key].state = state
    result = await submit(hass, flow_id, {})
    assert result["step_id"] == "ovh"
    assert result["errors"] == {"base": f"ovh_credential_{state}"}
    # Submitting again requests a new key (the certificate stays pinned).
    result = await submit(hass, flow_id, form(ovh_sim, consumer_key=None))
    assert result["step_id"] == "ovh_validate"
    ovh_sim.validate_credential(newest_key(ovh_sim))
    result = await submit(hass, flow_id, {})
    result = await submit(hass, flow_id, SERVER_ONLY)
    check_entry(result, ovh_sim, newest_key(ovh_sim))


async def test_wrong_secret_found_at_validation(
    hass: HomeAssistant, ovh_sim: OvhSimulator
) -> None:
    """The key request is unsigned: a wrong secret shows when the key is checked."""
    flow_id = await start(hass)
    bad = form(ovh_sim, consumer_key=None, application_secret="wrong")
    await submit(hass, flow_id, bad)
    await submit(hass, flow_id, TRUST)
    ovh_sim.validate_credential(newest_key(ovh_sim))
    result = await submit(hass, flow_id, {})
    assert result["step_id"] == "ovh"
    assert result["errors"] == {"base": "invalid_auth"}
    result = await submit(hass, flow_id, form(ovh_sim))
    result = await submit(hass, flow_id, SERVER_ONLY)
    check_entry(result, ovh_sim, ovh_sim.consumer_key)


@pytest.mark.parametrize(
    ("status", "code", "expected"),
    [
        (400, None, "api_error"),
        (401, "NOT_AUTHENTICATED", "invalid_auth"),
        (403, "NOT_GRANTED_CALL", "permission_denied"),
        (403, "INVALID_CREDENTIAL", "invalid_auth"),
        (404, None, "not_found"),
        (409, None, "conflict"),
        (429, "TOO_MANY_REQUESTS", "rate_limited"),
        (460, None, "ovh_service_expired"),
        (500, None, "api_error"),
        (418, None, "api_error"),
    ],
)
async def test_errors_recover(
    hass: HomeAssistant,
    ovh_sim: OvhSimulator,
    status: int,
    code: str | None,
    expected: str,
) -> None:
    """Each OVH error (seed §6.1) is named on the form; fixing it finishes."""
    flow_id = await start(hass)
    await pin(hass, flow_id, ovh_sim)
    ovh_sim.inject_error(status, code, "OVH says no", path_contains="/vps")
    result = await submit(hass, flow_id, TRUST)
    assert result["step_id"] == "ovh"
    assert result["errors"] == {"base": expected}
    result = await submit(hass, flow_id, form(ovh_sim))
    assert result["step_id"] == "resources"
    result = await submit(hass, flow_id, SERVER_ONLY)
    check_entry(result, ovh_sim, ovh_sim.consumer_key)


async def test_key_request_refused(hass: HomeAssistant, ovh_sim: OvhSimulator) -> None:
    flow_id = await start(hass)
    await submit(
        hass, flow_id, form(ovh_sim, application_key="unknown", consumer_key=None)
    )
    result = await submit(hass, flow_id, TRUST)
    assert result["errors"] == {"base": "invalid_auth"}


async def test_invalid_endpoint_and_unreachable(
    hass: HomeAssistant, ovh_sim: OvhSimulator
) -> None:
    flow_id = await start(hass)
    result = await submit(hass, flow_id, form(ovh_sim, endpoint="ovh-mars"))
    assert result["errors"] == {"endpoint": "ovh_invalid_endpoint"}
    result = await submit(
        hass, flow_id, form(ovh_sim, endpoint="https://127.0.0.1:1/1.0")
    )
    assert result["errors"] == {"base": "cannot_connect"}


async def test_named_endpoint_is_always_verified(
    hass: HomeAssistant, ovh_sim: OvhSimulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A real OVH endpoint with an untrusted certificate is an error, not a pin."""
    monkeypatch.setitem(ENDPOINTS, "ovh-eu", f"{ovh_sim.url}/1.0")
    flow_id = await start(hass)
    result = await submit(hass, flow_id, form(ovh_sim, endpoint="ovh-eu"))
    assert result["step_id"] == "ovh"
    assert result["errors"] == {"base": "certificate"}


async def test_already_configured(
    hass: HomeAssistant, ovh_entry: MockConfigEntry, ovh_sim: OvhSimulator
) -> None:
    flow_id = await start(hass)
    await pin(hass, flow_id, ovh_sim)
    result = await submit(hass, flow_id, TRUST)
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"


async def test_reauth_with_new_key(
    hass: HomeAssistant, init_ovh: MockConfigEntry, ovh_sim: OvhSimulator
) -> None:
    result = await init_ovh.start_reauth_flow(hass)
    assert result["step_id"] == "reauth_confirm"
    result = await submit(hass, result["flow_id"], {})
    assert result["step_id"] == "ovh_validate"
    key = newest_key(ovh_sim)
    ovh_sim.validate_credential(key)
    result = await submit(hass, result["flow_id"], {})
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reauth_successful"
    assert init_ovh.data["consumer_key"] == key
    await hass.async_block_till_done()
    assert init_ovh.state is ConfigEntryState.LOADED


async def test_reauth_with_typed_key(
    hass: HomeAssistant, init_ovh: MockConfigEntry, ovh_sim: OvhSimulator
) -> None:
    result = await init_ovh.start_reauth_flow(hass)
    result = await submit(hass, result["flow_id"], {"consumer_key": "bogus"})
    assert result["step_id"] == "reauth_confirm"
    assert result["errors"] == {"base": "invalid_auth"}
    key = ovh_sim.add_credential(state="validated")
    result = await submit(hass, result["flow_id"], {"consumer_key": key})
    assert result["reason"] == "reauth_successful"
    assert init_ovh.data["consumer_key"] == key
    await hass.async_block_till_done()


async def test_reauth_other_account(
    hass: HomeAssistant, init_ovh: MockConfigEntry, ovh_sim: OvhSimulator
) -> None:
    ovh_sim.nichandle = "zz999-ovh"
    result = await init_ovh.start_reauth_flow(hass)
    key = ovh_sim.add_credential(state="validated")
    result = await submit(hass, result["flow_id"], {"consumer_key": key})
    assert result["reason"] == "ovh_wrong_account"


async def test_reconfigure_keeps_secrets(
    hass: HomeAssistant, init_ovh: MockConfigEntry, ovh_sim: OvhSimulator
) -> None:
    result = await init_ovh.start_reconfigure_flow(hass)
    assert result["step_id"] == "reconfigure"
    result = await submit(
        hass,
        result["flow_id"],
        {
            "endpoint": f"{ovh_sim.url}/1.0",
            "application_key": ovh_sim.application_key,
            "application_secret": "",
        },
    )
    assert result["reason"] == "reconfigure_successful"
    assert init_ovh.data == ovh_data(ovh_sim)
    await hass.async_block_till_done()


async def test_reconfigure_new_endpoint_checks_certificate(
    hass: HomeAssistant, init_ovh: MockConfigEntry, ovh_sim: OvhSimulator
) -> None:
    result = await init_ovh.start_reconfigure_flow(hass)
    flow_id = result["flow_id"]
    result = await submit(
        hass,
        flow_id,
        {"endpoint": "https://127.0.0.1:1/1.0", "application_key": "x"},
    )
    assert result["step_id"] == "reconfigure"
    assert result["errors"] == {"base": "cannot_connect"}
    new_endpoint = f"{ovh_sim.url}/1.0/"
    result = await submit(
        hass,
        flow_id,
        {"endpoint": new_endpoint, "application_key": ovh_sim.application_key},
    )
    assert result["step_id"] == "certificate"
    result = await submit(hass, flow_id, TRUST)
    assert result["reason"] == "reconfigure_successful"
    assert init_ovh.data["endpoint"] == new_endpoint
    await hass.async_block_till_done()


async def test_reconfigure_changed_certificate(
    hass: HomeAssistant, ovh_sim: OvhSimulator
) -> None:
    """A certificate other than the pinned one is shown again before trusting it."""
    entry = MockConfigEntry(
        domain=DOMAIN,
        unique_id=ovh_sim.nichandle,
        data=ovh_data(ovh_sim, fingerprint="AB" * 32),
        entry_id=ENTRY_ID,
    )
    entry.add_to_hass(hass)
    result = await entry.start_reconfigure_flow(hass)
    result = await submit(
        hass,
        result["flow_id"],
        {"endpoint": f"{ovh_sim.url}/1.0", "application_key": ovh_sim.application_key},
    )
    assert result["step_id"] == "certificate_changed"
    assert result["description_placeholders"]["fingerprint"] == sim_fingerprint(ovh_sim)
    assert result["description_placeholders"]["previous"] == "AB" * 32
    result = await submit(hass, result["flow_id"], TRUST)
    assert result["reason"] == "reconfigure_successful"
    assert entry.data["fingerprint"] == sim_fingerprint(ovh_sim)


async def test_reconfigure_other_account(
    hass: HomeAssistant, init_ovh: MockConfigEntry, ovh_sim: OvhSimulator
) -> None:
    ovh_sim.nichandle = "zz999-ovh"
    result = await init_ovh.start_reconfigure_flow(hass)
    result = await submit(
        hass,
        result["flow_id"],
        {"endpoint": f"{ovh_sim.url}/1.0", "application_key": ovh_sim.application_key},
    )
    assert result["reason"] == "ovh_wrong_account"


async def test_options(hass: HomeAssistant, init_ovh: MockConfigEntry) -> None:
    result = await hass.config_entries.options.async_init(init_ovh.entry_id)
    assert result["step_id"] == "ovh_options"
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {CONF_TIMEOUT: 120.0, CONF_SCAN_INTERVAL: 30.0}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert init_ovh.options == {
        CONF_TIMEOUT: 120,
        CONF_SCAN_INTERVAL: 30,
        "low_disk_threshold": 90,
    }


async def test_options_low_disk_threshold(
    hass: HomeAssistant, init_ovh: MockConfigEntry
) -> None:
    result = await hass.config_entries.options.async_init(init_ovh.entry_id)
    timing = {CONF_TIMEOUT: 120.0, CONF_SCAN_INTERVAL: 30.0}
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], timing | {"low_disk_threshold": 80}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert init_ovh.options["low_disk_threshold"] == 80


async def test_add_vps(
    hass: HomeAssistant, ovh_sim: OvhSimulator, init_ovh: MockConfigEntry
) -> None:
    mail = next(s for s in init_ovh.subentries.values() if s.title == "mail")
    hass.config_entries.async_remove_subentry(init_ovh, mail.subentry_id)
    await hass.async_block_till_done()
    result = await hass.config_entries.subentries.async_init(
        (init_ovh.entry_id, "vps"), context={"source": SOURCE_USER}
    )
    assert result["step_id"] == "user"
    options = result["data_schema"].schema["resources"].config["options"]
    assert [o["value"] for o in options] == [vps_named(ovh_sim, "mail")]
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], {"resources": [vps_named(ovh_sim, "mail")]}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["description_placeholders"] == {"added": "mail"}
    await hass.async_block_till_done()
    assert hass.states.get("switch.mail").state == "on"

    result = await hass.config_entries.subentries.async_init(
        (init_ovh.entry_id, "vps"), context={"source": SOURCE_USER}
    )
    assert result["reason"] == "nothing_new"

    ovh_sim.inject_error(500, None, "Internal error", path_contains="/vps")
    result = await hass.config_entries.subentries.async_init(
        (init_ovh.entry_id, "vps"), context={"source": SOURCE_USER}
    )
    assert result["reason"] == "cannot_connect"


async def test_discovery_without_datacenter(
    hass: HomeAssistant, ovh_sim: OvhSimulator
) -> None:
    """A datacenter that cannot be read only leaves it out of the label."""
    flow_id = await start(hass)
    await pin(hass, flow_id, ovh_sim)
    ovh_sim.inject_error(500, None, "oops", count=3, path_contains="/datacenter")
    result = await submit(hass, flow_id, TRUST)
    labels = [
        o["label"] for o in result["data_schema"].schema["resources"].config["options"]
    ]
    assert all("Gravelines" not in label for label in labels)
    result = await submit(hass, flow_id, SERVER_ONLY)
    assert result["type"] is FlowResultType.CREATE_ENTRY


async def test_vps_power_settings(
    hass: HomeAssistant, init_ovh: MockConfigEntry
) -> None:
    """The entry's update listener (which follows added VPSes) must not make the
    power settings of a VPS fail: they are stored and the entry reloaded."""
    web = next(s for s in init_ovh.subentries.values() if s.title == "web")
    result = await init_ovh.start_subentry_reconfigure_flow(hass, web.subentry_id)
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], {"stop_with_dependents": True, "idle_timeout": 45}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    await hass.async_block_till_done()
    assert init_ovh.subentries[web.subentry_id].data["idle_timeout"] == 45
    assert init_ovh.state is ConfigEntryState.LOADED
