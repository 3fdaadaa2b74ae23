"""The Docker part of the wizard.

Steps: `docker` (URL and TLS material) → connection test (API negotiation and the
engine's ID) → `docker_certificate` when the server's certificate is not trusted
(pin its SHA-256 fingerprint once the user confirms) → `resources` (containers to
follow, one subentry each) → entry. Reconfigure (`reconfigure_docker`), options
(`docker_options`: host link, timing, stats) and the "container" subentry flow.

Containers of a compose project are offered one by one and as their stack
(value `stack:<project>`: ":" never appears in a container name); a stack
becomes a container subentry holding `stack` instead of `container`.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, ClassVar
from urllib.parse import urlsplit

import aiohttp
from homeassistant.config_entries import (
    SOURCE_RECONFIGURE,
    ConfigEntry,
    ConfigFlow,
    ConfigFlowResult,
    ConfigSubentry,
    ConfigSubentryData,
    ConfigSubentryFlow,
    OptionsFlowWithReload,
    SubentryFlowResult,
)
from homeassistant.const import CONF_URL, CONF_VERIFY_SSL
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.selector import (
    BooleanSelector,
    EntitySelector,
    EntitySelectorConfig,
    SelectOptionDict,
    SelectSelector,
    SelectSelectorConfig,
    SelectSelectorMode,
    TextSelector,
    TextSelectorConfig,
    TextSelectorType,
)

from ..api.docker import (
    Container,
    DockerEngineTooOld,
    DockerSocketMissing,
    DockerSocketPermission,
)
from ..api.errors import (
    CannotConnect,
    CertificateError,
    ConnectionTimeout,
    NotThatKind,
    WakeHubError,
)
from ..const import CONF_HOST_LINK, CONF_KIND, KIND_DOCKER
from ..kinds.docker import (
    CONF_CA_CERT,
    CONF_CLIENT_CERT,
    CONF_CLIENT_KEY,
    CONF_CONTAINER,
    CONF_FINGERPRINT,
    CONF_STACK,
    CONF_STATS,
    CONF_STOP_GRACE,
    SECRET_FIELDS,
    SUBENTRY_CONTAINER,
    followed_containers,
    followed_stacks,
    make_client,
)
from ..schema import vol
from .common import (
    presented_fingerprint,
    seconds_selector,
    timing_fields,
    timing_options,
)
from .power_settings import PowerSettingsSubentryFlow

# The connection test may wait a little longer than polling: a busy engine on a
# small board can take a few seconds to answer /info.
FLOW_TIMEOUT = 10.0
CONF_RESOURCES = "resources"
DEFAULT_URL = "unix:///var/run/docker.sock"
MAX_STOP_GRACE = 3600
STACK_PREFIX = "stack:"  # option values of stacks; never in a container name

_PEM = TextSelector(TextSelectorConfig(multiline=True))
_URL = TextSelector(TextSelectorConfig(type=TextSelectorType.TEXT))


def _docker_schema(defaults: Mapping[str, Any]) -> vol.Schema:
    """The connection form; PEM texts are never prefilled (blank keeps them)."""
    return vol.Schema(
        {
            vol.Required(CONF_URL, default=defaults.get(CONF_URL, DEFAULT_URL)): _URL,
            vol.Optional(CONF_CA_CERT): _PEM,
            vol.Optional(CONF_CLIENT_CERT): _PEM,
            vol.Optional(CONF_CLIENT_KEY): _PEM,
            vol.Required(
                CONF_VERIFY_SSL, default=defaults.get(CONF_VERIFY_SSL, True)
            ): BooleanSelector(),
        }
    )


def _stacks(containers: list[Container]) -> dict[str, int]:
    """Compose project -> how many containers it has."""
    counts: dict[str, int] = {}
    for container in containers:
        if container.project is not None:
            counts[container.project] = counts.get(container.project, 0) + 1
    return counts


def _container_options(
    containers: list[Container], stacks: Mapping[str, int]
) -> list[SelectOptionDict]:
    return [
        SelectOptionDict(
            value=f"{STACK_PREFIX}{project}",
            label=f"stack: {project} ({count} containers)",
        )
        for project, count in sorted(stacks.items())
    ] + [
        SelectOptionDict(value=c.name, label=f"{c.name} — {c.image} ({c.state})")
        for c in sorted(containers, key=lambda c: c.name)
    ]


def _selection_schema(
    containers: list[Container], stacks: Mapping[str, int]
) -> vol.Schema:
    return vol.Schema(
        {
            vol.Optional(CONF_RESOURCES, default=[]): SelectSelector(
                SelectSelectorConfig(
                    options=_container_options(containers, stacks),
                    multiple=True,
                    mode=SelectSelectorMode.LIST,
                )
            )
        }
    )


def _error_key(err: WakeHubError) -> str:
    """The form error naming what went wrong (most specific first)."""
    keys: tuple[tuple[type[WakeHubError], str], ...] = (
        (DockerSocketMissing, "docker_socket_missing"),
        (DockerSocketPermission, "docker_socket_permission"),
        (ConnectionTimeout, "timeout"),
        (CertificateError, "docker_tls"),
        (CannotConnect, "cannot_connect"),
        (DockerEngineTooOld, "docker_engine_too_old"),
        (NotThatKind, "docker_not_docker"),
    )
    return next((key for cls, key in keys if isinstance(err, cls)), "cannot_connect")


def _untrusted_server(err: WakeHubError) -> bool:
    """A server certificate the system does not trust (pinnable), rather than a
    refused client certificate or unreadable PEM text."""
    return isinstance(err, CertificateError) and (
        err.fingerprint is not None
        or isinstance(err.__cause__, aiohttp.ClientConnectorCertificateError)
    )


async def _discover(
    hass: HomeAssistant, data: Mapping[str, Any]
) -> tuple[str, str, list[Container]]:
    """Engine id, engine name and containers; raises WakeHubError/ValueError."""
    client = make_client(hass, data, timeout=FLOW_TIMEOUT)
    try:
        engine = await client.connect()
        containers = await client.list_containers()
    finally:
        await client.close()
    return engine.id, engine.name, list(containers.values())


class DockerFlowMixin(ConfigFlow):
    """Steps of the docker kind; mixed into WakeHubConfigFlow."""

    _data: dict[str, Any]
    _docker_fingerprint: str | None = None
    _docker_title: str = ""
    _docker_containers: list[Container] | None = None

    async def async_step_docker(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        if user_input is None:
            return self._show_docker_form({})
        self._data = {
            **{k: v for k, v in user_input.items() if v not in (None, "")},
            CONF_KIND: KIND_DOCKER,
        }
        return await self._async_test_docker()

    async def async_step_reconfigure_docker(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        entry = self._get_reconfigure_entry()
        if user_input is None:
            self._data = dict(entry.data)
            return self._show_docker_form({})
        data = {k: v for k, v in user_input.items() if v not in (None, "")}
        for key in SECRET_FIELDS:
            # A blank secret keeps the stored one: it is never shown back.
            if key not in data and entry.data.get(key):
                data[key] = entry.data[key]
        data[CONF_KIND] = KIND_DOCKER
        if _same_server(data[CONF_URL], entry.data[CONF_URL]) and entry.data.get(
            CONF_FINGERPRINT
        ):
            data[CONF_FINGERPRINT] = entry.data[CONF_FINGERPRINT]
        self._data = data
        return await self._async_test_docker()

    def _show_docker_form(self, errors: dict[str, str]) -> ConfigFlowResult:
        if self.source == SOURCE_RECONFIGURE:
            return self.async_show_form(
                step_id="reconfigure_docker",
                data_schema=_docker_schema(self._data),
                errors=errors,
                description_placeholders={"name": self._get_reconfigure_entry().title},
            )
        return self.async_show_form(
            step_id="docker", data_schema=_docker_schema(self._data), errors=errors
        )

    async def _async_test_docker(self) -> ConfigFlowResult:
        """Connect; on success go on to pinning (if needed) and selection."""
        if bool(self._data.get(CONF_CLIENT_CERT)) != bool(
            self._data.get(CONF_CLIENT_KEY)
        ):
            return self._show_docker_form({"base": "docker_client_cert_without_key"})
        try:
            engine_id, name, containers = await _discover(self.hass, self._data)
        except ValueError:
            return self._show_docker_form({CONF_URL: "docker_invalid_url"})
        except WakeHubError as err:
            if _untrusted_server(err):
                return await self._async_offer_pin(err)
            return self._show_docker_form({"base": _error_key(err)})
        await self.async_set_unique_id(engine_id)
        if self.source == SOURCE_RECONFIGURE:
            self._abort_if_unique_id_mismatch(reason="docker_wrong_engine")
            return self.async_update_reload_and_abort(
                self._get_reconfigure_entry(), data=self._data
            )
        self._abort_if_unique_id_configured()
        self._docker_title = name or self._data[CONF_URL]
        self._docker_containers = containers
        return await self.async_step_resources_docker()

    async def _async_offer_pin(self, err: WakeHubError) -> ConfigFlowResult:
        try:
            presented = await presented_fingerprint(err, self._data[CONF_URL], 2376)
        except WakeHubError as fetch_err:  # pragma: no cover - gone meanwhile
            return self._show_docker_form({"base": _error_key(fetch_err)})
        self._docker_fingerprint = presented
        return await self.async_step_docker_certificate()

    async def async_step_docker_certificate(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Show the certificate's fingerprint; pin it once the user confirms."""
        assert self._docker_fingerprint is not None
        if user_input is not None:
            self._data[CONF_FINGERPRINT] = self._docker_fingerprint
            return await self._async_test_docker()
        return self.async_show_form(
            step_id="docker_certificate",
            data_schema=vol.Schema({}),
            description_placeholders={
                "url": self._data[CONF_URL],
                "fingerprint": self._docker_fingerprint,
            },
        )

    async def async_step_resources_docker(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """The containers to follow; each becomes a subentry (form step `resources`)."""
        containers = self._docker_containers or []
        if user_input is not None:
            return self.async_create_entry(
                title=self._docker_title,
                data=self._data,
                subentries=[_subentry(value) for value in user_input[CONF_RESOURCES]],
            )
        return self.async_show_form(
            step_id="resources",
            data_schema=_selection_schema(containers, _stacks(containers)),
            description_placeholders={
                "engine": self._docker_title,
                "count": str(len(containers)),
            },
        )


def _subentry(value: str) -> ConfigSubentryData:
    """The subentry of a selected option: a container, or a stack."""
    if value.startswith(STACK_PREFIX):
        project = value.removeprefix(STACK_PREFIX)
        return ConfigSubentryData(
            subentry_type=SUBENTRY_CONTAINER,
            data={CONF_STACK: project},
            title=project,
            unique_id=value,
        )
    return ConfigSubentryData(
        subentry_type=SUBENTRY_CONTAINER,
        data={CONF_CONTAINER: value},
        title=value,
        unique_id=value,
    )


def _same_server(url: str, stored: str) -> bool:
    new, old = urlsplit(url.strip()), urlsplit(stored.strip())
    return (new.hostname, new.port) == (old.hostname, old.port)


class DockerOptionsFlow(OptionsFlowWithReload):
    """What the engine runs on, timing, and whether to collect stats."""

    async def async_step_init(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        return await self.async_step_docker_options()

    async def async_step_docker_options(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        registry = er.async_get(self.hass)
        options = self.config_entry.options
        errors: dict[str, str] = {}
        if user_input is not None:
            data = timing_options(
                {k: v for k, v in user_input.items() if k != CONF_HOST_LINK}
            )
            if link := user_input.get(CONF_HOST_LINK):
                # Stored as the registry id: it survives renaming the entity.
                if (linked := registry.async_get(link)) is None:
                    errors[CONF_HOST_LINK] = "docker_invalid_host_link"
                else:
                    data[CONF_HOST_LINK] = linked.id
            if not errors:
                return self.async_create_entry(data=data)
        suggested: dict[str, Any] = {}
        if stored := options.get(CONF_HOST_LINK):
            suggested[CONF_HOST_LINK] = er.async_resolve_entity_id(registry, stored)
        schema = vol.Schema(
            {
                vol.Optional(CONF_HOST_LINK): EntitySelector(
                    EntitySelectorConfig(integration="wakehub", domain="switch")
                ),
                **timing_fields(options),
                vol.Required(
                    CONF_STATS, default=options.get(CONF_STATS, True)
                ): BooleanSelector(),
            }
        )
        return self.async_show_form(
            step_id="docker_options",
            data_schema=self.add_suggested_values_to_schema(schema, suggested),
            errors=errors,
        )


class ContainerSubentryFlow(PowerSettingsSubentryFlow):
    """Add containers and stacks to follow: discovery again, offering only new
    ones."""

    # The stop grace period, whole seconds; blank: the container's own stop timeout.
    kind_fields: ClassVar[Mapping[str, Any]] = MappingProxyType(
        {
            CONF_STOP_GRACE: vol.All(
                seconds_selector(0, MAX_STOP_GRACE),
                vol.Range(min=0, max=MAX_STOP_GRACE),
                vol.Coerce(int),
            )
        }
    )

    async def async_step_user(
        self, user_input: dict[str, Any] | None = None
    ) -> SubentryFlowResult:
        entry = self._get_entry()
        if user_input is not None:
            names: list[str] = user_input[CONF_RESOURCES]
            if not names:
                return self.async_abort(reason="docker_nothing_selected")
            for name in names[1:]:
                self._add(entry, name)
            first = _subentry(names[0])
            return self.async_create_entry(
                title=first["title"], data=first["data"], unique_id=first["unique_id"]
            )
        try:
            _engine_id, _name, containers = await _discover(self.hass, entry.data)
        except WakeHubError:
            return self.async_abort(reason="cannot_connect")
        followed = followed_containers(entry)
        available = [c for c in containers if c.name not in followed]
        stacks = {
            project: count
            for project, count in _stacks(containers).items()
            if project not in followed_stacks(entry)
        }
        if not available and not stacks:
            return self.async_abort(reason="docker_no_more_containers")
        return self.async_show_form(
            step_id="user",
            data_schema=_selection_schema(available, stacks),
            description_placeholders={"engine": entry.title},
        )

    def _add(self, entry: ConfigEntry, name: str) -> None:
        data = _subentry(name)
        self.hass.config_entries.async_add_subentry(
            entry,
            ConfigSubentry(
                data=MappingProxyType(dict(data["data"])),
                subentry_type=data["subentry_type"],
                title=data["title"],
                unique_id=data["unique_id"],
            ),
        )


OPTIONS_FLOW = DockerOptionsFlow
SUBENTRY_FLOWS: dict[str, type[ConfigSubentryFlow]] = {
    SUBENTRY_CONTAINER: ContainerSubentryFlow
}
