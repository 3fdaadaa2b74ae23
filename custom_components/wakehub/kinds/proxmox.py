"""Proxmox VE: one entry per cluster (or standalone host), one subentry per guest.

Every poll is ONE `GET /cluster/resources`, which lists every node and guest of
the cluster; guests are found by vmid, so a migrated guest is simply seen on its
new node (and its device moves under that node's device). Actions return a UPID
that is followed until the task ends, so a failure reaches the user in Proxmox's
own words ("VM is locked (backup)").

Resource keys: guests `{cluster}_{vmid}`, nodes `{cluster}_{node}`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
import logging
import time
from typing import Any, Final

from homeassistant.config_entries import (
    SIGNAL_CONFIG_ENTRY_CHANGED,
    ConfigEntry,
    ConfigEntryChange,
)
from homeassistant.const import CONF_PASSWORD, CONF_URL, CONF_USERNAME, CONF_VERIFY_SSL
from homeassistant.core import HomeAssistant, callback
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers import (
    device_registry as dr,
    entity_registry as er,
    issue_registry as ir,
)
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.helpers.device_registry import DeviceInfo
from homeassistant.helpers.dispatcher import async_dispatcher_connect
from homeassistant.util import dt as dt_util

from ..action_errors import update_failed
from ..api.backoff import FIRST_DELAY
from ..api.errors import (
    ApiError,
    CannotConnect,
    CertificateError,
    InvalidResponse,
    WakeHubError,
)
from ..api.models import ResourceStatus
from ..api.proxmox import (
    ActionNotSupported,
    BackupCompress,
    BackupMode,
    ClusterState,
    GuestRef,
    GuestType,
    InvalidSnapshotName,
    ProxmoxClient,
    ProxmoxGuest,
    ProxmoxNode,
    TaskTimeout,
    counter_rate,
    upid_node,
    validate_snapshot_name,
)
from ..const import CONF_HOST_LINKS, CONF_STOP_WITH_DEPENDENTS, DOMAIN
from ..coordinator import WakeHubCoordinator, async_first_refresh
from ..devices import async_place_resource, entry_device, linked_device, via
from ..graph import power_switch_unique_id
from ..hosting import HostKind, KnownAs, LinkTarget, Workload, stored_link
from ..naming import Noun
from ..resource import (
    Resource,
    ResourceFeature,
    ResourceState,
    Snapshot,
    safety_snapshot_name,
)
from ..runtime import WakeHubRuntimeData

_LOGGER = logging.getLogger(__name__)

# Entry data keys (DESIGN.md names the form fields; the rest is ours).
CONF_TOKEN_ID: Final = "token_id"
CONF_TOKEN_SECRET: Final = "token_secret"
CONF_FINGERPRINT: Final = "fingerprint"  # pinned SHA-256 of the certificate
CONF_CLUSTER: Final = "cluster"  # cluster name, or node name of a standalone host
CONF_NODES: Final = "nodes"  # node names seen at setup (options form)
# Subentry data keys of a guest.
CONF_VMID: Final = "vmid"
CONF_TYPE: Final = "type"
CONF_NODE: Final = "node"
CONF_NAME: Final = "name"
SUBENTRY_GUEST: Final = "guest"
# How a qemu guest is stopped (subentry data; LXC containers always shut down).
CONF_STOP_METHOD: Final = "stop_method"
STOP_SHUTDOWN: Final = "shutdown"  # ACPI shutdown; the next start boots cold
STOP_HIBERNATE: Final = "hibernate"  # RAM saved to disk; the next start restores it
STOP_PAUSE: Final = "pause"  # frozen in the node's RAM; resumed at once
STOP_METHODS: Final = (STOP_SHUTDOWN, STOP_HIBERNATE, STOP_PAUSE)

# Seconds a poll's request may take before the cluster is reported unreachable.
REQUEST_TIMEOUT = 10.0
# How often a Proxmox task (UPID) is read at first while an action waits for
# it; reads then slow down, by the rule every platform shares (api/backoff.py).
TASK_POLL_INTERVAL = FIRST_DELAY
# How long a backup may run before the action stops waiting (it goes on in Proxmox).
BACKUP_TIMEOUT = 3600.0
# The last-backup sensors are read on a slow path: this often, and after a
# backup WakeHub ran; only for guests whose sensor is enabled.
BACKUP_INTERVAL = timedelta(minutes=15)
# The boot time is recomputed from the uptime each poll; drift below this is noise.
BOOT_TIME_TOLERANCE = 60


def guest_key(cluster: str, vmid: int) -> str:
    return f"{cluster}_{vmid}"


def node_key(cluster: str, node: str) -> str:
    return f"{cluster}_{node}"


def certificate_issue_id(entry: ConfigEntry) -> str:
    return f"proxmox_certificate_changed_{entry.entry_id}"


def guest_missing_issue_id(entry: ConfigEntry, vmid: int) -> str:
    return f"proxmox_guest_missing_{entry.entry_id}_{vmid}"


def build_client(
    hass: HomeAssistant, data: dict[str, Any], *, request_timeout: float
) -> ProxmoxClient:
    """The client for entry (or flow) data; token wins over password."""
    verify_ssl = bool(data.get(CONF_VERIFY_SSL, True))
    token = bool(data.get(CONF_TOKEN_ID) and data.get(CONF_TOKEN_SECRET))
    return ProxmoxClient(
        async_get_clientsession(hass, verify_ssl=verify_ssl),
        data[CONF_URL],
        username=data[CONF_USERNAME],
        token_id=data.get(CONF_TOKEN_ID) if token else None,
        token_secret=data.get(CONF_TOKEN_SECRET) if token else None,
        password=None if token else data.get(CONF_PASSWORD),
        verify_ssl=verify_ssl,
        fingerprint=data.get(CONF_FINGERPRINT) if verify_ssl else None,
        request_timeout=request_timeout,
    )


def cluster_name(entry: ConfigEntry) -> str:
    return str(entry.data.get(CONF_CLUSTER) or entry.unique_id or entry.entry_id)


async def async_setup_kind(
    hass: HomeAssistant, entry: ConfigEntry
) -> WakeHubRuntimeData:
    client = build_client(hass, dict(entry.data), request_timeout=REQUEST_TIMEOUT)
    coordinator = ProxmoxCoordinator(hass, entry, client)
    links = entry.options.get(CONF_HOST_LINKS) or {}
    await async_first_refresh(coordinator, may_be_off=any(links.values()))
    cluster = coordinator.cluster
    if coordinator.cluster_state is not None:
        node_names = set(coordinator.cluster_state.nodes)
    else:
        # The cluster is off: its nodes are those the user linked to machines
        # and those the chosen guests were last seen on.
        node_names = {str(n) for n in links} | {
            g.node for g in coordinator.guests.values() if g.node
        }
    resources: list[Resource] = []
    for name in sorted(node_names):
        node = ProxmoxNodeResource(
            key=node_key(cluster, name),
            name=name,
            coordinator=coordinator,
            entry=entry,
            powered=coordinator.machine_link(name) is None,
        )
        # A node linked to a machine is that machine: shown on its device.
        node.shown_on = coordinator.machine_device(name)
        if not node.features:
            _drop_power_entities(hass, node)
        async_place_resource(hass, node)
        resources.append(node)
    resources.extend(coordinator.guests.values())

    subentry_ids = {r.subentry_id for r in coordinator.guests.values()}

    @callback
    def reload_on_new_guests(change: ConfigEntryChange, changed: ConfigEntry) -> None:
        """A guest subentry was added or removed: set the entry up again."""
        if change is not ConfigEntryChange.UPDATED or changed is not entry:
            return
        current = {
            s.subentry_id
            for s in entry.subentries.values()
            if s.subentry_type == SUBENTRY_GUEST
        }
        if current != subentry_ids:
            hass.config_entries.async_schedule_reload(entry.entry_id)

    entry.async_on_unload(
        async_dispatcher_connect(
            hass, SIGNAL_CONFIG_ENTRY_CHANGED, reload_on_new_guests
        )
    )

    async def clear_issues() -> None:
        # Raised again at the next poll if the guest is still missing.
        for vmid in coordinator.missing:
            ir.async_delete_issue(hass, DOMAIN, guest_missing_issue_id(entry, vmid))

    return WakeHubRuntimeData(
        coordinator=coordinator, resources=resources, on_unload=[clear_issues]
    )


def _drop_power_entities(hass: HomeAssistant, node: ProxmoxNodeResource) -> None:
    """A node now linked to a machine is powered by it: the switch, buttons and
    power sensors it had without one are removed; its figures stay."""
    registry = er.async_get(hass)
    prefix = f"{node.key}_"
    figures = {f"{prefix}{key}" for key in node.sensors}
    for entity in er.async_entries_for_config_entry(registry, node.entry.entry_id):
        if (
            entity.config_subentry_id is None
            and entity.unique_id.startswith(prefix)
            and entity.unique_id not in figures
        ):
            registry.async_remove(entity.entity_id)


@dataclass(frozen=True, kw_only=True)
class GuestState(ResourceState):
    """A guest's state; `powered` says whether it runs, whatever it goes through.

    A VM being backed up shows `backuping` on its status sensor but is running:
    its power switch stays on. A `dormant` guest (paused in RAM or hibernated to
    disk) shows `paused` but serves nothing: its switch is off, and a stop has
    reached its end.
    """

    powered: bool = False
    dormant: bool = False

    @property
    def is_running(self) -> bool:
        return self.powered

    @property
    def is_stopped(self) -> bool:
        return self.status is ResourceStatus.STOPPED or self.dormant


@dataclass
class _Counters:
    """A guest's network counters at one poll, for rates between two polls."""

    at: float
    netin: int | None
    netout: int | None


