"""The OVHcloud VPS manager's actions: automated backup, backup storage, secondary DNS.

Registered once, from `services.async_setup_services`, beside the other
`wakehub.*` actions, and resolved to resources the same way
(`services.async_resolve_resources`); every target must be an OVHcloud VPS, else
the whole call is refused before anything is sent. Changes that create an OVH
VPS task are followed to its end like the other OVH actions (`_follow` of the
resource); the backup storage's tasks cannot be read back through the VPS API, so
those actions report the task OVH created. The specification's errors (task in
progress, option not available, IP quota reached...) each read as their own
translated error; the rest as every other action's (action_errors.py).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
import datetime as dt
import ipaddress
from typing import Any

from homeassistant.core import (
    HomeAssistant,
    ServiceCall,
    ServiceResponse,
    SupportsResponse,
    callback,
)
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers import config_validation as cv

from .action_errors import translate_error
from .api.errors import ApiError, WakeHubError
from .api.ovh import Task
from .api.ovh.backup import RESTORE_TYPES, AttachedBackup, RestorePoint
from .api.ovh.error_map import ServiceExpired
from .api.ovh.storage import StorageAccess, StorageTask
from .const import DOMAIN
from .kinds.ovh.vps import OvhVpsResource
from .resource import Resource
from .schema import vol

ATTR_RESTORE_POINT = "restore_point"
ATTR_TYPE = "type"
ATTR_CONFIRM = "confirm"
ATTR_TIME = "time"
ATTR_IP_BLOCK = "ip_block"
ATTR_FTP = "ftp"
ATTR_CIFS = "cifs"
ATTR_NFS = "nfs"
ATTR_DOMAIN = "domain"
ATTR_IP = "ip"

type Act = Callable[[OvhVpsResource, ServiceCall], Awaitable[dict[str, Any]]]


# -- errors ----------------------------------------------------------------------
def _error(key: str, name: str, **placeholders: str) -> HomeAssistantError:
    return HomeAssistantError(
        translation_domain=DOMAIN,
        translation_key=key,
        translation_placeholders={"name": name, **placeholders},
    )


def _refused(key: str, name: str, **placeholders: str) -> ServiceValidationError:
    return ServiceValidationError(
        translation_domain=DOMAIN,
        translation_key=key,
        translation_placeholders={"name": name, **placeholders},
    )


def _translated(err: WakeHubError, name: str) -> HomeAssistantError:
    """An expired service by its OVH text, the rest as every action's (the
    specification's errors by their own key: action_errors.py)."""
    message = err.message if isinstance(err, ApiError) else str(err)
    if isinstance(err, ServiceExpired):
        return _error("ovh_service_expired", name, message=message)
    return translate_error(err, name)


# -- what the answers become -------------------------------------------------------
def _point(point: RestorePoint) -> dict[str, Any]:
    return {
        "restore_point": point.value,
        "time": point.time.isoformat(),
        "state": point.state,
    }


def _attached(backup: AttachedBackup) -> dict[str, Any]:
    return {
        "restore_point": backup.restore_point,
        "nfs": backup.nfs,
        "smb": backup.smb,
        "additional_disk": backup.additional_disk,
    }


def _access(access: StorageAccess) -> dict[str, Any]:
    return {
        "ip_block": access.ip_block,
        "ftp": access.ftp,
        "cifs": access.cifs,
        "nfs": access.nfs,
        "applied": access.applied,
        "last_update": access.last_update.isoformat() if access.last_update else None,
    }


def _storage_task(task: StorageTask) -> dict[str, Any]:
    return {"task_id": task.id, "task_status": task.status}


def _ip_block(value: Any) -> str:
    """An IPv4 or IPv6 block in CIDR notation (a lone address is its /32 or /128)."""
    try:
        return str(ipaddress.ip_network(str(value).strip(), strict=True))
    except ValueError as err:
        raise vol.Invalid(f"not an IP block: {value}") from err


