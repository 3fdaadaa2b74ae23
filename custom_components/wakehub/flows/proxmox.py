"""The Proxmox part of the wizard (placeholder until its issue lands)."""

from __future__ import annotations

from typing import Any

from homeassistant.config_entries import (
    ConfigFlow,
    ConfigFlowResult,
    ConfigSubentryFlow,
    OptionsFlow,
)


class ProxmoxFlowMixin(ConfigFlow):
    """Steps of the proxmox kind; mixed into WakeHubConfigFlow."""

    async def async_step_proxmox(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        return self.async_abort(reason="not_available_yet")

    async def async_step_reconfigure_proxmox(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        return self.async_abort(reason="not_available_yet")


OPTIONS_FLOW: type[OptionsFlow] | None = None
SUBENTRY_FLOWS: dict[str, type[ConfigSubentryFlow]] = {}
