"""The Docker kind of the wizard.

Its form (`docker`: URL and TLS material) → the engine's ID (the unique id) →
`certificate` when the engine's certificate is not trusted → `resources`: its
containers, and its compose projects as stacks (value `stack:<project>`: ":"
never appears in a container name; a stack's subentry holds `stack` instead of
`container`). Its options (`docker_options`): host link, timing, stats; a
container's own setting: its stop grace period.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

import aiohttp
from homeassistant.const import CONF_URL, CONF_VERIFY_SSL
from homeassistant.core import HomeAssistant
from homeassistant.helpers.selector import (
    TextSelector,
    TextSelectorConfig,
    TextSelectorType,
)

from ...api.docker import Container
from ...api.docker.error_map import (
    DockerEngineTooOld,
    DockerSocketMissing,
    DockerSocketPermission,
)
from ...api.errors import CertificateError, WakeHubError
from ...const import CONF_HOST_LINK, KIND_DOCKER
from ...flows import fields, validate
from ...flows.fields import required, secret_field
from ...flows.kind import FlowKind, Found, Server, Trust
from ...flows.settings import Options, host_links, of_fields, resource_fields, timing
from ...hosting import HostKind
from ...schema import vol
from .client import create_client
from .const import (
    CONF_CA_CERT,
    CONF_CLIENT_CERT,
    CONF_CLIENT_KEY,
    CONF_CONTAINER,
    CONF_STACK,
    CONF_STATS,
    CONF_STOP_GRACE,
)

# The connection test may wait a little longer than polling: a busy engine on a
# small board can take a few seconds to answer /info.
FLOW_TIMEOUT = 10.0
DEFAULT_URL = "unix:///var/run/docker.sock"
DEFAULT_TLS_PORT = 2376
MAX_STOP_GRACE = 3600
STACK_PREFIX = "stack:"  # option values of stacks; never in a container name

# What only a Docker engine fails with (most specific first).
DOCKER_ERROR_KEYS: tuple[tuple[type[WakeHubError], str], ...] = (
    (DockerSocketMissing, "docker_socket_missing"),
    (DockerSocketPermission, "docker_socket_permission"),
    (DockerEngineTooOld, "docker_engine_too_old"),
)

_URL = TextSelector(TextSelectorConfig(type=TextSelectorType.TEXT))


def _url(value: Any) -> str:
    return validate.url(
        value, schemes=("unix", "tcp", "http", "https"), error="docker_invalid_url"
    )


# PEM texts are never shown back (blank keeps them).
_FIELDS = (
    required(CONF_URL, _url, _URL, DEFAULT_URL),
    *(
        secret_field(key, validate.pem, fields.PEM)
        for key in (CONF_CA_CERT, CONF_CLIENT_CERT, CONF_CLIENT_KEY)
    ),
    fields.checkbox(CONF_VERIFY_SSL, True),
)


async def _check(hass: HomeAssistant, data: dict[str, Any]) -> dict[str, str]:
    if bool(data.get(CONF_CLIENT_CERT)) != bool(data.get(CONF_CLIENT_KEY)):
        return {"base": "docker_client_cert_without_key"}
    return {}


async def _connect(hass: HomeAssistant, data: dict[str, Any]) -> Server:
    """The engine answering, and its containers (the client refuses an
    unusable URL with ValueError; `_url` lets none through)."""
    client = create_client(hass, data, timeout=FLOW_TIMEOUT)
    try:
        engine = await client.connect()
        containers = await client.list_containers()
    finally:
        await client.close()

    async def found() -> list[Found]:
        return _choices(list(containers.values()))

    return Server(
        unique_id=engine.id,
        title=engine.name or data[CONF_URL],
        data=data,
        resources=found,
    )


def _server_of(data: Mapping[str, Any]) -> object:
    parts = urlsplit(str(data[CONF_URL]))
    return parts.hostname, parts.port


def _pinnable(data: Mapping[str, Any], err: WakeHubError) -> str | None:
    """A server certificate the system does not trust, rather than a refused
    client certificate or unreadable PEM text."""
    if not isinstance(err, CertificateError) or not (
        err.fingerprint is not None
        or isinstance(err.__cause__, aiohttp.ClientConnectorCertificateError)
    ):
        return None
    return str(data[CONF_URL])


def _choices(containers: list[Container]) -> list[Found]:
    """Stacks first (compose projects, with their size), then containers."""
    stacks: dict[str, int] = {}
    for container in containers:
        if container.project is not None:
            stacks[container.project] = stacks.get(container.project, 0) + 1
    return [
        Found(
            value=f"{STACK_PREFIX}{project}",
            label=f"stack: {project} ({count} containers)",
            title=project,
            data={CONF_STACK: project},
        )
        for project, count in sorted(stacks.items())
    ] + [
        Found(
            value=c.name,
            label=f"{c.name} — {c.image} ({c.state})",
            title=c.name,
            data={CONF_CONTAINER: c.name},
        )
        for c in sorted(containers, key=lambda c: c.name)
    ]


async def _discover(hass: HomeAssistant, data: Mapping[str, Any]) -> list[Found]:
    server = await _connect(hass, dict(data))
    assert server.resources is not None
    return await server.resources()


FLOW_KIND = FlowKind(
    kind=KIND_DOCKER,
    fields=lambda use, stored: _FIELDS,
    check=_check,
    connect=_connect,
    discover=_discover,
    trust=Trust.CERTIFICATE,
    server_of=_server_of,
    pinnable=_pinnable,
    tls_port=DEFAULT_TLS_PORT,
    error_keys=DOCKER_ERROR_KEYS,
    wrong_server="docker_wrong_engine",
    options=Options(
        step_id="docker_options",
        sections=(
            # An engine runs in a VM or on a machine, never on its own containers.
            host_links(
                key=CONF_HOST_LINK,
                hosts=frozenset(HostKind),
                error="docker_invalid_host_link",
            ),
            timing(),
            of_fields(fields.checkbox(CONF_STATS, True)),
        ),
    ),
    # The stop grace period, whole seconds; blank: the container's own stop timeout.
    resource_sections=(
        resource_fields(
            {
                CONF_STOP_GRACE: vol.All(
                    fields.number_selector(0, MAX_STOP_GRACE, "s"),
                    vol.Range(min=0, max=MAX_STOP_GRACE),
                    vol.Coerce(int),
                )
            }
        ),
    ),
)
