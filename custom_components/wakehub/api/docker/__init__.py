"""Docker Engine API client (asyncio, aiohttp; no docker-py).

What the integration uses, all importable from this package::

    client = DockerClient(session, url, ca_cert=..., client_cert=..., client_key=...,
                          verify_ssl=True, fingerprint=None, timeout=10)
    engine = await client.connect()       # EngineInfo: connection test + unique id
    containers = await client.list_containers()          # {name: Container}, 1 request
    containers["media-db-1"].project, .service, .depends_on  # compose labels
    stats = await client.container_stats(containers.values())  # {name: ContainerStats}
    started = await client.started_at(containers["jellyfin"])  # datetime | None
    details = await client.inspect("jellyfin")           # ContainerDetails
    ref = await client.resolve("db")  # act on "db" alone: its id if it reads as one
    await client.start(name) / stop(name, timeout=None, wait=None) / restart(...)
    await client.kill(name, signal=None) / pause(name) / unpause(name)
    await client.close()                  # closes only the session the client owns
    map_state("exited") -> ResourceStatus.STOPPED
    parse_depends_on(label), parse_labels(value), parse_timestamp(text)

Modules: transport.py (URL, sessions, API negotiation, one request),
certificates.py (the TLS context from PEM text), error_map.py (the engine's
failures to errors.py), models.py (dataclasses and the small parsers of the
engine's texts), stats.py (a stats sample, CPU share), client.py (DockerClient).

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
`fingerprint` pins the server certificate (api/tls.py) instead of a CA chain.

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

CPU (stats.py): the engine's `one-shot` stats carry no `precpu_stats`, so the
first sample of a container gives `cpu_percent=None`; the share is computed from
two cycles' counters, as `docker stats` shows it (100 % = one full CPU).

Errors, on the classes of errors.py (the engine's answers are mapped in
error_map.py, the socket's and TLS failures in transport.py): unreachable →
CannotConnect; socket missing → DockerSocketMissing; socket permission →
DockerSocketPermission (both CannotConnect); timeout → ConnectionTimeout; TLS, including a refused client
certificate → CertificateError; not a Docker engine → NotThatKind; an engine
older than API 1.41 → DockerEngineTooOld (a NotThatKind); engine errors
`{"message": ...}` → 404 NotFound, 409 Conflict, 401 InvalidAuth,
403 PermissionDenied, other ApiError(code, Docker's message).
"""

from __future__ import annotations

from .client import DockerClient
from .models import Container, ContainerDetails, ContainerStats, EngineInfo

__all__ = [
    "Container",
    "ContainerDetails",
    "ContainerStats",
    "DockerClient",
    "EngineInfo",
]
