"""What one poll knows of a resource: a typed, frozen value per kind.

Every kind's state extends `ResourceState`, the core every resource shares
(status and the usual figures); a kind adds its own typed fields (a Proxmox
guest's lock, a container's health, a VPS's addresses). Entities read them
through their descriptions' `value_fn` / `attr_fn` (descriptions.py), so no
value travels under a string key.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Self

from .api.models import ResourceStatus


@dataclass(frozen=True, kw_only=True)
class ResourceState:
    """One poll's view of a resource. None means "not reported by the platform"."""

    status: ResourceStatus
    cpu: float | None = None  # percent
    memory: float | None = None  # percent
    disk: float | None = None  # percent
    network_in: float | None = None  # bytes per second
    network_out: float | None = None  # bytes per second
    boot_time: datetime | None = None

    @property
    def is_running(self) -> bool:
        return self.status is ResourceStatus.RUNNING

    @property
    def is_stopped(self) -> bool:
        return self.status is ResourceStatus.STOPPED

    def stopped(self) -> Self:
        """This state once the resource stopped: what its platform would report
        while it sleeps (asleep.py). Kinds with fields only a running resource
        has clear them too."""
        return replace(
            self,
            status=ResourceStatus.STOPPED,
            cpu=None,
            memory=None,
            disk=None,
            network_in=None,
            network_out=None,
            boot_time=None,
        )