class ProxmoxCoordinator(WakeHubCoordinator):
    """Polls the whole cluster with one request and maps it to resource states."""

    def __init__(
        self, hass: HomeAssistant, entry: ConfigEntry, client: ProxmoxClient
    ) -> None:
        super().__init__(hass, entry)
        self.client = client
        self.cluster = cluster_name(entry)
        self.cluster_state: ClusterState | None = None
        #: Each node's address in the cluster's status (for proposing links);
        #: None until asked successfully (then {} without Sys.Audit).
        self.node_addresses: dict[str, str] | None = None
        #: Each managed guest's own addresses (for proposing links), by vmid:
        #: asked once a guest runs; [] when Proxmox cannot tell (no agent).
        self.guest_addresses: dict[int, list[str]] = {}
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
        self.missing: set[int] = set()
        #: When each guest's last good backup ended (None: none found), by vmid.
        self.last_backups: dict[int, datetime | None] = {}
        self._backups_due: datetime | None = None
        self._backups_stale: set[int] = set()
        self._counters: dict[int, _Counters] = {}
        self._boot_times: dict[str, datetime] = {}
        #: hosted_workloads() of one poll and one set of node links: it is
        #: asked about every resource of the entry at every poll.
        self._hosted: tuple[object, object, dict[str, list[Workload]]] | None = None

    async def _async_update_data(self) -> dict[str, ResourceState]:
        try:
            state = await self.client.fetch_state()
        except WakeHubError as err:
            if isinstance(err, CertificateError):
                self._raise_certificate_issue(err)
            raise update_failed(err, self.config_entry.title, can_reauth=True) from err
        ir.async_delete_issue(
            self.hass, DOMAIN, certificate_issue_id(self.config_entry)
        )
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
        todo = [
            guest
            for vmid in self.guests
            if vmid not in self.guest_addresses
            and (guest := state.guests.get(vmid)) is not None
            and guest.status == "running"
        ]
        await asyncio.gather(*(self._learn_guest_address(guest) for guest in todo))

    async def _learn_guest_address(self, guest: ProxmoxGuest) -> None:
        try:
            self.guest_addresses[guest.vmid] = await self.client.guest_addresses(guest)
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
            self._backups_due = now + BACKUP_INTERVAL
        todo = [
            guest
            for vmid, resource in self.guests.items()
            if (guest := state.guests.get(vmid)) is not None
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
        self.last_backups[guest.vmid] = (
            datetime.fromtimestamp(end, UTC) if end else None
        )

    def states(self, state: ClusterState, now: float) -> dict[str, ResourceState]:
        """Resource states of one poll (pure mapping; also used by the benchmark)."""
        data: dict[str, ResourceState] = {
            node_key(self.cluster, node.name): self._node_state(node)
            for node in state.nodes.values()
        }
        for vmid, resource in self.guests.items():
            guest = state.guests.get(vmid)
            if guest is None:
                self._guest_missing(resource)
                continue
            self._guest_found(resource, guest)
            data[resource.key] = self._guest_state(guest, now)
        return data

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
                    self.guests[guest.vmid].key if guest.vmid in self.guests else None,
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
            cpu=_percent(node.cpu, 1),
            memory=_percent(node.mem, node.maxmem),
            boot_time=self._boot_time(f"node/{node.name}", node.uptime),
        )

    def _guest_state(self, guest: ProxmoxGuest, now: float) -> ResourceState:
        running = guest.status == "running"
        previous = self._counters.get(guest.vmid)
        self._counters[guest.vmid] = _Counters(now, guest.netin, guest.netout)
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
            cpu=_percent(guest.cpu, 1) if running else (0.0 if known else None),
            memory=_percent(guest.mem, guest.maxmem) if known else None,
            disk=_percent(guest.disk, guest.maxdisk) if known else None,
            network_in=network_in,
            network_out=network_out,
            # Paused, it has not rebooted: its boot time stays.
            boot_time=self._boot_time(
                f"guest/{guest.vmid}", guest.uptime if running or paused else None
            ),
            extra={"last_backup": self.last_backups.get(guest.vmid)},
            attributes={
                "status": {
                    "vmid": guest.vmid,
                    "type": guest.type,
                    "node": guest.node,
                    "lock": guest.lock,
                }
            },
        )

    def _boot_time(self, key: str, uptime: int | None) -> datetime | None:
        """Boot time from the uptime, steady across polls so it does not flap."""
        if not uptime:
            self._boot_times.pop(key, None)
            return None
        boot = dt_util.utcnow() - timedelta(seconds=uptime)
        known = self._boot_times.get(key)
        if known is None or abs((boot - known).total_seconds()) > BOOT_TIME_TOLERANCE:
            known = self._boot_times[key] = boot.replace(microsecond=0)
        return known

    # -- guests that move or vanish ------------------------------------------------

    def _guest_found(self, resource: ProxmoxGuestResource, guest: ProxmoxGuest) -> None:
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
            **ProxmoxNodeResource.node_device_info(self.cluster, node),
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

    def _raise_certificate_issue(self, err: CertificateError) -> None:
        ir.async_create_issue(
            self.hass,
            DOMAIN,
            certificate_issue_id(self.config_entry),
            is_fixable=False,
            is_persistent=False,
            severity=ir.IssueSeverity.ERROR,
            translation_key="proxmox_certificate_changed",
            translation_placeholders={
                "name": self.config_entry.title,
                "fingerprint": err.fingerprint or "?",
                "pinned": str(self.config_entry.data.get(CONF_FINGERPRINT) or "-"),
            },
        )


