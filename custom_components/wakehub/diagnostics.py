"""Diagnostics: the entry, its options and what was last polled, secrets redacted."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from homeassistant.components.diagnostics import async_redact_data
from homeassistant.core import HomeAssistant

from .const import TO_REDACT
from .power import async_get_power_manager
from .runtime import WakeHubConfigEntry


async def async_get_config_entry_diagnostics(
    hass: HomeAssistant, entry: WakeHubConfigEntry
) -> dict[str, Any]:
    runtime = entry.runtime_data
    power = async_get_power_manager(hass)
    return {
        "entry": {
            "title": entry.title,
            "data": async_redact_data(dict(entry.data), TO_REDACT),
            "options": async_redact_data(dict(entry.options), TO_REDACT),
        },
        "coordinator": {
            "last_update_success": runtime.coordinator.last_update_success,
            "update_interval": str(runtime.coordinator.update_interval),
        },
        "resources": {
            resource.key: {
                "name": resource.name,
                "features": str(resource.features),
                "state": asdict(resource.state) if resource.state else None,
                "transition": (
                    asdict(transition)
                    if (transition := power.transition(resource.key))
                    else None
                ),
            }
            for resource in runtime.resources
        },
    }
