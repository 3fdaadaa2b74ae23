"""Logbook lines for `wakehub_power` events: why did the NAS stop?"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from homeassistant.core import Event, HomeAssistant, callback

from .const import DOMAIN, EVENT_POWER

# The logbook has no translation hook for custom events; these phrases are kept
# short and in English, with the platform's own reason appended verbatim.
_ACTIONS = {"start": "start", "stop": "shutdown", "reboot": "reboot"}
_RESULTS = {
    "requested": "{action} requested",
    "done": "{action} done",
    "failed": "{action} failed",
}
_REASONS = {
    "already_running": "already running",
    "already_stopped": "already stopped",
    "timeout": "timed out",
}


def describe(data: dict[str, Any]) -> str:
    """The readable line for one event's data."""
    action = _ACTIONS.get(data.get("action", ""), str(data.get("action")))
    template = _RESULTS.get(data.get("result", ""), "{action}")
    message = template.format(action=action).capitalize()
    if reason := data.get("reason"):
        message += f": {_REASONS.get(reason, reason)}"
    return message


@callback
def async_describe_events(
    hass: HomeAssistant,
    async_describe_event: Callable[[str, str, Callable[[Event], dict[str, str]]], None],
) -> None:
    @callback
    def async_describe(event: Event) -> dict[str, str]:
        return {
            "name": str(event.data.get("name", "WakeHub")),
            "message": describe(dict(event.data)),
        }

    async_describe_event(DOMAIN, EVENT_POWER, async_describe)
