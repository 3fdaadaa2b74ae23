"""Entity descriptions over a kind's typed state, and the ones every kind shares.

Each resource class declares its `ResourceDescriptions`: which sensors and
buttons it has, how each reads the resource's typed state (`value_fn`,
`attr_fn`), when it exists (`exists_fn`, asked with the state at setup) and
when a button can be pressed (`available_fn`). The platforms only walk these
tuples; nothing is looked up by name.

Entity economy: what a person needs on a resource's card is enabled by default
(power, status, reboot and the two or three figures that matter for that kind);
the rest is created disabled, to be enabled from the entity's settings.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

from homeassistant.components.binary_sensor import BinarySensorEntityDescription
from homeassistant.components.button import ButtonEntityDescription
from homeassistant.components.sensor import (
    SensorDeviceClass,
    SensorEntityDescription,
    SensorStateClass,
)
from homeassistant.const import PERCENTAGE, EntityCategory, UnitOfDataRate
from homeassistant.helpers.typing import StateType

from .action_errors import translate_error
from .api.errors import WakeHubError
from .api.models import ResourceStatus
from .capabilities import ForceStoppable, Resettable, capability
from .features import ResourceFeature
from .state import ResourceState

if TYPE_CHECKING:
    from .power import PowerManager
    from .resource import Resource


def _no_attributes(_: Any) -> dict[str, Any] | None:
    return None


def _always(_: Any) -> bool:
    return True


@dataclass(frozen=True, kw_only=True)
class WakeHubSensorEntityDescription[S: ResourceState](SensorEntityDescription):
    """A sensor reading one field of a resource's typed state `S`."""

    value_fn: Callable[[S], StateType | datetime]
    attr_fn: Callable[[S], dict[str, Any] | None] = _no_attributes
    #: Asked with the state at setup; None: the sensor always exists. A sensor
    #: whose existence depends on the state is not made before a first state.
    exists_fn: Callable[[S], bool] | None = None
    #: No value is a fact here (no snapshot taken yet): shown as unknown. Any
    #: other figure without a value is unavailable, not a misleading zero.
    none_is_unknown: bool = False


@dataclass(frozen=True, kw_only=True)
class WakeHubButtonEntityDescription[S: ResourceState](ButtonEntityDescription):
    """A button acting on a resource that has `feature`."""

    feature: ResourceFeature
    press_fn: Callable[[PowerManager, Resource], Awaitable[None]]
    #: Whether pressing makes sense in the resource's state right now.
    available_fn: Callable[[S], bool] = _always


@dataclass(frozen=True, kw_only=True)
class WakeHubBinarySensorEntityDescription[S: ResourceState](
    BinarySensorEntityDescription
):
    """A binary sensor reading a resource's typed state `S` (None: unavailable)."""

    is_on_fn: Callable[[S], bool | None]
    attr_fn: Callable[[S], dict[str, Any] | None] = _no_attributes
    #: As for sensors: asked with the state at setup; None: always exists.
    exists_fn: Callable[[S], bool] | None = None


@dataclass(frozen=True, kw_only=True)
class ResourceDescriptions:
    """The entities a kind of resource has, beside its power switch."""

    sensors: tuple[WakeHubSensorEntityDescription[Any], ...] = ()
    buttons: tuple[WakeHubButtonEntityDescription[Any], ...] = ()
    binary_sensors: tuple[WakeHubBinarySensorEntityDescription[Any], ...] = ()


def exists(
    description: WakeHubSensorEntityDescription[Any]
    | WakeHubBinarySensorEntityDescription[Any],
    state: ResourceState | None,
) -> bool:
    """Whether the resource, polled as `state` at setup, has this entity."""
    if description.exists_fn is None:
        return True
    return state is not None and description.exists_fn(state)


def disabled[D: SensorEntityDescription | ButtonEntityDescription](
    description: D,
) -> D:
    """`description`, created disabled by default."""
    return replace(description, entity_registry_enabled_default=False)


# -- the core every state has -------------------------------------------------------

STATUS = WakeHubSensorEntityDescription[ResourceState](
    key="status",
    translation_key="status",
    device_class=SensorDeviceClass.ENUM,
    options=[status.value for status in ResourceStatus],
    value_fn=lambda state: state.status.value,
    none_is_unknown=True,
)


