"""The per-resource power settings form: dependencies and idle auto-shutdown.

Shown in a machine's options and in the reconfigure step of every guest,
container and VPS subentry. Dependencies are picked among WakeHub power switches
and stored as entity-registry ids (renames do not break them); a choice that
would close a cycle is refused with the cycle spelled out.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from homeassistant.config_entries import ConfigSubentryFlow, SubentryFlowResult
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.selector import EntitySelector, EntitySelectorConfig

from ..const import (
    CONF_CPU_THRESHOLD,
    CONF_DEPENDENCIES,
    CONF_IDLE_TIMEOUT,
    CONF_KEEP_AWAKE,
    CONF_NETWORK_THRESHOLD,
    CONF_STOP_WITH_DEPENDENTS,
    DEFAULT_IDLE_TIMEOUT,
    DEFAULT_STOP_WITH_DEPENDENTS,
)
from ..links import ANY_POWER_SWITCH, chosen_switch, picker
from ..power import async_get_power_manager
from ..resource import Resource
from ..schema import vol
from ..wake.const import WAKE_SETTING_KEYS
from . import fields, validate
from .settings import Section, Where, parse, placeholders, schema
from .wake_settings import parse_wake_settings, wake_settings_fields

POWER_SETTING_KEYS = (
    CONF_DEPENDENCIES,
    CONF_STOP_WITH_DEPENDENTS,
    CONF_IDLE_TIMEOUT,
    CONF_CPU_THRESHOLD,
    CONF_NETWORK_THRESHOLD,
    CONF_KEEP_AWAKE,
    *WAKE_SETTING_KEYS,  # wake on access (wake_settings.py)
)


_FIELDS = (
    fields.checkbox(CONF_STOP_WITH_DEPENDENTS, DEFAULT_STOP_WITH_DEPENDENTS),
    fields.number_field(
        CONF_IDLE_TIMEOUT, 0, 10080, "min", default=DEFAULT_IDLE_TIMEOUT
    ),
    # A threshold left empty is not stored.
    fields.number_field(CONF_CPU_THRESHOLD, 0, 100, "%", step=0.5, whole=False),
    fields.number_field(CONF_NETWORK_THRESHOLD, 0, 1_000_000, "kB/s", whole=False),
    fields.suggested(
        CONF_KEEP_AWAKE,
        lambda value: list(value or []),
        EntitySelector(EntitySelectorConfig(multiple=True)),
    ),
)


def power_settings_fields(
    hass: HomeAssistant, settings: Mapping[str, Any]
) -> dict[Any, Any]:
    """The form fields, prefilled from stored settings (registry ids shown as entities)."""
    registry = er.async_get(hass)
    dependencies = [
        entity_id
        for registry_id in settings.get(CONF_DEPENDENCIES, [])
        if (entity_id := er.async_resolve_entity_id(registry, registry_id))
    ]
    return {
        vol.Optional(
            CONF_DEPENDENCIES, description={"suggested_value": dependencies}
        ): picker(hass, ANY_POWER_SWITCH, multiple=True),
        **fields.form(_FIELDS, settings),
        **wake_settings_fields(settings),  # wake on access
    }


def parse_power_settings(
    hass: HomeAssistant, resource: Resource | None, user_input: Mapping[str, Any]
) -> tuple[dict[str, Any], dict[str, str], dict[str, str]]:
    """(settings to store, form errors, the cycle a dependency would close)."""
    power = async_get_power_manager(hass)
    values, errors = validate.parse(user_input, fields.rules(_FIELDS))
    settings: dict[str, Any] = {
        CONF_IDLE_TIMEOUT: DEFAULT_IDLE_TIMEOUT,
        **values,
        CONF_DEPENDENCIES: [],
    }
    # Wake on access; the stored token is kept unless replaced.
    wake, wake_errors = parse_wake_settings(
        user_input, resource.settings if resource is not None else {}
    )
    settings |= wake
    errors |= wake_errors
    if errors:
        return settings, errors, {}
    proposed: list[Resource] = []
    for entity_id in user_input.get(CONF_DEPENDENCIES, []):
        if not isinstance(entity_id, str) or not (
            chosen := chosen_switch(hass, ANY_POWER_SWITCH, entity_id)
        ):
            return settings, {CONF_DEPENDENCIES: "dependency_not_power_switch"}, {}
        registry_id, dependency = chosen
        settings[CONF_DEPENDENCIES].append(registry_id)
        proposed.append(dependency)
    if resource is not None:
        if (link := resource.host_link_id) is not None and (
            host := power.graph.resource_for_switch(link)
        ) is not None:
            proposed.append(host)
        if cycle := power.graph.find_cycle(resource, proposed):
            return (
                settings,
                {CONF_DEPENDENCIES: "dependency_cycle"},
                {"cycle": " → ".join(r.name for r in cycle)},
            )
    return settings, {}, {}


def resource_of(
    hass: HomeAssistant, entry_id: str, subentry_id: str | None
) -> Resource | None:
    """The loaded resource of an entry (and subentry), for the cycle check."""
    for resource in async_get_power_manager(hass).resources.values():
        if resource.entry.entry_id == entry_id and resource.subentry_id == subentry_id:
            return resource
    return None


POWER_SETTINGS = Section(
    fields=lambda where: power_settings_fields(where.hass, where.stored),
    parse=lambda where, user_input: parse_power_settings(
        where.hass,
        resource_of(
            where.hass,
            where.entry.entry_id,
            where.subentry.subentry_id if where.subentry else None,
        ),
        user_input,
    ),
    placeholders=lambda where: {"cycle": ""},
    keys=POWER_SETTING_KEYS,
)


class PowerSettingsSubentryFlow(ConfigSubentryFlow):
    """Adds `reconfigure` to a kind's subentry flow: the power settings, and
    the `resource_sections` of the kind's own."""

    def resource_sections(self) -> tuple[Section, ...]:
        """The sections of the kind's own resource settings."""
        raise NotImplementedError

    async def async_step_reconfigure(
        self, user_input: dict[str, Any] | None = None
    ) -> SubentryFlowResult:
        entry = self._get_entry()
        subentry = self._get_reconfigure_subentry()
        where = Where(hass=self.hass, entry=entry, subentry=subentry)
        sections = (POWER_SETTINGS, *self.resource_sections())
        errors: dict[str, str] = {}
        shown = {"name": subentry.title, **placeholders(where, sections)}
        if user_input is not None:
            values, errors, found = parse(where, sections, user_input)
            shown |= found
            if not errors:
                owned = {key for section in sections for key in section.keys}
                data = {k: v for k, v in subentry.data.items() if k not in owned}
                # Not async_update_reload_and_abort: it refuses entries with an
                # update listener (OVHcloud's follows added VPSes), whose
                # listener would not reload for a subentry's settings anyway.
                self.hass.config_entries.async_update_subentry(
                    entry, subentry, data=data | values
                )
                self.hass.config_entries.async_schedule_reload(entry.entry_id)
                return self.async_abort(reason="reconfigure_successful")
        return self.async_show_form(
            step_id="reconfigure",
            data_schema=schema(where, sections),
            errors=errors,
            description_placeholders=shown,
        )
