"""Proxmox VE client: discovery, one-request polling, power, tasks and snapshots.

Public API (what the Home Assistant layer uses):

    normalize_url(url) -> str                      "pve.lan" -> "https://pve.lan:8006"
    validate_snapshot_name(name) -> str            raises InvalidSnapshotName
    guest_status(guest) -> ResourceStatus          raw state -> shared vocabulary
    counter_rate(previous, current, seconds) -> float | None   bytes/s from counters
    upid_node(upid) -> str                         the node a task runs on

    client = ProxmoxClient(session, url, username="root@pam",
                           token_id="wakehub", token_secret="...",   # or password=
                           verify_ssl=True, fingerprint=None, request_timeout=10)
    await client.check() -> ProxmoxIdentity        connection test for the config flow
    await client.fetch_state() -> ClusterState     ONE GET /cluster/resources: nodes+guests
    await client.discover() -> list[ProxmoxGuest]  guests without templates, by vmid
    await client.locate(vmid) -> ProxmoxGuest      where a guest is now (it may migrate)
    await client.start|shutdown|stop|reboot|reset|suspend|resume(guest) -> upid
    await client.hibernate|pause(guest) -> upid    qemu only: stop keeping the state
    await client.wait_for_task(node, upid, timeout=300, interval=0.25) -> ProxmoxTask
    await client.task_status(node, upid) -> ProxmoxTask
    await client.list_snapshots(guest) -> list[ProxmoxSnapshot]
    await client.create_snapshot(guest, name, description="", include_ram=False) -> upid
    await client.rollback_snapshot(guest, name) / delete_snapshot(guest, name) -> upid
    await client.node_command(node, "shutdown" | "reboot")   a node's own power
    await client.wake_node(node) -> mac            Wake-on-LAN sent by the answering node
    await client.backup(guest, storage, mode="snapshot", compress=None) -> upid
    await client.last_backup(guest) -> int | None   end time of its last good vzdump

`guest` is anything with `node`, `type` ("qemu"/"lxc") and `vmid` (a ProxmoxGuest
or a GuestRef). When the node is stale because the guest migrated, actions find it
again by vmid and retry once.

Errors are those of errors.py, plus three defined here (all WakeHubError):
TaskTimeout (the task was still running at the deadline; the server did answer),
ActionNotSupported (e.g. reset on an LXC container; also a ValueError) and
InvalidSnapshotName (also a ValueError). Task failures raise TaskFailed with
Proxmox's own exit status text, e.g. "VM is locked (backup)".

Authentication: an API token (`Authorization: PVEAPIToken=USER@REALM!NAME=SECRET`)
or a password, exchanged for a ticket (`POST /access/ticket`) sent as the
`PVEAuthCookie` cookie plus the `CSRFPreventionToken` header on writes. Tickets
live two hours: the client renews after TICKET_RENEW_AFTER and again on a 401.
The cookie goes in a header, not in the shared session's cookie jar.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
import contextlib
from dataclasses import dataclass
import ipaddress
import re
import time
from typing import Any, Final, Literal, Protocol
from urllib.parse import quote, urlsplit

import aiohttp

from .backoff import FIRST_DELAY, TaskPace
from .errors import (
    ApiError,
    CannotConnect,
    Conflict,
    InvalidAuth,
    InvalidResponse,
    NotFound,
    NotThatKind,
    PermissionDenied,
    TaskFailed,
    WakeHubError,
)
from .fields import (
    flag,
    obj,
    objects,
    opt_float,
    opt_int,
    opt_obj,
    opt_str,
    required_int,
    required_str,
    text,
)
from .http import decode_json, is_json, read_body, transport_errors
from .models import ResourceStatus
from .tls import ssl_option

DEFAULT_PORT: Final = 8006
API_PREFIX: Final = "/api2/json"
# Tickets are valid for two hours; renew well before so a poll never meets a 401.
TICKET_RENEW_AFTER: Final = 90 * 60
# Privileges WakeHub needs on the guests, and the optional one for snapshots.
REQUIRED_PRIVILEGES: Final = ("VM.Audit", "VM.PowerMgmt")
OPTIONAL_PRIVILEGES: Final = ("VM.Snapshot",)
# pve-configid (Proxmox's format for snapshot names) with the API's maxLength 40.
SNAPSHOT_NAME_RE: Final = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{1,39}$")
PERMISSION_RE: Final = re.compile(r"Permission check failed \(([^,]*),\s*([^)]+)\)")

type GuestType = Literal["qemu", "lxc"]
type BackupMode = Literal["snapshot", "suspend", "stop"]
type BackupCompress = Literal["zstd", "gzip", "lzo", "0"]
# Task states of a backup that produced an archive ("WARNINGS: n" still did).
BACKUP_OK_STATUSES: Final = "ok,warning"
type PowerAction = Literal[
    "start", "shutdown", "stop", "reboot", "reset", "suspend", "resume"
]


class TaskTimeout(WakeHubError):
    """A Proxmox task was still running when the wait ended (the task goes on)."""


class ActionNotSupported(WakeHubError, ValueError):
    """The guest type has no such action (LXC containers have no reset)."""


class InvalidSnapshotName(WakeHubError, ValueError):
    """The snapshot name breaks Proxmox's rules (checked before any request)."""


