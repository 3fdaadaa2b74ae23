"""The `wakehub_power` events: every step of a power change and every automatic
decision, with what happened and why, as typed fields.

Automations and the logbook (logbook.py) read the fields; nothing in an event is
a sentence to parse. The values of the enums are the event's field values.

Fields of an event (empty ones are left out):
- `resource`, `name`, `kind`: the resource's key, name and noun (naming.py);
  `entity_id`, `device_id`: its power switch and device, so the event shows in
  their logbooks;
- `action`, `step`, `result`, `reason`: the enums below;
- `waiting_for`: what a start waits for, each `{"name", "kind"}`;
- `cause`: the resource the reason is about, `{"name", "kind"}`: the dependent
  whose stop released this one (`released_by`), the host going down under it
  (`host_stopping`), the host it went down or came up with (`with_host`);
- `managed`, `unmanaged`, `platforms`: names of what keeps a host on (resources
  of WakeHub, workloads it does not manage, servers that could not be asked), and
  for a host stopped directly, what went down with it (`unmanaged`);
- `error`, `translation_key`, `translation_placeholders`: on a failure, the
  error the action raised (translated by action_errors.py or the kind), so the
  logbook says it in the same words;
- `activity`: what keeps a resource awake, when its auto-shutdown is cancelled,
  each `{"kind", "subject", "value", "limit"}` (`Awake`);
- `idle_minutes`: how long it was idle, when auto-shutdown decides to stop it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
import logging
from typing import TYPE_CHECKING, Any, Final

from homeassistant.core import HomeAssistant, callback
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import entity_registry as er

from .const import DOMAIN, EVENT_POWER
from .graph import power_switch_unique_id
from .naming import Named

if TYPE_CHECKING:
    from .resource import Resource

_LOGGER = logging.getLogger(__name__)


class PowerAction(StrEnum):
    """What was asked for."""

    START = "start"
    START_ALONE = "start_alone"  # without starting what it depends on
    STOP = "stop"
    STOP_ALONE = "stop_alone"  # without releasing what it depends on
    REBOOT = "reboot"
    AUTO_STOP = "auto_stop"  # the idle detector's decision


class Step(StrEnum):
    """Which part of a change an event is about (and a change under way is at)."""

    DEPENDENCIES = "dependencies"  # what it needs, below it
    PLATFORM = "platform"  # its server's API
    COMMAND = "command"  # its own start, stop or reboot
    DEPENDENTS = "dependents"  # what runs on it, stopped first
    DECISION = "decision"  # the idle detector deciding


class Result(StrEnum):
    """What happened at that step."""

    WAITING = "waiting"
    REQUESTED = "requested"
    DONE = "done"
    FAILED = "failed"
    KEPT_ON = "kept_on"
    CANCELLED = "cancelled"
    DECIDED = "decided"
    OBSERVED = "observed"  # a change WakeHub did not make, seen by a poll


#: The error a change that did not end in time raises, by what was asked.
TIMEOUT_KEYS: Final = {
    PowerAction.START: "start_timeout",
    PowerAction.STOP: "stop_timeout",
    PowerAction.REBOOT: "reboot_timeout",
}


class ReasonKind(StrEnum):
    """Why."""

    ALREADY_RUNNING = "already_running"
    ALREADY_STOPPED = "already_stopped"
    ERROR = "error"  # the platform or the kind refused (translation_key says how)
    TIMEOUT = "timeout"  # it did not reach the state in time
    PLATFORM_TIMEOUT = "platform_timeout"  # its server did not answer in time
    IDLE = "idle"
    ACTIVE = "active"  # something keeps it awake (`activity`)
    HOST_STOPPING = "host_stopping"  # what it runs on is going down (`cause`)
    RELEASED_BY = "released_by"  # its last dependent stopped (`cause`)
    IN_USE = "in_use"  # something still runs on it (`managed`, `unmanaged`)
    PLATFORM_UNREACHABLE = "platform_unreachable"  # a server on it cannot be asked
    NOT_STOPPED_WITH_DEPENDENTS = "not_stopped_with_dependents"  # its setting
    WITH_HOST = "with_host"  # it went down or came up with its host (`cause`)


@dataclass(frozen=True, slots=True)
class Reason:
    """Why something happened, and the resource that caused it, if one did."""

    kind: ReasonKind
    #: The resource that caused it: the dependent whose stop released it
    #: (RELEASED_BY), the host going down under it (HOST_STOPPING), the host
    #: it went down or came up with (WITH_HOST).
    resource: Named | None = None


class AwakeKind(StrEnum):
    """What keeps a running resource awake (activity.py)."""

    KEEP_AWAKE = "keep_awake"  # a keep-awake entity (`subject`) is `value`
    IN_USE = "in_use"  # a WakeHub resource (`subject`) runs on it
    UNMANAGED = "unmanaged"  # a workload WakeHub does not manage runs on it
    UNREACHABLE = "unreachable"  # a server on it (`subject`) cannot be asked
    CPU = "cpu"  # its CPU use (`value`, %) is above its threshold (`limit`)
    NETWORK = "network"  # its traffic (`value`, kB/s) is above `limit`
    ACCESS = "access"  # its wake link was used; held awake until `value`


# The English line of each kind (the logbook's translated ones are in the
# translation files' `logbook.awake` section).
_AWAKE_ENGLISH: dict[AwakeKind, str] = {
    AwakeKind.KEEP_AWAKE: "{subject} is {value}",
    AwakeKind.IN_USE: "{subject} is running",
    AwakeKind.UNMANAGED: "{subject} is running (not in WakeHub)",
    AwakeKind.UNREACHABLE: "{subject} cannot be asked",
    AwakeKind.CPU: "CPU {value}% > {limit}%",
    AwakeKind.NETWORK: "network {value} kB/s > {limit} kB/s",
    AwakeKind.ACCESS: "accessed through its wake link (until {value})",
}


@dataclass(frozen=True, slots=True)
class Awake:
    """One thing that keeps a running resource awake."""

    kind: AwakeKind
    subject: str = ""
    value: str = ""
    limit: str = ""

    def __str__(self) -> str:
        """In English, as the `active` binary sensor lists it."""
        return _AWAKE_ENGLISH[self.kind].format(
            subject=self.subject, value=self.value, limit=self.limit
        )

    def as_data(self) -> dict[str, str]:
        return {
            "kind": self.kind,
            "subject": self.subject,
            "value": self.value,
            "limit": self.limit,
        }

    @classmethod
    def from_data(cls, value: Any) -> Awake | None:
        """The value `as_data` wrote (None for anything else)."""
        if not isinstance(value, Mapping):
            return None
        kind = _member(AwakeKind, value.get("kind"))
        if kind is None:
            return None
        return cls(
            kind,
            str(value.get("subject", "")),
            str(value.get("value", "")),
            str(value.get("limit", "")),
        )


@dataclass(frozen=True, slots=True)
class Failure:
    """The error a failed step raised, as the action's caller sees it."""

    #: Its words in English, as Home Assistant raises it.
    message: str
    #: Its translation, to show it in Home Assistant's language (None: the
    #: error has none, its message is all there is).
    translation_key: str | None = None
    placeholders: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def of(cls, err: HomeAssistantError) -> Failure:
        return cls(
            str(err), err.translation_key, dict(err.translation_placeholders or {})
        )


