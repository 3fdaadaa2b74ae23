"""Setting up a Proxmox entry: its coordinator, nodes and guests."""

from __future__ import annotations

import logging

from homeassistant.config_entries import (
    ConfigEntry,
)
from homeassistant.core import HomeAssistant
from homeassistant.helpers import (
    entity_registry as er,
    issue_registry as ir,
)

from ...const import CONF_HOST_LINKS, DOMAIN
from ...coordinator import async_first_refresh
from ...devices import async_place_resource
from ...resource import Resource
from ...runtime import WakeHubRuntimeData
from .client import create_client
from .const import guest_missing_issue_id, node_key
from .coordinator import ProxmoxCoordinator
from .node import ProxmoxNodeResource

_LOGGER = logging.getLogger(__name__)


async def async_setup_kind(
    hass: HomeAssistant, entry: ConfigEntry
) -> WakeHubRuntimeData[ProxmoxCoordinator]:
    client = create_client(hass, entry.data)
    coordinator = ProxmoxCoordinator(hass, entry, client)
    links = entry.options.get(CONF_HOST_LINKS) or {}
    await async_first_refresh(coordinator)
    cluster = coordinator.cluster
    if coordinator.cluster_state is not None:
        node_names = set(coordinator.cluster_state.nodes)
    else:
        # The cluster is off: its nodes are those the user linked to machines
        # and those the chosen guests were last seen on.
        node_names = {str(n) for n in links} | {
            g.node for g in coordinator.guests.values() if g.node
        }
    resources: list[Resource] = []
    for name in sorted(node_names):
        node = ProxmoxNodeResource(
            key=node_key(cluster, name),
            name=name,
            coordinator=coordinator,
            entry=entry,
            powered=coordinator.machine_link(name) is None,
        )
        # A node linked to a machine is that machine: shown on its device.
        node.shown_on = coordinator.machine_device(name)
        if not node.features:
            _drop_power_entities(hass, node)
        async_place_resource(hass, node)
        resources.append(node)
    resources.extend(coordinator.guests.values())

    async def clear_issues() -> None:
        # Raised again at the next poll if the guest is still missing.
        for vmid in coordinator.missing:
            ir.async_delete_issue(hass, DOMAIN, guest_missing_issue_id(entry, vmid))

    return WakeHubRuntimeData(
        coordinator=coordinator, resources=resources, on_unload=[clear_issues]
    )


def _drop_power_entities(hass: HomeAssistant, node: ProxmoxNodeResource) -> None:
    """A node now linked to a machine is powered by it: the switch, buttons and
    power sensors it had without one are removed; its figures stay."""
    registry = er.async_get(hass)
    prefix = f"{node.key}_"
    figures = {f"{prefix}{d.key}" for d in node.descriptions.sensors}
    for entity in er.async_entries_for_config_entry(registry, node.entry.entry_id):
        if (
            entity.config_subentry_id is None
            and entity.unique_id.startswith(prefix)
            and entity.unique_id not in figures
        ):
            registry.async_remove(entity.entity_id)