# -- what the client returns -------------------------------------------------------


class GuestLike(Protocol):
    """Anything that says where a guest is: ProxmoxGuest or GuestRef."""

    @property
    def node(self) -> str: ...
    @property
    def type(self) -> GuestType: ...
    @property
    def vmid(self) -> int: ...


@dataclass(frozen=True, slots=True)
class GuestRef:
    """The address of a guest, for actions when only ids are stored."""

    node: str
    type: GuestType
    vmid: int


@dataclass(frozen=True, slots=True)
class ProxmoxNode:
    """A cluster node as /cluster/resources reports it."""

    name: str
    online: bool
    cpu: float | None = None  # fraction of all cores, 0..1
    maxcpu: int | None = None
    mem: int | None = None
    maxmem: int | None = None
    uptime: int | None = None  # seconds


@dataclass(frozen=True, slots=True)
class ProxmoxGuest:
    """A qemu VM or LXC container; `vmid` is its stable id across migrations."""

    vmid: int
    type: GuestType
    name: str
    node: str
    status: str  # raw: running, stopped, unknown (node offline) ...
    template: bool = False
    lock: str | None = None  # backup, snapshot, migrate, ...
    cpu: float | None = None  # fraction of its cores, 0..1
    maxcpu: int | None = None
    mem: int | None = None
    maxmem: int | None = None
    disk: int | None = None
    maxdisk: int | None = None
    netin: int | None = None  # byte counters since start; see counter_rate()
    netout: int | None = None
    uptime: int | None = None  # seconds
    tags: tuple[str, ...] = ()

    @property
    def resource_status(self) -> ResourceStatus:
        return guest_status(self)


@dataclass(frozen=True, slots=True)
class ClusterState:
    """Everything one poll gives: nodes by name, guests by vmid (templates too)."""

    nodes: Mapping[str, ProxmoxNode]
    guests: Mapping[int, ProxmoxGuest]


@dataclass(frozen=True, slots=True)
class ProxmoxIdentity:
    """What the connection test learned.

    `name` is the cluster name, or the node name of a standalone host (or, when the
    token may not read /cluster/status, the first node name). `privileges` are those
    granted on /, /vms or any guest (None when Proxmox would not say);
    `missing_privileges` lists the optional ones absent.
    """

    name: str
    is_cluster: bool
    nodes: tuple[str, ...]
    version: str
    privileges: frozenset[str] | None
    missing_privileges: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ProxmoxTask:
    """A task's state from GET /nodes/{node}/tasks/{upid}/status."""

    upid: str
    node: str
    running: bool
    exitstatus: str | None
    type: str = ""

    @property
    def ok(self) -> bool:
        return not self.running and self.exitstatus == "OK"


@dataclass(frozen=True, slots=True)
class ProxmoxSnapshot:
    """One snapshot (the 'current' pseudo entry is never returned)."""

    name: str
    description: str
    snaptime: int | None
    parent: str | None
    vmstate: bool


# -- pure helpers --------------------------------------------------------------------


def normalize_url(url: str) -> str:
    """Canonical base URL: https unless told otherwise, port 8006 when absent."""
    text = url.strip()
    if not text:
        raise ValueError("empty URL")
    if "://" not in text:
        text = f"https://{text}"
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("not an http(s) URL")
    host = parts.hostname
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    port = parts.port or DEFAULT_PORT
    return f"{parts.scheme}://{host}:{port}"


