"""The dependency graph across every WakeHub entry.

Edges come from host links (a Proxmox guest → the machine that is its node; a
container → the VM or machine its engine runs on) and from explicit dependencies.
Both are stored as entity-registry ids of WakeHub power switches, so renaming an
entity does not break them; they are resolved to resources on every use, which
keeps the graph right when entries load, unload or change, and when a guest
migrates to another node.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er

from .const import DOMAIN
from .resource import Resource, ResourceFeature

POWER_SUFFIX = "_power"


def power_switch_unique_id(resource_key: str) -> str:
    """Unique id of a resource's power switch (see switch.py)."""
    return f"{resource_key}{POWER_SUFFIX}"


class PowerGraph:
    """Who depends on whom, resolved against the loaded resources."""

    def __init__(self, hass: HomeAssistant, resources: Mapping[str, Resource]) -> None:
        self._hass = hass
        self._resources = resources

    def resource_for_switch(self, registry_id_or_entity_id: str) -> Resource | None:
        """The loaded resource whose power switch this is, if any."""
        registry = er.async_get(self._hass)
        entry = registry.entities.get_entry(
            registry_id_or_entity_id
        ) or registry.async_get(registry_id_or_entity_id)
        if entry is None or entry.platform != DOMAIN:
            return None
        if not entry.unique_id.endswith(POWER_SUFFIX):
            return None
        return self._resources.get(entry.unique_id.removesuffix(POWER_SUFFIX))

    def registry_id(self, resource: Resource) -> str | None:
        """The registry id of a resource's power switch (None before it exists)."""
        registry = er.async_get(self._hass)
        entity_id = registry.async_get_entity_id(
            "switch", DOMAIN, power_switch_unique_id(resource.key)
        )
        entry = registry.async_get(entity_id) if entity_id else None
        return entry.id if entry else None

    def dependencies(self, resource: Resource) -> list[Resource]:
        """What `resource` needs running first (loaded ones only)."""
        found: list[Resource] = []
        for registry_id in resource.dependency_ids():
            dependency = self.resource_for_switch(registry_id)
            if (
                dependency is not None
                and dependency is not resource
                and dependency not in found
                and ResourceFeature.POWER in dependency.features
            ):
                found.append(dependency)
        return found

    def dependents(self, resource: Resource) -> list[Resource]:
        """The loaded resources that need `resource`."""
        return [
            other
            for other in self._resources.values()
            if other is not resource and resource in self.dependencies(other)
        ]

    def find_cycle(
        self, resource: Resource, proposed: Iterable[Resource]
    ) -> list[Resource] | None:
        """The cycle `resource` would close by depending on `proposed`, if any.

        Returns the path [resource, ..., resource] for the error message.
        """
        for start in proposed:
            path = self._path(start, resource, [resource, start], {resource.key})
            if path is not None:
                return path
        return None

    def _path(
        self,
        current: Resource,
        target: Resource,
        path: list[Resource],
        seen: set[str],
    ) -> list[Resource] | None:
        if current is target:
            return path
        if current.key in seen:
            return None
        seen.add(current.key)
        for dependency in self.dependencies(current):
            found = self._path(dependency, target, [*path, dependency], seen)
            if found is not None:
                return found
        return None
