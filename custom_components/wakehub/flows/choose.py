"""The choose step, the same for every kind: what discovery found, none ticked.

When a server is added (`resources`), at least one resource is chosen or "add
the server only" is ticked; the subentry flow "add resources" of an entry offers
only what is not added yet and needs at least one. Each chosen resource becomes
a subentry, and the success text names every one.

Home Assistant (from 2026.10) adds at most 10,000 enabled entities to one
config entry and silently refuses the rest. WakeHub creates every power switch
first, so they are the last to be missing; but when everything found would not
fit with all its entities, the form says so before the user chooses, and it
refuses only a choice where not every resource would get its power switch.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from types import MappingProxyType
from typing import Any

from homeassistant.config_entries import (
    ConfigEntry,
    ConfigSubentry,
    ConfigSubentryData,
    SubentryFlowResult,
)
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.selector import (
    BooleanSelector,
    ConstantSelector,
    ConstantSelectorConfig,
    SelectOptionDict,
    SelectSelector,
    SelectSelectorConfig,
    SelectSelectorMode,
)

from ..api.errors import WakeHubError
from ..const import CONF_KIND
from ..descriptions import ResourceDescriptions
from ..kinds import KINDS
from ..kinds.kind import Kind
from ..schema import vol
from .kind import Found
from .power_settings import PowerSettingsSubentryFlow

CONF_RESOURCES = "resources"
CONF_SERVER_ONLY = "server_only"
#: Shown only when everything found would not fit in one entry: the warning.
CONF_ENTITY_LIMIT = "entity_limit"
#: Home Assistant's cap on one config entry's enabled entities
#: (`MAX_ENABLED_ENTITIES_PER_CONFIG_ENTRY`, from 2026.10).
ENTITY_LIMIT = 10_000
#: The enabled entities of a powered resource made outside its descriptions: the
#: power and auto-shutdown switches (the progress sensor is disabled by default).
POWER_ENTITIES = 2
# The success texts (`create_entry.<key>` in the translations).
ADDED = "added"
SERVER_ONLY = "server_only"


def _enabled(descriptions: ResourceDescriptions) -> int:
    return POWER_ENTITIES + sum(
        bool(description.entity_registry_enabled_default)
        for description in (
            *descriptions.sensors,
            *descriptions.buttons,
            *descriptions.binary_sensors,
        )
    )


def enabled_per_resource(kind: Kind | None = None) -> int:
    """The enabled-by-default entities of one resource of `kind` (at most; of
    any kind when not known), from the kinds' declarations."""
    kinds = [kind] if kind is not None else list(KINDS.values())
    return max(_enabled(d) for k in kinds for d in k.resources.values())


