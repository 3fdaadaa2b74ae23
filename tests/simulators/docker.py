"""A stateful Docker Engine on loopback (TCP, TLS, TLS with client certificates, or
a unix socket), checked against moby's Swagger files.

Serves `/_ping`, `/version`, `/info`, `/containers/json`, `/containers/{id}/json`,
`/containers/{id}/stats`, and `start|stop|restart|kill|pause|unpause`, with or
without the `/v1.xx` prefix. Containers are found by id, id prefix or name, like
the real engine. Actions take `start_delay`/`stop_delay` seconds and answer like
the engine does (204, 304 when already in that state, `{"message": ...}` errors).

Stop and restart behave as the engine's: SIGTERM, and SIGKILL once the grace
period is over (the `t` query, else the container's `stop_timeout`, else
`default_stop_timeout`). A container exits `stop_delay` seconds after SIGTERM
(code 0), unless that is longer than the grace period or it `ignores_sigterm`
(a shell script as PID 1): then it is killed at the end of the grace period
(code 137), and `killed_after` records that period. `second` is how long one
second of a grace period lasts, so tests can shrink it. A grace period of -1
(`--stop-timeout -1`) never kills. For a container that `honours_signals`,
`kill` with a `signal` other than SIGKILL is a polite one: ignored when it
`ignores_sigterm`, else it exits (code 0) `stop_delay` seconds later.

Knobs (constructor fields and methods):
- `api_version` ("1.56", "1.41", or "1.30" to test rejection), `min_api_version`;
- `tls` (self-signed server certificate), `client_ca` (a `DockerTls`: the server
  certificate is signed by its CA and client certificates are required),
  `unix_socket` (listen on that path instead of TCP);
- `delay` (every answer), `start_delay`, `stop_delay`, `stats_delay`,
  `default_stop_timeout`, `second`;
- `container_count` (N generated containers: the benchmark uses 10/100/500);
- `add_container(...)` (`stop_timeout=`, `ignores_sigterm=` among its fields),
  `recreate(name)` (same name, new id), `set_health(name, s)`,
  `set_state(name, s)`, `fail_start(name, message)`, `fail_next(suffix, status,
  message)` (the next request whose path ends with suffix gets that error body);
- `labels=` on a container; `add_stack(project, {service: [needs...]})` creates a
  compose project's containers (`{project}-{service}-1`) labelled as compose does
  (a need is "svc" or "svc:condition"); `runs_for=` (and `job_exit_code=`) makes a
  container a one-shot job that exits by itself once started;
- `max_concurrent_stats` (highest number of stats requests served at once);
- `await serve_page(name)`: the container serves a tiny web page on a loopback
  port of its own (the URL is returned) only while it runs and the engine is up
  (a stopped container refuses connections); `page_hits[name]` counts requests;
  `await stop_pages()` closes them all.

Standalone for the demo: `python -m tests.simulators.docker --port 2375`
(add `--tls`, `--client-certs DIR` or `--unix PATH`).
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Awaitable, Callable
import contextlib
from dataclasses import dataclass, field
import datetime as dt
import ipaddress
from pathlib import Path
import re
import secrets
import ssl
import tempfile
from typing import Any

from aiohttp import web
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from tests.contract.docker import check_exchange, parse_version
from tests.simulators.base import HttpSimulator

ENGINE_VERSION = {"1.56": "29.0.0", "1.41": "20.10.24"}
VERSION_PREFIX = re.compile(r"^/v(\d+\.\d+)(/.*)$")


# -- TLS material ---------------------------------------------------------------
def _key_pem(key: ec.EllipticCurvePrivateKey) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


def _cert(
    subject: str,
    key: ec.EllipticCurvePrivateKey,
    issuer: x509.Name | None = None,
    issuer_key: ec.EllipticCurvePrivateKey | None = None,
    *,
    ca: bool = False,
    server: bool = False,
) -> x509.Certificate:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)])
    now = dt.datetime.now(dt.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(issuer or name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=365))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if ca:
        builder = builder.add_extension(
            x509.KeyUsage(
                digital_signature=True, content_commitment=False,
                key_encipherment=False, data_encipherment=False, key_agreement=False,
                key_cert_sign=True, crl_sign=True, encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )  # fmt: skip
        builder = builder.add_extension(
            x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False
        )
    elif server:
        builder = builder.add_extension(
            x509.SubjectAlternativeName(
                [
                    x509.DNSName("localhost"),
                    x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
                ]
            ),
            critical=False,
        ).add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False
        )
    else:
        builder = builder.add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False
        )
    if issuer_key is not None:
        issuer_cert_key = issuer_key.public_key()
        builder = builder.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_cert_key),
            critical=False,
        )
    return builder.sign(issuer_key or key, hashes.SHA256())


@dataclass(frozen=True)
class DockerTls:
    """A CA, a server certificate for 127.0.0.1 and a client certificate, as PEM
    strings: what `dockerd --tlsverify` and `docker --tlsverify` are given.

    `rogue_client_cert/key` is a client certificate from another CA: the engine
    must refuse it.
    """

    ca_cert: str
    server_cert: str
    server_key: str
    client_cert: str
    client_key: str
    rogue_client_cert: str
    rogue_client_key: str
    server_der: bytes

    @classmethod
    def generate(cls) -> DockerTls:
        ca_key = ec.generate_private_key(ec.SECP256R1())
        ca = _cert("WakeHub test CA", ca_key, ca=True)
        server_key = ec.generate_private_key(ec.SECP256R1())
        server = _cert("localhost", server_key, ca.subject, ca_key, server=True)
        client_key = ec.generate_private_key(ec.SECP256R1())
        client = _cert("client", client_key, ca.subject, ca_key)
        rogue_ca_key = ec.generate_private_key(ec.SECP256R1())
        rogue_ca = _cert("Rogue CA", rogue_ca_key, ca=True)
        rogue_key = ec.generate_private_key(ec.SECP256R1())
        rogue = _cert("rogue", rogue_key, rogue_ca.subject, rogue_ca_key)
        pem = serialization.Encoding.PEM
        return cls(
            ca_cert=ca.public_bytes(pem).decode(),
            server_cert=server.public_bytes(pem).decode(),
            server_key=_key_pem(server_key),
            client_cert=client.public_bytes(pem).decode(),
            client_key=_key_pem(client_key),
            rogue_client_cert=rogue.public_bytes(pem).decode(),
            rogue_client_key=_key_pem(rogue_key),
            server_der=server.public_bytes(serialization.Encoding.DER),
        )

    def server_context(self, *, require_client_cert: bool = True) -> ssl.SSLContext:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        with tempfile.TemporaryDirectory() as tmp:
            cert_file = Path(tmp) / "cert.pem"
            key_file = Path(tmp) / "key.pem"
            cert_file.write_text(self.server_cert)
            key_file.write_text(self.server_key)
            context.load_cert_chain(cert_file, key_file)
        if require_client_cert:
            context.verify_mode = ssl.CERT_REQUIRED
            context.load_verify_locations(cadata=self.ca_cert)
        return context


# -- the engine's state ---------------------------------------------------------
def human_duration(seconds: float) -> str:  # noqa: PLR0911
    """go-units HumanDuration, which the engine uses in the `Status` text."""
    secs = int(seconds)
    if secs < 1:
        return "Less than a second"
    if secs == 1:
        return "1 second"
    if secs < 60:
        return f"{secs} seconds"
    minutes = int(seconds / 60)
    if minutes == 1:
        return "About a minute"
    if minutes < 60:
        return f"{minutes} minutes"
    hours = int(seconds / 3600 + 0.5)
    if hours == 1:
        return "About an hour"
    if hours < 48:
        return f"{hours} hours"
    if hours < 24 * 7 * 2:
        return f"{hours // 24} days"
    if hours < 24 * 30 * 2:
        return f"{hours // 24 // 7} weeks"
    if hours < 24 * 365 * 2:
        return f"{hours // 24 // 30} months"
    return f"{int(seconds / 3600 / 24 / 365)} years"


def _rfc3339(when: dt.datetime | None) -> str:
    if when is None:
        return "0001-01-01T00:00:00Z"
    return when.strftime("%Y-%m-%dT%H:%M:%S.%f") + "000Z"


@dataclass
class SimContainer:
    """One container as the engine keeps it."""

    name: str
    image: str = "nginx:1.27"
    state: str = "running"
    id: str = field(default_factory=lambda: secrets.token_hex(32))
    created: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))
    started_at: dt.datetime | None = None
    finished_at: dt.datetime | None = None
    exit_code: int = 0
    healthcheck: bool = False
    health: str | None = None  # current: starting/healthy/unhealthy while running
    health_target: str = "healthy"  # what a started container's check settles on
    fail_start: str | None = None
    cpu_load: float = 0.05  # fraction of one CPU while running
    stop_timeout: int | None = None  # Config.StopTimeout (None: the engine's)
    ignores_sigterm: bool = False  # PID 1 without a TERM handler, or trapping it
    # `kill` with another signal than SIGKILL acts as that signal (see the module
    # docstring); False: any kill kills (code 137).
    honours_signals: bool = False
    # Names a legacy link (`docker run --link db:db app`) gives it, "/app/db":
    # the engine lists every name, sorted, so an alias may come first.
    link_names: list[str] = field(default_factory=list)
    killed_after: float | None = None  # grace period of the last SIGKILL on stop
    memory: int = 48 * 1024 * 1024
    networked: bool = True
    cpu_total_ns: int = 0
    sampled_at: float | None = None
    rx_bytes: int = 0
    tx_bytes: int = 0
    labels: dict[str, str] = field(default_factory=dict)
    # A one-shot job: once started, it exits by itself after this long.
    runs_for: float | None = None
    job_exit_code: int = 0

    def status_text(self, now: dt.datetime) -> str:
        """The list's human `Status`, health suffix included, as the engine says."""
        since_start = (now - (self.started_at or now)).total_seconds()
        since_finish = (now - (self.finished_at or now)).total_seconds()
        if self.state == "running":
            text = f"Up {human_duration(since_start)}"
            if self.health == "starting":
                text += " (health: starting)"
            elif self.health in ("healthy", "unhealthy"):
                text += f" ({self.health})"
            return text
        if self.state == "paused":
            return f"Up {human_duration(since_start)} (Paused)"
        if self.state == "exited":
            return f"Exited ({self.exit_code}) {human_duration(since_finish)} ago"
        if self.state == "restarting":
            return f"Restarting ({self.exit_code}) {human_duration(since_finish)} ago"
        return {
            "created": "Created",
            "dead": "Dead",
            "removing": "Removal In Progress",
        }[self.state]


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass
class DockerSimulator(HttpSimulator):
    """Docker Engine double. See the module docstring for the knobs."""

    tls: bool = False
    api_version: str = "1.56"
    min_api_version: str = "1.24"
    client_ca: DockerTls | None = None
    unix_socket: str | None = None
    delay: float = 0.0
    start_delay: float = 0.0
    stop_delay: float = 0.0
    stats_delay: float = 0.0
    health_delay: float = 0.05
    default_stop_timeout: int = 10  # the daemon's, for containers that set none
    second: float = 1.0  # how long one second of a stop grace period lasts
    container_count: int = 0
    engine_id: str = "c5a0e4a1-7d0b-4c7e-9a1e-5f1f0a3b2d11"
    engine_name: str = "docker-host"
    ncpu: int = 4
    mem_total: int = 8 * 1024**3
    containers: dict[str, SimContainer] = field(default_factory=dict)
    max_concurrent_stats: int = 0
    _stats_in_flight: int = 0
    _failures: list[tuple[str, int, str]] = field(default_factory=list)
    _timers: list[asyncio.TimerHandle] = field(default_factory=list)
    _boot: float = 0.0
    page_hits: dict[str, int] = field(default_factory=dict)
    _pages: dict[str, _PageServer] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for index in range(self.container_count):
            self.add_container(
                f"app-{index:03d}",
                image=f"example/app{index % 7}:latest",
                state="running" if index % 3 else "exited",
                health="healthy" if index % 5 == 0 else None,
            )

    # -- pokes from tests ---------------------------------------------------------
    def add_container(
        self, name: str, *, health: str | None = None, **fields: Any
    ) -> SimContainer:
        """A container; `health` gives it a healthcheck settling on that status."""
        container = SimContainer(name=name, **fields)
        if health is not None:
            container.healthcheck = True
            container.health_target = health
            container.health = health if container.state == "running" else None
        now = dt.datetime.now(dt.UTC)
        if container.state in ("running", "paused") and container.started_at is None:
            container.started_at = now - dt.timedelta(hours=3)
        if container.state == "exited" and container.finished_at is None:
            container.started_at = now - dt.timedelta(days=2)
            container.finished_at = now - dt.timedelta(days=1)
        self.containers[name] = container
        return container

    def recreate(self, name: str, **fields: Any) -> SimContainer:
        """`docker compose up` after an image update: same name, new id."""
        old = self.containers.pop(name)
        state = fields.pop("state", old.state)
        health = fields.pop("health", old.health_target if old.healthcheck else None)
        return self.add_container(
            name, image=fields.pop("image", old.image), state=state,
            health=health, labels=fields.pop("labels", old.labels), **fields,
        )  # fmt: skip

    def add_stack(
        self, project: str, services: dict[str, list[str]], **fields: Any
    ) -> list[SimContainer]:
        """A compose project: one container per service, `{project}-{service}-1`,
        with compose's labels; `services` maps each to the services it needs
        ("svc", condition service_started, or "svc:condition"). `fields` apply
        to every container."""
        return [
            self.add_container(
                f"{project}-{service}-1",
                labels={
                    "com.docker.compose.project": project,
                    "com.docker.compose.service": service,
                    "com.docker.compose.container-number": "1",
                    "com.docker.compose.oneoff": "False",
                    "com.docker.compose.depends_on": ",".join(
                        f"{need if ':' in need else need + ':service_started'}:false"
                        for need in needs
                    ),
                },
                **fields,
            )
            for service, needs in services.items()
        ]

    def set_health(self, name: str, status: str) -> None:
        """The healthcheck now reports `status` (and settles there after starts)."""
        container = self.containers[name]
        container.healthcheck = True
        container.health_target = status
        if container.state == "running":
            container.health = status

    def set_state(self, name: str, state: str) -> None:
        self.containers[name].state = state

    def fail_start(self, name: str, message: str) -> None:
        """Starting this container fails with the engine's 500 and `message`."""
        self.containers[name].fail_start = message

    def fail_next(self, path_suffix: str, status: int, message: str) -> None:
        """The next request whose path ends with `path_suffix` gets this error."""
        self._failures.append((path_suffix, status, message))

    # -- each container's own service -----------------------------------------------
    async def serve_page(self, name: str) -> str:
        """Serve a page for container `name` while it runs; return its URL."""
        server = _PageServer(self, name)
        await server.bind()
        self._pages[name] = server
        self.page_hits.setdefault(name, 0)
        return f"http://{self.host}:{server.port}/"

    async def stop_pages(self) -> None:
        for server in self._pages.values():
            await server.close()
        self._pages.clear()

    def page_serving(self, name: str) -> bool:
        """Whether `name`'s page answers now (it runs, on an engine that is up)."""
        container = self.containers.get(name)
        return (
            container is not None
            and container.state == "running"
            and self._runner is not None
        )

    # -- lifecycle ------------------------------------------------------------------
    @property
    def docker_url(self) -> str:
        """What the user types in the wizard's `url` field."""
        if self.unix_socket:
            return f"unix://{self.unix_socket}"
        return f"{'https' if self.tls else 'tcp'}://{self.host}:{self.port}"

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        self._boot = loop.time()
        self.quiet_refused_handshakes()
        app = web.Application(middlewares=[self._record, self._engine])
        app.on_response_prepare.append(self._headers)
        self.setup_routes(app)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        if self.unix_socket:
            await web.UnixSite(self._runner, self.unix_socket).start()
            return
        ssl_context = None
        if self.client_ca is not None:
            self.tls = True
            ssl_context = self.client_ca.server_context()
        elif self.tls:
            ssl_context = self._self_signed_context()
        site = web.TCPSite(self._runner, self.host, self.port, ssl_context=ssl_context)
        await site.start()
        server = site._server
        assert server is not None
        self.port = server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    async def stop(self) -> None:
        for timer in self._timers:
            timer.cancel()
        self._timers.clear()
        await super().stop()
        self.restore_loop_handler()

    def _self_signed_context(self) -> ssl.SSLContext:
        from tests.simulators.base import SelfSignedCertificate

        if self.certificate is None:
            self.certificate = SelfSignedCertificate.generate()
        return self.certificate.server_context()

    def setup_routes(self, app: web.Application) -> None:
        for prefix in ("", "/v{version:[0-9]+\\.[0-9]+}"):
            add = app.router.add_route
            add("GET", prefix + "/_ping", self._ping)
            add("HEAD", prefix + "/_ping", self._ping)
            add("GET", prefix + "/version", self._version)
            add("GET", prefix + "/info", self._info)
            add("GET", prefix + "/containers/json", self._list)
            add("GET", prefix + "/containers/{ref}/json", self._inspect)
            add("GET", prefix + "/containers/{ref}/stats", self._stats)
            for action in ("start", "stop", "restart", "kill", "pause", "unpause"):
                add("POST", prefix + "/containers/{ref}/" + action, self._action)

    def check_contract(
        self, request: web.Request, body: bytes, response: web.StreamResponse
    ) -> list[str]:
        payload = getattr(response, "body", None) or b""
        if not isinstance(payload, bytes):
            payload = b""
        return check_exchange(
            self.api_version,
            request.method,
            request.path,
            query=dict(request.query),
            status=response.status,
            content_type=response.content_type if payload else "",
            body=payload,
        )

    # -- engine-wide behaviour --------------------------------------------------------
    async def _headers(
        self, request: web.Request, response: web.StreamResponse
    ) -> None:
        engine = ENGINE_VERSION.get(self.api_version, "19.03.15")
        response.headers["Api-Version"] = self.api_version
        response.headers["Server"] = f"Docker/{engine} (linux)"
        response.headers["Docker-Experimental"] = "false"
        response.headers["Ostype"] = "linux"

    @web.middleware
    async def _engine(
        self, request: web.Request, handler: Handler
    ) -> web.StreamResponse:
        if self.delay:
            await asyncio.sleep(self.delay)
        if version := request.match_info.get("version"):
            asked, highest = parse_version(version), parse_version(self.api_version)
            if asked > highest:
                return _error(
                    400,
                    f"client version {version} is too new. Maximum supported API "
                    f"version is {self.api_version}",
                )
            if asked < parse_version(self.min_api_version):
                return _error(
                    400,
                    f"client version {version} is too old. Minimum supported API "
                    f"version is {self.min_api_version}, please upgrade your client "
                    "to a newer version",
                )
        for index, (suffix, status, message) in enumerate(self._failures):
            if request.path.endswith(suffix):
                del self._failures[index]
                return _error(status, message)
        try:
            return await handler(request)
        except _NoSuchContainer as err:
            return _error(404, f"No such container: {err}")

    def _find(self, ref: str) -> SimContainer:
        """By name, full id or unique id prefix, like the engine."""
        ref = ref.removeprefix("/")
        if ref in self.containers:
            return self.containers[ref]
        matches = [c for c in self.containers.values() if c.id.startswith(ref)]
        if len(matches) == 1 and ref:
            return matches[0]
        raise _NoSuchContainer(ref)

    # -- handlers ---------------------------------------------------------------------
    async def _ping(self, request: web.Request) -> web.Response:
        response = web.Response(text="OK", content_type="text/plain")
        response.headers["Cache-Control"] = "no-cache, no-store, must-revalidate"
        response.headers["Pragma"] = "no-cache"
        return response

    async def _version(self, request: web.Request) -> web.Response:
        engine = ENGINE_VERSION.get(self.api_version, "19.03.15")
        return web.json_response(
            {
                "Platform": {"Name": "Docker Engine - Community"},
                "Components": [{"Name": "Engine", "Version": engine}],
                "Version": engine,
                "ApiVersion": self.api_version,
                "MinAPIVersion": self.min_api_version,
                "GitCommit": "5d6db84",
                "GoVersion": "go1.24.5",
                "Os": "linux",
                "Arch": "amd64",
                "KernelVersion": "6.12.0-amd64",
            }
        )

    async def _info(self, request: web.Request) -> web.Response:
        states = [c.state for c in self.containers.values()]
        return web.json_response(
            {
                "ID": self.engine_id,
                "Containers": len(states),
                "ContainersRunning": states.count("running"),
                "ContainersPaused": states.count("paused"),
                "ContainersStopped": len(states)
                - states.count("running")
                - states.count("paused"),
                "Images": len({c.image for c in self.containers.values()}),
                "Driver": "overlay2",
                "KernelVersion": "6.12.0-amd64",
                "OperatingSystem": "Debian GNU/Linux 13 (trixie)",
                "OSType": "linux",
                "Architecture": "x86_64",
                "NCPU": self.ncpu,
                "MemTotal": self.mem_total,
                "Name": self.engine_name,
                "ServerVersion": ENGINE_VERSION.get(self.api_version, "19.03.15"),
            }
        )

    async def _list(self, request: web.Request) -> web.Response:
        show_all = request.query.get("all", "false") in ("1", "true", "True", "t")
        now = dt.datetime.now(dt.UTC)
        with_health = parse_version(self.api_version) >= (1, 52)
        items = []
        for c in self.containers.values():
            if not show_all and c.state != "running":
                continue
            item: dict[str, Any] = {
                "Id": c.id,
                "Names": sorted([f"/{c.name}", *c.link_names]),
                "Image": c.image,
                "ImageID": "sha256:" + secrets.token_hex(32),
                "Command": "/docker-entrypoint.sh",
                "Created": int(c.created.timestamp()),
                "Ports": [],
                "Labels": dict(c.labels),
                "State": c.state,
                "Status": c.status_text(now),
                "HostConfig": {"NetworkMode": "bridge" if c.networked else "none"},
                "NetworkSettings": {"Networks": {}},
                "Mounts": [],
            }
            if with_health:
                item["Health"] = {
                    "Status": c.health if c.state == "running" and c.health else "none",
                    "FailingStreak": 0,
                }
            items.append(item)
        return web.json_response(items)

    async def _inspect(self, request: web.Request) -> web.Response:
        c = self._find(request.match_info["ref"])
        state: dict[str, Any] = {
            "Status": c.state,
            "Running": c.state in ("running", "paused", "restarting"),
            "Paused": c.state == "paused",
            "Restarting": c.state == "restarting",
            "OOMKilled": False,
            "Dead": c.state == "dead",
            "Pid": 4242 if c.state == "running" else 0,
            "ExitCode": c.exit_code,
            "Error": "",
            "StartedAt": _rfc3339(c.started_at),
            "FinishedAt": _rfc3339(c.finished_at),
        }
        if c.healthcheck:
            state["Health"] = {
                "Status": c.health or "none",
                "FailingStreak": 3 if c.health == "unhealthy" else 0,
                "Log": [],
            }
        return web.json_response(
            {
                "Id": c.id,
                "Created": _rfc3339(c.created),
                "Path": "/docker-entrypoint.sh",
                "Args": [],
                "State": state,
                "Image": "sha256:" + secrets.token_hex(32),
                "Name": f"/{c.name}",
                "RestartCount": 0,
                "Driver": "overlay2",
                "Platform": "linux",
                "Config": {
                    "Image": c.image,
                    "Hostname": c.id[:12],
                    "Labels": dict(c.labels),
                }
                | ({} if c.stop_timeout is None else {"StopTimeout": c.stop_timeout}),
            }
        )

    async def _stats(self, request: web.Request) -> web.Response:
        c = self._find(request.match_info["ref"])
        self._stats_in_flight += 1
        self.max_concurrent_stats = max(
            self.max_concurrent_stats, self._stats_in_flight
        )
        try:
            if self.stats_delay:
                await asyncio.sleep(self.stats_delay)
        finally:
            self._stats_in_flight -= 1
        now = asyncio.get_running_loop().time()
        running = c.state == "running"
        if running:
            # Counters grow with time, as cgroups' do: cpu_load of one CPU.
            elapsed = now - (c.sampled_at or now - 1.0)
            c.cpu_total_ns += int(c.cpu_load * elapsed * 1e9)
            c.rx_bytes += int(15_000 * elapsed) + 1
            c.tx_bytes += int(4_000 * elapsed) + 1
            c.sampled_at = now
        system_ns = int((now - self._boot + 3600) * 1e9 * self.ncpu)
        empty_cpu = {
            "cpu_usage": {"total_usage": 0, "usage_in_kernelmode": 0, "usage_in_usermode": 0},
            "throttling_data": {"periods": 0, "throttled_periods": 0, "throttled_time": 0},
        }  # fmt: skip
        body: dict[str, Any] = {
            "id": c.id,
            "name": f"/{c.name}",
            "read": _rfc3339(dt.datetime.now(dt.UTC)),
            "preread": _rfc3339(None),
            "pids_stats": {"current": 3} if running else {},
            "num_procs": 0,
            "cpu_stats": {
                "cpu_usage": {
                    "total_usage": c.cpu_total_ns,
                    "usage_in_kernelmode": c.cpu_total_ns // 3,
                    "usage_in_usermode": c.cpu_total_ns - c.cpu_total_ns // 3,
                },
                "system_cpu_usage": system_ns,
                "online_cpus": self.ncpu,
                "throttling_data": empty_cpu["throttling_data"],
            }
            if running
            else empty_cpu,
            # one-shot: the engine does not wait for a second sample.
            "precpu_stats": empty_cpu,
            "memory_stats": {
                "usage": c.memory + 8 * 1024 * 1024,
                "stats": {"inactive_file": 8 * 1024 * 1024, "anon": c.memory},
                "limit": self.mem_total,
            }
            if running
            else {},
        }
        if parse_version(self.api_version) >= (1, 56):
            body["os_type"] = "linux"
        if running and c.networked:
            body["networks"] = {
                "eth0": {
                    "rx_bytes": c.rx_bytes, "rx_packets": c.rx_bytes // 1000,
                    "rx_errors": 0, "rx_dropped": 0, "tx_bytes": c.tx_bytes,
                    "tx_packets": c.tx_bytes // 1000, "tx_errors": 0, "tx_dropped": 0,
                }
            }  # fmt: skip
        return web.json_response(body)

    async def _action(self, request: web.Request) -> web.Response:
        c = self._find(request.match_info["ref"])
        action = request.path.rsplit("/", 1)[1]
        if action == "start":
            return await self._start(c)
        if action == "stop":
            if c.state not in ("running", "paused", "restarting"):
                return web.Response(status=304)
            await self._terminate(c, request.query.get("t"))
        elif action == "restart":
            if c.state in ("running", "paused"):
                await self._terminate(c, request.query.get("t"))
            else:
                await asyncio.sleep(self.stop_delay)
            await self._start(c)
        elif action == "kill":
            if c.state != "running":
                return _error(409, f"Container {c.id} is not running")
            signal = request.query.get("signal", "SIGKILL").upper().removeprefix("SIG")
            if signal in ("KILL", "9") or not c.honours_signals:
                self._exited(c, 137)
            elif not c.ignores_sigterm:
                # A graceful signal: it exits by itself once done.
                self._timers.append(
                    asyncio.get_running_loop().call_later(
                        self.stop_delay, self._job_done, c, c.started_at
                    )
                )
        elif action == "pause":
            if c.state != "running":
                return _error(409, f"Container {c.id} is not running")
            c.state = "paused"
        elif action == "unpause":
            if c.state != "paused":
                return _error(409, f"Container {c.id} is not paused")
            c.state = "running"
        return web.Response(status=204)

    async def _start(self, c: SimContainer) -> web.Response:
        if c.state == "running":
            return web.Response(status=304)
        if c.state == "paused":
            return _error(409, "cannot start a paused container, try unpause instead")
        await asyncio.sleep(self.start_delay)
        if c.fail_start is not None:
            c.state = "created" if c.started_at is None else "exited"
            c.exit_code = 128
            return _error(500, c.fail_start)
        c.state = "running"
        c.started_at = dt.datetime.now(dt.UTC)
        if c.runs_for is not None:
            self._timers.append(
                asyncio.get_running_loop().call_later(
                    c.runs_for, self._job_done, c, c.started_at
                )
            )
        if c.healthcheck:
            c.health = "starting"
            self._timers.append(
                asyncio.get_running_loop().call_later(
                    self.health_delay, self._settle_health, c
                )
            )
        return web.Response(status=204)

    async def _terminate(self, c: SimContainer, t: str | None) -> None:
        """SIGTERM, then SIGKILL when the grace period is over (see the docstring)."""
        grace = float(
            t
            if t is not None
            else c.stop_timeout
            if c.stop_timeout is not None
            else self.default_stop_timeout
        )
        if grace < 0:
            # `--stop-timeout -1`: the engine waits for ever, never kills.
            if not c.ignores_sigterm:
                await asyncio.sleep(self.stop_delay)
                self._exited(c, 0)
            while c.state == "running":  # noqa: ASYNC110 - a kill ends it
                await asyncio.sleep(0.05)
            return
        if c.ignores_sigterm or self.stop_delay > grace * self.second:
            await asyncio.sleep(grace * self.second)
            c.killed_after = grace
            self._exited(c, 137)
        else:
            await asyncio.sleep(self.stop_delay)
            self._exited(c, 0)

    def _job_done(self, c: SimContainer, started: dt.datetime | None) -> None:
        if c.state == "running" and c.started_at == started:
            self._exited(c, c.job_exit_code)

    def _settle_health(self, c: SimContainer) -> None:
        if c.state == "running" and c.health == "starting":
            c.health = c.health_target

    @staticmethod
    def _exited(c: SimContainer, code: int) -> None:
        c.state = "exited"
        c.exit_code = code
        c.finished_at = dt.datetime.now(dt.UTC)
        c.health = None


