"""Setup, unload, certificate pinning at runtime, and no secret anywhere."""

from __future__ import annotations

import logging

from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.wakehub.api.tls import format_fingerprint
from custom_components.wakehub.const import DOMAIN
from tests.simulators.docker import DockerSimulator, DockerTls

from .conftest import ENTRY_ID, SimFactory, docker_entry_for, populate


async def test_unreachable_engine_retries_setup(
    hass: HomeAssistant,
    docker_sim: DockerSimulator,
    hass_client: ClientSessionGenerator,
) -> None:
    """Setup retries; its diagnostics, downloaded to find out why, say it
    (they once answered HTTP 500: no runtime data), with no secret."""
    tls = DockerTls.generate()
    entry = docker_entry_for(
        docker_sim,
        data={
            "url": "tcp://127.0.0.1:1",
            "ca_cert": tls.ca_cert,
            "client_cert": tls.client_cert,
            "client_key": tls.client_key,
        },
    )
    entry.add_to_hass(hass)
    await hass.config_entries.async_setup(entry.entry_id)
    assert entry.state is ConfigEntryState.SETUP_RETRY
    assert entry.reason is not None
    assert "cannot connect" in entry.reason.lower()

    diagnostics = await get_diagnostics_for_config_entry(hass, hass_client, entry)
    assert diagnostics["entry"]["state"] == "setup_retry"
    assert diagnostics["entry"]["reason"] == entry.reason
    assert diagnostics["entry"]["data"]["client_key"] == "**REDACTED**"
    assert "coordinator" not in diagnostics
    assert tls.client_key.splitlines()[1] not in str(diagnostics)


async def test_unload_closes_the_socket_session(
    hass: HomeAssistant, make_sim: SimFactory, socket_dir: str
) -> None:
    sim = populate(await make_sim(unix_socket=f"{socket_dir}/docker.sock"))
    entry = docker_entry_for(sim)
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert hass.states.get("switch.jellyfin").state == "on"
    client = entry.runtime_data.coordinator.client
    session = client._own_session
    assert session is not None
    assert not session.closed
    assert await hass.config_entries.async_unload(entry.entry_id)
    assert session.closed


async def test_unload_during_a_stats_sample(
    hass: HomeAssistant,
    make_sim: SimFactory,
    socket_dir: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The sample under way is cancelled before the client's session closes."""
    sim = populate(
        await make_sim(unix_socket=f"{socket_dir}/docker.sock", stats_delay=0.5)
    )
    entry = docker_entry_for(sim)
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    # The first sample was started by the first poll and is still waiting.
    coordinator = entry.runtime_data.coordinator
    assert coordinator._stats_task is not None
    assert not coordinator._stats_task.done()
    assert await hass.config_entries.async_unload(entry.entry_id)
    assert coordinator._stats_task.cancelled()
    assert "Error" not in caplog.text


async def test_changed_certificate_raises_repair(
    hass: HomeAssistant, make_sim: SimFactory
) -> None:
    sim = populate(await make_sim(tls=True))
    pinned = "AB:" * 31 + "AB"
    entry = docker_entry_for(sim, data={"fingerprint": pinned})
    entry.add_to_hass(hass)
    await hass.config_entries.async_setup(entry.entry_id)
    assert entry.state is ConfigEntryState.SETUP_RETRY
    issue = ir.async_get(hass).async_get_issue(
        DOMAIN, f"certificate_changed_{ENTRY_ID}"
    )
    assert issue is not None
    assert sim.certificate is not None
    assert issue.translation_placeholders == {
        "name": "docker-host",
        "fingerprint": format_fingerprint(sim.certificate.der),
        "previous": pinned,
    }
    # Pinned again (reconfigure): the issue goes away at the next poll.
    hass.config_entries.async_update_entry(
        entry,
        data={**entry.data, "fingerprint": format_fingerprint(sim.certificate.der)},
    )
    await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED
    assert (
        ir.async_get(hass).async_get_issue(DOMAIN, f"certificate_changed_{ENTRY_ID}")
        is None
    )


@pytest.mark.usefixtures("entity_registry_enabled_by_default")
async def test_counter_reset_gives_no_rate(
    hass: HomeAssistant, docker_sim: DockerSimulator, init_docker: MockConfigEntry
) -> None:
    coordinator = init_docker.runtime_data.coordinator
    docker_sim.containers["jellyfin"].rx_bytes = 10**9
    await coordinator.async_refresh()
    docker_sim.containers["jellyfin"].rx_bytes = 0
    await coordinator.async_refresh()
    await hass.async_block_till_done()
    assert hass.states.get("sensor.jellyfin_network_in").state == "unavailable"


async def test_no_secret_in_logs_or_diagnostics(
    hass: HomeAssistant,
    make_sim: SimFactory,
    hass_client: ClientSessionGenerator,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    tls = DockerTls.generate()
    sim = populate(await make_sim(client_ca=tls, start_delay=0.01))
    secrets = {
        "ca_cert": tls.ca_cert,
        "client_cert": tls.client_cert,
        "client_key": tls.client_key,
    }
    entry = docker_entry_for(sim, data=secrets)
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    # A failing start and a failing poll log what went wrong, and nothing more.
    sim.fail_start("nextcloud", "boom")
    with pytest.raises(Exception, match="nextcloud"):
        await hass.services.async_call(
            "switch", "turn_on", {"entity_id": "switch.nextcloud"}, blocking=True
        )
    sim.fail_next("/containers/json", 500, "engine hiccup")
    await entry.runtime_data.coordinator.async_refresh()

    diagnostics = await get_diagnostics_for_config_entry(hass, hass_client, entry)
    assert diagnostics["entry"]["data"]["client_key"] == "**REDACTED**"
    key_body = tls.client_key.splitlines()[1]
    assert key_body not in str(diagnostics)
    assert key_body not in caplog.text
    assert "BEGIN PRIVATE KEY" not in caplog.text
