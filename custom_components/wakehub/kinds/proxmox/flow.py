"""The Proxmox VE kind of the wizard.

Its form (`proxmox`: URL, user, API token or password) → the cluster's identity
(the unique id: one entry per cluster, `_cluster_key`) → `certificate` when the certificate is
not trusted (Proxmox's default is self-signed) → `resources`: its guests. Its
options (`proxmox_options`): host links per node, timing; a qemu VM's own
setting: how it stops.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from homeassistant.config_entries import ConfigEntry
from homeassistant.const import CONF_PASSWORD, CONF_URL, CONF_USERNAME, CONF_VERIFY_SSL
from homeassistant.core import HomeAssistant
from homeassistant.helpers.selector import (
    SelectSelector,
    SelectSelectorConfig,
    SelectSelectorMode,
    TextSelector,
    TextSelectorConfig,
    TextSelectorType,
)

from ...api.errors import CertificateError
from ...api.proxmox import ProxmoxGuest
from ...api.proxmox.connection import normalize_url
from ...const import CONF_FINGERPRINT, CONF_HOST_LINKS, DOMAIN, KIND_PROXMOX
from ...flows import fields, validate
from ...flows.fields import Field, required, secret_field, suggested
from ...flows.kind import FlowKind, Found, Server, Trust, Use
from ...flows.settings import Options, host_links, resource_fields, timing
from ...hosting import HostKind
from .client import create_client
from .const import (
    CONF_CLUSTER,
    CONF_CLUSTER_NAME,
    CONF_NAME,
    CONF_NODE,
    CONF_NODES,
    CONF_STOP_METHOD,
    CONF_TOKEN_ID,
    CONF_TOKEN_SECRET,
    CONF_TYPE,
    CONF_VMID,
    STOP_METHODS,
)
from .coordinator import ProxmoxCoordinator

# The connection test may wait longer than a poll: a busy node answers slowly.
FLOW_TIMEOUT = 10.0
DEFAULT_PORT = 8006
DEFAULT_USERNAME = "root@pam"

_URL = TextSelector(TextSelectorConfig(type=TextSelectorType.URL))


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


_FIELDS = (
    required(CONF_URL, _url, _URL),
    required(CONF_USERNAME, default=DEFAULT_USERNAME),
    suggested(CONF_TOKEN_ID, validate.optional_text),
    secret_field(CONF_TOKEN_SECRET),
    secret_field(CONF_PASSWORD),
    fields.checkbox(CONF_VERIFY_SSL, True),
)


def _fields(use: Use, stored: Mapping[str, Any]) -> tuple[Field, ...]:
    """A reauth asks for the token's new secret, or the new password."""
    if use is not Use.REAUTH:
        return _FIELDS
    key = CONF_TOKEN_SECRET if stored.get(CONF_TOKEN_ID) else CONF_PASSWORD
    return (secret_field(key, validate.required_secret, required=True),)


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

    key = _cluster_key(hass, data, identity.name)
    named = {CONF_CLUSTER_NAME: identity.name} if key != identity.name else {}
    data = {k: v for k, v in data.items() if k != CONF_CLUSTER_NAME}
    return Server(
        unique_id=key,
        title=key,
        data={**data, **named, CONF_CLUSTER: key, CONF_NODES: list(identity.nodes)},
        resources=guests,
    )


def _cluster_key(hass: HomeAssistant, data: Mapping[str, Any], name: str) -> str:
    """The key of the cluster `name` that answered at `data`'s URL.

    Its name, unless another server of that name was added first (two
    standalone hosts both called "pve" are common): then its name and address,
    so that the entries, their devices and unique ids stay apart. An entry
    being reconfigured keeps its key while the same cluster answers.
    """
    stored = data.get(CONF_CLUSTER)
    if stored and data.get(CONF_CLUSTER_NAME, stored) == name:
        return str(stored)
    for entry in hass.config_entries.async_entries(DOMAIN):
        if entry.unique_id == name and not _same_server(entry.data, data):
            host, port = _address(data)
            where = host if port in (None, DEFAULT_PORT) else f"{host}:{port}"
            return f"{name} ({where})"
    return name


def _same_server(known: Mapping[str, Any], data: Mapping[str, Any]) -> bool:
    """Whether `data` reaches the server of `known`: at the same address, or
    presenting the certificate pinned for it (the same host by another name)."""
    if _address(known) == _address(data):
        return True
    pin = known.get(CONF_FINGERPRINT)
    return bool(pin) and pin == data.get(CONF_FINGERPRINT)


def _address(data: Mapping[str, Any]) -> tuple[str | None, int | None]:
    parts = urlsplit(str(data.get(CONF_URL, "")))
    return parts.hostname, parts.port


def _server_of(data: Mapping[str, Any]) -> object:
    """Host and port; nothing is pinned when verification is off."""
    if not data.get(CONF_VERIFY_SSL, True):
        return None
    return _address(data)


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


def _nodes(entry: ConfigEntry) -> list[str]:
    """The nodes stored, and those the cluster has now."""
    nodes = set(entry.data.get(CONF_NODES, []))
    coordinator = getattr(getattr(entry, "runtime_data", None), "coordinator", None)
    if isinstance(coordinator, ProxmoxCoordinator) and coordinator.cluster_state:
        nodes.update(coordinator.cluster_state.nodes)
    return sorted(nodes)


async def _discover(hass: HomeAssistant, data: Mapping[str, Any]) -> list[Found]:
    client = create_client(hass, dict(data), request_timeout=FLOW_TIMEOUT)
    return [guest_choice(guest) for guest in await client.discover()]


FLOW_KIND = FlowKind(
    kind=KIND_PROXMOX,
    fields=_fields,
    check=_check,
    connect=_connect,
    discover=_discover,
    trust=Trust.CERTIFICATE,
    server_of=_server_of,
    pinnable=lambda data, err: (
        str(data[CONF_URL]) if isinstance(err, CertificateError) else None
    ),
    tls_port=DEFAULT_PORT,
    wrong_server="proxmox_wrong_cluster",
    options=Options(
        step_id="proxmox_options",
        sections=(
            # A node is a physical computer: only machines can be it.
            host_links(
                key=CONF_HOST_LINKS,
                slots=lambda where: _nodes(where.entry),
                hosts=frozenset({HostKind.MACHINE}),
                error="host_link_not_machine",
                placeholders=lambda where: {
                    "nodes": ", ".join(_nodes(where.entry)) or "-"
                },
            ),
            timing(),
        ),
    ),
    # How a qemu VM stops; an LXC container can neither hibernate nor pause:
    # it only shuts down.
    resource_sections=(
        resource_fields(
            {
                CONF_STOP_METHOD: SelectSelector(
                    SelectSelectorConfig(
                        options=list(STOP_METHODS),
                        translation_key=CONF_STOP_METHOD,
                        mode=SelectSelectorMode.LIST,
                    )
                )
            },
            offered=lambda data: data.get(CONF_TYPE) != "lxc",
        ),
    ),
)
