"""The engine's coordinator: one container list per poll, stats off the state path."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping, Sequence
import contextlib
from dataclasses import replace
import datetime as dt
import logging
import time

from homeassistant.config_entries import (
    ConfigEntry,
)
from homeassistant.const import CONF_URL
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr, issue_registry as ir
from homeassistant.util import dt as dt_util
from yarl import URL

from ...api.docker import (
    Container,
    ContainerStats,
    DockerClient,
    EngineInfo,
)
from ...api.docker.models import map_state
from ...api.errors import NotFound, WakeHubError
from ...api.models import ResourceStatus
from ...const import CONF_HOST_LINK, DOMAIN
from ...coordinator import ClientCoordinator
from ...devices import entry_device
from ...hosting import KnownAs, LinkTarget, Workload
from ...power import async_get_power_manager
from ...state import ResourceState
from .compose import stack_members
from .const import (
    CONF_STATS,
    INSPECT_CONCURRENCY,
    STATS_INTERVAL,
    container_key,
    followed_containers,
    followed_stacks,
    missing_issue_id,
    missing_stack_issue_id,
    stack_key,
)
from .state import NO_METRICS, ContainerState, EngineState, Metrics, stack_state

_LOGGER = logging.getLogger(__name__)


class DockerCoordinator(ClientCoordinator[DockerClient]):
    """Polls one engine: the container list, and stats of the followed ones."""

    def __init__(
        self, hass: HomeAssistant, entry: ConfigEntry, client: DockerClient
    ) -> None:
        super().__init__(hass, entry, client)
        self.engine_id: str = str(entry.unique_id)
        self.engine: EngineInfo | None = None
        self.followed = followed_containers(entry)
        #: Compose project -> subentry id of every stack followed.
        self.stacks = followed_stacks(entry)
        #: Every container of the engine at the last poll, by name.
        self.containers: dict[str, Container] = {}
        # name -> (container id, monotonic time, rx bytes, tx bytes)
        self._counters: dict[str, tuple[str, float, int, int]] = {}
        #: The last stats sample of each followed running container, by name.
        self._metrics: dict[str, Metrics] = {}
        self._stats_due: dt.datetime | None = None
        self._stats_task: asyncio.Task[None] | None = None
        self._images: dict[str, tuple[str, str | None]] = {}
        self._inspect_limit = asyncio.Semaphore(INSPECT_CONCURRENCY)

    @property
    def stats_enabled(self) -> bool:
        return bool(self.config_entry.options.get(CONF_STATS, True))

    @property
    def stats_interval(self) -> dt.timedelta:
        return max(STATS_INTERVAL, self.update_interval or STATS_INTERVAL)

    async def _async_setup(self) -> None:
        try:
            self.engine = await self.client.connect()
        except WakeHubError as err:
            raise self.poll_failed(err) from err

    async def _async_update_data(self) -> dict[str, ResourceState]:
        try:
            if self.engine is None:
                # Not identified yet: the engine was off when the entry loaded.
                self.engine = await self.client.connect()
            containers = await self.client.list_containers()
            running = [
                containers[name]
                for name in self.followed
                if name in containers and containers[name].running
            ]
            started = dict(
                await asyncio.gather(*(self._started_at(c) for c in running))
            )
        except WakeHubError as err:
            raise self.poll_failed(err) from err
        self.containers = containers
        data: dict[str, ResourceState] = {self.engine_id: self._engine_state()}
        for name in self.followed:
            container = containers.get(name)
            self._note_presence(name, container)
            if container is None or not container.running:
                # Counters start again from zero when it runs again.
                self._counters.pop(name, None)
                self._metrics.pop(name, None)
            if container is None:
                continue
            self._note_image(name, container)
            data[container_key(self.engine_id, name)] = self._container_state(
                container, started.get(name)
            )
        for project in self.stacks:
            members = stack_members(containers, project)
            self._note_stack_presence(project, bool(members))
            if members:
                data[stack_key(self.engine_id, project)] = stack_state(members)
        self._schedule_stats(running)
        return data

    def one_reader(self, key: str) -> Callable[[], Awaitable[ResourceState]] | None:
        """A followed container alone: its inspect, by the id of the last poll
        (a stack is several containers; one not listed is polled for)."""
        listed = next(
            (
                container
                for name, container in self.containers.items()
                if name in self.followed and container_key(self.engine_id, name) == key
            ),
            None,
        )
        if listed is None:
            return None

        async def read() -> ResourceState:
            details = await self.client.inspect(listed.id)
            if details.name != listed.name:
                # Renamed aside since the last poll (`docker rename`, compose
                # recreating it): another container may bear the name now.
                raise NotFound(f"{listed.name} is now named {details.name}")
            state = ContainerState(
                status=map_state(details.state),
                boot_time=details.started_at if details.state == "running" else None,
                state=details.state,
                container_id=details.id[:12],
                health=details.health or "none",
                exit_code=details.exit_code,
            )
            return self._with_metrics(state, replace(listed, state=details.state))

        return read

    def hosted_workloads(self) -> Mapping[str, Sequence[Workload]]:
        """Every container of the engine that is not stopped, followed or not."""
        link = self.config_entry.options.get(CONF_HOST_LINK)
        if not link:
            return {}
        return {
            str(link): [
                Workload(name, self._managed_by(container))
                for name, container in self.containers.items()
                if container.status is not ResourceStatus.STOPPED
            ]
        }

    def _managed_by(self, container: Container) -> str | None:
        """The key of the resource managing a container: itself when followed,
        else its stack when that is followed."""
        if container.name in self.followed:
            return container_key(self.engine_id, container.name)
        if container.project is not None and container.project in self.stacks:
            return stack_key(self.engine_id, container.project)
        return None

    def link_targets(self) -> Sequence[LinkTarget]:
        """The engine: known by its URL's host and by its own host name."""
        url = URL(str(self.config_entry.data.get(CONF_URL, "")))
        remote = url.scheme in ("tcp", "http", "https")
        return [
            LinkTarget(
                slot=None,
                name=self.config_entry.title,
                known_as=KnownAs.of(
                    addresses=[url.host if remote else None],
                    names=[self.engine.name if self.engine else None],
                ),
            )
        ]

    # -- stats, off the state path -----------------------------------------------------
    def _schedule_stats(self, running: list[Container]) -> None:
        """Sample stats in a task of their own when due, unless a change is under
        way (the next poll tries again)."""
        if not self.stats_enabled or not running or self._changing():
            return
        if self._stats_task is not None and not self._stats_task.done():
            return
        now = dt_util.utcnow()
        if self._stats_due is not None and now < self._stats_due:
            return
        self._stats_due = now + self.stats_interval
        self._stats_task = self.config_entry.async_create_task(
            self.hass, self._async_sample_stats(running), f"{self.name} stats"
        )

    async def async_cancel_stats(self) -> None:
        """Stop a stats sample under way."""
        if self._stats_task is not None and not self._stats_task.done():
            self._stats_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._stats_task

    def _changing(self) -> bool:
        """Is a start, stop or reboot of one of this engine's containers under way?"""
        power = async_get_power_manager(self.hass)
        keys = [container_key(self.engine_id, name) for name in self.followed]
        keys += [stack_key(self.engine_id, project) for project in self.stacks]
        return any(power.transition(key) is not None for key in keys)

    async def _async_sample_stats(self, running: list[Container]) -> None:
        """One stats sample of `running`, merged into the last poll's states."""
        try:
            stats = await self.client.container_stats(running)
        except WakeHubError as err:
            # The state poll reports an engine that fails; stats just wait.
            _LOGGER.debug("%s: stats not sampled: %s", self.name, err)
            return
        now = time.monotonic()
        for container in running:
            self._metrics[container.name] = self._sample(
                container, stats.get(container.name), now
            )
        if not self.data:
            return
        data = dict(self.data)
        for name in self.followed:
            key = container_key(self.engine_id, name)
            state = data.get(key)
            listed = self.containers.get(name)
            if isinstance(state, ContainerState) and listed is not None:
                data[key] = self._with_metrics(state, listed)
        self.data = data
        self.async_update_listeners()

    def _sample(
        self, container: Container, stats: ContainerStats | None, now: float
    ) -> Metrics:
        network_in, network_out = self._rates(container, stats, now)
        memory = None
        if stats and stats.memory_usage is not None and stats.memory_limit:
            memory = round(stats.memory_usage / stats.memory_limit * 100, 2)
        return Metrics(
            container_id=container.id,
            cpu=stats.cpu_percent if stats else None,
            memory=memory,
            network_in=network_in,
            network_out=network_out,
        )

    def _with_metrics(
        self, state: ContainerState, container: Container
    ) -> ContainerState:
        """`state` with the last sample's values, while the container sampled runs."""
        metrics = self._metrics.get(container.name)
        current = container.running and self.stats_enabled
        if metrics is None or metrics.container_id != container.id or not current:
            metrics = NO_METRICS
        return replace(
            state,
            cpu=metrics.cpu,
            memory=metrics.memory,
            network_in=metrics.network_in,
            network_out=metrics.network_out,
        )

    async def _started_at(self, container: Container) -> tuple[str, dt.datetime | None]:
        async with self._inspect_limit:
            return container.name, await self.client.started_at(container)

    def _engine_state(self) -> EngineState:
        assert self.engine is not None  # identified in _async_setup
        states = [c.state for c in self.containers.values()]
        return EngineState(
            status=ResourceStatus.RUNNING,
            containers=len(states),
            running=states.count("running"),
            server_version=self.engine.server_version,
            api_version=self.engine.api_version,
        )

    def _container_state(
        self, container: Container, started: dt.datetime | None
    ) -> ContainerState:
        state = ContainerState(
            status=container.status,
            boot_time=started,
            state=container.state,
            container_id=container.id[:12],
            health=container.health or "none",
            exit_code=container.exit_code,
        )
        return self._with_metrics(state, container)

    def _rates(
        self, container: Container, stats: ContainerStats | None, now: float
    ) -> tuple[float | None, float | None]:
        """Bytes per second from two cycles' cumulative counters."""
        if stats is None or stats.network_rx is None or stats.network_tx is None:
            self._counters.pop(container.name, None)
            return None, None
        previous = self._counters.get(container.name)
        self._counters[container.name] = (
            container.id,
            now,
            stats.network_rx,
            stats.network_tx,
        )
        if previous is None or previous[0] != container.id or now <= previous[1]:
            return None, None
        _, then, rx, tx = previous
        if stats.network_rx < rx or stats.network_tx < tx:
            return None, None  # counters reset: the container restarted
        elapsed = now - then
        return (
            round((stats.network_rx - rx) / elapsed, 1),
            round((stats.network_tx - tx) / elapsed, 1),
        )

    def _note_presence(self, name: str, container: Container | None) -> None:
        """A followed container that vanished: say so; it may come back."""
        self._note_missing(
            missing_issue_id(self.config_entry, name),
            "docker_container_missing",
            name,
            present=container is not None,
        )

    def _note_stack_presence(self, project: str, present: bool) -> None:
        """A followed stack without any container (`docker compose down`)."""
        self._note_missing(
            missing_stack_issue_id(self.config_entry, project),
            "docker_stack_missing",
            project,
            present=present,
        )

    def _note_missing(
        self, issue_id: str, translation_key: str, name: str, *, present: bool
    ) -> None:
        """A repair issue while what is followed is gone; withdrawn when it is back."""
        if present:
            ir.async_delete_issue(self.hass, DOMAIN, issue_id)
            return
        ir.async_create_issue(
            self.hass,
            DOMAIN,
            issue_id,
            is_fixable=False,
            is_persistent=False,
            severity=ir.IssueSeverity.WARNING,
            translation_key=translation_key,
            translation_placeholders={"name": name, "engine": self.config_entry.title},
        )

    def _note_image(self, name: str, container: Container) -> None:
        """Keep the device's model (the image) and software version (its
        release) current after a recreate or an image update."""
        shown = (container.image, container.version)
        if self._images.get(name) == shown:
            return
        self._images[name] = shown
        device = entry_device(
            self.hass, self.config_entry.entry_id, container_key(self.engine_id, name)
        )
        if device is not None and (device.model, device.sw_version) != shown:
            dr.async_get(self.hass).async_update_device(
                device.id, model=container.image, sw_version=container.version
            )
