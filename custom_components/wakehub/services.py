"""The `wakehub.*` actions, registered once in `async_setup`.

Actions target WakeHub entities or devices; each target resolves to the resource
whose device it belongs to, so "start the Jellyfin device" and "start
switch.jellyfin" are the same call. What a resource cannot do is refused before
anything is sent; what the platform refuses comes back as a translated error with
the platform's own words.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from homeassistant.core import (
    HomeAssistant,
    ServiceCall,
    ServiceResponse,
    SupportsResponse,
    callback,
)
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import (
    config_validation as cv,
    device_registry as dr,
    entity_registry as er,
)
from homeassistant.helpers.service import async_extract_entity_ids

from .action_errors import translate_error
from .api.errors import WakeHubError
from .capabilities import (
    Backups,
    Console,
    PasswordReset,
    Pausable,
    Powered,
    Rebootable,
    Rebuild,
    Rescue,
    Snapshots,
    capability,
)
from .const import ATTR_CASCADE, DOMAIN, SERVICE_REBOOT, SERVICE_START, SERVICE_STOP
from .ovh_services import async_setup_ovh_services
from .power import PowerManager, async_get_power_manager
from .resource import Resource
from .schema import vol

ATTR_NAME = "name"
ATTR_DESCRIPTION = "description"
ATTR_INCLUDE_RAM = "include_ram"
ATTR_ENABLED = "enabled"
ATTR_IMAGE_ID = "image_id"
ATTR_SSH_KEY = "ssh_key"
ATTR_PUBLIC_SSH_KEY = "public_ssh_key"
ATTR_DO_NOT_SEND_PASSWORD = "do_not_send_password"
ATTR_CONFIRM = "confirm"
ATTR_SNAPSHOT_FIRST = "snapshot_first"
ATTR_STORAGE = "storage"
ATTR_MODE = "mode"
ATTR_COMPRESS = "compress"
BACKUP_MODES = ("snapshot", "suspend", "stop")
BACKUP_COMPRESSIONS = ("zstd", "gzip", "lzo", "0")

TARGET_FIELDS: dict[Any, Any] = {
    vol.Optional("entity_id"): cv.comp_entity_ids,
    vol.Optional("device_id"): vol.All(cv.ensure_list, [cv.string]),
    vol.Optional("area_id"): vol.All(cv.ensure_list, [cv.string]),
    vol.Optional("floor_id"): vol.All(cv.ensure_list, [cv.string]),
    vol.Optional("label_id"): vol.All(cv.ensure_list, [cv.string]),
}


def _schema(fields: dict[Any, Any] | None = None) -> Any:
    return vol.Schema({**TARGET_FIELDS, **(fields or {})})


async def async_resolve_resources(call: ServiceCall) -> list[Resource]:
    """The resources an action targets; ServiceValidationError when none is ours."""
    hass = call.hass
    power = async_get_power_manager(hass)
    ent_reg = er.async_get(hass)
    dev_reg = dr.async_get(hass)
    device_ids: set[str] = set(call.data.get("device_id", []))
    for entity_id in sorted(await async_extract_entity_ids(call)):
        entry = ent_reg.async_get(entity_id)
        if entry is None or entry.platform != DOMAIN or entry.device_id is None:
            raise ServiceValidationError(
                translation_domain=DOMAIN,
                translation_key="not_a_wakehub_target",
                translation_placeholders={"target": entity_id},
            )
        device_ids.add(entry.device_id)
    resources: dict[str, Resource] = {}
    for device_id in sorted(device_ids):
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
                    "target": (device.name_by_user or device.name or device_id)
                    if device
                    else device_id
                },
            )
        for resource in found:
            resources[resource.key] = resource
    if not resources:
        raise ServiceValidationError(
            translation_domain=DOMAIN, translation_key="no_target"
        )
    return list(resources.values())


async def _each[T](
    power: PowerManager,
    resources: list[Resource],
    act: Callable[[Resource], Awaitable[T]],
) -> dict[str, T]:
    """Run `act` on every resource in parallel; client errors become translated.

    What an action changes is WakeHub's doing (observed.py): a restored
    snapshot that leaves a VM stopped is not "stopped outside WakeHub"."""

    async def one(resource: Resource) -> T:
        with power.observer.acting(resource):
            try:
                return await act(resource)
            except WakeHubError as err:
                raise translate_error(err, resource.name) from err

    results = await asyncio.gather(*(one(r) for r in resources))
    return {r.key: result for r, result in zip(resources, results, strict=True)}


async def _async_show_outcome(resources: list[Resource]) -> None:
    """Poll the targets' servers now, once each, so their entities show what
    the action did.

    Not the debounced `async_request_refresh`: within its cooldown a second
    action (a pause, then a resume) would start from the state before the
    first.
    """
    await asyncio.gather(
        *{r.coordinator: r.coordinator.async_refresh() for r in resources}.values()
    )


def _response(
    hass: HomeAssistant, results: dict[str, Any], resources: list[Resource]
) -> ServiceResponse:
    """Response data keyed by each resource's power switch entity id (or key)."""
    ent_reg = er.async_get(hass)
    response: dict[str, Any] = {}
    for resource in resources:
        entity_id = ent_reg.async_get_entity_id(
            "switch", DOMAIN, f"{resource.key}_power"
        )
        response[entity_id or resource.key] = results[resource.key]
    return response


