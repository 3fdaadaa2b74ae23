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
"""

from __future__ import annotations

from dataclasses import dataclass

from homeassistant.config_entries import ConfigEntry, ConfigEntryState
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import issue_registry as ir
from homeassistant.util.hass_dict import HassKey

from .const import DOMAIN
from .hosting import KnownAs, LinkTarget, stored_link
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


def proposal_for(
    hass: HomeAssistant, entry: ConfigEntry, slot: str | None
) -> Proposal | None:
    """The link proposed for one part of an entry, if any."""
    return next(
        (
            p
            for p in proposals(hass)
            if p.entry_id == entry.entry_id and p.target.slot == slot
        ),
        None,
    )


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
