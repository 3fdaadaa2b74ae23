"""The backup storage's actions: its password, and which IP blocks reach it.

Its tasks cannot be read back through the VPS API: these actions report the
task OVH created rather than follow it.
"""

from __future__ import annotations

import asyncio
import ipaddress
from typing import Any, Final

from homeassistant.core import ServiceCall, SupportsResponse
from homeassistant.helpers import config_validation as cv

from ..api.ovh.storage import StorageAccess, StorageTask
from ..kinds.ovh.vps import OvhVpsResource
from ..schema import vol
from .action import OvhAction, failed, refused

ATTR_IP_BLOCK: Final = "ip_block"
ATTR_FTP: Final = "ftp"
ATTR_CIFS: Final = "cifs"
ATTR_NFS: Final = "nfs"


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


async def _storage_address(vps: OvhVpsResource) -> str:
    storage = await vps.client.backup_storage(vps.key)
    if storage is None:
        raise failed("ovh_no_backup_storage", vps.name)
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
        raise refused(
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


_BLOCK: Final = {vol.Required(ATTR_IP_BLOCK): _ip_block}
BACKUP_STORAGE_ACTIONS: Final = (
    OvhAction(name="backup_storage_password", act=backup_storage_password),
    OvhAction(
        name="list_backup_storage_access",
        act=list_backup_storage_access,
        response=SupportsResponse.ONLY,
    ),
    OvhAction(
        name="add_backup_storage_access",
        act=add_backup_storage_access,
        fields={
            **_BLOCK,
            vol.Optional(ATTR_FTP, default=True): cv.boolean,
            vol.Optional(ATTR_CIFS, default=False): cv.boolean,
            vol.Optional(ATTR_NFS, default=False): cv.boolean,
        },
    ),
    OvhAction(
        name="remove_backup_storage_access",
        act=remove_backup_storage_access,
        fields=_BLOCK,
    ),
)
