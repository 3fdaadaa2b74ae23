"""Home Assistant's own logbook, with a recorder, shows WakeHub's lines."""

from __future__ import annotations

from homeassistant.components.recorder import Recorder
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.components.recorder.common import (
    async_wait_recording_done,
)
from pytest_homeassistant_custom_component.typing import WebSocketGenerator

from custom_components.wakehub.const import DOMAIN
from tests.power.conftest import JELLYFIN, Lab
from tests.power.test_logbook import START, WAIT, turn

# The logbook integration depends on the frontend's package, which only the
# newest test environment installs.
pytest.importorskip("hass_frontend")


@pytest.fixture
def auto_enable_custom_integrations(
    recorder_db_url: str, enable_custom_integrations: None
) -> None:
    """The recorder's database first: it must exist before Home Assistant."""


async def test_the_logbook_shows_the_lines_on_the_device_page(
    recorder_mock: Recorder,
    hass: HomeAssistant,
    lab: Lab,
    hass_ws_client: WebSocketGenerator,
) -> None:
    """Home Assistant's own logbook, asked for jellyfin's device as its page
    asks: WakeHub's lines are there, with their icon and words."""
    assert await async_setup_component(hass, "logbook", {})
    start = dt_util.utcnow()
    await turn(hass, "turn_on", JELLYFIN)
    await async_wait_recording_done(hass)
    entity = er.async_get(hass).async_get(JELLYFIN)
    assert entity is not None
    client = await hass_ws_client()
    await client.send_json(
        {
            "id": 1,
            "type": "logbook/get_events",
            "start_time": start.isoformat(),
            "device_ids": [entity.device_id],
        }
    )
    response = await client.receive_json()
    assert response["success"]
    rows = [
        (row["name"], row["message"], row["icon"])
        for row in response["result"]
        if row.get("domain") == DOMAIN
    ]
    # Whether the engine answers as soon as its VM runs is the lab's timing:
    # when it does not, jellyfin waits for it, and says so.
    engine_wait = ("jellyfin", "Start: waiting for docker-vm to answer", WAIT)
    assert [row for row in rows if row != engine_wait] == [
        ("jellyfin", "Start: waiting for docker", WAIT),
        ("jellyfin", "Start requested", START),
        ("jellyfin", "Start done", START),
    ]
