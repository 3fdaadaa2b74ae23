"""The base data update coordinator: one per server entry.

Each coordinator's data maps `Resource.key` to the `ResourceState` of every
resource of its entry, so the entities of every kind read the same shape.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
import logging

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ConfigEntryNotReady
from homeassistant.helpers.update_coordinator import DataUpdateCoordinator
from homeassistant.util import dt as dt_util

from .const import CONF_SCAN_INTERVAL, DEFAULT_SCAN_INTERVAL, DOMAIN
from .hosting import LinkTarget, Workload
from .state import ResourceState

_LOGGER = logging.getLogger(__name__)


class WakeHubCoordinator(DataUpdateCoordinator[dict[str, ResourceState]]):
    """Base of every kind's coordinator."""

    config_entry: ConfigEntry

    def __init__(
        self,
        hass: HomeAssistant,
        entry: ConfigEntry,
        *,
        default_interval: float = DEFAULT_SCAN_INTERVAL,
    ) -> None:
        super().__init__(
            hass,
            _LOGGER,
            config_entry=entry,
            name=f"{DOMAIN} {entry.title}",
            update_interval=timedelta(
                seconds=entry.options.get(CONF_SCAN_INTERVAL, default_interval)
            ),
        )

    #: Whether the last poll failed too (set when each poll ends).
    _failing = False
    #: When a poll last succeeded (asleep.py: did the host boot since?).
    last_success_at: datetime | None = None

    def _async_refresh_finished(self) -> None:
        if self.last_update_success:
            self.last_success_at = dt_util.utcnow()
        # Home Assistant tells the entities of a failure only when it begins.
        # While a server keeps failing, what they show can still change (a
        # server asleep with its host shows its resources stopped until its
        # start-up time runs out: asleep.py), so tell them at every failed poll;
        # they write only what changed.
        elif self._failing:
            self.async_update_listeners()
        self._failing = not self.last_update_success

    def hosted_workloads(self) -> Mapping[str, Sequence[Workload]]:
        """What runs, at the last poll, on each resource this server runs on.

        Keyed by host link (registry id of the host's power switch); a linked
        host with nothing running maps to an empty list. Kinds whose servers run
        on a WakeHub resource override this; the others run on nothing.
        """
        return {}

    def link_targets(self) -> Sequence[LinkTarget]:
        """The parts of this server that run on a host, to propose links for."""
        return ()


async def async_first_refresh(
    coordinator: WakeHubCoordinator, *, may_be_off: bool
) -> None:
    """The first poll of an entry being set up.

    Normally a server that does not answer delays the setup (ConfigEntryNotReady),
    as in any integration. But a server that runs on a resource WakeHub powers
    (a Proxmox node linked to a machine, a Docker engine linked to its VM) is
    expected to be off: its entry loads anyway, with its entities unavailable, so
    that turning one of them on can wake what it runs on. Refused credentials
    still start reauthentication.
    """
    try:
        await coordinator.async_config_entry_first_refresh()
    except ConfigEntryNotReady:
        if not may_be_off:
            raise
        _LOGGER.info(
            "%s does not answer; it runs on a resource WakeHub powers, so it is set up "
            "as off",
            coordinator.config_entry.title,
        )
