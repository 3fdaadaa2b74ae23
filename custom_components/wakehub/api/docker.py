"""Docker Engine API client (asyncio, aiohttp; no docker-py).

What the integration uses::

    client = DockerClient(session, url, ca_cert=..., client_cert=..., client_key=...,
                          verify_ssl=True, fingerprint=None, timeout=10)
    engine = await client.connect()       # EngineInfo: connection test + unique id
    containers = await client.list_containers()          # {name: Container}, 1 request
    containers["media-db-1"].project, .service, .depends_on  # compose labels
    stats = await client.container_stats(containers.values())  # {name: ContainerStats}
    started = await client.started_at(containers["jellyfin"])  # datetime | None
    details = await client.inspect("jellyfin")           # ContainerDetails
    await client.start(name) / stop(name, timeout=None, wait=None) / restart(...)
    await client.kill(name, signal=None) / pause(name) / unpause(name)
    await client.close()                  # closes only the session the client owns
    map_state("exited") -> ResourceStatus.STOPPED

`url` is `unix:///var/run/docker.sock`, `tcp://host:2375` (plain HTTP, or TLS when
certificates are given, as the docker CLI does with DOCKER_TLS_VERIFY),
`http://host:2375` or `https://host:2376`. Anything else raises ValueError.

Sessions: for tcp/https the passed (Home Assistant's shared) session is used and
never closed. Home Assistant's session cannot speak unix sockets, and aiohttp
cannot combine a client certificate with a pinned fingerprint on a shared
session, so in those two cases the client creates its own session on first use;
the owner of the client must `await client.close()` (on config entry unload).

TLS: `ca_cert`, `client_cert`, `client_key` are PEM text (Docker's ca.pem,
cert.pem, key.pem). `ssl.SSLContext.load_cert_chain` only reads files, so the
context is built once, in an executor thread (file writes and the CA store are
blocking I/O), in a private 0700 temp dir whose 0600 files are deleted as soon as
they are loaded. `verify_ssl=False` skips server verification;
`fingerprint` pins the server certificate (tls.py) instead of a CA chain.

Requests economy (one poll cycle): one `GET /containers/json?all=1` for every
container; health comes from its `Status` text ("(healthy)", "(unhealthy)",
"(health: starting)") or its `Health` field (API >= 1.52), never from inspect.
Stats are asked only for the running containers the caller passes, at most
`stats_concurrency` at once, as one-shot samples (`stream=false&one-shot=true`,
API >= 1.41, the oldest this client speaks). Even one-shot, the engine answers
a stats request only on its next collection tick (every second), but it answers
every request waiting on that tick at once: requests sent together cost one
tick, and each further batch one more. `started_at()` inspects a container only when it
(re)started since it was last inspected (cached by id; restarts are seen from
the list's state and "Up ..." duration).

CPU: the engine's `one-shot` stats carry no `precpu_stats`, so the CPU share is
computed from two cycles' counters (`total_usage`, `system_cpu_usage`) kept per
container id: the first sample of a container gives `cpu_percent=None`.
`cpu % = Δcontainer / Δsystem * online_cpus * 100`, as `docker stats` shows it
(100 % = one full CPU). When the engine does provide `precpu_stats` it is used.

Errors (errors.py): unreachable → CannotConnect; socket missing →
DockerSocketMissing; socket permission → DockerSocketPermission (both
CannotConnect); timeout → ConnectionTimeout; TLS, including a refused client
certificate → CertificateError; not a Docker engine → NotThatKind; an engine
older than API 1.41 → DockerEngineTooOld (a NotThatKind); engine errors
`{"message": ...}` → 404 NotFound, 409 Conflict, 401 InvalidAuth,
403 PermissionDenied, other ApiError(code, Docker's message).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping
import contextlib
from dataclasses import dataclass, field
import datetime as dt
import os
from pathlib import Path
import re
import shutil
import ssl
import tempfile
from typing import Any
from urllib.parse import urlsplit

import aiohttp

from .errors import (
    ApiError,
    CannotConnect,
    CertificateError,
    Conflict,
    InvalidAuth,
    InvalidResponse,
    NotFound,
    NotThatKind,
    PermissionDenied,
)
from .fields import (
    JsonObject,
    obj,
    objects,
    opt_int,
    opt_obj,
    opt_str,
    required_str,
    text,
)
from .http import decode_json, is_json, read_body, transport_errors
from .models import ResourceStatus
from .tls import ssl_option

MIN_API_VERSION = (1, 41)  # also the first with one-shot stats
# The newest API this client was checked against; never ask an engine for more.
MAX_API_VERSION = (1, 56)
DEFAULT_PORTS = {"http": 2375, "https": 2376}
# Labels `docker compose` puts on the containers of a project (a "stack").
COMPOSE_PROJECT = "com.docker.compose.project"
COMPOSE_SERVICE = "com.docker.compose.service"
# "db:service_healthy:false,cache:service_started:true": service:condition:restart.
COMPOSE_DEPENDS_ON = "com.docker.compose.depends_on"
# "True" on the throwaway containers of `docker compose run`: not stack members.
COMPOSE_ONEOFF = "com.docker.compose.oneoff"
# The engine's stop timeout for a container that sets none (`docker stop`'s 10 s,
# unless the daemon's `default-stop-timeout` says otherwise).
ENGINE_STOP_TIMEOUT = 10


class DockerSocketMissing(CannotConnect):
    """The unix socket does not exist (engine not installed, or not mounted)."""


class DockerSocketPermission(CannotConnect):
    """The unix socket exists but this process may not open it (docker group)."""


class DockerEngineTooOld(NotThatKind):
    """A Docker engine answered, but its API is older than 1.41."""

    def __init__(self, message: str, api_version: str) -> None:
        super().__init__(message)
        self.api_version = api_version


STATE_MAP: Mapping[str, ResourceStatus] = {
    "running": ResourceStatus.RUNNING,
    "exited": ResourceStatus.STOPPED,
    "created": ResourceStatus.STOPPED,
    "dead": ResourceStatus.STOPPED,
    "paused": ResourceStatus.PAUSED,
    "restarting": ResourceStatus.REBOOTING,
    "removing": ResourceStatus.STOPPING,
}


def map_state(state: str) -> ResourceStatus:
    """Docker's container state to the fleet's status vocabulary."""
    return STATE_MAP.get(state.lower(), ResourceStatus.UNKNOWN)


@dataclass(frozen=True, kw_only=True)
class EngineInfo:
    """Who answered: `id` is the engine's stable ID (the config entry unique id)."""

    id: str
    name: str
    server_version: str
    api_version: str  # the negotiated version the client speaks
    operating_system: str
    os_type: str | None
    architecture: str | None


