"""Idle auto-shutdown: countdown, cancellation, protection and restarts."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from datetime import timedelta
import time
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.const import (
    ATTR_ENTITY_ID,
    EVENT_HOMEASSISTANT_FINAL_WRITE,
    EVENT_HOMEASSISTANT_STARTED,
    STATE_OFF,
    STATE_ON,
    STATE_UNAVAILABLE,
    STATE_UNKNOWN,
)
from homeassistant.core import CoreState, HomeAssistant
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_time_changed,
)

from custom_components.wakehub.const import (
    CONF_CPU_THRESHOLD,
    CONF_IDLE_TIMEOUT,
    CONF_KEEP_AWAKE,
    CONF_NETWORK_THRESHOLD,
    CONF_TIMEOUT,
)
from custom_components.wakehub.idle import (
    DATA_IDLE,
    RETRY_AFTER_FAILURE,
    SAVE_DELAY,
    STARTUP_GRACE,
    STORAGE_KEY,
)
from custom_components.wakehub.power import async_get_power_manager
from tests.conftest import record_events
from tests.power.conftest import JELLYFIN, VM_SWITCH, Lab
from tests.power.logbook_lines import async_messages
from tests.simulators.machine import MachineSimulator

SWITCH = "switch.nas"
AUTO = "switch.nas_auto_shutdown"
AT = "sensor.nas_auto_shutdown_at"
ACTIVE = "binary_sensor.nas_active"


def about(delta: timedelta, expected: timedelta) -> bool:
    return abs((delta - expected).total_seconds()) < 2


async def setup_nas(
    hass: HomeAssistant,
    entry: MockConfigEntry,
    sim: MachineSimulator,
    **options: object,
) -> None:
    await sim.power_on()
    hass.config_entries.async_update_entry(
        entry, options={CONF_TIMEOUT: 5, CONF_IDLE_TIMEOUT: 30, **options}
    )
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()


async def switch(hass: HomeAssistant, service: str, entity_id: str) -> None:
    await hass.services.async_call(
        "switch", service, {ATTR_ENTITY_ID: entity_id}, blocking=True
    )
    await hass.async_block_till_done()


async def tick(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, minutes: float
) -> None:
    """Time travel: let what is in flight finish, jump, and fire what was due."""
    await run_clock(hass, freezer, lambda: False, seconds=0.3)
    freezer.tick(timedelta(minutes=minutes))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()


async def run_clock(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    until: Callable[[], bool],
    *,
    seconds: float | None = None,
) -> None:
    """Let the frozen clock run at (at most) real speed until `until()` holds.

    Without `seconds`, `until()` must come to hold within 20 seconds (the test
    fails otherwise); with them, the clock runs at most that long, whether it
    does or not (what must not happen meanwhile is asserted after).

    Under `freezer` the event loop's clock stands still too, so a shutdown that
    probes every quarter second would wait forever. Advancing it no faster than
    real time keeps the timeouts of in-flight connections meaningful.
    """
    for _ in range(int((seconds if seconds is not None else 20) / 0.01)):
        if until():
            return
        await hass.async_add_executor_job(time.sleep, 0.01)
        freezer.tick(timedelta(seconds=0.01))
        async_fire_time_changed(hass)
    if seconds is None and not until():
        raise AssertionError("the condition was never reached")


async def clocked(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, coro: Coroutine[Any, Any, Any]
) -> None:
    """Await `coro` while the frozen clock runs."""
    task = hass.async_create_task(coro)
    await run_clock(hass, freezer, task.done)
    await task


async def test_idle_machine_is_stopped_after_its_timeout(
    hass: HomeAssistant,
    machine_sim: MachineSimulator,
    machine_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    await setup_nas(hass, machine_entry, machine_sim)
    # Off by default: nothing is shut down until the user asks for it, and
    # its idle entities only exist once it is on.
    assert hass.states.get(AUTO).state == STATE_OFF
    assert hass.states.get(ACTIVE) is None
    assert hass.states.get(AT) is None

    events = record_events(hass, "wakehub_power")
    await switch(hass, "turn_on", AUTO)
    assert hass.states.get(ACTIVE).state == STATE_OFF
    at = dt_util.parse_datetime(hass.states.get(AT).state)
    assert at is not None
    assert about(at - dt_util.utcnow(), timedelta(minutes=30))

    await tick(hass, freezer, 29)
    assert machine_sim.powered
    await tick(hass, freezer, 1.5)
    await run_clock(hass, freezer, lambda: hass.states.get(SWITCH).state == STATE_OFF)
    # The switch reads off as soon as a poll sees it; let the stop's own
    # follow-up end too (cut short at teardown, its SSH login would linger).
    await run_clock(hass, freezer, lambda: not async_get_power_manager(hass)._running)
    assert not machine_sim.powered
    assert hass.states.get(SWITCH).state == STATE_OFF
    assert hass.states.get(AT).state == STATE_UNKNOWN
    describe = await async_messages(hass)
    lines = [describe(e) for e in events]
    assert lines[0] == "Auto-shutdown: idle for 30 min"
    assert "Shutdown requested: idle" in lines
    assert lines[-1] == "Shutdown done"
    decided = events[0].data
    assert (decided["action"], decided["result"], decided["reason"]) == (
        "auto_stop",
        "decided",
        "idle",
    )
    assert decided["idle_minutes"] == 30


async def test_a_failed_auto_shutdown_is_tried_again(
    hass: HomeAssistant,
    machine_sim: MachineSimulator,
    machine_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """The idle NAS refuses WakeHub's login when its time comes (a changed
    key, fixed later that night): the auto-shutdown is not given up, it is
    tried again 15 minutes later, and the NAS goes off once it can."""
    await setup_nas(hass, machine_entry, machine_sim)
    events = record_events(hass, "wakehub_power")
    await switch(hass, "turn_on", AUTO)
    machine_sim.refuse_logins = True
    await tick(hass, freezer, 31)
    await run_clock(
        hass,
        freezer,
        lambda: any(e.data["result"] == "failed" for e in events),
    )
    await run_clock(hass, freezer, lambda: not async_get_power_manager(hass)._running)
    assert machine_sim.powered
    at = dt_util.parse_datetime(hass.states.get(AT).state)
    assert at is not None
    assert about(at - dt_util.utcnow(), RETRY_AFTER_FAILURE)

    machine_sim.refuse_logins = False
    await tick(hass, freezer, 16)
    await run_clock(hass, freezer, lambda: not machine_sim.powered)
    await run_clock(hass, freezer, lambda: not async_get_power_manager(hass)._running)
    assert [e.data["result"] for e in events if e.data["action"] == "auto_stop"] == [
        "decided",
        "decided",
    ]


async def test_keep_awake_entity_cancels_the_countdown(
    hass: HomeAssistant,
    machine_sim: MachineSimulator,
    machine_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    hass.states.async_set("media_player.tv", "off")
    await setup_nas(
        hass, machine_entry, machine_sim, **{CONF_KEEP_AWAKE: ["media_player.tv"]}
    )
    await switch(hass, "turn_on", AUTO)
    await tick(hass, freezer, 20)
    events = record_events(hass, "wakehub_power")

    hass.states.async_set("media_player.tv", "playing")
    await hass.async_block_till_done()
    assert hass.states.get(ACTIVE).state == STATE_ON
    assert hass.states.get(ACTIVE).attributes["reasons"] == [
        "media_player.tv is playing"
    ]
    assert hass.states.get(AT).state == STATE_UNKNOWN
    describe = await async_messages(hass)
    assert [describe(e) for e in events] == [
        "Auto-shutdown cancelled: media_player.tv is playing"
    ]
    assert events[0].data["reason"] == "active"
    assert events[0].data["activity"] == [
        {
            "kind": "keep_awake",
            "subject": "media_player.tv",
            "value": "playing",
            "limit": "",
        }
    ]
    await tick(hass, freezer, 20)
    assert machine_sim.powered

    # Back to idle: a new countdown from now, not from before.
    hass.states.async_set("media_player.tv", "idle")
    await hass.async_block_till_done()
    at = dt_util.parse_datetime(hass.states.get(AT).state)
    assert about(at - dt_util.utcnow(), timedelta(minutes=30))


@pytest.mark.parametrize(
    ("options", "reason"),
    [
        ({CONF_CPU_THRESHOLD: 10}, "CPU 13% > 10%"),
    ],
)
async def test_load_above_threshold_is_activity(
    hass: HomeAssistant,
    machine_sim: MachineSimulator,
    machine_entry: MockConfigEntry,
    options: dict[str, object],
    reason: str,
) -> None:
    await setup_nas(hass, machine_entry, machine_sim, **options)
    await switch(hass, "turn_on", AUTO)
    assert hass.states.get(ACTIVE).state == STATE_ON
    assert hass.states.get(ACTIVE).attributes["reasons"] == [reason]


async def test_network_threshold_ignored_where_not_reported(
    hass: HomeAssistant, machine_sim: MachineSimulator, machine_entry: MockConfigEntry
) -> None:
    """A machine reports no traffic: the threshold cannot keep it awake."""
    await setup_nas(hass, machine_entry, machine_sim, **{CONF_NETWORK_THRESHOLD: 1})
    await switch(hass, "turn_on", AUTO)
    assert hass.states.get(ACTIVE).state == STATE_OFF


async def test_timeout_zero_disables(
    hass: HomeAssistant, machine_sim: MachineSimulator, machine_entry: MockConfigEntry
) -> None:
    await setup_nas(hass, machine_entry, machine_sim, **{CONF_IDLE_TIMEOUT: 0})
    await switch(hass, "turn_on", AUTO)
    assert hass.states.get(AT).state == STATE_UNKNOWN


async def test_countdown_survives_a_restart(
    hass: HomeAssistant,
    machine_sim: MachineSimulator,
    machine_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Restarted mid-countdown: the idle-since time is restored, not reset."""
    await setup_nas(hass, machine_entry, machine_sim)
    await switch(hass, "turn_on", AUTO)
    at_before = hass.states.get(AT).state
    await tick(hass, freezer, 20)

    # A restart: the entry unloads and the in-memory monitor is gone; what was
    # stored is all that remains.
    assert await hass.config_entries.async_unload(machine_entry.entry_id)
    await hass.async_block_till_done()
    del hass.data[DATA_IDLE]
    assert await hass.config_entries.async_setup(machine_entry.entry_id)
    await hass.async_block_till_done()
    assert hass.states.get(AUTO).state == STATE_ON
    assert hass.states.get(AT).state == at_before

    await tick(hass, freezer, 11)
    await run_clock(hass, freezer, lambda: hass.states.get(SWITCH).state == STATE_OFF)
    # The switch reads off as soon as a poll sees it; let the stop's own
    # follow-up end too (cut short at teardown, its SSH login would linger).
    await run_clock(hass, freezer, lambda: not async_get_power_manager(hass)._running)
    assert not machine_sim.powered


