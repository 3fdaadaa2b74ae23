"""The choose step, the same for every kind: what discovery found, none ticked.

When a server is added (`resources`), at least one resource is chosen or "add
the server only" is ticked; the subentry flow "add resources" of an entry offers
only what is not added yet and needs at least one. Each chosen resource becomes
a subentry, and the success text names every one.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from types import MappingProxyType
from typing import Any

from homeassistant.config_entries import (
    ConfigSubentry,
    ConfigSubentryData,
    SubentryFlowResult,
)
from homeassistant.helpers.selector import (
    BooleanSelector,
    SelectOptionDict,
    SelectSelector,
    SelectSelectorConfig,
    SelectSelectorMode,
)

from ..api.errors import WakeHubError
from ..schema import vol
from .kind import Found
from .power_settings import PowerSettingsSubentryFlow

CONF_RESOURCES = "resources"
CONF_SERVER_ONLY = "server_only"
# The success texts (`create_entry.<key>` in the translations).
ADDED = "added"
SERVER_ONLY = "server_only"


def schema(found: Collection[Found], *, server_only: bool) -> vol.Schema:
    """A multi-select of `found`, none ticked; and the explicit "server only"."""
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
    return vol.Schema(fields)


def chosen(
    user_input: Mapping[str, Any], found: Mapping[str, Found], *, server_only: bool
) -> tuple[list[Found], dict[str, str]]:
    """(the resources chosen, form errors); nothing chosen is an error unless
    "server only" is offered and ticked."""
    # (The selector let only listed values through, each once here.)
    values = dict.fromkeys(user_input.get(CONF_RESOURCES, []))
    picked = [found[value] for value in values if value in found]
    if not picked and not (server_only and user_input.get(CONF_SERVER_ONLY) is True):
        return [], {"base": "nothing_chosen"}
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


def placeholders(server: str, found: Collection[Found]) -> dict[str, str]:
    return {"server": server, "count": str(len(found))}


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
        errors: dict[str, str] = {}
        if user_input is not None:
            picked, errors = chosen(user_input, self._found, server_only=False)
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
            data_schema=schema(self._found.values(), server_only=False),
            errors=errors,
            description_placeholders=placeholders(entry.title, self._found.values()),
        )
