"""The WakeHub wizard: pick a kind of server, connect, trust, choose.

The path is the same for every kind (flows/steps.py) and each kind declares
what it needs once (`FLOW_KIND` in kinds/<kind>/flow.py). The steps here are the
menu's and those Home Assistant calls by fixed names.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from homeassistant.config_entries import (
    ConfigEntry,
    ConfigFlowResult,
    ConfigSubentryFlow,
    OptionsFlow,
)
from homeassistant.core import callback

from .const import CONF_KIND, DOMAIN, KIND_DOCKER, KIND_MACHINE, KIND_OVH, KIND_PROXMOX
from .flows.choose import ResourcesSubentryFlow
from .flows.kind import FlowKind, Found
from .flows.settings import KindOptionsFlow, Section
from .flows.steps import ServerFlow
from .kinds import KINDS
from .kinds.docker import flow as docker
from .kinds.machine import flow as machine
from .kinds.ovh import flow as ovh
from .kinds.proxmox import flow as proxmox

FLOW_KINDS: dict[str, FlowKind] = {
    KIND_MACHINE: machine.FLOW_KIND,
    KIND_PROXMOX: proxmox.FLOW_KIND,
    KIND_DOCKER: docker.FLOW_KIND,
    KIND_OVH: ovh.FLOW_KIND,
}


def _kind(entry: ConfigEntry) -> FlowKind:
    return FLOW_KINDS[str(entry.data.get(CONF_KIND, KIND_MACHINE))]


class WakeHubConfigFlow(ServerFlow, domain=DOMAIN):
    """Add a server to WakeHub."""

    VERSION = 1
    MINOR_VERSION = 1

    async def async_step_user(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        return self.async_show_menu(step_id="user", menu_options=list(FLOW_KINDS))

    async def async_step_machine(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        return await self.async_connect_step(machine.FLOW_KIND, user_input)

    async def async_step_proxmox(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        return await self.async_connect_step(proxmox.FLOW_KIND, user_input)

    async def async_step_docker(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        return await self.async_connect_step(docker.FLOW_KIND, user_input)

    async def async_step_ovh(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        return await self.async_connect_step(ovh.FLOW_KIND, user_input)

    async def async_step_reconfigure(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        kind = _kind(self._get_reconfigure_entry())
        return await self.async_connect_step(kind, user_input)

    async def async_step_reauth(
        self, entry_data: Mapping[str, Any]
    ) -> ConfigFlowResult:
        """Only kinds whose credentials can expire (Proxmox, OVHcloud) start one."""
        return await self.async_step_reauth_confirm()

    async def async_step_reauth_confirm(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        kind = _kind(self._get_reauth_entry())
        return await self.async_connect_step(kind, user_input)

    # The steps that are one kind's own.

    async def async_step_unreachable(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        return await machine.unreachable(self, user_input)

    async def async_step_add_unverified(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        return await machine.add_unverified(self)

    async def async_step_ovh_validate(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        return await ovh.validate_step(self, user_input)

    @staticmethod
    @callback
    def async_get_options_flow(config_entry: ConfigEntry) -> OptionsFlow:
        return KindOptionsFlow(_kind(config_entry).options)

    @classmethod
    @callback
    def async_get_supported_subentry_types(
        cls, config_entry: ConfigEntry
    ) -> dict[str, type[ConfigSubentryFlow]]:
        subentry_type = KINDS[_kind(config_entry).kind].subentry_type
        return {} if subentry_type is None else {subentry_type: KindSubentryFlow}


class KindSubentryFlow(ResourcesSubentryFlow):
    """Add resources to an entry, or reconfigure one, as its kind declares."""

    async def discover(self, data: Mapping[str, Any]) -> list[Found]:
        discover = _kind(self._get_entry()).discover
        assert discover is not None  # only kinds with discovery have subentries
        return await discover(self.hass, data)

    def resource_sections(self) -> tuple[Section, ...]:
        return _kind(self._get_entry()).resource_sections
