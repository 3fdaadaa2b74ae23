"""Nothing typed into a Docker form crashes: generated hostile input in every
form (harness: `tests/hostile.py`), and the cases that once answered HTTP 500."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from homeassistant.config_entries import SOURCE_USER
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowManager, FlowResultType
from hypothesis import strategies as st
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.wakehub.const import DOMAIN
from tests.hostile import TRANSLATIONS, fuzz_form, keep_subentries, loopback_network
from tests.simulators.docker import DockerSimulator, DockerTls

from .conftest import SimFactory, populate

# A trust menu's choices (and one it does not offer).
TRUST = {"next_step_id": "trust"}
TRUST_MENU = st.fixed_dictionaries(
    {"next_step_id": st.sampled_from(["trust", "not_trusted", "resources"])}
)
CONFIG = TRANSLATIONS["config"]
OPTIONS = TRANSLATIONS["options"]
CONTAINER = TRANSLATIONS["config_subentries"]["container"]
Form = tuple[FlowManager[Any, Any], str]
# Certificates of a CA the engine does not know: the TLS connection fails.
TLS = DockerTls.generate()


@pytest.fixture(autouse=True)
async def loopback_only(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[None]:
    async with loopback_network(monkeypatch):
        yield


async def docker_form(hass: HomeAssistant) -> Form:
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_USER}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "docker"}
    )
    return hass.config_entries.flow, result["flow_id"]


def form(sim: DockerSimulator) -> dict[str, Any]:
    return {"url": sim.docker_url, "verify_ssl": True}


async def test_docker_form(hass: HomeAssistant, docker_sim: DockerSimulator) -> None:
    assert await fuzz_form(
        hass,
        lambda: docker_form(hass),
        form(docker_sim),
        CONFIG,
        optional={
            "ca_cert": TLS.ca_cert,
            "client_cert": TLS.client_cert,
            "client_key": TLS.client_key,
        },
    )


async def test_certificate_and_resources_steps(
    hass: HomeAssistant, make_sim: SimFactory
) -> None:
    sim = populate(await make_sim(tls=True))

    async def certificate() -> Form:
        manager, flow_id = await docker_form(hass)
        result = await manager.async_configure(flow_id, form(sim))
        assert result["step_id"] == "certificate"
        return manager, flow_id

    assert await fuzz_form(
        hass, certificate, TRUST, CONFIG, also=TRUST_MENU, max_examples=30
    )

    async def resources() -> Form:
        manager, flow_id = await certificate()
        result = await manager.async_configure(flow_id, TRUST)
        assert result["step_id"] == "resources"
        return manager, flow_id

    assert await fuzz_form(
        hass,
        resources,
        {"resources": ["jellyfin"]},
        CONFIG,
        optional={"server_only": True},
        max_examples=30,
    )


async def test_reconfigure_form(
    hass: HomeAssistant, docker_entry: MockConfigEntry, docker_sim: DockerSimulator
) -> None:
    async def reconfigure() -> Form:
        result = await docker_entry.start_reconfigure_flow(hass)
        return hass.config_entries.flow, result["flow_id"]

    assert await fuzz_form(hass, reconfigure, form(docker_sim), CONFIG)


async def test_options_form(hass: HomeAssistant, docker_entry: MockConfigEntry) -> None:
    async def options() -> Form:
        result = await hass.config_entries.options.async_init(docker_entry.entry_id)
        return hass.config_entries.options, result["flow_id"]

    assert await fuzz_form(
        hass,
        options,
        {"timeout": 60, "scan_interval": 15, "stats": False},
        OPTIONS,
        optional={"host_link": "switch.nas"},
    )


async def test_subentry_forms(
    hass: HomeAssistant, docker_entry: MockConfigEntry
) -> None:
    """Add containers, and the power settings of a container."""

    async def add_containers() -> Form:
        result = await hass.config_entries.subentries.async_init(
            (docker_entry.entry_id, "container"), context={"source": SOURCE_USER}
        )
        return hass.config_entries.subentries, result["flow_id"]

    assert await fuzz_form(
        hass,
        add_containers,
        {"resources": ["homepage"]},
        CONTAINER,
        after=keep_subentries(hass, docker_entry),
    )

    async def power_settings() -> Form:
        result = await docker_entry.start_subentry_reconfigure_flow(
            hass, "sub_jellyfin"
        )
        return hass.config_entries.subentries, result["flow_id"]

    assert await fuzz_form(
        hass,
        power_settings,
        {"stop_with_dependents": False, "idle_timeout": 0},
        CONTAINER,
        optional={"cpu_threshold": 100, "keep_awake": ["media_player.tv"]},
    )


# -- the inputs that once answered HTTP 500 -------------------------------------------


@pytest.mark.parametrize(
    ("value", "key"),
    [
        ("", "blank"),
        (" \t ", "blank"),
        ("tcp://:2375", "docker_invalid_url"),
        ("tcp://127.0.0.1:70000", "invalid_port"),
        ("https://::1:2376", "docker_invalid_url"),
        ("unix://", "docker_invalid_url"),
        ("ssh://127.0.0.1", "docker_invalid_url"),
    ],
)
async def test_docker_url_errors(
    hass: HomeAssistant, docker_sim: DockerSimulator, value: str, key: str
) -> None:
    manager, flow_id = await docker_form(hass)
    result = await manager.async_configure(flow_id, {**form(docker_sim), "url": value})
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"url": key}
    result = await manager.async_configure(flow_id, form(docker_sim))
    assert result["step_id"] == "resources"


async def test_blank_url_in_reconfigure(
    hass: HomeAssistant, docker_entry: MockConfigEntry
) -> None:
    result = await docker_entry.start_reconfigure_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"url": "   ", "verify_ssl": True}
    )
    assert result["step_id"] == "reconfigure"
    assert result["errors"] == {"url": "blank"}
