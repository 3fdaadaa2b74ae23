"""The cluster's coordinator: one `GET /cluster/resources` per poll."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
import logging
import time
from typing import Any

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant
from homeassistant.helpers import (
    device_registry as dr,
    entity_registry as er,
    issue_registry as ir,
)
from homeassistant.util import dt as dt_util

from ...api.errors import CannotConnect, ConnectionTimeout, WakeHubError
from ...api.models import ResourceStatus
from ...api.proxmox import ClusterState, ProxmoxClient, ProxmoxGuest, ProxmoxNode
from ...api.proxmox.models import counter_rate
from ...const import CONF_HOST_LINKS, DOMAIN
from ...coordinator import ClientCoordinator
from ...devices import entry_device, linked_device
from ...graph import power_switch_unique_id
from ...hosting import HostKind, KnownAs, LinkTarget, Workload, stored_link
from ...state import ResourceState
from . import const
from .const import (
    CONF_NODE,
    CONF_TYPE,
    CONF_VMID,
    SUBENTRY_GUEST,
    cluster_name,
    guest_key,
    guest_missing_issue_id,
    node_key,
)
from .guest import ProxmoxGuestResource
from .node import node_device_info
from .state import Counters, GuestState, is_hibernated, is_paused, percent

_LOGGER = logging.getLogger(__name__)

# Seconds before asking again for the addresses of a guest whose node did not
# answer in time: a node whose proxy hangs must not hold up every poll of the
# cluster by the request timeout.
ADDRESSES_RETRY = 300.0
# An uptime beyond this (seconds, a century) is a broken figure, not a boot time.
MAX_UPTIME = 100 * 365 * 86400


class ProxmoxCoordinator(ClientCoordinator[ProxmoxClient]):
    """Polls the whole cluster with one request and maps it to resource states."""

    can_reauth = True

    def __init__(
        self, hass: HomeAssistant, entry: ConfigEntry, client: ProxmoxClient
    ) -> None:
        super().__init__(hass, entry, client)
        self.cluster = cluster_name(entry)
        self.cluster_state: ClusterState | None = None
        #: Each node's address in the cluster's status (for proposing links);
        #: None until asked successfully (then {} without Sys.Audit).
        self.node_addresses: dict[str, str] | None = None
        #: Each managed guest's own addresses (for proposing links), by vmid:
        #: asked once a guest runs; [] when Proxmox cannot tell (no agent).
        self.guest_addresses: dict[int, list[str]] = {}
        #: When to ask again for a guest's addresses, by vmid (monotonic).
        self._addresses_retry: dict[int, float] = {}
        self.guests: dict[int, ProxmoxGuestResource] = {}
        subentries = entry.subentries.values()
        for subentry in (s for s in subentries if s.subentry_type == SUBENTRY_GUEST):
            vmid = int(subentry.data[CONF_VMID])
            self.guests[vmid] = ProxmoxGuestResource(
                key=guest_key(self.cluster, vmid),
                name=subentry.title,
                coordinator=self,
                entry=entry,
                subentry_id=subentry.subentry_id,
                vmid=vmid,
                guest_type=subentry.data.get(CONF_TYPE, "qemu"),
                node=str(subentry.data.get(CONF_NODE, "")),
            )
        self._guest_keys = {guest.key: guest for guest in self.guests.values()}
        self.missing: set[int] = set()
        #: Each guest's name when last found, by vmid (see guest_of).
        self._names: dict[int, str] = {}
        #: When each guest's last good backup ended (None: none found), by vmid.
        self.last_backups: dict[int, datetime | None] = {}
        self._backups_due: datetime | None = None
        self._backups_stale: set[int] = set()
        self._counters: dict[int, Counters] = {}
        self._boot_times: dict[str, datetime] = {}
        #: hosted_workloads() of one poll and one set of node links: it is
        #: asked about every resource of the entry at every poll.
        self._hosted: tuple[object, object, dict[str, list[Workload]]] | None = None

    async def _async_update_data(self) -> dict[str, ResourceState]:
        try:
            state = await self.client.fetch_state()
        except WakeHubError as err:
            raise self.poll_failed(err) from err
        self.cluster_state = state
        if self.node_addresses is None:
            await self._learn_node_addresses()
        await self._learn_guest_addresses(state)
        await self._update_last_backups(state)
        return self.states(state, time.monotonic())

    async def _learn_node_addresses(self) -> None:
        """Once: where each node is, to propose linking it to its machine."""
        try:
            self.node_addresses = await self.client.node_addresses()
        except WakeHubError as err:
            _LOGGER.debug("Node addresses of %s unknown: %s", self.cluster, err)

    async def _learn_guest_addresses(self, state: ClusterState) -> None:
        """Once per running guest: its own addresses, to propose it as the host
        of the Docker engine found there."""
        now = time.monotonic()
        todo = [
            guest
            for vmid in self.guests
            if vmid not in self.guest_addresses
            and self._addresses_retry.get(vmid, 0.0) <= now
            and (guest := self.guest_of(vmid, state)) is not None
            and guest.status == "running"
        ]
        await asyncio.gather(*(self._learn_guest_address(guest) for guest in todo))

    async def _learn_guest_address(self, guest: ProxmoxGuest) -> None:
        try:
            self.guest_addresses[guest.vmid] = await self.client.guest_addresses(guest)
        except ConnectionTimeout as err:  # its node hangs: asked again later
            _LOGGER.debug("Addresses of guest %s unknown: %s", guest.vmid, err)
            self._addresses_retry[guest.vmid] = time.monotonic() + ADDRESSES_RETRY
        except CannotConnect as err:  # asked again at the next poll
            _LOGGER.debug("Addresses of guest %s unknown: %s", guest.vmid, err)
        except WakeHubError as err:  # no guest agent: Proxmox cannot tell
            _LOGGER.debug("Addresses of guest %s unknown: %s", guest.vmid, err)
            self.guest_addresses[guest.vmid] = []

    # -- last backups (slow path) ---------------------------------------------------

    def backup_done(self, vmid: int) -> None:
        """A backup of this guest ended: read its last backup at the next poll."""
        self._backups_stale.add(vmid)

    def _shows_last_backup(self, resource: ProxmoxGuestResource) -> bool:
        """Its last-backup sensor exists and is enabled (disabled by default)."""
        registry = er.async_get(self.hass)
        entity_id = registry.async_get_entity_id(
            "sensor", DOMAIN, f"{resource.key}_last_backup"
        )
        entry = registry.async_get(entity_id) if entity_id else None
        return entry is not None and not entry.disabled

    async def _update_last_backups(self, state: ClusterState) -> None:
        """Every BACKUP_INTERVAL, after a backup, or when a sensor is new: one
        task-list request per guest whose sensor is shown and whose node is up."""
        now = dt_util.utcnow()
        due = self._backups_due is None or now >= self._backups_due
        if due:
            self._backups_due = now + const.BACKUP_INTERVAL
        todo = [
            guest
            for vmid, resource in self.guests.items()
            if (guest := self.guest_of(vmid, state)) is not None
            and guest.status != "unknown"  # its node is offline
            and (due or vmid in self._backups_stale or vmid not in self.last_backups)
            and self._shows_last_backup(resource)
        ]
        await asyncio.gather(*(self._read_last_backup(guest) for guest in todo))

    async def _read_last_backup(self, guest: ProxmoxGuest) -> None:
        self._backups_stale.discard(guest.vmid)
        try:
            end = await self.client.last_backup(guest)
        except WakeHubError as err:
            # Keep what was known; the next slow cycle asks again.
            _LOGGER.debug("Last backup of %s unknown: %s", guest.vmid, err)
            self.last_backups.setdefault(guest.vmid, None)
            return
        try:
            when = datetime.fromtimestamp(end, UTC) if end else None
        except OverflowError, OSError, ValueError:  # a broken time: none known
            when = None
        self.last_backups[guest.vmid] = when

    def states(self, state: ClusterState, now: float) -> dict[str, ResourceState]:
        """Resource states of one poll (pure mapping; also used by the benchmark)."""
        data: dict[str, ResourceState] = {
            node_key(self.cluster, node.name): self._node_state(node)
            for node in state.nodes.values()
        }
        for vmid, resource in self.guests.items():
            guest = self.guest_of(vmid, state)
            if guest is None:
                self._guest_missing(resource)
                continue
            self._guest_found(resource, guest)
            data[resource.key] = self._guest_state(guest, now)
        return data

    def guest_of(
        self, vmid: int, state: ClusterState | None = None
    ) -> ProxmoxGuest | None:
        """The managed guest `vmid` in `state` (the last poll by default).

        None when absent, or when that vmid now holds another guest, which
        WakeHub must neither show nor power: one of the other type (a container
        never becomes a VM), or one named otherwise that appeared after the
        chosen guest went missing (deleted, and Proxmox gave its vmid to the
        next guest created; a rename does not make a guest vanish).
        """
        state = self.cluster_state if state is None else state
        resource = self.guests.get(vmid)
        guest = state.guests.get(vmid) if state is not None else None
        if guest is None or resource is None or guest.type != resource.guest_type:
            return None
        if (
            vmid in self.missing
            and guest.status != "unknown"  # its node is offline: no name is given
            and guest.name != self._names.get(vmid, guest.name)
        ):
            return None
        return guest

    def one_reader(self, key: str) -> Callable[[], Awaitable[ResourceState]] | None:
        """A guest alone: its status/current (nodes change with the cluster)."""
        if (resource := self._guest_keys.get(key)) is None:
            return None

        async def read() -> ResourceState:
            guest = await self.client.current(resource.ref)
            if (cluster := self.cluster_state) is not None:
                # What runs on each node is read from it (hosted_workloads).
                guests = {**cluster.guests, guest.vmid: guest}
                self.cluster_state = replace(cluster, guests=guests)
            return self._guest_state(guest, time.monotonic())

        return read

    def hosted_workloads(self) -> Mapping[str, Sequence[Workload]]:
        """Every guest that is not stopped, per node, under what powers the node.

        That is the node's machine when linked, else the node's own power switch
        (so a node without a machine is never released while a guest runs on
        it). Templates never run. A guest whose node is offline reports
        "unknown": it counts, since nobody can say it is stopped.
        """
        links: Mapping[str, Any] = self.config_entry.options.get(CONF_HOST_LINKS) or {}
        nodes = self.cluster_state.nodes if self.cluster_state else {}
        powered_by = [
            (node, self.node_host_link(node))
            for node in sorted({*map(str, links), *nodes})
        ]
        if (cached := self._hosted) is not None and (
            cached[0] is self.cluster_state and cached[1] == powered_by
        ):
            return cached[2]
        guests = self.cluster_state.guests.values() if self.cluster_state else ()
        hosted: dict[str, list[Workload]] = {}
        for node, link in powered_by:
            if link is None:
                continue
            hosted.setdefault(link, []).extend(
                Workload(
                    guest.name or f"{guest.type} {guest.vmid}",
                    self.guests[guest.vmid].key
                    if self.guest_of(guest.vmid) is guest
                    else None,
                )
                for guest in guests
                if guest.node == node
                and not guest.template
                and guest.status != "stopped"
            )
        self._hosted = (self.cluster_state, powered_by, hosted)
        return hosted

    def link_targets(self) -> Sequence[LinkTarget]:
        """Each node: a physical machine, known by its name and cluster address."""
        nodes = self.cluster_state.nodes if self.cluster_state else {}
        return [
            LinkTarget(
                slot=node,
                name=node,
                known_as=KnownAs.of(
                    addresses=[(self.node_addresses or {}).get(node)], names=[node]
                ),
                accepts=frozenset({HostKind.MACHINE}),
            )
            for node in sorted(nodes)
        ]

    # -- mapping -------------------------------------------------------------------

    def _node_state(self, node: ProxmoxNode) -> ResourceState:
        # An offline node is usually a node that is powered off (home labs).
        if not node.online:
            self._boot_times.pop(node.name, None)
            return ResourceState(status=ResourceStatus.STOPPED)
        return ResourceState(
            status=ResourceStatus.RUNNING,
            cpu=percent(node.cpu, 1),
            memory=percent(node.mem, node.maxmem),
            boot_time=self._boot_time(f"node/{node.name}", node.uptime),
        )

    def _guest_state(self, guest: ProxmoxGuest, now: float) -> ResourceState:
        running = guest.status == "running"
        previous = self._counters.get(guest.vmid)
        self._counters[guest.vmid] = Counters(now, guest.netin, guest.netout)
        network_in = network_out = None
        if previous is not None and running:
            seconds = now - previous.at
            network_in = counter_rate(previous.netin, guest.netin, seconds)
            network_out = counter_rate(previous.netout, guest.netout, seconds)
        known = guest.status != "unknown"  # its node is offline: nothing is known
        paused = is_paused(guest)
        return GuestState(
            status=guest.resource_status,
            powered=running,
            dormant=paused or is_hibernated(guest),
            node_offline=not known,
            cpu=percent(guest.cpu, 1) if running else (0.0 if known else None),
            memory=percent(guest.mem, guest.maxmem) if known else None,
            disk=percent(guest.disk, guest.maxdisk) if known else None,
            network_in=network_in,
            network_out=network_out,
            # Paused, it has not rebooted: its boot time stays.
            boot_time=self._boot_time(
                f"guest/{guest.vmid}", guest.uptime if running or paused else None
            ),
            vmid=guest.vmid,
            guest_type=guest.type,
            node=guest.node,
            lock=guest.lock,
            last_backup=self.last_backups.get(guest.vmid),
        )

    def _boot_time(self, key: str, uptime: int | None) -> datetime | None:
        """Boot time from the uptime, steady across polls so it does not flap.

        An absurd uptime (negative, or beyond any date) is no boot time: one
        guest's broken figure must not fail the whole cluster's poll.
        """
        if not uptime or not 0 < uptime <= MAX_UPTIME:
            self._boot_times.pop(key, None)
            return None
        boot = dt_util.utcnow() - timedelta(seconds=uptime)
        known = self._boot_times.get(key)
        if (
            known is None
            or abs((boot - known).total_seconds()) > const.BOOT_TIME_TOLERANCE
        ):
            known = self._boot_times[key] = boot.replace(microsecond=0)
        return known

    # -- guests that move or vanish ------------------------------------------------

    def _guest_found(self, resource: ProxmoxGuestResource, guest: ProxmoxGuest) -> None:
        if guest.status != "unknown":  # its node answers: the name is its own
            self._names[guest.vmid] = guest.name
        if guest.vmid in self.missing:
            self.missing.discard(guest.vmid)
            ir.async_delete_issue(
                self.hass, DOMAIN, guest_missing_issue_id(self.config_entry, guest.vmid)
            )
        if guest.node and guest.node != resource.node:
            _LOGGER.debug(
                "%s moved from %s to %s", resource.name, resource.node, guest.node
            )
            resource.node = guest.node
            self._move_device(resource)
            self._remember_node(resource)

    def _remember_node(self, resource: ProxmoxGuestResource) -> None:
        """Store where the guest runs now: after a restart while the cluster
        sleeps, the cascade must wake the machine of its new node, not the one
        it was added on."""
        entry = self.config_entry
        subentry = entry.subentries.get(resource.subentry_id or "")
        if subentry is None or subentry.data.get(CONF_NODE) == resource.node:
            return
        self.hass.config_entries.async_update_subentry(
            entry, subentry, data={**subentry.data, CONF_NODE: resource.node}
        )

    def _move_device(self, resource: ProxmoxGuestResource) -> None:
        """Keep the guest's device under the node it now runs on."""
        device = entry_device(self.hass, self.config_entry.entry_id, resource.key)
        if device is None:
            return
        dr.async_get(self.hass).async_update_device(
            device.id, via_device_id=self.node_device(resource.node).id
        )

    def machine_link(self, node: str) -> str | None:
        """The power switch (registry id) of the machine linked to `node`, if any."""
        return stored_link(self.config_entry, node)

    def node_host_link(self, node: str) -> str | None:
        """The power switch (registry id) that powers `node`, and so its guests.

        Its machine's when the user linked one; else the node's own switch,
        powered through the cluster (None until that switch is registered).
        """
        if (link := self.machine_link(node)) is not None:
            return link
        registry = er.async_get(self.hass)
        entity_id = registry.async_get_entity_id(
            "switch", DOMAIN, power_switch_unique_id(node_key(self.cluster, node))
        )
        switch = registry.async_get(entity_id) if entity_id else None
        return switch.id if switch else None

    def machine_device(self, node: str) -> dr.DeviceEntry | None:
        """The device of the machine the user linked this node to, if any."""
        return linked_device(self.hass, self.machine_link(node))

    def node_device(self, node: str) -> dr.DeviceEntry:
        """The device showing a node: its machine's, else its own (made if new)."""
        if (machine := self.machine_device(node)) is not None:
            return machine
        return dr.async_get(self.hass).async_get_or_create(
            config_entry_id=self.config_entry.entry_id,
            **node_device_info(self.config_entry, self.cluster, node),
        )

    def _guest_missing(self, resource: ProxmoxGuestResource) -> None:
        """Deleted in Proxmox (or hidden from the token): a repair issue, not a
        failed entry; its entities are unavailable until it reappears."""
        if resource.vmid in self.missing:
            return
        self.missing.add(resource.vmid)
        ir.async_create_issue(
            self.hass,
            DOMAIN,
            guest_missing_issue_id(self.config_entry, resource.vmid),
            is_fixable=False,
            is_persistent=False,
            severity=ir.IssueSeverity.WARNING,
            translation_key="proxmox_guest_missing",
            translation_placeholders={
                "name": resource.name,
                "vmid": str(resource.vmid),
                "cluster": self.config_entry.title,
            },
        )
