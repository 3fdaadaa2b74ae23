"""The Proxmox VE part of the wizard.

Steps: `proxmox` (URL, user, API token or password) → connection test →
`proxmox_certificate` when the certificate is not trusted (Proxmox's default is
self-signed: its SHA-256 fingerprint is shown and pinned once confirmed) →
`resources` (guests to control, one subentry each) → entry, one per cluster.
Reauth (`reauth_proxmox`), reconfigure (`reconfigure_proxmox`), options
(`proxmox_options`: host links per node, timing) and the "guest" subentry flow.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, ClassVar

import aiohttp
from homeassistant.config_entries import (
    SOURCE_REAUTH,
    SOURCE_RECONFIGURE,
    ConfigEntry,
    ConfigFlowResult,
    ConfigSubentry,
    ConfigSubentryData,
    ConfigSubentryFlow,
    OptionsFlow,
    OptionsFlowWithReload,
    SubentryFlowResult,
)
from homeassistant.const import CONF_PASSWORD, CONF_URL, CONF_USERNAME, CONF_VERIFY_SSL
from homeassistant.helpers.selector import (
    BooleanSelector,
    SelectOptionDict,
    SelectSelector,
    SelectSelectorConfig,
    SelectSelectorMode,
    TextSelector,
    TextSelectorConfig,
    TextSelectorType,
)

from ..api.errors import (
    CannotConnect,
    CertificateError,
    ConnectionTimeout,
    InvalidAuth,
    NotThatKind,
    PermissionDenied,
    WakeHubError,
)
from ..api.proxmox import ProxmoxClient, ProxmoxGuest, ProxmoxIdentity, normalize_url
from ..const import (
    CONF_HOST_LINKS,
    CONF_KIND,
    KIND_PROXMOX,
)
from ..hosting import HostKind
from ..kinds.proxmox import (
    CONF_CLUSTER,
    CONF_FINGERPRINT,
    CONF_NAME,
    CONF_NODE,
    CONF_NODES,
    CONF_STOP_METHOD,
    CONF_TOKEN_ID,
    CONF_TOKEN_SECRET,
    CONF_TYPE,
    CONF_VMID,
    STOP_METHODS,
    SUBENTRY_GUEST,
    ProxmoxCoordinator,
    build_client,
)
from ..links import Choice, chosen_switch, picker, suggested_links
from ..schema import vol
from . import validate
from .common import (
    CertificatePinSteps,
    keep_stored_secrets,
    kept_pin,
    same_server,
    timing_fields,
    timing_options,
)
from .power_settings import PowerSettingsSubentryFlow

# The connection test may wait longer than a poll: a busy node answers slowly.
FLOW_TIMEOUT = 10.0
CONF_RESOURCES = "resources"  # the shared `resources` step's field
CONF_GUESTS = "guests"  # the subentry flow's field
SECRET_FIELDS = (CONF_TOKEN_SECRET, CONF_PASSWORD)
DEFAULT_USERNAME = "root@pam"

_TEXT = TextSelector()
_URL = TextSelector(TextSelectorConfig(type=TextSelectorType.URL))
_SECRET = TextSelector(TextSelectorConfig(type=TextSelectorType.PASSWORD))


def _connection_schema(defaults: Mapping[str, Any]) -> vol.Schema:
    """URL, user and credentials; secrets are never prefilled (blank keeps them)."""
    url = {"default": defaults[CONF_URL]} if defaults.get(CONF_URL) else {}
    return vol.Schema(
        {
            vol.Required(CONF_URL, **url): _URL,
            vol.Required(
                CONF_USERNAME, default=defaults.get(CONF_USERNAME, DEFAULT_USERNAME)
            ): _TEXT,
            vol.Optional(
                CONF_TOKEN_ID,
                description={"suggested_value": defaults.get(CONF_TOKEN_ID)},
            ): _TEXT,
            vol.Optional(CONF_TOKEN_SECRET): _SECRET,
            vol.Optional(CONF_PASSWORD): _SECRET,
            vol.Required(
                CONF_VERIFY_SSL, default=defaults.get(CONF_VERIFY_SSL, True)
            ): BooleanSelector(),
        }
    )


def _url(value: Any) -> str:
    """The API's base URL; a host name alone means https on port 8006."""
    return normalize_url(
        validate.url(
            value,
            schemes=("http", "https"),
            error="proxmox_invalid_url",
            default_scheme="https",
        )
    )


