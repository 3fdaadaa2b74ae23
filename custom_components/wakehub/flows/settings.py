"""The settings forms, written once for every kind: an entry's options and a
resource's `reconfigure` step are each a tuple of sections.

A section shows some fields and parses them into (values to store, form errors,
description placeholders). The form shows every section's fields; once none
has an error, what they parsed is stored. A kind declares its sections in its
`FlowKind` (flows/kind.py); the shared ones are here and in power_settings.py.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from typing import Any

from homeassistant.config_entries import (
    ConfigEntry,
    ConfigFlowResult,
    ConfigSubentry,
    OptionsFlowWithReload,
)
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import section as expandable

from ..const import (
    CONF_SCAN_INTERVAL,
    CONF_TIMEOUT,
    DEFAULT_SCAN_INTERVAL,
    DEFAULT_TIMEOUT,
)
from ..hosting import HostKind
from ..links import Choice, chosen_switch, link_cycle, picker, suggested_links
from ..resource import Resource
from ..schema import vol
from . import validate
from .fields import Field, form, number_field, rules

type Parsed = tuple[dict[str, Any], dict[str, str], dict[str, str]]


@dataclass(frozen=True, kw_only=True)
class Where:
    """The entry (and resource subentry) whose settings the form edits."""

    hass: HomeAssistant
    entry: ConfigEntry
    subentry: ConfigSubentry | None = None

    @property
    def stored(self) -> Mapping[str, Any]:
        """The settings shown: the subentry's data, else the entry's options."""
        return self.subentry.data if self.subentry else self.entry.options


@dataclass(frozen=True, kw_only=True)
class Section:
    """Some fields of a settings form, and how they are parsed."""

    fields: Callable[[Where], dict[Any, Any]]
    parse: Callable[[Where, Mapping[str, Any]], Parsed]
    placeholders: Callable[[Where], dict[str, str]] = lambda where: {}
    # The keys it stores in a subentry (replaced when the form is saved).
    keys: Collection[str] = ()


@dataclass(frozen=True, kw_only=True)
class Options:
    """A kind's options form: its step id, and its sections."""

    step_id: str
    sections: tuple[Section, ...]


def schema(where: Where, sections: Collection[Section]) -> vol.Schema:
    return vol.Schema({k: v for s in sections for k, v in s.fields(where).items()})


def placeholders(where: Where, sections: Collection[Section]) -> dict[str, str]:
    return {k: v for s in sections for k, v in s.placeholders(where).items()}


def parse(
    where: Where, sections: Collection[Section], user_input: Mapping[str, Any]
) -> Parsed:
    """Every section's (values, errors, placeholders), merged."""
    values: dict[str, Any] = {}
    errors: dict[str, str] = {}
    found: dict[str, str] = {}
    for section in sections:
        parsed = section.parse(where, user_input)
        values |= parsed[0]
        errors |= parsed[1]
        found |= parsed[2]
    return values, errors, found


# -- the sections every kind may use -------------------------------------------------


def of_fields(*declared: Field) -> Section:
    """A section of fields, each parsed by its own rule."""
    table = rules(declared)
    return Section(
        fields=lambda where: form(declared, where.stored),
        parse=lambda where, user_input: (*validate.parse(user_input, table), {}),
    )


def timing(scan_interval: int = DEFAULT_SCAN_INTERVAL) -> Section:
    """Start/stop timeout and polling interval, in whole seconds."""
    return of_fields(
        number_field(CONF_TIMEOUT, 10, 3600, "s", default=DEFAULT_TIMEOUT),
        number_field(CONF_SCAN_INTERVAL, 5, 3600, "s", default=scan_interval),
    )


