"""A container's start or stop is probed on that container alone."""

from __future__ import annotations

from homeassistant.const import ATTR_ENTITY_ID, STATE_OFF, STATE_ON
from homeassistant.core import HomeAssistant
import pytest

from tests.simulators.docker import DockerSimulator

pytestmark = pytest.mark.usefixtures("init_docker")


async def test_start_is_probed_on_the_container_alone(
    hass: HomeAssistant, docker_sim: DockerSimulator
) -> None:
    container = docker_sim.containers["nextcloud"]
    docker_sim.requests.clear()
    await hass.services.async_call(
        "switch", "turn_on", {ATTR_ENTITY_ID: "switch.nextcloud"}, blocking=True
    )
    await hass.async_block_till_done()
    assert hass.states.get("switch.nextcloud").state == STATE_ON
    gets = [r.path for r in docker_sim.requests if r.method == "GET"]
    own = f"/v1.56/containers/{container.id}/json"
    # One probe (it runs when Docker answers the start), then the one full poll,
    # which inspects a container that started for its boot time.
    assert gets == [own, "/v1.56/containers/json", own]


async def test_stop_is_probed_on_the_container_alone(
    hass: HomeAssistant, docker_sim: DockerSimulator
) -> None:
    container = docker_sim.containers["jellyfin"]
    docker_sim.requests.clear()
    await hass.services.async_call(
        "switch", "turn_off", {ATTR_ENTITY_ID: "switch.jellyfin"}, blocking=True
    )
    await hass.async_block_till_done()
    assert hass.states.get("switch.jellyfin").state == STATE_OFF
    gets = [r.path for r in docker_sim.requests if r.method == "GET"]
    # Its own stop timeout (by name), one probe (by id), one full poll.
    assert gets == [
        "/v1.56/containers/jellyfin/json",
        f"/v1.56/containers/{container.id}/json",
        "/v1.56/containers/json",
    ]
