"""Start cap and slowed misses, on their own clock."""

from __future__ import annotations

import pytest

from custom_components.wakehub.wake.limits import (
    FREE_MISSES,
    MAX_ADDRESSES,
    MAX_MISS_DELAY,
    MAX_QUEUE,
    MISS_DELAY,
    MISS_MEMORY,
    MissThrottle,
    StartLimit,
)
from custom_components.wakehub.wake.tokens import find_resource


def test_start_cap_is_per_resource_and_per_hour() -> None:
    limit = StartLimit()
    assert [limit.allow("a", 2, now=t) for t in (0, 1, 2)] == [True, True, False]
    assert limit.allow("b", 2, now=2)
    assert not limit.allow("a", 2, now=3599)
    assert limit.allow("a", 2, now=3600)


def test_misses_are_answered_later_and_later() -> None:
    """A guesser who waits for each answer before the next guess."""
    throttle = MissThrottle()
    delays: list[float] = []
    now = 0.0
    for _ in range(FREE_MISSES + 40):
        delays.append(throttle.miss("10.0.0.9", now=now))
        now += delays[-1] + 0.01
    assert delays[:FREE_MISSES] == [0.0] * FREE_MISSES
    assert 0 < delays[FREE_MISSES] < delays[FREE_MISSES + 3]
    assert max(delays) == pytest.approx(MAX_MISS_DELAY)
    # Another address is not slowed; a quiet one is forgiven.
    assert throttle.miss("10.0.0.8", now=now) == 0.0
    assert throttle.miss("10.0.0.9", now=now + MISS_MEMORY + 1) == 0.0
    # Memory stays bounded.
    for i in range(MAX_ADDRESSES + 10):
        throttle.miss(f"a{i}", now=100)
    assert len(throttle._misses) == MAX_ADDRESSES


def test_misses_side_by_side_are_answered_one_after_the_other() -> None:
    """Guesses sent at once wait for each other: ten cost the sum of their
    delays, not the longest; past MAX_QUEUE the address is not even looked up."""
    throttle = MissThrottle()
    for _ in range(FREE_MISSES):
        throttle.miss("10.0.0.9", now=0)
    waits = [throttle.miss("10.0.0.9", now=0) for _ in range(10)]
    assert waits == sorted(waits)
    assert waits[-1] == pytest.approx(sum(k * MISS_DELAY for k in range(1, 11)))
    assert not throttle.flooded("10.0.0.9", now=0)
    while not throttle.flooded("10.0.0.9", now=0):
        throttle.miss("10.0.0.9", now=0)
    assert throttle.flooded("10.0.0.9", now=0)
    assert not throttle.flooded("10.0.0.9", now=MAX_QUEUE * 2)
    assert not throttle.flooded("10.0.0.8", now=0)


def test_nothing_is_found_for_an_empty_or_long_token() -> None:
    assert find_resource([], "") is None
    assert find_resource([], "x" * 129) is None
