"""The kinds of server WakeHub knows, each declared once as a `Kind` (kind.py).

A kind is a package (machine/, proxmox/, docker/, ovh/) that declares
`KIND`: its setup, its client factory, its subentry type, its secret
fields and its resources' entity descriptions; its `flow.py` declares its
wizard (`FLOW_KIND`). The integration's `async_setup_entry` only dispatches
here, so a new kind joins by adding its package and a line to `KINDS` (and
to config_flow.py's `FLOW_KINDS`).
"""

from __future__ import annotations

from . import docker, machine, ovh, proxmox
from .kind import Kind, KindSetup

# Imported up front: importing inside the event loop would block it.
KINDS: dict[str, Kind] = {
    kind.name: kind for kind in (machine.KIND, proxmox.KIND, docker.KIND, ovh.KIND)
}


def kind_setup(kind: str) -> KindSetup | None:
    """The setup function of a kind (None for an unknown kind)."""
    return KINDS[kind].setup if kind in KINDS else None