@callback
def async_setup_services(hass: HomeAssistant) -> None:
    """Register every WakeHub action."""
    power = async_get_power_manager(hass)

    def register[C](
        name: str,
        protocol: type[C],
        act: Callable[[Resource, C, ServiceCall], Awaitable[Any]],
        fields: dict[Any, Any] | None = None,
        *,
        response: SupportsResponse = SupportsResponse.NONE,
        check: Callable[[ServiceCall], None] | None = None,
        refusal: str = "action_not_supported",
    ) -> None:
        async def handle(call: ServiceCall) -> ServiceResponse:
            if check is not None:
                check(call)
            resources = await async_resolve_resources(call)
            # The whole call is refused when one target cannot do it.
            able = {r.key: capability(r, protocol, name, refusal) for r in resources}
            results = await _each(power, resources, lambda r: act(r, able[r.key], call))
            if response is not SupportsResponse.ONLY:
                await _async_show_outcome(resources)
            if response is SupportsResponse.ONLY or call.return_response:
                return _response(hass, results, resources)
            return None

        hass.services.async_register(
            DOMAIN,
            name,
            handle,
            schema=_schema(fields),
            supports_response=response,
        )

    cascade = {vol.Optional(ATTR_CASCADE, default=True): cv.boolean}
    register(
        SERVICE_START,
        Powered,
        lambda r, _, call: power.async_start(r, cascade=call.data[ATTR_CASCADE]),
        cascade,
    )
    register(
        SERVICE_STOP,
        Powered,
        lambda r, _, call: power.async_stop(r, cascade=call.data[ATTR_CASCADE]),
        cascade,
    )
    register(SERVICE_REBOOT, Rebootable, lambda r, _, call: power.async_reboot(r))

    # Pausing freezes a container's processes in place (Docker's cgroup freezer):
    # nothing else WakeHub runs can be frozen, and the refusal says so.
    register(
        "pause",
        Pausable,
        lambda _, able, call: able.async_pause(),
        refusal="pause_not_supported",
    )
    register(
        "unpause",
        Pausable,
        lambda _, able, call: able.async_unpause(),
        refusal="pause_not_supported",
    )
    register(
        "rescue",
        Rescue,
        lambda _, able, call: able.async_rescue(call.data[ATTR_ENABLED]),
        {vol.Optional(ATTR_ENABLED, default=True): cv.boolean},
        response=SupportsResponse.OPTIONAL,
    )
    register(
        "create_snapshot",
        Snapshots,
        lambda _, able, call: able.async_create_snapshot(
            call.data.get(ATTR_NAME),
            call.data.get(ATTR_DESCRIPTION),
            call.data[ATTR_INCLUDE_RAM],
        ),
        {
            vol.Optional(ATTR_NAME): cv.string,
            vol.Optional(ATTR_DESCRIPTION): cv.string,
            vol.Optional(ATTR_INCLUDE_RAM, default=False): cv.boolean,
        },
    )
    # Actions that can lose data take a snapshot first when asked to.
    snapshot_first = {vol.Optional(ATTR_SNAPSHOT_FIRST, default=False): cv.boolean}
    register(
        "restore_snapshot",
        Snapshots,
        lambda _, able, call: able.async_restore_snapshot(
            call.data.get(ATTR_NAME), snapshot_first=call.data[ATTR_SNAPSHOT_FIRST]
        ),
        {vol.Optional(ATTR_NAME): cv.string, **snapshot_first},
    )
    register(
        "delete_snapshot",
        Snapshots,
        lambda _, able, call: able.async_delete_snapshot(call.data.get(ATTR_NAME)),
        {vol.Optional(ATTR_NAME): cv.string},
    )

    async def list_snapshots(
        _: Resource, able: Snapshots, call: ServiceCall
    ) -> dict[str, Any]:
        return {"snapshots": [s.as_dict() for s in await able.async_list_snapshots()]}

    register(
        "list_snapshots",
        Snapshots,
        list_snapshots,
        response=SupportsResponse.ONLY,
    )
    register(
        "console_url",
        Console,
        lambda _, able, call: able.async_console_url(),
        response=SupportsResponse.ONLY,
    )

    async def list_images(
        _: Resource, able: Rebuild, call: ServiceCall
    ) -> dict[str, Any]:
        return {"images": await able.async_list_images()}

    register(
        "list_images",
        Rebuild,
        list_images,
        response=SupportsResponse.ONLY,
    )

    def confirmed(call: ServiceCall) -> None:
        # Rebuilding erases every disk of the server: never on a default.
        if call.data.get(ATTR_CONFIRM) is not True:
            raise ServiceValidationError(
                translation_domain=DOMAIN, translation_key="rebuild_not_confirmed"
            )

    register(
        "rebuild",
        Rebuild,
        lambda _, able, call: able.async_rebuild(
            call.data[ATTR_IMAGE_ID],
            call.data.get(ATTR_SSH_KEY),
            call.data.get(ATTR_PUBLIC_SSH_KEY),
            call.data[ATTR_DO_NOT_SEND_PASSWORD],
            snapshot_first=call.data[ATTR_SNAPSHOT_FIRST],
        ),
        {
            vol.Required(ATTR_IMAGE_ID): cv.string,
            vol.Optional(ATTR_SSH_KEY): cv.string,
            vol.Optional(ATTR_PUBLIC_SSH_KEY): cv.string,
            vol.Optional(ATTR_DO_NOT_SEND_PASSWORD, default=False): cv.boolean,
            vol.Optional(ATTR_CONFIRM, default=False): cv.boolean,
            **snapshot_first,
        },
        response=SupportsResponse.OPTIONAL,
        check=confirmed,
    )
    # Proxmox's own backup (vzdump) of a guest, followed to the task's end;
    # other kinds refuse it before anything is sent.
    register(
        "backup",
        Backups,
        lambda _, able, call: able.async_backup(
            call.data[ATTR_STORAGE], call.data[ATTR_MODE], call.data.get(ATTR_COMPRESS)
        ),
        {
            vol.Required(ATTR_STORAGE): cv.string,
            vol.Optional(ATTR_MODE, default="snapshot"): vol.In(BACKUP_MODES),
            vol.Optional(ATTR_COMPRESS): vol.All(
                cv.string, vol.In(BACKUP_COMPRESSIONS)
            ),
        },
        refusal="backup_not_supported",
    )
    register(
        "reset_password",
        PasswordReset,
        lambda _, able, call: able.async_reset_password(),
        response=SupportsResponse.OPTIONAL,
    )
    async_setup_ovh_services(hass)
