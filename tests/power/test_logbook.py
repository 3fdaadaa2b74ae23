"""The logbook explains a cascade: WakeHub's lines, as the logbook shows them."""

from __future__ import annotations

from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr
from hypothesis import given, settings, strategies as st

from custom_components.wakehub.naming import Noun
from custom_components.wakehub.power_events import (
    AwakeKind,
    PowerAction,
    PowerEvent,
    ReasonKind,
    Result,
    Step,
)
from tests.conftest import record_events
from tests.hostile import hostile_values
from tests.power.conftest import JELLYFIN, Lab, turn
from tests.power.logbook_lines import async_logbook

START = "mdi:power"
STOP = "mdi:power-off"
WAIT = "mdi:timer-sand"


async def test_a_cascade_on_and_off_in_the_logbook(
    hass: HomeAssistant, lab: Lab, device_registry: dr.DeviceRegistry
) -> None:
    describe = await async_logbook(hass)
    events = record_events(hass, "wakehub_power")
    await turn(hass, "turn_on", JELLYFIN)
    await turn(hass, "turn_off", JELLYFIN)

    lines = [(d["name"], d["message"], d["icon"]) for d in map(describe, events)]
    # A wait for the engine's API is logged only when it is slower than its VM
    # (the lab's engine comes up 20 ms after the VM: on a busy machine, jellyfin
    # may ask it before).
    platform_waits = [line for line in lines if line[1].endswith(" to answer")]
    assert platform_waits in (
        [],
        [("jellyfin", "Start: waiting for docker-vm to answer", WAIT)],
    )
    lines = [line for line in lines if line not in platform_waits]
    assert lines == [
        ("jellyfin", "Start: waiting for docker", WAIT),
        ("docker", "Start: waiting for Node pve1", WAIT),
        ("Node pve1", "Start requested", START),
        ("Node pve1", "Start done", START),
        ("docker", "Start requested", START),
        ("docker", "Start done", START),
        ("jellyfin", "Start requested", START),
        ("jellyfin", "Start done", START),
        ("jellyfin", "Shutdown requested", STOP),
        ("jellyfin", "Shutdown done", STOP),
        ("docker", "Shutdown requested: no longer needed by jellyfin", STOP),
        ("docker", "Shutdown done", STOP),
        ("Node pve1", "Shutdown requested: no longer needed by docker", STOP),
        ("Node pve1", "Shutdown done", STOP),
    ]
    # Each line belongs to its resource's switch and device, so it shows in
    # their own logbooks too.
    first = events[0].data
    assert describe(events[0])["entity_id"] == first["entity_id"] == JELLYFIN
    device = device_registry.async_get(first["device_id"])
    assert device is not None
    assert device.name == "jellyfin"


async def test_names_two_things_share_say_what_each_is(
    hass: HomeAssistant, lab: Lab
) -> None:
    """The engine's server is named like the VM it runs in: each line says which."""
    hass.config_entries.async_update_entry(lab.docker_entry, title="docker")
    assert await hass.config_entries.async_reload(lab.docker_entry.entry_id)
    await hass.async_block_till_done()
    describe = await async_logbook(hass)
    events = record_events(hass, "wakehub_power")
    await turn(hass, "turn_on", JELLYFIN)

    lines = [(d["name"], d["message"]) for d in map(describe, events)]
    assert lines[:2] == [
        ("jellyfin", "Start: waiting for docker (VM)"),
        ("docker (VM)", "Start: waiting for Node pve1"),
    ]
    # The wait for the engine's API names the engine, not the VM.
    platform_wait = {
        "resource": "x",
        "name": "jellyfin",
        "kind": "container",
        "action": "start",
        "step": "platform",
        "result": "waiting",
        "waiting_for": [{"name": "docker", "kind": "docker_engine"}],
    }
    assert describe(platform_wait)["message"] == (
        "Start: waiting for docker (Docker engine) to answer"
    )


async def test_the_logbook_speaks_home_assistants_language(
    hass: HomeAssistant, lab: Lab
) -> None:
    await hass.config.async_update(language="fr")
    await hass.async_block_till_done()
    describe = await async_logbook(hass)
    events = record_events(hass, "wakehub_power")
    await turn(hass, "turn_on", JELLYFIN)
    await turn(hass, "turn_off", JELLYFIN)
    messages = [describe(e)["message"] for e in events]
    assert messages[0] == "Démarrage : en attente de docker"
    assert "Démarrage terminé" in messages
    assert "Arrêt demandé : plus nécessaire à jellyfin" in messages


async def test_any_recorded_event_gets_a_line(hass: HomeAssistant) -> None:
    """An event an automation fired, or one an older or newer version recorded:
    whatever its data, it gets a line of text, never an error (the logbook
    would drop the row and log a traceback)."""
    describe = await async_logbook(hass)
    named = st.fixed_dictionaries(
        {"name": st.text(max_size=10), "kind": st.sampled_from([*Noun, "ghost"])}
    )
    fields: dict[str, st.SearchStrategy[Any]] = {
        "name": st.text(max_size=10),
        "kind": st.sampled_from([*Noun, "ghost"]),
        "entity_id": st.just(JELLYFIN),
        "action": st.sampled_from([*PowerAction, "teleport"]),
        "step": st.sampled_from([*Step, "leap"]),
        "result": st.sampled_from([*Result, "maybe"]),
        "reason": st.sampled_from([*ReasonKind, "why"]),
        "cause": named,
        "waiting_for": st.lists(named, max_size=3),
        "managed": st.lists(st.text(max_size=8), max_size=3),
        "unmanaged": st.lists(st.text(max_size=8), max_size=3),
        "platforms": st.lists(st.text(max_size=8), max_size=3),
        "error": st.text(max_size=20),
        "translation_key": st.sampled_from(["timeout", "cannot_connect", "nope"]),
        "translation_placeholders": st.dictionaries(
            st.sampled_from(["name", "message", "error"]), st.text(max_size=8)
        ),
        "activity": st.lists(
            st.fixed_dictionaries(
                {"kind": st.sampled_from([*AwakeKind, "ghost"])},
                optional={"subject": hostile_values, "value": hostile_values},
            ),
            max_size=2,
        ),
        "idle_minutes": st.integers(),
    }
    events = st.fixed_dictionaries(
        {},
        optional={key: value | hostile_values for key, value in fields.items()},
    )
    seen = 0

    @given(data=events | hostile_values)
    @settings(max_examples=400, deadline=None)
    def any_event(data: Any) -> None:
        nonlocal seen
        seen += 1
        data = data if isinstance(data, dict) else {"result": data}
        line = describe(data)
        assert all(isinstance(value, str) for value in line.values())
        if PowerEvent.from_data(data) is not None:  # one this version knows
            assert line["message"]

    any_event()
    assert seen >= 400
