"""Repairs with a fix: a changed SSH host key or TLS certificate, a proposed
host link, and an OVH consumer key short of the access rules WakeHub now asks for.

A changed key or certificate is never accepted silently: it may be a reinstalled
OS or a renewed certificate, or someone impersonating the server to collect its
credentials. The fix flow shows the new fingerprint and pins exactly that one
only when the user chooses to trust it, as the wizard's trust steps do.

A proposed link (links.py) is created only when the user confirms it.
"""

from __future__ import annotations

from abc import abstractmethod
from typing import TYPE_CHECKING, Any

from homeassistant.components.repairs import ConfirmRepairFlow, RepairsFlow
from homeassistant.config_entries import ConfigEntry
from homeassistant.const import CONF_HOST
from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir

from .api.errors import WakeHubError
from .api.machine import fetch_host_key, host_key_fingerprint
from .const import CONF_FINGERPRINT, CONF_HOST_KEY, CONF_SSH_PORT, DOMAIN
from .coordinator import CERTIFICATE_ISSUE_PREFIX
from .flows.trust import TRUST_OPTIONS
from .hosting import options_with_link
from .links import ISSUE_PREFIX as LINK_ISSUE_PREFIX

if TYPE_CHECKING:
    # Named only from Home Assistant 2026.10 on; a type, not needed at run time.
    from homeassistant.components.repairs import RepairsFlowResult
from .schema import vol


class EntryRepairFlow(RepairsFlow):
    """A fix about one entry, asked in its `confirm` step; it ends, saying so,
    when the entry was deleted while the repair was open."""

    def __init__(self, entry_id: str) -> None:
        self._entry_id = entry_id

    def _entry(self) -> ConfigEntry | None:
        return self.hass.config_entries.async_get_entry(self._entry_id)

    async def async_step_init(
        self, user_input: dict[str, Any] | None = None
    ) -> RepairsFlowResult:
        # The repairs manager passes the issue's data here as if it were an
        # answer: the question comes next.
        return await self.async_step_confirm()

    async def async_step_confirm(
        self, user_input: dict[str, Any] | None = None
    ) -> RepairsFlowResult:
        if (entry := self._entry()) is None:
            return self.async_abort(reason="entry_removed")
        return await self.confirm(entry, user_input)

    @abstractmethod
    async def confirm(
        self, entry: ConfigEntry, user_input: dict[str, Any] | None
    ) -> RepairsFlowResult:
        """The question (`user_input` None), then what the answer does."""


class ChangedPinRepairFlow(EntryRepairFlow):
    """The fix of a pin that changed: the new one is shown beside the pinned one
    (TRUST_OPTIONS). Trusted, exactly the one shown is pinned and the entry set
    up again; not trusted, nothing changes and the issue stays."""

    def __init__(self, entry_id: str, field: str) -> None:
        super().__init__(entry_id)
        self._field = field  # where the entry keeps its pin
        self._presented: str | None = None  # what the menu showed

    @abstractmethod
    async def new_pin(self, entry: ConfigEntry) -> tuple[str, str, str]:
        """(the new pin, it as shown, the pinned one as shown); WakeHubError
        when the server must be asked and does not answer."""

    async def confirm(
        self, entry: ConfigEntry, user_input: dict[str, Any] | None
    ) -> RepairsFlowResult:
        try:
            self._presented, shown, previous = await self.new_pin(entry)
        except WakeHubError:
            return self.async_abort(reason="cannot_connect")
        return self.async_show_menu(
            step_id="confirm",
            menu_options=TRUST_OPTIONS,
            description_placeholders={
                "name": entry.title,
                "fingerprint": shown,
                "previous": previous,
            },
        )

    async def async_step_trust(
        self, user_input: dict[str, Any] | None = None
    ) -> RepairsFlowResult:
        if (entry := self._entry()) is None:
            return self.async_abort(reason="entry_removed")
        assert self._presented is not None  # the menu that leads here showed it
        self.hass.config_entries.async_update_entry(
            entry, data={**entry.data, self._field: self._presented}
        )
        # Set up again with the new pin; its first poll clears the issue.
        self.hass.config_entries.async_schedule_reload(entry.entry_id)
        return self.async_create_entry(data={})

    async def async_step_not_trusted(
        self, user_input: dict[str, Any] | None = None
    ) -> RepairsFlowResult:
        return self.async_abort(reason="not_trusted")


