"""What keeps an unauthenticated link from becoming a way to hurt the lab.

- `StartLimit`: starts per resource and per hour. A burst of hits is one start
  anyway (the power manager joins a start under way); this caps the starts a
  link can cause when each one fails or is stopped again at once.
- `MissThrottle`: a wrong token (or a link refused to a remote client) is
  answered later and later from the same address, so guessing costs time.
"""

from __future__ import annotations

from collections import OrderedDict, deque
import time

HOUR = 3600.0

# Misses answered at once from one address before answers slow down, the extra
# delay of each further miss, and the most any answer waits.
FREE_MISSES = 5
MISS_DELAY = 0.2
MAX_MISS_DELAY = 5.0
# A quiet address is forgiven after this long; this many addresses are followed.
MISS_MEMORY = 600.0
MAX_ADDRESSES = 4096


class StartLimit:
    """Starts of each resource in the last hour."""

    def __init__(self) -> None:
        self._starts: dict[str, deque[float]] = {}

    def allow(self, key: str, per_hour: int, now: float | None = None) -> bool:
        """Whether one more start is allowed now; if so, it is counted."""
        now = time.monotonic() if now is None else now
        starts = self._starts.setdefault(key, deque())
        while starts and now - starts[0] >= HOUR:
            starts.popleft()
        if len(starts) >= per_hour:
            return False
        starts.append(now)
        return True


class MissThrottle:
    """How long to wait before answering a miss from an address."""

    def __init__(self) -> None:
        self._misses: OrderedDict[str, tuple[int, float]] = OrderedDict()

    def miss(self, address: str, now: float | None = None) -> float:
        """Count a miss from `address`; return the seconds to wait before answering."""
        now = time.monotonic() if now is None else now
        count, last = self._misses.pop(address, (0, now))
        if now - last > MISS_MEMORY:
            count = 0
        count += 1
        self._misses[address] = (count, now)
        while len(self._misses) > MAX_ADDRESSES:
            self._misses.popitem(last=False)
        extra = count - FREE_MISSES
        return 0.0 if extra <= 0 else min(MAX_MISS_DELAY, extra * MISS_DELAY)
