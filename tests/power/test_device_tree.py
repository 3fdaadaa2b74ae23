"""The device tree mirrors the lab: host -> VM -> engine -> container.

One device per physical computer (the Proxmox node pve1 is shown on the machine
"Node pve1"), the VM under it, the Docker engine under the VM, the containers
under the engine; links changed at run time and registries written by the
previous version end in the same tree, with every entity id kept.
"""

from __future__ import annotations

from typing import Any

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr, entity_registry as er
from homeassistant.util import slugify
from pytest_homeassistant_custom_component.common import MockConfigEntry
from syrupy.assertion import SnapshotAssertion

from custom_components.wakehub.const import (
    CONF_HOST_LINK,
    CONF_HOST_LINKS,
    CONF_KIND,
    CONF_SCAN_INTERVAL,
    CONF_TIMEOUT,
    DOMAIN,
    KIND_DOCKER,
)
from custom_components.wakehub.devices import entry_device
from tests.proxmox.conftest import pve_data
from tests.simulators.docker import DockerSimulator

from .conftest import NODE_SWITCH, VM_SWITCH, Lab

# The node's figures, shown on the machine's device beside the machine's own.
NODE_SENSORS = ("status", "cpu", "memory", "booted")


def _entry_of(device: dr.DeviceEntry) -> str:
    # 2026.10 names a device's one entry; before, its first entry is primary.
    entry_id = getattr(device, "config_entry_id", None) or device.primary_config_entry
    assert entry_id is not None
    return entry_id


def device_tree(hass: HomeAssistant) -> dict[str, dict[str, Any]]:
    """Every WakeHub device by name: its server, parent (by name) and entities."""
    dev_reg, ent_reg = dr.async_get(hass), er.async_get(hass)
    devices = [
        device
        for entry in hass.config_entries.async_entries(DOMAIN)
        for device in dr.async_entries_for_config_entry(dev_reg, entry.entry_id)
    ]
    names = {device.id: device.name for device in devices}
    assert len(set(names.values())) == len(devices), "two devices share a name"
    tree: dict[str, dict[str, Any]] = {}
    for device in devices:
        entry = hass.config_entries.async_get_entry(_entry_of(device))
        assert entry is not None
        assert device.name is not None
        tree[device.name] = {
            "server": entry.title,
            "model": device.model,
            "via": names.get(device.via_device_id) if device.via_device_id else None,
            "entities": sorted(
                entity.entity_id
                for entity in er.async_entries_for_device(
                    ent_reg, device.id, include_disabled_entities=True
                )
            ),
        }
    return dict(sorted(tree.items()))


def _device_of(hass: HomeAssistant, entity_id: str) -> str | None:
    """The name of the device an entity is shown on."""
    entity = er.async_get(hass).async_get(entity_id)
    assert entity is not None, entity_id
    if entity.device_id is None:
        return None
    device = dr.async_get(hass).async_get(entity.device_id)
    assert device is not None
    return device.name


def _assert_linked_tree(hass: HomeAssistant, lab: Lab, node_prefix: str) -> None:
    """host -> VM -> engine -> container, the node being the machine."""
    tree = device_tree(hass)
    # pve2, unlinked, is known (its own device) once the cluster answered.
    assert set(tree) - {"pve2"} == {
        "Node pve1",
        "docker",
        "docker-vm",
        "jellyfin",
        "nextcloud",
    }
    assert tree["Node pve1"]["via"] is None
    assert tree["docker"]["via"] == "Node pve1"
    assert tree["docker-vm"]["via"] == "docker"
    assert tree["jellyfin"]["via"] == tree["nextcloud"]["via"] == "docker-vm"
    # No twin: the node has no device of its own in the Proxmox entry.
    assert entry_device(hass, lab.pve_entry.entry_id, "homelab_pve1") is None
    for sensor in NODE_SENSORS:
        assert f"sensor.{node_prefix}_{sensor}" in tree["Node pve1"]["entities"]


