"""The Docker engine, its containers and compose stacks as resources."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
import logging
from typing import TYPE_CHECKING, Any, NamedTuple, cast

from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers.device_registry import DeviceInfo

from ...api.docker import Container, DockerClient
from ...api.docker.client import ENGINE_STOP_TIMEOUT
from ...api.docker.models import map_state
from ...api.errors import NotFound
from ...api.models import ResourceStatus
from ...const import CONF_HOST_LINK, DOMAIN, PROBE_INTERVAL
from ...devices import entry_device, via
from ...hosting import stored_link
from ...naming import Noun
from ...resource import Resource
from ...state import ResourceState
from .compose import HEALTHY, awaited, stack_members
from .const import CONF_STOP_GRACE, container_key
from .descriptions import CONTAINER, ENGINE, STACK
from .state import ContainerState, StackState

if TYPE_CHECKING:
    from .coordinator import DockerCoordinator

_LOGGER = logging.getLogger(__name__)


class Grace(NamedTuple):
    """How a stop or restart goes: the `t` to send (None: the engine's
    default), how long the engine may take, and the container's stop signal.

    A `t` of -1 (`--stop-timeout -1`: never killed) is not sent: the engine
    would wait for ever, and a stop or restart request given up on is, for
    some engines, a kill. The stop signal alone is sent then (the engine does
    not restart it either), and WakeHub's own timeout bounds the wait.
    """

    t: int | None
    wait: float | None
    signal: str = "SIGTERM"

    @property
    def never_kills(self) -> bool:
        return self.t is not None and self.t < 0


async def stop_grace(
    client: DockerClient, name: str, setting: Any, timeout: float
) -> Grace:
    """How to stop or restart the container `name`.

    The user's `stop_grace` setting, else the container's own StopTimeout; when
    it has none, no `t` is sent and the engine applies its default, which may
    have been raised daemon-wide: then the request may last as long as WakeHub
    waits for a stop (`timeout`).
    """
    if setting is not None:
        return Grace(int(setting), None)
    details = await client.inspect(name)
    signal = details.stop_signal or "SIGTERM"
    if details.stop_timeout is not None:
        return Grace(details.stop_timeout, None, signal)
    return Grace(None, max(float(ENGINE_STOP_TIMEOUT), timeout), signal)


async def until_stopped(
    client: DockerClient, ref: str, name: str, timeout: float
) -> None:
    """Wait until a container signalled to stop has stopped by itself; raise
    WakeHub's stop timeout error when it has not within `timeout` seconds."""
    try:
        async with asyncio.timeout(timeout):
            while True:
                details = await client.inspect(ref)
                if map_state(details.state) is ResourceStatus.STOPPED:
                    return
                await asyncio.sleep(PROBE_INTERVAL.total_seconds())
    except TimeoutError:
        raise HomeAssistantError(
            translation_domain=DOMAIN,
            translation_key="stop_timeout",
            translation_placeholders={"name": name, "timeout": str(round(timeout))},
        ) from None


