"""OVHcloud VPSes: one entry per OVH account, one resource per chosen VPS.

The chosen VPSes are the entry's subentries of type "vps" (unique id: the OVH
service name, which is also the resource key). One coordinator polls them all:

- fast cycle (the polling interval, 60 s by default): the state and the ids of
  running tasks, exactly 2 requests per VPS, many VPSes at once (the client bounds
  the concurrency);
- slow cycle (hourly, timed inside the same coordinator): billing, IPs,
  datacenter, image, snapshot, automated backup and the deprecated `/use` figures.
  A VPS whose snapshot changed (an action) is refreshed at the next cycle alone.

Actions send the OVH call, follow the returned task until it ends (raising its
failure) and mark what they changed for the next refresh.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Coroutine, Mapping
import datetime as dt
import functools
import logging
from typing import Any, Concatenate, Final
from urllib.parse import parse_qs, urlsplit

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import (
    HomeAssistantError,
    ServiceValidationError,
)
from homeassistant.helpers import device_registry as dr, issue_registry as ir
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.helpers.device_registry import DeviceInfo
from homeassistant.util import dt as dt_util

from ..action_errors import needs_reauth, update_failed
from ..api.backoff import FIRST_DELAY
from ..api.errors import (
    ApiError,
    NotFound,
    PermissionDenied,
    WakeHubError,
)
from ..api.ovh import (
    ENDPOINTS,
    OvhClient,
    ServiceExpired,
    Task,
    VpsDetails,
    VpsState,
    VpsUsage,
)
from ..const import DOMAIN
from ..coordinator import WakeHubCoordinator
from ..naming import Noun
from ..resource import (
    Resource,
    ResourceFeature,
    ResourceState,
    Snapshot,
    safety_snapshot_name,
)
from ..runtime import WakeHubRuntimeData

_LOGGER = logging.getLogger(__name__)

CONF_ENDPOINT: Final = "endpoint"
CONF_APPLICATION_KEY: Final = "application_key"
CONF_APPLICATION_SECRET: Final = "application_secret"
CONF_CONSUMER_KEY: Final = "consumer_key"
CONF_FINGERPRINT: Final = "fingerprint"
CONF_SERVICE_NAME: Final = "service_name"
SUBENTRY_VPS: Final = "vps"

DEFAULT_SCAN_INTERVAL: Final = 60
SLOW_INTERVAL: Final = dt.timedelta(hours=1)
# Once OVH stops serving the deprecated `/use` call, ask again once a day only.
USAGE_RETRY: Final = dt.timedelta(hours=24)
# How often a running task is read at first while an action waits for it (then
# less often, by the rule every platform shares: api/backoff.py), and how long.
TASK_POLL_INTERVAL = FIRST_DELAY
TASK_TIMEOUT = 3600.0
# First back-off after a 429 (doubled on each retry, at least OVH's Retry-After).
RETRY_BACKOFF = 1.0

# OVH task types as users read them in the current_task sensor.
_TASK_NAMES: Final[dict[str, str]] = {
    "startVm": "start",
    "stopVm": "stop",
    "rebootVm": "reboot",
    "reinstallVm": "rebuild",
    "createSnapshot": "create snapshot",
    "deleteSnapshot": "delete snapshot",
    "revertSnapshot": "restore snapshot",
    "changeRootPassword": "reset password",
}
IDLE: Final = "idle"

# Where a user manages a VPS in the OVHcloud Control Panel, by API endpoint.
_MANAGER: Final[dict[str, str]] = {
    "ovh-eu": "https://www.ovh.com/manager",
    "ovh-ca": "https://ca.ovh.com/manager",
    "ovh-us": "https://us.ovhcloud.com/manager",
    "kimsufi-eu": "https://www.ovh.com/manager",
    "kimsufi-ca": "https://ca.ovh.com/manager",
    "soyoustart-eu": "https://www.ovh.com/manager",
    "soyoustart-ca": "https://ca.ovh.com/manager",
}


def manager_url(endpoint: str, service: str) -> str:
    """The VPS's page in the OVHcloud Control Panel (EU for a custom API URL)."""
    base = _MANAGER.get(endpoint.strip().lower(), _MANAGER["ovh-eu"])
    return f"{base}/#/dedicated/vps/{service}"


