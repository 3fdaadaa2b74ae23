"""The base data update coordinator: one per server entry.

Each coordinator's data maps `Resource.key` to the `ResourceState` of every
resource of its entry, so the entities of every kind read the same shape.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import datetime, timedelta
import logging

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant, callback
from homeassistant.exceptions import ConfigEntryAuthFailed, ConfigEntryNotReady
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.update_coordinator import DataUpdateCoordinator, UpdateFailed
from homeassistant.util import dt as dt_util

from .action_errors import update_failed
from .api.errors import CannotConnect, CertificateError, WakeHubError
from .const import (
    CONF_FINGERPRINT,
    CONF_SCAN_INTERVAL,
    DEFAULT_SCAN_INTERVAL,
    DOMAIN,
    PROBE_INTERVAL,
)
from .hosting import LinkTarget, Workload, entry_host_links
from .state import ResourceState

_LOGGER = logging.getLogger(__name__)

#: How many listeners (about one per entity) are told of a poll before the
#: event loop may run something else. Each one writes an entity's state (about
#: 30 µs), so a chunk blocks the loop for a few milliseconds.
LISTENER_CHUNK = 250


#: The repair of an entry whose server's pinned certificate changed.
CERTIFICATE_ISSUE_PREFIX = "certificate_changed_"


def certificate_issue_id(entry: ConfigEntry) -> str:
    return f"{CERTIFICATE_ISSUE_PREFIX}{entry.entry_id}"


class WakeHubCoordinator(DataUpdateCoordinator[dict[str, ResourceState]]):
    """Base of every kind's coordinator."""

    config_entry: ConfigEntry
    #: Whether refused credentials start reauthentication (kinds with a reauth flow).
    can_reauth = False

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

    # -- one resource in transition ------------------------------------------------

    def probe_pause(self, state: ResourceState | None) -> float:
        """Seconds before probing again a changing resource last probed in
        `state` (async_wait_until)."""
        return PROBE_INTERVAL.total_seconds()

    def one_reader(self, key: str) -> Callable[[], Awaitable[ResourceState]] | None:
        """How to ask the platform about the resource `key` alone (one request),
        or None when this kind cannot (its probes then poll everything)."""
        return None

    async def async_probe(self, key: str) -> tuple[ResourceState | None, bool]:
        """The state of the one resource `key` while it changes, None when the
        platform did not say; and whether it was asked about alone (its
        entities are not told yet: see async_wait_until).

        A start or stop is probed every PROBE_INTERVAL: polling the whole
        server for it would re-read every resource, rewrite every entity and
        rerun everything that listens to polls, for one resource. A probe asks
        about that resource alone. A kind that cannot, a server that failed its
        last poll, or a probe that fails, fall back to a full poll (which says
        what went wrong).
        """
        reader = self.one_reader(key)
        if reader is not None and self.data is not None and self.last_update_success:
            try:
                return await reader(), True
            except WakeHubError as err:
                _LOGGER.debug("Probe of %s failed, polling: %s", key, err)
        await self.async_refresh()
        return (self.data.get(key) if self.data else None), False

    async def async_wait_until(
        self, key: str, reached: Callable[[ResourceState | None], bool]
    ) -> None:
        """Probe the resource `key` until its state has `reached` the end of its
        change, showing each probe on its entities only; then poll everything
        once (unless that last probe was a full poll). That poll shows the end
        on every entity at once, with what depends on it (the idle detector,
        the rest of its server).
        """
        while True:
            state, alone = await self.async_probe(key)
            if reached(state):
                break
            if alone and state is not None and self.data is not None:
                self.data = {**self.data, key: state}
                self._tell(
                    [i for i, (_, context) in self._listeners.items() if context == key]
                )
            await asyncio.sleep(self.probe_pause(state))
        if alone:
            await self.async_refresh()

    #: Whether the last poll failed too (set when each poll ends).
    _failing = False
    #: When a poll last succeeded (asleep.py: did the host boot since?).
    last_success_at: datetime | None = None
    #: Whether the server sleeps with what it runs on, decided after each poll
    #: (asleep.py), and when every host was last seen stopped (monotonic).
    asleep = False
    asleep_seen_at: float | None = None

    @property
    def may_be_off(self) -> bool:
        """Whether its server runs on a resource WakeHub powers (its entry is
        linked to a host), and so is expected not to answer at times."""
        return bool(entry_host_links(self.config_entry))

    def poll_failed(self, err: WakeHubError) -> UpdateFailed | ConfigEntryAuthFailed:
        """What a failed poll raises (action_errors.update_failed).

        A server that no longer presents the certificate pinned for it is also
        a repair: a pin is never replaced silently, and the user decides
        whether the change is theirs (its fix pins the certificate it shows:
        repairs.py).

        A server that `may_be_off` stops answering whenever its host sleeps,
        every night perhaps: that is no error. Its going silent is logged once
        at INFO (as Home Assistant asks of a device that becomes unavailable),
        not as the coordinator's ERROR, which it logs only for a poll that
        fails after one that succeeded.
        """
        title = self.config_entry.title
        if (
            isinstance(err, CannotConnect)
            and not isinstance(err, CertificateError)  # it answers: a repair
            and self.last_update_success
            and self.data is not None  # the first poll: async_first_refresh says it
            and self.may_be_off
        ):
            _LOGGER.info(
                "%s does not answer (%s); it runs on a resource WakeHub powers, "
                "which may be off",
                title,
                err,
            )
            self.last_update_success = False
        pinned = self.config_entry.data.get(CONF_FINGERPRINT)
        if isinstance(err, CertificateError) and err.fingerprint and pinned:
            ir.async_create_issue(
                self.hass,
                DOMAIN,
                certificate_issue_id(self.config_entry),
                is_fixable=True,
                is_persistent=False,
                severity=ir.IssueSeverity.ERROR,
                data={
                    "entry_id": self.config_entry.entry_id,
                    "fingerprint": err.fingerprint,
                },
                translation_key="certificate_changed",
                translation_placeholders={
                    "name": self.config_entry.title,
                    "fingerprint": err.fingerprint,
                    "previous": str(pinned),
                },
            )
        return update_failed(err, title, can_reauth=self.can_reauth)

    def _async_refresh_finished(self) -> None:
        if self.last_update_success:
            self.last_success_at = dt_util.utcnow()
            ir.async_delete_issue(
                self.hass, DOMAIN, certificate_issue_id(self.config_entry)
            )
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


class ClientCoordinator[ClientT](WakeHubCoordinator):
    """A coordinator that talks to its server through one client, built once
    by the kind's setup (a machine's is built per use: its pinned key may
    change). `client` keeps the client's own type in each kind."""

    def __init__(
        self,
        hass: HomeAssistant,
        entry: ConfigEntry,
        client: ClientT,
        *,
        default_interval: float = DEFAULT_SCAN_INTERVAL,
    ) -> None:
        super().__init__(hass, entry, default_interval=default_interval)
        self.client: ClientT = client


async def async_first_refresh(coordinator: WakeHubCoordinator) -> None:
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
        if not coordinator.may_be_off:
            raise
        _LOGGER.info(
            "%s does not answer; it runs on a resource WakeHub powers, so it is set up "
            "as off",
            coordinator.config_entry.title,
        )