_RULES: dict[str, validate.Rule] = {
    CONF_URL: _url,
    CONF_USERNAME: validate.text,
    CONF_TOKEN_ID: validate.optional_text,
    CONF_TOKEN_SECRET: validate.secret,
    CONF_PASSWORD: validate.secret,
}


def _guest_label(guest: ProxmoxGuest) -> str:
    return f"{guest.name} ({guest.vmid}, {guest.type}, {guest.node}, {guest.status})"


def _guest_selector(guests: list[ProxmoxGuest]) -> SelectSelector:
    return SelectSelector(
        SelectSelectorConfig(
            options=[
                SelectOptionDict(value=str(g.vmid), label=_guest_label(g))
                for g in guests
            ],
            multiple=True,
            mode=SelectSelectorMode.LIST,
        )
    )


def guest_subentry(guest: ProxmoxGuest) -> ConfigSubentryData:
    return ConfigSubentryData(
        subentry_type=SUBENTRY_GUEST,
        title=guest.name,
        unique_id=str(guest.vmid),
        data={
            CONF_VMID: guest.vmid,
            CONF_TYPE: guest.type,
            CONF_NODE: guest.node,
            CONF_NAME: guest.name,
        },
    )


def _subentry(data: ConfigSubentryData) -> ConfigSubentry:
    return ConfigSubentry(
        data=MappingProxyType(dict(data["data"])),
        subentry_type=data["subentry_type"],
        title=data["title"],
        unique_id=data["unique_id"],
    )


def _error_key(err: WakeHubError) -> str:
    """The form error for a failed connection test (certificates aside)."""
    if isinstance(err, ConnectionTimeout):
        return "timeout"
    if isinstance(err, CannotConnect):
        dns = isinstance(err.__cause__, aiohttp.ClientConnectorDNSError)
        return "cannot_resolve" if dns else "cannot_connect"
    if isinstance(err, NotThatKind):
        return "proxmox_not_proxmox"
    if isinstance(err, InvalidAuth):
        return "invalid_auth"
    return "proxmox_api_error"


