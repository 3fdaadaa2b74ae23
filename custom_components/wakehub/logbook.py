"""Logbook lines for `wakehub_power` events: why did the NAS stop?

Each line is built from the event's fields (power_events.py), in Home
Assistant's language, from the `logbook` section of the translations. A failure
shows the error the action raised, in the words of its translation (the
`exceptions` section, as action_errors.py or the kind chose it), so the
logbook and the message the user saw agree. A name that several different
things bear gets what it is in brackets: "media (VM)", "media (Docker engine)".
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from homeassistant.components.logbook.const import (
    LOGBOOK_ENTRY_ENTITY_ID,
    LOGBOOK_ENTRY_ICON,
    LOGBOOK_ENTRY_MESSAGE,
    LOGBOOK_ENTRY_NAME,
)
from homeassistant.core import Event, HomeAssistant, callback

from . import texts
from .const import DOMAIN, EVENT_POWER
from .naming import Named, Noun, server_noun
from .power import async_get_power_manager
from .power_events import (
    AwakeKind,
    PowerAction,
    PowerEvent,
    ReasonKind,
    Result,
    Step,
)
from .wake.activity import access_line_key
from .wake.const import EVENT_ACCESS

CATEGORY = "logbook"

_ACTION_TEXTS: Mapping[PowerAction, str] = {
    PowerAction.START: "action.start",
    PowerAction.START_ALONE: "action.start",
    PowerAction.STOP: "action.stop",
    PowerAction.STOP_ALONE: "action.stop",
    PowerAction.REBOOT: "action.reboot",
    PowerAction.AUTO_STOP: "action.auto_stop",
}
# The line of each result; a waiting line says what for, by step.
_RESULT_TEXTS: Mapping[Result, str] = {
    Result.REQUESTED: "line.requested",
    Result.DONE: "line.done",
    Result.FAILED: "line.failed",
    Result.KEPT_ON: "line.kept_on",
    Result.CANCELLED: "line.cancelled",
    Result.DECIDED: "line.decided",
    Result.WAITING: "line.waiting_dependencies",
}
# A change WakeHub did not make (observed.py): (it started, with its host).
_OBSERVED_TEXTS: Mapping[tuple[bool, bool], str] = {
    (True, False): "line.started_outside",
    (False, False): "line.stopped_outside",
    (True, True): "line.started_with_host",
    (False, True): "line.stopped_with_host",
}
_WAITING_TEXTS: Mapping[Step, str] = {
    Step.PLATFORM: "line.waiting_platform",
    Step.DEPENDENTS: "line.waiting_dependents",
}
_REASON_TEXTS: Mapping[ReasonKind, str] = {
    ReasonKind.ALREADY_RUNNING: "reason.already_running",
    ReasonKind.ALREADY_STOPPED: "reason.already_stopped",
    ReasonKind.IDLE: "reason.idle",
    ReasonKind.HOST_STOPPING: "reason.host_stopping",
    ReasonKind.RELEASED_BY: "reason.released_by",
    ReasonKind.NOT_STOPPED_WITH_DEPENDENTS: "reason.not_stopped_with_dependents",
    ReasonKind.IN_USE: "reason.in_use",
    ReasonKind.PLATFORM_UNREACHABLE: "reason.platform_unreachable",
}
_AWAKE_TEXTS: Mapping[AwakeKind, str] = {
    AwakeKind.KEEP_AWAKE: "awake.keep_awake",
    AwakeKind.IN_USE: "awake.in_use",
    AwakeKind.UNMANAGED: "awake.unmanaged",
    AwakeKind.UNREACHABLE: "awake.unreachable",
    AwakeKind.CPU: "awake.cpu",
    AwakeKind.NETWORK: "awake.network",
    AwakeKind.ACCESS: "awake.access",
}
_NOUN_TEXTS: Mapping[Noun, str] = {
    Noun.MACHINE: "noun.machine",
    Noun.PROXMOX: "noun.proxmox",
    Noun.PROXMOX_NODE: "noun.proxmox_node",
    Noun.VM: "noun.vm",
    Noun.LXC: "noun.lxc",
    Noun.DOCKER_ENGINE: "noun.docker_engine",
    Noun.CONTAINER: "noun.container",
    Noun.STACK: "noun.stack",
    Noun.OVH: "noun.ovh",
    Noun.VPS: "noun.vps",
}
# What the line is about at a glance (Material Design Icons).
_RESULT_ICONS: Mapping[Result, str] = {
    Result.WAITING: "mdi:timer-sand",
    Result.FAILED: "mdi:alert-circle-outline",
    Result.KEPT_ON: "mdi:server",
    Result.CANCELLED: "mdi:timer-off-outline",
    Result.DECIDED: "mdi:power-sleep",
}
_ACTION_ICONS: Mapping[PowerAction, str] = {
    PowerAction.START: "mdi:power",
    PowerAction.START_ALONE: "mdi:power",
    PowerAction.STOP: "mdi:power-off",
    PowerAction.STOP_ALONE: "mdi:power-off",
    PowerAction.REBOOT: "mdi:restart",
    PowerAction.AUTO_STOP: "mdi:power-sleep",
}
ICON = "mdi:power-cycle"  # a line of an event this version does not know


@dataclass(frozen=True, slots=True)
class Line:
    """One logbook line: who, what, and its icon."""

    name: str
    message: str
    icon: str


class Writer:
    """Writes the lines, in Home Assistant's language."""

    def __init__(self, hass: HomeAssistant, ambiguous: set[str]) -> None:
        self._hass = hass
        #: Names (case-folded) that different things bear.
        self._ambiguous = ambiguous

    def line(self, data: Mapping[str, Any]) -> Line:
        subject = self.label(
            Named.from_data({"name": data.get("name"), "kind": data.get("kind")})
            or Named("WakeHub")
        )
        event = PowerEvent.from_data(data)
        if event is None:
            return Line(subject, str(data.get("result", "")), ICON)
        icon = _RESULT_ICONS.get(event.result) or _ACTION_ICONS[event.action]
        return Line(subject, self.message(event), icon)

    def message(self, event: PowerEvent) -> str:
        if event.result is Result.OBSERVED:
            return self._observed(event)
        key = _RESULT_TEXTS[event.result]
        if event.result is Result.WAITING and event.step is not None:
            key = _WAITING_TEXTS.get(event.step, key)
        why = self._why(event)
        line = self._text(
            key,
            action=self._text(_ACTION_TEXTS[event.action]),
            names=", ".join(self.label(n) for n in event.waiting_for),
            error=self._error(event),
            why=why,
            minutes=str(event.idle_minutes or 0),
        )
        if event.result in (Result.REQUESTED, Result.DONE) and why:
            line = self._text("line.because", line=line, why=why)
        if event.result is Result.REQUESTED and event.unmanaged:
            line = self._text(
                "line.taken_down", line=line, names=", ".join(event.unmanaged)
            )
        return line

    def _observed(self, event: PowerEvent) -> str:
        """A change WakeHub did not make, and the host it came with, if any."""
        reason = event.reason
        host = (
            reason.resource if reason and reason.kind is ReasonKind.WITH_HOST else None
        )
        started = event.action in (PowerAction.START, PowerAction.START_ALONE)
        return self._text(
            _OBSERVED_TEXTS[started, host is not None],
            name=self.label(host) if host is not None else "",
        )

    def _why(self, event: PowerEvent) -> str:
        """The reason in words, where it is not the error nor the activity."""
        if event.result is Result.CANCELLED:
            return "; ".join(
                self._text(
                    _AWAKE_TEXTS[awake.kind],
                    subject=awake.subject,
                    value=awake.value,
                    limit=awake.limit,
                )
                for awake in event.activity
            )
        reason = event.reason
        if reason is None or reason.kind not in _REASON_TEXTS:
            return ""
        if reason.kind is ReasonKind.PLATFORM_UNREACHABLE:
            names = ", ".join(event.platforms)
        else:
            # "nextcloud; sonarr, radarr (not in WakeHub)"
            groups = [", ".join(event.managed)] if event.managed else []
            if event.unmanaged:
                groups.append(self._text("unmanaged", names=", ".join(event.unmanaged)))
            names = "; ".join(groups)
        return self._text(
            _REASON_TEXTS[reason.kind],
            name=self.label(reason.resource) if reason.resource else "",
            names=names,
        )

    def _error(self, event: PowerEvent) -> str:
        """The failure as the action's error said it, in this language."""
        failure = event.failure
        if failure is None:
            return ""
        if failure.translation_key is not None and (
            template := texts.text(
                self._hass, "exceptions", f"{failure.translation_key}.message"
            )
        ):
            # Home Assistant drops the final full stop of an error's message.
            return texts.fill(template, **failure.placeholders).rstrip(".")
        return failure.message

    def label(self, named: Named) -> str:
        """The name, with what it is when different things bear it."""
        if named.noun is None or named.name.casefold() not in self._ambiguous:
            return named.name
        noun = self._text(_NOUN_TEXTS[named.noun])
        return self._text("named", name=named.name, noun=noun)

    def _text(self, key: str, **placeholders: str) -> str:
        template = texts.text(self._hass, CATEGORY, key) or key
        return texts.fill(template, **placeholders)


