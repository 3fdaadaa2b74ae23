"""Logbook lines for `wakehub_power` events: why did the NAS stop?"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from homeassistant.core import Event, HomeAssistant, callback

from .const import DOMAIN, EVENT_POWER
from .wake.activity import describe_access
from .wake.const import EVENT_ACCESS

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
        return f"Kept on: {_kept_on(data, reason)}"
    if result == "cancelled":
        return f"Auto-shutdown cancelled: {reason}"
    if result == "decided":
        return f"Auto-shutdown: {reason}"
    message = f"{action} {result}".capitalize()
    message = f"{message}: {reason}" if reason else message
    if taken_down := data.get("unmanaged"):
        message += f"; also takes down {', '.join(taken_down)} (not in WakeHub)"
    return message


def _kept_on(data: dict[str, Any], reason: str) -> str:
    """Why a dependency stayed on, from the event's fields."""
    if data.get("reason") == "not_stopped_with_dependents":
        return reason
    if data.get("reason") == "platform_unreachable":
        platforms = ", ".join(data.get("platforms") or ())
        return f"{platforms or 'its server'} cannot be asked what runs there"
    if "managed" in data or "unmanaged" in data:
        return _in_use(data.get("managed"), data.get("unmanaged"))
    # Events recorded before the fields existed: the reason lists the names.
    return f"{reason} are running" if "," in reason else f"{reason} is running"


def _running(names: list[str]) -> str:
    return f"{', '.join(names)} {'are' if len(names) > 1 else 'is'} running"


def _in_use(managed: list[str] | None, unmanaged: list[str] | None) -> str:
    """ "nextcloud is running; sonarr, radarr are running (not in WakeHub)"."""
    parts = []
    if managed:
        parts.append(_running(managed))
    if unmanaged:
        parts.append(f"{_running(unmanaged)} (not in WakeHub)")
    return "; ".join(parts)


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

    @callback
    def async_describe_access(event: Event) -> dict[str, str]:
        return {
            "name": str(event.data.get("name", "WakeHub")),
            "message": describe_access(event.data),
        }

    async_describe_event(DOMAIN, EVENT_ACCESS, async_describe_access)
