"""The `wakehub.*` actions, registered once in `async_setup`.

Actions target WakeHub entities or devices; each target resolves to the resource
whose device it belongs to, so "start the Jellyfin device" and "start
switch.jellyfin" are the same call.
"""

from __future__ import annotations

import asyncio

from homeassistant.core import HomeAssistant, ServiceCall, callback
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import (
    config_validation as cv,
    device_registry as dr,
    entity_registry as er,
)
from homeassistant.helpers.service import async_extract_entity_ids

from .const import ATTR_CASCADE, DOMAIN, SERVICE_REBOOT, SERVICE_START, SERVICE_STOP
from .power import async_get_power_manager
from .resource import Resource, ResourceFeature
from .schema import vol

TARGET_SCHEMA = vol.Schema(
    {
        vol.Optional("entity_id"): cv.comp_entity_ids,
        vol.Optional("device_id"): vol.All(cv.ensure_list, [cv.string]),
        vol.Optional("area_id"): vol.All(cv.ensure_list, [cv.string]),
        vol.Optional("floor_id"): vol.All(cv.ensure_list, [cv.string]),
        vol.Optional("label_id"): vol.All(cv.ensure_list, [cv.string]),
    }
)
POWER_SCHEMA = TARGET_SCHEMA.extend(
    {vol.Optional(ATTR_CASCADE, default=True): cv.boolean}
)


async def async_resolve_resources(call: ServiceCall) -> list[Resource]:
    """The resources an action targets; ServiceValidationError when none is ours."""
    hass = call.hass
    power = async_get_power_manager(hass)
    ent_reg = er.async_get(hass)
    dev_reg = dr.async_get(hass)
    device_ids: set[str] = set(call.data.get("device_id", []))
    for entity_id in await async_extract_entity_ids(call):
        entry = ent_reg.async_get(entity_id)
        if entry is None or entry.platform != DOMAIN or entry.device_id is None:
            raise ServiceValidationError(
                translation_domain=DOMAIN,
                translation_key="not_a_wakehub_target",
                translation_placeholders={"target": entity_id},
            )
        device_ids.add(entry.device_id)
    resources: dict[str, Resource] = {}
    for device_id in device_ids:
        device = dev_reg.async_get(device_id)
        keys = (
            [key for domain, key in device.identifiers if domain == DOMAIN]
            if device
            else []
        )
        found = [power.resources[key] for key in keys if key in power.resources]
        if not found:
            raise ServiceValidationError(
                translation_domain=DOMAIN,
                translation_key="not_a_wakehub_target",
                translation_placeholders={
                    "target": device.name or device_id if device else device_id
                },
            )
        for resource in found:
            resources[resource.key] = resource
    if not resources:
        raise ServiceValidationError(
            translation_domain=DOMAIN, translation_key="no_target"
        )
    return list(resources.values())


def _require(resource: Resource, feature: ResourceFeature, action: str) -> None:
    if feature not in resource.features:
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="action_not_supported",
            translation_placeholders={"name": resource.name, "action": action},
        )


@callback
def async_setup_services(hass: HomeAssistant) -> None:
    """Register every WakeHub action."""
    power = async_get_power_manager(hass)

    async def start(call: ServiceCall) -> None:
        resources = await async_resolve_resources(call)
        await asyncio.gather(*(power.async_start(r) for r in resources))

    async def stop(call: ServiceCall) -> None:
        resources = await async_resolve_resources(call)
        await asyncio.gather(*(power.async_stop(r) for r in resources))

    async def reboot(call: ServiceCall) -> None:
        resources = await async_resolve_resources(call)
        for resource in resources:
            _require(resource, ResourceFeature.REBOOT, SERVICE_REBOOT)
        await asyncio.gather(*(power.async_reboot(r) for r in resources))

    hass.services.async_register(DOMAIN, SERVICE_START, start, schema=POWER_SCHEMA)
    hass.services.async_register(DOMAIN, SERVICE_STOP, stop, schema=POWER_SCHEMA)
    hass.services.async_register(DOMAIN, SERVICE_REBOOT, reboot, schema=TARGET_SCHEMA)
