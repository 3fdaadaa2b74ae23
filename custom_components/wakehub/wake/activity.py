"""Access counts as activity: a wake or gate hit keeps the resource awake.

Each hit holds the resource active for its keep-awake minutes from now; the
idle detector (idle.py) asks `access_reasons` like any other reason, and is
asked to look again when the time is up, so the idle countdown then starts from
the last hit. What it runs on stays up because it does (a running dependent
keeps a host active).

The logbook gets one line per stretch of use, not one per hit: "woken by
access" when a hit starts the resource, "kept awake by access" when a hit finds
it running and nobody had used it through the link lately.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.helpers.event import async_track_point_in_utc_time
from homeassistant.util import dt as dt_util
from homeassistant.util.hass_dict import HassKey

from ..const import DOMAIN
from ..power_events import Awake, AwakeKind
from ..resource import Resource
from .const import CONF_WAKE_KEEP_AWAKE, DEFAULT_WAKE_KEEP_AWAKE, EVENT_ACCESS

DATA_ACCESS: HassKey[AccessRecord] = HassKey(f"{DOMAIN}_access")

WOKEN = "woken"
KEPT_AWAKE = "kept_awake"
# The logbook's texts, in its translation section.
_LOGBOOK_TEXT_OF_RESULT = {WOKEN: "access.woken", KEPT_AWAKE: "access.kept_awake"}


def keep_awake_for(settings: Mapping[str, Any]) -> timedelta:
    minutes = settings.get(CONF_WAKE_KEEP_AWAKE, DEFAULT_WAKE_KEEP_AWAKE)
    return timedelta(minutes=float(minutes or 0))


class AccessRecord:
    """Until when each resource is held active by its link's last hit."""

    def __init__(self, hass: HomeAssistant) -> None:
        self.hass = hass
        self._until: dict[str, datetime] = {}
        self._timers: dict[str, CALLBACK_TYPE] = {}
        #: The loaded resource each record belongs to (forgotten when it unloads).
        self._bound: dict[str, Resource] = {}

    def active_until(self, key: str) -> datetime | None:
        until = self._until.get(key)
        return until if until is not None and until > dt_util.utcnow() else None

    @callback
    def async_hit(
        self, resource: Resource, *, woke: bool, expired: CALLBACK_TYPE
    ) -> None:
        """Record a hit; `expired` runs when its keep-awake time is over."""
        if self._bound.get(resource.key) is not resource:
            self._bound[resource.key] = resource
            resource.entry.async_on_unload(lambda: self.async_forget(resource))
        now = dt_util.utcnow()
        was_active = self.active_until(resource.key) is not None
        until = now + keep_awake_for(resource.settings)
        self._until[resource.key] = until
        if woke:
            self._fire(resource, WOKEN)
        elif not was_active:
            self._fire(resource, KEPT_AWAKE)
        if (timer := self._timers.pop(resource.key, None)) is not None:
            timer()

        @callback
        def over(_now: datetime) -> None:
            self._timers.pop(resource.key, None)
            expired()

        self._timers[resource.key] = async_track_point_in_utc_time(
            self.hass, over, until
        )

    @callback
    def _fire(self, resource: Resource, result: str) -> None:
        # Names only: the token, the address and the visitor stay out of events.
        self.hass.bus.async_fire(
            EVENT_ACCESS,
            {"resource": resource.key, "name": resource.name, "result": result},
        )

    @callback
    def async_forget(self, resource: Resource) -> None:
        """Its entry unloads: its hits no longer hold anything awake."""
        if self._bound.get(resource.key) is not resource:
            return  # already bound to its reloaded self
        del self._bound[resource.key]
        self._until.pop(resource.key, None)
        if (timer := self._timers.pop(resource.key, None)) is not None:
            timer()


@callback
def async_get_access_record(hass: HomeAssistant) -> AccessRecord:
    if (record := hass.data.get(DATA_ACCESS)) is None:
        record = hass.data[DATA_ACCESS] = AccessRecord(hass)
    return record


@callback
def access_reasons(hass: HomeAssistant, resource: Resource) -> list[Awake]:
    """The idle detector's reason while a link hit holds `resource` active."""
    record = hass.data.get(DATA_ACCESS)
    if record is None or (until := record.active_until(resource.key)) is None:
        return []
    local = dt_util.as_local(until).strftime("%H:%M:%S")
    return [Awake(AwakeKind.ACCESS, value=local)]


def access_line_key(data: Mapping[str, Any]) -> str:
    """The logbook text key of a `wakehub_access` event."""
    return _LOGBOOK_TEXT_OF_RESULT.get(str(data.get("result")), "access.woken")
