"""The WakeHub wizard: pick a kind of server, test it, confirm what is pinned.

Each kind's steps live in `flows/<kind>.py` as a mixin; this class composes them
and routes the steps Home Assistant calls by fixed names (reconfigure, reauth,
options, subentries) to the entry's kind.
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
from .flows import docker, ovh, proxmox
from .flows.docker import DockerFlowMixin
from .flows.machine import MachineFlowMixin, MachineOptionsFlow
from .flows.ovh import OvhFlowMixin
from .flows.proxmox import ProxmoxFlowMixin

_OPTIONS_FLOWS: dict[str, type[OptionsFlow]] = {
    KIND_MACHINE: MachineOptionsFlow,
    KIND_PROXMOX: proxmox.OPTIONS_FLOW,
    KIND_DOCKER: docker.OPTIONS_FLOW,
    KIND_OVH: ovh.OPTIONS_FLOW,
}
_SUBENTRY_FLOWS: dict[str, dict[str, type[ConfigSubentryFlow]]] = {
    KIND_MACHINE: {},
    KIND_PROXMOX: proxmox.SUBENTRY_FLOWS,
    KIND_DOCKER: docker.SUBENTRY_FLOWS,
    KIND_OVH: ovh.SUBENTRY_FLOWS,
}


def _kind(entry: ConfigEntry) -> str:
    return str(entry.data.get(CONF_KIND, KIND_MACHINE))


class WakeHubConfigFlow(
    MachineFlowMixin,
    ProxmoxFlowMixin,
    DockerFlowMixin,
    OvhFlowMixin,
    domain=DOMAIN,
):
    """Add a server to WakeHub."""

    VERSION = 1
    MINOR_VERSION = 1

    def __init__(self) -> None:
        self._data: dict[str, Any] = {}

    async def async_step_user(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        return self.async_show_menu(
            step_id="user",
            menu_options=[KIND_MACHINE, KIND_PROXMOX, KIND_DOCKER, KIND_OVH],
        )

    async def async_step_reconfigure(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Each kind has its own reconfigure form (`reconfigure_<kind>`).

        The machine's form keeps the step id `reconfigure`, so its submissions
        come back here and are passed on.
        """
        kind = _kind(self._get_reconfigure_entry())
        result: ConfigFlowResult = await getattr(
            self, f"async_step_reconfigure_{kind}"
        )(user_input)
        return result

    async def async_step_resources(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """The discovery selection (`resources` in DESIGN.md) of the kind being added."""
        kind = str(self._data.get(CONF_KIND))
        result: ConfigFlowResult = await getattr(self, f"async_step_resources_{kind}")(
            user_input
        )
        return result

    async def async_step_reauth(
        self, entry_data: Mapping[str, Any]
    ) -> ConfigFlowResult:
        """New credentials (`reauth_<kind>`); only kinds with credentials that can
        expire (Proxmox, OVHcloud) ever start one."""
        kind = _kind(self._get_reauth_entry())
        result: ConfigFlowResult = await getattr(self, f"async_step_reauth_{kind}")(
            None
        )
        return result

    @staticmethod
    @callback
    def async_get_options_flow(config_entry: ConfigEntry) -> OptionsFlow:
        return _OPTIONS_FLOWS[_kind(config_entry)]()

    @classmethod
    @callback
    def async_get_supported_subentry_types(
        cls, config_entry: ConfigEntry
    ) -> dict[str, type[ConfigSubentryFlow]]:
        return _SUBENTRY_FLOWS.get(_kind(config_entry), {})
