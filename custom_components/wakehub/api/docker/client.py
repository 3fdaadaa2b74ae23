"""The Docker client: connection test, polling (list, stats, start time) and the
container actions. See the package docstring (__init__.py) for the public API."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping
import datetime as dt
import re

import aiohttp

from ..errors import InvalidResponse, NotFound, NotThatKind
from ..fields import obj, objects, opt_int, opt_obj, opt_str, required_str, text
from .models import (
    Container,
    ContainerDetails,
    ContainerStats,
    EngineInfo,
    health_from_status,
    max_uptime,
    parse_created,
    parse_labels,
    parse_timestamp,
)
from .stats import CpuSample, compute_stats
from .transport import DockerTransport

# The engine's stop timeout for a container that sets none (`docker stop`'s 10 s,
# unless the daemon's `default-stop-timeout` says otherwise).
ENGINE_STOP_TIMEOUT = 10
# A name the engine may read as an id prefix when no container bears it.
_MAYBE_ID_PREFIX = re.compile(r"[0-9a-f]+")
_FULL_ID = 64


class DockerClient(DockerTransport):
    """One Docker engine. See the package docstring."""

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
        super().__init__(
            session,
            url,
            ca_cert=ca_cert,
            client_cert=client_cert,
            client_key=client_key,
            verify_ssl=verify_ssl,
            fingerprint=fingerprint,
            timeout=timeout,
        )
        self._stats_limit = asyncio.Semaphore(stats_concurrency)
        self._cpu: dict[str, CpuSample] = {}
        # name -> (container id, StartedAt) for started_at().
        self._started: dict[str, tuple[str, dt.datetime | None]] = {}

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
            name = _own_name(item.get("Names")) or container_id
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
                created=parse_created(opt_int(item.get("Created"))),
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
        config = opt_obj(raw.get("Config"))
        stop_timeout = opt_int(config.get("StopTimeout"))
        return ContainerDetails(
            id=text(raw.get("Id")),
            name=text(raw.get("Name"), name).removeprefix("/"),
            state=text(state.get("Status")).lower(),
            started_at=parse_timestamp(opt_str(state.get("StartedAt"))),
            health=health if health in ("healthy", "unhealthy", "starting") else None,
            stop_timeout=stop_timeout
            if isinstance(stop_timeout, int) and not isinstance(stop_timeout, bool)
            else None,
            stop_signal=opt_str(config.get("StopSignal")) or None,
            exit_code=opt_int(state.get("ExitCode")),
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

    async def resolve(self, name: str) -> str:
        """The reference that acts on the container named `name` and no other.

        The engine reads a reference that names no container as an id prefix:
        once a container named with hex digits only ("db", "cafe") is removed,
        `POST /containers/db/stop` stops whichever container's id starts with
        "db". Such a name is looked up (one inspect) and given back as its
        container's id, or NotFound when the container the engine finds does
        not bear it; any other name is given back as is, without a request.
        """
        if not _MAYBE_ID_PREFIX.fullmatch(name) or len(name) >= _FULL_ID:
            return name
        details = await self.inspect(name)
        if details.name != name or not details.id:
            raise NotFound(f"No such container: {name}")
        return details.id


def _own_name(names: object) -> str:
    """A container's own name from the list's `Names` ("" when none).

    Legacy links (`docker run --link db:db app`) add names such as "/app/db"
    to the linked container, and the engine lists them sorted: its own name,
    the one without a second "/", is not always the first (the docker CLI
    picks it the same way)."""
    listed = (
        [text(n).removeprefix("/") for n in names if text(n)]
        if isinstance(names, list)
        else []
    )
    return next((n for n in listed if "/" not in n), listed[0] if listed else "")


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