@dataclass(frozen=True, kw_only=True)
class Container:
    """One container from the list. `name` is the stable handle; `id` changes
    when the container is recreated."""

    name: str
    id: str
    image: str
    state: str  # Docker's raw state: running, exited, paused, ...
    status_text: str  # Docker's human status: "Up 3 hours (healthy)"
    created: dt.datetime
    health: str | None  # healthy, unhealthy, starting; None without healthcheck
    #: The container's labels (string values only); not part of its hash.
    labels: Mapping[str, str] = field(default_factory=dict, hash=False)

    @property
    def status(self) -> ResourceStatus:
        """The shared status vocabulary."""
        return map_state(self.state)

    @property
    def running(self) -> bool:
        return self.state == "running"

    @property
    def exit_code(self) -> int | None:
        """Its last exit code, from the list's "Exited (0) ..." (None otherwise)."""
        match = EXITED.match(self.status_text)
        return int(match.group(1)) if match else None

    @property
    def project(self) -> str | None:
        """The compose project (stack) it belongs to; None for `compose run`'s
        one-off containers and containers compose did not create."""
        if self.labels.get(COMPOSE_ONEOFF, "").lower() == "true":
            return None
        return self.labels.get(COMPOSE_PROJECT) or None

    @property
    def service(self) -> str:
        """Its compose service (the container's name when it has none)."""
        return self.labels.get(COMPOSE_SERVICE) or self.name

    @property
    def depends_on(self) -> dict[str, str]:
        """The services it needs first, with compose's condition for each."""
        return parse_depends_on(self.labels.get(COMPOSE_DEPENDS_ON, ""))


