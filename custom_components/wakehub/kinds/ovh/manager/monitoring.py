"""The VPS's monitoring (CPU, memory, network): its figures, and its sensors,
which are the ones every kind shares (same keys, names and units)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any, Final

from ....api.ovh.monitoring import VpsMonitoring
from ....api.ovh.values import size_bytes
from ....descriptions import (
    CPU,
    MEMORY,
    NETWORK_IN,
    NETWORK_OUT,
    WakeHubSensorEntityDescription,
)
from ..state import OvhVpsState
from .data import PART_MONITORING, VpsManagerData
from .values import exists, part_value

# Network rates OVH may write, to bytes per second.
_RATES: Final[dict[str, float]] = {
    "bytes/s": 1,
    "b/s": 1,
    "bps": 1 / 8,
    "kbps": 1000 / 8,
    "mbps": 1000**2 / 8,
}


def _rate(monitoring: VpsMonitoring | None, metric: str) -> float | None:
    if monitoring is None or (value := monitoring.value(metric)) is None:
        return None
    factor = _RATES.get((monitoring.unit(metric) or "").strip().lower())
    return None if factor is None else round(value * factor, 1)


def cpu_percent(data: VpsManagerData) -> float | None:
    if data.monitoring is None or data.monitoring.unit("cpu:used") != "%":
        return None
    return data.monitoring.value("cpu:used")


def memory_percent(data: VpsManagerData) -> float | None:
    monitoring = data.monitoring
    if monitoring is None or (value := monitoring.value("mem:used")) is None:
        return None
    if monitoring.unit("mem:used") == "%":
        return value
    used = size_bytes({"unit": monitoring.unit("mem:used"), "value": value})
    if used is None or not data.memory_bytes:
        return None
    return round(used / data.memory_bytes * 100, 1)


def _has_monitoring(data: VpsManagerData) -> bool:
    return data.monitoring is not None


def _monitoring(
    shared: WakeHubSensorEntityDescription[Any],
    read: Callable[[VpsManagerData], float | None],
) -> WakeHubSensorEntityDescription[OvhVpsState]:
    """A sensor every kind shares, read from the VPS's monitoring."""
    return replace(
        shared,
        value_fn=part_value(PART_MONITORING, read),
        exists_fn=exists(_has_monitoring),
    )


MONITORING_SENSORS = (
    _monitoring(CPU, cpu_percent),
    _monitoring(MEMORY, memory_percent),
    _monitoring(NETWORK_IN, lambda d: _rate(d.monitoring, "net:rx")),
    _monitoring(NETWORK_OUT, lambda d: _rate(d.monitoring, "net:tx")),
)
