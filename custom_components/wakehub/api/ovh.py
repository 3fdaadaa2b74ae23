"""OVHcloud VPS client: signed calls to the OVH API, discovery, polling, actions.

Public API (what the Home Assistant layer uses):

    resolve_endpoint("ovh-eu" | ... | "https://host:port/1.0") -> API root URL
    sign(application_secret, consumer_key, method, url, body, timestamp) -> "$1$..."
    vps_status(state, task_type=None) -> ResourceStatus
    ACCESS_RULES: the (method, path) rules a WakeHub consumer key asks for

    client = OvhClient(session, endpoint=..., application_key=..., application_secret=...,
                       consumer_key=..., verify_ssl=True, fingerprint=None)
    # consumer key (config flow)
    await client.request_credential(redirection=None) -> CredentialRequest
    await client.credential_status(consumer_key=None) -> "validated" | "pendingValidation"
        (raises CredentialRejected, an InvalidAuth, when refused or expired)
    await client.account_id() -> nichandle from GET /me, else the application key
    # discovery
    await client.list_services() -> list[str]             GET /vps
    await client.get_vps(service) -> VpsInfo               GET /vps/{sn}
    await client.discover() -> list[VpsInfo]
    # polling
    await client.fast_poll(services) -> dict[str, VpsState | WakeHubError]
        exactly 2 requests per VPS: GET /vps/{sn} (state, netboot mode, model)
        and GET /vps/{sn}/tasks?state=doing (ids of running tasks). A running task
        is described (type) only when this client started or fetched it already,
        or with describe_new_tasks=True (one GET per never-seen task id).
    await client.slow_poll(services) -> dict[str, VpsDetails | WakeHubError]
        hourly: serviceInfos, ips, datacenter, images/current (or distribution),
        snapshot (404 = none), automatedBackup (+ restorePoints when enabled),
        usage from the deprecated /use call (None when gone, never an error).
    # actions: each returns the OVH Task; follow it with wait_for_task
    start/stop/reboot(service), rescue(service, enabled), create_snapshot(service,
    description), restore_snapshot, delete_snapshot, get_snapshot -> Snapshot | None,
    snapshot_download -> SnapshotDownload, console_url -> str, list_images ->
    list[Image], rebuild(service, image_id, ssh_key=, public_ssh_key=,
    do_not_send_password=), reset_password(service)
    await client.wait_for_task(service, task_id, timeout=900, interval=0.25) -> Task

Errors (errors.py): 400 ApiError (INVALID_SIGNATURE, i.e. a wrong application
secret, is InvalidSignature, an InvalidAuth); 401 InvalidAuth; 403 NOT_GRANTED_CALL and FORBIDDEN
PermissionDenied (privilege = "METHOD /path"), NOT_CREDENTIAL, INVALID_KEY,
INVALID_CREDENTIAL InvalidAuth; 404 NotFound; 409 Conflict; 429 RateLimited after a
bounded number of retries honouring Retry-After; 460 ServiceExpired (an ApiError);
5xx ApiError. OVH's own `message` is kept in every exception.

Clock: OVH rejects a request whose timestamp is more than a few minutes off, so the
client measures the offset to the server's clock once (`GET /auth/time`) and signs
with local time + offset; a "Query out of time" answer re-measures it once.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
import datetime as dt
import hashlib
import json
import logging
import time
from typing import Any, Final
from urllib.parse import quote, urlencode, urlsplit

import aiohttp
from yarl import URL

from .backoff import FIRST_DELAY, TaskPace
from .errors import (
    ApiError,
    Conflict,
    InvalidAuth,
    InvalidResponse,
    NotFound,
    PermissionDenied,
    RateLimited,
    TaskFailed,
    WakeHubError,
)
from .fields import items, obj, opt_float, opt_int, opt_obj, opt_str, text
from .http import decode_json, read_body, transport_errors
from .models import ResourceStatus
from .tls import ssl_option

_LOGGER = logging.getLogger(__name__)

ENDPOINTS: Final[dict[str, str]] = {
    "ovh-eu": "https://eu.api.ovh.com/1.0",
    "ovh-ca": "https://ca.api.ovh.com/1.0",
    "ovh-us": "https://api.us.ovhcloud.com/1.0",
    "kimsufi-eu": "https://eu.api.kimsufi.com/1.0",
    "kimsufi-ca": "https://ca.api.kimsufi.com/1.0",
    "soyoustart-eu": "https://eu.api.soyoustart.com/1.0",
    "soyoustart-ca": "https://ca.api.soyoustart.com/1.0",
}

# Exactly what WakeHub calls, nothing more ("*" matches any characters, "/" too).
ACCESS_RULES: Final[tuple[tuple[str, str], ...]] = (
    ("GET", "/me"),
    ("GET", "/vps"),
    ("GET", "/vps/*"),
    ("PUT", "/vps/*"),  # netbootMode for rescue
    ("POST", "/vps/*/start"),
    ("POST", "/vps/*/stop"),
    ("POST", "/vps/*/reboot"),
    ("POST", "/vps/*/createSnapshot"),
    ("POST", "/vps/*/snapshot/revert"),
    ("DELETE", "/vps/*/snapshot"),
    ("POST", "/vps/*/getConsoleUrl"),
    ("POST", "/vps/*/rebuild"),
    ("POST", "/vps/*/setPassword"),
)

_VPS_STATES: Final[dict[str, ResourceStatus]] = {
    "running": ResourceStatus.RUNNING,
    "stopped": ResourceStatus.STOPPED,
    "stopping": ResourceStatus.STOPPING,
    "rebooting": ResourceStatus.REBOOTING,
    "installing": ResourceStatus.INSTALLING,
    "rescued": ResourceStatus.RESCUED,
    "maintenance": ResourceStatus.MAINTENANCE,
    "backuping": ResourceStatus.BACKUPING,
    "upgrading": ResourceStatus.UPGRADING,
}
# A running task says more than the VPS state (a stopped VPS being started).
_TASK_STATUS: Final[dict[str, ResourceStatus]] = {
    "startVm": ResourceStatus.STARTING,
    "stopVm": ResourceStatus.STOPPING,
    "rebootVm": ResourceStatus.REBOOTING,
    "reinstallVm": ResourceStatus.INSTALLING,
}
_AUTH_ERROR_CODES: Final = frozenset(
    {"NOT_CREDENTIAL", "INVALID_KEY", "INVALID_CREDENTIAL", "INVALID_SIGNATURE"}
)
_TASK_FAILED_STATES: Final = frozenset({"error", "cancelled"})
_TASK_RUNNING_STATE: Final = "doing"
_USAGE_TYPES: Final = ("cpu:used", "mem:used", "net:rx", "net:tx")
_SERVICE_EXPIRED_STATUS: Final = 460


def resolve_endpoint(endpoint: str) -> str:
    """API root for an endpoint name, or the given root URL (demo, tests)."""
    name = endpoint.strip()
    if name.lower() in ENDPOINTS:
        return ENDPOINTS[name.lower()]
    parts = urlsplit(name)
    if parts.scheme in {"http", "https"} and parts.netloc:
        return name.rstrip("/")
    raise ValueError(f"unknown OVH endpoint {endpoint!r}")


def sign(
    application_secret: str,
    consumer_key: str,
    method: str,
    url: str,
    body: str,
    *,
    timestamp: int | str,
) -> str:
    """OVH request signature: "$1$" + SHA-1 of the '+'-joined request parts."""
    parts = (
        application_secret,
        consumer_key,
        method.upper(),
        url,
        body,
        str(timestamp),
    )
    return (
        "$1$"
        + hashlib.sha1("+".join(parts).encode(), usedforsecurity=False).hexdigest()
    )


def vps_status(state: str | None, task_type: str | None = None) -> ResourceStatus:
    """Map OVH's VPS `state` (and the running task, if known) to ResourceStatus."""
    if task_type in _TASK_STATUS:
        return _TASK_STATUS[task_type]
    return _VPS_STATES.get(state or "", ResourceStatus.UNKNOWN)


