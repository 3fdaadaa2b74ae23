"""The wake-on-access fields of the per-resource settings form."""

from __future__ import annotations

from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import device_registry as dr
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.wakehub.flows.wake_settings import parse_wake_settings
from custom_components.wakehub.wake.const import (
    CONF_REGENERATE_TOKEN,
    CONF_SERVICE_URL,
    CONF_WAKE_KEEP_AWAKE,
    CONF_WAKE_LOCAL_ONLY,
    CONF_WAKE_MAX_STARTS,
    CONF_WAKE_ON_ACCESS,
    CONF_WAKE_TOKEN,
)
from tests.conftest import find_device
from tests.wake.conftest import INTERNAL_URL, Lab, subentry_of

SETTINGS = {"stop_with_dependents": True, "idle_timeout": 20, "keep_awake": []}


async def reconfigure(
    hass: HomeAssistant, lab: Lab, user_input: dict[str, Any]
) -> dict[str, Any]:
    subentry = subentry_of(lab.docker_entry, "jellyfin")
    result = await lab.docker_entry.start_subentry_reconfigure_flow(
        hass, subentry.subentry_id
    )
    fields = {str(key) for key in result["data_schema"].schema}
    assert {CONF_SERVICE_URL, CONF_WAKE_ON_ACCESS, CONF_REGENERATE_TOKEN} <= fields
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], {**SETTINGS, **user_input}
    )
    await hass.async_block_till_done()
    return dict(result)


def jellyfin(lab: Lab) -> dict[str, Any]:
    return dict(subentry_of(lab.docker_entry, "jellyfin").data)


async def test_enabling_makes_a_token_kept_until_replaced(
    hass: HomeAssistant, http: None, lab: Lab
) -> None:
    result = await reconfigure(
        hass,
        lab,
        {CONF_SERVICE_URL: " http://jellyfin.lan:8096 ", CONF_WAKE_ON_ACCESS: True},
    )
    assert result["reason"] == "reconfigure_successful"
    data = jellyfin(lab)
    token = data[CONF_WAKE_TOKEN]
    assert len(token) >= 22  # at least 128 bits in URL-safe base64
    assert data[CONF_SERVICE_URL] == "http://jellyfin.lan:8096"
    assert data[CONF_WAKE_ON_ACCESS] is True
    # Defaults are not stored.
    assert CONF_WAKE_LOCAL_ONLY not in data
    assert CONF_WAKE_KEEP_AWAKE not in data

    # The device's Visit link is the wake link.
    device = find_device(
        hass, ("wakehub", f"{lab.docker.engine_id}_jellyfin"), lab.docker_entry.entry_id
    )
    if device is None:  # the container key of this kind
        device = next(
            d
            for d in dr.async_entries_for_config_entry(
                dr.async_get(hass), lab.docker_entry.entry_id
            )
            if d.name == "jellyfin"
        )
    assert device.configuration_url == f"{INTERNAL_URL}/api/wakehub/wake/{token}"

    # Edited again: the token stays; the form never shows it.
    result = await reconfigure(
        hass,
        lab,
        {
            CONF_SERVICE_URL: "http://jellyfin.lan:8096",
            CONF_WAKE_ON_ACCESS: True,
            CONF_WAKE_LOCAL_ONLY: False,
            CONF_WAKE_KEEP_AWAKE: 30,
            CONF_WAKE_MAX_STARTS: 3,
        },
    )
    data = jellyfin(lab)
    assert data[CONF_WAKE_TOKEN] == token
    assert (data[CONF_WAKE_LOCAL_ONLY], data[CONF_WAKE_KEEP_AWAKE]) == (False, 30)
    assert data[CONF_WAKE_MAX_STARTS] == 3

    # Replaced on request.
    await reconfigure(
        hass,
        lab,
        {
            CONF_SERVICE_URL: "http://jellyfin.lan:8096",
            CONF_WAKE_ON_ACCESS: True,
            CONF_REGENERATE_TOKEN: True,
        },
    )
    assert jellyfin(lab)[CONF_WAKE_TOKEN] != token

    # Turned off: the Visit link is the kind's own again (none for a container).
    await reconfigure(
        hass,
        lab,
        {CONF_SERVICE_URL: "http://jellyfin.lan:8096", CONF_WAKE_ON_ACCESS: False},
    )
    device = dr.async_get(hass).async_get(device.id)
    assert device is not None
    assert device.configuration_url is None


@pytest.mark.parametrize(
    ("user_input", "errors"),
    [
        ({CONF_WAKE_ON_ACCESS: True}, {CONF_SERVICE_URL: "service_url_required"}),
        (
            {CONF_SERVICE_URL: "ftp://nas.lan"},
            {CONF_SERVICE_URL: "invalid_service_url"},
        ),
        ({CONF_SERVICE_URL: "jellyfin"}, {CONF_SERVICE_URL: "invalid_service_url"}),
        ({CONF_WAKE_KEEP_AWAKE: 1.5}, {CONF_WAKE_KEEP_AWAKE: "invalid_number"}),
    ],
)
async def test_wrong_values_are_refused(
    hass: HomeAssistant,
    lab: Lab,
    user_input: dict[str, Any],
    errors: dict[str, str],
) -> None:
    result = await reconfigure(hass, lab, user_input)
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == errors
    assert CONF_WAKE_TOKEN not in jellyfin(lab) or errors != {}


def test_service_addresses() -> None:
    """Web addresses, or others with a port (checked by a TCP connect)."""
    ok = {
        "https://cloud.example.org": "https://cloud.example.org",
        "tcp://nas.lan:445": "tcp://nas.lan:445",
        "": None,
        "   ": None,
    }
    for typed, stored in ok.items():
        settings, errors = parse_wake_settings({CONF_SERVICE_URL: typed}, {})
        assert errors == {}
        assert settings.get(CONF_SERVICE_URL) == stored
    for typed in ("tcp://nas.lan", "http://", "ssh://[::1", "nas.lan:22"):
        _, errors = parse_wake_settings({CONF_SERVICE_URL: typed}, {})
        assert errors == {CONF_SERVICE_URL: "invalid_service_url"}, typed
    _, errors = parse_wake_settings({CONF_WAKE_MAX_STARTS: 0}, {})
    assert errors == {CONF_WAKE_MAX_STARTS: "invalid_number"}


async def test_machine_options_keep_the_token(
    hass: HomeAssistant, http: None, init_machine: MockConfigEntry
) -> None:
    entry = init_machine
    user_input = {
        "timeout": 10,
        "scan_interval": 30,
        **SETTINGS,
        CONF_SERVICE_URL: "tcp://127.0.0.1:22",
        CONF_WAKE_ON_ACCESS: True,
    }
    result = await hass.config_entries.options.async_init(entry.entry_id)
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], user_input
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    token = entry.options[CONF_WAKE_TOKEN]
    result = await hass.config_entries.options.async_init(entry.entry_id)
    assert CONF_WAKE_TOKEN not in {str(k) for k in result["data_schema"].schema}
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], user_input
    )
    await hass.async_block_till_done()
    assert entry.options[CONF_WAKE_TOKEN] == token
