"""The dependency graph across every WakeHub entry.

Edges come from host links (a Proxmox guest → the machine that is its node; a
container → the VM or machine its engine runs on) and from explicit dependencies.
Both are stored as entity-registry ids of WakeHub power switches, so renaming an
entity does not break them.

Lookups are dictionary reads: every poll asks for the dependents of every
resource (the idle detector), so with a thousand guests a scan per lookup would
cost a million steps a poll. The index is rebuilt, at the next lookup, after
anything that can change an edge:
- a resource registers or unregisters (its entry loads or unloads);
- its links change: an entry's options or subentries are updated, or a poll sees
  a guest on another node (checked after each poll of the resource's coordinator);
- the entity registry creates, removes or changes a switch that an edge names
  or resolved to (removed, re-created, renamed).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from homeassistant.config_entries import (
    SIGNAL_CONFIG_ENTRY_CHANGED,
    ConfigEntry,
    ConfigEntryChange,
)
from homeassistant.core import CALLBACK_TYPE, Event, HomeAssistant, callback
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.dispatcher import async_dispatcher_connect

from .asleep import server_asleep
from .const import DOMAIN
from .features import ResourceFeature
from .hosting import entry_host_links
from .resource import Resource

if TYPE_CHECKING:
    from .coordinator import WakeHubCoordinator

POWER_SUFFIX = "_power"


def power_switch_unique_id(resource_key: str) -> str:
    """Unique id of a resource's power switch (see switch.py)."""
    return f"{resource_key}{POWER_SUFFIX}"


@dataclass
class _Index:
    """Both directions of every edge between loaded resources, by resource key."""

    #: The dependency ids each resource had when indexed (to notice they changed).
    links: dict[str, tuple[str, ...]] = field(default_factory=dict)
    dependencies: dict[str, list[Resource]] = field(default_factory=dict)
    dependents: dict[str, list[Resource]] = field(default_factory=dict)
    #: Every id an edge names, and the entity id it resolved to: a registry
    #: change to anything else cannot change an edge.
    names: set[str] = field(default_factory=set)


@dataclass
class _Watch:
    """The resources of one coordinator, re-checked after each of its polls."""

    resources: dict[str, Resource]
    unsubscribe: CALLBACK_TYPE