class ServiceExpired(ApiError):
    """HTTP 460: the VPS service is expired or suspended (renewal needed)."""


class CredentialRejected(InvalidAuth):
    """The consumer key was refused by the account owner or has expired.

    Unlike a plain InvalidAuth (which OVH may also answer for a key still waiting
    for validation), waiting longer will not help: a new key is needed.
    """

    def __init__(self, message: str, state: str) -> None:
        super().__init__(message)
        self.state = state


class InvalidSignature(InvalidAuth):
    """OVH could not verify the signature: the application secret is wrong."""


# -- returned data ----------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class CredentialRequest:
    """A new consumer key: usable once the user opened `validation_url`."""

    consumer_key: str = field(repr=False)
    state: str
    validation_url: str


@dataclass(frozen=True, slots=True)
class Task:
    """An OVH VPS task (`vps.Task`); OVH gives no error text, only a state."""

    id: int
    type: str | None
    state: str
    progress: int | None = None
    date: dt.datetime | None = None

    @property
    def finished(self) -> bool:
        return self.state == "done" or self.state in _TASK_FAILED_STATES


@dataclass(frozen=True, slots=True)
class VpsModel:
    """The commercial model: name ("VPS Elite 2025"), cores, RAM (MB), disk (GB)."""

    name: str | None
    offer: str | None
    vcore: int | None
    memory: int | None
    disk: int | None
    version: str | None


