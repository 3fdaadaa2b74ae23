"""The account's coordinator: a fast cycle, and a slow one inside it."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
import datetime as dt
import logging

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr, issue_registry as ir
from homeassistant.util import dt as dt_util

from ...action_errors import needs_reauth, update_failed
from ...api.errors import (
    WakeHubError,
)
from ...api.ovh import OvhClient, VpsDetails, VpsState
from ...api.ovh.error_map import ServiceExpired
from ...const import DOMAIN
from ...coordinator import WakeHubCoordinator
from ...state import ResourceState
from .const import (
    DEFAULT_SCAN_INTERVAL,
    SLOW_INTERVAL,
    USAGE_RETRY,
    expired_issue_id,
    manager_url,
)
from .state import OvhVpsState, usage_figures

_LOGGER = logging.getLogger(__name__)


class OvhCoordinator(WakeHubCoordinator):
    """Polls every chosen VPS of one account: fast cycle, slow cycle inside."""

    def __init__(
        self, hass: HomeAssistant, entry: ConfigEntry, client: OvhClient
    ) -> None:
        super().__init__(hass, entry, default_interval=DEFAULT_SCAN_INTERVAL)
        self.client = client
        self.services: list[str] = []
        self.states: dict[str, VpsState] = {}
        self.details: dict[str, VpsDetails] = {}
        self._slow_due: dt.datetime | None = None
        self._stale: set[str] = set()
        self._usage_retry: dict[str, dt.datetime] = {}

    def mark_stale(self, service: str) -> None:
        """Read this VPS's slow-cycle data again at the next refresh."""
        self._stale.add(service)

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
        return {sn: self._state(sn, state) for sn, state in ok.items()}

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
        title = self.config_entry.title
        # The consumer key covers every VPS: refused or short of rights on one,
        # it needs replacing for all.
        if auth := next((e for e in errors.values() if needs_reauth(e)), None):
            raise update_failed(auth, title, can_reauth=True) from auth
        if errors and len(errors) == len(fast):
            first = next(iter(errors.values()))
            raise update_failed(first, title) from first

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
            retry = self._usage_retry.get(service)
            with_usage = retry is None or now >= retry
            try:
                details = await self.client.get_details(
                    service, include_usage=with_usage
                )
            except WakeHubError as err:
                # Slow data changes rarely: keep the last one, try again next cycle.
                _LOGGER.debug("%s: no details for %s: %s", self.name, service, err)
                self._stale.add(service)
                return
            self._stale.discard(service)
            if with_usage and details.usage is None:
                if retry is None:
                    _LOGGER.debug(
                        "%s: OVH no longer serves usage figures for %s",
                        self.name,
                        service,
                    )
                self._usage_retry[service] = now + USAGE_RETRY
            elif with_usage:
                self._usage_retry.pop(service, None)
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

    def _state(self, service: str, state: VpsState) -> OvhVpsState:
        details = self.details.get(service)
        model = state.info.model
        cpu, memory, net_in, net_out = usage_figures(
            details.usage if details else None, model.memory if model else None
        )
        return OvhVpsState(
            status=state.status,
            cpu=cpu,
            memory=memory,
            network_in=net_in,
            network_out=net_out,
            vps=state,
            details=details,
        )
