"""The entities of a Docker engine, its containers and stacks."""

from __future__ import annotations

from typing import Any

from homeassistant.components.sensor import SensorDeviceClass

from ...api.models import ResourceStatus
from ...descriptions import (
    CPU,
    FORCE_STOP,
    MEMORY,
    NETWORK_IN,
    NETWORK_OUT,
    REBOOT,
    UPTIME,
    ResourceDescriptions,
    WakeHubSensorEntityDescription,
    disabled,
    status_sensor,
)
from .state import ContainerState, EngineState, StackState


def _engine_attributes(state: EngineState) -> dict[str, Any]:
    return {
        "containers": state.containers,
        "running": state.running,
        "server_version": state.server_version,
        "api_version": state.api_version,
    }


def _container_attributes(state: ContainerState) -> dict[str, Any]:
    return {"state": state.state, "id": state.container_id}


def _stack_attributes(state: StackState) -> dict[str, Any]:
    return {
        "containers": state.containers,
        "running": list(state.running),
        "not_running": list(state.not_running),
    }


HEALTH = WakeHubSensorEntityDescription[ContainerState](
    key="health",
    translation_key="health",
    device_class=SensorDeviceClass.ENUM,
    options=["healthy", "unhealthy", "starting", "none"],
    # Only a running container's healthcheck runs: a stopped one's health is
    # not reported (unavailable), not "none", which says it has no healthcheck.
    value_fn=lambda state: (
        state.health if state.status is ResourceStatus.RUNNING else None
    ),
)

ENGINE = ResourceDescriptions(sensors=(status_sensor(_engine_attributes),))

# Health tells whether a container does its job; the figures on demand.
CONTAINER = ResourceDescriptions(
    sensors=(
        status_sensor(_container_attributes),
        disabled(CPU),
        disabled(MEMORY),
        disabled(NETWORK_IN),
        disabled(NETWORK_OUT),
        UPTIME,
        HEALTH,
    ),
    buttons=(REBOOT, FORCE_STOP),
)

STACK = ResourceDescriptions(sensors=(status_sensor(_stack_attributes),))