async def test_linked_lab(
    hass: HomeAssistant, lab: Lab, snapshot: SnapshotAssertion
) -> None:
    assert device_tree(hass) == snapshot


async def test_linked_lab_names(hass: HomeAssistant, lab: Lab) -> None:
    """Checked without snapshots too, so the oldest Home Assistant is covered."""
    _assert_linked_tree(hass, lab, "node_pve1_proxmox")
    ids = [
        entity.entity_id
        for entry in hass.config_entries.async_entries(DOMAIN)
        for entity in er.async_entries_for_config_entry(
            er.async_get(hass), entry.entry_id
        )
    ]
    assert [entity_id for entity_id in ids if entity_id.endswith("_2")] == []
    # Named apart from the machine's own figures on the same device.
    state = hass.states.get("sensor.node_pve1_proxmox_cpu")
    assert state is not None
    assert state.attributes["friendly_name"] == "Node pve1 Proxmox CPU"
    machine_cpu = hass.states.get("sensor.node_pve1_cpu")
    assert machine_cpu is not None
    assert machine_cpu.attributes["friendly_name"] == "Node pve1 CPU"


async def _set_pve_links(
    hass: HomeAssistant, entry: ConfigEntry, switch: str | None
) -> None:
    """What a user does: the options flow, which reloads the entry."""
    flow = await hass.config_entries.options.async_init(entry.entry_id)
    result = await hass.config_entries.options.async_configure(
        flow["flow_id"],
        {CONF_TIMEOUT: 10, CONF_SCAN_INTERVAL: 30}
        | ({"host_links": {"pve1": switch}} if switch else {}),
    )
    assert result["type"] == "create_entry"
    await hass.async_block_till_done()


async def _set_docker_link(hass: HomeAssistant, lab: Lab, switch: str | None) -> None:
    flow = await hass.config_entries.options.async_init(lab.docker_entry.entry_id)
    result = await hass.config_entries.options.async_configure(
        flow["flow_id"],
        {CONF_TIMEOUT: 10, CONF_SCAN_INTERVAL: 30, "stats": True}
        | ({CONF_HOST_LINK: switch} if switch else {}),
    )
    assert result["type"] == "create_entry"
    await hass.async_block_till_done()


async def test_links_changed_at_run_time(hass: HomeAssistant, lab: Lab) -> None:
    # Everything runs, so each server answers once its link is gone.
    await hass.services.async_call(
        "switch", "turn_on", {"entity_id": VM_SWITCH}, blocking=True
    )
    await hass.async_block_till_done()
    ent_reg = er.async_get(hass)
    registered = {
        entity.entity_id: entity.unique_id
        for entity in er.async_entries_for_config_entry(ent_reg, lab.pve_entry.entry_id)
    }
    # A figure the user disabled: no platform adds it, it must move all the same.
    ent_reg.async_update_entity(
        "sensor.node_pve1_proxmox_memory", disabled_by=er.RegistryEntryDisabler.USER
    )

    await _set_pve_links(hass, lab.pve_entry, None)
    tree = device_tree(hass)
    # Unlinked, the node is a device of its own again, its guest under it.
    assert tree["pve1"]["server"] == "homelab"
    assert tree["pve1"]["model"] == "Proxmox VE node"
    assert tree["docker"]["via"] == "pve1"
    for sensor in NODE_SENSORS:
        assert _device_of(hass, f"sensor.node_pve1_proxmox_{sensor}") == "pve1"
    assert not any("proxmox" in e for e in tree["Node pve1"]["entities"])
    assert ent_reg.async_get("sensor.node_pve1_proxmox_memory").disabled_by is (
        er.RegistryEntryDisabler.USER
    )

    await _set_pve_links(hass, lab.pve_entry, NODE_SWITCH)
    _assert_linked_tree(hass, lab, "node_pve1_proxmox")
    # The same entities, with the same ids, all along (and pve2's, now known).
    assert {
        entity.entity_id: entity.unique_id
        for entity in er.async_entries_for_config_entry(ent_reg, lab.pve_entry.entry_id)
        if not entity.unique_id.startswith("homelab_pve2_")
    } == registered
    assert lab.pve_entry.options[CONF_HOST_LINKS] == {
        "pve1": ent_reg.async_get(NODE_SWITCH).id
    }

    # The engine follows its link: under nothing, then under the machine.
    await _set_docker_link(hass, lab, None)
    tree = device_tree(hass)
    assert tree["docker-vm"]["via"] is None
    assert tree["jellyfin"]["via"] == "docker-vm"
    await _set_docker_link(hass, lab, NODE_SWITCH)
    assert device_tree(hass)["docker-vm"]["via"] == "Node pve1"
    await _set_docker_link(hass, lab, VM_SWITCH)
    _assert_linked_tree(hass, lab, "node_pve1_proxmox")


