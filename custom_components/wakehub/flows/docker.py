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

import aiohttp
from homeassistant.config_entries import (
    SOURCE_RECONFIGURE,
    ConfigEntry,
    ConfigFlowResult,
    ConfigSubentry,
    ConfigSubentryData,
    ConfigSubentryFlow,
    OptionsFlowWithReload,
    SubentryFlowResult,
)
from homeassistant.const import CONF_URL, CONF_VERIFY_SSL
from homeassistant.core import HomeAssistant
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
from ..hosting import HostKind
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
from ..links import Choice, chosen_switch, picker, suggested_links
from ..schema import vol
from . import validate
from .common import (
    CertificatePinSteps,
    keep_stored_secrets,
    kept_pin,
    same_server,
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


def _url(value: Any) -> str:
    return validate.url(
        value, schemes=("unix", "tcp", "http", "https"), error="docker_invalid_url"
    )


_RULES: dict[str, validate.Rule] = {
    CONF_URL: _url,
    CONF_CA_CERT: validate.pem,
    CONF_CLIENT_CERT: validate.pem,
    CONF_CLIENT_KEY: validate.pem,
}


def _parse(user_input: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """(connection data, form errors) of the connection form."""
    data, errors = validate.parse(user_input, _RULES)
    data[CONF_VERIFY_SSL] = bool(user_input.get(CONF_VERIFY_SSL, True))
    data[CONF_KIND] = KIND_DOCKER
    return data, errors


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
    """Engine id, engine name and containers; raises WakeHubError.

    (The client refuses an unusable URL with ValueError; `_url` let none through.)
    """
    client = make_client(hass, data, timeout=FLOW_TIMEOUT)
    try:
        engine = await client.connect()
        containers = await client.list_containers()
    finally:
        await client.close()
    return engine.id, engine.name, list(containers.values())


class DockerFlowMixin(CertificatePinSteps):
    """Steps of the docker kind; mixed into WakeHubConfigFlow."""

    _data: dict[str, Any]
    _docker_title: str = ""
    _docker_containers: list[Container] | None = None

    async def async_step_docker(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        if user_input is None:
            return self._show_docker_form({})
        data, errors = _parse(user_input)
        if errors:
            return self._show_docker_form(errors)
        self._data = data
        return await self._async_test_docker()

    async def async_step_reconfigure_docker(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        entry = self._get_reconfigure_entry()
        if user_input is None:
            self._data = dict(entry.data)
            return self._show_docker_form({})
        data, errors = _parse(user_input)
        if errors:
            return self._show_docker_form(errors)
        data.update(keep_stored_secrets(data, entry.data, SECRET_FIELDS))
        same = same_server(data[CONF_URL], entry.data[CONF_URL])
        if pin := kept_pin(entry.data, same, CONF_FINGERPRINT):
            data[CONF_FINGERPRINT] = pin
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
            await self._async_read_pin(err, self._data[CONF_URL], 2376)
        except WakeHubError as fetch_err:  # pragma: no cover - gone meanwhile
            return self._show_docker_form({"base": _error_key(fetch_err)})
        return await self.async_step_docker_certificate()

    async def async_step_docker_certificate(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Show the certificate's fingerprint; pin it once the user confirms."""
        return await self._async_pin_step(
            "docker_certificate",
            user_input,
            self._data,
            url=self._data[CONF_URL],
            confirmed=self._async_test_docker,
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


class DockerOptionsFlow(OptionsFlowWithReload):
    """What the engine runs on, timing, and whether to collect stats."""

    async def async_step_init(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        return await self.async_step_docker_options()

    async def async_step_docker_options(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        options = self.config_entry.options
        errors: dict[str, str] = {}
        # An engine runs in a VM or on a machine, never on its own containers.
        choice = Choice(frozenset(HostKind), self.config_entry.entry_id)
        if user_input is not None:
            data, errors = timing_options(user_input)
            data[CONF_STATS] = bool(user_input.get(CONF_STATS, True))
            if link := user_input.get(CONF_HOST_LINK):
                # Stored as the registry id: it survives renaming the entity.
                if not isinstance(link, str) or not (
                    chosen := chosen_switch(self.hass, choice, link)
                ):
                    errors[CONF_HOST_LINK] = "docker_invalid_host_link"
                else:
                    data[CONF_HOST_LINK] = chosen[0]
            if not errors:
                return self.async_create_entry(data=data)
        suggested: dict[str, Any] = {}
        # Stored, else proposed from the engine's address or host name.
        if link := suggested_links(self.hass, self.config_entry, [None])[None]:
            suggested[CONF_HOST_LINK] = link
        schema = vol.Schema(
            {
                vol.Optional(CONF_HOST_LINK): picker(self.hass, choice),
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
