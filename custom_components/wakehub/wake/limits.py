"""What keeps an unauthenticated link from becoming a way to hurt the lab.

- `StartLimit`: starts per resource and per hour. A burst of hits is one start
  anyway (the power manager joins a start under way); this caps the starts a
  link can cause when each one fails or is stopped again at once.
- `MissThrottle`: a wrong token (or a link refused to a remote client) is
  answered later and later from the same address, one answer after the other,
  so guessing costs time whether the guesses are sent in a row or side by side.
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
# An address whose answers are queued this far ahead is not even looked up: it
# is answered "not found" after MAX_MISS_DELAY, right token or not, so sending
# more guesses side by side checks none of them.
MAX_QUEUE = 60.0


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
    """When to answer a miss from an address.

    The answers to one address's misses are queued: each waits for the one
    before it, then for its own delay. Guesses sent side by side would
    otherwise all wait at once, and ten cost the time of one.
    """

    def __init__(self) -> None:
        #: Per address: misses counted, when the last came, when the last
        #: queued answer goes out.
        self._misses: OrderedDict[str, tuple[int, float, float]] = OrderedDict()

    def flooded(self, address: str, now: float | None = None) -> bool:
        """Whether `address` has answers queued past MAX_QUEUE: its request is
        answered "not found" without a look at its token."""
        now = time.monotonic() if now is None else now
        _, _, answered = self._misses.get(address, (0, now, now))
        return answered - now > MAX_QUEUE

    def miss(self, address: str, now: float | None = None) -> float:
        """Count a miss from `address`; return the seconds to wait before answering."""
        now = time.monotonic() if now is None else now
        count, last, answered = self._misses.pop(address, (0, now, now))
        if now - last > MISS_MEMORY:
            count = 0
        count += 1
        extra = count - FREE_MISSES
        delay = 0.0 if extra <= 0 else min(MAX_MISS_DELAY, extra * MISS_DELAY)
        answer_at = max(now, answered) + delay
        self._misses[address] = (count, now, answer_at)
        while len(self._misses) > MAX_ADDRESSES:
            self._misses.popitem(last=False)
        return answer_at - now
