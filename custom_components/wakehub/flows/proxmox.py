"""The Proxmox VE kind of the wizard.

Its form (`proxmox`: URL, user, API token or password) → the cluster's identity
(the unique id: one entry per cluster) → `certificate` when the certificate is
not trusted (Proxmox's default is self-signed) → `resources`: its guests. The
options (`proxmox_options`: host links per node, timing) and the "guest"
subentry flow are here too.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, ClassVar
from urllib.parse import urlsplit

from homeassistant.config_entries import (
    ConfigFlowResult,
    ConfigSubentry,
    OptionsFlowWithReload,
)
from homeassistant.const import CONF_PASSWORD, CONF_URL, CONF_USERNAME, CONF_VERIFY_SSL
from homeassistant.core import HomeAssistant
from homeassistant.helpers.selector import (
    BooleanSelector,
    SelectSelector,
    SelectSelectorConfig,
    SelectSelectorMode,
    TextSelector,
    TextSelectorConfig,
    TextSelectorType,
)

from ..api.errors import CertificateError, WakeHubError
from ..api.proxmox import ProxmoxGuest
from ..api.proxmox.connection import normalize_url
from ..const import CONF_HOST_LINKS, KIND_PROXMOX
from ..hosting import HostKind
from ..kinds.proxmox.client import create_client
from ..kinds.proxmox.const import (
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
)
from ..kinds.proxmox.coordinator import ProxmoxCoordinator
from ..links import Choice, chosen_switch, picker, suggested_links
from ..schema import vol
from . import validate
from .choose import ResourcesSubentryFlow
from .common import timing_fields, timing_options
from .kind import FlowKind, Found, Server, Trust, Use

# The connection test may wait longer than a poll: a busy node answers slowly.
FLOW_TIMEOUT = 10.0
DEFAULT_PORT = 8006
DEFAULT_USERNAME = "root@pam"

_TEXT = TextSelector()
_URL = TextSelector(TextSelectorConfig(type=TextSelectorType.URL))
_SECRET = TextSelector(TextSelectorConfig(type=TextSelectorType.PASSWORD))


def _reauth_field(stored: Mapping[str, Any]) -> str:
    """What a reauth asks for: the token's new secret, or the new password."""
    return CONF_TOKEN_SECRET if stored.get(CONF_TOKEN_ID) else CONF_PASSWORD


def _schema(use: Use, defaults: Mapping[str, Any]) -> vol.Schema:
    """URL, user and credentials; secrets are never prefilled (blank keeps them)."""
    if use is Use.REAUTH:
        return vol.Schema({vol.Required(_reauth_field(defaults)): _SECRET})
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
    CONF_VERIFY_SSL: validate.flag(True),
}


def _rules(use: Use, stored: Mapping[str, Any]) -> Mapping[str, validate.Rule]:
    if use is Use.REAUTH:
        return {_reauth_field(stored): validate.required_secret}
    return _RULES


async def _check(hass: HomeAssistant, data: dict[str, Any]) -> dict[str, str]:
    """A user with its realm, and a token or a password (the token wins)."""
    if "@" not in data[CONF_USERNAME]:
        return {CONF_USERNAME: "proxmox_invalid_username"}
    if data.get(CONF_TOKEN_ID) and data.get(CONF_TOKEN_SECRET):
        data.pop(CONF_PASSWORD, None)
    elif data.get(CONF_PASSWORD):
        data.pop(CONF_TOKEN_ID, None)
        data.pop(CONF_TOKEN_SECRET, None)
    else:
        return {"base": "proxmox_missing_credentials"}
    return {}


async def _connect(hass: HomeAssistant, data: dict[str, Any]) -> Server:
    """The cluster (or standalone host) answering, and its nodes."""
    client = create_client(hass, data, request_timeout=FLOW_TIMEOUT)
    identity = await client.check()

    async def guests() -> list[Found]:
        return [guest_choice(guest) for guest in await client.discover()]

    return Server(
        unique_id=identity.name,
        title=identity.name,
        data={**data, CONF_CLUSTER: identity.name, CONF_NODES: list(identity.nodes)},
        resources=guests,
    )


def _server_of(data: Mapping[str, Any]) -> object:
    """Host and port; nothing is pinned when verification is off."""
    if not data.get(CONF_VERIFY_SSL, True):
        return None
    parts = urlsplit(str(data[CONF_URL]))
    return parts.hostname, parts.port


def _pinnable(
    data: Mapping[str, Any], err: WakeHubError
) -> tuple[str, str, int] | None:
    if not isinstance(err, CertificateError):
        return None
    parts = urlsplit(str(data[CONF_URL]))
    return str(data[CONF_URL]), str(parts.hostname), parts.port or DEFAULT_PORT


def guest_choice(guest: ProxmoxGuest) -> Found:
    return Found(
        value=str(guest.vmid),
        label=f"{guest.name} ({guest.vmid}, {guest.type}, {guest.node}, {guest.status})",
        title=guest.name,
        data={
            CONF_VMID: guest.vmid,
            CONF_TYPE: guest.type,
            CONF_NODE: guest.node,
            CONF_NAME: guest.name,
        },
    )


async def _discover(hass: HomeAssistant, data: Mapping[str, Any]) -> list[Found]:
    client = create_client(hass, dict(data), request_timeout=FLOW_TIMEOUT)
    return [guest_choice(guest) for guest in await client.discover()]


FLOW_KIND = FlowKind(
    kind=KIND_PROXMOX,
    schema=_schema,
    rules=_rules,
    check=_check,
    connect=_connect,
    discover=_discover,
    subentry_type=SUBENTRY_GUEST,
    secret_fields=(CONF_TOKEN_SECRET, CONF_PASSWORD),
    trust=Trust.CERTIFICATE,
    pin_field=CONF_FINGERPRINT,
    server_of=_server_of,
    pinnable=_pinnable,
    wrong_server="proxmox_wrong_cluster",
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


class GuestSubentryFlow(ResourcesSubentryFlow):
    """Add guests found since the entry was created; reconfiguring a qemu VM
    also chooses how it stops (`stop_method`)."""

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

    def kind_fields_for(self, subentry: ConfigSubentry) -> Mapping[str, Any]:
        # An LXC container can neither hibernate nor pause: it only shuts down.
        if subentry.data.get(CONF_TYPE) == "lxc":
            return {}
        return self.kind_fields

    async def discover(self, data: Mapping[str, Any]) -> list[Found]:
        return await _discover(self.hass, data)