@dataclass(frozen=True, slots=True)
class VpsInfo:
    """One VPS as `GET /vps/{serviceName}` describes it."""

    service_name: str
    display_name: str
    state: str | None
    status: ResourceStatus
    netboot_mode: str | None
    zone: str | None
    cluster: str | None
    vcore: int | None
    memory_limit: int | None
    offer_type: str | None
    model: VpsModel | None


@dataclass(frozen=True, slots=True)
class VpsState:
    """Fast-cycle result: the VPS plus the ids of its running tasks."""

    info: VpsInfo
    running_task_ids: tuple[int, ...]
    current_task: Task | None

    @property
    def status(self) -> ResourceStatus:
        task_type = self.current_task.type if self.current_task else None
        return vps_status(self.info.state, task_type)


@dataclass(frozen=True, slots=True)
class ServiceInfo:
    """Billing side of the service (`serviceInfos`)."""

    status: str | None
    expiration: dt.date | None
    creation: dt.date | None
    automatic_renew: bool | None


@dataclass(frozen=True, slots=True)
class Datacenter:
    name: str | None
    long_name: str | None
    country: str | None


@dataclass(frozen=True, slots=True)
class Image:
    id: str
    name: str | None


@dataclass(frozen=True, slots=True)
class Snapshot:
    """The one snapshot a VPS may have."""

    id: str | None
    description: str | None
    creation_date: dt.datetime | None
    region: str | None


@dataclass(frozen=True, slots=True)
class SnapshotDownload:
    """Temporary download link; OVH documents 24 h validity (not in the schema)."""

    url: str
    size: int | None


@dataclass(frozen=True, slots=True)
class AutomatedBackup:
    state: str | None
    schedule: str | None
    restore_points: tuple[dt.datetime, ...]


@dataclass(frozen=True, slots=True)
class UsageValue:
    value: float | None
    unit: str | None


@dataclass(frozen=True, slots=True)
class VpsUsage:
    """Current use from the deprecated `/use` call (kept while OVH serves it)."""

    cpu: UsageValue | None
    memory: UsageValue | None
    net_rx: UsageValue | None
    net_tx: UsageValue | None


@dataclass(frozen=True, slots=True)
class VpsDetails:
    """Slow-cycle result (hourly)."""

    service_info: ServiceInfo | None
    ipv4: tuple[str, ...]
    ipv6: tuple[str, ...]
    datacenter: Datacenter | None
    image: Image | None
    snapshot: Snapshot | None
    automated_backup: AutomatedBackup | None
    usage: VpsUsage | None


# -- parsing helpers ------------------------------------------------------------------
def _datetime(value: Any) -> dt.datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return dt.datetime.fromisoformat(value)
    except ValueError:
        return None


def _date(value: Any) -> dt.date | None:
    if not isinstance(value, str):
        return None
    try:
        return dt.date.fromisoformat(value[:10])
    except ValueError:
        return None


def parse_task(payload: Any) -> Task:
    data = obj(payload, "an OVH task")
    return Task(
        id=opt_int(data.get("id")) or 0,
        type=opt_str(data.get("type")),
        state=opt_str(data.get("state")) or "unknown",
        progress=opt_int(data.get("progress")),
        date=_datetime(data.get("date")),
    )


def parse_vps(service_name: str, payload: Any) -> VpsInfo:
    data = obj(payload, f"the VPS {service_name}")
    model_data = data.get("model")
    model = None
    if isinstance(model_data, dict):
        model = VpsModel(
            name=opt_str(model_data.get("name")),
            offer=opt_str(model_data.get("offer")),
            vcore=opt_int(model_data.get("vcore")),
            memory=opt_int(model_data.get("memory")),
            disk=opt_int(model_data.get("disk")),
            version=opt_str(model_data.get("version")),
        )
    state = opt_str(data.get("state"))
    return VpsInfo(
        service_name=opt_str(data.get("name")) or service_name,
        display_name=opt_str(data.get("displayName")) or service_name,
        state=state,
        status=vps_status(state),
        netboot_mode=opt_str(data.get("netbootMode")),
        zone=opt_str(data.get("zone")),
        cluster=opt_str(data.get("cluster")),
        vcore=opt_int(data.get("vcore")),
        memory_limit=opt_int(data.get("memoryLimit")),
        offer_type=opt_str(data.get("offerType")),
        model=model,
    )


