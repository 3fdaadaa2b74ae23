"""The power settings forms: dependencies stored by registry id, cycles refused."""

from __future__ import annotations

from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import entity_registry as er

from tests.power.conftest import JELLYFIN, NODE_SWITCH, VM_SWITCH, Lab

SETTINGS = {
    "stop_with_dependents": True,
    "idle_timeout": 20,
    "keep_awake": [],
}


async def test_machine_dependency_cycle_is_refused(
    hass: HomeAssistant, lab: Lab
) -> None:
    """The node cannot depend on a container that runs on it."""
    result = await hass.config_entries.options.async_init(lab.machine_entry.entry_id)
    result = await hass.config_entries.options.async_configure(
        result["flow_id"],
        {"timeout": 10, "scan_interval": 30, "dependencies": [JELLYFIN], **SETTINGS},
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"dependencies": "dependency_cycle"}
    assert result["description_placeholders"]["cycle"] == (
        "Node pve1 → jellyfin → docker → Node pve1"
    )
    # Depending on itself is a cycle too.
    result = await hass.config_entries.options.async_configure(
        result["flow_id"],
        {"timeout": 10, "scan_interval": 30, "dependencies": [NODE_SWITCH], **SETTINGS},
    )
    assert result["description_placeholders"]["cycle"] == "Node pve1 → Node pve1"
    # Without it, the options are saved.
    result = await hass.config_entries.options.async_configure(
        result["flow_id"],
        {"timeout": 10, "scan_interval": 30, "cpu_threshold": 20, **SETTINGS},
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert lab.machine_entry.options["cpu_threshold"] == 20
    assert lab.machine_entry.options["idle_timeout"] == 20
    await hass.async_block_till_done()


async def test_container_settings_are_saved_by_registry_id(
    hass: HomeAssistant, lab: Lab, entity_registry: er.EntityRegistry
) -> None:
    hass.states.async_set("media_player.tv", "off")
    subentry = next(
        s for s in lab.docker_entry.subentries.values() if s.title == "nextcloud"
    )
    result = await lab.docker_entry.start_subentry_reconfigure_flow(
        hass, subentry.subentry_id
    )
    assert result["step_id"] == "reconfigure"
    other = entity_registry.async_get_or_create("switch", "other", "lamp")
    # Only WakeHub power switches can be dependencies: an unknown entity,
    # another integration's switch or an auto-shutdown switch would be saved and
    # then silently ignored by the cascade, so the form refuses them.
    for wrong in ("switch.ghost", other.entity_id, "switch.jellyfin_auto_shutdown"):
        result = await hass.config_entries.subentries.async_configure(
            result["flow_id"], {"dependencies": [JELLYFIN, wrong], **SETTINGS}
        )
        assert result["errors"] == {"dependencies": "dependency_not_power_switch"}
    offered = next(
        selector
        for key, selector in result["data_schema"].schema.items()
        if str(key) == "dependencies"
    ).config["include_entities"]
    assert "switch.jellyfin_auto_shutdown" not in offered
    assert {JELLYFIN, VM_SWITCH, NODE_SWITCH} <= set(offered)
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"],
        {
            "dependencies": [JELLYFIN],
            "keep_awake": ["media_player.tv"],
            "network_threshold": 50,
            **{k: v for k, v in SETTINGS.items() if k != "keep_awake"},
        },
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    await hass.async_block_till_done()
    data = lab.docker_entry.subentries[subentry.subentry_id].data
    assert data["container"] == "nextcloud"  # what identifies it is kept
    assert data["dependencies"] == [entity_registry.async_get(JELLYFIN).id]
    assert data["keep_awake"] == ["media_player.tv"]
    assert data["network_threshold"] == 50

    # Renaming the dependency's entity does not break the link.
    entity_registry.async_update_entity(JELLYFIN, new_entity_id="switch.media_server")
    await hass.async_block_till_done()
    result = await lab.docker_entry.start_subentry_reconfigure_flow(
        hass, subentry.subentry_id
    )
    schema_defaults = {
        str(key): key.description.get("suggested_value")
        for key in result["data_schema"].schema
        if getattr(key, "description", None)
    }
    assert schema_defaults["dependencies"] == ["switch.media_server"]


async def test_vm_cannot_depend_on_its_own_container(
    hass: HomeAssistant, lab: Lab
) -> None:
    subentry = next(iter(lab.pve_entry.subentries.values()))
    result = await lab.pve_entry.start_subentry_reconfigure_flow(
        hass, subentry.subentry_id
    )
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], {"dependencies": [JELLYFIN], **SETTINGS}
    )
    assert result["errors"] == {"dependencies": "dependency_cycle"}
    assert result["description_placeholders"]["cycle"] == "docker → jellyfin → docker"
    assert hass.states.get(VM_SWITCH) is not None
