"""Docker engines: one entry per engine, one subentry per followed container.

Containers are followed by *name*: `docker compose up` recreates a container under
a new id and the same name, and its entities keep working. A followed container
that disappears is unavailable and raises a (self-resolving) repair issue.

One poll is one `GET /containers/json?all=1`, plus an inspect only when a
container (re)started (its boot time): the state of every container in a few
milliseconds. Stats (CPU, memory, network), when the entry's `stats` option is
on, are sampled on their own slower schedule (STATS_INTERVAL, or the polling
interval when longer), in a task of their own after a poll, never while a start,
stop or reboot of one of the engine's containers is under way: the engine
answers a stats request only on its next once-a-second collection tick, which
must not delay seeing the outcome of an action. One sample is one stats request
per followed running container, all sent at once, so it costs one tick.

A stop is `docker stop`'s: SIGTERM, then SIGKILL after the container's own stop
timeout (`StopTimeout`, else the engine's default), or after the container's
`stop_grace` setting when the user set one. The resource's start/stop timeout
only bounds how long WakeHub waits for the outcome.

A compose stack (the containers labelled with one `com.docker.compose.project`)
can be followed as one resource: a container subentry holding `stack` (the
project) instead of `container`. Its members are found by their labels at each
poll, so `docker compose up` recreating them changes nothing. It starts them in
dependency order (the `com.docker.compose.depends_on` label) and stops them in
reverse, each with the stop rule above; it runs when all of them run. A
service others wait for with the condition `service_healthy` must be healthy,
one they wait for with `service_completed_successfully` (a one-shot job:
migrations, init) must have exited with 0, before they start; such jobs do not
count in the stack's state.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
import contextlib
from dataclasses import dataclass, replace
import datetime as dt
import logging
import time
from typing import Any, cast

from homeassistant.config_entries import (
    SIGNAL_CONFIG_ENTRY_CHANGED,
    ConfigEntry,
    ConfigEntryChange,
)
from homeassistant.const import CONF_URL, CONF_VERIFY_SSL
from homeassistant.core import HomeAssistant, callback
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import device_registry as dr, issue_registry as ir
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.helpers.device_registry import DeviceInfo
from homeassistant.helpers.dispatcher import async_dispatcher_connect
from homeassistant.util import dt as dt_util
from yarl import URL

from ..action_errors import update_failed
from ..api.docker import (
    ENGINE_STOP_TIMEOUT,
    Container,
    ContainerStats,
    DockerClient,
    EngineInfo,
)
from ..api.errors import CertificateError, NotFound, WakeHubError
from ..api.models import ResourceStatus
from ..const import CONF_HOST_LINK, DOMAIN, PROBE_INTERVAL
from ..coordinator import WakeHubCoordinator, async_first_refresh
from ..devices import async_place_resource, entry_device, linked_device, via
from ..hosting import KnownAs, LinkTarget, Workload, stored_link
from ..naming import Noun
from ..power import async_get_power_manager
from ..resource import Resource, ResourceFeature, ResourceState
from ..runtime import WakeHubRuntimeData

_LOGGER = logging.getLogger(__name__)

CONF_CA_CERT = "ca_cert"
CONF_CLIENT_CERT = "client_cert"
CONF_CLIENT_KEY = "client_key"
CONF_FINGERPRINT = "fingerprint"
CONF_STATS = "stats"
CONF_CONTAINER = "container"  # subentry data: the container's name
CONF_STACK = "stack"  # subentry data of a stack: its compose project
# Subentry data: seconds between SIGTERM and SIGKILL on stop and restart
# (absent: the container's own stop timeout, as `docker stop`).
CONF_STOP_GRACE = "stop_grace"
SUBENTRY_CONTAINER = "container"
SECRET_FIELDS = (CONF_CA_CERT, CONF_CLIENT_CERT, CONF_CLIENT_KEY)

# Stats requests in flight at once. The engine answers every request waiting on
# its collection tick together (its work is per container, not per request), so
# each extra batch would only cost one more second: send them all at once.
STATS_CONCURRENCY = 64
# Stats are sampled at most this often (the polling interval when it is longer).
STATS_INTERVAL = dt.timedelta(seconds=60)
# Inspects (boot time of a container that just (re)started) in flight at once.
INSPECT_CONCURRENCY = 8
POLL_TIMEOUT = 10.0


def make_client(
    hass: HomeAssistant, data: Mapping[str, Any], *, timeout: float = POLL_TIMEOUT
) -> DockerClient:
    """A client for entry (or form) data; ValueError on an unusable URL."""
    verify_ssl = bool(data.get(CONF_VERIFY_SSL, True))
    return DockerClient(
        async_get_clientsession(hass, verify_ssl=verify_ssl),
        data[CONF_URL],
        ca_cert=data.get(CONF_CA_CERT) or None,
        client_cert=data.get(CONF_CLIENT_CERT) or None,
        client_key=data.get(CONF_CLIENT_KEY) or None,
        verify_ssl=verify_ssl,
        fingerprint=data.get(CONF_FINGERPRINT) or None,
        timeout=timeout,
        stats_concurrency=STATS_CONCURRENCY,
    )


def followed_containers(entry: ConfigEntry) -> dict[str, str]:
    """Container name -> subentry id, for every container subentry."""
    return {
        str(sub.data.get(CONF_CONTAINER, sub.unique_id)): sub.subentry_id
        for sub in entry.subentries.values()
        if sub.subentry_type == SUBENTRY_CONTAINER and CONF_STACK not in sub.data
    }


def followed_stacks(entry: ConfigEntry) -> dict[str, str]:
    """Compose project -> subentry id, for every stack followed."""
    return {
        str(sub.data[CONF_STACK]): sub.subentry_id
        for sub in entry.subentries.values()
        if sub.subentry_type == SUBENTRY_CONTAINER and CONF_STACK in sub.data
    }


def container_key(engine_id: str, name: str) -> str:
    return f"{engine_id}_{name}"


def stack_key(engine_id: str, project: str) -> str:
    # ":" never appears in a container name: no clash with container_key.
    return f"{engine_id}_stack:{project}"


def stack_members(containers: Mapping[str, Container], project: str) -> list[Container]:
    """The containers of a compose project, in the order they start.

    A service starts after the services it depends on (compose's depends_on
    label); services that do not depend on each other start by name. A cycle,
    which compose itself refuses, is broken by name rather than refused.
    """
    members = [c for c in containers.values() if c.project == project]
    services = {c.service for c in members}
    needs = {
        service: {
            need
            for c in members
            if c.service == service
            for need in c.depends_on
            if need in services and need != service
        }
        for service in services
    }
    order: list[str] = []
    while needs:
        ready = sorted(s for s, pending in needs.items() if not pending) or [min(needs)]
        for service in ready:
            del needs[service]
            order.append(service)
        for pending in needs.values():
            pending.difference_update(ready)
    rank = {service: index for index, service in enumerate(order)}
    return sorted(members, key=lambda c: (rank[c.service], c.name))


HEALTHY = "service_healthy"
COMPLETED = "service_completed_successfully"


def awaited(members: Sequence[Container]) -> dict[str, str]:
    """Service -> what its dependents wait for before they start: HEALTHY or
    COMPLETED (services only started first are left out)."""
    conditions: dict[str, str] = {}
    for member in members:
        for service, condition in member.depends_on.items():
            if condition == COMPLETED or (
                condition == HEALTHY and conditions.get(service) != COMPLETED
            ):
                conditions[service] = condition
    return conditions


async def stop_grace(
    client: DockerClient, name: str, setting: Any, timeout: float
) -> tuple[int | None, float | None]:
    """(`t` to send, how long the engine may take) for a stop or restart.

    The user's `stop_grace` setting, else the container's own StopTimeout; when
    it has none, no `t` is sent and the engine applies its default, which may
    have been raised daemon-wide: then the request may last as long as WakeHub
    waits for a stop (`timeout`).
    """
    if setting is not None:
        return int(setting), None
    own = (await client.inspect(name)).stop_timeout
    if own is not None:
        return own, None
    return None, max(float(ENGINE_STOP_TIMEOUT), timeout)


def missing_issue_id(entry: ConfigEntry, name: str) -> str:
    return f"docker_container_missing_{entry.entry_id}_{name}"


def missing_stack_issue_id(entry: ConfigEntry, project: str) -> str:
    return f"docker_stack_missing_{entry.entry_id}_{project}"


def certificate_issue_id(entry: ConfigEntry) -> str:
    return f"docker_certificate_changed_{entry.entry_id}"


async def async_setup_kind(
    hass: HomeAssistant, entry: ConfigEntry
) -> WakeHubRuntimeData:
    client = make_client(hass, entry.data)
    coordinator = DockerCoordinator(hass, entry, client)
    try:
        await async_first_refresh(
            coordinator, may_be_off=bool(entry.options.get(CONF_HOST_LINK))
        )
    except BaseException:
        await client.close()
        raise
    engine = DockerEngineResource(
        key=coordinator.engine_id,
        name=entry.title,
        coordinator=coordinator,
        entry=entry,
    )
    # Under the VM or machine the engine runs on; its containers go under it.
    async_place_resource(
        hass, engine, parent=linked_device(hass, entry.options.get(CONF_HOST_LINK))
    )
    resources: list[Resource] = [engine]
    for name, subentry_id in coordinator.followed.items():
        listed = coordinator.containers.get(name)
        resources.append(
            ContainerResource(
                key=container_key(coordinator.engine_id, name),
                name=name,
                coordinator=coordinator,
                entry=entry,
                subentry_id=subentry_id,
                image=listed.image if listed else None,
            )
        )
    resources.extend(
        StackResource(
            key=stack_key(coordinator.engine_id, project),
            name=project,
            coordinator=coordinator,
            entry=entry,
            subentry_id=subentry_id,
        )
        for project, subentry_id in coordinator.stacks.items()
    )

    @callback
    def _entry_changed(change: ConfigEntryChange, changed: ConfigEntry) -> None:
        # Adding or removing a container subentry changes the devices: reload.
        # (An update listener would clash with the options flow's own reload.)
        if (
            change is ConfigEntryChange.UPDATED
            and changed.entry_id == entry.entry_id
            and (
                followed_containers(changed) != coordinator.followed
                or followed_stacks(changed) != coordinator.stacks
            )
        ):
            hass.config_entries.async_schedule_reload(entry.entry_id)

    entry.async_on_unload(
        async_dispatcher_connect(hass, SIGNAL_CONFIG_ENTRY_CHANGED, _entry_changed)
    )
    return WakeHubRuntimeData(
        coordinator=coordinator,
        resources=resources,
        # A stats sample under way ends before its client closes.
        on_unload=[coordinator.async_cancel_stats, client.close],
    )


class DockerCoordinator(WakeHubCoordinator):
    """Polls one engine: the container list, and stats of the followed ones."""

    def __init__(
        self, hass: HomeAssistant, entry: ConfigEntry, client: DockerClient
    ) -> None:
        super().__init__(hass, entry)
        self.client = client
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
        self._metrics: dict[str, _Metrics] = {}
        self._stats_due: dt.datetime | None = None
        self._stats_task: asyncio.Task[None] | None = None
        self._images: dict[str, str] = {}
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
            self._note_certificate(err)
            raise update_failed(err, self.config_entry.title) from err

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
            self._note_certificate(err)
            raise update_failed(err, self.config_entry.title) from err
        ir.async_delete_issue(
            self.hass, DOMAIN, certificate_issue_id(self.config_entry)
        )
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
            self._note_image(name, container.image)
            data[container_key(self.engine_id, name)] = self._container_state(
                container, started.get(name)
            )
        for project in self.stacks:
            members = stack_members(containers, project)
            self._note_stack_presence(project, bool(members))
            if members:
                data[stack_key(self.engine_id, project)] = _stack_state(members)
        self._schedule_stats(running)
        return data

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
            if key in data and (listed := self.containers.get(name)) is not None:
                data[key] = self._with_metrics(data[key], listed)
        self.data = data
        self.async_update_listeners()

    def _sample(
        self, container: Container, stats: ContainerStats | None, now: float
    ) -> _Metrics:
        network_in, network_out = self._rates(container, stats, now)
        memory = None
        if stats and stats.memory_usage is not None and stats.memory_limit:
            memory = round(stats.memory_usage / stats.memory_limit * 100, 2)
        return _Metrics(
            container_id=container.id,
            cpu=stats.cpu_percent if stats else None,
            memory=memory,
            network_in=network_in,
            network_out=network_out,
        )

    def _with_metrics(
        self, state: ResourceState, container: Container
    ) -> ResourceState:
        """`state` with the last sample's values, while the container sampled runs."""
        metrics = self._metrics.get(container.name)
        current = container.running and self.stats_enabled
        if metrics is None or metrics.container_id != container.id or not current:
            metrics = _NO_METRICS
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

    def _engine_state(self) -> ResourceState:
        assert self.engine is not None  # identified in _async_setup
        states = [c.state for c in self.containers.values()]
        attributes: dict[str, Any] = {
            "containers": len(states),
            "running": states.count("running"),
            "server_version": self.engine.server_version,
            "api_version": self.engine.api_version,
        }
        return ResourceState(
            status=ResourceStatus.RUNNING, attributes={"status": attributes}
        )

    def _container_state(
        self, container: Container, started: dt.datetime | None
    ) -> ResourceState:
        state = ResourceState(
            status=container.status,
            boot_time=started,
            extra={"health": container.health or "none"},
            attributes={
                "status": {"state": container.state, "id": container.id[:12]},
            },
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

    def _note_image(self, name: str, image: str) -> None:
        """Keep the device's model (the image) current after a recreate."""
        if self._images.get(name) == image:
            return
        self._images[name] = image
        device = entry_device(
            self.hass, self.config_entry.entry_id, container_key(self.engine_id, name)
        )
        if device is not None and device.model != image:
            dr.async_get(self.hass).async_update_device(device.id, model=image)

    def _note_certificate(self, err: WakeHubError) -> None:
        """The pinned certificate changed: never accept it silently."""
        if not (
            isinstance(err, CertificateError)
            and err.fingerprint
            and self.config_entry.data.get(CONF_FINGERPRINT)
        ):
            return
        ir.async_create_issue(
            self.hass,
            DOMAIN,
            certificate_issue_id(self.config_entry),
            is_fixable=False,
            is_persistent=False,
            severity=ir.IssueSeverity.ERROR,
            translation_key="docker_certificate_changed",
            translation_placeholders={
                "name": self.config_entry.title,
                "fingerprint": err.fingerprint,
                "previous": str(self.config_entry.data[CONF_FINGERPRINT]),
            },
        )


@dataclass(frozen=True, kw_only=True)
class _Metrics:
    """One stats sample of a container, as the sensors show it."""

    container_id: str
    cpu: float | None
    memory: float | None  # percent of the limit
    network_in: float | None  # bytes per second since the previous sample
    network_out: float | None


_NO_METRICS = _Metrics(
    container_id="", cpu=None, memory=None, network_in=None, network_out=None
)


def _stack_state(members: Sequence[Container]) -> ResourceState:
    """A stack's state from its members': their common status when they share
    one, else `starting` (partly up: neither on nor off), with the members that
    run and those that do not as attributes. One-shot jobs are left out: they
    exit once done."""
    jobs = {s for s, condition in awaited(members).items() if condition == COMPLETED}
    lasting = [c for c in members if c.service not in jobs] or members
    statuses = {c.status for c in lasting}
    status = statuses.pop() if len(statuses) == 1 else ResourceStatus.STARTING
    return ResourceState(
        status=status,
        attributes={
            "status": {
                "containers": len(members),
                "running": [c.name for c in members if c.running],
                "not_running": [c.name for c in members if not c.running],
            }
        },
    )


class DockerEngineResource(Resource):
    """The engine itself: a device (containers are `via_device` it) with a status."""

    sensors = frozenset({"status"})
    features = ResourceFeature(0)
    noun = Noun.DOCKER_ENGINE
    coordinator: DockerCoordinator

    @property
    def device_info(self) -> DeviceInfo:
        engine = self.coordinator.engine
        return DeviceInfo(
            identifiers={(DOMAIN, self.key)},
            name=self.name,
            manufacturer="Docker",
            model="Docker Engine",
            sw_version=engine.server_version if engine else None,
        )


class ContainerResource(Resource):
    """A container, followed by name: start, stop, restart, kill, pause."""

    sensors = frozenset(
        {"status", "health", "cpu", "memory", "network_in", "network_out", "uptime"}
    )
    features = (
        ResourceFeature.POWER
        | ResourceFeature.REBOOT
        | ResourceFeature.FORCE_STOP
        | ResourceFeature.PAUSE
    )
    starting_text = "starting_container"
    noun = Noun.CONTAINER
    # The engine answers a restart once the container runs again.
    reboot_completes_task = True
    coordinator: DockerCoordinator

    def __init__(self, *, image: str | None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.image = image

    @property
    def device_info(self) -> DeviceInfo:
        info: dict[str, Any] = {
            "identifiers": {(DOMAIN, self.key)},
            "name": self.name,
            "manufacturer": "Docker",
            "model": self.image,
            **via(
                entry_device(
                    self.coordinator.hass,
                    self.entry.entry_id,
                    self.coordinator.engine_id,
                )
            ),
        }
        return cast("DeviceInfo", info)

    async def _grace(self) -> tuple[int | None, float | None]:
        """(`t` to send, how long the engine may take) for a stop or restart.

        The user's `stop_grace`, else the container's own StopTimeout; when it
        has none, no `t` is sent and the engine applies its default, which may
        have been raised daemon-wide: then the request may last as long as
        WakeHub waits for a stop.
        """
        return await stop_grace(
            self.coordinator.client,
            self.name,
            self.settings.get(CONF_STOP_GRACE),
            self.timeout,
        )

    @property
    def host_link_id(self) -> str | None:
        """The VM or machine the engine runs on, when the user linked it."""
        link = self.entry.options.get(CONF_HOST_LINK)
        return str(link) if link else None

    async def async_start(self) -> None:
        # The engine refuses to start a paused container: turning it on resumes it.
        listed = self.coordinator.containers.get(self.name)
        if listed is not None and listed.state == "paused":
            await self.coordinator.client.unpause(self.name)
            return
        await self.coordinator.client.start(self.name)

    async def async_stop(self) -> None:
        grace, wait = await self._grace()
        await self.coordinator.client.stop(self.name, timeout=grace, wait=wait)

    async def async_reboot(self) -> None:
        grace, wait = await self._grace()
        await self.coordinator.client.restart(self.name, timeout=grace, wait=wait)

    async def async_force_stop(self) -> None:
        await self.coordinator.client.kill(self.name)

    async def async_pause(self) -> None:
        await self.coordinator.client.pause(self.name)

    async def async_unpause(self) -> None:
        await self.coordinator.client.unpause(self.name)


class StackResource(Resource):
    """A compose stack: its containers started in dependency order, stopped in
    reverse. Members are found by their project label at each action."""

    sensors = frozenset({"status"})
    features = ResourceFeature.POWER
    starting_text = "starting_stack"
    noun = Noun.STACK
    coordinator: DockerCoordinator

    @property
    def device_info(self) -> DeviceInfo:
        info: dict[str, Any] = {
            "identifiers": {(DOMAIN, self.key)},
            "name": self.name,
            "manufacturer": "Docker",
            "model": "Compose stack",
            **via(
                entry_device(
                    self.coordinator.hass,
                    self.entry.entry_id,
                    self.coordinator.engine_id,
                )
            ),
        }
        return cast("DeviceInfo", info)

    @property
    def host_link_id(self) -> str | None:
        """The VM or machine the engine runs on, when the user linked it."""
        return stored_link(self.entry, None)

    async def _members(self) -> list[Container]:
        """The stack's containers now, in start order (not the last poll's: a
        `docker compose up` may have recreated them since)."""
        containers = await self.coordinator.client.list_containers()
        return stack_members(containers, self.name)

    async def async_start(self) -> None:
        # One at a time: the engine answers a start once the container runs,
        # so each service is up before the ones that depend on it start.
        client = self.coordinator.client
        members = await self._members()
        conditions = awaited(members)
        for member in members:
            if member.state == "paused":
                await client.unpause(member.name)
            elif not member.running:
                await client.start(member.name)
            if (condition := conditions.get(member.service)) is not None:
                await self._until(member, condition)

    async def _until(self, member: Container, condition: str) -> None:
        """Wait until `member` is healthy, or has completed, as its dependents
        need; raise when it failed or took longer than the start timeout."""
        try:
            async with asyncio.timeout(self.timeout):
                while True:
                    now = (await self.coordinator.client.list_containers()).get(
                        member.name
                    )
                    if now is None:
                        raise NotFound(f"{member.name} was removed while starting")
                    if condition == HEALTHY:
                        if now.health in (None, "healthy"):
                            return  # no healthcheck: compose would refuse
                        failed = now.health == "unhealthy" or not now.running
                    elif now.exit_code == 0:
                        return
                    else:
                        failed = not now.running
                    if failed:
                        raise HomeAssistantError(
                            translation_domain=DOMAIN,
                            translation_key="docker_stack_dependency_failed",
                            translation_placeholders={
                                "name": self.name,
                                "service": member.service,
                                # Docker's own words: "Exited (1) 2 seconds ago".
                                "state": now.status_text,
                            },
                        )
                    await asyncio.sleep(PROBE_INTERVAL.total_seconds())
        except TimeoutError:
            raise HomeAssistantError(
                translation_domain=DOMAIN,
                translation_key="docker_stack_dependency_timeout",
                translation_placeholders={
                    "name": self.name,
                    "service": member.service,
                    "timeout": str(round(self.timeout)),
                },
            ) from None

    async def async_stop(self) -> None:
        # In reverse, one at a time: a service stops before what it depends on.
        client = self.coordinator.client
        for member in reversed(await self._members()):
            if member.status is ResourceStatus.STOPPED:
                continue
            grace, wait = await stop_grace(
                client, member.name, self.settings.get(CONF_STOP_GRACE), self.timeout
            )
            await client.stop(member.name, timeout=grace, wait=wait)