class DockerEngineResource(Resource):
    """The engine itself: a device (containers are `via_device` it) with a status."""

    noun = Noun.DOCKER_ENGINE

    descriptions = ENGINE
    coordinator: DockerCoordinator
    # "Docker status": the wizard names an engine after its host, so the
    # engine's device is often named like the VM it sits under, whose own
    # "Status" would otherwise push the engine's to a "_2" entity id.
    translation_keys: Mapping[str, str] = {"status": "engine_status"}

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

    noun = Noun.CONTAINER

    descriptions = CONTAINER
    starting_text = "starting_container"
    # The engine answers a restart once the container runs again.
    reboot_completes_task = True
    coordinator: DockerCoordinator

    def __init__(
        self, *, image: str | None, version: str | None, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.image = image
        self.version = version

    @property
    def device_info(self) -> DeviceInfo:
        info: dict[str, Any] = {
            "identifiers": {(DOMAIN, self.key)},
            "name": self.name,
            "manufacturer": "Docker",
            "model": self.image,
            # What it runs (the image's release), as a VPS shows its image.
            "sw_version": self.version,
            **via(
                entry_device(
                    self.coordinator.hass,
                    self.entry.entry_id,
                    self.coordinator.engine_id,
                )
            ),
        }
        return cast("DeviceInfo", info)

    async def _grace(self, ref: str) -> Grace:
        """How to stop or restart it: its `stop_grace` setting, else its own
        (stop_grace)."""
        return await stop_grace(
            self.coordinator.client,
            ref,
            self.settings.get(CONF_STOP_GRACE),
            self.timeout,
        )

    async def _ref(self) -> str:
        """How to name it to the engine so that no other container is acted on
        (client.resolve: a hex-only name of a removed container reads as an id
        prefix)."""
        return await self.coordinator.client.resolve(self.name)

    @property
    def host_link_id(self) -> str | None:
        """The VM or machine the engine runs on, when the user linked it."""
        link = self.entry.options.get(CONF_HOST_LINK)
        return str(link) if link else None

    def start_failure(self, state: ResourceState | None) -> HomeAssistantError | None:
        """The engine's start returns once the process runs: a container seen
        exited after it, with its exit code, has exited already (a wrong
        command, a crash at boot)."""
        if (
            isinstance(state, ContainerState)
            and state.is_stopped
            and state.exit_code is not None
        ):
            return HomeAssistantError(
                translation_domain=DOMAIN,
                translation_key="container_exited",
                translation_placeholders={
                    "name": self.name,
                    "code": str(state.exit_code),
                },
            )
        return None

    async def async_start(self) -> None:
        # The engine refuses to start a paused container: turning it on resumes it.
        client = self.coordinator.client
        ref = await self._ref()
        listed = self.coordinator.containers.get(self.name)
        if listed is not None and listed.state == "paused":
            await client.unpause(ref)
            return
        await client.start(ref)

    async def async_stop(self) -> None:
        client = self.coordinator.client
        ref = await self._ref()
        grace = await self._grace(ref)
        if grace.never_kills:
            await client.kill(ref, signal=grace.signal)  # the cascade waits
            return
        await client.stop(ref, timeout=grace.t, wait=grace.wait)

    async def async_reboot(self) -> None:
        client = self.coordinator.client
        ref = await self._ref()
        grace = await self._grace(ref)
        if grace.never_kills:
            # Signalled, started again once it stopped by itself.
            await client.kill(ref, signal=grace.signal)
            await until_stopped(client, ref, self.name, self.timeout)
            await client.start(ref)
            return
        await client.restart(ref, timeout=grace.t, wait=grace.wait)

    async def async_force_stop(self) -> None:
        await self.coordinator.client.kill(await self._ref())

    async def async_pause(self) -> None:
        await self.coordinator.client.pause(await self._ref())

    async def async_unpause(self) -> None:
        await self.coordinator.client.unpause(await self._ref())


class StackResource(Resource):
    """A compose stack: its containers started in dependency order, stopped in
    reverse. Members are found by their project label at each action."""

    noun = Noun.STACK

    descriptions = STACK
    starting_text = "starting_stack"
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

    def acts_on(self) -> tuple[str, ...]:
        """Its containers as last polled (those WakeHub follows on their own
        start and stop with it)."""
        state = self.state
        if not isinstance(state, StackState):
            return ()
        engine = self.coordinator.engine_id
        return tuple(
            container_key(engine, name) for name in state.running + state.not_running
        )

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
            grace = await stop_grace(
                client, member.name, self.settings.get(CONF_STOP_GRACE), self.timeout
            )
            if grace.never_kills:
                # Signalled, and stopped before what it needs.
                await client.kill(member.name, signal=grace.signal)
                await until_stopped(client, member.name, member.name, self.timeout)
                continue
            await client.stop(member.name, timeout=grace.t, wait=grace.wait)
