"""Base entity: the device showing its resource, availability from its coordinator."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from homeassistant.helpers.dispatcher import async_dispatcher_connect
from homeassistant.helpers.entity import Entity, EntityDescription
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.helpers.update_coordinator import CoordinatorEntity

from .coordinator import WakeHubCoordinator
from .power import SIGNAL_TRANSITION, PowerManager
from .resource import Resource, ResourceState
from .runtime import WakeHubConfigEntry


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


class WakeHubEntity(CoordinatorEntity[WakeHubCoordinator]):
    """An entity of one resource."""

    _attr_has_entity_name = True

    def __init__(
        self,
        resource: Resource,
        power: PowerManager,
        description: EntityDescription,
    ) -> None:
        super().__init__(resource.coordinator)
        self.resource = resource
        self.power = power
        self.entity_description = description
        self._attr_unique_id = f"{resource.key}_{description.key}"
        if (device := resource.shown_on) is None:
            self._attr_device_info = resource.device_info
        else:
            # Home Assistant's way to put an entity on another entry's device.
            self.device_entry = device
        if resource.translation_prefix and (key := description.translation_key):
            self._attr_translation_key = f"{resource.translation_prefix}{key}"

    @property
    def available(self) -> bool:
        # A resource missing from its coordinator's data vanished on the platform.
        return super().available and self.resource.state is not None

    @property
    def state_data(self) -> ResourceState:
        """The resource's state; only read while `available`."""
        state = self.resource.state
        assert state is not None
        return state

    async def async_added_to_hass(self) -> None:
        await super().async_added_to_hass()
        # Starting/stopping is shown at once, not at the next poll.
        self.async_on_remove(
            async_dispatcher_connect(
                self.hass,
                f"{SIGNAL_TRANSITION}_{self.resource.key}",
                self.async_write_ha_state,
            )
        )
