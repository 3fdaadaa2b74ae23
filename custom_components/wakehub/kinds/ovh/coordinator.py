"""The account's coordinator: a fast cycle, and a slow one inside it."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import replace
import datetime as dt
import logging

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr, issue_registry as ir
from homeassistant.util import dt as dt_util

from ...action_errors import needs_reauth
from ...api.errors import (
    WakeHubError,
)
from ...api.ovh import OvhClient, VpsDetails, VpsState
from ...api.ovh.error_map import ServiceExpired
from ...const import DOMAIN
from ...coordinator import WakeHubCoordinator
from ...state import ResourceState
from .const import (
    CONF_ENDPOINT,
    CONF_LOW_DISK_THRESHOLD,
    DEFAULT_LOW_DISK_THRESHOLD,
    DEFAULT_SCAN_INTERVAL,
    SLOW_INTERVAL,
    expired_issue_id,
    manager_url,
)
from .manager.data import VpsManagerData
from .manager.low_disk import async_sync_low_disk_issues
from .manager.poller import VpsManagerPoller
from .state import OvhVpsState

_LOGGER = logging.getLogger(__name__)


class OvhCoordinator(WakeHubCoordinator):
    """Polls every chosen VPS of one account: fast cycle, slow cycle inside."""

    can_reauth = True

    def __init__(
        self, hass: HomeAssistant, entry: ConfigEntry, client: OvhClient
    ) -> None:
        super().__init__(hass, entry, default_interval=DEFAULT_SCAN_INTERVAL)
        self.client = client
        self.services: list[str] = []
        #: Each VPS's name (its subentry's title), for repair issues.
        self.names: dict[str, str] = {}
        self.states: dict[str, VpsState] = {}
        self.details: dict[str, VpsDetails] = {}
        endpoint = entry.data.get(CONF_ENDPOINT, "")
        #: Backups, storage, monitoring, disks, offers: each on its own cycle.
        self.manager = VpsManagerPoller(
            client, manager_url=lambda service: manager_url(endpoint, service)
        )
        self._slow_due: dt.datetime | None = None
        self._stale: set[str] = set()

    def mark_stale(self, service: str) -> None:
        """Read this VPS's slow-cycle data again at the next refresh (after an
        action that changes it: snapshot, rebuild, backup, storage...)."""
        self._stale.add(service)
        self.manager.mark_stale(service)

    async def _async_update_data(self) -> dict[str, ResourceState]:
        if not self.services:
            return {}
        fast = await self.client.fast_poll(self.services)
        self._check_errors(fast)
        ok = {sn: r for sn, r in fast.items() if isinstance(r, VpsState)}
        self.states = ok
        now = dt_util.utcnow()
        if self._slow_due is None or now >= self._slow_due:
            due = list(ok)
            self._slow_due = now + SLOW_INTERVAL
        else:
            due = [sn for sn in ok if sn in self._stale]
        if due:
            await self._slow_cycle(due, now)
        manager = await self.manager.async_update(
            ok,
            now,
            memory_mb={
                sn: model.memory if (model := state.info.model) else None
                for sn, state in ok.items()
            },
        )
        threshold = self.low_disk_threshold
        for service, data in manager.items():
            async_sync_low_disk_issues(
                self.hass,
                entry_id=self.config_entry.entry_id,
                service=service,
                name=self.names.get(service, service),
                data=data,
                threshold=threshold,
            )
        return {
            sn: OvhVpsState(
                status=state.status,
                vps=state,
                details=self.details.get(sn),
                manager=manager.get(sn) or VpsManagerData(),
                low_disk_threshold=threshold,
            )
            for sn, state in ok.items()
        }

    def one_reader(self, key: str) -> Callable[[], Awaitable[ResourceState]] | None:
        """One VPS alone: its state and running tasks (its other parts stay)."""
        polled = self.data.get(key) if self.data else None
        if not isinstance(polled, OvhVpsState):
            return None

        async def read() -> ResourceState:
            vps = await self.client.poll_vps(key)
            return replace(polled, status=vps.status, vps=vps)

        return read

    @property
    def low_disk_threshold(self) -> float:
        """Percent used from which a disk is low on space (entry option)."""
        return float(
            self.config_entry.options.get(
                CONF_LOW_DISK_THRESHOLD, DEFAULT_LOW_DISK_THRESHOLD
            )
        )

    def _check_errors(self, fast: Mapping[str, VpsState | WakeHubError]) -> None:
        """Auth failures start a reauth; expired services raise a repair issue."""
        errors: dict[str, WakeHubError] = {}
        for sn, result in fast.items():
            if isinstance(result, VpsState):
                ir.async_delete_issue(
                    self.hass, DOMAIN, expired_issue_id(self.config_entry, sn)
                )
                continue
            errors[sn] = result
            if isinstance(result, ServiceExpired):
                self._expired_issue(sn, result)
            _LOGGER.debug("%s: VPS %s not polled: %s", self.name, sn, result)
        # The consumer key covers every VPS: refused or short of rights on one,
        # it needs replacing for all.
        if auth := next((e for e in errors.values() if needs_reauth(e)), None):
            raise self.poll_failed(auth) from auth
        if errors and len(errors) == len(fast):
            first = next(iter(errors.values()))
            raise self.poll_failed(first) from first

    def _expired_issue(self, service: str, err: ServiceExpired) -> None:
        ir.async_create_issue(
            self.hass,
            DOMAIN,
            expired_issue_id(self.config_entry, service),
            is_fixable=False,
            severity=ir.IssueSeverity.ERROR,
            translation_key="ovh_service_expired",
            translation_placeholders={"service": service, "message": err.message},
            learn_more_url=manager_url(
                self.config_entry.data.get("endpoint", ""), service
            ),
        )

    async def _slow_cycle(self, services: list[str], now: dt.datetime) -> None:
        async def one(service: str) -> None:
            try:
                details = await self.client.get_details(service)
            except WakeHubError as err:
                # Slow data changes rarely: keep the last one, try again next cycle.
                _LOGGER.debug("%s: no details for %s: %s", self.name, service, err)
                self._stale.add(service)
                return
            self._stale.discard(service)
            self.details[service] = details
            self._update_device(service, details)

        await asyncio.gather(*(one(sn) for sn in services))

    def _update_device(self, service: str, details: VpsDetails) -> None:
        """Keep the device's system image current (a rebuild changes it)."""
        image = details.image.name if details.image else None
        registry = dr.async_get(self.hass)
        for device in dr.async_entries_for_config_entry(
            registry, self.config_entry.entry_id
        ):
            if (DOMAIN, service) in device.identifiers and image != device.sw_version:
                registry.async_update_device(device.id, sw_version=image)
