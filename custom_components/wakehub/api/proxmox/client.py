"""The Proxmox VE client: connection test, one-request polling, discovery and
node power. See the package docstring (__init__.py) for the whole public API."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final, Literal

from ..errors import InvalidResponse, NotThatKind, PermissionDenied
from ..fields import objects, opt_obj, opt_str, required_str, text
from .guests import GuestActions
from .models import ClusterState, GuestLike, ProxmoxGuest, ProxmoxIdentity, ProxmoxNode
from .parsers import own_address, parse_guest, parse_node
from .tasks import TaskFollower

# Privileges WakeHub needs on the guests, and the optional one for snapshots.
REQUIRED_PRIVILEGES: Final = ("VM.Audit", "VM.PowerMgmt")
OPTIONAL_PRIVILEGES: Final = ("VM.Snapshot",)


class ProxmoxClient(GuestActions, TaskFollower):
    """Async client for one Proxmox VE cluster or standalone host."""

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
                address = own_address(raw)
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
                node = parse_node(item)
                nodes[node.name] = node
            elif kind in ("qemu", "lxc") and "vmid" in item:
                guest = parse_guest(item)
                guests[guest.vmid] = guest
        return ClusterState(nodes=nodes, guests=guests)

    async def discover(self) -> list[ProxmoxGuest]:
        """Guests the user can pick: every VM and container but templates."""
        state = await self.fetch_state()
        return sorted(
            (g for g in state.guests.values() if not g.template), key=lambda g: g.vmid
        )

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