def _usage_value(payload: Any) -> UsageValue | None:
    data = opt_obj(payload)
    if not data:
        return None
    value = data.get("value")
    return UsageValue(
        value=float(value) if isinstance(value, int | float) else None,
        unit=opt_str(data.get("unit")),
    )


def _error_payload(body: bytes) -> tuple[str, str | None]:
    """OVH's `message` and `errorCode` from an error body (any shape)."""
    try:
        data = decode_json(body, "OVH", "an error")
    except InvalidResponse:
        return (body[:200].decode(errors="replace").strip() or "no message"), None
    if isinstance(data, dict):
        message = text(data.get("message")) or "no message"
        return message[:500], opt_str(data.get("errorCode"))
    return text(data, "no message")[:200], None


def _bool(value: Any) -> bool | None:
    return value if isinstance(value, bool) else None


def _retry_after(value: str | None) -> float | None:
    """Retry-After in seconds; None when absent, unreadable or not finite."""
    seconds = opt_float(value)
    return None if seconds is None else max(0.0, seconds)


# -- the client -----------------------------------------------------------------------
class OvhClient:
    """Async client of the OVH API for one account (application + consumer key)."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        *,
        endpoint: str,
        application_key: str,
        application_secret: str,
        consumer_key: str | None = None,
        verify_ssl: bool = True,
        fingerprint: str | None = None,
        request_timeout: float = 30,
        max_retries: int = 3,
        retry_backoff: float = 1.0,
        max_retry_delay: float = 30.0,
        concurrency: int = 8,
    ) -> None:
        self._session = session
        self.base_url = resolve_endpoint(endpoint)
        self._where = urlsplit(self.base_url).netloc
        self._application_key = application_key
        self._application_secret = application_secret
        self.consumer_key = consumer_key
        self._ssl = ssl_option(verify_ssl=verify_ssl, fingerprint=fingerprint)
        self._timeout = aiohttp.ClientTimeout(total=request_timeout)
        self._max_retries = max_retries
        self._retry_backoff = retry_backoff
        self._max_retry_delay = max_retry_delay
        self._semaphore = asyncio.Semaphore(concurrency)
        self._time_offset: int | None = None
        self._tasks: dict[tuple[str, int], Task] = {}

    # -- low level ---------------------------------------------------------------
    @property
    def time_offset(self) -> int | None:
        """Server clock minus local clock, in seconds (None until measured)."""
        return self._time_offset

    async def server_time(self) -> int:
        """OVH's clock (`GET /auth/time`, unauthenticated)."""
        answer = await self._call("GET", "/auth/time", signed=False)
        if not isinstance(answer, int):
            raise ApiError("time", "GET /auth/time did not answer a number")
        return answer

    async def sync_time(self) -> int:
        """Measure and keep the offset between the server's clock and ours."""
        server = await self.server_time()
        self._time_offset = server - int(time.time())
        return self._time_offset

    def _url(self, path: str, query: Mapping[str, str] | None) -> str:
        url = self.base_url + path
        if query:
            url += "?" + urlencode(query, quote_via=quote)
        return url

    def _headers(
        self, method: str, url: str, body: str, signed: bool
    ) -> dict[str, str]:
        headers = {
            "X-Ovh-Application": self._application_key,
            "Accept": "application/json",
        }
        if body:
            headers["Content-Type"] = "application/json"
        if signed:
            if not self.consumer_key:
                raise InvalidAuth("no OVH consumer key configured")
            timestamp = int(time.time()) + (self._time_offset or 0)
            headers["X-Ovh-Consumer"] = self.consumer_key
            headers["X-Ovh-Timestamp"] = str(timestamp)
            headers["X-Ovh-Signature"] = sign(
                self._application_secret,
                self.consumer_key,
                method,
                url,
                body,
                timestamp=timestamp,
            )
        return headers

    async def _call(
        self,
        method: str,
        path: str,
        *,
        query: Mapping[str, str] | None = None,
        body: Any = None,
        signed: bool = True,
    ) -> Any:
        """One API call with clock sync, rate-limit retries and error mapping."""
        if signed and self._time_offset is None:
            await self.sync_time()
        payload = "" if body is None else json.dumps(body, separators=(",", ":"))
        url = self._url(path, query)
        resynced = False
        attempt = 0
        while True:
            status, reply, retry_after = await self._send(method, url, payload, signed)
            if status < 300:
                if method != "GET" and not reply.strip():
                    return None  # an action without an answer (PUT, 204)
                return decode_json(reply, self._where, f"{method} {path}")
            message, code = _error_payload(reply)
            if code == "QUERY_TIME_OUT" and signed and not resynced:
                resynced = True  # our clock drifted since the last measure
                await self.sync_time()
                continue
            if status == 429 and attempt < self._max_retries:
                delay = max(retry_after or 0.0, self._retry_backoff * 2**attempt)
                if delay <= self._max_retry_delay:
                    attempt += 1
                    _LOGGER.debug(
                        "OVH rate limit on %s %s, retry in %.1fs", method, path, delay
                    )
                    await asyncio.sleep(delay)
                    continue
            raise _map_error(
                status, message, code, call=f"{method} {path}", retry_after=retry_after
            )

    async def _send(
        self, method: str, url: str, body: str, signed: bool
    ) -> tuple[int, bytes, float | None]:
        async with self._semaphore, transport_errors(self._where):
            headers = self._headers(method, url, body, signed)
            async with self._session.request(
                method,
                URL(url, encoded=True),
                data=body.encode() if body else None,
                headers=headers,
                ssl=self._ssl,
                timeout=self._timeout,
            ) as response:
                reply = await read_body(response, self._where)
                return (
                    response.status,
                    reply,
                    _retry_after(response.headers.get("Retry-After")),
                )

    # -- consumer key ------------------------------------------------------------------
    async def request_credential(
        self, redirection: str | None = None
    ) -> CredentialRequest:
        """Ask OVH for a consumer key limited to ACCESS_RULES (user must validate)."""
        body: dict[str, Any] = {
            "accessRules": [{"method": m, "path": p} for m, p in ACCESS_RULES]
        }
        if redirection:
            body["redirection"] = redirection
        answer = opt_obj(
            await self._call("POST", "/auth/credential", body=body, signed=False)
        )
        consumer_key = opt_str(answer.get("consumerKey"))
        if not consumer_key:
            raise ApiError("credential", "OVH returned no consumer key")
        return CredentialRequest(
            consumer_key=consumer_key,
            state=opt_str(answer.get("state")) or "pendingValidation",
            validation_url=opt_str(answer.get("validationUrl")) or "",
        )

    async def credential_status(self, consumer_key: str | None = None) -> str:
        """State of a consumer key (this client's by default).

        "validated" or "pendingValidation"; a refused or expired key is CredentialRejected.
        Passing a key adopts it: the config flow polls the key it just requested.
        """
        if consumer_key is not None:
            self.consumer_key = consumer_key
        answer = opt_obj(await self._call("GET", "/auth/currentCredential"))
        status = opt_str(answer.get("status")) or "unknown"
        if status == "refused":
            raise CredentialRejected(
                "the OVH consumer key was refused by the account owner", status
            )
        if status == "expired":
            raise CredentialRejected("the OVH consumer key has expired", status)
        return status

    async def account_id(self) -> str:
        """Stable account id: the nichandle, or the application key without GET /me."""
        try:
            answer = opt_obj(await self._call("GET", "/me"))
        except PermissionDenied, NotFound:
            return self._application_key
        return opt_str(answer.get("nichandle")) or self._application_key

    # -- discovery ------------------------------------------------------------------
    async def list_services(self) -> list[str]:
        answer = await self._call("GET", "/vps")
        return [name for name in items(answer, "GET /vps") if isinstance(name, str)]

    async def get_vps(self, service: str) -> VpsInfo:
        return parse_vps(service, await self._call("GET", _vps_path(service)))

    async def discover(self) -> list[VpsInfo]:
        """Every VPS of the account with its details (1 + N requests, concurrent)."""
        names = await self.list_services()
        return list(await asyncio.gather(*(self.get_vps(name) for name in names)))

    # -- polling -----------------------------------------------------------------------
    async def poll_vps(
        self, service: str, *, describe_new_tasks: bool = False
    ) -> VpsState:
        """Fast cycle for one VPS: 2 requests (state + running task ids)."""
        info_payload, task_ids = await asyncio.gather(
            self._call("GET", _vps_path(service)),
            self._call(
                "GET", _vps_path(service, "tasks"), query={"state": _TASK_RUNNING_STATE}
            ),
        )
        ids = tuple(
            i
            for i in items(task_ids, f"the running tasks of {service}")
            if isinstance(i, int) and not isinstance(i, bool)
        )
        current = None
        for task_id in ids:
            current = self._tasks.get((service, task_id))
            if current is None and describe_new_tasks:
                current = await self.get_task(service, task_id)
            if current is not None:
                break
        return VpsState(parse_vps(service, info_payload), ids, current)

    async def fast_poll(
        self, services: Iterable[str], *, describe_new_tasks: bool = False
    ) -> dict[str, VpsState | WakeHubError]:
        """Fast cycle for many VPSes; a failing VPS yields its error, not a raise."""
        return await _gather_by_name(
            services,
            lambda name: self.poll_vps(name, describe_new_tasks=describe_new_tasks),
        )

    async def slow_poll(
        self, services: Iterable[str], *, include_usage: bool = True
    ) -> dict[str, VpsDetails | WakeHubError]:
        """Slow cycle (hourly) for many VPSes, per-VPS errors kept apart."""
        return await _gather_by_name(
            services, lambda name: self.get_details(name, include_usage=include_usage)
        )

    async def get_details(
        self, service: str, *, include_usage: bool = True
    ) -> VpsDetails:
        """What changes rarely: billing, IPs, location, image, snapshot, backups."""
        try:
            async with asyncio.TaskGroup() as group:
                service_info = group.create_task(self.service_info(service))
                ips = group.create_task(self.ips(service))
                datacenter = group.create_task(self.datacenter(service))
                image = group.create_task(self.current_image(service))
                snapshot = group.create_task(self.get_snapshot(service))
                backup = group.create_task(self.automated_backup(service))
                usage = group.create_task(
                    self.usage(service) if include_usage else _none()
                )
        except ExceptionGroup as errors:
            # One request failed: report the first error as any other call would.
            raise errors.exceptions[0] from None
        addresses = ips.result()
        return VpsDetails(
            service_info=service_info.result(),
            ipv4=tuple(ip for ip in addresses if ":" not in ip),
            ipv6=tuple(ip for ip in addresses if ":" in ip),
            datacenter=datacenter.result(),
            image=image.result(),
            snapshot=snapshot.result(),
            automated_backup=backup.result(),
            usage=usage.result(),
        )

    async def service_info(self, service: str) -> ServiceInfo:
        data = opt_obj(await self._call("GET", _vps_path(service, "serviceInfos")))
        return ServiceInfo(
            status=opt_str(data.get("status")),
            expiration=_date(data.get("expiration")),
            creation=_date(data.get("creation")),
            automatic_renew=_bool(opt_obj(data.get("renew")).get("automatic")),
        )

    async def ips(self, service: str) -> list[str]:
        answer = await self._call("GET", _vps_path(service, "ips"))
        return [
            ip for ip in items(answer, f"the IPs of {service}") if isinstance(ip, str)
        ]

    async def datacenter(self, service: str) -> Datacenter:
        data = opt_obj(await self._call("GET", _vps_path(service, "datacenter")))
        return Datacenter(
            name=opt_str(data.get("name")),
            long_name=opt_str(data.get("longName")),
            country=opt_str(data.get("country")),
        )

    async def current_image(self, service: str) -> Image | None:
        """Installed image (2025 range), else the older `distribution` template."""
        try:
            data = opt_obj(
                await self._call("GET", _vps_path(service, "images/current"))
            )
        except NotFound:
            data = {}
        except ApiError as err:
            if err.code != 400:
                raise
            data = {}
        if data.get("id"):
            return Image(id=text(data["id"]), name=opt_str(data.get("name")))
        try:
            template = opt_obj(
                await self._call("GET", _vps_path(service, "distribution"))
            )
        except NotFound:
            return None
        if not template:
            return None
        return Image(id=text(template.get("id")), name=opt_str(template.get("name")))

    async def get_snapshot(self, service: str) -> Snapshot | None:
        """The VPS's snapshot, or None (OVH answers 404 when there is none)."""
        try:
            data = opt_obj(await self._call("GET", _vps_path(service, "snapshot")))
        except NotFound:
            return None
        return Snapshot(
            id=opt_str(data.get("id")),
            description=opt_str(data.get("description")),
            creation_date=_datetime(data.get("creationDate")),
            region=opt_str(data.get("region")),
        )

    async def automated_backup(self, service: str) -> AutomatedBackup | None:
        """Automated backup option and its restore points; None without the option."""
        try:
            data = opt_obj(
                await self._call("GET", _vps_path(service, "automatedBackup"))
            )
        except NotFound:
            return None
        state = opt_str(data.get("state"))
        points: tuple[dt.datetime, ...] = ()
        if state == "enabled":
            answer = await self._call(
                "GET",
                _vps_path(service, "automatedBackup/restorePoints"),
                query={"state": "available"},
            )
            listed = items(answer, f"the restore points of {service}")
            points = tuple(p for p in map(_datetime, listed) if p is not None)
        return AutomatedBackup(
            state=state, schedule=opt_str(data.get("schedule")), restore_points=points
        )

    async def usage(self, service: str) -> VpsUsage | None:
        """CPU, memory and network use from `/use` (deprecated by OVH).

        Returns None, without raising, once OVH stops serving it (404, 400, 410...),
        so the sensors become unavailable rather than the whole VPS.
        """
        try:
            values = await asyncio.gather(
                *(
                    self._call("GET", _vps_path(service, "use"), query={"type": kind})
                    for kind in _USAGE_TYPES
                )
            )
        except NotFound, PermissionDenied:
            return None
        except ApiError as err:
            if isinstance(err, ServiceExpired) or (
                isinstance(err.code, int) and err.code >= 500
            ):
                raise
            return None
        cpu, memory, net_rx, net_tx = (_usage_value(v) for v in values)
        return VpsUsage(cpu=cpu, memory=memory, net_rx=net_rx, net_tx=net_tx)

    # -- tasks ----------------------------------------------------------------------
    async def get_task(self, service: str, task_id: int) -> Task:
        task = parse_task(
            await self._call("GET", _vps_path(service, f"tasks/{task_id}"))
        )
        self._remember(service, task)
        return task

    async def wait_for_task(
        self,
        service: str,
        task_id: int,
        *,
        timeout: float = 900,
        interval: float = FIRST_DELAY,
    ) -> Task:
        """Poll a task until it is done; TaskFailed if it ends in error or cancelled.

        Read every `interval` seconds at first, then less often (backoff.py).
        OVH forgets finished tasks after a while: a task that vanished (404) while
        we followed it is taken as done.
        """
        pace = TaskPace(timeout, interval)
        seen = False
        while True:
            try:
                task = await self.get_task(service, task_id)
            except NotFound:
                if not seen:
                    raise
                return Task(id=task_id, type=None, state="done", progress=100)
            seen = True
            if task.state == "done":
                return task
            if task.state in _TASK_FAILED_STATES:
                raise TaskFailed(
                    f"OVH task {task.type or task_id} on {service} ended in state {task.state}"
                )
            if not await pace.wait():
                raise TaskFailed(
                    f"OVH task {task.type or task_id} on {service} still {task.state} "
                    f"after {timeout:g} s"
                )

    def _remember(self, service: str, task: Task) -> Task:
        if len(self._tasks) > 1000:  # bounded: tasks are only interesting while running
            self._tasks.clear()
        self._tasks[(service, task.id)] = task
        return task

    async def _task_call(
        self, service: str, method: str, action: str, body: Any = None
    ) -> Task:
        answer = await self._call(method, _vps_path(service, action), body=body)
        return self._remember(service, parse_task(answer))

    # -- actions ------------------------------------------------------------------------
    async def start(self, service: str) -> Task:
        return await self._task_call(service, "POST", "start")

    async def stop(self, service: str) -> Task:
        return await self._task_call(service, "POST", "stop")

    async def reboot(self, service: str) -> Task:
        return await self._task_call(service, "POST", "reboot")

    async def set_netboot(self, service: str, mode: str) -> None:
        """`local` (boot from disk) or `rescue`; takes effect at the next reboot."""
        await self._call("PUT", _vps_path(service), body={"netbootMode": mode})

    async def rescue(self, service: str, enabled: bool = True) -> Task:
        """Reboot into rescue mode (or back to disk): netboot mode, then reboot."""
        await self.set_netboot(service, "rescue" if enabled else "local")
        return await self.reboot(service)

    async def create_snapshot(
        self, service: str, description: str | None = None
    ) -> Task:
        """Start a snapshot; OVH keeps one per VPS, so an existing one is a Conflict."""
        existing = await self.get_snapshot(service)
        if existing is not None:
            raise Conflict(
                f"{service} already has a snapshot ({existing.description or existing.id}); "
                "delete it before creating a new one"
            )
        body = {"description": description} if description else {}
        return await self._task_call(service, "POST", "createSnapshot", body)

    async def restore_snapshot(self, service: str) -> Task:
        return await self._task_call(service, "POST", "snapshot/revert")

    async def delete_snapshot(self, service: str) -> Task:
        return await self._task_call(service, "DELETE", "snapshot")

    async def snapshot_download(self, service: str) -> SnapshotDownload:
        data = opt_obj(await self._call("GET", _vps_path(service, "snapshot/download")))
        url = opt_str(data.get("url"))
        if not url:
            raise ApiError("snapshot", "OVH returned no download URL")
        return SnapshotDownload(url=url, size=opt_int(data.get("size")))

    async def console_url(self, service: str) -> str:
        answer = await self._call("POST", _vps_path(service, "getConsoleUrl"))
        if not isinstance(answer, str) or not answer:
            raise ApiError("console", "OVH returned no console URL")
        return answer

    async def list_images(self, service: str) -> list[Image]:
        """Images this VPS can be rebuilt with (ids, then each one's name)."""
        ids = await self._call("GET", _vps_path(service, "images/available"))
        details = await asyncio.gather(
            *(
                self._call(
                    "GET", _vps_path(service, f"images/available/{quote(i, safe='')}")
                )
                for i in items(ids, f"the images of {service}")
                if isinstance(i, str)
            )
        )
        return [
            Image(id=text(d.get("id")), name=opt_str(d.get("name")))
            for d in map(opt_obj, details)
            if d.get("id")
        ]

    async def rebuild(
        self,
        service: str,
        image_id: str,
        *,
        ssh_key: str | None = None,
        public_ssh_key: str | None = None,
        do_not_send_password: bool = False,
    ) -> Task:
        """Reinstall the VPS from an image; every data on it is erased.

        `ssh_key` names a key of the account (/me/sshKey), `public_ssh_key` is the
        key itself; `do_not_send_password` needs one of them (ValueError otherwise).
        """
        if do_not_send_password and not (ssh_key or public_ssh_key):
            raise ValueError("do_not_send_password needs an SSH key")
        body: dict[str, Any] = {"imageId": image_id}
        if ssh_key:
            body["sshKey"] = ssh_key
        if public_ssh_key:
            body["publicSshKey"] = public_ssh_key
        if do_not_send_password:
            body["doNotSendPassword"] = True
        return await self._task_call(service, "POST", "rebuild", body)

    async def reset_password(self, service: str) -> Task:
        """New root password, e-mailed by OVH to the admin contact."""
        return await self._task_call(service, "POST", "setPassword")