def _ipv4(value: Any) -> str:
    try:
        return str(ipaddress.IPv4Address(str(value).strip()))
    except ValueError as err:
        raise vol.Invalid(f"not an IPv4 address: {value}") from err


def _domain(value: Any) -> str:
    domain = str(value).strip().rstrip(".").lower()
    labels = domain.split(".")
    if len(labels) < 2 or not all(
        0 < len(label) < 64 and label.replace("-", "").isalnum() and label.isascii()
        for label in labels
    ):
        raise vol.Invalid(f"not a domain name: {value}")
    return domain


# -- automated backup ---------------------------------------------------------------
async def _backup_enabled(vps: OvhVpsResource) -> None:
    option = await vps.client.backup_option(vps.key)
    if option is None or not option.enabled:
        raise _error("ovh_no_automated_backup", vps.name)


async def list_restore_points(vps: OvhVpsResource, call: ServiceCall) -> dict[str, Any]:
    option = await vps.client.backup_option(vps.key)
    if option is None or not option.enabled:
        raise _error("ovh_no_automated_backup", vps.name)
    points, attached = await asyncio.gather(
        vps.client.all_restore_points(vps.key), vps.client.attached_backups(vps.key)
    )
    return {
        "schedule": option.schedule.isoformat() if option.schedule else None,
        "restore_points": [_point(p) for p in reversed(points)],
        "attached": [_attached(a) for a in attached],
    }


async def restore_backup(vps: OvhVpsResource, call: ServiceCall) -> dict[str, Any]:
    await _backup_enabled(vps)
    restore_type: str = call.data[ATTR_TYPE]
    available = await vps.client.restore_points(vps.key, "available")
    point = _chosen_point(vps, available, call.data.get(ATTR_RESTORE_POINT))
    task = await _follow(
        vps, lambda: vps.client.restore_backup(vps.key, point.value, restore_type)
    )
    result: dict[str, Any] = {
        "task_id": task.id,
        "restore_point": point.value,
        "type": restore_type,
    }
    if restore_type == "file":
        attached = await vps.client.attached_backups(vps.key)
        result["attached"] = [
            _attached(a) for a in attached if a.restore_point == point.value
        ]
    return result


def _chosen_point(
    vps: OvhVpsResource, available: list[RestorePoint], wanted: dt.datetime | None
) -> RestorePoint:
    """The available point at `wanted` (the latest when not given)."""
    if not available:
        raise _refused("ovh_no_restore_point", vps.name)
    if wanted is None:
        return available[-1]
    moment = wanted if wanted.tzinfo else wanted.replace(tzinfo=dt.UTC)
    for point in available:
        if point.time == moment:
            return point
    raise _refused(
        "ovh_unknown_restore_point",
        vps.name,
        restore_point=wanted.isoformat(),
        restore_points=", ".join(p.value for p in reversed(available)),
    )


async def reschedule_backup(vps: OvhVpsResource, call: ServiceCall) -> dict[str, Any]:
    await _backup_enabled(vps)
    schedule: dt.time = call.data[ATTR_TIME]
    task = await _follow(vps, lambda: vps.client.reschedule_backup(vps.key, schedule))
    return {"task_id": task.id, "schedule": schedule.replace(microsecond=0).isoformat()}


async def detach_backup(vps: OvhVpsResource, call: ServiceCall) -> dict[str, Any]:
    await _backup_enabled(vps)
    attached = await vps.client.attached_backups(vps.key)
    wanted: dt.datetime | None = call.data.get(ATTR_RESTORE_POINT)
    if wanted is not None:
        moment = wanted if wanted.tzinfo else wanted.replace(tzinfo=dt.UTC)
        attached = [a for a in attached if a.time == moment]
    if len(attached) != 1:
        raise _refused(
            "ovh_no_attached_backup" if not attached else "ovh_which_attached_backup",
            vps.name,
        )
    point = attached[0].restore_point
    task = await _follow(vps, lambda: vps.client.detach_backup(vps.key, point))
    return {"task_id": task.id, "restore_point": point}


