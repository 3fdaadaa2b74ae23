"""When to read a platform task again while an action waits for it.

One rule for every platform (Proxmox UPIDs, OVH tasks): read often at first,
since most tasks end within seconds and a user is watching, then less and less
often, up to a bound, since a task that runs for minutes (a backup-locked guest's
shutdown, an OVH reinstall) would otherwise cost hundreds of requests.

With the defaults: every 0.25 s for the first 2 s, then each wait 1.5 times the
last, at most 5 s. A 1 s task is seen done within 0.25 s of its end; a 60 s task
costs 29 status requests (it was 239 at a fixed 0.25 s).

No Home Assistant import: the clients in this package use it.
"""

from __future__ import annotations

from asyncio import sleep
from collections.abc import Iterator
from time import monotonic

#: The wait between reads while the task is young (seconds).
FIRST_DELAY = 0.25
#: How long the task is read every FIRST_DELAY (seconds).
FAST_FOR = 2.0
#: Each later wait is the previous one times this...
GROWTH = 1.5
#: ...up to this (seconds).
MAX_DELAY = 5.0


def task_delays(first: float = FIRST_DELAY) -> Iterator[float]:
    """The waits between two reads of a task, in seconds (endless)."""
    waited = 0.0
    while waited < FAST_FOR:
        yield first
        waited += first
    delay = first
    while True:
        delay = min(delay * GROWTH, MAX_DELAY)
        yield delay


class TaskPace:
    """Paces the reads of one task until a deadline `timeout` seconds from now."""

    def __init__(self, timeout: float, first: float = FIRST_DELAY) -> None:
        self._deadline = monotonic() + timeout
        self._delays = task_delays(first)

    async def wait(self) -> bool:
        """Wait until the next read; False once the deadline has passed.

        The last wait ends at the deadline, so a task is read once more then.
        """
        remaining = self._deadline - monotonic()
        if remaining <= 0:
            return False
        await sleep(min(next(self._delays), remaining))
        return True
