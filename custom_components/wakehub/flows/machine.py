"""The machine part of the wizard.

Steps: `machine` (form) → connection probe → `host_key` (confirm the SSH
host key's fingerprint before any password is sent) → login test → entry.
A machine that is off can still be added from the `unreachable` menu; its host
key is then pinned at first contact.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import asyncssh
from homeassistant.config_entries import (
    SOURCE_RECONFIGURE,
    ConfigFlow,
    ConfigFlowResult,
    OptionsFlowWithReload,
)
from homeassistant.const import CONF_HOST, CONF_NAME, CONF_PASSWORD, CONF_USERNAME
from homeassistant.helpers.selector import (
    NumberSelectorConfig,
    NumberSelectorMode,
    TextSelector,
    TextSelectorConfig,
    TextSelectorType,
)

from ..api.errors import (
    CannotConnect,
    ConnectionTimeout,
    HostKeyMismatch,
    InvalidAuth,
    WakeHubError,
)
from ..api.machine import (
    DEFAULT_REBOOT_COMMAND,
    DEFAULT_SHUTDOWN_COMMAND,
    MachineClient,
    SshCredentials,
    fetch_host_key,
    host_key_fingerprint,
    is_port_open,
)
from ..const import (
    CONF_BROADCAST_ADDRESS,
    CONF_BROADCAST_PORT,
    CONF_HOST_KEY,
    CONF_KIND,
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
from ..schema import vol
from . import validate
from .common import keep_stored_secrets, kept_pin, timing_fields, timing_options
from .power_settings import parse_power_settings, power_settings_fields, resource_of

# The probe during setup may wait a little longer than polling does: a sleepy NAS
# can take a few seconds to accept a connection.
FLOW_TIMEOUT = 5.0

SECRET_FIELDS = (CONF_PASSWORD, CONF_PRIVATE_KEY, CONF_PRIVATE_KEY_PASSPHRASE)

_PORT = validate.FiniteNumberSelector(
    NumberSelectorConfig(min=1, max=65535, step=1, mode=NumberSelectorMode.BOX)
)
# Every field of the form, for adding and reconfiguring (which fills in the
# name and MAC address it does not show).
_RULES: dict[str, validate.Rule] = {
    CONF_NAME: validate.text,
    CONF_MAC: validate.mac,
    CONF_HOST: validate.host,
    CONF_BROADCAST_ADDRESS: validate.ipv4,
    CONF_BROADCAST_PORT: validate.port,
    CONF_SSH_PORT: validate.port,
    CONF_USERNAME: validate.text,
    CONF_PASSWORD: validate.secret,
    CONF_PRIVATE_KEY: validate.pem,
    CONF_PRIVATE_KEY_PASSPHRASE: validate.secret,
    CONF_SHUTDOWN_COMMAND: validate.command,
    CONF_REBOOT_COMMAND: validate.command,
}
_TEXT = TextSelector()
_PASSWORD = TextSelector(TextSelectorConfig(type=TextSelectorType.PASSWORD))


def _machine_schema(defaults: Mapping[str, Any], *, reconfigure: bool) -> vol.Schema:
    """The machine form; secrets are never prefilled (blank keeps them)."""

    def default(key: str, fallback: Any = None) -> dict[str, Any]:
        value = defaults.get(key, fallback)
        return {} if value is None else {"default": value}

    fields: dict[vol.Marker, Any] = {}
    if not reconfigure:
        fields[vol.Required(CONF_NAME, **default(CONF_NAME))] = _TEXT
        fields[vol.Required(CONF_MAC, **default(CONF_MAC))] = _TEXT
    fields |= {
        vol.Required(CONF_HOST, **default(CONF_HOST)): _TEXT,
        vol.Required(
            CONF_BROADCAST_ADDRESS,
            **default(CONF_BROADCAST_ADDRESS, DEFAULT_BROADCAST_ADDRESS),
        ): _TEXT,
        vol.Required(
            CONF_BROADCAST_PORT, **default(CONF_BROADCAST_PORT, DEFAULT_BROADCAST_PORT)
        ): _PORT,
        vol.Required(CONF_SSH_PORT, **default(CONF_SSH_PORT, DEFAULT_SSH_PORT)): _PORT,
        vol.Required(CONF_USERNAME, **default(CONF_USERNAME)): _TEXT,
        vol.Optional(CONF_PASSWORD): _PASSWORD,
        vol.Optional(CONF_PRIVATE_KEY): TextSelector(
            TextSelectorConfig(multiline=True)
        ),
        vol.Optional(CONF_PRIVATE_KEY_PASSPHRASE): _PASSWORD,
        vol.Required(
            CONF_SHUTDOWN_COMMAND,
            **default(CONF_SHUTDOWN_COMMAND, DEFAULT_SHUTDOWN_COMMAND),
        ): _TEXT,
        vol.Required(
            CONF_REBOOT_COMMAND, **default(CONF_REBOOT_COMMAND, DEFAULT_REBOOT_COMMAND)
        ): _TEXT,
    }
    return vol.Schema(fields)


def _check_private_key(key: str, passphrase: str | None) -> bool:
    """Whether the PEM key can be loaded (run in the executor: KDFs are slow)."""
    try:
        asyncssh.import_private_key(key, passphrase or None)
    except asyncssh.KeyImportError, ValueError:
        return False
    return True


class MachineFlowMixin(ConfigFlow):
    """Steps of the machine kind; mixed into WakeHubConfigFlow."""

    _data: dict[str, Any]
    _presented_key: str | None = None
    _confirmed_key: str | None = None
    _form_step: str = KIND_MACHINE

    async def async_step_machine(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        errors: dict[str, str] = {}
        if user_input is not None:
            errors = await self._async_validate_machine(user_input, {})
            if not errors:
                await self.async_set_unique_id(self._data[CONF_MAC])
                self._abort_if_unique_id_configured()
                return await self._async_probe_machine("machine")
        return self.async_show_form(
            step_id="machine",
            data_schema=self.add_suggested_values_to_schema(
                _machine_schema(self._data, reconfigure=False),
                {k: v for k, v in (user_input or {}).items() if k not in SECRET_FIELDS},
            ),
            errors=errors,
        )

    async def async_step_reconfigure_machine(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Change how a machine is reached (form step id: `reconfigure`)."""
        entry = self._get_reconfigure_entry()
        errors: dict[str, str] = {}
        if user_input is not None:
            merged = {
                **user_input,
                CONF_NAME: entry.title,
                CONF_MAC: entry.data[CONF_MAC],
            }
            errors = await self._async_validate_machine(merged, entry.data)
            if not errors:
                same = (self._data[CONF_HOST], self._data[CONF_SSH_PORT]) == (
                    entry.data[CONF_HOST],
                    entry.data[CONF_SSH_PORT],
                )
                if pin := kept_pin(entry.data, same, CONF_HOST_KEY):
                    self._confirmed_key = pin
                return await self._async_probe_machine("reconfigure")
        return self.async_show_form(
            step_id="reconfigure",
            data_schema=_machine_schema(entry.data, reconfigure=True),
            errors=errors,
            description_placeholders={"name": entry.title},
        )

    async def _async_validate_machine(
        self, user_input: Mapping[str, Any], stored: Mapping[str, Any]
    ) -> dict[str, str]:
        """Field errors for malformed input; fills `self._data` when it is valid.

        `stored` is the entry being reconfigured ({} when adding): a blank
        secret keeps its stored value, which is never shown back.
        """
        data, errors = validate.parse(user_input, _RULES)
        data.update(keep_stored_secrets(data, stored, SECRET_FIELDS))
        if errors.keys() & set(SECRET_FIELDS):
            pass  # said next to the field already
        elif not data.get(CONF_PASSWORD) and not data.get(CONF_PRIVATE_KEY):
            errors["base"] = "missing_credentials"
        elif data.get(CONF_PRIVATE_KEY) and not await self.hass.async_add_executor_job(
            _check_private_key,
            data[CONF_PRIVATE_KEY],
            data.get(CONF_PRIVATE_KEY_PASSPHRASE),
        ):
            errors[CONF_PRIVATE_KEY] = "invalid_private_key"
        if not errors:
            data[CONF_KIND] = KIND_MACHINE
            self._data = data
        return errors

    def _credentials(self, host_key: str | None) -> SshCredentials:
        data = self._data
        return SshCredentials(
            host=data[CONF_HOST],
            port=data[CONF_SSH_PORT],
            username=data[CONF_USERNAME],
            password=data.get(CONF_PASSWORD),
            private_key=data.get(CONF_PRIVATE_KEY),
            private_key_passphrase=data.get(CONF_PRIVATE_KEY_PASSPHRASE),
            host_key=host_key,
        )

    async def _async_probe_machine(self, form_step: str) -> ConfigFlowResult:
        """Reachable? Then read the host key, confirm it, and log in."""
        self._form_step = form_step
        host, port = self._data[CONF_HOST], self._data[CONF_SSH_PORT]
        try:
            reachable = await is_port_open(host, port, FLOW_TIMEOUT)
        except CannotConnect:
            return self._show_machine_form({CONF_HOST: "cannot_resolve"})
        if not reachable:
            return await self.async_step_unreachable()
        try:
            presented = await fetch_host_key(host, port, FLOW_TIMEOUT)
        except ConnectionTimeout:
            return self._show_machine_form({"base": "timeout"})
        except WakeHubError:
            return self._show_machine_form({"base": "cannot_connect"})
        if presented == self._confirmed_key:
            return await self._async_login_and_finish()
        self._presented_key = presented
        return await self.async_step_host_key()

    def _show_machine_form(self, errors: dict[str, str]) -> ConfigFlowResult:
        """Back to the form the user filled, with what went wrong."""
        if self.source == SOURCE_RECONFIGURE:
            entry = self._get_reconfigure_entry()
            return self.async_show_form(
                step_id="reconfigure",
                data_schema=_machine_schema(self._data, reconfigure=True),
                errors=errors,
                description_placeholders={"name": entry.title},
            )
        return self.async_show_form(
            step_id="machine",
            data_schema=_machine_schema(self._data, reconfigure=False),
            errors=errors,
        )

    async def async_step_unreachable(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """The machine did not answer: fix the address, or add it while it is off."""
        return self.async_show_menu(
            step_id="unreachable",
            menu_options=[self._form_step, "add_unverified"],
            description_placeholders={
                "host": self._data[CONF_HOST],
                "port": str(self._data[CONF_SSH_PORT]),
            },
        )

    async def async_step_add_unverified(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Add without the SSH check; the host key is pinned at first contact."""
        keep = None
        if self.source == SOURCE_RECONFIGURE:
            keep = self._confirmed_key  # same host and port: the pin still holds
        return self._async_finish(host_key=keep)

    async def async_step_host_key(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Show the host key's fingerprint; it is pinned once the user confirms."""
        assert self._presented_key is not None
        if user_input is not None:
            self._confirmed_key = self._presented_key
            return await self._async_login_and_finish()
        previous = None
        if self.source == SOURCE_RECONFIGURE:
            previous = self._get_reconfigure_entry().data.get(CONF_HOST_KEY)
        return self.async_show_form(
            step_id="host_key_changed" if previous else "host_key",
            data_schema=vol.Schema({}),
            description_placeholders={
                "host": self._data[CONF_HOST],
                "fingerprint": host_key_fingerprint(self._presented_key),
                "previous": host_key_fingerprint(previous) if previous else "",
            },
        )

    async_step_host_key_changed = async_step_host_key

    async def _async_login_and_finish(self) -> ConfigFlowResult:
        client = MachineClient(
            self._credentials(self._confirmed_key), timeout=FLOW_TIMEOUT
        )
        try:
            await client.check()
        except InvalidAuth:
            return self._show_machine_form({"base": "invalid_auth"})
        except HostKeyMismatch:
            self._confirmed_key = None
            return self._show_machine_form({"base": "host_key_changed"})
        except ConnectionTimeout:
            return self._show_machine_form({"base": "timeout"})
        except WakeHubError:
            return self._show_machine_form({"base": "cannot_connect"})
        return self._async_finish(host_key=self._confirmed_key)

    def _async_finish(self, *, host_key: str | None) -> ConfigFlowResult:
        data = {k: v for k, v in self._data.items() if k != CONF_NAME}
        if host_key:
            data[CONF_HOST_KEY] = host_key
        if self.source == SOURCE_RECONFIGURE:
            return self.async_update_reload_and_abort(
                self._get_reconfigure_entry(), data=data
            )
        return self.async_create_entry(title=self._data[CONF_NAME], data=data)


class MachineOptionsFlow(OptionsFlowWithReload):
    """Timing, dependencies and idle auto-shutdown of a machine."""

    async def async_step_init(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        resource = resource_of(self.hass, self.config_entry.entry_id, None)
        errors: dict[str, str] = {}
        placeholders = {"cycle": ""}
        if user_input is not None:
            timing, timing_errors = timing_options(user_input)
            settings, errors, placeholders = parse_power_settings(
                self.hass, resource, user_input
            )
            errors |= timing_errors
            if not errors:
                return self.async_create_entry(data={**timing, **settings})
        options = self.config_entry.options
        return self.async_show_form(
            step_id="init",
            data_schema=vol.Schema(
                {**timing_fields(options), **power_settings_fields(self.hass, options)}
            ),
            errors=errors,
            description_placeholders=placeholders,
        )
