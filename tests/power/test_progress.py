"""Progress in words: what a cascade waits for, on the resource's own page."""

from __future__ import annotations

from homeassistant.const import ATTR_ENTITY_ID
from homeassistant.core import Event, HomeAssistant, callback
import pytest

from tests.power.conftest import JELLYFIN, NODE_SWITCH, Lab

PROGRESS = "sensor.jellyfin_progress"
STATUS = "sensor.jellyfin_status"


def record_states(hass: HomeAssistant, entity_id: str) -> list[str]:
    """Every state `entity_id` takes, in order, deduplicated."""
    seen: list[str] = []

    @callback
    def record(event: Event) -> None:
        new = event.data["new_state"]
        if (
            event.data["entity_id"] == entity_id
            and new is not None
            and (not seen or seen[-1] != new.state)
        ):
            seen.append(new.state)

    hass.bus.async_listen("state_changed", record)
    return seen


@pytest.mark.usefixtures("entity_registry_enabled_by_default")
async def test_progress_through_a_whole_cascade_from_all_off(
    hass: HomeAssistant, lab: Lab
) -> None:
    assert hass.states.get(PROGRESS).state == "Nothing under way"
    texts = record_states(hass, PROGRESS)
    statuses = record_states(hass, STATUS)

    await hass.services.async_call(
        "switch", "turn_on", {ATTR_ENTITY_ID: JELLYFIN}, blocking=True
    )
    await hass.async_block_till_done()

    # Each layer, named, as it comes up; the steps a fast simulator may skip
    # between two writes are the platform waits, so the order is what counts.
    expected = [
        "Waiting for Node pve1: Wake-on-LAN sent, waiting for it to boot",
        "Waiting for docker: Starting the VM",
        "Starting the container",
        "Nothing under way",
    ]
    assert [t for t in texts if t in expected] == expected
    assert set(texts) - set(expected) <= {
        "Waiting for docker",  # between the node coming up and the VM's request
        "Waiting for docker: Waiting for homelab to answer",
        "Waiting for docker-vm to answer",
        "Waiting for Node pve1",
    }
    assert statuses[0] == "waiting"
    assert "starting" in statuses
    assert statuses[-1] == "running"


@pytest.mark.usefixtures("entity_registry_enabled_by_default")
async def test_progress_of_a_host_stopping_its_dependents_first(
    hass: HomeAssistant, lab: Lab
) -> None:
    await hass.services.async_call(
        "switch", "turn_on", {ATTR_ENTITY_ID: JELLYFIN}, blocking=True
    )
    texts = record_states(hass, "sensor.node_pve1_progress")
    await hass.services.async_call(
        "switch", "turn_off", {ATTR_ENTITY_ID: NODE_SWITCH}, blocking=True
    )
    await hass.async_block_till_done()
    assert texts == [
        "Stopping what runs on it first: docker",
        "Shutting down",
        "Nothing under way",
    ]


@pytest.mark.usefixtures("entity_registry_enabled_by_default")
async def test_progress_is_in_home_assistants_language(
    hass: HomeAssistant, lab: Lab
) -> None:
    await hass.config.async_update(language="fr")
    await hass.async_block_till_done()
    texts = record_states(hass, PROGRESS)
    await hass.services.async_call(
        "switch", "turn_on", {ATTR_ENTITY_ID: JELLYFIN}, blocking=True
    )
    await hass.async_block_till_done()
    assert "Démarrage du conteneur" in texts
    assert (
        "En attente de Node pve1 : Paquet Wake-on-LAN envoyé, en attente du démarrage"
        in texts
    )
