"""The physical machine kind of the wizard.

Its form (`machine`) → a connection probe → `host_key` (trust the SSH host
key's fingerprint before any password is sent) → login test → entry. A machine
that is off can still be added from the `unreachable` menu ("add it anyway");
its host key is then pinned at first contact.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import asyncssh
from homeassistant.config_entries import ConfigFlowResult
from homeassistant.const import CONF_HOST, CONF_NAME, CONF_PASSWORD, CONF_USERNAME
from homeassistant.core import HomeAssistant
from homeassistant.helpers.selector import NumberSelectorConfig, NumberSelectorMode

from ...api.errors import CannotConnect, HostKeyMismatch
from ...api.machine import (
    DEFAULT_REBOOT_COMMAND,
    DEFAULT_SHUTDOWN_COMMAND,
    MachineClient,
    fetch_host_key,
    host_key_fingerprint,
    is_port_open,
)
from ...const import (
    CONF_BROADCAST_ADDRESS,
    CONF_BROADCAST_PORT,
    CONF_HOST_KEY,
    CONF_MAC,
    CONF_PRIVATE_KEY,
    CONF_PRIVATE_KEY_PASSPHRASE,
    CONF_REBOOT_COMMAND,
    CONF_SHUTDOWN_COMMAND,
    CONF_SSH_PORT,
    DEFAULT_BROADCAST_ADDRESS,
    DEFAULT_BROADCAST_PORT,
    DEFAULT_SSH_PORT,
    KIND_MACHINE,
)
from ...flows import fields, validate
from ...flows.fields import required, secret_field
from ...flows.kind import Detour, FlowKind, FormError, Server, Trust, Untrusted, Use
from ...flows.power_settings import POWER_SETTINGS
from ...flows.settings import Options, timing
from . import credentials

if TYPE_CHECKING:
    from ...flows.steps import ServerFlow

# The probe during setup may wait a little longer than polling does: a sleepy NAS
# can take a few seconds to accept a connection.
FLOW_TIMEOUT = 5.0

_PORT = validate.FiniteNumberSelector(
    NumberSelectorConfig(min=1, max=65535, step=1, mode=NumberSelectorMode.BOX)
)
# The form; reconfiguring keeps the name and the MAC address (the unique id).
_NAMED = (required(CONF_NAME), required(CONF_MAC, validate.mac))
_FIELDS = (
    required(CONF_HOST, validate.host),
    required(CONF_BROADCAST_ADDRESS, validate.ipv4, default=DEFAULT_BROADCAST_ADDRESS),
    required(CONF_BROADCAST_PORT, validate.port, _PORT, DEFAULT_BROADCAST_PORT),
    required(CONF_SSH_PORT, validate.port, _PORT, DEFAULT_SSH_PORT),
    required(CONF_USERNAME),
    secret_field(CONF_PASSWORD),
    secret_field(CONF_PRIVATE_KEY, validate.pem, fields.PEM),
    secret_field(CONF_PRIVATE_KEY_PASSPHRASE),
    required(CONF_SHUTDOWN_COMMAND, validate.command, default=DEFAULT_SHUTDOWN_COMMAND),
    required(CONF_REBOOT_COMMAND, validate.command, default=DEFAULT_REBOOT_COMMAND),
)


def _check_private_key(key: str, passphrase: str | None) -> bool:
    """Whether the PEM key can be loaded (run in the executor: KDFs are slow)."""
    try:
        asyncssh.import_private_key(key, passphrase or None)
    except asyncssh.KeyImportError, ValueError:
        return False
    return True


async def _check(hass: HomeAssistant, data: dict[str, Any]) -> dict[str, str]:
    """A password or a private key that loads."""
    if not data.get(CONF_PASSWORD) and not data.get(CONF_PRIVATE_KEY):
        return {"base": "missing_credentials"}
    if data.get(CONF_PRIVATE_KEY) and not await hass.async_add_executor_job(
        _check_private_key,
        data[CONF_PRIVATE_KEY],
        data.get(CONF_PRIVATE_KEY_PASSPHRASE),
    ):
        return {CONF_PRIVATE_KEY: "invalid_private_key"}
    return {}


def _server(data: Mapping[str, Any]) -> Server:
    """The machine, by its MAC address; its name is the entry's title."""
    return Server(
        unique_id=data[CONF_MAC],
        title=str(data.get(CONF_NAME, "")),
        data={k: v for k, v in data.items() if k != CONF_NAME},
    )


async def _presented(host: str, port: int) -> Untrusted:
    """The host key the machine presents, to be trusted before any login."""
    key = await fetch_host_key(host, port, FLOW_TIMEOUT)
    return Untrusted(key, host_key_fingerprint(key), host)


async def _connect(hass: HomeAssistant, data: dict[str, Any]) -> Server:
    """Reachable? Then its host key must be the trusted one, and the login work."""
    host, port = data[CONF_HOST], data[CONF_SSH_PORT]
    try:
        reachable = await is_port_open(host, port, FLOW_TIMEOUT)
    except CannotConnect:
        raise FormError({CONF_HOST: "cannot_resolve"}) from None
    if not reachable:
        raise Detour(unreachable)
    if not data.get(CONF_HOST_KEY):
        raise await _presented(host, port)
    try:
        await MachineClient(credentials(data), timeout=FLOW_TIMEOUT).check()
    except HostKeyMismatch:
        # Another key than the one trusted (a moment ago, or when it was
        # added): shown with the trusted one, before anything is sent.
        raise await _presented(host, port) from None
    return _server(data)


async def unreachable(
    flow: ServerFlow, user_input: dict[str, Any] | None
) -> ConfigFlowResult:
    """Nothing answered: fix the address, or add the machine while it is off."""
    return flow.async_show_menu(
        step_id="unreachable",
        menu_options=[flow.form_step_id(), "add_unverified"],
        description_placeholders={
            "host": flow.data[CONF_HOST],
            "port": str(flow.data[CONF_SSH_PORT]),
        },
    )


async def add_unverified(flow: ServerFlow) -> ConfigFlowResult:
    """Add without the SSH check; the host key is pinned at first contact (a
    reconfigure of the same host and port keeps its pin)."""
    return await flow.async_connected(_server(flow.data))


FLOW_KIND = FlowKind(
    kind=KIND_MACHINE,
    fields=lambda use, stored: _FIELDS if use is Use.RECONFIGURE else _NAMED + _FIELDS,
    check=_check,
    connect=_connect,
    known_id=lambda data: data.get(CONF_MAC),
    trust=Trust.HOST_KEY,
    server_of=lambda data: (data.get(CONF_HOST), data.get(CONF_SSH_PORT)),
    show_pin=host_key_fingerprint,
    # Timing, dependencies and idle auto-shutdown of the machine.
    options=Options(step_id="init", sections=(timing(), POWER_SETTINGS)),
)
