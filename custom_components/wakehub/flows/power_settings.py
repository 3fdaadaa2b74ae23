"""The per-resource power settings form: dependencies and idle auto-shutdown.

Shown in a machine's options and in the reconfigure step of every guest,
container and VPS subentry. Dependencies are picked among WakeHub power switches
and stored as entity-registry ids (renames do not break them); a choice that
would close a cycle is refused with the cycle spelled out.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, ClassVar

from homeassistant.config_entries import (
    ConfigSubentry,
    ConfigSubentryFlow,
    SubentryFlowResult,
)
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.selector import (
    BooleanSelector,
    EntitySelector,
    EntitySelectorConfig,
    NumberSelectorConfig,
    NumberSelectorMode,
)

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
from . import validate
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


# The limits of `_number` fields below; a threshold left empty is not stored.
_NUMBER_RULES: dict[str, validate.Rule] = {
    CONF_IDLE_TIMEOUT: validate.number_rule(0, 10080, whole=True),
    CONF_CPU_THRESHOLD: validate.number_rule(0, 100),
    CONF_NETWORK_THRESHOLD: validate.number_rule(0, 1_000_000),
}


def _number(
    maximum: float, unit: str, step: float = 1
) -> validate.FiniteNumberSelector:
    return validate.FiniteNumberSelector(
        NumberSelectorConfig(
            min=0,
            max=maximum,
            step=step,
            unit_of_measurement=unit,
            mode=NumberSelectorMode.BOX,
        )
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

    def suggested(key: str) -> dict[str, Any]:
        value = settings.get(key)
        return {} if value is None else {"description": {"suggested_value": value}}

    return {
        vol.Optional(
            CONF_DEPENDENCIES, description={"suggested_value": dependencies}
        ): picker(hass, ANY_POWER_SWITCH, multiple=True),
        vol.Required(
            CONF_STOP_WITH_DEPENDENTS,
            default=settings.get(
                CONF_STOP_WITH_DEPENDENTS, DEFAULT_STOP_WITH_DEPENDENTS
            ),
        ): BooleanSelector(),
        vol.Required(
            CONF_IDLE_TIMEOUT,
            default=settings.get(CONF_IDLE_TIMEOUT, DEFAULT_IDLE_TIMEOUT),
        ): _number(10080, "min"),
        vol.Optional(CONF_CPU_THRESHOLD, **suggested(CONF_CPU_THRESHOLD)): _number(
            100, "%", 0.5
        ),
        vol.Optional(
            CONF_NETWORK_THRESHOLD, **suggested(CONF_NETWORK_THRESHOLD)
        ): _number(1_000_000, "kB/s"),
        vol.Optional(CONF_KEEP_AWAKE, **suggested(CONF_KEEP_AWAKE)): EntitySelector(
            EntitySelectorConfig(multiple=True)
        ),
        **wake_settings_fields(settings),  # wake on access
    }


def parse_power_settings(
    hass: HomeAssistant, resource: Resource | None, user_input: Mapping[str, Any]
) -> tuple[dict[str, Any], dict[str, str], dict[str, str]]:
    """(settings to store, form errors, description placeholders for the errors)."""
    power = async_get_power_manager(hass)
    numbers, errors = validate.parse(user_input, _NUMBER_RULES)
    settings: dict[str, Any] = {
        CONF_STOP_WITH_DEPENDENTS: bool(
            user_input.get(CONF_STOP_WITH_DEPENDENTS, True)
        ),
        CONF_IDLE_TIMEOUT: numbers.pop(CONF_IDLE_TIMEOUT, DEFAULT_IDLE_TIMEOUT),
        CONF_KEEP_AWAKE: list(user_input.get(CONF_KEEP_AWAKE, [])),
        CONF_DEPENDENCIES: [],
        **numbers,
    }
    # Wake on access; the stored token is kept unless replaced.
    wake, wake_errors = parse_wake_settings(
        user_input, resource.settings if resource is not None else {}
    )
    settings |= wake
    errors |= wake_errors
    if errors:
        return settings, errors, {"cycle": ""}
    proposed: list[Resource] = []
    for entity_id in user_input.get(CONF_DEPENDENCIES, []):
        if not isinstance(entity_id, str) or not (
            chosen := chosen_switch(hass, ANY_POWER_SWITCH, entity_id)
        ):
            return (
                settings,
                {CONF_DEPENDENCIES: "dependency_not_power_switch"},
                {"cycle": ""},
            )
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
    return settings, {}, {"cycle": ""}


def resource_of(
    hass: HomeAssistant, entry_id: str, subentry_id: str | None
) -> Resource | None:
    """The loaded resource of an entry (and subentry), for the cycle check."""
    for resource in async_get_power_manager(hass).resources.values():
        if resource.entry.entry_id == entry_id and resource.subentry_id == subentry_id:
            return resource
    return None


class PowerSettingsSubentryFlow(ConfigSubentryFlow):
    """Adds `reconfigure` (dependencies and auto-shutdown) to a kind's subentry flow.

    A kind may add optional fields of its own to the form (`kind_fields`, key ->
    validator): what is entered is stored under that key, a blank one removed.
    `kind_fields_for` may offer only some of them to a given subentry.
    """

    kind_fields: ClassVar[Mapping[str, Any]] = MappingProxyType({})

    def kind_fields_for(self, subentry: ConfigSubentry) -> Mapping[str, Any]:
        """The kind's fields offered for this subentry (all of them by default)."""
        return self.kind_fields

    async def async_step_reconfigure(
        self, user_input: dict[str, Any] | None = None
    ) -> SubentryFlowResult:
        entry = self._get_entry()
        subentry = self._get_reconfigure_subentry()
        resource = resource_of(self.hass, entry.entry_id, subentry.subentry_id)
        offered = self.kind_fields_for(subentry)
        errors: dict[str, str] = {}
        placeholders = {"name": subentry.title, "cycle": ""}
        if user_input is not None:
            settings, errors, found = parse_power_settings(
                self.hass, resource, user_input
            )
            placeholders.update(found)
            if not errors:
                data = {
                    k: v
                    for k, v in subentry.data.items()
                    if k not in POWER_SETTING_KEYS and k not in self.kind_fields
                }
                data |= {
                    k: user_input[k] for k in offered if user_input.get(k) is not None
                }
                # Not async_update_reload_and_abort: it refuses entries with an
                # update listener (OVHcloud's follows added VPSes), whose
                # listener would not reload for a subentry's settings anyway.
                self.hass.config_entries.async_update_subentry(
                    entry, subentry, data={**data, **settings}
                )
                self.hass.config_entries.async_schedule_reload(entry.entry_id)
                return self.async_abort(reason="reconfigure_successful")
        return self.async_show_form(
            step_id="reconfigure",
            data_schema=vol.Schema(
                {
                    **power_settings_fields(self.hass, subentry.data),
                    **{
                        vol.Optional(
                            key,
                            description={"suggested_value": subentry.data.get(key)},
                        ): validator
                        for key, validator in offered.items()
                    },
                }
            ),
            errors=errors,
            description_placeholders=placeholders,
        )
