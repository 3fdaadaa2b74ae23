"""Every action ends with entities that show what it did, so a second action
right after it starts from the right state."""

from __future__ import annotations

from homeassistant.const import ATTR_ENTITY_ID
from homeassistant.core import HomeAssistant

from custom_components.wakehub.const import DOMAIN
from tests.power.conftest import JELLYFIN, Lab

STATUS = "sensor.jellyfin_status"
LIST = "/v1.56/containers/json"


async def act(hass: HomeAssistant, action: str, **data: object) -> None:
    await hass.services.async_call(
        DOMAIN, action, {ATTR_ENTITY_ID: JELLYFIN, **data}, blocking=True
    )


async def test_a_second_action_right_after_the_first(
    hass: HomeAssistant, lab: Lab
) -> None:
    """Within the 10 s a debounced refresh would wait, each action is seen."""
    await act(hass, "start")
    assert hass.states.get(STATUS).state == "running"

    polls = lab.docker.count("GET", LIST)
    await act(hass, "pause")
    # Shown at once, after one poll of the engine (not the debounced one).
    assert hass.states.get(STATUS).state == "paused"
    assert lab.docker.count("GET", LIST) == polls + 1
    await act(hass, "unpause")
    assert hass.states.get(STATUS).state == "running"
    assert lab.docker.count("GET", LIST) == polls + 2

    await act(hass, "stop", cascade=False)
    assert hass.states.get(JELLYFIN).state == "off"
    await act(hass, "start", cascade=False)
    assert hass.states.get(JELLYFIN).state == "on"
    assert lab.docker.containers["jellyfin"].state == "running"