# -- backup storage -----------------------------------------------------------------
async def _storage_address(vps: OvhVpsResource) -> str:
    storage = await vps.client.backup_storage(vps.key)
    if storage is None:
        raise _error("ovh_no_backup_storage", vps.name)
    return storage.address or ""


async def backup_storage_password(
    vps: OvhVpsResource, call: ServiceCall
) -> dict[str, Any]:
    address = await _storage_address(vps)
    task = await vps.client.reset_storage_password(vps.key)
    # The password itself never reaches WakeHub: OVHcloud e-mails it.
    return {
        **_storage_task(task),
        "address": address,
        "message": "OVHcloud e-mails the new backup storage password to the "
        "account's admin contact.",
    }


async def list_backup_storage_access(
    vps: OvhVpsResource, call: ServiceCall
) -> dict[str, Any]:
    address = await _storage_address(vps)
    access, blocks = await asyncio.gather(
        vps.client.storage_access(vps.key), vps.client.authorizable_blocks(vps.key)
    )
    return {
        "address": address,
        "access": [_access(a) for a in access],
        "authorizable_blocks": blocks,
    }


async def add_backup_storage_access(
    vps: OvhVpsResource, call: ServiceCall
) -> dict[str, Any]:
    await _storage_address(vps)
    block: str = call.data[ATTR_IP_BLOCK]
    allowed = await vps.client.authorizable_blocks(vps.key)
    if block not in allowed:
        raise _refused(
            "ovh_block_not_authorizable",
            vps.name,
            ip_block=block,
            blocks=", ".join(allowed),
        )
    task = await vps.client.add_storage_access(
        vps.key,
        block,
        ftp=call.data[ATTR_FTP],
        cifs=call.data[ATTR_CIFS],
        nfs=call.data[ATTR_NFS],
    )
    vps.coordinator.mark_stale(vps.key)
    return {**_storage_task(task), "ip_block": block}


async def remove_backup_storage_access(
    vps: OvhVpsResource, call: ServiceCall
) -> dict[str, Any]:
    await _storage_address(vps)
    block: str = call.data[ATTR_IP_BLOCK]
    task = await vps.client.remove_storage_access(vps.key, block)
    vps.coordinator.mark_stale(vps.key)
    return {**_storage_task(task), "ip_block": block}


# -- secondary DNS ----------------------------------------------------------------
async def list_secondary_dns(vps: OvhVpsResource, call: ServiceCall) -> dict[str, Any]:
    domains, server = await asyncio.gather(
        vps.client.secondary_domains(vps.key),
        vps.client.secondary_name_server(vps.key),
    )
    return {
        "name_server": {
            "hostname": server.hostname,
            "ip": server.ip,
            "ipv6": server.ipv6,
        },
        "domains": [
            {
                "domain": d.domain,
                "dns": d.dns,
                "ip_master": d.ip_master,
                "created": d.created.isoformat() if d.created else None,
            }
            for d in domains
        ],
    }


async def add_secondary_dns(vps: OvhVpsResource, call: ServiceCall) -> dict[str, Any]:
    domain: str = call.data[ATTR_DOMAIN]
    await vps.client.add_secondary_domain(vps.key, domain, call.data.get(ATTR_IP))
    server = await vps.client.secondary_name_server(vps.key)
    return {
        "domain": domain,
        "name_server": server.hostname,
        "message": f"Declare {server.hostname} as a name server of {domain} "
        "at its registrar.",
    }


async def remove_secondary_dns(
    vps: OvhVpsResource, call: ServiceCall
) -> dict[str, Any]:
    domain: str = call.data[ATTR_DOMAIN]
    await vps.client.remove_secondary_domain(vps.key, domain)
    return {"domain": domain}