class _PageServer:
    """A container's web page on its own port, listening only while it runs."""

    POLL = 0.02  # how often the container's state is looked at

    def __init__(self, engine: DockerSimulator, name: str) -> None:
        self.engine = engine
        self.name = name
        self.port = 0
        self._runner: web.AppRunner | None = None
        self._watch: asyncio.Task[None] | None = None

    async def bind(self) -> None:
        """Learn a free port (listening once), then follow the container."""
        await self._listen()
        if not self.engine.page_serving(self.name):
            await self._close_site()
        self._watch = asyncio.create_task(self._follow())

    async def _page(self, request: web.Request) -> web.Response:
        self.engine.page_hits[self.name] += 1
        return web.Response(
            text=f"<!doctype html><html><head><title>{self.name}</title></head>"
            f"<body><h1>{self.name}</h1><p>Served by the container {self.name}."
            "</p></body></html>",
            content_type="text/html",
        )

    async def _listen(self) -> None:
        app = web.Application()
        app.router.add_get("/{tail:.*}", self._page)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.engine.host, self.port)
        await site.start()
        server = site._server
        assert server is not None
        self.port = server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    async def _close_site(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _follow(self) -> None:
        while True:
            serving = self.engine.page_serving(self.name)
            if serving and self._runner is None:
                await self._listen()
            elif not serving and self._runner is not None:
                await self._close_site()
            await asyncio.sleep(self.POLL)

    async def close(self) -> None:
        if self._watch is not None:
            self._watch.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watch
        await self._close_site()


def _error(status: int, message: str) -> web.Response:
    return web.json_response({"message": message}, status=status)


class _NoSuchContainer(LookupError):
    """A reference matched no container (answered 404 by the middleware)."""


# -- standalone -----------------------------------------------------------------------
async def _serve(args: argparse.Namespace) -> None:
    client_tls = DockerTls.generate() if args.client_certs else None
    sim = DockerSimulator(
        port=args.port,
        tls=args.tls,
        client_ca=client_tls,
        unix_socket=args.unix,
        api_version=args.api_version,
        delay=0.02,
        start_delay=1.5,
        stop_delay=1.0,
        stats_delay=0.05,
        health_delay=5.0,
    )
    sim.add_container("jellyfin", image="jellyfin/jellyfin:10.10", health="healthy")
    sim.add_container("nextcloud", image="nextcloud:30-apache", state="exited")
    sim.add_container("homepage", image="ghcr.io/gethomepage/homepage:v1.0")
    sim.add_container("paperless", image="paperlessngx/paperless-ngx:2.14", state="exited", health="healthy")  # fmt: skip
    sim.add_container(
        "vaultwarden", image="vaultwarden/server:1.33", health="unhealthy"
    )
    sim.add_container("broken", image="example/broken:latest", state="exited")
    sim.fail_start("broken", "failed to create task for container: exec: \"/app\": permission denied")  # fmt: skip
    for index in range(args.containers):
        sim.add_container(f"app-{index:03d}", image="example/app:latest")
    await sim.start()
    print(f"Docker Engine simulator (API {sim.api_version}) listening.")
    print(f"  url: {sim.docker_url}")
    if client_tls is not None:
        directory = Path(args.client_certs)
        directory.mkdir(parents=True, exist_ok=True)  # noqa: ASYNC240
        for name, text in (
            ("ca.pem", client_tls.ca_cert),
            ("cert.pem", client_tls.client_cert),
            ("key.pem", client_tls.client_key),
        ):
            (directory / name).write_text(text)
        print(
            f"  ca_cert, client_cert, client_key: paste {directory}/ca.pem, cert.pem, key.pem"
        )
    elif sim.tls:
        print("  verify_ssl: off, or accept the certificate fingerprint when asked")
    print("Ctrl-C to stop.")
    try:
        await asyncio.Event().wait()
    finally:
        await sim.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=2375)
    parser.add_argument("--tls", action="store_true", help="self-signed HTTPS")
    parser.add_argument("--client-certs", metavar="DIR", help="require client certificates; write ca/cert/key PEMs to DIR")  # fmt: skip
    parser.add_argument("--unix", metavar="PATH", help="listen on a unix socket")
    parser.add_argument("--api-version", default="1.56")
    parser.add_argument("--containers", type=int, default=0, help="extra generated containers")  # fmt: skip
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(parser.parse_args()))


if __name__ == "__main__":
    main()
