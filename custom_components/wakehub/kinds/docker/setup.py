"""Setting up a Docker entry: its coordinator, engine, containers and stacks."""

from __future__ import annotations

import logging

from homeassistant.config_entries import (
    ConfigEntry,
)
from homeassistant.core import HomeAssistant

from ...const import CONF_HOST_LINK
from ...coordinator import async_first_refresh
from ...devices import async_place_resource, linked_device
from ...resource import Resource
from ...runtime import WakeHubRuntimeData
from .client import create_client
from .const import container_key, stack_key
from .coordinator import DockerCoordinator
from .resources import ContainerResource, DockerEngineResource, StackResource

_LOGGER = logging.getLogger(__name__)


async def async_setup_kind(
    hass: HomeAssistant, entry: ConfigEntry
) -> WakeHubRuntimeData[DockerCoordinator]:
    client = create_client(hass, entry.data)
    coordinator = DockerCoordinator(hass, entry, client)
    try:
        await async_first_refresh(coordinator)
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
                version=listed.version if listed else None,
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

    return WakeHubRuntimeData(
        coordinator=coordinator,
        resources=resources,
        # A stats sample under way ends before its client closes.
        on_unload=[coordinator.async_cancel_stats, client.close],
    )