@dataclass(frozen=True, kw_only=True)
class ContainerStats:
    """One stats sample. Counters are cumulative bytes since the container started."""

    cpu_percent: float | None  # None on a container's first sample
    memory_usage: int | None  # bytes, page cache excluded (as `docker stats`)
    memory_limit: int | None
    network_rx: int | None  # None when the container has no network
    network_tx: int | None


@dataclass(frozen=True, kw_only=True)
class ContainerDetails:
    """What inspect adds to the list: boot time, the healthcheck's own status, and
    the container's own stop timeout (seconds; None: the engine's default)."""

    id: str
    name: str
    state: str
    started_at: dt.datetime | None
    health: str | None
    stop_timeout: int | None = None


@dataclass(frozen=True)
class _CpuSample:
    container_id: str
    total: int
    system: int


# -- small parsers (pure functions, tested directly) ----------------------------
EXITED = re.compile(r"^Exited \((-?\d+)\)")
HEALTH_IN_STATUS = re.compile(r"\((healthy|unhealthy|health: starting)\)")
UP_FOR = re.compile(r"^Up (.+?)(?: \(.*\))?$")
DURATION_UNITS = {
    "second": 1,
    "minute": 60,
    "hour": 3600,
    "day": 86400,
    "week": 7 * 86400,
    "month": 30 * 86400,
    "year": 365 * 86400,
}


def parse_version(version: str) -> tuple[int, int]:
    """'1.41' -> (1, 41); ValueError when it is not a version."""
    major, _, minor = version.strip().partition(".")
    return int(major), int(minor)


def health_from_status(status_text: str) -> str | None:
    """Health from the list's `Status` text: "Up 2 hours (healthy)" -> healthy."""
    match = HEALTH_IN_STATUS.search(status_text)
    if match is None:
        return None
    return "starting" if match.group(1) == "health: starting" else match.group(1)


def parse_depends_on(label: str) -> dict[str, str]:
    """Compose's depends_on label, "svc:condition:restart,..." -> {svc: condition}.

    The condition defaults to "service_started" when missing (older compose).
    """
    needs: dict[str, str] = {}
    for part in label.split(","):
        service, _, rest = part.strip().partition(":")
        if service:
            needs[service] = rest.partition(":")[0] or "service_started"
    return needs


def parse_labels(value: Any) -> dict[str, str]:
    """The list's `Labels` object; anything not a string is left out."""
    return {
        str(key): label
        for key, raw in opt_obj(value).items()
        if (label := opt_str(raw)) is not None
    }


def max_uptime(status_text: str) -> float | None:
    """Upper bound, in seconds, of the uptime in "Up 3 hours": Docker rounds the
    duration (go-units HumanDuration), so "Up 3 hours" is less than 4 hours."""
    match = UP_FOR.match(status_text)
    if match is None:
        return None
    text = match.group(1).lower()
    if text.startswith("less than a second"):
        return 1.0
    amount, _, unit = text.partition(" ")
    count = (
        1
        if amount in ("about", "a", "an")
        else int(amount)
        if amount.isdigit()
        else None
    )
    unit = unit.removeprefix("a ").removeprefix("an ").rstrip("s")
    if count is None or unit not in DURATION_UNITS:
        return None
    return (count + 1) * DURATION_UNITS[unit]


def parse_timestamp(value: str | None) -> dt.datetime | None:
    """Docker's RFC 3339 with nanoseconds; the zero time means 'never'.

    Anything else (another format, the 31st of February) is None, not an error.
    """
    if not value or value.startswith("0001-01-01"):
        return None
    match = re.match(
        r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(\.\d+)?(Z|[+-]\d\d:\d\d)$", value
    )
    if match is None:
        return None
    fraction = (match.group(2) or ".0")[:7]  # Python keeps microseconds
    zone = "+00:00" if match.group(3) == "Z" else match.group(3)
    try:
        return dt.datetime.fromisoformat(match.group(1) + fraction + zone)
    except ValueError:
        return None


def _created(seconds: int | None) -> dt.datetime:
    """The list's `Created` (Unix seconds); the epoch when absent or absurd."""
    try:
        return dt.datetime.fromtimestamp(seconds or 0, dt.UTC)
    except OverflowError, OSError, ValueError:
        return dt.datetime.fromtimestamp(0, dt.UTC)


