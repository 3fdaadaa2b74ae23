"""What every HTTP simulator shares: a loopback server, TLS, request recording.

A simulator subclasses `HttpSimulator`, adds its routes in `setup_routes`, and may
override `check_contract` to validate each request it receives and each response it
gives against the vendor's schema. Violations are collected (not raised inside the
server, where the client would only see a 500) and tests assert the list is empty.

Fault injection, for every HTTP simulator (the hostile real world, on real sockets):

    sim.inject("/cluster/resources", body=b'{"data": [', count=2)  # raw answers
    sim.inject("/vps", status=500, body=b"<html>", content_type="text/html")
    sim.inject_reset("/containers", count=None)   # TCP reset instead of an answer
    sim.inject_hang("", count=None)               # never answer (client timeout)
    sim.inject_cut("/info", body=b"{...}")        # announce a length, send half
    sim.clear_faults()                            # back to normal, hung ones freed

A fault matches requests whose path contains `path` ("" matches every request;
a final "$" matches only paths that end with it: "/vps/vps-1$");
`count` answers are spoiled, then the fault is spent (`None`: until cleared).
Spoiled exchanges are recorded (status 0 for resets, hangs and cuts) but not
checked against the vendor's contract: breaking it is their point.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
import datetime as dt
import ipaddress
from pathlib import Path
import socket
import ssl
import struct
import tempfile
from typing import Any, Literal

from aiohttp import web
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


@dataclass
class RecordedRequest:
    """One request the simulator served (for exact request counts in tests)."""

    method: str
    path: str
    query: dict[str, str]
    status: int = 0


type FaultMode = Literal["answer", "reset", "hang", "cut"]


@dataclass
class Fault:
    """What the simulator does instead of answering (see the module docstring)."""

    path: str
    count: int | None
    mode: FaultMode
    status: int = 200
    body: bytes = b""
    content_type: str | None = "application/json"


@dataclass
class SelfSignedCertificate:
    """A throwaway certificate for 127.0.0.1/localhost, like Proxmox's default."""

    cert_pem: bytes
    key_pem: bytes
    der: bytes

    @classmethod
    def generate(cls, common_name: str = "localhost") -> SelfSignedCertificate:
        key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
        now = dt.datetime.now(dt.UTC)
        cert = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=3650))
            .add_extension(
                x509.SubjectAlternativeName(
                    [
                        x509.DNSName("localhost"),
                        x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
                    ]
                ),
                critical=False,
            )
            .sign(key, hashes.SHA256())
        )
        return cls(
            cert_pem=cert.public_bytes(serialization.Encoding.PEM),
            key_pem=key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            ),
            der=cert.public_bytes(serialization.Encoding.DER),
        )

    def server_context(self) -> ssl.SSLContext:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        with tempfile.TemporaryDirectory() as tmp:
            cert_file = Path(tmp) / "cert.pem"
            key_file = Path(tmp) / "key.pem"
            cert_file.write_bytes(self.cert_pem)
            key_file.write_bytes(self.key_pem)
            context.load_cert_chain(cert_file, key_file)
        return context


# cryptography's Rust core remembers the datetime type of the first certificate
# it builds. Built first under a test's frozen clock, that type would be Home
# Assistant's fake one, and every later certificate built with the real clock
# would be refused: build one now, with the real clock, when the simulators load.
SelfSignedCertificate.generate()