def validate_snapshot_name(name: str) -> str:
    """Return the name if Proxmox accepts it, else raise InvalidSnapshotName.

    Proxmox's rule (format pve-configid, maxLength 40): a letter, then letters,
    digits, '_' or '-', two to forty characters in all; 'current' is reserved.
    """
    if not SNAPSHOT_NAME_RE.match(name) or name == "current":
        raise InvalidSnapshotName(
            "a snapshot name starts with a letter, has 2 to 40 letters, digits, "
            "'_' or '-', and is not 'current'"
        )
    return name


def counter_rate(
    previous: int | None, current: int | None, seconds: float
) -> float | None:
    """Bytes per second between two readings of a counter (None after a reset)."""
    if previous is None or current is None or seconds <= 0 or current < previous:
        return None
    return (current - previous) / seconds


_LOCK_STATUS: Final = {
    "backup": ResourceStatus.BACKUPING,
    "create": ResourceStatus.INSTALLING,
    "clone": ResourceStatus.INSTALLING,
    "migrate": ResourceStatus.MAINTENANCE,
    "rollback": ResourceStatus.MAINTENANCE,
    "suspending": ResourceStatus.PAUSED,
    "suspended": ResourceStatus.PAUSED,
}
_RAW_STATUS: Final = {
    "running": ResourceStatus.RUNNING,
    "stopped": ResourceStatus.STOPPED,
    "paused": ResourceStatus.PAUSED,
    "suspended": ResourceStatus.PAUSED,
}


def guest_status(guest: ProxmoxGuest) -> ResourceStatus:
    """Map Proxmox's status and lock to the fleet vocabulary.

    A lock says what the guest is going through (a backup, a migration) and wins
    over the bare running/stopped; guests of an offline node are `unknown`.
    """
    if guest.lock and guest.lock in _LOCK_STATUS:
        return _LOCK_STATUS[guest.lock]
    return _RAW_STATUS.get(guest.status, ResourceStatus.UNKNOWN)


def upid_node(upid: str) -> str:
    """The node named in a UPID ("UPID:pve1:..."): where to follow the task."""
    parts = upid.split(":")
    if len(parts) < 3 or parts[0] != "UPID" or not parts[1]:
        raise ValueError("not a Proxmox task id")
    return parts[1]


def _full_token_id(username: str, token_id: str) -> str:
    """'user@realm!name' from the token's name (or the full id, accepted as is)."""
    if "!" in token_id:
        return token_id
    return f"{username}!{token_id}"


def _privilege_from(message: str) -> str | None:
    match = PERMISSION_RE.search(message)
    return match.group(2).strip() if match else None


def _parse_guest(item: Mapping[str, Any]) -> ProxmoxGuest:
    vmid = required_int(item, "vmid", "a guest of /cluster/resources")
    kind: GuestType = "lxc" if item.get("type") == "lxc" else "qemu"
    return ProxmoxGuest(
        vmid=vmid,
        type=kind,
        name=text(item.get("name")) or f"{kind}-{vmid}",
        node=text(item.get("node")),
        status=text(item.get("status"), "unknown"),
        template=flag(item.get("template")),
        lock=opt_str(item.get("lock")) or None,
        cpu=opt_float(item.get("cpu")),
        maxcpu=opt_int(item.get("maxcpu")),
        mem=opt_int(item.get("mem")),
        maxmem=opt_int(item.get("maxmem")),
        disk=opt_int(item.get("disk")),
        maxdisk=opt_int(item.get("maxdisk")),
        netin=opt_int(item.get("netin")),
        netout=opt_int(item.get("netout")),
        uptime=opt_int(item.get("uptime")),
        tags=tuple(t for t in re.split(r"[;, ]", text(item.get("tags"))) if t),
    )


def _parse_node(item: Mapping[str, Any]) -> ProxmoxNode:
    return ProxmoxNode(
        name=required_str(item, "node", "a node of /cluster/resources"),
        online=item.get("status") == "online",
        cpu=opt_float(item.get("cpu")),
        maxcpu=opt_int(item.get("maxcpu")),
        mem=opt_int(item.get("mem")),
        maxmem=opt_int(item.get("maxmem")),
        uptime=opt_int(item.get("uptime")),
    )