def _cpu_counters(stats: JsonObject) -> tuple[int | None, int | None]:
    """(total_usage, system_cpu_usage) of a `cpu_stats` or `precpu_stats` block."""
    return (
        opt_int(opt_obj(stats.get("cpu_usage")).get("total_usage")),
        opt_int(stats.get("system_cpu_usage")),
    )


def compute_stats(
    raw: Mapping[str, Any], previous: _CpuSample | None
) -> tuple[ContainerStats, _CpuSample | None]:
    """A stats sample and the CPU counters to keep for the next cycle.

    A figure of the wrong type is left out (None), never an error.
    """
    cpu = opt_obj(raw.get("cpu_stats"))
    total, system = _cpu_counters(cpu)
    percpu = opt_obj(cpu.get("cpu_usage")).get("percpu_usage")
    online = (
        opt_int(cpu.get("online_cpus"))
        or (len(percpu) if isinstance(percpu, list) else 0)
        or 1
    )
    sample = (
        _CpuSample(text(raw.get("id")), total, system)
        if total is not None and system is not None and system > 0
        else None
    )
    pre_total, pre_system = _cpu_counters(opt_obj(raw.get("precpu_stats")))
    if pre_total is not None and pre_system is not None and pre_system > 0:
        reference: _CpuSample | None = _CpuSample(
            sample.container_id if sample else "", pre_total, pre_system
        )
    elif (
        previous is not None
        and sample is not None
        and previous.container_id == sample.container_id
    ):
        reference = previous
    else:
        reference = None
    cpu_percent = None
    if sample is not None and reference is not None:
        cpu_delta = sample.total - reference.total
        system_delta = sample.system - reference.system
        if system_delta > 0 and cpu_delta >= 0:
            cpu_percent = round(cpu_delta / system_delta * online * 100.0, 2)
    memory = opt_obj(raw.get("memory_stats"))
    usage = opt_int(memory.get("usage"))
    if usage is not None:
        extra = opt_obj(memory.get("stats"))
        # cgroup v2 names it inactive_file, v1 total_inactive_file: docker stats
        # subtracts it, so the figure matches what users compare with.
        cache = opt_int(extra.get("inactive_file", extra.get("total_inactive_file")))
        usage = max(usage - (cache or 0), 0)
    networks = [opt_obj(n) for n in opt_obj(raw.get("networks")).values()]
    rx = tx = None
    if networks:
        rx = sum(opt_int(n.get("rx_bytes")) or 0 for n in networks)
        tx = sum(opt_int(n.get("tx_bytes")) or 0 for n in networks)
    stats = ContainerStats(
        cpu_percent=cpu_percent,
        memory_usage=usage,
        memory_limit=opt_int(memory.get("limit")),
        network_rx=rx,
        network_tx=tx,
    )
    return stats, sample


def build_ssl_context(
    *,
    ca_cert: str | None,
    client_cert: str | None,
    client_key: str | None,
    verify: bool,
) -> ssl.SSLContext:
    """An SSLContext from PEM text. Blocking (CA store, temp files): run it in an
    executor. Key material touches the disk only in a 0700 directory, for the
    duration of `load_cert_chain`."""
    if verify:
        context = (
            ssl.create_default_context(cadata=ca_cert)
            if ca_cert
            else ssl.create_default_context()
        )
    else:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    if client_cert and client_key:
        directory = Path(tempfile.mkdtemp(prefix="wakehub-docker-"))
        try:
            cert_file, key_file = directory / "cert.pem", directory / "key.pem"
            for path, text in ((cert_file, client_cert), (key_file, client_key)):
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                with os.fdopen(fd, "w", encoding="ascii") as handle:
                    handle.write(text)
            context.load_cert_chain(cert_file, key_file)
        finally:
            shutil.rmtree(directory, ignore_errors=True)
    return context


