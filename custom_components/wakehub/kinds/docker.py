"""Docker engines: one entry per engine, one subentry per followed container.

Containers are followed by *name*: `docker compose up` recreates a container under
a new id and the same name, and its entities keep working. A followed container
that disappears is unavailable and raises a (self-resolving) repair issue.

One poll is one `GET /containers/json?all=1`, plus, when the entry's `stats`
option is on, one stats request per followed *running* container (bounded
concurrency), plus an inspect only when a container (re)started (its boot time).
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
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
from homeassistant.helpers import device_registry as dr, issue_registry as ir
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.helpers.device_registry import DeviceInfo
from homeassistant.helpers.dispatcher import async_dispatcher_connect
from yarl import URL

from ..action_errors import update_failed
from ..api.docker import Container, ContainerStats, DockerClient, EngineInfo
from ..api.errors import CertificateError, WakeHubError
from ..api.models import ResourceStatus
from ..const import CONF_HOST_LINK, DOMAIN
from ..coordinator import WakeHubCoordinator, async_first_refresh
from ..devices import async_place_resource, entry_device, linked_device, via
from ..hosting import KnownAs, LinkTarget, Workload
from ..resource import Resource, ResourceFeature, ResourceState
from ..runtime import WakeHubRuntimeData

_LOGGER = logging.getLogger(__name__)

CONF_CA_CERT = "ca_cert"
CONF_CLIENT_CERT = "client_cert"
CONF_CLIENT_KEY = "client_key"
CONF_FINGERPRINT = "fingerprint"
CONF_STATS = "stats"
CONF_CONTAINER = "container"  # subentry data: the container's name
SUBENTRY_CONTAINER = "container"
SECRET_FIELDS = (CONF_CA_CERT, CONF_CLIENT_CERT, CONF_CLIENT_KEY)

# Stats requests in flight at once: enough to poll 100 containers quickly without
# making a small engine (a Raspberry Pi) busy answering us.
STATS_CONCURRENCY = 8
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
        if sub.subentry_type == SUBENTRY_CONTAINER
    }


def container_key(engine_id: str, name: str) -> str:
    return f"{engine_id}_{name}"


def missing_issue_id(entry: ConfigEntry, name: str) -> str:
    return f"docker_container_missing_{entry.entry_id}_{name}"


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

    @callback
    def _entry_changed(change: ConfigEntryChange, changed: ConfigEntry) -> None:
        # Adding or removing a container subentry changes the devices: reload.
        # (An update listener would clash with the options flow's own reload.)
        if (
            change is ConfigEntryChange.UPDATED
            and changed.entry_id == entry.entry_id
            and followed_containers(changed) != coordinator.followed
        ):
            hass.config_entries.async_schedule_reload(entry.entry_id)

    entry.async_on_unload(
        async_dispatcher_connect(hass, SIGNAL_CONFIG_ENTRY_CHANGED, _entry_changed)
    )
    return WakeHubRuntimeData(
        coordinator=coordinator, resources=resources, on_unload=[client.close]
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
        #: Every container of the engine at the last poll, by name.
        self.containers: dict[str, Container] = {}
        # name -> (container id, monotonic time, rx bytes, tx bytes)
        self._counters: dict[str, tuple[str, float, int, int]] = {}
        self._images: dict[str, str] = {}
        self._inspect_limit = asyncio.Semaphore(INSPECT_CONCURRENCY)

    @property
    def stats_enabled(self) -> bool:
        return bool(self.config_entry.options.get(CONF_STATS, True))

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
            stats = (
                await self.client.container_stats(running) if self.stats_enabled else {}
            )
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
        now = time.monotonic()
        for name in self.followed:
            container = containers.get(name)
            self._note_presence(name, container)
            if container is None:
                self._counters.pop(name, None)
                continue
            self._note_image(name, container.image)
            data[container_key(self.engine_id, name)] = self._container_state(
                container, stats.get(name), started.get(name), now
            )
        return data

    def hosted_workloads(self) -> Mapping[str, Sequence[Workload]]:
        """Every container of the engine that is not stopped, followed or not."""
        link = self.config_entry.options.get(CONF_HOST_LINK)
        if not link:
            return {}
        return {
            str(link): [
                Workload(
                    name,
                    container_key(self.engine_id, name)
                    if name in self.followed
                    else None,
                )
                for name, container in self.containers.items()
                if container.status is not ResourceStatus.STOPPED
            ]
        }

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
        self,
        container: Container,
        stats: ContainerStats | None,
        started: dt.datetime | None,
        now: float,
    ) -> ResourceState:
        network_in, network_out = self._rates(container, stats, now)
        status = container.status
        memory = None
        if stats and stats.memory_usage is not None and stats.memory_limit:
            memory = round(stats.memory_usage / stats.memory_limit * 100, 2)
        return ResourceState(
            status=status,
            cpu=stats.cpu_percent if stats else None,
            memory=memory,
            network_in=network_in,
            network_out=network_out,
            boot_time=started,
            extra={"health": container.health or "none"},
            attributes={
                "status": {"state": container.state, "id": container.id[:12]},
            },
        )

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
        issue_id = missing_issue_id(self.config_entry, name)
        if container is not None:
            ir.async_delete_issue(self.hass, DOMAIN, issue_id)
            return
        ir.async_create_issue(
            self.hass,
            DOMAIN,
            issue_id,
            is_fixable=False,
            is_persistent=False,
            severity=ir.IssueSeverity.WARNING,
            translation_key="docker_container_missing",
            translation_placeholders={
                "name": name,
                "engine": self.config_entry.title,
            },
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


class DockerEngineResource(Resource):
    """The engine itself: a device (containers are `via_device` it) with a status."""

    sensors = frozenset({"status"})
    features = ResourceFeature(0)
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
    """A container, followed by name: start, stop, restart, kill."""

    sensors = frozenset(
        {"status", "health", "cpu", "memory", "network_in", "network_out", "uptime"}
    )
    features = (
        ResourceFeature.POWER | ResourceFeature.REBOOT | ResourceFeature.FORCE_STOP
    )
    starting_text = "starting_container"
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

    @property
    def _stop_timeout(self) -> int:
        return round(self.timeout)

    @property
    def host_link_id(self) -> str | None:
        """The VM or machine the engine runs on, when the user linked it."""
        link = self.entry.options.get(CONF_HOST_LINK)
        return str(link) if link else None

    async def async_start(self) -> None:
        await self.coordinator.client.start(self.name)

    async def async_stop(self) -> None:
        await self.coordinator.client.stop(self.name, timeout=self._stop_timeout)

    async def async_reboot(self) -> None:
        await self.coordinator.client.restart(self.name, timeout=self._stop_timeout)

    async def async_force_stop(self) -> None:
        await self.coordinator.client.kill(self.name)
