"""Host links proposed from what the platforms report, confirmed by the user.

Nobody should have to wire a lab by hand when the platforms already know it:

- a Proxmox node whose address (the cluster's status) is a machine's host, or
  whose name is the machine's name, is that machine;
- a Docker engine whose host (its URL) is a machine's or a guest's address, or
  whose host name (the engine's own name) is a guest's or a machine's name, runs
  on it.

A proposal needs one best candidate: one that matches by address and by name
beats one that matches by either; a tie proposes nothing. Links the user set
are never second-guessed. Proposals are pre-filled in the server's options and
raised as a repair issue ("pve1 looks like the Proxmox node pve1: link them?")
whose fix creates the link.

The pickers of links and dependencies offer only what can be chosen (a node's
machine, an engine's VM or machine, any WakeHub power switch for "Depends on"),
and anything else sent to the form is refused there: an "Auto-shutdown" switch
saved as a host would otherwise be silently ignored by the cascade.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from homeassistant.config_entries import ConfigEntry, ConfigEntryState
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import entity_registry as er, issue_registry as ir
from homeassistant.helpers.selector import EntitySelector, EntitySelectorConfig
from homeassistant.util.hass_dict import HassKey

from .const import DOMAIN
from .features import ResourceFeature
from .graph import power_switch_unique_id
from .hosting import HostKind, KnownAs, LinkTarget, stored_link
from .power import async_get_power_manager
from .resource import Resource

ISSUE_PREFIX = "link_proposal_"
_READY = (ConfigEntryState.LOADED, ConfigEntryState.SETUP_IN_PROGRESS)
_RAISED: HassKey[set[str]] = HassKey(f"{DOMAIN}_link_proposals")


@dataclass(frozen=True, slots=True)
class Proposal:
    """A link WakeHub suggests: `target` of entry `entry_id` runs on `host`."""

    entry_id: str
    target: LinkTarget
    host: Resource
    #: Entity-registry id of the host's power switch (what the link stores).
    link: str

    @property
    def issue_id(self) -> str:
        return f"{ISSUE_PREFIX}{self.entry_id}_{self.target.slot or ''}"


def proposals(hass: HomeAssistant) -> list[Proposal]:
    """Every link the platforms suggest and the user has not set."""
    power = async_get_power_manager(hass)
    hosts = [r for r in power.resources.values() if r.host_kind is not None]
    found: list[Proposal] = []
    for entry in hass.config_entries.async_entries(DOMAIN):
        # An entry proposes from the end of its own setup on (its devices exist).
        if entry.state not in _READY or not hasattr(entry, "runtime_data"):
            continue
        for target in entry.runtime_data.coordinator.link_targets():
            if stored_link(entry, target.slot) is not None:
                continue
            host = best_host(
                target,
                [
                    h
                    for h in hosts
                    if h.host_kind in target.accepts and h.entry is not entry
                ],
            )
            if host is not None and (link := power.graph.registry_id(host)):
                found.append(Proposal(entry.entry_id, target, host, link))
    return found


def best_host(target: LinkTarget, hosts: list[Resource]) -> Resource | None:
    """The one host `target` matches best, or None (no match, or a tie)."""
    scored = [(_score(target.known_as, host.known_as()), host) for host in hosts]
    best = max((score for score, _ in scored), default=0)
    if best == 0:
        return None
    winners = [host for score, host in scored if score == best]
    return winners[0] if len(winners) == 1 else None


def _score(target: KnownAs, host: KnownAs) -> int:
    return (2 if target.addresses & host.addresses else 0) + (
        1 if target.names & host.names else 0
    )


@callback
def async_update_issues(hass: HomeAssistant) -> None:
    """Raise a repair issue per proposal; withdraw those no longer proposed."""
    current = {p.issue_id: p for p in proposals(hass)}
    raised = hass.data.setdefault(_RAISED, set())
    for issue_id in raised - current.keys():
        ir.async_delete_issue(hass, DOMAIN, issue_id)
    for issue_id, proposal in current.items():
        if issue_id in raised:
            continue
        ir.async_create_issue(
            hass,
            DOMAIN,
            issue_id,
            is_fixable=True,
            is_persistent=False,
            severity=ir.IssueSeverity.WARNING,
            translation_key=(
                "link_proposal_node"
                if proposal.target.slot is not None
                else "link_proposal_engine"
            ),
            translation_placeholders={
                "host": proposal.host.name,
                "target": proposal.target.name,
            },
            data={
                "entry_id": proposal.entry_id,
                "slot": proposal.target.slot or "",
                "link": proposal.link,
            },
        )
    raised.clear()
    raised.update(current)


# -- what the pickers offer ----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Choice:
    """What a picker may offer: power switches of resources of these kinds."""

    #: None: any powered resource (a dependency); else what can be a host.
    kinds: frozenset[HostKind] | None
    #: The entry whose own resources are not offered (nothing hosts itself).
    exclude_entry_id: str | None = None

    def allows(self, resource: Resource) -> bool:
        if ResourceFeature.POWER not in resource.features:
            return False
        if resource.entry.entry_id == self.exclude_entry_id:
            return False
        return self.kinds is None or resource.host_kind in self.kinds


#: "Depends on": any WakeHub power switch (a NAS, a database container...).
ANY_POWER_SWITCH = Choice(kinds=None)


def offered_switches(hass: HomeAssistant, choice: Choice) -> list[str]:
    """Entity ids of the power switches a picker offers, sorted."""
    power = async_get_power_manager(hass)
    registry = er.async_get(hass)
    return sorted(
        entity_id
        for resource in power.resources.values()
        if choice.allows(resource)
        and (
            entity_id := registry.async_get_entity_id(
                "switch", DOMAIN, power_switch_unique_id(resource.key)
            )
        )
    )


def chosen_switch(
    hass: HomeAssistant, choice: Choice, picked: str
) -> tuple[str, Resource] | None:
    """The registry id to store for a picked entity, and its resource; None if
    it may not be chosen (not a WakeHub power switch, or not of a kind that can
    be a host)."""
    power = async_get_power_manager(hass)
    resource = power.graph.resource_for_switch(picked)
    entry = er.async_get(hass).async_get(picked)
    if resource is None or entry is None or not choice.allows(resource):
        return None
    return entry.id, resource


def link_cycle(
    hass: HomeAssistant, entry_id: str, hosts: Mapping[str | None, Resource]
) -> list[Resource] | None:
    """The cycle linking an entry's slots to `hosts` (slot -> host) would
    close: a host that needs, through its dependencies, something running on
    it (a NAS depending on a container of the engine linked to that NAS), as
    [resource, host, ..., resource]; else None."""
    power = async_get_power_manager(hass)
    for resource in list(power.resources.values()):
        if resource.entry.entry_id != entry_id:
            continue
        host = hosts.get(resource.host_slot)
        if host is not None and (cycle := power.graph.find_cycle(resource, [host])):
            return cycle
    return None


class _OfferedSwitches(EntitySelector):
    """Lists only the switches that can be chosen, but accepts any entity id:
    the form then refuses a wrong one with a translated error naming what fits,
    instead of the bare "not one of" of the selector's own check."""

    def __call__(self, data: Any) -> str | list[str]:
        return EntitySelector(EntitySelectorConfig(multiple=self.config["multiple"]))(
            data
        )


def picker(
    hass: HomeAssistant, choice: Choice, *, multiple: bool = False
) -> EntitySelector:
    """An entity selector offering only what `choice` allows."""
    return _OfferedSwitches(
        EntitySelectorConfig(
            integration=DOMAIN,
            domain="switch",
            include_entities=offered_switches(hass, choice),
            multiple=multiple,
        )
    )


def suggested_links(
    hass: HomeAssistant, entry: ConfigEntry, slots: list[str | None]
) -> dict[str | None, str | None]:
    """The entity id to pre-fill for each link: the stored one, else the proposal
    (proposals are worked out once for the whole form)."""
    registry = er.async_get(hass)
    proposed = {
        p.target.slot: p.link for p in proposals(hass) if p.entry_id == entry.entry_id
    }
    suggested: dict[str | None, str | None] = {}
    for slot in slots:
        link = stored_link(entry, slot) or proposed.get(slot)
        suggested[slot] = er.async_resolve_entity_id(registry, link) if link else None
    return suggested
