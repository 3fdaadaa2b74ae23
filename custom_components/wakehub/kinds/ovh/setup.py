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
    return WakeHubRuntimeData(coordinator=coordinator, resources=resources)
