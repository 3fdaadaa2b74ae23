"""Setting up an OVH entry: its coordinator and VPSes."""

from __future__ import annotations

import logging

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir

from ...api.errors import WakeHubError
from ...const import DOMAIN
from ...repairs import OVH_ACCESS_RULES_PREFIX
from ...resource import Resource
from ...runtime import WakeHubRuntimeData
from .client import create_client
from .const import SUBENTRY_VPS
from .coordinator import OvhCoordinator
from .descriptions import vps_descriptions
from .state import OvhVpsState
from .vps import OvhVpsResource

_LOGGER = logging.getLogger(__name__)


async def async_setup_kind(
    hass: HomeAssistant, entry: ConfigEntry
) -> WakeHubRuntimeData[OvhCoordinator]:
    vps_subentries = {
        sub.unique_id: sub
        for sub in entry.subentries.values()
        if sub.subentry_type == SUBENTRY_VPS and sub.unique_id
    }
    coordinator = OvhCoordinator(hass, entry, create_client(hass, entry.data))
    coordinator.services = list(vps_subentries)
    coordinator.names = {service: sub.title for service, sub in vps_subentries.items()}
    await coordinator.async_config_entry_first_refresh()
    await _check_access_rules(hass, entry, coordinator)
    resources: list[Resource] = [
        OvhVpsResource(
            key=service,
            name=sub.title,
            coordinator=coordinator,
            entry=entry,
            subentry_id=sub.subentry_id,
        )
        for service, sub in vps_subentries.items()
    ]
    for resource in resources:
        # Its disks, as the VPS manager reported them at setup.
        state = coordinator.data.get(resource.key)
        resource.descriptions = vps_descriptions(
            state if isinstance(state, OvhVpsState) else None
        )
    return WakeHubRuntimeData(coordinator=coordinator, resources=resources)


async def _check_access_rules(
    hass: HomeAssistant, entry: ConfigEntry, coordinator: OvhCoordinator
) -> None:
    """A key requested before the VPS manager lacks its rules: a repair issue
    whose fix is the reauth that requests a key with all of them."""
    issue_id = f"{OVH_ACCESS_RULES_PREFIX}{entry.entry_id}"
    try:
        missing = await coordinator.client.missing_access_rules()
    except WakeHubError as err:
        _LOGGER.debug("%s: access rules not read: %s", entry.title, err)
        return
    if not missing:
        ir.async_delete_issue(hass, DOMAIN, issue_id)
        return
    rules = ", ".join(f"{method} {path}" for method, path in missing)
    ir.async_create_issue(
        hass,
        DOMAIN,
        issue_id,
        is_fixable=True,
        severity=ir.IssueSeverity.WARNING,
        translation_key="ovh_access_rules",
        translation_placeholders={"name": entry.title, "rules": rules},
        data={"entry_id": entry.entry_id, "rules": rules},
    )
