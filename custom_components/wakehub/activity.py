"""What keeps a running resource awake, as the idle detector sees it (idle.py).

A running resource is *active* while any of these holds, and *idle* otherwise:
- one of its keep-awake entities is in an active state (on, playing, home, open...);
- a resource that depends on it is running (a NAS serving a running Jellyfin), or
  a platform on it reports any workload running there, managed by WakeHub or not
  (a VM whose engine runs a container nobody added), or cannot be asked;
- its CPU use is above its CPU threshold, or its network traffic above its network
  threshold (where the platform reports them and a threshold is set);
- its wake link was used within its keep-awake minutes (wake/activity.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from homeassistant.const import STATE_UNAVAILABLE, STATE_UNKNOWN
from homeassistant.core import HomeAssistant

from .const import (
    CONF_CPU_THRESHOLD,
    CONF_IDLE_TIMEOUT,
    CONF_KEEP_AWAKE,
    CONF_NETWORK_THRESHOLD,
    DEFAULT_IDLE_TIMEOUT,
)
from .power import PowerManager
from .power_events import Awake, AwakeKind
from .resource import Resource
from .wake.activity import access_reasons

# States of a keep-awake entity that do NOT keep the resource awake. Anything
# else (on, playing, home, open, heat, a number...) counts as activity.
# Unavailable and unknown are here on purpose: a device switched off often reads
# so, and one gone for good must not keep the resource on forever. Right after
# Home Assistant starts, when they mostly mean "not loaded yet", idle.py's
# STARTUP_GRACE holds every auto-shutdown instead.
INACTIVE_STATES = frozenset(
    {
        "off",
        "idle",
        "standby",
        "paused",
        "not_home",
        "away",
        "closed",
        "docked",
        "locked",
        "0",
        "",
        STATE_UNAVAILABLE,
        STATE_UNKNOWN,
    }
)


@dataclass(frozen=True)
class Activity:
    """What the detector sees for one resource."""

    active: bool
    #: What keeps it awake (empty when idle).
    awake: tuple[Awake, ...]
    idle_since: datetime | None
    auto_off_at: datetime | None

    @property
    def reasons(self) -> tuple[str, ...]:
        """What keeps it awake, in English (the `active` binary sensor's list)."""
        return tuple(map(str, self.awake))


def activity_reasons(
    hass: HomeAssistant, power: PowerManager, resource: Resource
) -> list[Awake]:
    """What keeps the running `resource` awake (empty: it is idle)."""
    state = resource.state
    reasons: list[Awake] = []
    for entity_id in resource.settings.get(CONF_KEEP_AWAKE, []):
        entity_state = hass.states.get(entity_id)
        if entity_state is not None and entity_state.state not in INACTIVE_STATES:
            reasons.append(Awake(AwakeKind.KEEP_AWAKE, entity_id, entity_state.state))
    hosted = power.workloads_on(resource)
    reasons.extend(Awake(AwakeKind.IN_USE, name) for name in hosted.managed)
    reasons.extend(Awake(AwakeKind.UNMANAGED, name) for name in hosted.unmanaged)
    reasons.extend(Awake(AwakeKind.UNREACHABLE, title) for title in hosted.unreachable)
    reasons.extend(access_reasons(hass, resource))  # wake on access
    settings = resource.settings
    if state is not None:  # pragma: no branch - only evaluated with a state
        cpu_threshold = settings.get(CONF_CPU_THRESHOLD)
        if cpu_threshold and state.cpu is not None and state.cpu > cpu_threshold:
            reasons.append(
                Awake(AwakeKind.CPU, value=f"{state.cpu:.0f}", limit=str(cpu_threshold))
            )
        network_threshold = settings.get(CONF_NETWORK_THRESHOLD)
        traffic = (state.network_in or 0) + (state.network_out or 0)
        if (
            network_threshold
            and (state.network_in is not None or state.network_out is not None)
            and traffic / 1000 > network_threshold
        ):
            reasons.append(
                Awake(
                    AwakeKind.NETWORK,
                    value=f"{traffic / 1000:.0f}",
                    limit=str(network_threshold),
                )
            )
    return reasons


def idle_timeout(resource: Resource) -> timedelta | None:
    """How long `resource` may stay idle before auto-shutdown (None: never)."""
    minutes = resource.settings.get(CONF_IDLE_TIMEOUT, DEFAULT_IDLE_TIMEOUT)
    return timedelta(minutes=float(minutes)) if minutes else None