def is_named_endpoint(endpoint: str) -> bool:
    """A real OVH endpoint (always verified), not a full API URL."""
    return endpoint.strip().lower() in ENDPOINTS


def ovh_client(
    hass: HomeAssistant, data: Mapping[str, Any], *, max_retries: int = 3
) -> OvhClient:
    """A client for the credentials in `data` (entry data or flow input)."""
    return OvhClient(
        async_get_clientsession(hass),
        endpoint=data[CONF_ENDPOINT],
        application_key=data[CONF_APPLICATION_KEY],
        application_secret=data[CONF_APPLICATION_SECRET],
        consumer_key=data.get(CONF_CONSUMER_KEY) or None,
        fingerprint=data.get(CONF_FINGERPRINT) or None,
        max_retries=max_retries,
        retry_backoff=RETRY_BACKOFF,
    )


def expired_issue_id(entry: ConfigEntry, service: str) -> str:
    return f"ovh_service_expired_{entry.entry_id}_{service}"


async def async_setup_kind(
    hass: HomeAssistant, entry: ConfigEntry
) -> WakeHubRuntimeData:
    vps_subentries = {
        sub.unique_id: sub
        for sub in entry.subentries.values()
        if sub.subentry_type == SUBENTRY_VPS and sub.unique_id
    }
    coordinator = OvhCoordinator(hass, entry, ovh_client(hass, entry.data))
    coordinator.services = list(vps_subentries)
    await coordinator.async_config_entry_first_refresh()
    resources: list[Resource] = [
        OvhVpsResource(
            key=service,
            name=sub.title,
            coordinator=coordinator,
            entry=entry,
            subentry_id=sub.subentry_id,
        )
        for service, sub in vps_subentries.items()
    ]

    known = (set(entry.subentries), dict(entry.options))

    async def reload_on_change(hass: HomeAssistant, entry: ConfigEntry) -> None:
        # A VPS added or removed from the entry's page, or new options: reload.
        # (Home Assistant forbids update listeners with OptionsFlowWithReload.)
        if (set(entry.subentries), dict(entry.options)) != known:
            hass.config_entries.async_schedule_reload(entry.entry_id)

    entry.async_on_unload(entry.add_update_listener(reload_on_change))
    return WakeHubRuntimeData(coordinator=coordinator, resources=resources)


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

    def _state(self, service: str, state: VpsState) -> ResourceState:
        info = state.info
        details = self.details.get(service)
        extra: dict[str, Any] = {"current_task": _task_text(state)}
        attributes: dict[str, dict[str, Any]] = {
            "status": {"state": info.state, "netboot_mode": info.netboot_mode}
        }
        if state.running_task_ids:
            task = state.current_task
            attributes["current_task"] = {
                "task_id": task.id if task else state.running_task_ids[0],
                "type": task.type if task else None,
                "progress": task.progress if task else None,
            }
        if info.model is not None:
            extra["model"] = info.model.name
            attributes["model"] = {
                "offer": info.model.offer,
                "vcores": info.model.vcore,
                "memory_mb": info.model.memory,
                "disk_gb": info.model.disk,
            }
        cpu = memory = net_in = net_out = None
        if details is not None:
            _fill_details(details, extra, attributes, info.zone)
            cpu, memory, net_in, net_out = _usage_figures(
                details.usage, info.model.memory if info.model else None
            )
        return ResourceState(
            status=state.status,
            cpu=cpu,
            memory=memory,
            network_in=net_in,
            network_out=net_out,
            extra=extra,
            attributes=attributes,
        )


def _task_text(state: VpsState) -> str:
    """ "idle", "reboot (40%)", or "task 123" for a task started elsewhere."""
    if not state.running_task_ids:
        return IDLE
    task = state.current_task
    if task is None:
        return f"task {state.running_task_ids[0]}"
    name = _TASK_NAMES.get(task.type or "", task.type or f"task {task.id}")
    return f"{name} ({task.progress}%)" if task.progress is not None else name


