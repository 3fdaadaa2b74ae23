"""A stateful Proxmox VE simulator over HTTPS on loopback.

What it models (enough for WakeHub's client and for Home Assistant's own
`proxmoxve` integration to talk to it):
- a cluster ("homelab", nodes pve1 and pve2) or a standalone host
  (`cluster_name=None, node_names=("pve",)`), or N generated guests over M nodes
  (`guest_count=1000, node_count=3`) for benchmarks;
- qemu VMs and LXC containers, a template, a guest locked by a backup;
- API tokens and password tickets (cookie + CSRF header on writes, two-hour life,
  `expire_tickets()`), privileges per user/token (`add_token(..., privileges=)`)
  checked as Proxmox checks them ("Permission check failed (/vms/100, VM.PowerMgmt)");
  users with a second factor (`tfa_users`) only get a half ticket (`NeedTFA`);
- templates refuse to start ("you can't start a vm if it's a template"), and
  HA-managed guests (`SimGuest.ha_managed`) answer start/shutdown/stop with a
  `hastart`/`hastop` task that ends at once, the HA manager acting `ha_delay`
  seconds later; a VM QEMU halted by itself (`SimGuest.halted`: `io-error`,
  `prelaunch`) shows that run state as its status until resumed;
- UPID tasks that take `start_delay`/`stop_delay`/`task_delay` seconds, fail when the
  guest is locked ("VM is locked (backup)") or on `fail_next(action, message)`;
- suspend and resume (qemu): `todisk=1` hibernates (lock `suspending` for
  `hibernate_delay`, then stopped with lock `suspended` until a start restores it
  in `restore_delay`), without it the VM is paused in RAM (status `paused` in
  /cluster/resources, as pvestatd reports QEMU's run state) until a resume
  (`resume_delay`); set the delays so that a cold start (`start_delay`) is the
  slowest wake and a resume from RAM the fastest, as on real hardware;
- backups (`POST /nodes/{node}/vzdump`): a `vzdump` task that locks the guest,
  fails as Proxmox does on a storage that does not exist or takes no backups,
  and shows in the node's task list (filtered by type, vmid and status);
- snapshots, migration (`migrate(vmid, node)`), nodes going offline
  (`set_node_online(node, False)`: guests turn `unknown`, requests to it get 595);
- a node's own power: `POST /nodes/{node}/status` shuts it down or reboots it (its
  guests stop), and `POST /nodes/{node}/wakeonlan`, served by another running node,
  sends a real magic packet over loopback to the MachineSimulator attached as that
  node's hardware (`attach_machine(node, machine)`: the node is then online exactly
  while the machine is powered); refused as Proxmox refuses it without a
  `wakeonlan` MAC in the node's config.

Every request and answer is checked against the official API tree
(tests/contract/pve.py); violations land in `sim.violations`.

Standalone: `python -m tests.simulators.proxmox --port 8006` prints what to enter
in Home Assistant's wizard and serves until Ctrl-C.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
from collections.abc import Awaitable, Callable
import contextlib
from dataclasses import dataclass, field
import json
import os
import re
import socket
import time
from typing import Any
from urllib.parse import parse_qsl, unquote

from aiohttp import web

from tests.contract import SPECS_DIR
from tests.contract.pve import SPEC_NAME, load_spec
from tests.simulators.base import HttpSimulator
from tests.simulators.machine import MachineSimulator

GIB = 1024**3
PREFIX = "/api2/json"
ALL_PRIVILEGES = frozenset(
    {
        "Datastore.Allocate",
        "Datastore.AllocateSpace",
        "Datastore.Audit",
        "Sys.Audit",
        "Sys.Console",
        "Sys.Modify",
        "Sys.PowerMgmt",
        "VM.Allocate",
        "VM.Audit",
        "VM.Backup",
        "VM.Config.Disk",
        "VM.Console",
        "VM.GuestAgent.Audit",
        "VM.Migrate",
        "VM.PowerMgmt",
        "VM.Snapshot",
        "VM.Snapshot.Rollback",
    }
)
DEFAULT_TOKEN_ID = "root@pam!wakehub"
DEFAULT_TOKEN_SECRET = "5f0c6b8e-2d1a-4c3b-9e7f-0a1b2c3d4e5f"
DEFAULT_PASSWORD = "proxmox-demo"
# Storages of every node: "local" takes backups, "local-lvm" only disks.
BACKUP_STORAGES = frozenset({"local"})
OTHER_STORAGES = frozenset({"local-lvm"})
SNAPNAME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_-]+$")
Handler = Callable[[web.Request, "Principal"], Awaitable[web.StreamResponse]]


class PveError(Exception):
    """An error answer, as Proxmox gives it: text in the reason phrase and body."""

    def __init__(
        self, status: int, message: str, errors: dict[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.errors = errors


@dataclass
class Principal:
    """Who is calling: a user (ticket) or an API token."""

    userid: str
    privileges: frozenset[str]
    token: str | None = None  # full token id when authenticated by token

    @property
    def task_user(self) -> str:
        return self.token or self.userid


@dataclass
class SimNode:
    name: str
    online: bool = True
    ip: str | None = None  # as /cluster/status reports it; None: 192.168.1.x
    maxcpu: int = 8
    maxmem: int = 32 * GIB
    boot_time: float = field(default_factory=lambda: time.time() - 3 * 86400)
    wakeonlan: str | None = None  # the MAC of `pvenode config set --wakeonlan`


@dataclass
class SimSnapshot:
    name: str
    description: str
    snaptime: int
    parent: str | None
    vmstate: bool


@dataclass
class SimGuest:
    vmid: int
    name: str
    type: str  # qemu | lxc
    node: str
    status: str = "stopped"
    template: bool = False
    lock: str | None = None
    paused: bool = False
    maxcpu: int = 2
    maxmem: int = 2 * GIB
    maxdisk: int = 32 * GIB
    started_at: float | None = None
    snapshots: dict[str, SimSnapshot] = field(default_factory=dict)
    current_parent: str | None = None
    #: Its own addresses while it runs: a VM's guest agent reports them (none:
    #: no agent running), a container's interfaces list them.
    addresses: list[str] = field(default_factory=list)
    #: Managed by Proxmox's HA stack (`ha-manager add`): start, shutdown and
    #: stop only ask the HA manager (a `hastart`/`hastop` task that ends at
    #: once), which changes the guest `ha_delay` seconds later.
    ha_managed: bool = False
    #: A run state QEMU stopped the running VM in by itself: `io-error` (its
    #: disk filled up), `prelaunch` (started frozen). pvestatd reports it as
    #: the status; a resume continues the VM.
    halted: str | None = None

    @property
    def kind_word(self) -> str:
        """Proxmox says 'VM' for qemu and 'CT' for containers in its messages."""
        return "VM" if self.type == "qemu" else "CT"

    def uptime(self) -> int:
        if self.status != "running" or self.started_at is None:
            return 0
        return int(time.time() - self.started_at)


@dataclass
class SimTask:
    upid: str
    node: str
    type: str
    id: str
    user: str
    pid: int
    pstart: int
    starttime: int
    running: bool = True
    exitstatus: str | None = None
    endtime: int | None = None


@dataclass
class Ticket:
    principal: Principal
    csrf: str
    issued: float


@dataclass
class ProxmoxSimulator(HttpSimulator):
    """Proxmox VE cluster (or standalone host) simulator."""

    cluster_name: str | None = "homelab"
    node_names: tuple[str, ...] = ("pve1", "pve2")
    node_count: int | None = None  # generate pve1..pveN instead of node_names
    guest_count: int | None = None  # generate N guests instead of the demo set
    start_delay: float = 0.05
    stop_delay: float = 0.05
    task_delay: float = 0.05
    # Suspend and resume (qemu): writing the RAM to disk, starting a hibernated
    # VM from it, pausing and resuming in RAM.
    hibernate_delay: float = 0.05
    restore_delay: float = 0.03
    pause_delay: float = 0.01
    resume_delay: float = 0.01
    #: How long the HA manager takes to act on an HA-managed guest's request.
    ha_delay: float = 0.1
    ticket_lifetime: float = 7200.0
    contract: bool = True
    #: Seconds a rebooting node stays offline; a woken node without an attached
    #: machine comes online after `node_boot_delay`.
    node_reboot_delay: float = 0.1
    node_boot_delay: float = 0.1
    #: The physical machine of each node (see `attach_machine`).
    machines: dict[str, MachineSimulator] = field(default_factory=dict)
    #: (node woken, MAC) of every Wake-on-LAN packet the cluster sent.
    wol_sent: list[tuple[str, str]] = field(default_factory=list)
    _node_tasks: set[asyncio.Task[None]] = field(default_factory=set)
    nodes: dict[str, SimNode] = field(default_factory=dict)
    guests: dict[int, SimGuest] = field(default_factory=dict)
    tasks: dict[str, SimTask] = field(default_factory=dict)
    passwords: dict[str, str] = field(default_factory=dict)
    user_privileges: dict[str, frozenset[str]] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)
    token_privileges: dict[str, frozenset[str]] = field(default_factory=dict)
    tickets: dict[str, Ticket] = field(default_factory=dict)
    #: Users with a second factor (TOTP, WebAuthn...): the password login only
    #: gives a half ticket (`NeedTFA: 1`) that the API refuses until the
    #: second factor is sent, which an unattended client cannot do.
    tfa_users: set[str] = field(default_factory=set)
    _fail_next: dict[str, str] = field(default_factory=dict)
    _pid: int = 0x1A2B
    _handles: list[asyncio.TimerHandle] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.node_count is not None:
            self.node_names = tuple(f"pve{i + 1}" for i in range(self.node_count))
        if self.cluster_name is None and len(self.node_names) != 1:
            raise ValueError("a standalone host has exactly one node")
        if not self.nodes:
            self.nodes = {name: SimNode(name) for name in self.node_names}
        if not self.guests:
            if self.guest_count is None:
                self._demo_guests()
            else:
                self._generate_guests(self.guest_count)
        if not self.passwords:
            self.add_user("root@pam", DEFAULT_PASSWORD)
        if not self.tokens:
            self.add_token("root@pam", "wakehub", DEFAULT_TOKEN_SECRET)

    # -- data ---------------------------------------------------------------------

    def _demo_guests(self) -> None:
        first = self.node_names[0]
        second = self.node_names[-1]
        now = time.time()
        for guest in (
            SimGuest(100, "docker", "qemu", first, "running", maxmem=8 * GIB),
            SimGuest(101, "windows11", "qemu", first, maxcpu=4, maxmem=16 * GIB),
            SimGuest(102, "pihole", "lxc", second, "running", maxmem=512 * 1024**2),
            SimGuest(103, "nextcloud", "lxc", second, maxmem=4 * GIB),
            SimGuest(104, "homeassistant", "qemu", second, "running", lock="backup"),
            SimGuest(9000, "debian-12-template", "qemu", first, template=True),
        ):
            if guest.status == "running":
                guest.started_at = now - 3600 * (guest.vmid - 99)
            self.guests[guest.vmid] = guest

    def _generate_guests(self, count: int) -> None:
        now = time.time()
        for i in range(count):
            vmid = 100 + i
            running = i % 2 == 0
            self.guests[vmid] = SimGuest(
                vmid,
                f"guest-{vmid}",
                "lxc" if i % 3 == 2 else "qemu",
                self.node_names[i % len(self.node_names)],
                "running" if running else "stopped",
                started_at=now - 600 - i if running else None,
            )

    def add_user(
        self, userid: str, password: str, privileges: frozenset[str] = ALL_PRIVILEGES
    ) -> None:
        self.passwords[userid] = password
        self.user_privileges[userid] = frozenset(privileges)

    def add_token(
        self,
        userid: str,
        name: str,
        secret: str,
        privileges: frozenset[str] = ALL_PRIVILEGES,
    ) -> str:
        """Add an API token (privilege-separated: its own privileges)."""
        token_id = f"{userid}!{name}"
        self.tokens[token_id] = secret
        self.token_privileges[token_id] = frozenset(privileges)
        return token_id

    # -- pokes for tests ------------------------------------------------------------

    def set_locked(self, vmid: int, lock: str | None) -> None:
        self.guests[vmid].lock = lock

    def set_status(self, vmid: int, status: str) -> None:
        guest = self.guests[vmid]
        guest.status = status
        guest.started_at = time.time() if status == "running" else None

    def set_node_online(self, node: str, online: bool) -> None:
        self.nodes[node].online = online

    def migrate(self, vmid: int, target: str) -> None:
        """Move a guest to another node (as a finished migration leaves it)."""
        if target not in self.nodes:
            raise KeyError(target)
        self.guests[vmid].node = target

    def fail_next(self, action: str, message: str) -> None:
        """Make the next task of this action (start, shutdown, snapshot...) fail."""
        self._fail_next[action] = message

    def expire_tickets(self) -> None:
        for ticket in self.tickets.values():
            ticket.issued = -1e12

    @property
    def fingerprint(self) -> str:
        from custom_components.wakehub.api.tls import format_fingerprint

        assert self.certificate is not None
        return format_fingerprint(self.certificate.der)

    async def stop(self) -> None:
        for handle in self._handles:
            handle.cancel()
        for task in list(self._node_tasks):
            task.cancel()
        await super().stop()

    # -- routes -----------------------------------------------------------------------

    def setup_routes(self, app: web.Application) -> None:
        app.router.add_post(f"{PREFIX}/access/ticket", self._public(self._login))
        get = [
            ("/version", self._version),
            ("/access/permissions", self._permissions),
            ("/cluster/status", self._cluster_status),
            ("/cluster/resources", self._resources),
            ("/nodes", self._nodes),
            ("/nodes/{node}/version", self._node_version),
            ("/nodes/{node}/storage", self._storage),
            ("/nodes/{node}/tasks", self._task_list),
            ("/nodes/{node}/apt/update", self._apt_update),
            ("/nodes/{node}/tasks/{upid}/status", self._task_status),
            ("/nodes/{node}/{type:qemu|lxc}", self._guest_list),
            ("/nodes/{node}/{type:qemu|lxc}/{vmid:\\d+}/status/current", self._current),
            ("/nodes/{node}/{type:qemu|lxc}/{vmid:\\d+}/snapshot", self._snapshots),
            (
                "/nodes/{node}/{type:qemu}/{vmid:\\d+}/agent/network-get-interfaces",
                self._agent_interfaces,
            ),
            ("/nodes/{node}/{type:lxc}/{vmid:\\d+}/interfaces", self._lxc_interfaces),
        ]
        for path, handler in get:
            app.router.add_get(PREFIX + path, self._auth(handler))
        guest = "/nodes/{node}/{type:qemu|lxc}/{vmid:\\d+}"
        app.router.add_post(
            f"{PREFIX}{guest}/status/{{action}}", self._auth(self._power)
        )
        app.router.add_post(f"{PREFIX}{guest}/snapshot", self._auth(self._snapshot))
        app.router.add_post(f"{PREFIX}/nodes/{{node}}/vzdump", self._auth(self._vzdump))
        app.router.add_post(
            f"{PREFIX}{guest}/snapshot/{{snapname}}/rollback",
            self._auth(self._rollback),
        )
        app.router.add_delete(
            f"{PREFIX}{guest}/snapshot/{{snapname}}", self._auth(self._delsnapshot)
        )
        self._node_power_routes(app)
        app.router.add_route("*", "/{tail:.*}", self._public(self._not_implemented))

    @staticmethod
    def _data(data: Any) -> web.Response:
        return web.json_response({"data": data})

    @staticmethod
    def _error_response(err: PveError) -> web.Response:
        body: dict[str, Any] = {"data": None, "message": err.message + "\n"}
        if err.errors:
            body["errors"] = err.errors
        return web.json_response(body, status=err.status, reason=err.message)

    def _public(
        self, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
        async def wrapped(request: web.Request) -> web.StreamResponse:
            try:
                return await handler(request)
            except PveError as err:
                return self._error_response(err)

        return wrapped

    def _auth(
        self, handler: Handler, *, check_node: bool = True
    ) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
        async def wrapped(request: web.Request) -> web.StreamResponse:
            try:
                principal = self._authenticate(request)
                self._follow_machines()
                if check_node:
                    self._check_node(request)
                return await handler(request, principal)
            except PveError as err:
                return self._error_response(err)

        return wrapped

    # -- authentication -----------------------------------------------------------------

    def _authenticate(self, request: web.Request) -> Principal:
        header = request.headers.get("Authorization", "")
        if header.startswith("PVEAPIToken"):
            match = re.match(r"PVEAPIToken[= ]([^=]+)=(.+)$", header)
            token_id = match.group(1) if match else ""
            if not match or self.tokens.get(token_id) != match.group(2):
                raise PveError(401, "invalid token value!")
            userid = token_id.split("!")[0]
            return Principal(userid, self.token_privileges[token_id], token=token_id)
        match = re.search(
            r"(?:^|;\s*)PVEAuthCookie=([^;]*)", request.headers.get("Cookie", "")
        )
        if not match:
            raise PveError(401, "No ticket")
        ticket = self.tickets.get(unquote(match.group(1)))
        if ticket is None or time.time() - ticket.issued >= self.ticket_lifetime:
            raise PveError(401, "Permission denied - invalid PVE ticket")
        if (
            request.method != "GET"
            and request.headers.get("CSRFPreventionToken") != ticket.csrf
        ):
            raise PveError(401, "Permission denied - invalid csrf token")
        return ticket.principal

    async def _login(self, request: web.Request) -> web.StreamResponse:
        form = await request.post()
        username = str(form.get("username", ""))
        if "@" not in username and form.get("realm"):
            username = f"{username}@{form['realm']}"
        password = self.passwords.get(username)
        if password is None or form.get("password") != password:
            raise PveError(401, "authentication failure")
        now = time.time()
        signature = base64.b64encode(os.urandom(48)).decode()
        if username in self.tfa_users:
            half = f"PVE:!tfa!%7B%22totp%22%3Atrue%7D:{int(now):08X}::{signature}"
            return self._data({"username": username, "ticket": half, "NeedTFA": 1})
        ticket = f"PVE:{username}:{int(now):08X}::{signature}"
        csrf = f"{int(now):08X}:{base64.b64encode(os.urandom(24)).decode().rstrip('=')}"
        principal = Principal(username, self.user_privileges[username])
        self.tickets[ticket] = Ticket(principal, csrf, now)
        data: dict[str, Any] = {
            "username": username,
            "ticket": ticket,
            "CSRFPreventionToken": csrf,
        }
        if self.cluster_name:
            data["clustername"] = self.cluster_name
        return self._data(data)

    @staticmethod
    def _require(principal: Principal, path: str, privilege: str) -> None:
        if privilege not in principal.privileges:
            raise PveError(403, f"Permission check failed ({path}, {privilege})")

    def _check_node(self, request: web.Request) -> None:
        """Requests proxied to an offline node fail as pveproxy fails them."""
        name = request.match_info.get("node")
        if name is None:
            return
        node = self.nodes.get(name)
        if node is None:
            raise PveError(500, f"hostname lookup '{name}' failed - no such node")
        if not node.online:
            raise PveError(
                595,
                "Errors during connection establishment, proxy handler: No route to host",
            )

    async def _not_implemented(self, request: web.Request) -> web.StreamResponse:
        path = request.path.removeprefix(PREFIX)
        raise PveError(501, f"Method '{request.method} {path}' not implemented")

    # -- read endpoints -------------------------------------------------------------------

    async def _version(self, request: web.Request, _p: Principal) -> web.StreamResponse:
        return self._data(
            {
                "version": "9.1.3",
                "release": "9.1",
                "repoid": "e5010dce",
                "console": "html5",
            }
        )

    async def _permissions(
        self, request: web.Request, principal: Principal
    ) -> web.StreamResponse:
        privs = dict.fromkeys(sorted(principal.privileges), 1)
        return self._data({"/": privs} if privs else {})

    async def _cluster_status(
        self, request: web.Request, principal: Principal
    ) -> web.StreamResponse:
        self._require(principal, "/", "Sys.Audit")
        entries: list[dict[str, Any]] = []
        if self.cluster_name:
            entries.append(
                {
                    "type": "cluster",
                    "id": "cluster",
                    "name": self.cluster_name,
                    "nodes": len(self.nodes),
                    "quorate": 1,
                    "version": 3,
                }
            )
        for index, node in enumerate(self.nodes.values()):
            entries.append(
                {
                    "type": "node",
                    "id": f"node/{node.name}",
                    "name": node.name,
                    "ip": node.ip or f"192.168.1.{11 + index}",
                    "local": int(index == 0),
                    "nodeid": index + 1 if self.cluster_name else 0,
                    "online": int(node.online),
                    "level": "",
                }
            )
        return self._data(entries)

    def _node_stats(self, node: SimNode) -> dict[str, Any]:
        if not node.online:
            return {"status": "offline", "maxcpu": node.maxcpu, "maxmem": node.maxmem}
        running = [
            g
            for g in self.guests.values()
            if g.node == node.name and g.status == "running"
        ]
        mem = 2 * GIB + sum(self._guest_mem(g) for g in running)
        return {
            "status": "online",
            "cpu": round(0.02 + 0.03 * len(running) / max(1, node.maxcpu), 4),
            "maxcpu": node.maxcpu,
            "mem": min(mem, node.maxmem),
            "maxmem": node.maxmem,
            "uptime": int(time.time() - node.boot_time),
        }

    @staticmethod
    def _guest_mem(guest: SimGuest) -> int:
        if guest.status != "running":
            return 0
        return int(guest.maxmem * (0.3 + (guest.vmid % 5) / 10))

    def _guest_stats(self, guest: SimGuest) -> dict[str, Any]:
        """Live figures: counters grow with uptime so rates come out stable."""
        up = guest.uptime()
        running = guest.status == "running"
        return {
            "cpu": round(0.01 + (guest.vmid % 7) / 100, 4) if running else 0,
            "cpus": guest.maxcpu,
            "mem": self._guest_mem(guest),
            "maxmem": guest.maxmem,
            "maxdisk": guest.maxdisk,
            "netin": up * 2048 * (1 + guest.vmid % 3),
            "netout": up * 512 * (1 + guest.vmid % 4),
            "diskread": up * 4096,
            "diskwrite": up * 1024,
            "uptime": up,
        }

    def _resource_entry(self, guest: SimGuest) -> dict[str, Any]:
        entry: dict[str, Any] = {
            "id": f"{guest.type}/{guest.vmid}",
            "type": guest.type,
            "vmid": guest.vmid,
            "name": guest.name,
            "node": guest.node,
            "template": int(guest.template),
            "maxcpu": guest.maxcpu,
            "maxmem": guest.maxmem,
            "maxdisk": guest.maxdisk,
        }
        if not self.nodes[guest.node].online:
            entry["status"] = "unknown"
            return entry
        stats = self._guest_stats(guest)
        stats.pop("cpus")
        # pvestatd reports QEMU's run state: a paused VM is "paused" here.
        status = "paused" if guest.paused and guest.status == "running" else None
        if guest.halted and guest.status == "running":
            status = guest.halted
        entry.update(stats, status=status or guest.status, disk=guest.maxdisk // 4)
        if guest.lock:
            entry["lock"] = guest.lock
        return entry

    def _visible(self, principal: Principal) -> list[SimGuest]:
        if "VM.Audit" not in principal.privileges:
            return []
        return sorted(self.guests.values(), key=lambda g: g.vmid)

    async def _resources(
        self, request: web.Request, principal: Principal
    ) -> web.StreamResponse:
        kind = request.query.get("type")
        items: list[dict[str, Any]] = []
        if kind in (None, "node"):
            audit = "Sys.Audit" in principal.privileges
            for node in self.nodes.values():
                entry: dict[str, Any] = {
                    "id": f"node/{node.name}",
                    "type": "node",
                    "node": node.name,
                    "level": "",
                }
                if audit:
                    entry.update(self._node_stats(node), **{"cgroup-mode": 2})
                else:
                    entry["status"] = "online" if node.online else "offline"
                items.append(entry)
        if kind in (None, "vm"):
            items.extend(self._resource_entry(g) for g in self._visible(principal))
        if kind in (None, "storage"):
            items.extend(
                {
                    "id": f"storage/{node.name}/local",
                    "type": "storage",
                    "storage": "local",
                    "node": node.name,
                    "status": "available" if node.online else "unknown",
                    "plugintype": "dir",
                    "content": "iso,vztmpl,backup",
                    "shared": 0,
                    "disk": 20 * GIB,
                    "maxdisk": 100 * GIB,
                }
                for node in self.nodes.values()
            )
        return self._data(items)

    async def _nodes(
        self, request: web.Request, principal: Principal
    ) -> web.StreamResponse:
        items = []
        for node in self.nodes.values():
            stats = self._node_stats(node)
            if not node.online:
                stats = {"status": "offline"}
            items.append({"node": node.name, "level": "", **stats})
        return self._data(items)

    async def _node_version(
        self, request: web.Request, _p: Principal
    ) -> web.StreamResponse:
        return self._data({"version": "9.1.3", "release": "9.1", "repoid": "e5010dce"})

    async def _storage(self, request: web.Request, _p: Principal) -> web.StreamResponse:
        return self._data(
            [
                {
                    "storage": "local",
                    "type": "dir",
                    "content": "iso,vztmpl,backup",
                    "active": 1,
                    "enabled": 1,
                    "shared": 0,
                    "total": 100 * GIB,
                    "used": 20 * GIB,
                    "avail": 80 * GIB,
                    "used_fraction": 0.2,
                },
                {
                    "storage": "local-lvm",
                    "type": "lvmthin",
                    "content": "images,rootdir",
                    "active": 1,
                    "enabled": 1,
                    "shared": 0,
                    "total": 400 * GIB,
                    "used": 120 * GIB,
                    "avail": 280 * GIB,
                    "used_fraction": 0.3,
                },
            ]
        )

    async def _apt_update(
        self, request: web.Request, principal: Principal
    ) -> web.StreamResponse:
        node = request.match_info["node"]
        self._require(principal, f"/nodes/{node}", "Sys.Modify")
        return self._data([])

    def _task_entry(self, task: SimTask) -> dict[str, Any]:
        return {
            "upid": task.upid,
            "node": task.node,
            "pid": task.pid,
            "pstart": task.pstart,
            "starttime": task.starttime,
            "type": task.type,
            "id": task.id,
            "user": task.user,
        }

    async def _task_list(
        self, request: web.Request, _p: Principal
    ) -> web.StreamResponse:
        node = request.match_info["node"]
        typefilter = request.query.get("typefilter")
        vmid = request.query.get("vmid")
        statuses = request.query.get("statusfilter")
        wanted = set(statuses.split(",")) if statuses else None
        limit = int(request.query.get("limit", "50"))
        tasks = [
            t
            for t in reversed(self.tasks.values())
            if t.node == node
            and (typefilter is None or t.type == typefilter)
            and (vmid is None or t.id == vmid)
            and (wanted is None or _status_type(t) in wanted)
        ][:limit]
        items = []
        for task in tasks:
            entry = self._task_entry(task)
            if not task.running:
                entry.update(status=task.exitstatus, endtime=task.endtime)
            items.append(entry)
        return self._data(items)

    async def _task_status(
        self, request: web.Request, _p: Principal
    ) -> web.StreamResponse:
        task = self.tasks.get(request.match_info["upid"])
        if task is None or task.node != request.match_info["node"]:
            raise PveError(500, "no such task")
        entry = self._task_entry(task)
        entry["status"] = "running" if task.running else "stopped"
        if not task.running:
            entry["exitstatus"] = task.exitstatus
        return self._data(entry)

    def _guest(self, request: web.Request) -> SimGuest:
        """The guest of the path; as in Proxmox, it must be on that node."""
        node = request.match_info["node"]
        kind = request.match_info["type"]
        vmid = int(request.match_info["vmid"])
        guest = self.guests.get(vmid)
        if guest is None or guest.node != node or guest.type != kind:
            conf = "qemu-server" if kind == "qemu" else "lxc"
            raise PveError(
                500,
                f"Configuration file 'nodes/{node}/{conf}/{vmid}.conf' does not exist",
            )
        return guest

    async def _guest_list(
        self, request: web.Request, principal: Principal
    ) -> web.StreamResponse:
        node = request.match_info["node"]
        kind = request.match_info["type"]
        items = []
        for guest in self._visible(principal):
            if guest.node != node or guest.type != kind:
                continue
            entry: dict[str, Any] = {
                "vmid": guest.vmid,
                "name": guest.name,
                "status": guest.status,
                **self._guest_stats(guest),
            }
            if guest.template:
                entry["template"] = 1
            if guest.lock:
                entry["lock"] = guest.lock
            if kind == "lxc":
                entry.update(disk=guest.maxdisk // 4, maxswap=512 * 1024**2)
            items.append(entry)
        return self._data(items)

    async def _current(
        self, request: web.Request, principal: Principal
    ) -> web.StreamResponse:
        guest = self._guest(request)
        self._require(principal, f"/vms/{guest.vmid}", "VM.Audit")
        entry: dict[str, Any] = {
            "vmid": guest.vmid,
            "name": guest.name,
            "status": guest.status,
            "ha": {"managed": int(guest.ha_managed)},
            **self._guest_stats(guest),
        }
        if guest.template:
            entry["template"] = 1
        if guest.lock:
            entry["lock"] = guest.lock
        if guest.type == "qemu":
            running = guest.status == "running"
            entry["qmpstatus"] = (
                (guest.halted or ("paused" if guest.paused else "running"))
                if running
                else "stopped"
            )
        else:
            entry.update(disk=guest.maxdisk // 4, maxswap=512 * 1024**2)
        return self._data(entry)

    @staticmethod
    def _ip_addresses(addresses: list[str]) -> list[dict[str, Any]]:
        return [
            {
                "ip-address": address,
                "ip-address-type": "ipv6" if ":" in address else "ipv4",
                "prefix": 64 if ":" in address else 24,
            }
            for address in addresses
        ]

    async def _agent_interfaces(
        self, request: web.Request, principal: Principal
    ) -> web.StreamResponse:
        """What a VM's guest agent reports; an error without a running agent."""
        guest = self._guest(request)
        self._require(principal, f"/vms/{guest.vmid}", "VM.GuestAgent.Audit")
        if guest.status != "running":
            raise PveError(500, f"VM {guest.vmid} not running")
        if not guest.addresses:
            raise PveError(500, "QEMU guest agent is not running")
        loopback = {"name": "lo", "hardware-address": "00:00:00:00:00:00"}
        lan = {"name": "eth0", "hardware-address": "bc:24:11:00:00:01"}
        return self._data(
            {
                "result": [
                    {**loopback, "ip-addresses": self._ip_addresses(["127.0.0.1"])},
                    {**lan, "ip-addresses": self._ip_addresses(guest.addresses)},
                ]
            }
        )

    async def _lxc_interfaces(
        self, request: web.Request, principal: Principal
    ) -> web.StreamResponse:
        """A container's interfaces: "inet" and "inet6" with prefix lengths."""
        guest = self._guest(request)
        self._require(principal, f"/vms/{guest.vmid}", "VM.Audit")
        if guest.status != "running":
            raise PveError(500, f"CT {guest.vmid} not running")
        loopback: dict[str, Any] = {
            "name": "lo",
            "hwaddr": "00:00:00:00:00:00",
            "hardware-address": "00:00:00:00:00:00",
            "inet": "127.0.0.1/8",
            "inet6": "::1/128",
            "ip-addresses": self._ip_addresses(["127.0.0.1", "::1"]),
        }
        lan: dict[str, Any] = {
            "name": "eth0",
            "hwaddr": "bc:24:11:00:00:02",
            "hardware-address": "bc:24:11:00:00:02",
            "ip-addresses": self._ip_addresses(guest.addresses),
        }
        for key, family in (("inet", "ipv4"), ("inet6", "ipv6")):
            first = next(
                (a for a in lan["ip-addresses"] if a["ip-address-type"] == family),
                None,
            )
            if first is not None:
                lan[key] = f"{first['ip-address']}/{first['prefix']}"
        return self._data([loopback, lan])

    async def _snapshots(
        self, request: web.Request, principal: Principal
    ) -> web.StreamResponse:
        guest = self._guest(request)
        self._require(principal, f"/vms/{guest.vmid}", "VM.Audit")
        items: list[dict[str, Any]] = []
        for snap in guest.snapshots.values():
            item: dict[str, Any] = {
                "name": snap.name,
                "description": snap.description,
                "snaptime": snap.snaptime,
            }
            if snap.parent:
                item["parent"] = snap.parent
            if guest.type == "qemu":
                item["vmstate"] = int(snap.vmstate)
            items.append(item)
        current: dict[str, Any] = {"name": "current", "description": "You are here!"}
        if guest.current_parent:
            current["parent"] = guest.current_parent
        items.append(current)
        return self._data(items)

    # -- tasks ----------------------------------------------------------------------------

    def _task(
        self,
        guest: SimGuest,
        principal: Principal,
        action: str,
        delay: float,
        effect: Callable[[], None],
        *,
        lock: str | None = None,
        failure: str | None = None,
        skiplock: bool = False,
        kind: str | None = None,
    ) -> web.Response:
        """Start a UPID task: fails on a lock (unless `skiplock`) or fail_next,
        else applies `effect`."""
        prefix = "qm" if guest.type == "qemu" else "vz"
        kind = kind or {
            "snapshot": f"{prefix}snapshot",
            "delsnapshot": f"{prefix}delsnapshot",
            "vzdump": "vzdump",
        }.get(action, f"{prefix}{action}")
        now = int(time.time())
        self._pid += 1
        pstart = int(time.monotonic() * 100)
        upid = (
            f"UPID:{guest.node}:{self._pid:08X}:{pstart:08X}:{now:08X}:"
            f"{kind}:{guest.vmid}:{principal.task_user}:"
        )
        task = SimTask(
            upid,
            guest.node,
            kind,
            str(guest.vmid),
            principal.task_user,
            self._pid,
            pstart,
            now,
        )
        self.tasks[upid] = task
        if failure is None and guest.lock and not skiplock:
            failure = f"{guest.kind_word} is locked ({guest.lock})"
        if failure is None:
            failure = self._fail_next.pop(action, None)
        if failure is None and lock:
            guest.lock = lock

        def finish() -> None:
            task.running = False
            task.endtime = int(time.time())
            if failure is not None:
                task.exitstatus = failure
                return
            if lock and guest.lock == lock:
                guest.lock = None
            effect()
            task.exitstatus = "OK"

        if (handle := self.later(delay, finish)) is not None:
            self._handles.append(handle)
        return self._data(upid)

    async def _power(
        self, request: web.Request, principal: Principal
    ) -> web.StreamResponse:
        guest = self._guest(request)
        action = request.match_info["action"]
        if action not in (
            "start",
            "shutdown",
            "stop",
            "reboot",
            "suspend",
            "resume",
        ) and not (action == "reset" and guest.type == "qemu"):
            return await self._not_implemented(request)
        self._require(principal, f"/vms/{guest.vmid}", "VM.PowerMgmt")
        form = await request.post()
        running = guest.status == "running"
        label = f"{guest.kind_word} {guest.vmid}"
        if action in ("suspend", "resume") or guest.lock == "suspended":
            return self._suspend_or_resume(guest, principal, action, form)
        if action != "start" and not running:
            raise PveError(500, f"{label} not running")
        if action == "reset" and guest.lock:
            raise PveError(500, f"{guest.kind_word} is locked ({guest.lock})")

        def start() -> None:
            guest.status, guest.started_at, guest.paused = "running", time.time(), False

        def stop() -> None:
            guest.status, guest.started_at, guest.paused = "stopped", None, False

        def restart() -> None:
            guest.started_at = time.time()

        if action == "start" and guest.template:
            # vm_start refuses in its worker: the task fails.
            what = "vm" if guest.type == "qemu" else "CT"
            failure = f"you can't start a {what} if it's a template"
            return self._task(
                guest, principal, action, self.task_delay, start, failure=failure
            )
        if guest.ha_managed and action in ("start", "shutdown", "stop"):
            return self._ha_request(
                guest, principal, action, start if action == "start" else stop
            )
        if action == "start":
            failure = f"{label} already running" if running else None
            return self._task(
                guest, principal, action, self.start_delay, start, failure=failure
            )
        effects = {
            "shutdown": (self.stop_delay, stop),
            "stop": (self.task_delay, stop),
            "reboot": (self.stop_delay, restart),
            "reset": (self.task_delay, restart),
        }
        if action == "shutdown" and guest.paused:
            raise PveError(500, "VM is paused - cannot shutdown")
        delay, effect = effects[action]
        return self._task(guest, principal, action, delay, effect)

    def _ha_request(
        self,
        guest: SimGuest,
        principal: Principal,
        action: str,
        effect: Callable[[], None],
    ) -> web.Response:
        """An HA-managed guest: the task only sets the HA state ("Requesting HA
        start for VM 100") and ends OK; the HA manager acts a moment later."""

        def request() -> None:
            if (handle := self.later(self.ha_delay, effect)) is not None:
                self._handles.append(handle)

        kind = "hastart" if action == "start" else "hastop"
        return self._task(guest, principal, action, self.task_delay, request, kind=kind)

    # -- suspend and resume ---------------------------------------------------------------

    def _suspend_or_resume(
        self, guest: SimGuest, principal: Principal, action: str, form: Any
    ) -> web.Response:
        """Pause in RAM, hibernate to disk, and the wakes from either.

        A hibernated VM (stopped, lock `suspended`) wakes by `start` (or
        `resume`), which restores its RAM; any other action meets the lock.
        """
        label = f"{guest.kind_word} {guest.vmid}"
        hibernated = guest.status == "stopped" and guest.lock == "suspended"

        def paused(value: bool) -> Callable[[], None]:
            def apply() -> None:
                guest.paused = value
                if not value:
                    guest.halted = None

            return apply

        def hibernate() -> None:
            guest.status, guest.started_at, guest.paused = "stopped", None, False
            guest.lock = "suspended"

        def restore() -> None:
            guest.status, guest.started_at, guest.paused = "running", time.time(), False
            guest.lock = None

        if hibernated and action in ("start", "resume"):
            return self._task(
                guest, principal, action, self.restore_delay, restore, skiplock=True
            )
        if hibernated:
            raise PveError(500, f"{guest.kind_word} is locked (suspended)")
        if guest.status != "running":
            raise PveError(500, f"{label} not running")
        if action == "resume":
            return self._task(
                guest, principal, action, self.resume_delay, paused(False)
            )
        if form.get("todisk") in ("1", "true", "yes", "on"):
            # The RAM image is a new volume of the VM.
            self._require(principal, f"/vms/{guest.vmid}", "VM.Config.Disk")
            return self._task(
                guest,
                principal,
                action,
                self.hibernate_delay,
                hibernate,
                lock="suspending",
            )
        return self._task(guest, principal, action, self.pause_delay, paused(True))

    async def _snapshot(
        self, request: web.Request, principal: Principal
    ) -> web.StreamResponse:
        guest = self._guest(request)
        self._require(principal, f"/vms/{guest.vmid}", "VM.Snapshot")
        form = await request.post()
        name = str(form.get("snapname", ""))
        if not SNAPNAME_RE.match(name) or len(name) > 40:
            raise PveError(
                400,
                "Parameter verification failed.",
                {"snapname": f"invalid format - invalid configuration ID '{name}'"},
            )
        vmstate = form.get("vmstate") in ("1", "true", "yes", "on")
        if vmstate and guest.type == "lxc":
            raise PveError(
                400,
                "Parameter verification failed.",
                {
                    "vmstate": "property is not defined in schema and the schema does not allow additional properties"
                },
            )
        failure = (
            f"snapshot name '{name}' already used"
            if name in guest.snapshots or name == "current"
            else None
        )

        def create() -> None:
            guest.snapshots[name] = SimSnapshot(
                name,
                str(form.get("description", "")),
                int(time.time()),
                guest.current_parent,
                vmstate and guest.status == "running",
            )
            guest.current_parent = name

        return self._task(
            guest,
            principal,
            "snapshot",
            self.task_delay,
            create,
            lock="snapshot",
            failure=failure,
        )

    async def _vzdump(
        self, request: web.Request, principal: Principal
    ) -> web.StreamResponse:
        """One guest backed up now (WakeHub never asks for `all` or a pool)."""
        node = request.match_info["node"]
        form = await request.post()
        vmid = int(str(form.get("vmid", "0")))
        guest = self.guests.get(vmid)
        if guest is None or guest.node != node:
            conf = "lxc" if guest is not None and guest.type == "lxc" else "qemu-server"
            raise PveError(
                500,
                f"Configuration file 'nodes/{node}/{conf}/{vmid}.conf' does not exist",
            )
        storage = str(form.get("storage", ""))
        self._require(principal, f"/vms/{vmid}", "VM.Backup")
        self._require(principal, f"/storage/{storage}", "Datastore.AllocateSpace")
        # Proxmox checks the storage inside the task: the UPID comes back, then
        # the task fails with its words.
        failure = None
        if storage not in BACKUP_STORAGES:
            failure = (
                f"can't use storage '{storage}' for backups - wrong content type"
                if storage in OTHER_STORAGES
                else f"storage '{storage}' does not exist"
            )
        return self._task(
            guest,
            principal,
            "vzdump",
            self.task_delay,
            lambda: None,
            lock="backup",
            failure=failure,
        )

    def _snapshot_of(self, guest: SimGuest, name: str) -> SimSnapshot:
        snap = guest.snapshots.get(name)
        if snap is None:
            raise PveError(500, f"snapshot '{name}' does not exist")
        return snap

    async def _rollback(
        self, request: web.Request, principal: Principal
    ) -> web.StreamResponse:
        guest = self._guest(request)
        path = f"/vms/{guest.vmid}"
        if not principal.privileges & {"VM.Snapshot", "VM.Snapshot.Rollback"}:
            raise PveError(
                403, f"Permission check failed ({path}, VM.Snapshot.Rollback)"
            )
        await request.post()
        snap = self._snapshot_of(guest, request.match_info["snapname"])

        def rollback() -> None:
            guest.current_parent = snap.name
            if snap.vmstate:
                guest.status, guest.started_at = "running", time.time()
            else:
                guest.status, guest.started_at = "stopped", None

        return self._task(
            guest, principal, "rollback", self.task_delay, rollback, lock="rollback"
        )

    async def _delsnapshot(
        self, request: web.Request, principal: Principal
    ) -> web.StreamResponse:
        guest = self._guest(request)
        self._require(principal, f"/vms/{guest.vmid}", "VM.Snapshot")
        snap = self._snapshot_of(guest, request.match_info["snapname"])

        def delete() -> None:
            guest.snapshots.pop(snap.name, None)
            for other in guest.snapshots.values():
                if other.parent == snap.name:
                    other.parent = snap.parent
            if guest.current_parent == snap.name:
                guest.current_parent = snap.parent

        return self._task(
            guest,
            principal,
            "delsnapshot",
            self.task_delay,
            delete,
            lock="snapshot-delete",
        )

    # -- node power -------------------------------------------------------------------

    def attach_machine(
        self, node: str, machine: MachineSimulator, *, configure_mac: bool = True
    ) -> None:
        """Make `machine` the node's hardware: the node is online while it is powered.

        With `configure_mac`, the node's `wakeonlan` MAC is the machine's, as
        `pvenode config set --wakeonlan <MAC>` sets it.
        """
        self.machines[node] = machine
        if configure_mac:
            self.nodes[node].wakeonlan = machine.mac
        self._follow_machines()

    def set_wakeonlan(self, node: str, mac: str | None) -> None:
        self.nodes[node].wakeonlan = mac

    def _follow_machines(self) -> None:
        for name, machine in self.machines.items():
            node = self.nodes[name]
            if machine.powered and not node.online:
                node.boot_time = time.time()
            elif node.online and not machine.powered:
                self._stop_guests(name)  # its power was cut
            node.online = machine.powered

    def _stop_guests(self, name: str) -> None:
        for guest in self.guests.values():
            if guest.node == name:
                guest.status, guest.started_at, guest.paused = "stopped", None, False

    def _node_power_routes(self, app: web.Application) -> None:
        node = f"{PREFIX}/nodes/{{node}}"
        app.router.add_post(f"{node}/status", self._auth(self._node_command))
        # Not proxied: the target is off, the answering node sends the packet.
        app.router.add_post(
            f"{node}/wakeonlan", self._auth(self._wakeonlan, check_node=False)
        )

    def _in_background(self, coro: Awaitable[None]) -> None:
        async def run() -> None:
            await coro

        task = asyncio.get_running_loop().create_task(run())
        self._node_tasks.add(task)
        task.add_done_callback(self._node_tasks.discard)

    def _power_node(self, name: str, on: bool) -> None:
        """Switch a node's power: its machine's when attached, else the flag."""
        if (machine := self.machines.get(name)) is not None:
            self._in_background(machine.power_on() if on else machine.power_off())
            return
        node = self.nodes[name]
        if on and not node.online:
            node.boot_time = time.time()
        node.online = on

    async def _node_command(
        self, request: web.Request, principal: Principal
    ) -> web.StreamResponse:
        name = request.match_info["node"]
        self._require(principal, f"/nodes/{name}", "Sys.PowerMgmt")
        form = await request.post()
        command = str(form.get("command", ""))
        if command not in ("shutdown", "reboot"):
            raise PveError(
                400,
                "Parameter verification failed.",
                {
                    "command": f"value '{command}' does not have a value in the enumeration 'reboot, shutdown'"
                },
            )
        # Like the node's own shutdown: every guest is stopped, then it goes off.
        self._stop_guests(name)

        def off() -> None:
            self._power_node(name, False)
            if command == "reboot":
                handle = self.later(
                    self.node_reboot_delay, lambda: self._power_node(name, True)
                )
                if handle is not None:
                    self._handles.append(handle)

        if (handle := self.later(self.stop_delay, off)) is not None:
            self._handles.append(handle)
        return self._data(None)

    async def _wakeonlan(
        self, request: web.Request, principal: Principal
    ) -> web.StreamResponse:
        name = request.match_info["node"]
        self._require(principal, f"/nodes/{name}", "Sys.PowerMgmt")
        node = self.nodes.get(name)
        if node is None:
            raise PveError(500, f"hostname lookup '{name}' failed - no such node")
        answering = next((n for n in self.nodes.values() if n.online), None)
        if answering is node:
            raise PveError(500, f"node '{name}' is local node, cannot wake my self!")
        if not node.wakeonlan:
            raise PveError(500, f"No wake on LAN MAC address defined for '{name}'!")
        mac = node.wakeonlan
        self.wol_sent.append((name, mac))
        packet = b"\xff" * 6 + bytes.fromhex(mac.replace(":", "")) * 16
        if (machine := self.machines.get(name)) is not None:
            # A real datagram to the machine's "network card" on loopback.
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
                sock.sendto(packet, (machine.host, machine.udp_port))
        elif not node.online:
            handle = self.later(
                self.node_boot_delay, lambda: self._power_node(name, True)
            )
            if handle is not None:
                self._handles.append(handle)
        return self._data(mac)

    # -- contract -------------------------------------------------------------------------

    def check_contract(
        self, request: web.Request, body: bytes, response: web.StreamResponse
    ) -> list[str]:
        if not self.contract or not request.path.startswith(PREFIX):
            return []
        spec = load_spec(SPECS_DIR / SPEC_NAME)
        path = request.path.removeprefix(PREFIX) or "/"
        method = request.method
        params = dict(request.query)
        problems: list[str] = []
        if body:
            if request.content_type != "application/x-www-form-urlencoded":
                problems.append(
                    f"{method} {path}: body is {request.content_type}, Proxmox reads forms"
                )
            else:
                params.update(parse_qsl(body.decode(), keep_blank_values=True))
        problems.extend(spec.validate_request(method, path, params))
        if (
            response.status == 200
            and isinstance(response, web.Response)
            and response.body
        ):
            payload = json.loads(bytes(response.body))  # type: ignore[arg-type]
            if "data" not in payload:
                problems.append(f"{method} {path}: answer has no 'data' member")
            else:
                problems.extend(spec.validate_response(method, path, payload["data"]))
        return problems


