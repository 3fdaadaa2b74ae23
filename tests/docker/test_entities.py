"""Entities of a Docker engine and its containers, and what one refresh costs."""

from __future__ import annotations

import datetime as dt
from unittest.mock import patch

from awesomeversion import AwesomeVersion
from freezegun.api import FrozenDateTimeFactory
from homeassistant.const import (
    STATE_OFF,
    STATE_ON,
    STATE_UNAVAILABLE,
    Platform,
    __version__ as ha_version,
)
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    snapshot_platform,
)
from syrupy.assertion import SnapshotAssertion

from custom_components.wakehub.api.models import ResourceStatus
from custom_components.wakehub.devices import entry_device
from custom_components.wakehub.kinds.docker.const import STATS_INTERVAL
from custom_components.wakehub.power import Transition, async_get_power_manager
from tests.simulators.docker import DockerSimulator

from .conftest import STARTED, SimFactory, docker_entry_for, populate


@pytest.mark.skipif(
    AwesomeVersion(ha_version) < AwesomeVersion("2026.10.0"),
    reason="snapshots are recorded with the newest Home Assistant",
)
@pytest.mark.parametrize(
    "platform", [Platform.BUTTON, Platform.SENSOR, Platform.SWITCH]
)
async def test_entities(
    hass: HomeAssistant,
    entity_registry: er.EntityRegistry,
    snapshot: SnapshotAssertion,
    docker_entry: MockConfigEntry,
    platform: Platform,
) -> None:
    """Every entity, against the simulator (fixed times: stable values)."""
    # snapshot_platform wants one platform at a time.
    with patch("custom_components.wakehub.PLATFORMS", [platform]):
        assert await hass.config_entries.async_setup(docker_entry.entry_id)
        await hass.async_block_till_done()
        # Snapshot the entities disabled by default (force stop) too.
        for entity in er.async_entries_for_config_entry(
            entity_registry, docker_entry.entry_id
        ):
            if entity.disabled_by is not None:
                entity_registry.async_update_entity(entity.entity_id, disabled_by=None)
        await hass.config_entries.async_reload(docker_entry.entry_id)
        await hass.async_block_till_done()
    await snapshot_platform(hass, entity_registry, snapshot, docker_entry.entry_id)


@pytest.mark.usefixtures("entity_registry_enabled_by_default", "init_docker")
async def test_states_and_devices(
    hass: HomeAssistant, docker_sim: DockerSimulator, docker_entry: MockConfigEntry
) -> None:
    assert hass.states.get("switch.jellyfin").state == STATE_ON
    assert hass.states.get("switch.nextcloud").state == STATE_OFF
    status = hass.states.get("sensor.jellyfin_status")
    assert status.state == "running"
    assert status.attributes["state"] == "running"
    assert hass.states.get("sensor.nextcloud_status").state == "stopped"
    assert hass.states.get("sensor.nextcloud_status").attributes["state"] == "exited"
    assert hass.states.get("sensor.paperless_status").state == "paused"
    assert hass.states.get("sensor.jellyfin_health").state == "healthy"
    # Stopped: its health is not reported (nextcloud has no healthcheck either).
    assert hass.states.get("sensor.nextcloud_health").state == STATE_UNAVAILABLE
    assert hass.states.get("sensor.jellyfin_memory").state == "0.59"
    # Rates and CPU need two samples: unavailable after the first poll.
    assert hass.states.get("sensor.jellyfin_cpu").state == STATE_UNAVAILABLE
    assert hass.states.get("sensor.jellyfin_network_in").state == STATE_UNAVAILABLE
    assert hass.states.get("sensor.jellyfin_booted").state == STARTED.isoformat()
    assert hass.states.get("sensor.docker_host_docker_status").state == "running"
    # Not followed: no entities.
    assert hass.states.get("switch.homepage") is None

    engine = entry_device(hass, docker_entry.entry_id, docker_sim.engine_id)
    assert engine is not None
    assert engine.sw_version == "29.0.0"
    jellyfin = entry_device(
        hass, docker_entry.entry_id, f"{docker_sim.engine_id}_jellyfin"
    )
    assert jellyfin is not None
    assert jellyfin.model == "jellyfin/jellyfin:10.10"
    # What it runs: the image's tag, or its OCI version label when it has one.
    assert jellyfin.sw_version == "10.10"
    paperless = entry_device(
        hass, docker_entry.entry_id, f"{docker_sim.engine_id}_paperless"
    )
    assert paperless is not None
    assert paperless.sw_version == "2.14.7"
    assert jellyfin.via_device_id == engine.id
    if hasattr(jellyfin, "config_subentry_id"):  # Home Assistant 2026.8 and later
        assert jellyfin.config_subentry_id == "sub_jellyfin"
    else:
        subentries = jellyfin.config_entries_subentries[docker_entry.entry_id]
        assert subentries == {"sub_jellyfin"}


@pytest.mark.usefixtures("entity_registry_enabled_by_default")
async def test_second_stats_sample_gives_rates(
    hass: HomeAssistant, init_docker: MockConfigEntry, freezer: FrozenDateTimeFactory
) -> None:
    coordinator = init_docker.runtime_data.coordinator
    # A poll before the stats interval is over keeps the first sample's figures.
    await coordinator.async_refresh()
    await hass.async_block_till_done()
    assert hass.states.get("sensor.jellyfin_memory").state == "0.59"
    assert hass.states.get("sensor.jellyfin_cpu").state == STATE_UNAVAILABLE

    freezer.tick(STATS_INTERVAL)
    await coordinator.async_refresh()
    await hass.async_block_till_done()
    assert float(hass.states.get("sensor.jellyfin_cpu").state) >= 0
    assert float(hass.states.get("sensor.jellyfin_network_in").state) > 0
    assert float(hass.states.get("sensor.jellyfin_network_out").state) > 0
    assert hass.states.get("sensor.nextcloud_cpu").state == STATE_UNAVAILABLE


