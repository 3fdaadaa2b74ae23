"""The wizard, step by step, against the simulated machine over real sockets."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
import json
from pathlib import Path
import socket
from typing import Any

import asyncssh
from homeassistant.config_entries import SOURCE_USER
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType, InvalidData
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.wakehub.api.errors import (
    CANNOT_RESOLVE,
    ERROR_KEYS,
    UNKNOWN_ERROR,
    ConnectionTimeout,
    WakeHubError,
    error_key,
)
from custom_components.wakehub.const import (
    CONF_HOST_KEY,
    CONF_KIND,
    CONF_SCAN_INTERVAL,
    CONF_TIMEOUT,
    DOMAIN,
)
from custom_components.wakehub.kinds.machine import flow as machine_flow
from tests.conftest import machine_data
from tests.simulators.machine import MachineSimulator

# Submits a trust menu (host key, certificate): trust what is shown.
TRUST = {"next_step_id": "trust"}
# The flow's SSH timeout (5 s), in the steps that wait it out: what they prove
# is the error shown, not how long the flow waits.
SHORT_FLOW_TIMEOUT = 1.0


def form_input(sim: MachineSimulator, **overrides: Any) -> dict[str, Any]:
    """What a user types into the machine form for `sim`."""
    data = {
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
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


async def start_machine_flow(hass: HomeAssistant) -> str:
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_USER}
    )
    assert result["type"] is FlowResultType.MENU
    assert result["menu_options"] == ["machine", "proxmox", "docker", "ovh"]
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "machine"}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "machine"
    return result["flow_id"]


@pytest.fixture
def unresolvable_names(monkeypatch: pytest.MonkeyPatch) -> None:
    """Stand in for the OS resolver on RFC 6761 `.invalid` names: never resolvable.

    The test harness forbids DNS altogether; this gives the answer any resolver
    gives for such a name, without sending a query anywhere.
    """
    harness_getaddrinfo = socket.getaddrinfo

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        if isinstance(host, str) and host.endswith(".invalid"):
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return harness_getaddrinfo(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)


@pytest.fixture
async def powered_sim(machine_sim: MachineSimulator) -> MachineSimulator:
    await machine_sim.power_on()
    return machine_sim


@pytest.fixture
async def silent_server() -> AsyncIterator[int]:
    """Accepts TCP connections and never says a word (a stuck service)."""

    async def handle(
        reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        await reader.read()
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    yield server.sockets[0].getsockname()[1]
    server.close()
    await server.wait_closed()


@pytest.fixture
async def not_ssh_server() -> AsyncIterator[int]:
    """Answers like a web server, then hangs up."""

    async def handle(
        reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        writer.write(b"HTTP/1.1 400 Bad Request\r\n\r\n")
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    yield server.sockets[0].getsockname()[1]
    server.close()
    await server.wait_closed()


async def test_full_flow_pins_the_host_key(
    hass: HomeAssistant, powered_sim: MachineSimulator
) -> None:
    flow_id = await start_machine_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        flow_id, form_input(powered_sim)
    )
    assert result["type"] is FlowResultType.MENU
    assert result["step_id"] == "host_key"
    assert (
        result["description_placeholders"]["fingerprint"]
        == powered_sim.host_key_fingerprint
    )
    assert not any(c for c in powered_sim.commands), "nothing runs before confirmation"

    result = await hass.config_entries.flow.async_configure(flow_id, TRUST)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "NAS"
    assert result["result"].unique_id == "52:54:00:12:34:56"
    assert result["data"] == {
        CONF_KIND: "machine",
        "mac": "52:54:00:12:34:56",
        "host": "127.0.0.1",
        "broadcast_address": "127.0.0.1",
        "broadcast_port": powered_sim.udp_port,
        "ssh_port": powered_sim.ssh_port,
        "username": "wakehub",
        "password": "correct horse",
        "shutdown_command": "sudo systemctl poweroff",
        "reboot_command": "sudo systemctl reboot",
        CONF_HOST_KEY: powered_sim.host_key,
    }


# bcrypt warns that 16 rounds are few: they are what ssh-keygen writes.
@pytest.mark.filterwarnings(
    "ignore:Warning. bcrypt.kdf.. called with only 16 round:UserWarning"
)
async def test_private_key_login(
    hass: HomeAssistant, powered_sim: MachineSimulator
) -> None:
    key = asyncssh.generate_private_key("ssh-ed25519")
    powered_sim.authorized_key = key.export_public_key().decode()
    # 16 bcrypt rounds, as ssh-keygen writes: asyncssh's default 128 costs
    # seconds for each of the flow's logins.
    pem = key.export_private_key("openssh", passphrase="s3cret", rounds=16).decode()
    flow_id = await start_machine_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        flow_id,
        form_input(
            powered_sim, password=None, private_key=pem, private_key_passphrase="s3cret"
        ),
    )
    assert result["step_id"] == "host_key"
    result = await hass.config_entries.flow.async_configure(flow_id, TRUST)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"]["private_key"] == pem
    assert "password" not in result["data"]


@pytest.mark.parametrize(
    ("overrides", "errors"),
    [
        ({"mac": "52:54:00:12:34"}, {"mac": "invalid_mac"}),
        ({"mac": "zz:54:00:12:34:56"}, {"mac": "invalid_mac"}),
        ({"host": "not a host!"}, {"host": "invalid_host"}),
        (
            {"broadcast_address": "255.255.255"},
            {"broadcast_address": "invalid_broadcast_address"},
        ),
        ({"password": None}, {"base": "missing_credentials"}),
        (
            {"private_key": "-----BEGIN NOTHING-----"},
            {"private_key": "invalid_private_key"},
        ),
    ],
)
async def test_malformed_input_is_a_field_error(
    hass: HomeAssistant,
    powered_sim: MachineSimulator,
    overrides: dict[str, Any],
    errors: dict[str, str],
) -> None:
    """Each mistake is shown on its field; fixing it leads to a created entry."""
    flow_id = await start_machine_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        flow_id, form_input(powered_sim, **overrides)
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "machine"
    assert result["errors"] == errors
    result = await hass.config_entries.flow.async_configure(
        flow_id, form_input(powered_sim)
    )
    assert result["step_id"] == "host_key"
    result = await hass.config_entries.flow.async_configure(flow_id, TRUST)
    assert result["type"] is FlowResultType.CREATE_ENTRY


async def test_port_out_of_range_is_refused_by_the_form(
    hass: HomeAssistant, powered_sim: MachineSimulator
) -> None:
    flow_id = await start_machine_flow(hass)
    with pytest.raises(InvalidData) as err:
        await hass.config_entries.flow.async_configure(
            flow_id, form_input(powered_sim, ssh_port=70000)
        )
    assert "ssh_port" in err.value.schema_errors


async def test_unreachable_machine_can_be_added_while_off(
    hass: HomeAssistant, machine_sim: MachineSimulator
) -> None:
    flow_id = await start_machine_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        flow_id, form_input(machine_sim)
    )
    assert result["type"] is FlowResultType.MENU
    assert result["step_id"] == "unreachable"
    assert result["menu_options"] == ["machine", "add_unverified"]

    # "Change the address" goes back to the form...
    result = await hass.config_entries.flow.async_configure(
        flow_id, {"next_step_id": "machine"}
    )
    assert result["step_id"] == "machine"
    result = await hass.config_entries.flow.async_configure(
        flow_id, form_input(machine_sim)
    )
    # ...and "add it anyway" creates the entry without a pinned key.
    result = await hass.config_entries.flow.async_configure(
        flow_id, {"next_step_id": "add_unverified"}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert CONF_HOST_KEY not in result["data"]


@pytest.mark.usefixtures("unresolvable_names")
async def test_host_name_that_does_not_resolve(
    hass: HomeAssistant, powered_sim: MachineSimulator
) -> None:
    flow_id = await start_machine_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        flow_id, form_input(powered_sim, host="nas.invalid")
    )
    assert result["errors"] == {"host": "cannot_resolve"}
    result = await hass.config_entries.flow.async_configure(
        flow_id, form_input(powered_sim)
    )
    assert result["step_id"] == "host_key"


async def test_port_open_but_no_ssh_answer_is_a_timeout(
    hass: HomeAssistant,
    powered_sim: MachineSimulator,
    silent_server: int,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    flow_id = await start_machine_flow(hass)
    with monkeypatch.context() as patch:
        patch.setattr(machine_flow, "FLOW_TIMEOUT", SHORT_FLOW_TIMEOUT)
        result = await hass.config_entries.flow.async_configure(
            flow_id, form_input(powered_sim, ssh_port=silent_server)
        )
    assert result["errors"] == {"base": "timeout"}
    result = await hass.config_entries.flow.async_configure(
        flow_id, form_input(powered_sim)
    )
    assert result["step_id"] == "host_key"


async def test_not_an_ssh_server(
    hass: HomeAssistant, powered_sim: MachineSimulator, not_ssh_server: int
) -> None:
    flow_id = await start_machine_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        flow_id, form_input(powered_sim, ssh_port=not_ssh_server)
    )
    assert result["errors"] == {"base": "cannot_connect"}
    result = await hass.config_entries.flow.async_configure(
        flow_id, form_input(powered_sim)
    )
    assert result["step_id"] == "host_key"


async def test_login_refused_then_fixed(
    hass: HomeAssistant, powered_sim: MachineSimulator
) -> None:
    flow_id = await start_machine_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        flow_id, form_input(powered_sim, password="wrong")
    )
    assert result["step_id"] == "host_key"
    result = await hass.config_entries.flow.async_configure(flow_id, TRUST)
    assert result["step_id"] == "machine"
    assert result["errors"] == {"base": "invalid_auth"}
    # The key was confirmed already: the fixed password goes straight to the entry.
    result = await hass.config_entries.flow.async_configure(
        flow_id, form_input(powered_sim)
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY


async def test_host_key_changed_during_setup(
    hass: HomeAssistant, powered_sim: MachineSimulator
) -> None:
    flow_id = await start_machine_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        flow_id, form_input(powered_sim)
    )
    assert result["step_id"] == "host_key"
    first = result["description_placeholders"]["fingerprint"]
    # The machine is reinstalled (or impersonated) before the user confirms.
    await powered_sim.power_off()
    powered_sim.regenerate_host_key()
    await powered_sim.power_on()
    # Connecting again with the trusted key shows the new one, and the old.
    result = await hass.config_entries.flow.async_configure(flow_id, TRUST)
    assert result["step_id"] == "host_key_changed"
    assert result["description_placeholders"]["fingerprint"] != first
    assert result["description_placeholders"]["previous"] == first
    result = await hass.config_entries.flow.async_configure(flow_id, TRUST)
    assert result["data"][CONF_HOST_KEY] == powered_sim.host_key


@pytest.mark.parametrize(
    ("break_it", "error"),
    [
        ("power_off", "unreachable"),
        ("stall_logins", "timeout"),
    ],
)
async def test_login_fails_after_confirmation(
    hass: HomeAssistant,
    powered_sim: MachineSimulator,
    break_it: str,
    error: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    flow_id = await start_machine_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        flow_id, form_input(powered_sim)
    )
    assert result["step_id"] == "host_key"
    if break_it == "power_off":
        await powered_sim.power_off()
    else:
        powered_sim.auth_delay = 30
        monkeypatch.setattr(machine_flow, "FLOW_TIMEOUT", SHORT_FLOW_TIMEOUT)
    result = await hass.config_entries.flow.async_configure(flow_id, TRUST)
    monkeypatch.undo()
    if error == "unreachable":  # off now: fix the address or add it anyway
        assert result["step_id"] == "unreachable"
        result = await hass.config_entries.flow.async_configure(
            flow_id, {"next_step_id": "machine"}
        )
        assert result["step_id"] == "machine"
    else:
        assert result["errors"] == {"base": error}
    powered_sim.auth_delay = 0
    await powered_sim.power_on()
    result = await hass.config_entries.flow.async_configure(
        flow_id, form_input(powered_sim)
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY


async def test_duplicate_mac_aborts(
    hass: HomeAssistant, powered_sim: MachineSimulator, machine_entry: MockConfigEntry
) -> None:
    flow_id = await start_machine_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        flow_id, form_input(powered_sim, mac="52:54:00:12:34:56".upper())
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"


# -- reconfigure ---------------------------------------------------------------------


def reconfigure_input(sim: MachineSimulator, **overrides: Any) -> dict[str, Any]:
    data = form_input(sim, **{"password": "", **overrides})
    del data["name"], data["mac"]
    return data


async def test_reconfigure_keeps_secrets_and_pinned_key(
    hass: HomeAssistant, powered_sim: MachineSimulator, machine_entry: MockConfigEntry
) -> None:
    result = await machine_entry.start_reconfigure_flow(hass)
    assert result["step_id"] == "reconfigure"
    # Secrets are never shown back in the form.
    assert "correct horse" not in repr(result)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        reconfigure_input(powered_sim, shutdown_command="sudo poweroff"),
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    assert machine_entry.data["password"] == "correct horse"
    assert machine_entry.data["shutdown_command"] == "sudo poweroff"
    assert machine_entry.data[CONF_HOST_KEY] == powered_sim.host_key
    await hass.async_block_till_done()


async def test_reconfigure_shows_a_changed_host_key(
    hass: HomeAssistant, powered_sim: MachineSimulator, machine_entry: MockConfigEntry
) -> None:
    old = powered_sim.host_key_fingerprint
    await powered_sim.power_off()
    powered_sim.regenerate_host_key()
    await powered_sim.power_on()
    result = await machine_entry.start_reconfigure_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], reconfigure_input(powered_sim)
    )
    assert result["step_id"] == "host_key_changed"
    assert result["description_placeholders"]["previous"] == old
    assert (
        result["description_placeholders"]["fingerprint"]
        == powered_sim.host_key_fingerprint
    )
    result = await hass.config_entries.flow.async_configure(result["flow_id"], TRUST)
    assert result["reason"] == "reconfigure_successful"
    assert machine_entry.data[CONF_HOST_KEY] == powered_sim.host_key
    await hass.async_block_till_done()


@pytest.mark.usefixtures("unresolvable_names")
async def test_reconfigure_errors_and_unreachable(
    hass: HomeAssistant, machine_sim: MachineSimulator, machine_entry: MockConfigEntry
) -> None:
    result = await machine_entry.start_reconfigure_flow(hass)
    flow_id = result["flow_id"]
    result = await hass.config_entries.flow.async_configure(
        flow_id, reconfigure_input(machine_sim, host="nas.invalid")
    )
    assert result["step_id"] == "reconfigure"
    assert result["errors"] == {"host": "cannot_resolve"}
    result = await hass.config_entries.flow.async_configure(
        flow_id, reconfigure_input(machine_sim, host="bad host")
    )
    assert result["errors"] == {"host": "invalid_host"}
    # The machine is off: the address can still be saved, keeping the pinned key.
    result = await hass.config_entries.flow.async_configure(
        flow_id, reconfigure_input(machine_sim)
    )
    assert result["step_id"] == "unreachable"
    assert result["menu_options"] == ["reconfigure", "add_unverified"]
    result = await hass.config_entries.flow.async_configure(
        flow_id, {"next_step_id": "add_unverified"}
    )
    assert result["reason"] == "reconfigure_successful"
    assert machine_entry.data[CONF_HOST_KEY] == machine_sim.host_key
    await hass.async_block_till_done()


async def test_reconfigure_to_another_host_repins(
    hass: HomeAssistant, powered_sim: MachineSimulator
) -> None:
    """A new address means a new pin: the old key is not carried over blindly."""
    entry = MockConfigEntry(
        domain=DOMAIN,
        title="NAS",
        unique_id=powered_sim.mac,
        data=machine_data(powered_sim, ssh_port=1),
    )
    entry.add_to_hass(hass)
    result = await entry.start_reconfigure_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], reconfigure_input(powered_sim, password="wrong")
    )
    # Another server: its key is shown as a first one (nothing to compare with).
    assert result["step_id"] == "host_key"
    result = await hass.config_entries.flow.async_configure(result["flow_id"], TRUST)
    assert result["step_id"] == "reconfigure"
    assert result["errors"] == {"base": "invalid_auth"}


async def test_options_flow(
    hass: HomeAssistant, powered_sim: MachineSimulator, machine_entry: MockConfigEntry
) -> None:
    result = await hass.config_entries.options.async_init(machine_entry.entry_id)
    assert result["step_id"] == "init"
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {CONF_TIMEOUT: 120, CONF_SCAN_INTERVAL: 60}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    # The entry reloads with its new options: let that finish inside the test.
    await hass.async_block_till_done()
    assert machine_entry.options == {
        CONF_TIMEOUT: 120,
        CONF_SCAN_INTERVAL: 60,
        "dependencies": [],
        "stop_with_dependents": True,
        "idle_timeout": 30,
        "keep_awake": [],
    }


async def test_trust_menus_show_again_and_cancel(
    hass: HomeAssistant, powered_sim: MachineSimulator
) -> None:
    """A menu asked again is the same; Cancel goes back to the form, pinning
    nothing."""
    flow_id = await start_machine_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        flow_id, form_input(powered_sim)
    )
    assert result["step_id"] == "host_key"
    assert result["menu_options"] == ["trust", "not_trusted"]
    assert "previous" not in result["description_placeholders"]
    again = await hass.config_entries.flow.async_configure(flow_id, {})
    assert again["step_id"] == "host_key"
    result = await hass.config_entries.flow.async_configure(
        flow_id, {"next_step_id": "not_trusted"}
    )
    assert result["step_id"] == "machine"
    assert result["errors"] == {"base": "not_trusted"}
    assert not any(c for c in powered_sim.commands)


async def test_unreachable_menu_shows_again(
    hass: HomeAssistant, machine_sim: MachineSimulator
) -> None:
    flow_id = await start_machine_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        flow_id, {**form_input(machine_sim), "ssh_port": 1}
    )
    assert result["step_id"] == "unreachable"
    again = await hass.config_entries.flow.async_configure(flow_id, {})
    assert again["step_id"] == "unreachable"
    assert again["menu_options"] == ["machine", "add_unverified"]


async def test_machines_have_no_subentries(
    hass: HomeAssistant, machine_entry: MockConfigEntry
) -> None:
    assert machine_entry.supported_subentry_types == {}


def test_every_failure_has_one_text_for_forms_and_actions() -> None:
    """The one table of api/errors.py names form errors and action errors
    alike: each of its keys reads in both places, in every language."""
    translations = (
        Path(__file__).parent.parent / "custom_components/wakehub/translations"
    )
    keys = {key for _, key in ERROR_KEYS} | {CANNOT_RESOLVE, UNKNOWN_ERROR}
    for path in translations.glob("*.json"):
        text = json.loads(path.read_text(encoding="utf-8"))
        assert sorted(keys - text["config"]["error"].keys()) == [], path.name
        assert sorted(keys - text["exceptions"].keys()) == [], path.name
    # Most specific first: a timeout is not named as any failed connection.
    assert error_key(ConnectionTimeout("slow")) == "timeout"
    assert error_key(WakeHubError("?")) == UNKNOWN_ERROR
