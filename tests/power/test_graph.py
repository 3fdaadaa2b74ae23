"""The dependency index: right after every change that can move an edge."""

from __future__ import annotations

from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
import pytest

from custom_components.wakehub.const import CONF_DEPENDENCIES
from custom_components.wakehub.graph import PowerGraph
from custom_components.wakehub.idle import DATA_IDLE
from custom_components.wakehub.power import async_get_power_manager
from custom_components.wakehub.resource import Resource
from tests.power.conftest import JELLYFIN, NODE_SWITCH, VM_SWITCH, Lab


def graph(hass: HomeAssistant) -> PowerGraph:
    return async_get_power_manager(hass).graph


def named(hass: HomeAssistant, name: str) -> Resource:
    power = async_get_power_manager(hass)
    return next(r for r in power.resources.values() if r.name == name)


def names(resources: list[Resource]) -> list[str]:
    return [r.name for r in resources]


async def test_edges_of_the_lab(hass: HomeAssistant, lab: Lab) -> None:
    g = graph(hass)
    machine, vm = named(hass, "Node pve1"), named(hass, "docker")
    jellyfin, nextcloud = named(hass, "jellyfin"), named(hass, "nextcloud")
    assert names(g.dependencies(jellyfin)) == ["docker"]
    assert names(g.dependencies(vm)) == ["Node pve1"]
    assert g.dependencies(machine) == []
    assert names(g.dependents(vm)) == ["jellyfin", "nextcloud"]
    assert names(g.dependents(machine)) == ["docker"]
    assert g.dependents(nextcloud) == []
    # Callers get their own lists: changing one does not change the graph.
    g.dependents(vm).clear()
    assert names(g.dependents(vm)) == ["jellyfin", "nextcloud"]
    assert names(g.find_cycle(machine, [jellyfin]) or []) == [
        "Node pve1",
        "jellyfin",
        "docker",
        "Node pve1",
    ]
    assert g.find_cycle(jellyfin, [nextcloud]) is None


async def test_lookups_and_polls_do_not_rebuild_the_index(
    hass: HomeAssistant, lab: Lab
) -> None:
    g = graph(hass)
    vm = named(hass, "docker")
    g.dependents(vm)
    index = g._index
    assert index is not None
    for _ in range(3):
        g.dependencies(vm)
        g.dependents(vm)
        await vm.coordinator.async_refresh()
        await named(hass, "jellyfin").coordinator.async_refresh()
    assert g._index is index


async def test_dependencies_chosen_in_a_subentry(
    hass: HomeAssistant, lab: Lab, entity_registry: er.EntityRegistry
) -> None:
    g = graph(hass)
    jellyfin, nextcloud = named(hass, "jellyfin"), named(hass, "nextcloud")
    subentry = lab.docker_entry.subentries[nextcloud.subentry_id or ""]
    hass.config_entries.async_update_subentry(
        lab.docker_entry,
        subentry,
        data={
            **subentry.data,
            CONF_DEPENDENCIES: [entity_registry.async_get(JELLYFIN).id],
        },
    )
    assert names(g.dependencies(nextcloud)) == ["docker", "jellyfin"]
    assert names(g.dependents(jellyfin)) == ["nextcloud"]

    # Renamed: the edge holds (it names the registry id).
    entity_registry.async_update_entity(JELLYFIN, new_entity_id="switch.media")
    assert names(g.dependencies(nextcloud)) == ["docker", "jellyfin"]

    # Removed from the registry: the edge is gone, not left dangling.
    entity_registry.async_remove("switch.media")
    assert names(g.dependencies(nextcloud)) == ["docker"]
    assert g.dependents(jellyfin) == []


async def test_switch_recreated_restores_the_edge(
    hass: HomeAssistant, lab: Lab, entity_registry: er.EntityRegistry
) -> None:
    g = graph(hass)
    vm, jellyfin = named(hass, "docker"), named(hass, "jellyfin")
    switch = entity_registry.async_get(VM_SWITCH)
    entity_registry.async_remove(VM_SWITCH)
    assert g.dependencies(jellyfin) == []
    assert g.dependents(vm) == []
    # Home Assistant gives a re-created entity its old registry id back.
    again = entity_registry.async_get_or_create(
        "switch", switch.platform, switch.unique_id, config_entry=lab.pve_entry
    )
    assert again.id == switch.id
    assert names(g.dependencies(jellyfin)) == ["docker"]
    assert names(g.dependents(vm)) == ["jellyfin", "nextcloud"]


async def test_a_migrated_guest_depends_on_its_new_node(
    hass: HomeAssistant, lab: Lab, entity_registry: er.EntityRegistry
) -> None:
    """The host link follows the guest to another node at the next poll."""
    g = graph(hass)
    machine, vm = named(hass, "Node pve1"), named(hass, "docker")
    await lab.node.power_on()
    await _refresh_until_up(vm)
    assert names(g.dependencies(vm)) == ["Node pve1"]

    lab.pve.migrate(100, "pve2")  # a node no machine is linked to
    await vm.coordinator.async_refresh()
    assert g.dependencies(vm) == []
    assert g.dependents(machine) == []

    lab.pve.migrate(100, "pve1")
    await vm.coordinator.async_refresh()
    assert names(g.dependents(machine)) == ["docker"]


async def _refresh_until_up(resource: Resource) -> None:
    for _ in range(200):
        await resource.coordinator.async_refresh()
        if resource.state is not None:
            return
    pytest.fail(f"{resource.name} never answered")


async def test_unloaded_entries_leave_the_graph(hass: HomeAssistant, lab: Lab) -> None:
    g = graph(hass)
    vm, jellyfin = named(hass, "docker"), named(hass, "jellyfin")
    assert await hass.config_entries.async_unload(lab.docker_entry.entry_id)
    assert g.dependents(vm) == []
    # A resource no longer loaded has no dependents; its dependencies are
    # still resolved against what is loaded.
    assert g.dependents(jellyfin) == []
    assert names(g.dependencies(jellyfin)) == ["docker"]

    assert await hass.config_entries.async_setup(lab.docker_entry.entry_id)
    await hass.async_block_till_done()
    assert names(g.dependents(vm)) == ["jellyfin", "nextcloud"]
    assert names(g.dependencies(vm)) == ["Node pve1"]
    assert hass.states.get(NODE_SWITCH) is not None


async def test_a_poll_evaluates_a_shared_dependency_once(
    hass: HomeAssistant, lab: Lab, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two containers on one VM: a poll of the engine evaluates the VM once."""
    monitor = hass.data[DATA_IDLE]
    evaluated: list[str] = []
    evaluate = monitor.async_evaluate

    def counting(resource: Resource) -> None:  # counts, then does the real work
        evaluated.append(resource.name)
        evaluate(resource)

    await lab.node.power_on()
    lab.pve.guests[100].status = "running"  # the engine answers from now on
    await _refresh_until_up(named(hass, "jellyfin"))
    monkeypatch.setattr(monitor, "async_evaluate", counting)
    await named(hass, "jellyfin").coordinator.async_refresh()
    assert sorted(evaluated) == ["docker", "jellyfin", "nextcloud"]
    # A poll of the cluster: its VM, and the machine the VM runs on, once each.
    evaluated.clear()
    await named(hass, "docker").coordinator.async_refresh()
    assert sorted(evaluated) == ["Node pve1", "docker"]