class ProxmoxFlowMixin(CertificatePinSteps):
    """Steps of the proxmox kind; mixed into WakeHubConfigFlow."""

    _data: dict[str, Any]
    _pve_identity: ProxmoxIdentity | None = None
    _pve_guests: list[ProxmoxGuest] | None = None

    # -- forms ------------------------------------------------------------------------

    async def async_step_proxmox(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        errors: dict[str, str] = {}
        if user_input is not None:
            errors = self._pve_parse(user_input, {})
            if not errors:
                return await self._pve_connect()
        return self.async_show_form(
            step_id="proxmox",
            data_schema=self.add_suggested_values_to_schema(
                _connection_schema({}),
                {k: v for k, v in (user_input or {}).items() if k not in SECRET_FIELDS},
            ),
            errors=errors,
        )

    async def async_step_reconfigure_proxmox(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        entry = self._get_reconfigure_entry()
        errors: dict[str, str] = {}
        if user_input is not None:
            errors = self._pve_parse(user_input, entry.data)
            if not errors:
                return await self._pve_connect()
        return self.async_show_form(
            step_id="reconfigure_proxmox",
            data_schema=_connection_schema(entry.data),
            errors=errors,
            description_placeholders={"name": entry.title},
        )

    async def async_step_reauth_proxmox(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """A new token secret or password for the stored user."""
        entry = self._get_reauth_entry()
        field = CONF_TOKEN_SECRET if entry.data.get(CONF_TOKEN_ID) else CONF_PASSWORD
        if user_input is None:
            return self._pve_reauth_form({})
        values, errors = validate.parse(user_input, {field: validate.required_secret})
        if errors:
            return self._pve_reauth_form(errors)
        self._data = {**entry.data, **values}
        return await self._pve_connect()

    def _pve_reauth_form(
        self, errors: dict[str, str], placeholders: dict[str, str] | None = None
    ) -> ConfigFlowResult:
        entry = self._get_reauth_entry()
        token_id = entry.data.get(CONF_TOKEN_ID)
        field = CONF_TOKEN_SECRET if token_id else CONF_PASSWORD
        return self.async_show_form(
            step_id="reauth_proxmox",
            data_schema=vol.Schema({vol.Required(field): _SECRET}),
            errors=errors,
            description_placeholders={
                "name": entry.title,
                "username": str(entry.data[CONF_USERNAME]),
                "token_id": str(token_id or "-"),
                **(placeholders or {}),
            },
        )

    def _pve_form(
        self, errors: dict[str, str], placeholders: dict[str, str] | None = None
    ) -> ConfigFlowResult:
        """Back to the form the user filled, saying what went wrong."""
        if self.source == SOURCE_REAUTH:
            return self._pve_reauth_form(errors, placeholders)
        defaults = {k: v for k, v in self._data.items() if k not in SECRET_FIELDS}
        if self.source == SOURCE_RECONFIGURE:
            return self.async_show_form(
                step_id="reconfigure_proxmox",
                data_schema=_connection_schema(defaults),
                errors=errors,
                description_placeholders={
                    "name": self._get_reconfigure_entry().title,
                    **(placeholders or {}),
                },
            )
        return self.async_show_form(
            step_id="proxmox",
            data_schema=_connection_schema(defaults),
            errors=errors,
            description_placeholders=placeholders,
        )

    def _pve_parse(
        self, user_input: Mapping[str, Any], stored: Mapping[str, Any]
    ) -> dict[str, str]:
        """Field errors for malformed input; fills `self._data` when it is valid."""
        data, errors = validate.parse(user_input, _RULES)
        data.update(keep_stored_secrets(data, stored, SECRET_FIELDS))
        if CONF_USERNAME in data and "@" not in data[CONF_USERNAME]:
            errors[CONF_USERNAME] = "proxmox_invalid_username"
        if data.get(CONF_TOKEN_ID) and data.get(CONF_TOKEN_SECRET):
            data.pop(CONF_PASSWORD, None)  # the token is what WakeHub uses
        elif data.get(CONF_PASSWORD):
            data.pop(CONF_TOKEN_ID, None)
            data.pop(CONF_TOKEN_SECRET, None)
        elif not errors.keys() & {CONF_TOKEN_ID, *SECRET_FIELDS}:
            errors["base"] = "proxmox_missing_credentials"
        if errors:
            return errors
        data[CONF_KIND] = KIND_PROXMOX
        data[CONF_VERIFY_SSL] = bool(user_input.get(CONF_VERIFY_SSL, True))
        same = same_server(data[CONF_URL], stored.get(CONF_URL))
        if data[CONF_VERIFY_SSL] and (pin := kept_pin(stored, same, CONF_FINGERPRINT)):
            data[CONF_FINGERPRINT] = pin
        self._data = data
        return {}

    # -- connection test --------------------------------------------------------------

    async def _pve_connect(self) -> ConfigFlowResult:
        """Test the connection; on success go on as the flow's source requires."""
        client = build_client(self.hass, self._data, request_timeout=FLOW_TIMEOUT)
        try:
            identity = await client.check()
        except CertificateError as err:
            return await self._pve_untrusted(err)
        except PermissionDenied as err:
            return self._pve_form(
                {"base": "proxmox_missing_privilege"},
                {"privilege": err.privilege or "VM.Audit"},
            )
        except WakeHubError as err:
            return self._pve_form({"base": _error_key(err)})
        return await self._pve_connected(client, identity)

    async def _pve_connected(
        self, client: ProxmoxClient, identity: ProxmoxIdentity
    ) -> ConfigFlowResult:
        """Connected: finish a reauth/reconfigure, or discover the guests."""
        self._pve_identity = identity
        self._data[CONF_CLUSTER] = identity.name
        self._data[CONF_NODES] = list(identity.nodes)
        await self.async_set_unique_id(identity.name)
        if self.source == SOURCE_REAUTH:
            self._abort_if_unique_id_mismatch(reason="proxmox_wrong_cluster")
            return self.async_update_reload_and_abort(
                self._get_reauth_entry(), data=self._data
            )
        if self.source == SOURCE_RECONFIGURE:
            self._abort_if_unique_id_mismatch(reason="proxmox_wrong_cluster")
            return self.async_update_reload_and_abort(
                self._get_reconfigure_entry(), data=self._data
            )
        self._abort_if_unique_id_configured()
        try:
            self._pve_guests = await client.discover()
        except WakeHubError as err:
            return self._pve_form({"base": _error_key(err)})
        return await self.async_step_resources_proxmox()

    async def _pve_untrusted(self, err: CertificateError) -> ConfigFlowResult:
        """Show the certificate's fingerprint so the user can pin it."""
        try:
            await self._async_read_pin(err, self._data[CONF_URL], 8006)
        except WakeHubError as fetch_err:
            return self._pve_form({"base": _error_key(fetch_err)})
        return await self.async_step_proxmox_certificate()

    async def async_step_proxmox_certificate(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Pin the certificate whose fingerprint the user compared."""
        return await self._async_pin_step(
            "proxmox_certificate",
            user_input,
            self._data,
            url=self._data[CONF_URL],
            confirmed=self._pve_connect,
            placeholders={"pinned": str(self._data.get(CONF_FINGERPRINT) or "-")},
        )

    # -- selection ----------------------------------------------------------------------

    async def async_step_resources_proxmox(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """The guests to control; each becomes a subentry (form step `resources`)."""
        guests = self._pve_guests or []
        if user_input is not None:
            chosen = set(user_input.get(CONF_RESOURCES, []))
            return self.async_create_entry(
                title=self._data[CONF_CLUSTER],
                data=self._data,
                subentries=[guest_subentry(g) for g in guests if str(g.vmid) in chosen],
            )
        return self.async_show_form(
            step_id="resources",
            data_schema=vol.Schema(
                {vol.Optional(CONF_RESOURCES, default=[]): _guest_selector(guests)}
            ),
            description_placeholders={
                "engine": self._data[CONF_CLUSTER],
                "count": str(len(guests)),
            },
        )


class ProxmoxOptionsFlow(OptionsFlowWithReload):
    """Host links (the machine each node is), start/stop timeout, polling."""

    async def async_step_init(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        return await self.async_step_proxmox_options()

    def _nodes(self) -> list[str]:
        nodes = set(self.config_entry.data.get(CONF_NODES, []))
        runtime = getattr(self.config_entry, "runtime_data", None)
        coordinator = getattr(runtime, "coordinator", None)
        if isinstance(coordinator, ProxmoxCoordinator) and coordinator.cluster_state:
            nodes.update(coordinator.cluster_state.nodes)
        return sorted(nodes)

    async def async_step_proxmox_options(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        nodes = self._nodes()
        errors: dict[str, str] = {}
        # A node is a physical computer: only machines can be it.
        choice = Choice(frozenset({HostKind.MACHINE}), self.config_entry.entry_id)
        if user_input is not None:
            links: dict[str, str] = {}
            for node in nodes:
                if not (entity_id := user_input.get(node)):
                    continue
                if not isinstance(entity_id, str) or not (
                    chosen := chosen_switch(self.hass, choice, entity_id)
                ):
                    errors[node] = "host_link_not_machine"
                else:
                    links[node] = chosen[0]
            options, timing_errors = timing_options(user_input)
            errors |= timing_errors
            if not errors:
                options[CONF_HOST_LINKS] = links
                return self.async_create_entry(data=options)
        selector = picker(self.hass, choice)
        # Stored, else proposed from the cluster's node addresses.
        suggested = suggested_links(self.hass, self.config_entry, list(nodes))
        fields: dict[Any, Any] = {
            vol.Optional(
                node,
                description={"suggested_value": suggested[node]},
            ): selector
            for node in nodes
        }
        fields |= timing_fields(self.config_entry.options)
        return self.async_show_form(
            step_id="proxmox_options",
            data_schema=vol.Schema(fields),
            errors=errors,
            description_placeholders={"nodes": ", ".join(nodes) or "-"},
        )


class GuestSubentryFlow(PowerSettingsSubentryFlow):
    """Add guests found since the entry was created (only those not added yet).

    Reconfiguring a qemu VM also chooses how it stops (`stop_method`).
    """

    kind_fields: ClassVar[Mapping[str, Any]] = MappingProxyType(
        {
            CONF_STOP_METHOD: SelectSelector(
                SelectSelectorConfig(
                    options=list(STOP_METHODS),
                    translation_key=CONF_STOP_METHOD,
                    mode=SelectSelectorMode.LIST,
                )
            )
        }
    )
    _guests: dict[str, ProxmoxGuest] | None = None

    def kind_fields_for(self, subentry: ConfigSubentry) -> Mapping[str, Any]:
        # An LXC container can neither hibernate nor pause: it only shuts down.
        if subentry.data.get(CONF_TYPE) == "lxc":
            return {}
        return self.kind_fields

    async def async_step_user(
        self, user_input: dict[str, Any] | None = None
    ) -> SubentryFlowResult:
        entry: ConfigEntry = self._get_entry()
        if self._guests is None:
            try:
                guests = await build_client(
                    self.hass, dict(entry.data), request_timeout=FLOW_TIMEOUT
                ).discover()
            except WakeHubError:
                return self.async_abort(reason="cannot_connect")
            added = {
                s.unique_id
                for s in entry.subentries.values()
                if s.subentry_type == SUBENTRY_GUEST
            }
            self._guests = {str(g.vmid): g for g in guests if str(g.vmid) not in added}
        if not self._guests:
            return self.async_abort(reason="no_new_guests")
        errors: dict[str, str] = {}
        if user_input is not None:
            chosen = [
                self._guests[v] for v in user_input[CONF_GUESTS] if v in self._guests
            ]
            if chosen:
                # A subentry flow creates one subentry; the others are added here.
                for extra in chosen[1:]:
                    self.hass.config_entries.async_add_subentry(
                        entry, _subentry(guest_subentry(extra))
                    )
                first = guest_subentry(chosen[0])
                return self.async_create_entry(
                    title=first["title"],
                    data=first["data"],
                    unique_id=first["unique_id"],
                )
            errors["base"] = "no_guest_selected"
        return self.async_show_form(
            step_id="user",
            data_schema=vol.Schema(
                {
                    vol.Required(CONF_GUESTS): _guest_selector(
                        list(self._guests.values())
                    )
                }
            ),
            errors=errors,
            description_placeholders={
                "name": entry.title,
                "count": str(len(self._guests)),
            },
        )


OPTIONS_FLOW: type[OptionsFlow] = ProxmoxOptionsFlow
SUBENTRY_FLOWS: dict[str, type[ConfigSubentryFlow]] = {
    SUBENTRY_GUEST: GuestSubentryFlow
}