async def shut_down_home_assistant(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    """Home Assistant stops: the entry unloads and the in-memory monitor is
    gone; what was stored is all that remains."""
    assert await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()
    del hass.data[DATA_IDLE]


async def start_home_assistant(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()


def auto_off_in(hass: HomeAssistant) -> timedelta:
    """How long until the auto-shutdown the sensor shows."""
    at = dt_util.parse_datetime(hass.states.get(AT).state)
    assert at is not None
    return at - dt_util.utcnow()


async def test_a_restored_countdown_counts_from_the_last_boot(
    hass: HomeAssistant,
    machine_sim: MachineSimulator,
    machine_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Idle 25 of its 30 minutes when Home Assistant went down; meanwhile the
    NAS was switched off, and on again by hand 5 minutes ago. It cannot have
    been idle since before it booted: 25 minutes are left, not none."""
    await setup_nas(hass, machine_entry, machine_sim)
    await switch(hass, "turn_on", AUTO)
    await tick(hass, freezer, 25)
    await shut_down_home_assistant(hass, machine_entry)
    await machine_sim.power_off()
    freezer.tick(timedelta(minutes=15))
    machine_sim.initial_uptime = 0
    await machine_sim.power_on()  # by hand
    freezer.tick(timedelta(minutes=5))
    events = record_events(hass, "wakehub_power")

    await start_home_assistant(hass, machine_entry)

    assert about(auto_off_in(hass), timedelta(minutes=25))
    idle_since = dt_util.parse_datetime(
        hass.states.get(ACTIVE).attributes["idle_since"]
    )
    assert idle_since is not None
    assert about(dt_util.utcnow() - idle_since, timedelta(minutes=5))
    # Past the startup grace, still on: 10 minutes after its boot.
    await tick(hass, freezer, 5)
    await run_clock(hass, freezer, lambda: not machine_sim.powered, seconds=2)
    assert machine_sim.powered
    assert hass.states.get(SWITCH).state == STATE_ON
    assert not events


async def test_no_auto_shutdown_on_start_before_keep_awake_entities_are_back(
    hass: HomeAssistant,
    machine_sim: MachineSimulator,
    machine_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """The countdown ran out while Home Assistant was down (for an update);
    meanwhile the TV started playing. On start the TV's integration is not
    back yet: its entity reads unavailable. WakeHub waits its startup grace
    before deciding, and the TV playing a moment later cancels the countdown."""
    hass.states.async_set("media_player.tv", "off")
    await setup_nas(
        hass, machine_entry, machine_sim, **{CONF_KEEP_AWAKE: ["media_player.tv"]}
    )
    await switch(hass, "turn_on", AUTO)
    await tick(hass, freezer, 25)
    await shut_down_home_assistant(hass, machine_entry)
    freezer.tick(timedelta(minutes=10))
    hass.states.async_set("media_player.tv", STATE_UNAVAILABLE)
    events = record_events(hass, "wakehub_power")

    await start_home_assistant(hass, machine_entry)

    # Overdue: due at the end of the startup grace, not now.
    assert about(auto_off_in(hass), STARTUP_GRACE)
    await run_clock(hass, freezer, lambda: not machine_sim.powered, seconds=2)
    assert machine_sim.powered
    hass.states.async_set("media_player.tv", "playing")  # its integration is back
    await hass.async_block_till_done()
    assert hass.states.get(ACTIVE).state == STATE_ON
    assert hass.states.get(AT).state == STATE_UNKNOWN
    await tick(hass, freezer, 10)
    await run_clock(hass, freezer, lambda: not machine_sim.powered, seconds=2)
    assert machine_sim.powered
    describe = await async_messages(hass)
    assert [describe(e) for e in events] == [
        "Auto-shutdown cancelled: media_player.tv is playing"
    ]


async def test_an_entity_still_unavailable_after_the_startup_grace_is_inactive(
    hass: HomeAssistant,
    machine_sim: MachineSimulator,
    machine_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Unavailable only holds the NAS during the startup grace: a TV unplugged,
    or an entity removed, must not keep it on forever. An overdue countdown
    stops it once the grace has passed."""
    hass.states.async_set("media_player.tv", "off")
    await setup_nas(
        hass, machine_entry, machine_sim, **{CONF_KEEP_AWAKE: ["media_player.tv"]}
    )
    await switch(hass, "turn_on", AUTO)
    await tick(hass, freezer, 25)
    await shut_down_home_assistant(hass, machine_entry)
    freezer.tick(timedelta(minutes=10))
    hass.states.async_set("media_player.tv", STATE_UNAVAILABLE)
    events = record_events(hass, "wakehub_power")
    await start_home_assistant(hass, machine_entry)

    await tick(hass, freezer, STARTUP_GRACE.total_seconds() / 60 - 1)
    await run_clock(hass, freezer, lambda: not machine_sim.powered, seconds=2)
    assert machine_sim.powered
    await tick(hass, freezer, 1.5)
    await run_clock(hass, freezer, lambda: hass.states.get(SWITCH).state == STATE_OFF)
    await run_clock(hass, freezer, lambda: not async_get_power_manager(hass)._running)
    assert not machine_sim.powered
    describe = await async_messages(hass)
    assert describe(events[0]) == "Auto-shutdown: idle for 30 min"


async def test_the_startup_grace_counts_from_home_assistant_started(
    hass: HomeAssistant,
    machine_sim: MachineSimulator,
    machine_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Set up while Home Assistant is still starting (other integrations are
    still loading): the grace ends a while after it has started, not after
    WakeHub loaded."""
    await setup_nas(hass, machine_entry, machine_sim)
    await switch(hass, "turn_on", AUTO)
    await tick(hass, freezer, 25)
    await shut_down_home_assistant(hass, machine_entry)
    freezer.tick(timedelta(minutes=10))
    hass.set_state(CoreState.starting)
    await start_home_assistant(hass, machine_entry)
    assert about(auto_off_in(hass), STARTUP_GRACE)

    await tick(hass, freezer, 3)  # the other integrations load
    hass.set_state(CoreState.running)
    hass.bus.async_fire(EVENT_HOMEASSISTANT_STARTED)
    await hass.async_block_till_done()

    assert about(auto_off_in(hass), STARTUP_GRACE)
    await tick(hass, freezer, 3)
    await run_clock(hass, freezer, lambda: not machine_sim.powered, seconds=2)
    assert machine_sim.powered


async def test_unloaded_while_home_assistant_starts(
    hass: HomeAssistant,
    machine_sim: MachineSimulator,
    machine_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """An entry unloaded before Home Assistant has started (disabled, or its
    setup undone) does not wake up at the start to stop its machine."""
    await setup_nas(hass, machine_entry, machine_sim)
    await switch(hass, "turn_on", AUTO)
    await tick(hass, freezer, 25)
    await shut_down_home_assistant(hass, machine_entry)
    freezer.tick(timedelta(minutes=10))
    hass.set_state(CoreState.starting)
    await start_home_assistant(hass, machine_entry)
    assert await hass.config_entries.async_unload(machine_entry.entry_id)
    await hass.async_block_till_done()

    hass.set_state(CoreState.running)
    hass.bus.async_fire(EVENT_HOMEASSISTANT_STARTED)
    await hass.async_block_till_done()
    await tick(hass, freezer, 10)
    await run_clock(hass, freezer, lambda: not machine_sim.powered, seconds=2)
    assert machine_sim.powered


async def test_idle_state_is_stored_in_one_delayed_write(
    hass: HomeAssistant,
    machine_sim: MachineSimulator,
    machine_entry: MockConfigEntry,
    hass_storage: dict[str, Any],
    freezer: FrozenDateTimeFactory,
) -> None:
    """Changes are written together a little later, and when Home Assistant stops."""
    hass.states.async_set("media_player.tv", "off")
    await setup_nas(
        hass, machine_entry, machine_sim, **{CONF_KEEP_AWAKE: ["media_player.tv"]}
    )
    await hass.async_block_till_done()
    assert STORAGE_KEY not in hass_storage  # the NAS went idle: not written yet
    await switch(hass, "turn_on", AUTO)
    # Ten changes of activity (idle, active, idle...) within the delay...
    for state in ("playing", "off") * 5:
        hass.states.async_set("media_player.tv", state)
        await hass.async_block_till_done()
    assert STORAGE_KEY not in hass_storage
    # ...are one write, once the delay has passed.
    freezer.tick(timedelta(seconds=SAVE_DELAY))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    written = hass_storage[STORAGE_KEY]
    stored = written["data"]
    key = next(iter(stored["enabled"]))
    assert stored["enabled"] == {key: True}
    assert set(stored["idle_since"]) == {key}
    freezer.tick(timedelta(seconds=SAVE_DELAY))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    assert hass_storage[STORAGE_KEY] is written  # nothing changed: not rewritten

    # Stopping writes what is still pending.
    await switch(hass, "turn_off", AUTO)
    assert hass_storage[STORAGE_KEY]["data"]["enabled"] == {key: True}
    hass.bus.async_fire(EVENT_HOMEASSISTANT_FINAL_WRITE)
    await hass.async_block_till_done()
    assert hass_storage[STORAGE_KEY]["data"]["enabled"] == {key: False}


async def test_running_dependent_keeps_its_host_awake(
    hass: HomeAssistant, lab: Lab, freezer: FrozenDateTimeFactory
) -> None:
    await clocked(hass, freezer, switch(hass, "turn_on", JELLYFIN))
    await switch(hass, "turn_on", "switch.docker_auto_shutdown")
    active = hass.states.get("binary_sensor.docker_active")
    assert active.state == STATE_ON
    assert active.attributes["reasons"] == ["jellyfin is running"]
    assert hass.states.get("sensor.docker_auto_shutdown_at").state == STATE_UNKNOWN

    # Jellyfin stops alone: the VM is idle and its countdown starts...
    await clocked(
        hass,
        freezer,
        hass.services.async_call(
            "wakehub",
            "stop",
            {ATTR_ENTITY_ID: JELLYFIN, "cascade": False},
            blocking=True,
        ),
    )
    await hass.async_block_till_done()
    assert hass.states.get("binary_sensor.docker_active").state == STATE_OFF
    assert hass.states.get("sensor.docker_auto_shutdown_at").state != STATE_UNKNOWN
    # ...until Jellyfin runs again.
    await clocked(hass, freezer, switch(hass, "turn_on", JELLYFIN))
    assert hass.states.get("sensor.docker_auto_shutdown_at").state == STATE_UNKNOWN
    await tick(hass, freezer, 45)
    assert hass.states.get(VM_SWITCH).state == STATE_ON