@pytest.mark.usefixtures("entity_registry_enabled_by_default")
async def test_stopped_container_loses_its_figures(
    hass: HomeAssistant, docker_sim: DockerSimulator, init_docker: MockConfigEntry
) -> None:
    docker_sim.containers["jellyfin"].state = "exited"
    await init_docker.runtime_data.coordinator.async_refresh()
    await hass.async_block_till_done()
    assert hass.states.get("sensor.jellyfin_memory").state == STATE_UNAVAILABLE


@pytest.mark.parametrize("stats", [True, False])
async def test_requests_per_refresh(
    hass: HomeAssistant,
    make_sim: SimFactory,
    freezer: FrozenDateTimeFactory,
    stats: bool,
) -> None:
    """One list per poll; stats of the followed running containers once per
    stats interval, in a task of their own."""
    sim = populate(await make_sim())
    entry = docker_entry_for(sim, options={"stats": stats})
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    paths = [r.path for r in sim.requests]
    # ping, info, list, one inspect for jellyfin's boot time, and when stats
    # are on a first sample (jellyfin only: nextcloud exited, paperless paused).
    assert paths[:3] == ["/_ping", "/v1.56/info", "/v1.56/containers/json"]
    assert sim.count("GET", "/v1.56/containers/jellyfin") == 0  # by id
    assert sum("/json" in p and "containers/json" not in p for p in paths) == 1
    assert sum(p.endswith("/stats") for p in paths) == stats

    coordinator = entry.runtime_data.coordinator
    for _ in range(3):
        sim.requests.clear()
        freezer.tick(dt.timedelta(seconds=19))
        await coordinator.async_refresh()
        await hass.async_block_till_done()
        assert [r.path for r in sim.requests] == ["/v1.56/containers/json"]
        assert sim.requests[0].query == {"all": "1"}

    sim.requests.clear()
    freezer.tick(dt.timedelta(seconds=3))  # 60 s since the first sample
    await coordinator.async_refresh()
    await hass.async_block_till_done()
    paths = [r.path for r in sim.requests]
    assert paths[0] == "/v1.56/containers/json"
    assert len(paths) == 1 + stats
    if stats:
        assert paths[1].endswith("/stats")
        assert sim.requests[1].query == {"stream": "false", "one-shot": "true"}


async def test_stats_interval_follows_a_longer_polling_interval(
    hass: HomeAssistant, make_sim: SimFactory
) -> None:
    sim = populate(await make_sim())
    entry = docker_entry_for(sim, options={"scan_interval": 300})
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.runtime_data.coordinator.stats_interval == dt.timedelta(seconds=300)


async def test_no_stats_while_a_container_changes(
    hass: HomeAssistant,
    docker_sim: DockerSimulator,
    init_docker: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Probes of a start or stop are state-only; stats wait for the next poll."""
    coordinator = init_docker.runtime_data.coordinator
    power = async_get_power_manager(hass)
    key = f"{docker_sim.engine_id}_nextcloud"
    power.transitions.set(key, Transition(ResourceStatus.STARTING, "start"))
    freezer.tick(STATS_INTERVAL)
    docker_sim.requests.clear()
    await coordinator.async_refresh()
    await hass.async_block_till_done()
    assert [r.path for r in docker_sim.requests] == ["/v1.56/containers/json"]

    power.transitions.set(key, None)
    await coordinator.async_refresh()
    await hass.async_block_till_done()
    stats = [r.path for r in docker_sim.requests if r.path.endswith("/stats")]
    assert stats == [f"/v1.56/containers/{docker_sim.containers['jellyfin'].id}/stats"]


async def test_actions_are_confirmed_by_state_only_probes(
    hass: HomeAssistant,
    docker_sim: DockerSimulator,
    init_docker: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Stats are due, yet stopping jellyfin sends no stats request until the
    stop is confirmed: a stats request waits for the engine's next tick."""
    # The frozen clock stops the loop's too: no sleeping in the engine's stop.
    docker_sim.stop_delay = 0
    freezer.tick(STATS_INTERVAL)
    docker_sim.requests.clear()
    await hass.services.async_call(
        "switch", "turn_off", {"entity_id": "switch.jellyfin"}, blocking=True
    )
    assert hass.states.get("switch.jellyfin").state == STATE_OFF
    assert not any(r.path.endswith("/stats") for r in docker_sim.requests)


@pytest.mark.usefixtures("entity_registry_enabled_by_default")
async def test_stats_failure_keeps_the_states(
    hass: HomeAssistant,
    docker_sim: DockerSimulator,
    init_docker: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    coordinator = init_docker.runtime_data.coordinator
    docker_sim.fail_next("/stats", 500, "stats broke")
    freezer.tick(STATS_INTERVAL)
    await coordinator.async_refresh()
    await hass.async_block_till_done()
    assert coordinator.last_update_success
    assert hass.states.get("switch.jellyfin").state == STATE_ON
    # The previous sample stays until the next one.
    assert hass.states.get("sensor.jellyfin_memory").state == "0.59"
