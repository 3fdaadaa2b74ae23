"""Which device shows a resource, and under which device it hangs.

The device tree mirrors the lab (DESIGN.md): one device per physical computer, a
Proxmox node linked to a machine being that machine's device; guests under their
node, an engine under its VM or machine, containers under their engine. A server
names what it runs on by the entity-registry id of that resource's power switch
(its *host link*), so the linked resource's device is the device of that switch.

Home Assistant 2026.10 keeps each device in one config entry, finds a device by
identifier within an entry, and links a device to its parent by the parent's id
(`via_device_id`); older releases find devices by identifier alone and link by
the parent's identifiers (`via_device`). Both are handled here, and only here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import device_registry as dr, entity_registry as er
from homeassistant.helpers.device_registry import DeviceInfo

from .const import DOMAIN

if TYPE_CHECKING:
    from .resource import Resource

_HAS_VIA_DEVICE_ID: Final = "via_device_id" in DeviceInfo.__annotations__


@callback
def entry_device(hass: HomeAssistant, entry_id: str, key: str) -> dr.DeviceEntry | None:
    """The device the entry registered for the resource `key`, if any."""
    identifier = (DOMAIN, key)
    registry = dr.async_get(hass)
    if not hasattr(registry, "async_get_device_by_identifier"):  # pragma: no cover
        # Before 2026.10 an identifier names one device, whatever its entries.
        device = registry.async_get_device(identifiers={identifier})
        return device if device and entry_id in device.config_entries else None
    return registry.async_get_device_by_identifier(identifier, entry_id)


@callback
def linked_device(hass: HomeAssistant, link: str | None) -> dr.DeviceEntry | None:
    """The device of the resource whose power switch has the registry id `link`.

    None when nothing is linked, or the switch or its device is gone (its entry
    was deleted): the linking server then shows its own devices again.
    """
    if not link:
        return None
    switch = er.async_get(hass).async_get(link)
    if switch is None or switch.device_id is None:
        return None
    device = dr.async_get(hass).async_get(switch.device_id)
    return device if isinstance(device, dr.DeviceEntry) else None


def via(parent: dr.DeviceEntry | None) -> DeviceInfo:
    """The DeviceInfo fields putting a device under `parent` (none for None)."""
    if parent is None:
        return DeviceInfo()
    if not _HAS_VIA_DEVICE_ID:  # pragma: no cover - before 2026.10
        return DeviceInfo(via_device=min(parent.identifiers))  # type: ignore[typeddict-unknown-key]
    return DeviceInfo(via_device_id=parent.id)


@callback
def async_place_resource(
    hass: HomeAssistant, resource: Resource, *, parent: dr.DeviceEntry | None = None
) -> dr.DeviceEntry:
    """Register the device showing `resource`, before its entities are added.

    Registered first so the devices under it can name it. A resource with
    `shown_on` set is shown on that device (another server's); otherwise on its
    own, hung under `parent` (or under nothing). Links change at run time (the
    options flow, then a reload), so this puts things right at every setup:
    - its entities, disabled ones included (no platform adds those), are
      moved to the device now showing it; unique ids and entity ids stay;
    - its own device, empty once it is shown elsewhere, is removed: no twin.
    """
    dev_reg = dr.async_get(hass)
    entry_id = resource.entry.entry_id
    own = entry_device(hass, entry_id, resource.key)
    if (device := resource.shown_on) is None:
        device = dev_reg.async_get_or_create(
            config_entry_id=entry_id,
            config_subentry_id=resource.subentry_id,
            **resource.device_info,
        )
        # Set, not merged, so an unlinked server stops hanging under its old host.
        device = (
            dev_reg.async_update_device(
                device.id, via_device_id=parent.id if parent else None
            )
            or device
        )
    ent_reg = er.async_get(hass)
    # entity.py builds every unique id of a resource as `{resource.key}_{key}`.
    prefix = f"{resource.key}_"
    for entity in er.async_entries_for_config_entry(ent_reg, entry_id):
        if (
            entity.config_subentry_id == resource.subentry_id
            and entity.unique_id.startswith(prefix)
            and entity.device_id != device.id
        ):
            ent_reg.async_update_entity(entity.entity_id, device_id=device.id)
    if own is not None and own.id != device.id:
        dev_reg.async_remove_device(own.id)
    return device
