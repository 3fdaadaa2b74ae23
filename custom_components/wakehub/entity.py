"""Base entity: the device showing its resource, availability from its coordinator."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.dispatcher import async_dispatcher_connect
from homeassistant.helpers.entity import Entity, EntityDescription
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.helpers.update_coordinator import CoordinatorEntity

from .asleep import shown_state, sleeps
from .const import DOMAIN
from .coordinator import WakeHubCoordinator
from .features import ResourceFeature
from .idle import SIGNAL_IDLE, async_get_idle_monitor
from .power import SIGNAL_TRANSITION, PowerManager
from .resource import Resource
from .runtime import WakeHubConfigEntry
from .state import ResourceState

#: Sent with (resource key, on) when a resource's auto-shutdown is turned on or off.
SIGNAL_AUTO_SHUTDOWN = f"{DOMAIN}_auto_shutdown"


def async_add_resource_entities(
    entry: WakeHubConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
    make: Callable[[Resource], Iterable[Entity]],
) -> None:
    """Add each resource's entities under its config subentry.

    Entities of a resource chosen in a subentry belong to that subentry, so
    removing the subentry removes its device and entities.
    """
    by_subentry: dict[str | None, list[Entity]] = {}
    for resource in entry.runtime_data.resources:
        by_subentry.setdefault(resource.subentry_id, []).extend(make(resource))
    for subentry_id, entities in by_subentry.items():
        async_add_entities(entities, config_subentry_id=subentry_id)


def async_add_idle_entities(
    hass: HomeAssistant,
    entry: WakeHubConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
    *,
    platform: str,
    description: EntityDescription,
    make: Callable[[Resource], WakeHubIdleEntity],
) -> None:
    """Add an idle entity to each resource whose auto-shutdown is on, now and
    whenever it is turned on (idle entities say nothing where it is off).

    Those a resource had while it was on are removed from the registry, so no
    stale "unavailable" entity stays behind.
    """
    monitor = async_get_idle_monitor(hass)
    powered = {
        resource.key: resource
        for resource in entry.runtime_data.resources
        if ResourceFeature.POWER in resource.features
    }
    registry = er.async_get(hass)
    for resource in powered.values():
        if monitor.enabled(resource):
            continue
        unique_id = f"{resource.key}_{description.key}"
        if entity_id := registry.async_get_entity_id(platform, DOMAIN, unique_id):
            registry.async_remove(entity_id)
    async_add_resource_entities(
        entry,
        async_add_entities,
        lambda resource: (
            [make(resource)]
            if resource.key in powered and monitor.enabled(resource)
            else []
        ),
    )

    @callback
    def turned(key: str, on: bool) -> None:
        if on and (resource := powered.get(key)) is not None:
            async_add_entities(
                [make(resource)], config_subentry_id=resource.subentry_id
            )

    entry.async_on_unload(async_dispatcher_connect(hass, SIGNAL_AUTO_SHUTDOWN, turned))


class WakeHubEntity(CoordinatorEntity[WakeHubCoordinator]):
    """An entity of one resource.

    A poll (or a transition, or the idle detector) rewrites an entity only when
    what it shows changed: at a thousand resources, rewriting every unchanged
    state at every poll is most of the event loop's work.
    """

    _attr_has_entity_name = True
    #: What the entity showed at its last write (availability, state, attributes).
    _shown: tuple[Any, ...] | None = None

    def __init__(
        self,
        resource: Resource,
        power: PowerManager,
        description: EntityDescription,
    ) -> None:
        # The resource's key as the listener's context: a probe of one resource
        # tells only its entities (coordinator.py).
        super().__init__(resource.coordinator, resource.key)
        self.resource = resource
        self.power = power
        self.entity_description = description
        self._attr_unique_id = f"{resource.key}_{description.key}"
        if (device := resource.shown_on) is None:
            self._attr_device_info = resource.device_info
        else:
            # Home Assistant's way to put an entity on another entry's device.
            self.device_entry = device
        key = description.translation_key
        if key is not None and key in resource.translation_keys:
            self._attr_translation_key = resource.translation_keys[key]

    @property
    def available(self) -> bool:
        # A resource missing from its coordinator's data vanished on the platform;
        # one whose server sleeps with what it runs on is shown stopped (asleep.py).
        if self.resource.state is None:
            return False
        return super().available or sleeps(self.resource)

    @property
    def shown_state(self) -> ResourceState | None:
        """The resource's state as shown: stopped while its server sleeps."""
        return shown_state(self.resource)

    @property
    def state_data(self) -> ResourceState:
        """The resource's shown state; only read while `available`."""
        state = self.shown_state
        assert state is not None
        return state

    async def async_added_to_hass(self) -> None:
        await super().async_added_to_hass()
        # Starting/stopping is shown at once, not at the next poll.
        self.async_on_remove(
            async_dispatcher_connect(
                self.hass,
                f"{SIGNAL_TRANSITION}_{self.resource.key}",
                self.async_write_if_changed,
            )
        )

    def _showing(self) -> tuple[Any, ...]:
        if not self.available:
            return (False,)
        return (True, self.state, self.extra_state_attributes)

    @callback
    def _async_write_ha_state(self) -> None:
        # Every write passes here (Home Assistant's own too: when the entity is
        # added, when a button is pressed): remember what it showed.
        self._shown = self._showing()
        super()._async_write_ha_state()

    @callback
    def async_write_if_changed(self) -> None:
        """Write the state only if what it shows changed since the last write."""
        if self._showing() != self._shown:
            self.async_write_ha_state()

    @callback
    def _handle_coordinator_update(self) -> None:
        self.async_write_if_changed()


class WakeHubIdleEntity(WakeHubEntity):
    """What the idle detector sees of a resource whose auto-shutdown is on."""

    async def async_added_to_hass(self) -> None:
        await super().async_added_to_hass()
        self.async_on_remove(
            async_dispatcher_connect(
                self.hass,
                f"{SIGNAL_IDLE}_{self.resource.key}",
                self.async_write_if_changed,
            )
        )
        self.async_on_remove(
            async_dispatcher_connect(
                self.hass, SIGNAL_AUTO_SHUTDOWN, self._auto_shutdown_turned
            )
        )

    @callback
    def _auto_shutdown_turned(self, key: str, on: bool) -> None:
        if key == self.resource.key and not on:
            er.async_get(self.hass).async_remove(self.entity_id)
