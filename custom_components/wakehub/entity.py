"""Base entity: one device per resource, availability from its coordinator."""

from __future__ import annotations

from homeassistant.helpers.dispatcher import async_dispatcher_connect
from homeassistant.helpers.entity import EntityDescription
from homeassistant.helpers.update_coordinator import CoordinatorEntity

from .coordinator import WakeHubCoordinator
from .power import SIGNAL_TRANSITION, PowerManager
from .resource import Resource, ResourceState


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
        self._attr_device_info = resource.device_info

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