def resource_fields(
    fields: Mapping[str, Any],
    offered: Callable[[Mapping[str, Any]], bool] = lambda data: True,
) -> Section:
    """Optional fields of a kind's resources (key -> validator), offered to the
    resources whose data `offered` accepts: what is entered is stored under its
    key, a blank one removed."""

    def shown(where: Where) -> Mapping[str, Any]:
        return fields if offered(where.stored) else {}

    return Section(
        fields=lambda where: {
            vol.Optional(
                key, description={"suggested_value": where.stored.get(key)}
            ): validator
            for key, validator in shown(where).items()
        },
        parse=lambda where, user_input: (
            {k: user_input[k] for k in shown(where) if user_input.get(k) is not None},
            {},
            {},
        ),
        keys=tuple(fields),
    )


def host_links(
    *,
    key: str,
    hosts: frozenset[HostKind],
    error: str,
    slots: Callable[[Where], Collection[str]] | None = None,
    placeholders: Callable[[Where], dict[str, str]] = lambda where: {},
) -> Section:
    """Links to the power switch of what something runs on, among the switches
    of `hosts`, stored under `key`.

    Without `slots`, the entry's own link (the slot `links.py` knows as None):
    one field `key`, stored as `key: id` when chosen. With `slots`, the names a
    server reports (a cluster's nodes): a field per name, labelled by it, in a
    section `key` of the form, stored as `key: {name: id}`. Nested there, no
    name a server reports can take the place of another field of the form.
    A link is stored as the switch's registry id: it survives renaming it;
    the form shows the stored one, else the proposed one. A wrong one is an
    `error` on `key`, the slots it is in the placeholder `{node}`."""

    def choice(where: Where) -> Choice:
        return Choice(hosts, where.entry.entry_id)

    def named(where: Where) -> dict[str, str | None]:
        """Each field -> the slot it links."""
        return {key: None} if slots is None else {name: name for name in slots(where)}

    def fields(where: Where) -> dict[Any, Any]:
        shown = named(where)
        suggested = suggested_links(where.hass, where.entry, list(shown.values()))
        selector = picker(where.hass, choice(where))
        pickers = {
            vol.Optional(
                field, description={"suggested_value": suggested[slot]}
            ): selector
            for field, slot in shown.items()
        }
        if slots is None:
            return pickers
        return {
            vol.Optional(key): expandable(vol.Schema(pickers), {"collapsed": False})
        }

    def parse(where: Where, user_input: Mapping[str, Any]) -> Parsed:
        given: Mapping[str, Any] = (
            user_input if slots is None else user_input.get(key) or {}
        )
        links: dict[str, str] = {}
        hosts: dict[str | None, Resource] = {}
        wrong: list[str] = []
        for field, slot in named(where).items():
            if not (entity_id := given.get(field)):
                continue
            if not isinstance(entity_id, str) or not (
                chosen := chosen_switch(where.hass, choice(where), entity_id)
            ):
                wrong.append(field)
            else:
                links[field], hosts[slot] = chosen
        stored = links if slots is None else {key: links}
        if wrong:
            return stored, {key: error}, {"node": ", ".join(wrong)} if slots else {}
        # A host that needs what runs on it would wait for itself to start.
        if cycle := link_cycle(where.hass, where.entry.entry_id, hosts):
            cycle_text = " → ".join(r.name for r in cycle)
            return stored, {key: "dependency_cycle"}, {"cycle": cycle_text}
        return stored, {}, {}

    return Section(fields=fields, parse=parse, placeholders=placeholders)


class KindOptionsFlow(OptionsFlowWithReload):
    """The options of an entry, as its kind declares them."""

    def __init__(self, options: Options) -> None:
        self.options = options

    async def async_step_init(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        where = Where(hass=self.hass, entry=self.config_entry)
        sections = self.options.sections
        shown = placeholders(where, sections)
        errors: dict[str, str] = {}
        if user_input is not None:
            values, errors, found = parse(where, sections, user_input)
            if not errors:
                return self.async_create_entry(data=values)
            shown |= found
        return self.async_show_form(
            step_id=self.options.step_id,
            data_schema=schema(where, sections),
            errors=errors,
            description_placeholders=shown or None,
        )

    # The step ids the kinds' options forms had before they were shared (a new
    # kind's is `init`).
    async_step_docker_options = async_step_init
    async_step_proxmox_options = async_step_init
    async_step_ovh_options = async_step_init
