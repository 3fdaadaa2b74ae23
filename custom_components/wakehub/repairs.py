"""Repairs: a machine whose SSH host key changed since it was pinned.

A changed key is never accepted silently: it may be a reinstalled OS, or someone
impersonating the machine to collect its password. The fix flow shows the new
fingerprint and pins it only when the user confirms.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from homeassistant.components.repairs import ConfirmRepairFlow, RepairsFlow
from homeassistant.const import CONF_HOST
from homeassistant.core import HomeAssistant

from .api.errors import WakeHubError
from .api.machine import fetch_host_key, host_key_fingerprint
from .const import CONF_HOST_KEY, CONF_SSH_PORT

if TYPE_CHECKING:
    # Named only from Home Assistant 2026.10 on; a type, not needed at run time.
    from homeassistant.components.repairs import RepairsFlowResult
from .schema import vol


class HostKeyChangedRepairFlow(RepairsFlow):
    """Confirm the new host key of a machine."""

    def __init__(self, entry_id: str) -> None:
        self._entry_id = entry_id
        self._key: str | None = None

    async def async_step_init(
        self, user_input: dict[str, Any] | None = None
    ) -> RepairsFlowResult:
        entry = self.hass.config_entries.async_get_entry(self._entry_id)
        if entry is None:
            return self.async_abort(reason="entry_removed")
        if user_input is not None and self._key is not None:
            self.hass.config_entries.async_update_entry(
                entry, data={**entry.data, CONF_HOST_KEY: self._key}
            )
            await self.hass.config_entries.async_reload(entry.entry_id)
            return self.async_create_entry(data={})
        try:
            self._key = await fetch_host_key(
                entry.data[CONF_HOST], entry.data[CONF_SSH_PORT]
            )
        except WakeHubError:
            return self.async_abort(reason="cannot_connect")
        return self.async_show_form(
            step_id="init",
            data_schema=vol.Schema({}),
            description_placeholders={
                "name": entry.title,
                "fingerprint": host_key_fingerprint(self._key),
                "previous": host_key_fingerprint(entry.data[CONF_HOST_KEY]),
            },
        )


async def async_create_fix_flow(
    hass: HomeAssistant, issue_id: str, data: dict[str, Any] | None
) -> RepairsFlow:
    """Create the fix flow of a fixable WakeHub repair issue."""
    if issue_id.startswith("host_key_changed_"):
        return HostKeyChangedRepairFlow(str((data or {})["entry_id"]))
    return ConfirmRepairFlow()