@dataclass(frozen=True, kw_only=True)
class PowerEvent:
    """One step of a power change, or one decision, as its event carries it."""

    action: PowerAction
    result: Result
    step: Step | None = None
    reason: Reason | None = None
    waiting_for: tuple[Named, ...] = ()
    managed: tuple[str, ...] = ()
    unmanaged: tuple[str, ...] = ()
    platforms: tuple[str, ...] = ()
    failure: Failure | None = None
    activity: tuple[Awake, ...] = ()
    idle_minutes: int | None = None

    def as_data(self) -> dict[str, Any]:
        """The event's fields about the change (without the resource's)."""
        reason = self.reason
        cause = reason.resource if reason is not None else None
        failure = self.failure
        details: dict[str, Any] = {
            "waiting_for": [named.as_data() for named in self.waiting_for],
            "cause": cause.as_data() if cause else None,
            "managed": list(self.managed),
            "unmanaged": list(self.unmanaged),
            "platforms": list(self.platforms),
            "error": failure.message if failure else None,
            "translation_key": failure.translation_key if failure else None,
            "translation_placeholders": dict(failure.placeholders) if failure else None,
            "activity": [awake.as_data() for awake in self.activity],
            "idle_minutes": self.idle_minutes,
        }
        return {
            "action": self.action,
            "step": self.step,
            "result": self.result,
            "reason": reason.kind if reason is not None else None,
            **{key: value for key, value in details.items() if value},
        }

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> PowerEvent | None:
        """The event `as_data` wrote; None when its action or result is unknown.

        Lenient with what it does not know (an event of an older version): an
        unknown step or reason is left out rather than guessed.
        """
        action = _member(PowerAction, data.get("action"))
        result = _member(Result, data.get("result"))
        if action is None or result is None:
            return None
        kind = _member(ReasonKind, data.get("reason"))
        reason = (
            Reason(kind, Named.from_data(data.get("cause")))
            if kind is not None
            else None
        )
        error, key = data.get("error"), data.get("translation_key")
        placeholders = data.get("translation_placeholders")
        return cls(
            action=action,
            result=result,
            step=_member(Step, data.get("step")),
            reason=reason,
            waiting_for=tuple(
                named
                for value in _list(data.get("waiting_for"))
                if (named := Named.from_data(value)) is not None
            ),
            managed=_names(data.get("managed")),
            unmanaged=_names(data.get("unmanaged")),
            platforms=_names(data.get("platforms")),
            failure=Failure(
                error,
                key if isinstance(key, str) else None,
                {str(k): str(v) for k, v in placeholders.items()}
                if isinstance(placeholders, Mapping)
                else {},
            )
            if isinstance(error, str)
            else None,
            activity=tuple(
                awake
                for value in _list(data.get("activity"))
                if (awake := Awake.from_data(value)) is not None
            ),
            idle_minutes=minutes
            if isinstance(minutes := data.get("idle_minutes"), int)
            else None,
        )


def _member[E: StrEnum](enum: type[E], value: Any) -> E | None:
    """`value` as a member of `enum`, None when it is not one."""
    return enum(value) if isinstance(value, str) and value in enum else None


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _names(value: Any) -> tuple[str, ...]:
    return tuple(str(item) for item in _list(value))


@callback
def async_fire_power_event(
    hass: HomeAssistant, resource: Resource, event: PowerEvent
) -> None:
    """Fire `event` about `resource`, tied to its power switch and device."""
    registry = er.async_get(hass)
    entity_id = registry.async_get_entity_id(
        "switch", DOMAIN, power_switch_unique_id(resource.key)
    )
    entry = registry.async_get(entity_id) if entity_id else None
    tied = {
        "kind": resource.noun,
        "entity_id": entity_id,
        "device_id": entry.device_id if entry else None,
    }
    data: dict[str, Any] = {
        "resource": resource.key,
        "name": resource.name,
        **{key: value for key, value in tied.items() if value},
        **event.as_data(),
    }
    _LOGGER.debug(
        "%s %s: %s %s (%s)",
        resource.name,
        event.action,
        event.step,
        event.result,
        event.reason,
    )
    hass.bus.async_fire(EVENT_POWER, data)