def ambiguous_names(hass: HomeAssistant) -> set[str]:
    """Names (case-folded) borne by things of different kinds right now."""
    nouns: dict[str, set[Noun | None]] = {}
    for resource in async_get_power_manager(hass).resources.values():
        nouns.setdefault(resource.name.casefold(), set()).add(resource.noun)
    for entry in hass.config_entries.async_entries(DOMAIN):
        nouns.setdefault(entry.title.casefold(), set()).add(server_noun(entry))
    return {name for name, kinds in nouns.items() if len(kinds) > 1}


@callback
def async_describe_events(
    hass: HomeAssistant,
    async_describe_event: Callable[[str, str, Callable[[Event], dict[str, str]]], None],
) -> None:
    """Teach the logbook WakeHub's lines (and load their texts)."""
    hass.async_create_task(texts.async_load_texts(hass, CATEGORY), eager_start=True)
    hass.async_create_task(texts.async_load_texts(hass, "exceptions"), eager_start=True)

    # A logbook page describes hundreds of events at once: the names in use are
    # gathered once for them all, not once per line.
    ambiguous: tuple[float, set[str]] = (-1.0, set())

    @callback
    def async_describe(event: Event) -> dict[str, str]:
        nonlocal ambiguous
        if hass.loop.time() - ambiguous[0] > 1:
            ambiguous = (hass.loop.time(), ambiguous_names(hass))
        line = Writer(hass, ambiguous[1]).line(event.data)
        described = {
            LOGBOOK_ENTRY_NAME: line.name,
            LOGBOOK_ENTRY_MESSAGE: line.message,
            LOGBOOK_ENTRY_ICON: line.icon,
        }
        if entity_id := event.data.get("entity_id"):
            described[LOGBOOK_ENTRY_ENTITY_ID] = str(entity_id)
        return described

    async_describe_event(DOMAIN, EVENT_POWER, async_describe)

    @callback
    def async_describe_access(event: Event) -> dict[str, str]:
        key = access_line_key(event.data)
        template = texts.text(hass, CATEGORY, key) or key
        return {
            LOGBOOK_ENTRY_NAME: str(event.data.get("name", "WakeHub")),
            LOGBOOK_ENTRY_MESSAGE: template,
            LOGBOOK_ENTRY_ICON: "mdi:link-variant",
        }

    async_describe_event(DOMAIN, EVENT_ACCESS, async_describe_access)