@dataclass
class HttpSimulator:
    """Base of the Proxmox, Docker and OVH simulators."""

    host: str = "127.0.0.1"
    port: int = 0
    tls: bool = True
    certificate: SelfSignedCertificate | None = None
    requests: list[RecordedRequest] = field(default_factory=list)
    violations: list[str] = field(default_factory=list)
    #: TLS handshakes a client refused (see `quiet_refused_handshakes`).
    tls_failures: list[str] = field(default_factory=list)
    #: The clock tasks run by. None: the event loop's timers. A test that patches
    #: the client's clock (to follow a long task without waiting) gives the same
    #: clock here; tasks then move on when a request finds their time has come.
    task_clock: Callable[[], float] | None = None
    _due: list[tuple[float, Callable[[], None]]] = field(default_factory=list)
    faults: list[Fault] = field(default_factory=list)
    #: Requests answered by a fault rather than by the simulator.
    spoiled: int = 0
    _released: asyncio.Event | None = None
    _runner: web.AppRunner | None = None
    _previous_handler: Any = None

    # -- to override -----------------------------------------------------------
    def setup_routes(self, app: web.Application) -> None:
        raise NotImplementedError

    def check_contract(
        self, request: web.Request, body: bytes, response: web.StreamResponse
    ) -> list[str]:
        """Return the ways this exchange breaks the vendor schema (none: [])."""
        return []

    # -- lifecycle --------------------------------------------------------------
    @property
    def url(self) -> str:
        scheme = "https" if self.tls else "http"
        return f"{scheme}://{self.host}:{self.port}"

    async def start(self) -> None:
        app = web.Application(middlewares=[self._record])
        self.setup_routes(app)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        ssl_context = None
        if self.tls:
            if self.certificate is None:
                self.certificate = SelfSignedCertificate.generate()
            ssl_context = self.certificate.server_context()
        site = web.TCPSite(self._runner, self.host, self.port, ssl_context=ssl_context)
        await site.start()
        server = site._server
        assert server is not None
        sockets = getattr(server, "sockets", None) or []
        self.port = sockets[0].getsockname()[1]

    async def stop(self) -> None:
        self._release_hung()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    # -- fault injection ----------------------------------------------------------
    def inject(
        self,
        path: str = "",
        *,
        body: bytes | str = b"",
        status: int = 200,
        content_type: str | None = "application/json",
        count: int | None = 1,
    ) -> None:
        """Answer exactly this status and raw body (no content type with None)."""
        raw = body.encode() if isinstance(body, str) else body
        self.faults.append(Fault(path, count, "answer", status, raw, content_type))

    def inject_reset(self, path: str = "", *, count: int | None = 1) -> None:
        """Reset the TCP connection (RST) instead of answering."""
        self.faults.append(Fault(path, count, "reset"))

    def inject_hang(self, path: str = "", *, count: int | None = 1) -> None:
        """Never answer (until `clear_faults` or `stop`): the client times out."""
        self.faults.append(Fault(path, count, "hang"))

    def inject_cut(
        self, path: str = "", *, body: bytes | str, count: int | None = 1
    ) -> None:
        """Announce `body`'s length, send its first half, then reset."""
        raw = body.encode() if isinstance(body, str) else body
        self.faults.append(Fault(path, count, "cut", body=raw))

    def clear_faults(self) -> None:
        """Answer normally again; requests left hanging are let go."""
        self.faults.clear()
        self._release_hung()

    def _release_hung(self) -> None:
        if self._released is not None:
            self._released.set()
            self._released = None

    def _take_fault(self, path: str) -> Fault | None:
        for fault in self.faults:
            anchored = fault.path.endswith("$")
            if (anchored and path.endswith(fault.path[:-1])) or (
                not anchored and fault.path in path
            ):
                if fault.count is not None:
                    fault.count -= 1
                    if fault.count <= 0:
                        self.faults.remove(fault)
                return fault
        return None

    async def _spoil(self, request: web.Request, fault: Fault) -> web.StreamResponse:
        if fault.mode == "answer":
            response = web.Response(status=fault.status, body=fault.body)
            if fault.content_type is not None:
                response.content_type = fault.content_type
            return response
        if fault.mode == "hang":
            if self._released is None:
                self._released = asyncio.Event()
            await self._released.wait()
            return web.Response(status=503)
        if fault.mode == "cut":
            response = web.StreamResponse(status=200)
            response.content_type = "application/json"
            response.content_length = len(fault.body)
            await response.prepare(request)
            await response.write(fault.body[: len(fault.body) // 2])
        _reset(request)
        return web.Response(status=204)  # never sent: the connection is gone

    def quiet_refused_handshakes(self) -> None:
        """Record handshakes a client refuses instead of letting asyncio report them.

        A client refusing a self-signed certificate aborts the handshake; a real
        server logs that quietly, while asyncio reports it as an unhandled error
        (which fails Home Assistant's tests).
        """
        loop = asyncio.get_running_loop()
        self._previous_handler = loop.get_exception_handler()
        loop.set_exception_handler(self._loop_exception)

    def restore_loop_handler(self) -> None:
        loop = asyncio.get_running_loop()
        if loop.get_exception_handler() == self._loop_exception:
            loop.set_exception_handler(self._previous_handler)

    def _loop_exception(
        self, loop: asyncio.AbstractEventLoop, context: dict[str, Any]
    ) -> None:
        error = context.get("exception")
        if context.get("message", "").startswith(
            "Error on transport creation for incoming connection"
        ) and isinstance(error, ssl.SSLError | ConnectionResetError):
            self.tls_failures.append(repr(error))
            return
        if self._previous_handler is not None:
            self._previous_handler(loop, context)
        else:
            loop.default_exception_handler(context)

    def later(
        self, delay: float, callback: Callable[[], None]
    ) -> asyncio.TimerHandle | None:
        """Run `callback` after `delay` seconds of the task clock (a task's step)."""
        if self.task_clock is None:
            return asyncio.get_running_loop().call_later(delay, callback)
        self._due.append((self.task_clock() + delay, callback))
        return None

    def _run_due(self) -> None:
        if self.task_clock is None or not self._due:
            return
        now = self.task_clock()
        due = sorted((d for d in self._due if d[0] <= now), key=lambda d: d[0])
        self._due = [d for d in self._due if d[0] > now]
        for _, callback in due:
            callback()

    def count(self, method: str | None = None, path_prefix: str = "") -> int:
        """How many requests matched (exact counts are what tests assert)."""
        return sum(
            1
            for r in self.requests
            if (method is None or r.method == method) and r.path.startswith(path_prefix)
        )

    @web.middleware
    async def _record(self, request: web.Request, handler: Any) -> web.StreamResponse:
        body = await request.read()
        recorded = RecordedRequest(request.method, request.path, dict(request.query))
        self.requests.append(recorded)
        self._run_due()
        if (fault := self._take_fault(request.path)) is not None:
            self.spoiled += 1
            spoiled = await self._spoil(request, fault)
            recorded.status = spoiled.status if fault.mode == "answer" else 0
            return spoiled
        try:
            response: web.StreamResponse = await handler(request)
        except web.HTTPException as exc:
            response = exc
        recorded.status = response.status
        self.violations.extend(self.check_contract(request, body, response))
        return response


def _reset(request: web.Request) -> None:
    """Close the connection with a TCP reset, as a crashed server or proxy does."""
    transport = request.transport
    if transport is None:  # pragma: no cover - already gone
        return
    sock = transport.get_extra_info("socket")
    if sock is not None:
        # SO_LINGER 0: close() sends RST rather than FIN.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    transport.abort()