def is_paused(guest: ProxmoxGuest) -> bool:
    """Frozen in RAM. /cluster/resources gives a live VM's QEMU run state as its
    status: `paused`, or `suspended` when the guest itself went to sleep."""
    return guest.status in ("paused", "suspended")


def is_hibernated(guest: ProxmoxGuest) -> bool:
    """Suspended to disk: stopped, its saved RAM waiting for the next start."""
    return guest.status == "stopped" and guest.lock == "suspended"


def _percent(value: float | None, total: float | None) -> float | None:
    if value is None or not total:
        return None
    return round(100.0 * value / total, 2)


class ProxmoxNodeResource(Resource):
    """A cluster node: a device with figures, and power.

    A node linked to a WakeHub machine is powered through that machine (and
    shown on its device). A node without a machine is powered through the
    cluster: shut down and rebooted by its own API, woken by another running
    node's Wake-on-LAN, which reaches it even when Home Assistant sits on
    another network.
    """

    sensors = frozenset({"status", "cpu", "memory", "uptime"})
    # "Proxmox CPU": on its machine's device it sits beside the machine's "CPU",
    # and a node named like its machine gets no "_2" entity ids before linking.
    translation_prefix = "node_"
    starting_text = "waking"
    noun = Noun.PROXMOX_NODE
    # Its wake is a request to the cluster's API: waiting for that API to come
    # back is pointless when no other node runs to serve it.
    woken_by_its_server = True

    def __init__(self, *, powered: bool, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.features = (
            ResourceFeature.POWER | ResourceFeature.REBOOT
            if powered
            else ResourceFeature(0)
        )

    @staticmethod
    def node_device_info(cluster: str, node: str) -> DeviceInfo:
        return DeviceInfo(
            identifiers={(DOMAIN, node_key(cluster, node))},
            name=node,
            manufacturer="Proxmox Server Solutions",
            model="Proxmox VE node",
        )

    @property
    def device_info(self) -> DeviceInfo:
        assert isinstance(self.coordinator, ProxmoxCoordinator)
        return self.node_device_info(self.coordinator.cluster, self.name)

    @property
    def settings(self) -> Mapping[str, Any]:
        """The entry's options; a node is not stopped with its dependents unless
        they say so: turning off a guest must not power a whole host off that
        nobody linked to a machine (and whose Wake-on-LAN may not be set up)."""
        return {CONF_STOP_WITH_DEPENDENTS: False, **self.entry.options}

    @property
    def client(self) -> ProxmoxClient:
        assert isinstance(self.coordinator, ProxmoxCoordinator)
        return self.coordinator.client

    async def async_stop(self) -> None:
        """Its guests are shut down by Proxmox first; then it powers off."""
        await self.client.node_command(self.name, "shutdown")

    async def async_reboot(self) -> None:
        await self.client.node_command(self.name, "reboot")

    async def async_start(self) -> None:
        """Ask the node answering the API to send this node's magic packet."""
        cluster = self.entry.title
        placeholders = {"name": self.name, "cluster": cluster}
        try:
            state = await self.client.fetch_state()
        except WakeHubError as err:
            # Nothing answers for the cluster (a standalone host that is off).
            raise HomeAssistantError(
                translation_domain=DOMAIN,
                translation_key="proxmox_wake_unreachable",
                translation_placeholders={**placeholders, "message": str(err)},
            ) from err
        if not any(n.online for n in state.nodes.values() if n.name != self.name):
            raise HomeAssistantError(
                translation_domain=DOMAIN,
                translation_key="proxmox_no_peer",
                translation_placeholders=placeholders,
            )
        try:
            await self.client.wake_node(self.name)
        except InvalidResponse:
            raise
        except ApiError as err:
            # Typically no `wakeonlan` MAC in the node's config: Proxmox's
            # words, and how to set it.
            raise HomeAssistantError(
                translation_domain=DOMAIN,
                translation_key="proxmox_wake_failed",
                translation_placeholders={**placeholders, "message": err.message},
            ) from err


# The power manager's timeout message for these actions (others: the task's own).
# A hibernation that outlives the timeout goes on writing the RAM: no "force stop".
_REASONS: Final = {
    "start": "start",
    "resume": "start",
    "shutdown": "stop",
    "reboot": "reboot",
}
_COMPRESS: Final[dict[str, BackupCompress]] = {
    "zstd": "zstd",
    "gzip": "gzip",
    "lzo": "lzo",
    "0": "0",
}


class ProxmoxGuestResource(Resource):
    """A qemu VM or LXC container, found by vmid wherever it runs."""

    # async_reboot follows Proxmox's reboot task to its end.
    reboot_completes_task = True

    sensors = frozenset(
        {
            "status",
            "cpu",
            "memory",
            "disk",
            "network_in",
            "network_out",
            "uptime",
            "last_backup",
        }
    )

    def __init__(
        self,
        *,
        vmid: int,
        guest_type: GuestType,
        node: str,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.vmid = vmid
        self.guest_type: GuestType = "lxc" if guest_type == "lxc" else "qemu"
        self.node = node
        self.features = (
            ResourceFeature.POWER
            | ResourceFeature.REBOOT
            | ResourceFeature.FORCE_STOP
            | ResourceFeature.SNAPSHOTS
            | ResourceFeature.BACKUP
        )
        if self.guest_type == "qemu":
            self.features |= ResourceFeature.RESET
        self.starting_text = (
            "starting_vm" if self.guest_type == "qemu" else "starting_lxc"
        )
        self.noun = Noun.VM if self.guest_type == "qemu" else Noun.LXC
        self.host_kind = HostKind.GUEST

    @property
    def client(self) -> ProxmoxClient:
        assert isinstance(self.coordinator, ProxmoxCoordinator)
        return self.coordinator.client

    @property
    def host_link_id(self) -> str | None:
        """What powers the node this guest runs on now (it may migrate): the
        node's machine, else the node itself."""
        assert isinstance(self.coordinator, ProxmoxCoordinator)
        return self.coordinator.node_host_link(self.node)

    @property
    def ref(self) -> GuestRef:
        """Where the guest was last seen (the client follows it if it moved)."""
        return GuestRef(node=self.node, type=self.guest_type, vmid=self.vmid)

    def known_as(self) -> KnownAs:
        """Its name, and its own addresses once Proxmox told them."""
        assert isinstance(self.coordinator, ProxmoxCoordinator)
        addresses = self.coordinator.guest_addresses.get(self.vmid, [])
        return KnownAs.of(addresses=addresses, names=[self.name])

    @property
    def device_info(self) -> DeviceInfo:
        assert isinstance(self.coordinator, ProxmoxCoordinator)
        return DeviceInfo(
            identifiers={(DOMAIN, self.key)},
            name=self.name,
            manufacturer="Proxmox Server Solutions",
            model="QEMU virtual machine"
            if self.guest_type == "qemu"
            else "LXC container",
            serial_number=str(self.vmid),
            **via(self.coordinator.node_device(self.node)),
        )

    # -- power -----------------------------------------------------------------------

    @property
    def stop_method(self) -> str:
        """How the switch's off and auto-shutdown stop it: the user's choice for a
        qemu VM; an LXC container always shuts down."""
        method = self.settings.get(CONF_STOP_METHOD)
        if self.guest_type == "qemu" and method in STOP_METHODS:
            return str(method)
        return STOP_SHUTDOWN

    async def async_start(self) -> None:
        # What Proxmox reports decides, not the stop method: a VM paused by hand
        # (or before the method changed) wakes too. Proxmox refuses to start a
        # paused VM (it runs); a hibernated one starts normally and Proxmox
        # restores its saved RAM.
        if self._is_paused():
            await self._run("resume", self.client.resume)
        else:
            await self._run("start", self.client.start)

    async def async_stop(self) -> None:
        method = self.stop_method
        if method == STOP_HIBERNATE:
            await self._run("hibernate", self.client.hibernate)
        elif method == STOP_PAUSE:
            await self._run("pause", self.client.pause)
        else:
            await self._run("shutdown", self.client.shutdown)

    def _is_paused(self) -> bool:
        """Paused in RAM at the last poll."""
        assert isinstance(self.coordinator, ProxmoxCoordinator)
        state = self.coordinator.cluster_state
        guest = state.guests.get(self.vmid) if state is not None else None
        return guest is not None and is_paused(guest)

    async def async_reboot(self) -> None:
        await self._run("reboot", self.client.reboot)

    async def async_force_stop(self) -> None:
        await self._run("stop", self.client.stop)

    async def async_reset(self) -> None:
        await self._run("reset", self.client.reset)

    async def _run(self, action: str, send: Callable[[GuestRef], Any]) -> None:
        """Send the action and follow its task; Proxmox's failure text is raised."""
        try:
            upid: str = await send(self.ref)
        except ActionNotSupported as err:
            raise ServiceValidationError(
                translation_domain=DOMAIN,
                translation_key="proxmox_action_not_supported",
                translation_placeholders={"name": self.name, "message": str(err)},
            ) from err
        await self._follow(upid, _REASONS.get(action))

    async def _follow(
        self, upid: str, action: str | None = None, timeout: float | None = None
    ) -> None:
        """Wait for the task; a task still running at the deadline is explained."""
        timeout = self.timeout if timeout is None else timeout
        try:
            await self.client.wait_for_task(
                upid_node(upid), upid, timeout=timeout, interval=TASK_POLL_INTERVAL
            )
        except TaskTimeout as err:
            # A shutdown the guest ignores: the power manager's message suggests
            # force stop; other actions say the task goes on in Proxmox.
            raise HomeAssistantError(
                translation_domain=DOMAIN,
                translation_key=f"{action}_timeout"
                if action
                else "proxmox_task_timeout",
                translation_placeholders={
                    "name": self.name,
                    "timeout": str(round(timeout)),
                },
            ) from err

    # -- snapshots -------------------------------------------------------------------

    def _snapshot_name(self, name: str | None) -> str:
        try:
            return validate_snapshot_name(name or "")
        except InvalidSnapshotName as err:
            raise ServiceValidationError(
                translation_domain=DOMAIN,
                translation_key="proxmox_invalid_snapshot_name",
                translation_placeholders={"name": self.name, "snapshot": name or ""},
            ) from err

    async def async_create_snapshot(
        self, name: str | None, description: str | None, include_ram: bool
    ) -> None:
        snapshot = self._snapshot_name(name)
        if include_ram and self.guest_type == "lxc":
            raise ServiceValidationError(
                translation_domain=DOMAIN,
                translation_key="proxmox_lxc_no_ram",
                translation_placeholders={"name": self.name},
            )
        upid = await self.client.create_snapshot(
            self.ref, snapshot, description or "", include_ram=include_ram
        )
        await self._follow(upid)

    async def async_list_snapshots(self) -> list[Snapshot]:
        return [
            Snapshot(
                name=s.name,
                description=s.description or None,
                time=datetime.fromtimestamp(s.snaptime, UTC) if s.snaptime else None,
                parent=s.parent,
                include_ram=s.vmstate,
            )
            for s in await self.client.list_snapshots(self.ref)
        ]

    async def async_restore_snapshot(
        self, name: str | None, *, snapshot_first: bool = False
    ) -> None:
        snapshot = self._snapshot_name(name)
        # A name that does not exist is left to Proxmox's own refusal below,
        # without a snapshot taken for nothing.
        if snapshot_first and any(
            s.name == snapshot for s in await self.client.list_snapshots(self.ref)
        ):
            await self.async_take_safety_snapshot("restore_snapshot", "restore")
        upid = await self.client.rollback_snapshot(self.ref, snapshot)
        await self._follow(upid)

    async def async_snapshot_before(self, action: str, word: str) -> None:
        name = safety_snapshot_name(word, dt_util.utcnow())
        upid = await self.client.create_snapshot(
            self.ref, name, f"Taken by WakeHub before {action}"
        )
        # TaskTimeout and TaskFailed reach async_take_safety_snapshot as they are.
        await self.client.wait_for_task(
            upid_node(upid), upid, timeout=self.timeout, interval=TASK_POLL_INTERVAL
        )

    # -- backups ---------------------------------------------------------------------

    async def async_backup(self, storage: str, mode: str, compress: str | None) -> None:
        """vzdump now; Proxmox's failure ("storage 'x' does not exist") is raised."""
        backup_mode: BackupMode = (
            "suspend" if mode == "suspend" else "stop" if mode == "stop" else "snapshot"
        )
        upid = await self.client.backup(
            self.ref, storage, backup_mode, _COMPRESS.get(compress or "")
        )
        await self._follow(upid, timeout=BACKUP_TIMEOUT)
        assert isinstance(self.coordinator, ProxmoxCoordinator)
        self.coordinator.backup_done(self.vmid)
        await self.coordinator.async_refresh()

    async def async_delete_snapshot(self, name: str | None) -> None:
        upid = await self.client.delete_snapshot(self.ref, self._snapshot_name(name))
        await self._follow(upid)
