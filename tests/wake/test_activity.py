"""A link hit is activity: it holds the idle countdown off for its keep-awake
minutes, then the countdown starts from the last hit; the logbook says why."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.const import ATTR_ENTITY_ID, STATE_OFF, STATE_ON, STATE_UNKNOWN
from homeassistant.core import Event, HomeAssistant
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_time_changed,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.wakehub import logbook
from custom_components.wakehub.diagnostics import async_get_config_entry_diagnostics
from custom_components.wakehub.wake.const import (
    CONF_SERVICE_URL,
    CONF_WAKE_KEEP_AWAKE,
    CONF_WAKE_ON_ACCESS,
    CONF_WAKE_TOKEN,
    EVENT_ACCESS,
)
from custom_components.wakehub.wake.tokens import new_token
from tests.conftest import record_events
from tests.simulators.machine import MachineSimulator

SWITCH = "switch.nas"
AUTO = "switch.nas_auto_shutdown"
AT = "sensor.nas_auto_shutdown_at"
ACTIVE = "binary_sensor.nas_active"


async def nas_with_link(
    hass: HomeAssistant, entry: MockConfigEntry, sim: MachineSimulator
) -> str:
    """The NAS, running, its SSH port as the service (checked by a TCP connect)."""
    await sim.power_on()
    token = new_token()
    hass.config_entries.async_update_entry(
        entry,
        options={
            "timeout": 5,
            "idle_timeout": 30,
            CONF_SERVICE_URL: f"tcp://127.0.0.1:{sim.ssh_port}",
            CONF_WAKE_ON_ACCESS: True,
            CONF_WAKE_TOKEN: token,
            CONF_WAKE_KEEP_AWAKE: 15,
        },
    )
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    await hass.services.async_call(
        "switch", "turn_on", {ATTR_ENTITY_ID: AUTO}, blocking=True
    )
    await hass.async_block_till_done()
    return token


async def test_a_hit_extends_the_idle_countdown(
    hass: HomeAssistant,
    http: None,
    machine_sim: MachineSimulator,
    machine_entry: MockConfigEntry,
    hass_client_no_auth: ClientSessionGenerator,
    freezer: FrozenDateTimeFactory,
) -> None:
    token = await nas_with_link(hass, machine_entry, machine_sim)
    assert hass.states.get(ACTIVE).state == STATE_OFF
    assert hass.states.get(AT).state != STATE_UNKNOWN
    events = record_events(hass, EVENT_ACCESS)

    client = await hass_client_no_auth()
    response = await client.get(f"/api/wakehub/wake/{token}")
    # Not a web address: the page says it answers, nothing to redirect to.
    assert response.status == 200
    assert "NAS answers" in await response.text()
    await hass.async_block_till_done()
    hit = dt_util.utcnow()
    assert hass.states.get(ACTIVE).state == STATE_ON
    reasons = hass.states.get(ACTIVE).attributes["reasons"]
    assert any("wake link" in reason for reason in reasons)
    assert hass.states.get(AT).state == STATE_UNKNOWN
    assert [e.data["result"] for e in events] == ["kept_awake"]

    freezer.tick(timedelta(minutes=15, seconds=1))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    assert hass.states.get(ACTIVE).state == STATE_OFF
    at = dt_util.parse_datetime(hass.states.get(AT).state)
    assert at is not None
    # The countdown starts when the hit's keep-awake time ends.
    expected = hit + timedelta(minutes=15 + 30)
    assert abs((at - expected).total_seconds()) < 5

    # Diagnostics never show the token (a machine keeps it in its options).
    diagnostics: dict[str, Any] = await async_get_config_entry_diagnostics(
        hass, machine_entry
    )
    assert token not in str(diagnostics)
    assert diagnostics["entry"]["options"][CONF_WAKE_TOKEN] == "**REDACTED**"


async def test_logbook_lines(hass: HomeAssistant) -> None:
    """Access reads as translated logbook lines with the link's icon."""
    registered: dict[str, Any] = {}
    logbook.async_describe_events(
        hass, lambda domain, event, describe: registered.update({event: describe})
    )
    await hass.async_block_till_done()
    describe = registered[EVENT_ACCESS]

    woken = describe(Event(EVENT_ACCESS, {"name": "jellyfin", "result": "woken"}))
    assert woken == {
        "name": "jellyfin",
        "message": "Woken by access",
        "icon": "mdi:link-variant",
    }
    kept = describe(Event(EVENT_ACCESS, {"name": "jellyfin", "result": "kept_awake"}))
    assert kept["message"] == "Kept awake by access"
