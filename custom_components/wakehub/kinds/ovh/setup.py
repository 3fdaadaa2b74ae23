"""Setting up an OVH entry: its coordinator and VPSes."""

from __future__ import annotations

import logging

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant

from ...resource import Resource
from ...runtime import WakeHubRuntimeData
from .client import create_client
from .const import SUBENTRY_VPS
from .coordinator import OvhCoordinator
from .descriptions import vps_descriptions
from .state import OvhVpsState
from .vps import OvhVpsResource

_LOGGER = logging.getLogger(__name__)


async def async_setup_kind(
    hass: HomeAssistant, entry: ConfigEntry
) -> WakeHubRuntimeData[OvhCoordinator]:
    vps_subentries = {
        sub.unique_id: sub
        for sub in entry.subentries.values()
        if sub.subentry_type == SUBENTRY_VPS and sub.unique_id
    }
    coordinator = OvhCoordinator(hass, entry, create_client(hass, entry.data))
    coordinator.services = list(vps_subentries)
    coordinator.names = {service: sub.title for service, sub in vps_subentries.items()}
    await coordinator.async_config_entry_first_refresh()
    resources: list[Resource] = [
        OvhVpsResource(
            key=service,
            name=sub.title,
            coordinator=coordinator,
            entry=entry,
            subentry_id=sub.subentry_id,
        )
        for service, sub in vps_subentries.items()
    ]
    for resource in resources:
        # Its disks, as the VPS manager reported them at setup.
        state = coordinator.data.get(resource.key)
        resource.descriptions = vps_descriptions(
            state if isinstance(state, OvhVpsState) else None
        )

    known = (set(entry.subentries), dict(entry.options))

    async def reload_on_change(hass: HomeAssistant, entry: ConfigEntry) -> None:
        # A VPS added or removed from the entry's page, or new options: reload.
        # (Home Assistant forbids update listeners with OptionsFlowWithReload.)
        if (set(entry.subentries), dict(entry.options)) != known:
            hass.config_entries.async_schedule_reload(entry.entry_id)

    entry.async_on_unload(entry.add_update_listener(reload_on_change))
    return WakeHubRuntimeData(coordinator=coordinator, resources=resources)
