"""The Docker part of the wizard (placeholder until its issue lands)."""

from __future__ import annotations

from typing import Any

from homeassistant.config_entries import (
    ConfigFlow,
    ConfigFlowResult,
    ConfigSubentryFlow,
    OptionsFlow,
)


class DockerFlowMixin(ConfigFlow):
    """Steps of the docker kind; mixed into WakeHubConfigFlow."""

    async def async_step_docker(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        return self.async_abort(reason="not_available_yet")

    async def async_step_reconfigure_docker(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        return self.async_abort(reason="not_available_yet")


OPTIONS_FLOW: type[OptionsFlow] | None = None
SUBENTRY_FLOWS: dict[str, type[ConfigSubentryFlow]] = {}