def _status_type(task: SimTask) -> str:
    """A finished task's status as `statusfilter` names it (running: none)."""
    if task.running:
        return "running"
    if task.exitstatus == "OK":
        return "ok"
    if (task.exitstatus or "").startswith("WARNINGS"):
        return "warning"
    return "error"


@dataclass
class NotProxmoxSimulator(HttpSimulator):
    """Something else at the URL: a router's HTML page or another JSON API."""

    kind: str = "html"  # html | json | data (JSON with a `data` member, not PVE's)

    def setup_routes(self, app: web.Application) -> None:
        async def anything(request: web.Request) -> web.StreamResponse:
            if self.kind == "data":
                return web.json_response({"data": {"status": "ok"}})
            if self.kind == "json":
                return web.json_response({"status": "ok", "version": "1.0"})
            return web.Response(
                text="<!DOCTYPE html><html><head><title>Router login</title></head>"
                "<body><form>Password: <input type=password></form></body></html>",
                content_type="text/html",
            )

        app.router.add_route("*", "/{tail:.*}", anything)


async def _serve(args: argparse.Namespace) -> None:
    contract = (SPECS_DIR / SPEC_NAME).is_file()
    sim = ProxmoxSimulator(
        port=args.port,
        cluster_name=None if args.standalone else "homelab",
        node_names=("pve",) if args.standalone else ("pve1", "pve2"),
        node_count=None if args.standalone or not args.nodes else args.nodes,
        guest_count=args.guests,
        start_delay=3.0,
        stop_delay=5.0,
        task_delay=1.0,
        contract=contract,
    )
    await sim.start()
    print(f"Proxmox VE simulator on {sim.url}")
    print(f"  url:          {sim.url}")
    print("  username:     root@pam")
    print(f"  token_id:     wakehub   (full id {DEFAULT_TOKEN_ID})")
    print(f"  token_secret: {DEFAULT_TOKEN_SECRET}")
    print(f"  or password:  {DEFAULT_PASSWORD}")
    print(f"  certificate:  self-signed, SHA-256 {sim.fingerprint}")
    print(f"  guests:       {len(sim.guests)} on nodes {', '.join(sim.nodes)}")
    if not contract:
        print("  (contract checks off: ../shared/api-specs not found)")
    print("Ctrl-C to stop.")
    try:
        while True:
            await asyncio.sleep(5)
            for problem in sim.violations:
                print("contract violation:", problem)
            sim.violations.clear()
    finally:
        await sim.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8006)
    parser.add_argument(
        "--standalone", action="store_true", help="one node, no cluster"
    )
    parser.add_argument("--nodes", type=int, default=None, help="generate N nodes")
    parser.add_argument("--guests", type=int, default=None, help="generate N guests")
    args = parser.parse_args()
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(args))


if __name__ == "__main__":
    main()
