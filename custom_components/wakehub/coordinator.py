"""The base data update coordinator: one per server entry.

Each coordinator's data maps `Resource.key` to the `ResourceState` of every
resource of its entry, so the entities of every kind read the same shape.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from datetime import timedelta
import logging

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant, callback
from homeassistant.exceptions import ConfigEntryNotReady
from homeassistant.helpers.update_coordinator import DataUpdateCoordinator

from .const import CONF_SCAN_INTERVAL, DEFAULT_SCAN_INTERVAL, DOMAIN
from .hosting import LinkTarget, Workload
from .state import ResourceState

_LOGGER = logging.getLogger(__name__)

#: How many listeners (about one per entity) are told of a poll before the
#: event loop may run something else. Each one writes an entity's state (about
#: 30 µs), so a chunk blocks the loop for a few milliseconds.
LISTENER_CHUNK = 250


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
        #: The listeners of the last poll still being told, chunk by chunk.
        self._telling: asyncio.Task[None] | None = None

    @callback
    def async_update_listeners(self) -> None:
        """Tell every listener of new data, yielding to the loop between chunks.

        Home Assistant tells every listener in one callback: with thousands of
        entities (a large cluster), that one callback would block the event
        loop for hundreds of milliseconds at every poll. Past `LISTENER_CHUNK`
        listeners, the rest are told in chunks, letting the loop run other
        callbacks in between; a smaller entry is told at once, as before. A
        newer update cancels the remaining chunks of an older one, since it
        tells every listener of the newer data.
        """
        if self._telling is not None:
            self._telling.cancel()
            self._telling = None
        ids = list(self._listeners)
        self._tell(ids[:LISTENER_CHUNK])
        if len(ids) > LISTENER_CHUNK:
            # A tracked task, so that waiting for Home Assistant to be idle
            # waits for every listener to be told.
            self._telling = self.config_entry.async_create_task(
                self.hass,
                self._tell_in_chunks(ids[LISTENER_CHUNK:]),
                f"{self.name} listeners",
                eager_start=False,
            )

    async def _tell_in_chunks(self, ids: list[int]) -> None:
        for start in range(0, len(ids), LISTENER_CHUNK):
            await asyncio.sleep(0)
            self._tell(ids[start : start + LISTENER_CHUNK])
        self._telling = None

    @callback
    def _tell(self, ids: Sequence[int]) -> None:
        for listener_id in ids:
            # A listener removed meanwhile (its entity went away) is skipped.
            if (listener := self._listeners.get(listener_id)) is None:
                continue
            try:
                listener[0]()
            except Exception:
                self.logger.exception(
                    "Unexpected error updating listener %s for %s",
                    id(listener[0]),
                    self.name,
                )

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
