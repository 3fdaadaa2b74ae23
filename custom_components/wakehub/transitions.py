"""Changes under way: what the status and progress sensors show meanwhile.

While a start, stop or reboot runs, a resource's status sensor shows the change
(`starting`, or `waiting` while something else must happen first) rather than the
last polled state, and its progress sensor says what it waits for (progress.py).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
import contextlib
from dataclasses import dataclass, field
from datetime import datetime

from homeassistant.core import HomeAssistant
from homeassistant.helpers.dispatcher import async_dispatcher_send
from homeassistant.util import dt as dt_util

from .api.models import ResourceStatus
from .const import DOMAIN
from .power_events import PowerAction, Step

SIGNAL_TRANSITION = f"{DOMAIN}_transition"


@dataclass(frozen=True)
class Transition:
    """A change under way, shown by the status sensor instead of the polled state."""

    status: ResourceStatus
    action: PowerAction
    #: What the change is waiting for (names of dependencies, or the platform).
    waiting_for: tuple[str, ...] = ()
    phase: Step = Step.COMMAND
    #: Keys of the resources named in `waiting_for`, when they are resources.
    waiting_keys: tuple[str, ...] = ()
    #: When this phase began.
    since: datetime = field(default_factory=dt_util.utcnow)

    @property
    def shown_status(self) -> ResourceStatus:
        """`waiting` while something else must happen first, else the change."""
        if self.phase in (Step.DEPENDENCIES, Step.PLATFORM):
            return ResourceStatus.WAITING
        return self.status

    @property
    def starts(self) -> bool:
        return self.action in (PowerAction.START, PowerAction.START_ALONE)


class Transitions:
    """The changes under way, by resource key; entities hear of every change."""

    def __init__(self, hass: HomeAssistant) -> None:
        self._hass = hass
        self._shown: dict[str, Transition] = {}

    def get(self, key: str) -> Transition | None:
        return self._shown.get(key)

    def set(self, key: str, transition: Transition | None) -> None:
        if transition is None:
            self._shown.pop(key, None)
        else:
            self._shown[key] = transition
        async_dispatcher_send(self._hass, f"{SIGNAL_TRANSITION}_{key}")
        # Progress texts name what lies underneath ("waiting for pve1: ..."):
        # every one of them may change with this resource's transition.
        async_dispatcher_send(self._hass, SIGNAL_TRANSITION)

    def move_to(
        self,
        key: str,
        phase: Step,
        *,
        waiting_for: tuple[str, ...] = (),
        waiting_keys: tuple[str, ...] = (),
    ) -> None:
        """The change under way on `key` enters `phase` (if one is under way)."""
        if (current := self._shown.get(key)) is not None:
            self.set(
                key,
                Transition(
                    current.status, current.action, waiting_for, phase, waiting_keys
                ),
            )

    @contextlib.asynccontextmanager
    async def showing(self, key: str, transition: Transition) -> AsyncIterator[None]:
        """Show `transition` on `key` for as long as the block runs."""
        self.set(key, transition)
        try:
            yield
        finally:
            self.set(key, None)