def fitting(chosen_count: int, *, per_resource: int, present: int = 0) -> int:
    """How many of `chosen_count` resources fit in full beside `present` entities."""
    return min(chosen_count, max(0, ENTITY_LIMIT - present) // per_resource)


def schema(
    found: Collection[Found],
    *,
    server_only: bool,
    per_resource: int | None = None,
    present: int = 0,
) -> vol.Schema:
    """A multi-select of `found`, none ticked; and the explicit "server only".

    When choosing everything found would cross the entity limit, a warning
    (a constant field: its label and description) says how many fit in full.
    """
    fields: dict[Any, Any] = {
        vol.Optional(CONF_RESOURCES, default=[]): SelectSelector(
            SelectSelectorConfig(
                options=[SelectOptionDict(value=f.value, label=f.label) for f in found],
                multiple=True,
                mode=SelectSelectorMode.LIST,
            )
        )
    }
    if server_only:
        fields[vol.Optional(CONF_SERVER_ONLY, default=False)] = BooleanSelector()
    per = per_resource or enabled_per_resource()
    if fitting(len(found), per_resource=per, present=present) < len(found):
        fields[vol.Optional(CONF_ENTITY_LIMIT)] = ConstantSelector(
            ConstantSelectorConfig(value=True)
        )
    return vol.Schema(fields)


def chosen(
    user_input: Mapping[str, Any],
    found: Mapping[str, Found],
    *,
    server_only: bool,
    present: int = 0,
) -> tuple[list[Found], dict[str, str]]:
    """(the resources chosen, form errors); nothing chosen is an error unless
    "server only" is offered and ticked. So is a choice where not every
    resource would get its power switch beside the entry's `present` entities
    (each one's power switch is created first, so this is the only choice
    nothing useful comes of)."""
    # (The selector let only listed values through, each once here.)
    values = dict.fromkeys(user_input.get(CONF_RESOURCES, []))
    picked = [found[value] for value in values if value in found]
    if not picked and not (server_only and user_input.get(CONF_SERVER_ONLY) is True):
        return [], {"base": "nothing_chosen"}
    if fitting(len(picked), per_resource=1, present=present) < len(picked):
        return picked, {"base": "entity_limit"}
    return picked, {}


def subentry(subentry_type: str, resource: Found) -> ConfigSubentryData:
    return ConfigSubentryData(
        subentry_type=subentry_type,
        title=resource.title,
        unique_id=resource.value,
        data=dict(resource.data),
    )


def names(picked: Collection[Found]) -> str:
    return ", ".join(f.title for f in picked)


def placeholders(
    server: str,
    found: Collection[Found],
    *,
    per_resource: int | None = None,
    present: int = 0,
) -> dict[str, str]:
    words = {"server": server, "count": str(len(found))}
    per = per_resource or enabled_per_resource()
    fit = fitting(len(found), per_resource=per, present=present)
    if fit < len(found):  # the entity limit's warning (and error) is shown
        words |= {
            "limit": f"{ENTITY_LIMIT:,}",
            "per_resource": str(per),
            "fit": str(fit),
            "switches": str(max(0, ENTITY_LIMIT - present)),
        }
    return words


def enabled_entities(hass: HomeAssistant, entry: ConfigEntry) -> int:
    """The entry's enabled entities now (what counts toward the limit)."""
    return sum(
        1
        for entity in er.async_entries_for_config_entry(
            er.async_get(hass), entry.entry_id
        )
        if entity.disabled_by is None
    )


class ResourcesSubentryFlow(PowerSettingsSubentryFlow):
    """ "Add resources" of an entry: discovery again, offering only new ones.

    A kind subclasses it with its `discover` (and its power settings fields).
    """

    _found: dict[str, Found] | None = None

    async def discover(self, data: Mapping[str, Any]) -> list[Found]:
        """Every resource of the server; raises WakeHubError."""
        raise NotImplementedError

    async def async_step_user(
        self, user_input: dict[str, Any] | None = None
    ) -> SubentryFlowResult:
        entry = self._get_entry()
        if self._found is None:
            try:
                found = await self.discover(entry.data)
            except WakeHubError:
                return self.async_abort(reason="cannot_connect")
            added = {sub.unique_id for sub in entry.subentries.values()}
            self._found = {f.value: f for f in found if f.value not in added}
        if not self._found:
            return self.async_abort(reason="nothing_new")
        present = enabled_entities(self.hass, entry)
        per_resource = enabled_per_resource(KINDS.get(entry.data.get(CONF_KIND, "")))
        errors: dict[str, str] = {}
        if user_input is not None:
            picked, errors = chosen(
                user_input, self._found, server_only=False, present=present
            )
            if not errors:
                # A subentry flow creates one subentry; the others are added here.
                for extra in picked[1:]:
                    data = subentry(self.handler[1], extra)
                    self.hass.config_entries.async_add_subentry(
                        entry,
                        ConfigSubentry(
                            data=MappingProxyType(dict(data["data"])),
                            subentry_type=data["subentry_type"],
                            title=data["title"],
                            unique_id=data["unique_id"],
                        ),
                    )
                return self.async_create_entry(
                    title=picked[0].title,
                    data=dict(picked[0].data),
                    unique_id=picked[0].value,
                    description=ADDED,
                    description_placeholders={"added": names(picked)},
                )
        return self.async_show_form(
            step_id="user",
            data_schema=schema(
                self._found.values(),
                server_only=False,
                per_resource=per_resource,
                present=present,
            ),
            errors=errors,
            description_placeholders=placeholders(
                entry.title,
                self._found.values(),
                per_resource=per_resource,
                present=present,
            ),
        )