def _aware(value: dt.datetime | None) -> dt.datetime | None:
    if value is None:
        return None
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def _fill_details(
    details: VpsDetails,
    extra: dict[str, Any],
    attributes: dict[str, dict[str, Any]],
    zone: str | None,
) -> None:
    """The slow-cycle sensors' values and attributes."""
    extra["ipv4"] = details.ipv4[0] if details.ipv4 else None
    attributes["ipv4"] = {"addresses": list(details.ipv4)}
    extra["ipv6"] = details.ipv6[0] if details.ipv6 else None
    attributes["ipv6"] = {"addresses": list(details.ipv6)}
    if (center := details.datacenter) is not None:
        extra["datacenter"] = center.long_name or center.name
        attributes["datacenter"] = {
            "code": center.name,
            "country": center.country,
            "zone": zone,
        }
    if (service := details.service_info) is not None and service.expiration:
        extra["expiration"] = dt.datetime.combine(
            service.expiration, dt.time(), tzinfo=dt.UTC
        )
        attributes["expiration"] = {
            "service_status": service.status,
            "automatic_renew": service.automatic_renew,
        }
    if (snapshot := details.snapshot) is not None:
        extra["snapshot"] = _aware(snapshot.creation_date)
        attributes["snapshot"] = {
            "description": snapshot.description,
            "snapshot_id": snapshot.id,
        }
    if (backup := details.automated_backup) is not None:
        extra["backup"] = backup.state
        attributes["backup"] = {"schedule": backup.schedule}
        points = sorted(p for p in map(_aware, backup.restore_points) if p)
        extra["last_restore_point"] = points[-1] if points else None
        attributes["last_restore_point"] = {"restore_points": len(points)}


def _usage_figures(
    usage: VpsUsage | None, memory_mb: int | None
) -> tuple[float | None, float | None, float | None, float | None]:
    """cpu %, memory %, network in/out bytes/s from OVH's `/use` answers."""
    if usage is None:
        return None, None, None, None
    cpu = usage.cpu.value if usage.cpu else None
    memory = None
    if usage.memory and usage.memory.value is not None:
        if usage.memory.unit == "%":
            memory = usage.memory.value
        elif memory_mb:
            memory = round(usage.memory.value / memory_mb * 100, 2)
    net_in = usage.net_rx.value if usage.net_rx else None
    net_out = usage.net_tx.value if usage.net_tx else None
    return cpu, memory, net_in, net_out


def _readable_expiry[**P, R](
    func: Callable[Concatenate[OvhVpsResource, P], Coroutine[Any, Any, R]],
) -> Callable[Concatenate[OvhVpsResource, P], Coroutine[Any, Any, R]]:
    """A 460 (service expired) reads as such, not as a generic API error."""

    @functools.wraps(func)
    async def wrapper(
        resource: OvhVpsResource, /, *args: P.args, **kwargs: P.kwargs
    ) -> R:
        try:
            return await func(resource, *args, **kwargs)
        except ServiceExpired as err:
            raise HomeAssistantError(
                translation_domain=DOMAIN,
                translation_key="ovh_service_expired",
                translation_placeholders={
                    "name": resource.name,
                    "message": err.message,
                },
            ) from err

    return wrapper