class HostKeyChangedRepairFlow(ChangedPinRepairFlow):
    """A machine's new SSH host key, read from the machine when asked."""

    def __init__(self, entry_id: str) -> None:
        super().__init__(entry_id, CONF_HOST_KEY)

    async def new_pin(self, entry: ConfigEntry) -> tuple[str, str, str]:
        key = await fetch_host_key(entry.data[CONF_HOST], entry.data[CONF_SSH_PORT])
        return (
            key,
            host_key_fingerprint(key),
            host_key_fingerprint(entry.data[CONF_HOST_KEY]),
        )


class CertificateChangedRepairFlow(ChangedPinRepairFlow):
    """A server's new TLS certificate, as its last poll saw it
    (coordinator.poll_failed raised the issue with its fingerprint)."""

    def __init__(self, entry_id: str, fingerprint: str) -> None:
        super().__init__(entry_id, CONF_FINGERPRINT)
        self._fingerprint = fingerprint

    async def new_pin(self, entry: ConfigEntry) -> tuple[str, str, str]:
        pinned = str(entry.data.get(CONF_FINGERPRINT))
        return self._fingerprint, self._fingerprint, pinned


class LinkProposalRepairFlow(EntryRepairFlow):
    """Confirm a host link WakeHub proposes ("pve1 looks like the node pve1")."""

    def __init__(self, issue_id: str, data: dict[str, Any]) -> None:
        super().__init__(str(data["entry_id"]))
        self._issue_id = issue_id
        self._slot = str(data["slot"]) or None
        self._link = str(data["link"])

    async def confirm(
        self, entry: ConfigEntry, user_input: dict[str, Any] | None
    ) -> RepairsFlowResult:
        if user_input is not None:
            self.hass.config_entries.async_update_entry(
                entry, options=options_with_link(entry, self._slot, self._link)
            )
            # The links shape the graph and the devices: set the entry up again.
            self.hass.config_entries.async_schedule_reload(entry.entry_id)
            return self.async_create_entry(data={})
        issue = ir.async_get(self.hass).async_get_issue(DOMAIN, self._issue_id)
        return self.async_show_form(
            step_id="confirm",
            data_schema=vol.Schema({}),
            description_placeholders=dict(
                (issue.translation_placeholders or {}) if issue else {}
            ),
        )


#: An OVH entry whose consumer key predates the VPS manager's access rules.
OVH_ACCESS_RULES_PREFIX = "ovh_access_rules_"


class OvhAccessRulesRepairFlow(EntryRepairFlow):
    """Explain the missing rules, then start the reauth that requests them."""

    def __init__(self, entry_id: str, rules: str) -> None:
        super().__init__(entry_id)
        self._rules = rules

    async def confirm(
        self, entry: ConfigEntry, user_input: dict[str, Any] | None
    ) -> RepairsFlowResult:
        if user_input is not None:
            # The reauth asks for a new key with every rule; the issue goes
            # once the entry is set up again with it.
            entry.async_start_reauth(self.hass)
            return self.async_create_entry(data={})
        return self.async_show_form(
            step_id="confirm",
            data_schema=vol.Schema({}),
            description_placeholders={"name": entry.title, "rules": self._rules},
        )


async def async_create_fix_flow(
    hass: HomeAssistant, issue_id: str, data: dict[str, Any] | None
) -> RepairsFlow:
    """Create the fix flow of a fixable WakeHub repair issue."""
    if issue_id.startswith("host_key_changed_"):
        return HostKeyChangedRepairFlow(str((data or {})["entry_id"]))
    if issue_id.startswith(CERTIFICATE_ISSUE_PREFIX):
        return CertificateChangedRepairFlow(
            str((data or {})["entry_id"]), str((data or {})["fingerprint"])
        )
    if issue_id.startswith(LINK_ISSUE_PREFIX):
        return LinkProposalRepairFlow(issue_id, data or {})
    if issue_id.startswith(OVH_ACCESS_RULES_PREFIX):
        return OvhAccessRulesRepairFlow(
            str((data or {})["entry_id"]), str((data or {}).get("rules", ""))
        )
    return ConfirmRepairFlow()
