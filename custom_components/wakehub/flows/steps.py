"""The wizard's path, written once for every kind (see flows/kind.py).

Adding: the kind's form (step id: the kind) → connection test → `certificate`
or `host_key` when something must be trusted first → `resources` (the choose
step, flows/choose.py) → entry. Reconfiguring (`reconfigure`) and reauthenticating
(`reauth_confirm`) take the same path to the connection test, then update the
entry of the same server and reload it.

A trust step is a menu: trust what is shown, or go back to the form. A changed
pin (`certificate_changed`, `host_key_changed`) shows the previous one.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from homeassistant.config_entries import (
    SOURCE_REAUTH,
    SOURCE_RECONFIGURE,
    ConfigEntry,
    ConfigFlow,
    ConfigFlowResult,
)

from ..api.errors import PermissionDenied, WakeHubError, error_key
from ..const import CONF_KIND
from ..kinds import KINDS
from ..schema import vol
from . import choose, validate
from .fields import form, rules
from .kind import Detour, FlowKind, FormError, Found, Server, Trust, Untrusted, Use
from .trust import TRUST_OPTIONS, kept_pin, kept_secrets, untrusted_certificate

# The trust menus: (first time, changed pin) step ids, by what is trusted.
_TRUST_STEPS = {
    Trust.CERTIFICATE: ("certificate", "certificate_changed"),
    Trust.HOST_KEY: ("host_key", "host_key_changed"),
}


class ServerFlow(ConfigFlow):
    """The steps every kind goes through (the config flow adds its menu)."""

    _kind: FlowKind
    _server: Server | None = None
    _untrusted: Untrusted | None = None
    detour: Detour | None = None

    def __init__(self) -> None:
        self.data: dict[str, Any] = {}
        self._found: dict[str, Found] = {}

    # -- the entry a reconfigure or reauth works on ---------------------------------

    def _entry(self) -> ConfigEntry | None:
        if self.source == SOURCE_RECONFIGURE:
            return self._get_reconfigure_entry()
        if self.source == SOURCE_REAUTH:
            return self._get_reauth_entry()
        return None

    def _use(self) -> Use:
        return {SOURCE_RECONFIGURE: Use.RECONFIGURE, SOURCE_REAUTH: Use.REAUTH}.get(
            self.source or "", Use.ADD
        )

    def _stored(self) -> Mapping[str, Any]:
        entry = self._entry()
        return entry.data if entry is not None else {}

    # -- the connection form ------------------------------------------------------------

    async def async_connect_step(
        self, kind: FlowKind, user_input: Mapping[str, Any] | None
    ) -> ConfigFlowResult:
        """The kind's form; once valid, the connection test."""
        self._kind = kind
        if user_input is None:
            return self.show_connect_form({})
        stored = self._stored()
        fields = rules(kind.fields(self._use(), stored))
        values, errors = validate.parse(user_input, fields)
        if errors:
            return self.show_connect_form(errors, values)
        data = {k: v for k, v in stored.items() if k not in fields}
        data.pop(kind.pin_field or "", None)
        data.update(values)
        if self._use() is Use.RECONFIGURE:
            data.update(kept_secrets(kind, data, stored))
        data[CONF_KIND] = kind.kind
        if errors := await kind.check(self.hass, data):
            return self.show_connect_form(errors, data)
        if kind.pin_field and (pin := kept_pin(kind, data, self.data, stored)):
            data[kind.pin_field] = pin
        self.data = data
        if self._use() is Use.ADD and (unique_id := kind.known_id(data)):
            await self.async_set_unique_id(unique_id)
            self._abort_if_unique_id_configured()
        return await self.async_test()

    def show_connect_form(
        self,
        errors: dict[str, str],
        shown: Mapping[str, Any] | None = None,
        placeholders: Mapping[str, str] | None = None,
    ) -> ConfigFlowResult:
        """The kind's form (again), with what went wrong: prefilled with the
        valid values `shown` (else the last ones tested, else the stored
        ones), never with a secret."""
        entry, stored = self._entry(), self._stored()
        # (Secret fields never show what is known: flows/fields.py.)
        known = {**stored, **self.data, **(shown or {})}
        return self.async_show_form(
            step_id=self.form_step_id(),
            data_schema=vol.Schema(form(self._kind.fields(self._use(), stored), known)),
            errors=errors,
            description_placeholders={
                **({"name": entry.title} if entry is not None else {}),
                **(placeholders or {}),
            },
        )

    def form_step_id(self) -> str:
        """The step id of the form the user fills (the kind's, when adding)."""
        return {
            Use.ADD: self._kind.kind,
            Use.RECONFIGURE: "reconfigure",
            Use.REAUTH: "reauth_confirm",
        }[self._use()]

    # -- the connection test ------------------------------------------------------------

    async def async_test(self) -> ConfigFlowResult:
        """Test the connection with `data`; go on as the outcome requires."""
        kind = self._kind
        try:
            server = await kind.connect(self.hass, self.data)
        except Untrusted as untrusted:
            return self._show_trust(untrusted)
        except FormError as err:
            return self.show_connect_form(err.errors)
        except Detour as detour:
            self.detour = detour
            return await detour.show(self, None)
        except WakeHubError as err:
            return await self._failed(err)
        return await self.async_connected(server)

    async def _failed(self, err: WakeHubError) -> ConfigFlowResult:
        """A certificate the user may trust is offered; anything else is said."""
        try:
            untrusted = await untrusted_certificate(self._kind, self.data, err)
        except WakeHubError as fetch_err:
            return self.show_error(fetch_err)
        if untrusted is not None:
            return self._show_trust(untrusted)
        return self.show_error(err)

    def show_error(self, err: WakeHubError) -> ConfigFlowResult:
        """Back to the form, naming what went wrong."""
        placeholders = {}
        if isinstance(err, PermissionDenied):
            placeholders["privilege"] = err.privilege or str(err)
        return self.show_connect_form(
            {"base": self.error_key(err)}, placeholders=placeholders
        )

    def error_key(self, err: WakeHubError) -> str:
        """The form error naming `err`, the kind's own errors first."""
        return error_key(err, self._kind.error_keys)

    async def async_connected(self, server: Server) -> ConfigFlowResult:
        """Connected: update the entry of that same server, or go on to choose."""
        kind = self._kind
        await self.async_set_unique_id(server.unique_id)
        if (entry := self._entry()) is not None:
            self._abort_if_unique_id_mismatch(reason=kind.wrong_server)
            return self.async_update_reload_and_abort(entry, data=dict(server.data))
        self._abort_if_unique_id_configured()
        if kind.discover is None:
            return self.async_create_entry(title=server.title, data=dict(server.data))
        try:
            if server.resources is not None:
                found = await server.resources()
            else:
                found = await kind.discover(self.hass, server.data)
        except WakeHubError as err:
            return self.show_error(err)
        self._server = server
        self._found = {f.value: f for f in found}
        return await self.async_step_resources()

    # -- trust --------------------------------------------------------------------------

    async def async_step_certificate(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """The trust menu (shown by `_show_trust`; its choices are the steps
        `trust` and `not_trusted`). Home Assistant wants a step for each menu."""
        assert self._untrusted is not None
        return self._show_trust(self._untrusted)

    async_step_certificate_changed = async_step_certificate
    async_step_host_key = async_step_certificate
    async_step_host_key_changed = async_step_certificate

    def _show_trust(self, untrusted: Untrusted) -> ConfigFlowResult:
        kind = self._kind
        self._untrusted = untrusted
        first, changed = _TRUST_STEPS[kind.trust]
        placeholders = {"address": untrusted.address, "fingerprint": untrusted.shown}
        # The pin trusted before: a moment ago in this flow, or the stored one.
        pin_field = kind.pin_field or ""
        previous = self.data.get(pin_field) or self._stored().get(pin_field)
        if previous and previous != untrusted.presented:
            placeholders["previous"] = kind.show_pin(str(previous))
        return self.async_show_menu(
            step_id=changed if "previous" in placeholders else first,
            menu_options=TRUST_OPTIONS,
            description_placeholders=placeholders,
        )

    async def async_step_trust(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Pin what the user trusted, and connect again with it."""
        assert self._untrusted is not None
        assert self._kind.pin_field is not None
        self.data[self._kind.pin_field] = self._untrusted.presented
        return await self.async_test()

    async def async_step_not_trusted(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Not trusted: back to the form (another address, or no verification)."""
        return self.show_connect_form({"base": "not_trusted"})

    # -- choose -------------------------------------------------------------------------

    async def async_step_resources(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """The resources to add (none ticked), or explicitly the server only."""
        assert self._server is not None
        server = self._server
        errors: dict[str, str] = {}
        if user_input is not None:
            picked, errors = choose.chosen(user_input, self._found, server_only=True)
            if not errors:
                subentry_type = str(KINDS[self._kind.kind].subentry_type)
                return self.async_create_entry(
                    title=server.title,
                    data=dict(server.data),
                    subentries=[choose.subentry(subentry_type, f) for f in picked],
                    description=choose.ADDED if picked else choose.SERVER_ONLY,
                    description_placeholders={
                        "server": server.title,
                        "added": choose.names(picked),
                    },
                )
        return self.async_show_form(
            step_id="resources",
            data_schema=choose.schema(self._found.values(), server_only=True),
            errors=errors,
            description_placeholders=choose.placeholders(
                server.title, self._found.values()
            ),
        )
