"""Logbook lines for `wakehub_power` events: why did the NAS stop?"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from homeassistant.core import Event, HomeAssistant, callback

from .const import DOMAIN, EVENT_POWER

# The logbook has no translation hook for custom events: these phrases are kept
# short and in English; names and the platforms' own messages are inserted as is.
_ACTIONS = {
    "start": "start",
    "start_alone": "start",
    "stop": "shutdown",
    "stop_alone": "shutdown",
    "reboot": "reboot",
    "auto_stop": "auto-shutdown",
}
_REASONS = {
    "already_running": "already running",
    "already_stopped": "already stopped",
    "timeout": "timed out",
    "platform_timeout": "its server did not answer in time",
    "idle": "idle",
    "host_stopping": "the server it runs on is stopping",
    "not_stopped_with_dependents": "it is not set to stop with its dependents",
}


def _reason(reason: str | None) -> str:
    if not reason:
        return ""
    if reason.startswith("released_by:"):
        return f"no longer needed by {reason.removeprefix('released_by:')}"
    return _REASONS.get(reason, reason)


def describe(data: dict[str, Any]) -> str:
    """The readable line for one event's data."""
    action = _ACTIONS.get(str(data.get("action")), str(data.get("action")))
    result = data.get("result")
    reason = _reason(data.get("reason"))
    if result == "waiting":
        return f"{action.capitalize()}: waiting for {reason}"
    if result == "kept_on":
        if data.get("reason") == "not_stopped_with_dependents":
            return f"Kept on: {reason}"
        return (
            f"Kept on: {reason} running"
            if "," in reason
            else f"Kept on: {reason} is running"
        )
    if result == "cancelled":
        return f"Auto-shutdown cancelled: {reason}"
    if result == "decided":
        return f"Auto-shutdown: {reason}"
    message = f"{action} {result}".capitalize()
    return f"{message}: {reason}" if reason else message


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
