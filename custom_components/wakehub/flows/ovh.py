"""The Ovh part of the wizard (placeholder until its issue lands)."""

from __future__ import annotations

from typing import Any

from homeassistant.config_entries import (
    ConfigFlow,
    ConfigFlowResult,
    ConfigSubentryFlow,
    OptionsFlow,
)


class OvhFlowMixin(ConfigFlow):
    """Steps of the ovh kind; mixed into WakeHubConfigFlow."""

    async def async_step_ovh(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        return self.async_abort(reason="not_available_yet")

    async def async_step_reconfigure_ovh(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        return self.async_abort(reason="not_available_yet")


OPTIONS_FLOW: type[OptionsFlow] | None = None
SUBENTRY_FLOWS: dict[str, type[ConfigSubentryFlow]] = {}
