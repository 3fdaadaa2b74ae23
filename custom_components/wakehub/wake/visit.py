"""The device's "Visit" link opens the service through its wake link.

Set after each setup of an entry (settings change through a reload): the wake
link when wake on access is on and Home Assistant knows its own address, else
the kind's own link (none for most), so turning the setting off puts it back.
"""

from __future__ import annotations

import contextlib

from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers.network import NoURLAvailableError, get_url

from ..devices import entry_device
from ..runtime import WakeHubConfigEntry
from .const import WAKE_PATH
from .tokens import enabled_token


@callback
def async_update_visit_links(hass: HomeAssistant, entry: WakeHubConfigEntry) -> None:
    registry = dr.async_get(hass)
    for resource in entry.runtime_data.resources:
        if resource.shown_on is not None:
            continue  # another resource's device: its own link stays
        device = entry_device(hass, entry.entry_id, resource.key)
        if device is None:
            continue
        url = resource.device_info.get("configuration_url")
        if (token := enabled_token(resource)) is not None:
            with contextlib.suppress(NoURLAvailableError):
                url = f"{get_url(hass)}{WAKE_PATH}/{token}"
        if device.configuration_url != url:
            registry.async_update_device(device.id, configuration_url=url)
