"""WakeHub: dependency-aware power for a home lab's and a small cloud's compute."""

from __future__ import annotations

from dataclasses import dataclass

from homeassistant.config_entries import ConfigEntry
from homeassistant.const import Platform
from homeassistant.core import HomeAssistant
from homeassistant.helpers import config_validation as cv
from homeassistant.helpers.typing import ConfigType

from .const import CONF_KIND, DOMAIN, KIND_MACHINE
from .coordinator import MachineCoordinator, WakeHubCoordinator
from .power import async_get_power_manager
from .resource import MachineResource, Resource
from .services import async_setup_services

PLATFORMS: list[Platform] = [Platform.BUTTON, Platform.SENSOR, Platform.SWITCH]

CONFIG_SCHEMA = cv.config_entry_only_config_schema(DOMAIN)


@dataclass(kw_only=True)
class WakeHubRuntimeData:
    """What a loaded entry holds: its coordinator and the resources it powers."""

    coordinator: WakeHubCoordinator
    resources: list[Resource]


type WakeHubConfigEntry = ConfigEntry[WakeHubRuntimeData]


async def async_setup(hass: HomeAssistant, config: ConfigType) -> bool:
    """Register the actions once, whatever entries exist."""
    async_setup_services(hass)
    return True


async def async_setup_entry(hass: HomeAssistant, entry: WakeHubConfigEntry) -> bool:
    """Set up one server entry."""
    if entry.data.get(CONF_KIND, KIND_MACHINE) != KIND_MACHINE:
        # Only machines exist yet; other kinds arrive with their issues.
        return False
    coordinator = MachineCoordinator(hass, entry)
    await coordinator.async_config_entry_first_refresh()
    resources: list[Resource] = [
        MachineResource(
            key=coordinator.key, name=entry.title, coordinator=coordinator, entry=entry
        )
    ]
    entry.runtime_data = WakeHubRuntimeData(
        coordinator=coordinator, resources=resources
    )

    power = async_get_power_manager(hass)
    for resource in resources:
        entry.async_on_unload(power.async_register(resource))

    await hass.config_entries.async_forward_entry_setups(entry, PLATFORMS)
    return True


async def async_unload_entry(hass: HomeAssistant, entry: WakeHubConfigEntry) -> bool:
    return await hass.config_entries.async_unload_platforms(entry, PLATFORMS)
