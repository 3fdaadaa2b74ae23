"""Nothing typed into a machine's forms crashes: generated hostile input, and the
cases that once answered HTTP 500.

The forms of the other kinds are tried in `tests/<kind>/test_forms_hostile.py`;
the harness (and why hypothesis runs in a worker thread) is `tests/hostile.py`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
import math
from typing import Any

import asyncssh
from homeassistant.config_entries import SOURCE_USER
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowManager, FlowResultType, InvalidData
from hypothesis import strategies as st
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.wakehub.const import DOMAIN
from custom_components.wakehub.flows import validate
from tests.hostile import (
    TRANSLATIONS,
    fuzz_form,
    loopback_network,
)
from tests.simulators.machine import MachineSimulator

# A trust menu's choices (and one it does not offer).
TRUST = {"next_step_id": "trust"}
TRUST_MENU = st.fixed_dictionaries(
    {"next_step_id": st.sampled_from(["trust", "not_trusted", "resources"])}
)
CONFIG = TRANSLATIONS["config"]
# Not encrypted: its key derivation would take most of each example's time.
PRIVATE_KEY = asyncssh.generate_private_key("ssh-ed25519").export_private_key().decode()
OPTIONS = TRANSLATIONS["options"]


@pytest.fixture(autouse=True)
async def loopback_only(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[None]:
    async with loopback_network(monkeypatch):
        yield


def form_input(sim: MachineSimulator) -> dict[str, Any]:
    return {
        "name": "NAS",
        "mac": "52-54-00-12-34-56",
        "host": sim.host,
        "broadcast_address": "127.0.0.1",
        "broadcast_port": sim.udp_port,
        "ssh_port": sim.ssh_port,
        "username": sim.username,
        "password": sim.password,
        "shutdown_command": sim.shutdown_command,
        "reboot_command": sim.reboot_command,
    }


async def machine_form(hass: HomeAssistant) -> tuple[FlowManager[Any, Any], str]:
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_USER}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "machine"}
    )
    return hass.config_entries.flow, result["flow_id"]


# -- generated input, every form ----------------------------------------------------


async def test_machine_form(hass: HomeAssistant, machine_sim: MachineSimulator) -> None:
    """The first form, against a machine that is on (→ host key) or off."""
    await machine_sim.power_on()
    assert await fuzz_form(
        hass,
        lambda: machine_form(hass),
        form_input(machine_sim),
        CONFIG,
        optional={"private_key": PRIVATE_KEY, "private_key_passphrase": "s3cret"},
    )


async def test_host_key_and_unreachable_steps(
    hass: HomeAssistant, machine_sim: MachineSimulator
) -> None:
    """The host-key confirmation takes no field; the menu takes its options only."""
    await machine_sim.power_on()

    async def host_key() -> tuple[FlowManager[Any, Any], str]:
        manager, flow_id = await machine_form(hass)
        result = await manager.async_configure(flow_id, form_input(machine_sim))
        assert result["step_id"] == "host_key"
        return manager, flow_id

    assert await fuzz_form(
        hass, host_key, TRUST, CONFIG, also=TRUST_MENU, max_examples=30
    )

    async def unreachable() -> tuple[FlowManager[Any, Any], str]:
        manager, flow_id = await machine_form(hass)
        result = await manager.async_configure(
            flow_id, {**form_input(machine_sim), "ssh_port": 1}
        )
        assert result["step_id"] == "unreachable"
        return manager, flow_id

    menu = st.fixed_dictionaries(
        {"next_step_id": st.sampled_from(["machine", "add_unverified", "host_key"])}
    )
    assert await fuzz_form(
        hass, unreachable, {"next_step_id": "add_unverified"}, CONFIG, also=menu
    )


async def test_reconfigure_form(
    hass: HomeAssistant, machine_entry: MockConfigEntry, machine_sim: MachineSimulator
) -> None:
    valid = {
        k: v for k, v in form_input(machine_sim).items() if k not in ("name", "mac")
    }

    async def reconfigure() -> tuple[FlowManager[Any, Any], str]:
        result = await machine_entry.start_reconfigure_flow(hass)
        return hass.config_entries.flow, result["flow_id"]

    assert await fuzz_form(hass, reconfigure, valid, CONFIG)


async def test_options_form(hass: HomeAssistant, init_machine: MockConfigEntry) -> None:
    """Timing, dependencies and auto-shutdown (the power settings form)."""
    valid = {
        "timeout": 60,
        "scan_interval": 30,
        "dependencies": [],
        "stop_with_dependents": True,
        "idle_timeout": 30,
        "cpu_threshold": 5,
        "network_threshold": 100,
        "keep_awake": ["media_player.tv"],
    }

    async def options() -> tuple[FlowManager[Any, Any], str]:
        result = await hass.config_entries.options.async_init(init_machine.entry_id)
        return hass.config_entries.options, result["flow_id"]

    assert await fuzz_form(hass, options, valid, OPTIONS)


# -- the validation rules, one by one ---------------------------------------------------


@pytest.mark.parametrize(
    ("rule", "value", "key"),
    [
        (validate.text, None, "blank"),
        (validate.text, " \t", "blank"),
        (validate.text, {"a": 1}, "invalid_text"),
        pytest.param(validate.text, "x" * 100_000, "too_long", id="100kB"),
        (validate.text, "a\x00b", "control_characters"),
        (validate.text, "\ud800", "control_characters"),
        (validate.required_secret, "   ", "blank"),
        (validate.pem, "-----BEGIN\x07", "control_characters"),
        (validate.port, math.nan, "invalid_port"),
        (validate.port, math.inf, "invalid_port"),
        (validate.port, True, "invalid_port"),
        (validate.port, "22", "invalid_port"),
        (validate.port, 22.5, "invalid_port"),
        (validate.port, 0, "invalid_port"),
        (validate.port, 10**400, "invalid_port"),
        (validate.number_rule(0, 10), math.nan, "invalid_number"),
        (validate.number_rule(0, 10), 11, "invalid_number"),
        (validate.number_rule(0, 10, whole=True), 1.5, "invalid_number"),
        (validate.host, "::1:", "invalid_host"),
        (validate.host, "0", "invalid_host"),
        (validate.host, "192.168.1", "invalid_host"),
        (validate.ipv4, "::1", "invalid_broadcast_address"),
        (validate.mac, "52:54:00", "invalid_mac"),
        (validate.mac, "", "blank"),
    ],
)
def test_rule_refuses(rule: validate.Rule, value: Any, key: str) -> None:
    with pytest.raises(validate.InvalidField) as err:
        rule(value)
    assert err.value.key == key
    assert key in CONFIG["error"] or key in OPTIONS["error"]


@pytest.mark.parametrize(
    ("value", "key"),
    [
        ("", "blank"),
        ("   ", "blank"),
        ("https://", "bad"),
        ("https://:8006", "bad"),
        ("https:///1.0", "bad"),
        ("https://::1:8006", "bad"),
        ("https://[::1", "bad"),
        ("https://[::g]:1", "bad"),
        ("https://[1:2:3]:1", "bad"),
        ("https://0", "bad"),
        ("https://10.1:8006", "bad"),
        ("https://nas.0x1f", "bad"),
        ("https://-bad-:1", "bad"),
        ("https://user:pw@host:1", "bad"),
        ("ftp://host/", "bad"),
        ("unix://host/x.sock", "bad"),
        ("unix:///", "bad"),
        ("https://host:0", "invalid_port"),
        ("https://host:65536", "invalid_port"),
        ("https://host:port", "bad"),
    ],
)
def test_url_refuses(value: str, key: str) -> None:
    with pytest.raises(validate.InvalidField) as err:
        validate.url(value, schemes=("https", "unix"), error="bad")
    assert err.value.key == key


@pytest.mark.parametrize(
    "value",
    [
        "https://[::1]:8006",
        "https://nas.lan",
        "HTTPS://10.0.0.2:1/api",
        "unix:///x.sock",
    ],
)
def test_url_accepts(value: str) -> None:
    assert validate.url(value, schemes=("https", "unix"), error="bad") == value


def test_number_selector_refuses_integers_too_big_for_a_float() -> None:
    """Home Assistant before 2026.10 let the OverflowError escape (HTTP 500)."""
    selector = validate.FiniteNumberSelector({"min": 1, "max": 65535})
    with pytest.raises(validate.vol.Invalid):
        selector(10**400)
    assert selector(22) == 22.0


# -- the inputs that once answered HTTP 500 -------------------------------------------


async def test_blank_name_never_reaches_add_anyway(
    hass: HomeAssistant, machine_sim: MachineSimulator
) -> None:
    """A blank name, then "Add it anyway" used to create an entry that crashed;
    the form now says what is wrong before any connection is tried."""
    manager, flow_id = await machine_form(hass)
    result = await manager.async_configure(
        flow_id, {**form_input(machine_sim), "name": "   "}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"name": "blank"}
    result = await manager.async_configure(flow_id, form_input(machine_sim))
    assert result["step_id"] == "unreachable"
    result = await manager.async_configure(flow_id, {"next_step_id": "add_unverified"})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "NAS"


@pytest.mark.parametrize(
    ("field", "value", "key"),
    [
        ("ssh_port", "NaN", "invalid_port"),
        ("broadcast_port", math.nan, "invalid_port"),
        ("host", "  ", "blank"),
        ("host", "::1:", "invalid_host"),
        ("username", "\t", "blank"),
        ("password", "pass\x00word", "control_characters"),
        pytest.param("shutdown_command", "x" * 100_000, "too_long", id="100kB"),
        ("mac", "", "blank"),
    ],
)
async def test_machine_form_errors(
    hass: HomeAssistant,
    machine_sim: MachineSimulator,
    field: str,
    value: Any,
    key: str,
) -> None:
    manager, flow_id = await machine_form(hass)
    result = await manager.async_configure(
        flow_id, {**form_input(machine_sim), field: value}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {field: key}


async def test_huge_port_is_a_schema_error(
    hass: HomeAssistant, machine_sim: MachineSimulator
) -> None:
    manager, flow_id = await machine_form(hass)
    with pytest.raises(InvalidData):
        await manager.async_configure(
            flow_id, {**form_input(machine_sim), "ssh_port": 10**400}
        )


async def test_options_nan(hass: HomeAssistant, init_machine: MockConfigEntry) -> None:
    result = await hass.config_entries.options.async_init(init_machine.entry_id)
    result = await hass.config_entries.options.async_configure(
        result["flow_id"],
        {
            "timeout": math.nan,
            "scan_interval": 30,
            "stop_with_dependents": True,
            "idle_timeout": "NaN",
        },
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {
        "timeout": "invalid_number",
        "idle_timeout": "invalid_number",
    }