async def test_link_to_a_deleted_switch(hass: HomeAssistant, lab: Lab) -> None:
    """The linked switch is gone (its entry deleted): the node is its own device."""
    hass.config_entries.async_update_entry(
        lab.pve_entry, options={**lab.pve_entry.options, CONF_HOST_LINKS: {"pve1": "0"}}
    )
    await hass.config_entries.async_reload(lab.pve_entry.entry_id)
    await hass.async_block_till_done()
    tree = device_tree(hass)
    assert tree["docker"]["via"] == "pve1"
    assert "sensor.node_pve1_proxmox_status" in tree["pve1"]["entities"]


def _as_the_previous_version_left_it(hass: HomeAssistant, lab: Lab) -> None:
    """The registries as WakeHub 0.1.0 wrote them for the same entries and links.

    It gave the node a device of its own ("pve1") in the Proxmox entry, named
    its figures like any device's ("sensor.pve1_status"), hung the VM under that
    device and the engine under nothing.
    """
    dev_reg, ent_reg = dr.async_get(hass), er.async_get(hass)
    entry_id = lab.pve_entry.entry_id
    node = dev_reg.async_get_or_create(
        config_entry_id=entry_id,
        identifiers={(DOMAIN, "homelab_pve1")},
        name="pve1",
        manufacturer="Proxmox Server Solutions",
        model="Proxmox VE node",
    )
    for sensor in NODE_SENSORS:
        ent_reg.async_update_entity(
            f"sensor.node_pve1_proxmox_{sensor}",
            device_id=node.id,
            new_entity_id=f"sensor.pve1_{sensor}",
        )
    vm = entry_device(hass, entry_id, "homelab_100")
    engine = entry_device(hass, lab.docker_entry.entry_id, lab.docker.engine_id)
    assert vm is not None
    assert engine is not None
    dev_reg.async_update_device(vm.id, via_device_id=node.id)
    dev_reg.async_update_device(engine.id, via_device_id=None)


async def test_registry_of_the_previous_version(
    hass: HomeAssistant, lab: Lab, snapshot: SnapshotAssertion
) -> None:
    await _migrate_previous_version(hass, lab)
    assert device_tree(hass) == snapshot


async def test_registry_of_the_previous_version_names(
    hass: HomeAssistant, lab: Lab
) -> None:
    await _migrate_previous_version(hass, lab)
    # Entity ids (what automations hold) did not change; the devices did.
    _assert_linked_tree(hass, lab, "pve1")
    assert hass.states.get("sensor.pve1_status") is not None


async def _migrate_previous_version(hass: HomeAssistant, lab: Lab) -> None:
    for entry in (lab.docker_entry, lab.pve_entry):
        assert await hass.config_entries.async_unload(entry.entry_id)
    _as_the_previous_version_left_it(hass, lab)
    ent_reg = er.async_get(hass)
    before = {
        entity.unique_id: entity.entity_id
        for entry in (lab.pve_entry, lab.docker_entry)
        for entity in er.async_entries_for_config_entry(ent_reg, entry.entry_id)
    }
    assert device_tree(hass)["pve1"]["model"] == "Proxmox VE node"
    for entry in (lab.pve_entry, lab.docker_entry):
        assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    after = {
        entity.unique_id: entity.entity_id
        for entry in (lab.pve_entry, lab.docker_entry)
        for entity in er.async_entries_for_config_entry(ent_reg, entry.entry_id)
    }
    assert after == before


