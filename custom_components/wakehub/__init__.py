"""WakeHub: dependency-aware power for a home lab's and a small cloud's compute."""

from __future__ import annotations

from homeassistant.config_entries import (
    SIGNAL_CONFIG_ENTRY_CHANGED,
    ConfigEntry,
    ConfigEntryChange,
)
from homeassistant.const import Platform
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import config_validation as cv
from homeassistant.helpers.dispatcher import async_dispatcher_connect
from homeassistant.helpers.typing import ConfigType

from .const import CONF_KIND, DOMAIN, KIND_MACHINE
from .features import ResourceFeature
from .idle import async_get_idle_monitor
from .kinds import kind_setup
from .links import async_update_issues as async_update_link_proposals
from .power import async_get_power_manager
from .runtime import WakeHubConfigEntry, WakeHubRuntimeData
from .services import async_setup_services
from .wake.views import async_register_views as async_register_wake_views
from .wake.visit import async_update_visit_links

PLATFORMS: list[Platform] = [
    Platform.BINARY_SENSOR,
    Platform.BUTTON,
    Platform.SENSOR,
    Platform.SWITCH,
]

CONFIG_SCHEMA = cv.config_entry_only_config_schema(DOMAIN)

__all__ = ["WakeHubConfigEntry", "WakeHubRuntimeData"]


async def async_setup(hass: HomeAssistant, config: ConfigType) -> bool:
    """Register the actions once, whatever entries exist."""
    async_setup_services(hass)
    async_register_wake_views(hass)  # wake on access (wake/)
    return True


async def async_setup_entry(hass: HomeAssistant, entry: WakeHubConfigEntry) -> bool:
    """Set up one server entry through its kind's module."""
    setup = kind_setup(entry.data.get(CONF_KIND, KIND_MACHINE))
    if setup is None:
        return False
    entry.runtime_data = await setup(hass, entry)

    power = async_get_power_manager(hass)
    for resource in entry.runtime_data.resources:
        entry.async_on_unload(power.async_register(resource))

    # Loaded before the platforms, so the auto-shutdown switches start right.
    idle = async_get_idle_monitor(hass)
    await idle.async_load()

    # Power switches first: first on generated cards, and first to exist under
    # Home Assistant's cap on a config entry's entities.
    first = [platform for platform in PLATFORMS if platform is Platform.SWITCH]
    await hass.config_entries.async_forward_entry_setups(entry, first)
    await hass.config_entries.async_forward_entry_setups(
        entry, [platform for platform in PLATFORMS if platform not in first]
    )

    for resource in entry.runtime_data.resources:
        if ResourceFeature.POWER in resource.features:
            entry.async_on_unload(idle.async_track(resource))

    # Propose host links now (a new machine may be a known node), and whenever
    # what this server knows of its hosts changes (the engine's name, once it
    # answers).
    coordinator = entry.runtime_data.coordinator
    known = tuple(coordinator.link_targets())

    @callback
    def hosts_may_have_changed() -> None:
        nonlocal known
        if (targets := tuple(coordinator.link_targets())) != known:
            known = targets
            async_update_link_proposals(hass)

    entry.async_on_unload(coordinator.async_add_listener(hosts_may_have_changed))
    async_update_link_proposals(hass)
    async_update_visit_links(hass, entry)  # wake on access (wake/)
    _reload_on_subentry_change(hass, entry)
    return True


@callback
def _reload_on_subentry_change(hass: HomeAssistant, entry: WakeHubConfigEntry) -> None:
    """A resource added or removed (a subentry of any kind): set the entry up
    again, so its devices follow.

    Not an update listener: Home Assistant forbids those beside an
    OptionsFlowWithReload, which reloads on new options by itself.
    """
    subentries = set(entry.subentries)

    @callback
    def entry_changed(change: ConfigEntryChange, changed: ConfigEntry) -> None:
        if (
            change is ConfigEntryChange.UPDATED
            and changed.entry_id == entry.entry_id
            and set(changed.subentries) != subentries
        ):
            hass.config_entries.async_schedule_reload(entry.entry_id)

    entry.async_on_unload(
        async_dispatcher_connect(hass, SIGNAL_CONFIG_ENTRY_CHANGED, entry_changed)
    )


async def async_unload_entry(hass: HomeAssistant, entry: WakeHubConfigEntry) -> bool:
    unloaded = await hass.config_entries.async_unload_platforms(entry, PLATFORMS)
    if unloaded:
        for close in entry.runtime_data.on_unload:
            await close()
    return unloaded


async def async_remove_entry(hass: HomeAssistant, entry: WakeHubConfigEntry) -> None:
    """A removed server takes its proposed links with it."""
    async_update_link_proposals(hass)
