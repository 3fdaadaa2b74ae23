"""A large entry: polls tell listeners in chunks, letting the event loop breathe."""

from __future__ import annotations

import logging

from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.wakehub.coordinator import LISTENER_CHUNK, WakeHubCoordinator


def _coordinator(entry: MockConfigEntry) -> WakeHubCoordinator:
    coordinator: WakeHubCoordinator = entry.runtime_data.coordinator
    return coordinator


async def test_many_listeners_told_in_chunks(
    hass: HomeAssistant, init_pve: MockConfigEntry
) -> None:
    """Every listener hears of a poll once, and the loop runs other callbacks
    between chunks of listeners."""
    coordinator = _coordinator(init_pve)
    order: list[str] = []
    count = 3 * LISTENER_CHUNK + 10

    def listener(index: int) -> None:
        order.append(f"listener {index}")
        if index == 0:
            hass.loop.call_soon(order.append, "other callback")

    unsubscribes = [
        coordinator.async_add_listener(lambda i=i: listener(i)) for i in range(count)
    ]

    await coordinator.async_refresh()
    # The first chunk is told within the poll, the rest after it.
    told = [entry for entry in order if entry.startswith("listener")]
    assert 0 < len(told) < count
    await hass.async_block_till_done()

    told = [entry for entry in order if entry.startswith("listener")]
    assert told == [f"listener {i}" for i in range(count)]
    other = order.index("other callback")
    # The other callback ran before the last chunk, after the first one.
    assert order.index("listener 0") < other < order.index(f"listener {count - 1}")
    for unsubscribe in unsubscribes:
        unsubscribe()


async def test_few_listeners_told_at_once(
    hass: HomeAssistant, init_pve: MockConfigEntry
) -> None:
    """A small entry's listeners are all told within the poll itself."""
    coordinator = _coordinator(init_pve)
    told: list[int] = []
    for i in range(10):
        coordinator.async_add_listener(lambda i=i: told.append(i))
    await coordinator.async_refresh()
    assert told == list(range(10))


async def test_newer_data_replaces_the_chunks_left(
    hass: HomeAssistant, init_pve: MockConfigEntry
) -> None:
    """Data set again before every listener was told: each listener is told of
    the newer data once, and the older chunks left are dropped."""
    coordinator = _coordinator(init_pve)
    seen: dict[int, list[object]] = {}
    count = 2 * LISTENER_CHUNK
    for i in range(count):
        coordinator.async_add_listener(
            lambda i=i: seen.setdefault(i, []).append(coordinator.data)
        )
    older = dict(coordinator.data)
    newer = dict(coordinator.data)
    coordinator.async_set_updated_data(older)
    coordinator.async_set_updated_data(newer)
    await hass.async_block_till_done()
    assert len(seen) == count
    assert all(told[-1] is newer for told in seen.values())
    assert sum(data is newer for told in seen.values() for data in told) == count
    # Only the first chunk heard of the older data.
    heard_older = sum(data is older for told in seen.values() for data in told)
    assert 0 < heard_older <= LISTENER_CHUNK


async def test_listener_removed_or_failing_meanwhile(
    hass: HomeAssistant,
    init_pve: MockConfigEntry,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A listener removed before its chunk is not told; one that fails does not
    keep the others from being told."""
    coordinator = _coordinator(init_pve)
    told: list[int] = []
    count = 2 * LISTENER_CHUNK

    def fail() -> None:
        raise RuntimeError("listener broke")

    coordinator.async_add_listener(fail)
    unsubscribes = [
        coordinator.async_add_listener(lambda i=i: told.append(i)) for i in range(count)
    ]
    with caplog.at_level(logging.ERROR):
        await coordinator.async_refresh()
        unsubscribes[-1]()
        await hass.async_block_till_done()
    assert told == list(range(count - 1))
    assert "Unexpected error updating listener" in caplog.text