class PowerGraph:
    """Who depends on whom, resolved against the loaded resources."""

    def __init__(self, hass: HomeAssistant, resources: Mapping[str, Resource]) -> None:
        self._hass = hass
        self._resources = resources
        self._index: _Index | None = None
        self._watches: dict[WakeHubCoordinator, _Watch] = {}
        self._unsubscribe: list[CALLBACK_TYPE] = []

    # -- keeping the index right -----------------------------------------------------
    @callback
    def async_track(self, resource: Resource) -> CALLBACK_TYPE:
        """Index `resource` (just added to the mapping); returns the undo.

        Call the undo after removing it from the mapping.
        """
        self._index = None
        if not self._unsubscribe:
            self._unsubscribe = [
                self._hass.bus.async_listen(
                    er.EVENT_ENTITY_REGISTRY_UPDATED, self._registry_updated
                ),
                async_dispatcher_connect(
                    self._hass, SIGNAL_CONFIG_ENTRY_CHANGED, self._entry_changed
                ),
            ]
        coordinator = resource.coordinator
        watch = self._watches.get(coordinator)
        if watch is None:
            watch = self._watches[coordinator] = self._watch(coordinator)
        watch.resources[resource.key] = resource
        if not coordinator.last_update_success:
            # Its first poll, at setup, failed before anything watched it:
            # whether it sleeps with its host is decided now, not a poll later.
            coordinator.asleep = server_asleep(self, coordinator)

        @callback
        def untrack() -> None:
            self._index = None
            if watch.resources.get(resource.key) is resource:
                del watch.resources[resource.key]
            if not watch.resources and self._watches.get(coordinator) is watch:
                del self._watches[coordinator]
                watch.unsubscribe()
            if not self._watches:
                for unsubscribe in self._unsubscribe:
                    unsubscribe()
                self._unsubscribe = []

        return untrack

    def _watch(self, coordinator: WakeHubCoordinator) -> _Watch:
        resources: dict[str, Resource] = {}

        # Registered before the entities' and the idle detector's listeners, so
        # they read edges that already follow a guest's migration.
        @callback
        def polled() -> None:
            self._check_links(resources.values())
            # Before the entities' listeners, which show what it decides.
            coordinator.asleep = server_asleep(self, coordinator)
            self._tell_hosted(coordinator)

        return _Watch(resources, coordinator.async_add_listener(polled))

    @callback
    def _tell_hosted(self, coordinator: WakeHubCoordinator) -> None:
        """A server that fails while its host is stopped shows its resources
        stopped (asleep.py): when a host's poll may have changed that, tell the
        entities of the failing servers linked to it."""
        for other in list(self._watches):
            if other is coordinator or other.last_update_success:
                continue
            for link in entry_host_links(other.config_entry):
                host = self.resource_for_switch(link)
                if host is not None and host.coordinator is coordinator:
                    other.async_update_listeners()
                    break

    @callback
    def _check_links(self, resources: Iterable[Resource]) -> None:
        """Drop the index if one of `resources` now names other dependencies."""
        if (index := self._index) is None:
            return
        for resource in resources:
            if index.links.get(resource.key) != tuple(resource.dependency_ids()):
                self._index = None
                return

    @callback
    def _entry_changed(self, change: ConfigEntryChange, entry: ConfigEntry) -> None:
        """Options or subentries (where dependencies are chosen) may have changed."""
        if entry.domain == DOMAIN:
            self._check_links(r for r in self._resources.values() if r.entry is entry)

    @callback
    def _registry_updated(
        self, event: Event[er.EventEntityRegistryUpdatedData]
    ) -> None:
        """A switch an edge names was created, removed, renamed or changed."""
        if (index := self._index) is None:
            return
        data = event.data
        entity_id = data["entity_id"]
        if entity_id in index.names or data.get("old_entity_id") in index.names:
            self._index = None
        elif data["action"] != "remove":
            entry = er.async_get(self._hass).async_get(entity_id)
            if entry is not None and entry.id in index.names:
                self._index = None

    def _current(self) -> _Index:
        if (index := self._index) is None:
            index = self._index = self._build()
        return index

    def _build(self) -> _Index:
        index = _Index()
        registry = er.async_get(self._hass)
        for resource in self._resources.values():
            ids = tuple(resource.dependency_ids())
            index.links[resource.key] = ids
            found = self._resolve(registry, resource, ids, index.names)
            index.dependencies[resource.key] = found
            for dependency in found:
                index.dependents.setdefault(dependency.key, []).append(resource)
        return index

    # -- resolving ids -----------------------------------------------------------------
    def resource_for_switch(self, registry_id_or_entity_id: str) -> Resource | None:
        """The loaded resource whose power switch this is, if any."""
        return self._switch_resource(
            _registry_entry(er.async_get(self._hass), registry_id_or_entity_id)
        )

    def _switch_resource(self, entry: er.RegistryEntry | None) -> Resource | None:
        if entry is None or entry.platform != DOMAIN:
            return None
        if not entry.unique_id.endswith(POWER_SUFFIX):
            return None
        return self._resources.get(entry.unique_id.removesuffix(POWER_SUFFIX))

    def _resolve(
        self,
        registry: er.EntityRegistry,
        resource: Resource,
        ids: Iterable[str],
        names: set[str] | None = None,
    ) -> list[Resource]:
        """The loaded, powered resources `ids` name (not `resource`, no repeats)."""
        found: list[Resource] = []
        for registry_id in ids:
            entry = _registry_entry(registry, registry_id)
            if names is not None:
                names.add(registry_id)
                if entry is not None:
                    names.add(entry.entity_id)
            dependency = self._switch_resource(entry)
            if (
                dependency is not None
                and dependency is not resource
                and dependency not in found
                and ResourceFeature.POWER in dependency.features
            ):
                found.append(dependency)
        return found

    def registry_id(self, resource: Resource) -> str | None:
        """The registry id of a resource's power switch (None before it exists)."""
        registry = er.async_get(self._hass)
        entity_id = registry.async_get_entity_id(
            "switch", DOMAIN, power_switch_unique_id(resource.key)
        )
        entry = registry.async_get(entity_id) if entity_id else None
        return entry.id if entry else None

    # -- lookups ---------------------------------------------------------------------------
    def dependencies(self, resource: Resource) -> list[Resource]:
        """What `resource` needs running first (loaded ones only)."""
        if self._resources.get(resource.key) is not resource:
            # Not loaded (yet): nothing indexed, resolve its ids directly.
            registry = er.async_get(self._hass)
            return self._resolve(registry, resource, resource.dependency_ids())
        return list(self._current().dependencies.get(resource.key, ()))

    def dependents(self, resource: Resource) -> list[Resource]:
        """The loaded resources that need `resource`."""
        if self._resources.get(resource.key) is not resource:
            return []  # edges only ever lead to loaded resources
        return list(self._current().dependents.get(resource.key, ()))

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


def _registry_entry(
    registry: er.EntityRegistry, registry_id_or_entity_id: str
) -> er.RegistryEntry | None:
    return registry.entities.get_entry(registry_id_or_entity_id) or registry.async_get(
        registry_id_or_entity_id
    )