# -- the client -------------------------------------------------------------------------
class DockerClient:
    """One Docker engine. See the module docstring."""

    def __init__(
        self,
        session: aiohttp.ClientSession | None,
        url: str,
        *,
        ca_cert: str | None = None,
        client_cert: str | None = None,
        client_key: str | None = None,
        verify_ssl: bool = True,
        fingerprint: str | None = None,
        timeout: float = 10.0,
        stats_concurrency: int = 4,
    ) -> None:
        parts = urlsplit(url.strip())
        self._socket_path: str | None = None
        if parts.scheme == "unix":
            if not parts.path:
                raise ValueError("unix:// needs a socket path")
            self._socket_path = parts.path
            self._base = "http://localhost"
            self.where = f"unix://{parts.path}"
        elif parts.scheme in ("tcp", "http", "https"):
            if not parts.hostname:
                raise ValueError("the Docker URL needs a host")
            tls_material = bool(ca_cert or client_cert)
            scheme = (
                "https"
                if parts.scheme == "https" or (parts.scheme == "tcp" and tls_material)
                else "http"
            )
            port = parts.port or DEFAULT_PORTS[scheme]
            host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
            self._base = f"{scheme}://{host}:{port}"
            self.where = f"{host}:{port}"
        else:
            raise ValueError(f"unsupported Docker URL scheme {parts.scheme!r}")
        if (client_cert is None) != (client_key is None):
            raise ValueError("client_cert and client_key go together")
        self._https = self._base.startswith("https://")
        self._ca_cert = ca_cert
        self._client_cert = client_cert
        self._client_key = client_key
        self._verify_ssl = verify_ssl
        self._fingerprint = fingerprint
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._session = session
        self._owns_session = self._socket_path is not None or bool(
            fingerprint and client_cert and self._https
        )
        if session is None and not self._owns_session:
            raise ValueError("a session is required for tcp/https URLs")
        self._own_session: aiohttp.ClientSession | None = None
        self._ssl: bool | aiohttp.Fingerprint | ssl.SSLContext | None = None
        self._setup_lock = asyncio.Lock()
        self._stats_limit = asyncio.Semaphore(stats_concurrency)
        self._prefix = ""  # "/v1.xx" once negotiated
        self.api_version: str | None = None
        self._cpu: dict[str, _CpuSample] = {}
        # name -> (container id, StartedAt) for started_at().
        self._started: dict[str, tuple[str, dt.datetime | None]] = {}

    # -- session, TLS, version ------------------------------------------------------
    async def close(self) -> None:
        """Close the session this client created (unix socket, pinned client cert)."""
        if self._own_session is not None:
            await self._own_session.close()
            self._own_session = None

    async def _ready(self) -> aiohttp.ClientSession:
        """The session to use; builds the TLS context and own session once."""
        async with self._setup_lock:
            if self._ssl is None:
                self._ssl = await self._ssl_argument()
            if self._owns_session:
                if self._own_session is None or self._own_session.closed:
                    connector: aiohttp.BaseConnector
                    if self._socket_path is not None:
                        connector = aiohttp.UnixConnector(path=self._socket_path)
                    else:
                        # Fingerprint on the connector, client cert per request:
                        # aiohttp checks both (see the module docstring).
                        connector = aiohttp.TCPConnector(
                            ssl=ssl_option(
                                verify_ssl=False, fingerprint=self._fingerprint
                            )
                        )
                    self._own_session = aiohttp.ClientSession(connector=connector)
                return self._own_session
            if self._session is None:  # pragma: no cover - refused in __init__
                raise RuntimeError("no session")
            return self._session

    async def _ssl_argument(self) -> bool | aiohttp.Fingerprint | ssl.SSLContext:
        if not self._https:
            return True  # ignored by aiohttp for http and unix
        if self._fingerprint and not self._client_cert:
            return ssl_option(
                verify_ssl=self._verify_ssl, fingerprint=self._fingerprint
            )
        if not (self._ca_cert or self._client_cert):
            return ssl_option(verify_ssl=self._verify_ssl, fingerprint=None)
        verify = self._verify_ssl and not self._fingerprint
        try:
            return await asyncio.get_running_loop().run_in_executor(
                None,
                lambda: build_ssl_context(
                    ca_cert=self._ca_cert,
                    client_cert=self._client_cert,
                    client_key=self._client_key,
                    verify=verify,
                ),
            )
        except (ssl.SSLError, ValueError, OSError) as err:
            # The PEM text itself is wrong: never echo it (it may hold the key).
            raise CertificateError(
                f"the TLS certificates for {self.where} cannot be loaded: {type(err).__name__}"
            ) from err

    async def _negotiate(self) -> str:
        """`GET /_ping`: is it Docker, which API version to speak."""
        self.api_version, self._prefix = None, ""
        try:
            status, headers, _body = await self._raw("GET", "/_ping")
        except CannotConnect as err:
            if self._https and _hung_up_on_tls(err):
                # With TLS 1.3 a refused client certificate is only noticed after
                # the handshake: the engine hangs up (or sends an alert) instead
                # of answering.
                raise CertificateError(
                    f"{self.where} closed the TLS connection without answering: "
                    "it requires a client certificate signed by its CA"
                ) from err
            raise
        advertised = headers.get("Api-Version")
        if status != 200 or advertised is None:
            raise NotThatKind(
                f"{self.where} is not a Docker engine (/_ping answered {status})"
            )
        try:
            version = parse_version(advertised)
        except ValueError as err:
            raise NotThatKind(f"{self.where} sent an unreadable API version") from err
        if version < MIN_API_VERSION:
            raise DockerEngineTooOld(
                f"the Docker engine at {self.where} speaks API {advertised}; "
                f"WakeHub needs {'.'.join(map(str, MIN_API_VERSION))} or newer (Docker 20.10+)",
                advertised,
            )
        chosen = min(version, MAX_API_VERSION)
        self.api_version = f"{chosen[0]}.{chosen[1]}"
        self._prefix = f"/v{self.api_version}"
        return self.api_version

    # -- HTTP ----------------------------------------------------------------------------
    async def _raw(
        self,
        method: str,
        path: str,
        params: Mapping[str, str] | None = None,
        timeout: aiohttp.ClientTimeout | None = None,
    ) -> tuple[int, Mapping[str, str], bytes]:
        session = await self._ready()
        ssl_arg = self._ssl if self._https and self._ssl is not None else True
        async with transport_errors(self.where):
            try:
                async with session.request(
                    method,
                    self._base + path,
                    params=params,
                    timeout=timeout or self._timeout,
                    ssl=ssl_arg,
                ) as response:
                    body = await read_body(response, self.where)
                    return response.status, response.headers, body
            except aiohttp.ClientSSLError:
                raise  # transport_errors names certificate problems
            except aiohttp.ClientOSError as err:
                if (mapped := self._os_error(err)) is None:
                    raise
                raise mapped from err
            except aiohttp.ClientResponseError as err:
                # Something answered, but not with HTTP a client can read.
                raise NotThatKind(
                    f"{self.where} did not answer like a Docker engine"
                ) from err

    def _os_error(self, err: aiohttp.ClientOSError) -> CannotConnect | None:
        """Name the unix-socket failures users can fix (None: generic)."""
        os_error: BaseException = getattr(err, "os_error", None) or err.__cause__ or err
        if self._socket_path is not None:
            if isinstance(os_error, FileNotFoundError):
                return DockerSocketMissing(
                    f"{self.where} does not exist: is Docker installed, "
                    "or the socket mounted?"
                )
            if isinstance(os_error, PermissionError):
                return DockerSocketPermission(
                    f"no permission to open {self.where}: the user running Home "
                    "Assistant needs access to it (docker group)"
                )
            if isinstance(os_error, ConnectionRefusedError):
                return CannotConnect(
                    f"nothing listens on {self.where}: is the Docker engine running?"
                )
        return None

    async def _request(
        self,
        method: str,
        path: str,
        params: Mapping[str, str] | None = None,
        *,
        ok: tuple[int, ...] = (200,),
        timeout: aiohttp.ClientTimeout | None = None,
    ) -> Any:
        """A versioned API call; returns the decoded JSON (None without body)."""
        if self.api_version is None:
            await self._negotiate()
        status, headers, body = await self._raw(
            method, self._prefix + path, params, timeout
        )
        if status not in ok:
            raise _api_error(status, body)
        if not body and method != "GET":
            return None  # an action's answer (204, 304) has no body
        if not is_json(headers.get("Content-Type", "")):
            raise InvalidResponse(
                f"{self.where} answered {path} with something not JSON"
            )
        return decode_json(body, self.where, f"{method} {path}")

    # -- the connection test ------------------------------------------------------------
    async def connect(self) -> EngineInfo:
        """Negotiate the API version and identify the engine (`GET /_ping`, `/info`)."""
        api_version = await self._negotiate()
        try:
            info = await self._request("GET", "/info")
        except InvalidResponse as err:
            # It pinged like an engine, but its /info is not Docker's.
            raise NotThatKind(f"{self.where}: {err.message}") from err
        if not isinstance(info, dict) or not text(info.get("ID")):
            raise NotThatKind(f"{self.where} answered /info without an engine ID")
        return EngineInfo(
            id=text(info["ID"]),
            name=text(info.get("Name")),
            server_version=text(info.get("ServerVersion")),
            api_version=api_version,
            operating_system=text(info.get("OperatingSystem")),
            os_type=opt_str(info.get("OSType")),
            architecture=opt_str(info.get("Architecture")),
        )

    # -- polling ----------------------------------------------------------------------------
    async def list_containers(self) -> dict[str, Container]:
        """Every container (running or not), by name: one request per cycle."""
        items = await self._request("GET", "/containers/json", {"all": "1"})
        containers: dict[str, Container] = {}
        for item in objects(items, "the container list"):
            container_id = required_str(item, "Id", "a container of the list")
            names = item.get("Names")
            first = names[0] if isinstance(names, list) and names else None
            name = (text(first) or container_id).removeprefix("/")
            status_text = text(item.get("Status"))
            health = opt_obj(item.get("Health")).get("Status")
            if health not in ("healthy", "unhealthy", "starting"):
                health = health_from_status(status_text)
            containers[name] = Container(
                name=name,
                id=container_id,
                image=text(item.get("Image")),
                state=text(item.get("State")).lower(),
                status_text=status_text,
                created=_created(opt_int(item.get("Created"))),
                health=health,
                labels=parse_labels(item.get("Labels")),
            )
        self._forget_gone(containers)
        return containers

    def _forget_gone(self, containers: Mapping[str, Container]) -> None:
        """Drop caches of containers that were removed or recreated."""
        ids = {c.id for c in containers.values()}
        self._cpu = {name: s for name, s in self._cpu.items() if s.container_id in ids}
        self._started = {
            name: cached
            for name, cached in self._started.items()
            if name in containers and containers[name].id == cached[0]
        }

    async def container_stats(
        self, containers: Iterable[Container]
    ) -> dict[str, ContainerStats]:
        """Stats of the given containers that are running, concurrently but at most
        `stats_concurrency` requests at once. A container that vanished meanwhile
        is left out; other errors are raised."""
        running = [c for c in containers if c.running]
        results = await asyncio.gather(*(self._one_stats(c) for c in running))
        return {name: stats for name, stats in results if stats is not None}

    async def _one_stats(
        self, container: Container
    ) -> tuple[str, ContainerStats | None]:
        async with self._stats_limit:
            try:
                raw = await self._request(
                    "GET",
                    f"/containers/{container.id}/stats",
                    {"stream": "false", "one-shot": "true"},
                )
            except NotFound:
                return container.name, None
        stats, sample = compute_stats(opt_obj(raw), self._cpu.get(container.name))
        if sample is not None:
            self._cpu[container.name] = sample
        return container.name, stats

    async def started_at(self, container: Container) -> dt.datetime | None:
        """When the container last started (the uptime sensor), inspecting it only
        when it is new or has restarted since the last inspect."""
        if not container.running:
            self._started.pop(container.name, None)
            return None
        cached = self._started.get(container.name)
        if (
            cached is not None
            and cached[0] == container.id
            and not _restarted_since(container, cached[1])
        ):
            return cached[1]
        details = await self.inspect(container.id)
        self._started[container.name] = (container.id, details.started_at)
        return details.started_at

    async def inspect(self, name: str) -> ContainerDetails:
        """`GET /containers/{name}/json`: start time and healthcheck status."""
        raw = obj(
            await self._request("GET", f"/containers/{name}/json"), "the inspect answer"
        )
        state = opt_obj(raw.get("State"))
        health = opt_obj(state.get("Health")).get("Status")
        stop_timeout = opt_int(opt_obj(raw.get("Config")).get("StopTimeout"))
        return ContainerDetails(
            id=text(raw.get("Id")),
            name=text(raw.get("Name"), name).removeprefix("/"),
            state=text(state.get("Status")).lower(),
            started_at=parse_timestamp(opt_str(state.get("StartedAt"))),
            health=health if health in ("healthy", "unhealthy", "starting") else None,
            stop_timeout=stop_timeout
            if isinstance(stop_timeout, int) and not isinstance(stop_timeout, bool)
            else None,
        )

    # -- actions ----------------------------------------------------------------------------
    async def start(self, name: str) -> None:
        """Start; an already running container is success (304)."""
        await self._action(name, "start", ok=(204, 304))

    async def stop(
        self, name: str, timeout: int | None = None, *, wait: float | None = None
    ) -> None:
        """Graceful stop, as `docker stop`: SIGTERM, then SIGKILL after `timeout`
        seconds (None: no `t` is sent, the engine applies the container's own stop
        timeout, else its default). An already stopped container is success (304).

        The engine answers only once the container has stopped, so the request
        may last the whole grace period: it is given `wait` seconds (default:
        `timeout`, else ENGINE_STOP_TIMEOUT) plus the client's own timeout.
        """
        params = {"t": str(timeout)} if timeout is not None else None
        await self._action(
            name, "stop", params, ok=(204, 304), wait=_grace_wait(timeout, wait)
        )

    async def restart(
        self, name: str, timeout: int | None = None, *, wait: float | None = None
    ) -> None:
        """Stop as `stop()` does, then start again; the engine answers once it runs."""
        params = {"t": str(timeout)} if timeout is not None else None
        await self._action(name, "restart", params, wait=_grace_wait(timeout, wait))

    async def kill(self, name: str, signal: str | None = None) -> None:
        """Force stop (SIGKILL unless `signal` says otherwise)."""
        await self._action(name, "kill", {"signal": signal} if signal else None)

    async def pause(self, name: str) -> None:
        """Freeze every process of the container (cgroup freezer); a container that
        is not running is a Conflict with the engine's message."""
        await self._action(name, "pause")

    async def unpause(self, name: str) -> None:
        """Thaw a paused container; one that is not paused is a Conflict."""
        await self._action(name, "unpause")

    async def _action(
        self,
        name: str,
        action: str,
        params: Mapping[str, str] | None = None,
        *,
        ok: tuple[int, ...] = (204,),
        wait: float | None = None,
    ) -> None:
        self._started.pop(name, None)  # it (re)starts: inspect again next time
        timeout = None
        if wait is not None:
            # The engine answers only once the container stopped, up to `wait`.
            timeout = aiohttp.ClientTimeout(total=wait + (self._timeout.total or 0))
        await self._request(
            "POST", f"/containers/{name}/{action}", params, ok=ok, timeout=timeout
        )


