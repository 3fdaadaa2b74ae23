"""The OVHcloud VPS manager's actions: automated backup, backup storage, secondary DNS.

Registered once, from `services.async_setup_services`, beside the other
`wakehub.*` actions, and resolved to resources the same way
(`services.async_resolve_resources`); every target must be an OVHcloud VPS, else
the whole call is refused before anything is sent. Changes that create an OVH
VPS task are followed to its end like the other OVH actions (`action.follow`);
the backup storage's tasks cannot be read back through the VPS API, so those
actions report the task OVH created. The specification's errors (task in
progress, option not available, IP quota reached...) each read as their own
translated error, an expired service by OVH's text; the rest as every other
action's (action_errors.py).

Modules: `action` (what an action is, its errors), one per topic with its
actions and their fields (`backup`, `backup_storage`, `secondary_dns`); all are
registered here.
"""

from __future__ import annotations

import asyncio
from typing import Any

from homeassistant.core import (
    HomeAssistant,
    ServiceCall,
    ServiceResponse,
    SupportsResponse,
    callback,
)

from ..action_errors import translate_error
from ..api.errors import WakeHubError
from ..const import DOMAIN
from ..kinds.ovh.vps import OvhVpsResource
from ..resource import Resource
from ..schema import vol
from .action import OvhAction, refused
from .backup import BACKUP_ACTIONS
from .backup_storage import BACKUP_STORAGE_ACTIONS
from .secondary_dns import SECONDARY_DNS_ACTIONS


def _vpses(resources: list[Resource], action: str) -> list[OvhVpsResource]:
    """Every target as an OVHcloud VPS; refuse the call when one is not."""
    for resource in resources:
        if not isinstance(resource, OvhVpsResource):
            raise refused("ovh_only", resource.name, action=action)
    return [r for r in resources if isinstance(r, OvhVpsResource)]


@callback
def async_setup_ovh_services(hass: HomeAssistant) -> None:
    """Register the VPS manager's actions (called from services.py's setup)."""
    # services.py is loaded by now (it calls this): no import at module level,
    # so that neither module needs the other first.
    from ..services import TARGET_FIELDS, _response, async_resolve_resources

    def register(action: OvhAction) -> None:
        async def one(vps: OvhVpsResource, call: ServiceCall) -> dict[str, Any]:
            try:
                return await action.act(vps, call)
            except WakeHubError as err:
                raise translate_error(err, vps.name) from err

        async def handle(call: ServiceCall) -> ServiceResponse:
            if action.check is not None:
                action.check(call)
            vpses = _vpses(await async_resolve_resources(call), action.name)
            results = await asyncio.gather(*(one(v, call) for v in vpses))
            if action.response is SupportsResponse.ONLY or call.return_response:
                by_key = {v.key: r for v, r in zip(vpses, results, strict=True)}
                return _response(hass, by_key, list(vpses))
            return None

        hass.services.async_register(
            DOMAIN,
            action.name,
            handle,
            schema=vol.Schema({**TARGET_FIELDS, **action.fields}),
            supports_response=action.response,
        )

    for action in (*BACKUP_ACTIONS, *BACKUP_STORAGE_ACTIONS, *SECONDARY_DNS_ACTIONS):
        register(action)
