"""Defensive parsers of Proxmox's answers: a mistyped field becomes None (or a
default), an answer of the wrong shape is InvalidResponse (fields.py)."""

from __future__ import annotations

from collections.abc import Mapping
import ipaddress
import re
from typing import Any

from ..fields import flag, opt_float, opt_int, opt_str, required_int, required_str, text
from .models import GuestType, ProxmoxGuest, ProxmoxNode, ProxmoxSnapshot


def parse_guest(item: Mapping[str, Any]) -> ProxmoxGuest:
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


def parse_node(item: Mapping[str, Any]) -> ProxmoxNode:
    return ProxmoxNode(
        name=required_str(item, "node", "a node of /cluster/resources"),
        online=item.get("status") == "online",
        cpu=opt_float(item.get("cpu")),
        maxcpu=opt_int(item.get("maxcpu")),
        mem=opt_int(item.get("mem")),
        maxmem=opt_int(item.get("maxmem")),
        uptime=opt_int(item.get("uptime")),
    )


def tree_order(snapshots: list[ProxmoxSnapshot]) -> list[ProxmoxSnapshot]:
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


def own_address(value: str | None) -> str | None:
    """An interface's address without its prefix length ("192.168.1.50/24"),
    None for a link-local one and anything that is not an address."""
    try:
        address = ipaddress.ip_address((value or "").split("/")[0])
    except ValueError:
        return None
    return None if address.is_link_local else str(address)
