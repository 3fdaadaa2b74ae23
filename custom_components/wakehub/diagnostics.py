"""Diagnostics: the entry, its options and what was last polled, secrets redacted.

A user downloads them most when something is wrong: an entry whose server does
not answer (set-up retrying) or that is reloading has no runtime data, and gets
its entry and why it is not loaded rather than an error.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from homeassistant.components.diagnostics import async_redact_data
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant

from .const import TO_REDACT
from .power import async_get_power_manager
from .runtime import WakeHubConfigEntry


async def async_get_config_entry_diagnostics(
    hass: HomeAssistant, entry: WakeHubConfigEntry
) -> dict[str, Any]:
    diagnostics: dict[str, Any] = {
        "entry": {
            "title": entry.title,
            "state": entry.state.value,
            "reason": entry.reason,
            "data": async_redact_data(dict(entry.data), TO_REDACT),
            "options": async_redact_data(dict(entry.options), TO_REDACT),
        },
    }
    if entry.state is not ConfigEntryState.LOADED:
        return diagnostics
    runtime = entry.runtime_data
    power = async_get_power_manager(hass)
    return diagnostics | {
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