def _grace_wait(timeout: int | None, wait: float | None) -> float:
    """How long a stop may take on the engine before it answers."""
    if wait is not None:
        return wait
    return float(timeout if timeout is not None else ENGINE_STOP_TIMEOUT)


def _restarted_since(container: Container, started: dt.datetime | None) -> bool:
    """Does the list's "Up ..." say the container started after `started`?"""
    bound = max_uptime(container.status_text)
    if started is None or bound is None:
        return started is None
    return (dt.datetime.now(dt.UTC) - started).total_seconds() > bound + 2


def _hung_up_on_tls(err: CannotConnect) -> bool:
    """Did the server end the TLS session before answering (refused client cert)?"""
    cause = err.__cause__
    if isinstance(cause, aiohttp.ServerDisconnectedError):
        return True
    return isinstance(cause, aiohttp.ClientOSError) and "alert" in str(cause).lower()


def _api_error(status: int, body: bytes) -> Exception:
    """Docker's `{"message": ...}` error answers, mapped to errors.py."""
    message = ""
    # The error's text is a bonus: an unreadable body still maps by status.
    with contextlib.suppress(InvalidResponse):
        message = text(
            opt_obj(decode_json(body, "the engine", "an error")).get("message")
        )
    message = (
        message or body[:200].decode("utf-8", "replace").strip() or f"HTTP {status}"
    )
    if status == 404:
        return NotFound(message)
    if status == 409:
        return Conflict(message)
    if status == 401:
        return InvalidAuth(message)
    if status == 403:
        return PermissionDenied(message)
    return ApiError(status, message)
