"""Nothing typed into a Proxmox form crashes: generated hostile input in every
form (harness: `tests/hostile.py`), and the cases that once answered HTTP 500."""

from __future__ import annotations

from collections.abc import AsyncIterator
import math
from typing import Any

from homeassistant.config_entries import SOURCE_USER
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowManager, FlowResultType
from hypothesis import strategies as st
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.wakehub.const import DOMAIN
from tests.hostile import TRANSLATIONS, fuzz_form, keep_subentries, loopback_network
from tests.simulators.proxmox import (
    DEFAULT_PASSWORD,
    DEFAULT_TOKEN_SECRET,
    ProxmoxSimulator,
)

from .conftest import ENTRY_ID, guest_subentries, pve_data

# A trust menu's choices (and one it does not offer).
TRUST = {"next_step_id": "trust"}
TRUST_MENU = st.fixed_dictionaries(
    {"next_step_id": st.sampled_from(["trust", "not_trusted", "resources"])}
)
CONFIG = TRANSLATIONS["config"]
OPTIONS = TRANSLATIONS["options"]
GUEST = TRANSLATIONS["config_subentries"]["guest"]
Form = tuple[FlowManager[Any, Any], str]


@pytest.fixture(autouse=True)
async def loopback_only(
    monkeypatch: pytest.MonkeyPatch, quiet_handshakes: None
) -> AsyncIterator[None]:
    async with loopback_network(monkeypatch):
        yield


@pytest.fixture
def entry(hass: HomeAssistant, pve_sim: ProxmoxSimulator) -> MockConfigEntry:
    """A cluster entry following guest 100 only: 101 to 104 can be added."""
    entry = MockConfigEntry(
        domain=DOMAIN,
        title="homelab",
        unique_id="homelab",
        data=pve_data(pve_sim),
        entry_id=ENTRY_ID,
        subentries_data=guest_subentries([100]),
    )
    entry.add_to_hass(hass)
    return entry


def form(sim: ProxmoxSimulator) -> dict[str, Any]:
    return {
        "url": sim.url,
        "username": "root@pam",
        "token_id": "wakehub",
        "token_secret": DEFAULT_TOKEN_SECRET,
        "verify_ssl": True,
    }


async def proxmox_form(hass: HomeAssistant) -> Form:
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_USER}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "proxmox"}
    )
    return hass.config_entries.flow, result["flow_id"]


async def test_proxmox_form(hass: HomeAssistant, pve_sim: ProxmoxSimulator) -> None:
    assert await fuzz_form(
        hass,
        lambda: proxmox_form(hass),
        form(pve_sim),
        CONFIG,
        optional={"password": DEFAULT_PASSWORD},
    )


async def test_certificate_and_resources_steps(
    hass: HomeAssistant, pve_sim: ProxmoxSimulator
) -> None:
    async def certificate() -> Form:
        manager, flow_id = await proxmox_form(hass)
        result = await manager.async_configure(flow_id, form(pve_sim))
        assert result["step_id"] == "certificate"
        return manager, flow_id

    assert await fuzz_form(
        hass, certificate, TRUST, CONFIG, also=TRUST_MENU, max_examples=30
    )

    async def resources() -> Form:
        manager, flow_id = await certificate()
        result = await manager.async_configure(flow_id, TRUST)
        assert result["step_id"] == "resources"
        return manager, flow_id

    assert await fuzz_form(
        hass,
        resources,
        {"resources": ["100", "101"]},
        CONFIG,
        optional={"server_only": True},
        max_examples=30,
    )


async def test_reconfigure_and_reauth_forms(
    hass: HomeAssistant, entry: MockConfigEntry, pve_sim: ProxmoxSimulator
) -> None:
    async def reconfigure() -> Form:
        result = await entry.start_reconfigure_flow(hass)
        return hass.config_entries.flow, result["flow_id"]

    assert await fuzz_form(hass, reconfigure, form(pve_sim), CONFIG)

    async def reauth() -> Form:
        result = await entry.start_reauth_flow(hass)
        return hass.config_entries.flow, result["flow_id"]

    assert await fuzz_form(hass, reauth, {"token_secret": DEFAULT_TOKEN_SECRET}, CONFIG)


async def test_options_form(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    async def options() -> Form:
        result = await hass.config_entries.options.async_init(entry.entry_id)
        return hass.config_entries.options, result["flow_id"]

    assert await fuzz_form(
        hass,
        options,
        {"timeout": 120, "scan_interval": 30},
        OPTIONS,
        optional={"host_links": {"pve1": "switch.nas"}},
    )


async def test_subentry_forms(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    """Add guests, and the power settings of a guest."""

    async def add_guests() -> Form:
        result = await hass.config_entries.subentries.async_init(
            (entry.entry_id, "guest"), context={"source": SOURCE_USER}
        )
        return hass.config_entries.subentries, result["flow_id"]

    assert await fuzz_form(
        hass,
        add_guests,
        {"resources": ["101", "103"]},
        GUEST,
        after=keep_subentries(hass, entry),
    )

    async def power_settings() -> Form:
        result = await entry.start_subentry_reconfigure_flow(hass, "SUB100")
        return hass.config_entries.subentries, result["flow_id"]

    assert await fuzz_form(
        hass,
        power_settings,
        {"stop_with_dependents": True, "idle_timeout": 30},
        GUEST,
        optional={"cpu_threshold": 2.5, "network_threshold": 10, "dependencies": []},
    )


# -- the inputs that once answered HTTP 500 -------------------------------------------


@pytest.mark.parametrize(
    ("field", "value", "key"),
    [
        ("url", "", "blank"),
        ("url", "   ", "blank"),
        ("url", "https://:8006", "proxmox_invalid_url"),
        ("url", "https://::1:8006", "proxmox_invalid_url"),
        ("url", "https://127.0.0.1:99999", "invalid_port"),
        ("url", "ftp://127.0.0.1", "proxmox_invalid_url"),
        ("url", "0", "proxmox_invalid_url"),
        ("username", " ", "blank"),
        ("token_secret", "\x00", "control_characters"),
    ],
)
async def test_proxmox_form_errors(
    hass: HomeAssistant, pve_sim: ProxmoxSimulator, field: str, value: Any, key: str
) -> None:
    manager, flow_id = await proxmox_form(hass)
    result = await manager.async_configure(flow_id, {**form(pve_sim), field: value})
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {field: key}


async def test_blank_reauth_secret(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    result = await entry.start_reauth_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"token_secret": "   "}
    )
    assert result["step_id"] == "reauth_confirm"
    assert result["errors"] == {"token_secret": "blank"}


async def test_nan_in_options(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    result = await hass.config_entries.options.async_init(entry.entry_id)
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"timeout": "NaN", "scan_interval": math.nan}
    )
    assert result["errors"] == {
        "timeout": "invalid_number",
        "scan_interval": "invalid_number",
    }
