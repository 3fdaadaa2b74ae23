"""Compose stacks: their members, in the order they start."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
import logging

from ...api.docker import (
    Container,
)

_LOGGER = logging.getLogger(__name__)


def stack_members(containers: Mapping[str, Container], project: str) -> list[Container]:
    """The containers of a compose project, in the order they start.

    A service starts after the services it depends on (compose's depends_on
    label); services that do not depend on each other start by name. A cycle,
    which compose itself refuses, is broken by name rather than refused.
    """
    members = [c for c in containers.values() if c.project == project]
    services = {c.service for c in members}
    needs = {
        service: {
            need
            for c in members
            if c.service == service
            for need in c.depends_on
            if need in services and need != service
        }
        for service in services
    }
    order: list[str] = []
    while needs:
        ready = sorted(s for s, pending in needs.items() if not pending) or [min(needs)]
        for service in ready:
            del needs[service]
            order.append(service)
        for pending in needs.values():
            pending.difference_update(ready)
    rank = {service: index for index, service in enumerate(order)}
    return sorted(members, key=lambda c: (rank[c.service], c.name))


HEALTHY = "service_healthy"
COMPLETED = "service_completed_successfully"


def awaited(members: Sequence[Container]) -> dict[str, str]:
    """Service -> what its dependents wait for before they start: HEALTHY or
    COMPLETED (services only started first are left out)."""
    conditions: dict[str, str] = {}
    for member in members:
        for service, condition in member.depends_on.items():
            if condition == COMPLETED or (
                condition == HEALTHY and conditions.get(service) != COMPLETED
            ):
                conditions[service] = condition
    return conditions