# -- module helpers -------------------------------------------------------------------
def _vps_path(service: str, suffix: str = "") -> str:
    path = f"/vps/{quote(service, safe='')}"
    return f"{path}/{suffix}" if suffix else path


async def _none() -> None:
    return None


async def _gather_by_name[T](
    names: Iterable[str], fetch: Callable[[str], Awaitable[T]]
) -> dict[str, T | WakeHubError]:
    async def one(name: str) -> tuple[str, T | WakeHubError]:
        try:
            return name, await fetch(name)
        except WakeHubError as err:
            return name, err

    return dict(await asyncio.gather(*(one(name) for name in names)))


def _map_error(  # noqa: PLR0911 - one return per OVH status, read as a table
    status: int,
    message: str,
    code: str | None,
    *,
    call: str,
    retry_after: float | None,
) -> WakeHubError:
    """OVH's answer to the errors.py exception the integration understands."""
    if code == "INVALID_SIGNATURE":
        return InvalidSignature(f"OVH refused the signature: {message}")
    if code in _AUTH_ERROR_CODES or status == 401:
        return InvalidAuth(f"OVH refused the credentials: {message}")
    if status == 403:
        return PermissionDenied(f"OVH denied {call}: {message}", privilege=call)
    if status == 404:
        return NotFound(f"{call}: {message}")
    if status == 409:
        return Conflict(f"an operation is already running on this VPS: {message}")
    if status == 429:
        return RateLimited(
            f"OVH rate limit reached: {message}", retry_after=retry_after
        )
    if status == _SERVICE_EXPIRED_STATUS:
        return ServiceExpired(status, message)
    return ApiError(status, message)
