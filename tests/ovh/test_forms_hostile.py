"""Nothing typed into an OVHcloud form crashes: generated hostile input in every
form (harness: `tests/hostile.py`), and the cases that once answered HTTP 500."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from homeassistant.config_entries import SOURCE_USER
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowManager, FlowResultType
from hypothesis import strategies as st
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.wakehub.const import DOMAIN
from tests.hostile import TRANSLATIONS, fuzz_form, keep_subentries, loopback_network
from tests.simulators.ovh import OvhSimulator

from .conftest import ENTRY_ID, ovh_data, vps_named, vps_subentries

# A trust menu's choices (and one it does not offer).
TRUST = {"next_step_id": "trust"}
TRUST_MENU = st.fixed_dictionaries(
    {"next_step_id": st.sampled_from(["trust", "not_trusted", "resources"])}
)
CONFIG = TRANSLATIONS["config"]
OPTIONS = TRANSLATIONS["options"]
VPS = TRANSLATIONS["config_subentries"]["vps"]
Form = tuple[FlowManager[Any, Any], str]


@pytest.fixture(autouse=True)
async def loopback_only(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[None]:
    async with loopback_network(monkeypatch):
        yield


@pytest.fixture
def entry(hass: HomeAssistant, ovh_sim: OvhSimulator) -> MockConfigEntry:
    """The account's entry with web and db: mail can be added."""
    entry = MockConfigEntry(
        domain=DOMAIN,
        title=f"OVHcloud {ovh_sim.nichandle}",
        unique_id=ovh_sim.nichandle,
        data=ovh_data(ovh_sim),
        entry_id=ENTRY_ID,
        subentries_data=vps_subentries(ovh_sim, "web", "db"),
    )
    entry.add_to_hass(hass)
    return entry


def form(sim: OvhSimulator) -> dict[str, Any]:
    return {
        "endpoint": f"{sim.url}/1.0",
        "application_key": sim.application_key,
        "application_secret": sim.application_secret,
    }


async def ovh_form(hass: HomeAssistant) -> Form:
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_USER}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "ovh"}
    )
    return hass.config_entries.flow, result["flow_id"]


async def test_ovh_form(hass: HomeAssistant, ovh_sim: OvhSimulator) -> None:
    assert await fuzz_form(
        hass,
        lambda: ovh_form(hass),
        form(ovh_sim),
        CONFIG,
        optional={"consumer_key": ovh_sim.consumer_key},
    )


async def test_certificate_validate_and_resources_steps(
    hass: HomeAssistant, ovh_sim: OvhSimulator
) -> None:
    async def certificate(consumer_key: str | None = None) -> Form:
        manager, flow_id = await ovh_form(hass)
        typed = {"consumer_key": consumer_key} if consumer_key else {}
        result = await manager.async_configure(flow_id, form(ovh_sim) | typed)
        assert result["step_id"] == "certificate"
        return manager, flow_id

    assert await fuzz_form(
        hass, certificate, TRUST, CONFIG, also=TRUST_MENU, max_examples=30
    )

    async def validate() -> Form:
        manager, flow_id = await certificate()
        result = await manager.async_configure(flow_id, TRUST)
        assert result["step_id"] == "ovh_validate"
        return manager, flow_id

    assert await fuzz_form(hass, validate, {}, CONFIG, max_examples=30)

    async def resources() -> Form:
        manager, flow_id = await certificate(ovh_sim.consumer_key)
        result = await manager.async_configure(flow_id, TRUST)
        assert result["step_id"] == "resources"
        return manager, flow_id

    chosen = [vps_named(ovh_sim, "web"), vps_named(ovh_sim, "mail")]
    assert await fuzz_form(
        hass,
        resources,
        {"resources": chosen},
        CONFIG,
        optional={"server_only": True},
        max_examples=30,
    )