class OvhVpsResource(Resource):
    """One OVHcloud VPS, keyed by its service name."""

    features = (
        ResourceFeature.POWER
        | ResourceFeature.REBOOT
        | ResourceFeature.SNAPSHOTS
        | ResourceFeature.RESCUE
        | ResourceFeature.CONSOLE
        | ResourceFeature.REBUILD
        | ResourceFeature.RESET_PASSWORD
    )
    starting_text = "starting_vps"
    noun = Noun.VPS
    #: async_reboot returns once OVH's reboot task ended (see the report on power.py).
    reboot_completes_task = True
    coordinator: OvhCoordinator

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        details = self.coordinator.details.get(self.key)
        sensors = {
            "status",
            "current_task",
            "ipv4",
            "ipv6",
            "datacenter",
            "model",
            "expiration",
            "snapshot",
        }
        if details is not None and details.automated_backup is not None:
            sensors |= {"backup", "last_restore_point"}
        if details is not None and details.usage is not None:
            sensors |= {"cpu", "memory", "network_in", "network_out"}
        self.sensors = frozenset(sensors)

    @property
    def client(self) -> OvhClient:
        return self.coordinator.client

    @property
    def device_info(self) -> DeviceInfo:
        state = self.coordinator.states.get(self.key)
        details = self.coordinator.details.get(self.key)
        model = state.info.model if state else None
        return DeviceInfo(
            identifiers={(DOMAIN, self.key)},
            name=self.name,
            manufacturer="OVHcloud",
            model=model.name if model else None,
            model_id=self.key,
            sw_version=details.image.name if details and details.image else None,
            configuration_url=manager_url(
                self.entry.data.get(CONF_ENDPOINT, ""), self.key
            ),
        )

    async def _follow(
        self,
        action: Callable[[], Awaitable[Task]],
        *,
        details: bool = False,
        refresh: bool = True,
    ) -> Task:
        """Send `action`, wait for its OVH task to end (TaskFailed if it fails).

        Then refresh at once (not debounced: two actions in a row must each show
        their outcome), unless the power manager follows the state itself.
        """
        task = await action()
        try:
            return await self.client.wait_for_task(
                self.key, task.id, timeout=TASK_TIMEOUT, interval=TASK_POLL_INTERVAL
            )
        finally:
            if details:
                self.coordinator.mark_stale(self.key)
            if refresh:
                await self.coordinator.async_refresh()

    # -- power ----------------------------------------------------------------------
    @_readable_expiry
    async def async_start(self) -> None:
        await self._follow(lambda: self.client.start(self.key), refresh=False)

    @_readable_expiry
    async def async_stop(self) -> None:
        await self._follow(lambda: self.client.stop(self.key), refresh=False)

    @_readable_expiry
    async def async_reboot(self) -> None:
        await self._follow(lambda: self.client.reboot(self.key), refresh=False)

    @_readable_expiry
    async def async_rescue(self, enabled: bool) -> dict[str, Any]:
        await self._follow(lambda: self.client.rescue(self.key, enabled))
        if enabled:
            return {
                "netboot": "rescue",
                "message": "The VPS rebooted into rescue mode. OVHcloud e-mails "
                "the rescue system's credentials to the account's admin contact.",
            }
        return {"netboot": "local", "message": "The VPS rebooted from its disk."}

    # -- snapshots ------------------------------------------------------------------
    @_readable_expiry
    async def async_create_snapshot(
        self, name: str | None, description: str | None, include_ram: bool
    ) -> None:
        if include_ram:
            raise ServiceValidationError(
                translation_domain=DOMAIN,
                translation_key="ovh_include_ram",
                translation_placeholders={"name": self.name},
            )
        existing = await self.client.get_snapshot(self.key)
        if existing is not None:
            raise HomeAssistantError(
                translation_domain=DOMAIN,
                translation_key="ovh_snapshot_exists",
                translation_placeholders={
                    "name": self.name,
                    "snapshot": existing.description or existing.id or "",
                },
            )
        await self._follow(
            lambda: self.client.create_snapshot(self.key, description or name),
            details=True,
        )

    async def _on_snapshot(self, action: Callable[[], Awaitable[Task]]) -> None:
        try:
            await self._follow(action, details=True)
        except NotFound as err:
            raise HomeAssistantError(
                translation_domain=DOMAIN,
                translation_key="ovh_no_snapshot",
                translation_placeholders={"name": self.name},
            ) from err

    @_readable_expiry
    async def async_restore_snapshot(
        self, name: str | None, *, snapshot_first: bool = False
    ) -> None:
        if snapshot_first:
            # The snapshot to restore is the one OVHcloud keeps: none can be
            # taken beside it, so this refuses (unless there is nothing to restore).
            if await self.client.get_snapshot(self.key) is None:
                raise HomeAssistantError(
                    translation_domain=DOMAIN,
                    translation_key="ovh_no_snapshot",
                    translation_placeholders={"name": self.name},
                )
            await self.async_take_safety_snapshot("restore_snapshot", "restore")
        await self._on_snapshot(lambda: self.client.restore_snapshot(self.key))

    async def async_snapshot_before(self, action: str, word: str) -> None:
        # One snapshot per VPS: an existing one is never deleted to make room.
        existing = await self.client.get_snapshot(self.key)
        if existing is not None:
            raise HomeAssistantError(
                translation_domain=DOMAIN,
                translation_key="ovh_snapshot_first_exists",
                translation_placeholders={
                    "name": self.name,
                    "action": action,
                    "snapshot": existing.description or existing.id or "",
                },
            )
        await self._follow(
            lambda: self.client.create_snapshot(
                self.key, safety_snapshot_name(word, dt_util.utcnow())
            ),
            details=True,
        )

    @_readable_expiry
    async def async_delete_snapshot(self, name: str | None) -> None:
        await self._on_snapshot(lambda: self.client.delete_snapshot(self.key))

    @_readable_expiry
    async def async_list_snapshots(self) -> list[Snapshot]:
        snapshot = await self.client.get_snapshot(self.key)
        if snapshot is None:
            return []
        extra: dict[str, Any] = {
            "id": snapshot.id,
            "region": snapshot.region,
            "download_url": None,
            "size": None,
            "expires": None,
        }
        try:
            download = await self.client.snapshot_download(self.key)
        except (NotFound, PermissionDenied, ApiError) as err:
            _LOGGER.debug("No download link for %s: %s", self.name, err)
        else:
            extra |= {
                "download_url": download.url,
                "size": download.size,
                "expires": _link_expiry(download.url),
            }
        return [
            Snapshot(
                name=snapshot.id or "snapshot",
                description=snapshot.description,
                time=_aware(snapshot.creation_date),
                extra=extra,
            )
        ]

    # -- cloud server actions ------------------------------------------------------
    @_readable_expiry
    async def async_console_url(self) -> dict[str, Any]:
        return {"url": await self.client.console_url(self.key)}

    @_readable_expiry
    async def async_list_images(self) -> list[dict[str, Any]]:
        return [
            {"id": image.id, "name": image.name}
            for image in await self.client.list_images(self.key)
        ]

    @_readable_expiry
    async def async_rebuild(
        self,
        image_id: str,
        ssh_key: str | None,
        public_ssh_key: str | None,
        do_not_send_password: bool,
        *,
        snapshot_first: bool = False,
    ) -> dict[str, Any]:
        if do_not_send_password and not (ssh_key or public_ssh_key):
            raise ServiceValidationError(
                translation_domain=DOMAIN, translation_key="ovh_password_needs_key"
            )
        images = {i["id"]: i["name"] for i in await self.async_list_images()}
        if image_id not in images:
            raise ServiceValidationError(
                translation_domain=DOMAIN,
                translation_key="ovh_unknown_image",
                translation_placeholders={
                    "name": self.name,
                    "image_id": image_id,
                    "images": ", ".join(
                        f"{i} ({n})" for i, n in sorted(images.items())
                    ),
                },
            )
        if snapshot_first:
            await self.async_take_safety_snapshot("rebuild", "rebuild")
        task = await self._follow(
            lambda: self.client.rebuild(
                self.key,
                image_id,
                ssh_key=ssh_key,
                public_ssh_key=public_ssh_key,
                do_not_send_password=do_not_send_password,
            ),
            details=True,
        )
        return {
            "task_id": task.id,
            "image_id": image_id,
            "image": images[image_id],
            "message": "The VPS was rebuilt."
            + (
                ""
                if do_not_send_password
                else " OVHcloud e-mails the new password to the admin contact."
            ),
        }

    @_readable_expiry
    async def async_reset_password(self) -> dict[str, Any]:
        task = await self._follow(lambda: self.client.reset_password(self.key))
        return {
            "task_id": task.id,
            "message": "OVHcloud e-mails the new root password to the admin contact.",
        }


def _link_expiry(url: str) -> str | None:
    """When a temporary download link expires (its `temp_url_expires`), if it says."""
    values = parse_qs(urlsplit(url).query).get("temp_url_expires")
    if not values or not values[0].isdigit():
        return None
    return dt.datetime.fromtimestamp(int(values[0]), dt.UTC).isoformat()