def status_sensor[S: ResourceState](
    attr_fn: Callable[[S], dict[str, Any] | None],
) -> WakeHubSensorEntityDescription[S]:
    """The status sensor of a kind whose state adds attributes to it."""
    return WakeHubSensorEntityDescription[S](
        key=STATUS.key,
        translation_key=STATUS.translation_key,
        device_class=STATUS.device_class,
        options=STATUS.options,
        value_fn=lambda state: state.status.value,
        attr_fn=attr_fn,
        none_is_unknown=True,
    )


CPU = WakeHubSensorEntityDescription[ResourceState](
    key="cpu",
    translation_key="cpu",
    native_unit_of_measurement=PERCENTAGE,
    state_class=SensorStateClass.MEASUREMENT,
    suggested_display_precision=1,
    value_fn=lambda state: state.cpu,
)
MEMORY = WakeHubSensorEntityDescription[ResourceState](
    key="memory",
    translation_key="memory",
    native_unit_of_measurement=PERCENTAGE,
    state_class=SensorStateClass.MEASUREMENT,
    suggested_display_precision=1,
    value_fn=lambda state: state.memory,
)
DISK = WakeHubSensorEntityDescription[ResourceState](
    key="disk",
    translation_key="disk",
    native_unit_of_measurement=PERCENTAGE,
    state_class=SensorStateClass.MEASUREMENT,
    suggested_display_precision=1,
    value_fn=lambda state: state.disk,
)
NETWORK_IN = WakeHubSensorEntityDescription[ResourceState](
    key="network_in",
    translation_key="network_in",
    device_class=SensorDeviceClass.DATA_RATE,
    native_unit_of_measurement=UnitOfDataRate.BYTES_PER_SECOND,
    suggested_unit_of_measurement=UnitOfDataRate.KILOBYTES_PER_SECOND,
    state_class=SensorStateClass.MEASUREMENT,
    value_fn=lambda state: state.network_in,
)
NETWORK_OUT = WakeHubSensorEntityDescription[ResourceState](
    key="network_out",
    translation_key="network_out",
    device_class=SensorDeviceClass.DATA_RATE,
    native_unit_of_measurement=UnitOfDataRate.BYTES_PER_SECOND,
    suggested_unit_of_measurement=UnitOfDataRate.KILOBYTES_PER_SECOND,
    state_class=SensorStateClass.MEASUREMENT,
    value_fn=lambda state: state.network_out,
)
UPTIME = WakeHubSensorEntityDescription[ResourceState](
    key="uptime",
    translation_key="uptime",
    device_class=SensorDeviceClass.TIMESTAMP,
    entity_category=EntityCategory.DIAGNOSTIC,
    entity_registry_enabled_default=False,
    value_fn=lambda state: state.boot_time,
)


# -- buttons ------------------------------------------------------------------------


async def _reboot(power: PowerManager, resource: Resource) -> None:
    await power.async_reboot(resource)


async def _force_stop(power: PowerManager, resource: Resource) -> None:
    await act(
        power,
        resource,
        capability(resource, ForceStoppable, "force_stop").async_force_stop,
    )


async def _reset(power: PowerManager, resource: Resource) -> None:
    await act(power, resource, capability(resource, Resettable, "reset").async_reset)


async def act(
    power: PowerManager, resource: Resource, action: Callable[[], Awaitable[Any]]
) -> None:
    """A button's direct request to the platform: its failure translated, then
    the new state shown at once (and known to be WakeHub's doing: observed.py)."""
    with power.observer.acting(resource):
        try:
            await action()
        except WakeHubError as err:
            raise translate_error(err, resource.name) from err
        await resource.coordinator.async_request_refresh()


def _running(state: ResourceState) -> bool:
    return state.is_running


#: Unavailable while the resource does not run: a reboot never starts it.
REBOOT = WakeHubButtonEntityDescription[ResourceState](
    key="reboot",
    translation_key="reboot",
    feature=ResourceFeature.REBOOT,
    press_fn=_reboot,
    available_fn=_running,
)
FORCE_STOP = WakeHubButtonEntityDescription[ResourceState](
    key="force_stop",
    translation_key="force_stop",
    feature=ResourceFeature.FORCE_STOP,
    entity_registry_enabled_default=False,
    press_fn=_force_stop,
)
RESET = WakeHubButtonEntityDescription[ResourceState](
    key="reset",
    translation_key="reset",
    feature=ResourceFeature.RESET,
    entity_registry_enabled_default=False,
    press_fn=_reset,
)