async def test_reconfigure_and_reauth_forms(
    hass: HomeAssistant, entry: MockConfigEntry, ovh_sim: OvhSimulator
) -> None:
    async def reconfigure() -> Form:
        result = await entry.start_reconfigure_flow(hass)
        return hass.config_entries.flow, result["flow_id"]

    assert await fuzz_form(
        hass,
        reconfigure,
        {"endpoint": f"{ovh_sim.url}/1.0", "application_key": ovh_sim.application_key},
        CONFIG,
        optional={
            "application_secret": ovh_sim.application_secret,
            "consumer_key": ovh_sim.consumer_key,
        },
    )

    async def reauth() -> Form:
        result = await entry.start_reauth_flow(hass)
        return hass.config_entries.flow, result["flow_id"]

    assert await fuzz_form(
        hass, reauth, {}, CONFIG, optional={"consumer_key": ovh_sim.consumer_key}
    )


async def test_options_form(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    async def options() -> Form:
        result = await hass.config_entries.options.async_init(entry.entry_id)
        return hass.config_entries.options, result["flow_id"]

    assert await fuzz_form(
        hass, options, {"timeout": 300, "scan_interval": 60}, OPTIONS
    )


async def test_subentry_forms(
    hass: HomeAssistant, entry: MockConfigEntry, ovh_sim: OvhSimulator
) -> None:
    """Add a VPS, and the power settings of a VPS."""

    async def add_vps() -> Form:
        result = await hass.config_entries.subentries.async_init(
            (entry.entry_id, "vps"), context={"source": SOURCE_USER}
        )
        return hass.config_entries.subentries, result["flow_id"]

    assert await fuzz_form(
        hass,
        add_vps,
        {"resources": [vps_named(ovh_sim, "mail")]},
        VPS,
        after=keep_subentries(hass, entry),
    )

    web = next(s for s in entry.subentries.values() if s.title == "web")

    async def power_settings() -> Form:
        result = await entry.start_subentry_reconfigure_flow(hass, web.subentry_id)
        return hass.config_entries.subentries, result["flow_id"]

    assert await fuzz_form(
        hass,
        power_settings,
        {"stop_with_dependents": True, "idle_timeout": 10080},
        VPS,
        optional={"network_threshold": 1_000_000, "dependencies": ["switch.nas"]},
    )


# -- the inputs that once answered HTTP 500 -------------------------------------------


@pytest.mark.parametrize(
    ("field", "value", "key"),
    [
        ("endpoint", "  ", "blank"),
        ("endpoint", "https://127.0.0.1:70000/1.0", "invalid_port"),
        ("endpoint", "https:///1.0", "ovh_invalid_endpoint"),
        ("endpoint", "https://::1/1.0", "ovh_invalid_endpoint"),
        ("application_key", "", "blank"),
        ("application_key", " \t", "blank"),
        ("application_secret", "   ", "blank"),
        ("application_secret", "x" * 100_000, "too_long"),
    ],
    ids=lambda value: str(value)[:20],
)
async def test_ovh_form_errors(
    hass: HomeAssistant, ovh_sim: OvhSimulator, field: str, value: Any, key: str
) -> None:
    manager, flow_id = await ovh_form(hass)
    result = await manager.async_configure(flow_id, {**form(ovh_sim), field: value})
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {field: key}


async def test_reconfigure_blank_key(
    hass: HomeAssistant, entry: MockConfigEntry, ovh_sim: OvhSimulator
) -> None:
    """A blank secret keeps the stored one; a blank application key is an error."""
    result = await entry.start_reconfigure_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {
            "endpoint": f"{ovh_sim.url}/1.0",
            "application_key": "  ",
            "consumer_key": " ",
        },
    )
    assert result["step_id"] == "reconfigure"
    assert result["errors"] == {"application_key": "blank"}


async def test_reauth_control_characters(
    hass: HomeAssistant, entry: MockConfigEntry
) -> None:
    result = await entry.start_reauth_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"consumer_key": "key\x00"}
    )
    assert result["step_id"] == "reauth_confirm"
    assert result["errors"] == {"consumer_key": "control_characters"}
