"""The way to one engine: unix socket, tcp or TLS, the session, API negotiation.

See the package docstring for the sessions and TLS rules."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
import ssl
from typing import Any
from urllib.parse import urlsplit

import aiohttp

from ..errors import CannotConnect, CertificateError, InvalidResponse, NotThatKind
from ..http import decode_json, is_json, read_body, transport_errors
from ..tls import ssl_option
from .certificates import build_ssl_context
from .error_map import (
    DockerEngineTooOld,
    DockerSocketMissing,
    DockerSocketPermission,
    map_api_error,
)
from .models import parse_version

MIN_API_VERSION = (1, 41)  # also the first with one-shot stats
# The newest API this client was checked against; never ask an engine for more.
MAX_API_VERSION = (1, 56)
DEFAULT_PORTS = {"http": 2375, "https": 2376}


class DockerTransport:
    """Requests to one Docker engine at the API version negotiated with it."""

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
        self._prefix = ""  # "/v1.xx" once negotiated
        self.api_version: str | None = None

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
                        # aiohttp checks both (see the package docstring).
                        connector = aiohttp.TCPConnector(
                            ssl=ssl_option(
                                verify_ssl=False, fingerprint=self._fingerprint
                            )
                        )
                    self._own_session = aiohttp.ClientSession(connector=connector)
                return self._own_session
            assert self._session is not None  # __init__ refuses to go without
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
            raise map_api_error(status, body)
        if not body and method != "GET":
            return None  # an action's answer (204, 304) has no body
        if not is_json(headers.get("Content-Type", "")):
            raise InvalidResponse(
                f"{self.where} answered {path} with something not JSON"
            )
        return decode_json(body, self.where, f"{method} {path}")


def _hung_up_on_tls(err: CannotConnect) -> bool:
    """Did the server end the TLS session before answering (refused client cert)?"""
    cause = err.__cause__
    if isinstance(cause, aiohttp.ServerDisconnectedError):
        return True
    return isinstance(cause, aiohttp.ClientOSError) and "alert" in str(cause).lower()