# -- registration -----------------------------------------------------------------
async def _follow(vps: OvhVpsResource, action: Callable[[], Awaitable[Task]]) -> Task:
    """Send `action` and follow its OVH task to the end, as every OVH action does."""
    return await vps._follow(action, details=True)  # noqa: SLF001 - the kind's one rule


def _vpses(resources: list[Resource], action: str) -> list[OvhVpsResource]:
    """Every target as an OVHcloud VPS; refuse the call when one is not."""
    for resource in resources:
        if not isinstance(resource, OvhVpsResource):
            raise _refused("ovh_only", resource.name, action=action)
    return [r for r in resources if isinstance(r, OvhVpsResource)]


def _confirmed_full_restore(call: ServiceCall) -> None:
    # A full restore replaces the whole VPS: never on a default.
    if call.data[ATTR_TYPE] == "full" and call.data.get(ATTR_CONFIRM) is not True:
        raise ServiceValidationError(
            translation_domain=DOMAIN, translation_key="ovh_restore_not_confirmed"
        )


@callback
def async_setup_ovh_services(hass: HomeAssistant) -> None:
    """Register the VPS manager's actions (called from services.py's setup)."""
    # services.py is loaded by now (it calls this): no import at module level,
    # so that neither module needs the other first.
    from .services import TARGET_FIELDS, _response, async_resolve_resources

    def register(
        name: str,
        act: Act,
        fields: dict[Any, Any] | None = None,
        *,
        response: SupportsResponse = SupportsResponse.OPTIONAL,
        check: Callable[[ServiceCall], None] | None = None,
    ) -> None:
        async def one(vps: OvhVpsResource, call: ServiceCall) -> dict[str, Any]:
            try:
                return await act(vps, call)
            except WakeHubError as err:
                raise _translated(err, vps.name) from err

        async def handle(call: ServiceCall) -> ServiceResponse:
            if check is not None:
                check(call)
            vpses = _vpses(await async_resolve_resources(call), name)
            results = await asyncio.gather(*(one(v, call) for v in vpses))
            if response is SupportsResponse.ONLY or call.return_response:
                by_key = {v.key: r for v, r in zip(vpses, results, strict=True)}
                return _response(hass, by_key, list(vpses))
            return None

        hass.services.async_register(
            DOMAIN,
            name,
            handle,
            schema=vol.Schema({**TARGET_FIELDS, **(fields or {})}),
            supports_response=response,
        )

    only = SupportsResponse.ONLY
    point = {vol.Optional(ATTR_RESTORE_POINT): cv.datetime}
    register("list_restore_points", list_restore_points, response=only)
    register(
        "restore_backup",
        restore_backup,
        {
            **point,
            vol.Required(ATTR_TYPE): vol.In(RESTORE_TYPES),
            vol.Optional(ATTR_CONFIRM, default=False): cv.boolean,
        },
        check=_confirmed_full_restore,
    )
    register("reschedule_backup", reschedule_backup, {vol.Required(ATTR_TIME): cv.time})
    register("detach_backup", detach_backup, point)
    register("backup_storage_password", backup_storage_password)
    register("list_backup_storage_access", list_backup_storage_access, response=only)
    block = {vol.Required(ATTR_IP_BLOCK): _ip_block}
    register(
        "add_backup_storage_access",
        add_backup_storage_access,
        {
            **block,
            vol.Optional(ATTR_FTP, default=True): cv.boolean,
            vol.Optional(ATTR_CIFS, default=False): cv.boolean,
            vol.Optional(ATTR_NFS, default=False): cv.boolean,
        },
    )
    register("remove_backup_storage_access", remove_backup_storage_access, block)
    register("list_secondary_dns", list_secondary_dns, response=only)
    domain = {vol.Required(ATTR_DOMAIN): _domain}
    register(
        "add_secondary_dns",
        add_secondary_dns,
        {**domain, vol.Optional(ATTR_IP): _ipv4},
    )
    register("remove_secondary_dns", remove_secondary_dns, domain)