async def test_node_added_before_its_link(hass: HomeAssistant, lab: Lab) -> None:
    """The demo's path: machine "pve1", then a Proxmox entry, then the link.

    The node's entities are first made on its own device, named like the
    machine: they must not clash ("_2"), and keep their ids once linked.
    """
    await hass.services.async_call(
        "switch", "turn_on", {"entity_id": VM_SWITCH}, blocking=True
    )
    await hass.async_block_till_done()
    ent_reg = er.async_get(hass)
    # The machine's own figures, as a machine named "pve1" has them.
    for sensor in NODE_SENSORS:
        ent_reg.async_update_entity(
            f"sensor.node_pve1_{sensor}", new_entity_id=f"sensor.pve1_{sensor}"
        )
    # A Proxmox entry as the wizard creates it: no link, nodes never seen.
    assert await hass.config_entries.async_unload(lab.pve_entry.entry_id)
    entry = MockConfigEntry(
        domain=DOMAIN,
        title="lab2",
        unique_id="lab2",
        data=pve_data(lab.pve, cluster="lab2"),
        options={CONF_TIMEOUT: 10},
    )
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    node_ids = [f"sensor.pve1_proxmox_{sensor}" for sensor in NODE_SENSORS]
    for entity_id in node_ids:
        assert _device_of(hass, entity_id) == "pve1"
    everything = [entity.entity_id for entity in ent_reg.entities.values()]
    assert [entity_id for entity_id in everything if entity_id.endswith("_2")] == []

    await _set_pve_links(hass, entry, NODE_SWITCH)
    for entity_id in node_ids:
        assert _device_of(hass, entity_id) == "Node pve1"
    assert entry_device(hass, entry.entry_id, "lab2_pve1") is None
    assert await hass.config_entries.async_unload(entry.entry_id)


async def test_engine_named_like_its_vm(hass: HomeAssistant, lab: Lab) -> None:
    """The wizard names an engine after its host, so its device is named like
    the VM it sits under: the two devices' statuses must not clash ("_2")."""
    vm = _device_of(hass, VM_SWITCH)
    assert vm is not None
    docker = DockerSimulator(engine_id="b1d7e0c2-0000-4000-8000-00000000a2e2")
    docker.add_container("pihole", image="pihole/pihole:2024.07", state="running")
    await docker.start()
    entry = MockConfigEntry(
        domain=DOMAIN,
        title=vm,
        unique_id=docker.engine_id,
        data={CONF_KIND: KIND_DOCKER, "url": docker.docker_url, "verify_ssl": True},
        options={
            CONF_TIMEOUT: 10,
            CONF_HOST_LINK: er.async_get(hass).async_get(VM_SWITCH).id,  # type: ignore[union-attr]
        },
    )
    entry.add_to_hass(hass)
    try:
        assert await hass.config_entries.async_setup(entry.entry_id)
        await hass.async_block_till_done()
        everything = [
            entity.entity_id for entity in er.async_get(hass).entities.values()
        ]
        assert [entity_id for entity_id in everything if entity_id.endswith("_2")] == []
        vm_id = slugify(vm)
        engine = hass.states.get(f"sensor.{vm_id}_docker_status")
        assert engine is not None
        assert engine.state == "running"
        assert engine.attributes["friendly_name"] == f"{vm} Docker status"
        assert hass.states.get(f"sensor.{vm_id}_status") is not None  # the VM's own
    finally:
        assert await hass.config_entries.async_unload(entry.entry_id)
        await docker.stop()