def _form(values: Mapping[str, Any]) -> dict[str, str]:
    """Form-encode values the way Proxmox reads them (booleans as 0/1)."""
    encoded: dict[str, str] = {}
    for key, value in values.items():
        if value is None:
            continue
        encoded[key] = str(int(value)) if isinstance(value, bool) else str(value)
    return encoded


# -- the client ----------------------------------------------------------------------


class ProxmoxClient:
    """Async client for one Proxmox VE cluster or standalone host."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        url: str,
        *,
        username: str,
        token_id: str | None = None,
        token_secret: str | None = None,
        password: str | None = None,
        verify_ssl: bool = True,
        fingerprint: str | None = None,
        request_timeout: float = 10.0,
    ) -> None:
        if not (token_id and token_secret) and not password:
            raise ValueError("an API token (id and secret) or a password is needed")
        self._session = session
        self.base_url = normalize_url(url)
        parts = urlsplit(self.base_url)
        self.where = f"{parts.hostname}:{parts.port}"
        self._username = username
        self._token = (
            f"PVEAPIToken={_full_token_id(username, token_id)}={token_secret}"
            if token_id and token_secret
            else None
        )
        self._password = password
        self._ssl = ssl_option(verify_ssl=verify_ssl, fingerprint=fingerprint)
        self._timeout = aiohttp.ClientTimeout(total=request_timeout)
        self._ticket: str | None = None
        self._csrf: str | None = None
        self._ticket_time = 0.0
        self._login_lock = asyncio.Lock()

    # -- connection test and polling ------------------------------------------------

    async def check(self) -> ProxmoxIdentity:
        """Connection test: is it Proxmox, do the credentials work, what may we do.

        Raises CannotConnect/ConnectionTimeout/CertificateError, NotThatKind,
        InvalidAuth, or PermissionDenied naming a missing required privilege.
        """
        try:
            version = await self._request("GET", "/version")
        except InvalidResponse as err:
            # Whatever answered the first request, it does not speak Proxmox's API.
            raise NotThatKind(
                f"{self.where} answered, but not as Proxmox VE does"
            ) from err
        if not isinstance(version, Mapping) or not text(version.get("version")):
            raise NotThatKind(f"{self.where} answered, but not as Proxmox VE does")
        privileges = await self._privileges()
        for needed in REQUIRED_PRIVILEGES:
            if privileges is not None and needed not in privileges:
                raise PermissionDenied(
                    f"the user or token may not use {needed} on the guests",
                    privilege=needed,
                )
        name, is_cluster, nodes = await self._cluster_identity()
        missing = tuple(
            p
            for p in OPTIONAL_PRIVILEGES
            if privileges is not None and p not in privileges
        )
        return ProxmoxIdentity(
            name=name,
            is_cluster=is_cluster,
            nodes=nodes,
            version=text(version["version"]),
            privileges=privileges,
            missing_privileges=missing,
        )

    async def _privileges(self) -> frozenset[str] | None:
        """Privileges granted on /, /vms, any guest or pool (None: not readable)."""
        try:
            tree = await self._request("GET", "/access/permissions")
        except PermissionDenied:
            return None
        if not isinstance(tree, Mapping):
            return None
        granted: set[str] = set()
        for path, privs in tree.items():
            on_guests = path in ("/", "/vms") or path.startswith(("/vms/", "/pool/"))
            if on_guests and isinstance(privs, Mapping):
                granted.update(privs)
        return frozenset(granted)

    async def _cluster_identity(self) -> tuple[str, bool, tuple[str, ...]]:
        """Cluster name and nodes; standalone hosts are named after their node."""
        try:
            status = await self._request("GET", "/cluster/status")
        except PermissionDenied:
            # No Sys.Audit on /: the node list still comes from /cluster/resources.
            state = await self.fetch_state()
            nodes = tuple(sorted(state.nodes))
            return (nodes[0] if nodes else self.where), len(nodes) > 1, nodes
        entries = objects(status, "/cluster/status")
        what = "an entry of /cluster/status"
        nodes = tuple(
            sorted(
                required_str(e, "name", what)
                for e in entries
                if e.get("type") == "node"
            )
        )
        cluster = next((e for e in entries if e.get("type") == "cluster"), None)
        if cluster is not None:
            return required_str(cluster, "name", what), True, nodes
        return (nodes[0] if nodes else self.where), False, nodes

    async def node_addresses(self) -> dict[str, str]:
        """Each node's address as the cluster knows it ({} without Sys.Audit)."""
        try:
            status = await self._request("GET", "/cluster/status")
        except PermissionDenied:
            return {}
        addresses: dict[str, str] = {}
        for entry in objects(status, "/cluster/status"):
            name, ip = opt_str(entry.get("name")), opt_str(entry.get("ip"))
            if entry.get("type") == "node" and name and ip:
                addresses[name] = ip
        return addresses

    async def guest_addresses(self, guest: GuestLike) -> list[str]:
        """The guest's own IP addresses, as far as Proxmox can tell.

        A qemu VM's come from its guest agent (Proxmox answers an error when
        the agent is not running), a container's from its interfaces. The
        loopback interface and link-local addresses identify nothing and are
        left out (KnownAs drops what every host calls itself).
        """
        if guest.type == "qemu":
            path = f"/nodes/{guest.node}/qemu/{guest.vmid}/agent/network-get-interfaces"
            answer = opt_obj(await self._request("GET", path)).get("result")
        else:
            answer = await self._request(
                "GET", f"/nodes/{guest.node}/lxc/{guest.vmid}/interfaces"
            )
        found: list[str] = []
        for interface in objects(answer, "the guest's interfaces"):
            if interface.get("name") == "lo":
                continue
            entries = interface.get("ip-addresses")
            listed = [
                opt_str(opt_obj(entry).get("ip-address"))
                for entry in (entries if isinstance(entries, list) else [])
            ]
            listed += [opt_str(interface.get("inet")), opt_str(interface.get("inet6"))]
            for raw in listed:
                address = _own_address(raw)
                if address and address not in found:
                    found.append(address)
        return found

    async def fetch_state(self) -> ClusterState:
        """Every node and guest of the cluster from ONE GET /cluster/resources."""
        items = await self._request("GET", "/cluster/resources")
        nodes: dict[str, ProxmoxNode] = {}
        guests: dict[int, ProxmoxGuest] = {}
        # Not a list is a broken answer, not an empty cluster: every guest would
        # look gone.
        for item in objects(items, "/cluster/resources"):
            kind = item.get("type")
            if kind == "node":
                node = _parse_node(item)
                nodes[node.name] = node
            elif kind in ("qemu", "lxc") and "vmid" in item:
                guest = _parse_guest(item)
                guests[guest.vmid] = guest
        return ClusterState(nodes=nodes, guests=guests)

    async def discover(self) -> list[ProxmoxGuest]:
        """Guests the user can pick: every VM and container but templates."""
        state = await self.fetch_state()
        return sorted(
            (g for g in state.guests.values() if not g.template), key=lambda g: g.vmid
        )

    async def locate(self, vmid: int) -> ProxmoxGuest:
        """Where a guest is now (one GET /cluster/resources?type=vm)."""
        items = await self._request("GET", "/cluster/resources", params={"type": "vm"})
        for item in objects(items, "/cluster/resources"):
            if (
                item.get("type") in ("qemu", "lxc")
                and opt_int(item.get("vmid")) == vmid
            ):
                return _parse_guest(item)
        raise NotFound(f"guest {vmid} is not in the cluster")

    # -- power ----------------------------------------------------------------------

    async def start(self, guest: GuestLike) -> str:
        return await self.power(guest, "start")

    async def shutdown(self, guest: GuestLike) -> str:
        """Graceful: ACPI (qemu) or init (lxc) shutdown."""
        return await self.power(guest, "shutdown")

    async def stop(self, guest: GuestLike) -> str:
        """Forced stop, like pulling the plug."""
        return await self.power(guest, "stop")

    async def reboot(self, guest: GuestLike) -> str:
        return await self.power(guest, "reboot")

    async def reset(self, guest: GuestLike) -> str:
        """Hard reset (qemu only)."""
        return await self.power(guest, "reset")

    async def suspend(self, guest: GuestLike) -> str:
        return await self.power(guest, "suspend")

    async def resume(self, guest: GuestLike) -> str:
        return await self.power(guest, "resume")

    async def power(self, guest: GuestLike, action: PowerAction) -> str:
        """Run a power action; returns the task's UPID (see wait_for_task)."""
        if action == "reset" and guest.type == "lxc":
            raise ActionNotSupported("LXC containers cannot be reset; use reboot")
        return await self._guest_post(guest, f"status/{action}")

    # -- stops that keep the guest's state (qemu only) -------------------------------

    async def hibernate(self, guest: GuestLike) -> str:
        """Suspend to disk: the RAM is saved to a state volume, then the VM stops
        (lock `suspended`). A plain `start` resumes it where it was."""
        if guest.type == "lxc":
            raise ActionNotSupported("LXC containers cannot be hibernated")
        return await self._guest_post(guest, "status/suspend", {"todisk": True})

    async def pause(self, guest: GuestLike) -> str:
        """Pause in RAM (status `paused`): the VM keeps its memory on the node and
        `resume` continues it at once. A `start` would be refused (it runs)."""
        if guest.type == "lxc":
            raise ActionNotSupported("LXC containers cannot be paused")
        return await self.suspend(guest)

    # -- snapshots ------------------------------------------------------------------

    async def list_snapshots(self, guest: GuestLike) -> list[ProxmoxSnapshot]:
        """Snapshots, oldest first, without Proxmox's 'current' pseudo entry."""
        items = await self._guest_request(guest, "GET", "snapshot")
        snapshots = [
            ProxmoxSnapshot(
                name=required_str(item, "name", "a snapshot"),
                description=text(item.get("description")),
                snaptime=opt_int(item.get("snaptime")),
                parent=opt_str(item.get("parent")) or None,
                vmstate=flag(item.get("vmstate")),
            )
            for item in objects(items, "the snapshot list")
            if item.get("name") != "current"
        ]
        return _tree_order(snapshots)

    async def create_snapshot(
        self,
        guest: GuestLike,
        name: str,
        description: str = "",
        *,
        include_ram: bool = False,
    ) -> str:
        """Take a snapshot; `include_ram` (qemu only) saves the running state too."""
        validate_snapshot_name(name)
        if include_ram and guest.type == "lxc":
            raise ActionNotSupported("LXC snapshots cannot include RAM")
        form: dict[str, Any] = {"snapname": name}
        if description:
            form["description"] = description
        if include_ram:
            form["vmstate"] = True
        return await self._guest_post(guest, "snapshot", form)

    async def rollback_snapshot(self, guest: GuestLike, name: str) -> str:
        validate_snapshot_name(name)
        return await self._guest_post(guest, f"snapshot/{name}/rollback")

    async def delete_snapshot(self, guest: GuestLike, name: str) -> str:
        validate_snapshot_name(name)
        return await self._guest_upid(guest, "DELETE", f"snapshot/{name}")

    # -- backups ----------------------------------------------------------------------

    async def backup(
        self,
        guest: GuestLike,
        storage: str,
        mode: BackupMode = "snapshot",
        compress: BackupCompress | None = None,
    ) -> str:
        """Back the guest up now (POST /nodes/{node}/vzdump); returns the UPID.

        Needs VM.Backup on the guest and Datastore.AllocateSpace on `storage`.
        """
        form: dict[str, Any] = {"vmid": guest.vmid, "storage": storage, "mode": mode}
        if compress is not None:
            form["compress"] = compress
        return await self._guest_upid(guest, "POST", "vzdump", form, on_node=True)

    async def last_backup(self, guest: GuestLike) -> int | None:
        """When the guest's last successful backup ended (UNIX time), if any.

        ONE GET /nodes/{node}/tasks filtered on vzdump tasks of this vmid that
        ended well, newest first. Proxmox lists a user's own tasks, and every
        task with Sys.Audit on the node; a backup job covering several guests is
        one task without a vmid, so it is not seen here.
        """
        items = await self._request(
            "GET",
            f"/nodes/{guest.node}/tasks",
            params={
                "typefilter": "vzdump",
                "vmid": str(guest.vmid),
                "statusfilter": BACKUP_OK_STATUSES,
                "limit": "1",
            },
        )
        ends = [
            opt_int(item.get("endtime")) or opt_int(item.get("starttime"))
            for item in objects(items, "the task list")
        ]
        return max((end for end in ends if end), default=None)

    # -- tasks ----------------------------------------------------------------------

    async def task_status(self, node: str, upid: str) -> ProxmoxTask:
        data = obj(
            await self._request(
                "GET", f"/nodes/{node}/tasks/{quote(upid, safe='')}/status"
            ),
            "the task status",
        )
        return ProxmoxTask(
            upid=upid,
            node=node,
            running=data.get("status") != "stopped",
            exitstatus=opt_str(data.get("exitstatus")),
            type=text(data.get("type")),
        )

    async def wait_for_task(
        self, node: str, upid: str, timeout: float = 300, interval: float = FIRST_DELAY
    ) -> ProxmoxTask:
        """Poll the task until it stops; TaskFailed carries Proxmox's exit status.

        Read every `interval` seconds at first, then less often (backoff.py).
        Raises TaskTimeout if still running after `timeout` seconds.
        """
        pace = TaskPace(timeout, interval)
        while True:
            task = await self.task_status(node, upid)
            if not task.running:
                if task.exitstatus != "OK":
                    raise TaskFailed(task.exitstatus or "task failed")
                return task
            if not await pace.wait():
                raise TaskTimeout(f"task {upid} still running after {timeout:g} s")

    # -- node power -----------------------------------------------------------------

    async def node_command(
        self, node: str, command: Literal["shutdown", "reboot"]
    ) -> None:
        """Shut a node down or reboot it (its guests stop first, as on its console).

        Proxmox answers at once (no task): the node goes offline afterwards.
        """
        await self._request("POST", f"/nodes/{node}/status", form={"command": command})

    async def wake_node(self, node: str) -> str:
        """Have the node answering the API send `node`'s Wake-on-LAN packet.

        The packet leaves from inside the cluster's network, so it reaches a node
        the caller's network cannot. Proxmox needs the node's MAC in its config
        (`pvenode config set --wakeonlan <MAC>`) and refuses without it; the
        answering node cannot wake itself. Returns the MAC the packet was for.
        """
        return text(await self._request("POST", f"/nodes/{node}/wakeonlan"))

    # -- plumbing -------------------------------------------------------------------

    async def _guest_post(
        self, guest: GuestLike, suffix: str, form: Mapping[str, Any] | None = None
    ) -> str:
        return await self._guest_upid(guest, "POST", suffix, form)

    async def _guest_upid(
        self,
        guest: GuestLike,
        method: str,
        suffix: str,
        form: Mapping[str, Any] | None = None,
        *,
        on_node: bool = False,
    ) -> str:
        upid = await self._guest_request(guest, method, suffix, form, on_node=on_node)
        if not isinstance(upid, str) or not upid:
            raise InvalidResponse("Proxmox did not return a task id")
        return upid

    async def _guest_request(
        self,
        guest: GuestLike,
        method: str,
        suffix: str,
        form: Mapping[str, Any] | None = None,
        *,
        on_node: bool = False,
    ) -> Any:
        """Request on a guest (or, `on_node`, on its node: /nodes/{node}/{suffix});
        if it migrated away from `guest.node`, follow it."""

        def path(where: GuestLike) -> str:
            return (
                f"/nodes/{where.node}/{suffix}"
                if on_node
                else _guest_path(where, suffix)
            )

        try:
            return await self._request(method, path(guest), form=form)
        except NotFound:
            moved = await self.locate(guest.vmid)
            if moved.node == guest.node:
                raise
            return await self._request(method, path(moved), form=form)

    async def _request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        form: Mapping[str, Any] | None = None,
    ) -> Any:
        """One API call; returns the answer's `data`. Renews the ticket on a 401."""
        if self._token is None:
            await self._ensure_ticket()
        try:
            return await self._send(method, path, params=params, form=form)
        except InvalidAuth:
            if self._token is not None:
                raise
            await self._ensure_ticket(force=True)
            return await self._send(method, path, params=params, form=form)

    def _headers(self, method: str) -> dict[str, str]:
        if self._token is not None:
            return {"Authorization": self._token}
        headers = {"Cookie": f"PVEAuthCookie={quote(self._ticket or '', safe='')}"}
        if method != "GET" and self._csrf:
            headers["CSRFPreventionToken"] = self._csrf
        return headers

    async def _send(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        form: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Any:
        async with (
            transport_errors(self.where),
            self._session.request(
                method,
                f"{self.base_url}{API_PREFIX}{path}",
                params=params,
                data=_form(form) if form else None,
                headers=headers if headers is not None else self._headers(method),
                ssl=self._ssl,
                timeout=self._timeout,
            ) as response,
        ):
            return await self._answer(response)

    async def _answer(self, response: aiohttp.ClientResponse) -> Any:
        """Map Proxmox's answer to data or to an errors.py exception."""
        raw = await read_body(response, self.where)
        what = f"{response.method} {response.url.path}"
        if response.status == 200:
            if not is_json(response.content_type):
                raise InvalidResponse(
                    f"{self.where} answered {what} with {response.content_type}, "
                    "not JSON"
                )
            answer = opt_obj(decode_json(raw, self.where, what))
            if "data" not in answer:
                raise InvalidResponse(f"{self.where} answered {what} without data")
            return answer["data"]
        body: Any = None
        if is_json(response.content_type):
            # An error's details are a bonus: an unreadable one still maps by status.
            with contextlib.suppress(InvalidResponse):
                body = decode_json(raw, self.where, what)
        if body is None and response.status in (404, 405):
            # Proxmox answers unknown paths with a JSON 501; a bare 404 is a web
            # server of another kind.
            raise NotThatKind(f"{self.where} has no Proxmox VE API")
        raise _error(response.status, _message(response, body))

    async def _ensure_ticket(self, *, force: bool = False) -> None:
        """Log in with the password when there is no ticket or it is getting old."""
        async with self._login_lock:
            fresh = time.monotonic() - self._ticket_time < TICKET_RENEW_AFTER
            if self._ticket and fresh and not force:
                return
            data = await self._send(
                "POST",
                "/access/ticket",
                form={"username": self._username, "password": self._password},
                headers={},
            )
            login = obj(data, "the login answer")
            self._ticket = required_str(login, "ticket", "the login answer")
            self._csrf = text(login.get("CSRFPreventionToken"))
            self._ticket_time = time.monotonic()


def _tree_order(snapshots: list[ProxmoxSnapshot]) -> list[ProxmoxSnapshot]:
    """Oldest first: by depth in the parent chain, then time (several may share
    a second), then name."""
    parents = {s.name: s.parent for s in snapshots}

    def depth(name: str) -> int:
        seen: set[str] = set()
        while (parent := parents.get(name)) and parent not in seen:
            seen.add(parent)
            name = parent
        return len(seen)

    return sorted(snapshots, key=lambda s: (depth(s.name), s.snaptime or 0, s.name))


def _guest_path(guest: GuestLike, suffix: str) -> str:
    return f"/nodes/{guest.node}/{guest.type}/{guest.vmid}/{suffix}"


def _message(response: aiohttp.ClientResponse, body: Any) -> str:
    """Proxmox's words: the reason phrase, `message`, and per-parameter `errors`."""
    parts: list[str] = []
    if response.reason:
        parts.append(response.reason.strip())
    if isinstance(body, Mapping):
        message = body.get("message")
        if isinstance(message, str) and message.strip() not in parts:
            parts.append(message.strip())
        errors = body.get("errors")
        if isinstance(errors, Mapping):
            parts.extend(f"{k}: {str(v).strip()}" for k, v in errors.items())
    return "; ".join(parts) or f"HTTP {response.status}"


def _own_address(value: str | None) -> str | None:
    """An interface's address without its prefix length ("192.168.1.50/24"),
    None for a link-local one and anything that is not an address."""
    try:
        address = ipaddress.ip_address((value or "").split("/")[0])
    except ValueError:
        return None
    return None if address.is_link_local else str(address)


def _error(status: int, message: str) -> WakeHubError:
    """The errors.py exception for a Proxmox error status and message."""
    if status == 401:
        return InvalidAuth(f"credentials refused: {message}")
    if status == 403:
        return PermissionDenied(message, privilege=_privilege_from(message))
    if status == 595:  # the node that should answer is unreachable from the cluster
        return CannotConnect(f"node unreachable: {message}")
    if status == 500 and " is locked" in message:
        return Conflict(message)
    if status == 500 and "does not exist" in message:
        return NotFound(message)
    return ApiError(status, message)
