"""The logbook's WakeHub lines, as Home Assistant's logbook asks for them."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from homeassistant.core import Event, HomeAssistant

from custom_components.wakehub.const import DOMAIN, EVENT_POWER
from custom_components.wakehub.logbook import async_describe_events

type Describe = Callable[[Event | Mapping[str, Any]], dict[str, str]]


async def async_logbook(hass: HomeAssistant) -> Describe:
    """WakeHub's describe callback, registered as the logbook registers it,
    with its texts loaded; it takes an event or an event's data."""
    registered: dict[str, tuple[str, Callable[[Event], dict[str, str]]]] = {}
    async_describe_events(
        hass,
        lambda domain, event_type, fn: registered.update({event_type: (domain, fn)}),
    )
    await hass.async_block_till_done()
    domain, describe = registered[EVENT_POWER]
    assert domain == DOMAIN

    def line(event: Event | Mapping[str, Any]) -> dict[str, str]:
        if not isinstance(event, Event):
            event = Event(EVENT_POWER, dict(event))
        return describe(event)

    return line


async def async_messages(hass: HomeAssistant) -> Callable[[Any], str]:
    """Only the message of each line."""
    describe = await async_logbook(hass)
    return lambda event: describe(event)["message"]
