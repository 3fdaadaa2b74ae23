"""The Docker wizard over real sockets: every step, every error recovering."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
import os
from pathlib import Path
from typing import Any

from aiohttp import web
from homeassistant.config_entries import SOURCE_USER
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType, InvalidData
from homeassistant.helpers import entity_registry as er
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.wakehub.api.tls import format_fingerprint
from custom_components.wakehub.const import CONF_HOST_LINK, DOMAIN
from custom_components.wakehub.kinds.docker import flow as docker_flow
from tests.simulators.docker import DockerSimulator, DockerTls

from .conftest import SimFactory, docker_entry_for, populate

# Submits a trust menu: trust the certificate shown.
TRUST = {"next_step_id": "trust"}
# Submits the choose step with nothing but the server.
SERVER_ONLY = {"server_only": True}


async def start_docker_flow(hass: HomeAssistant) -> str:
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_USER}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "docker"}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "docker"
    return result["flow_id"]


async def _finish(
    hass: HomeAssistant, flow_id: str, sim: DockerSimulator, **fields: Any
) -> dict[str, Any]:
    """Submit the form for `sim`, pick jellyfin and nextcloud, get the entry."""
    result = await hass.config_entries.flow.async_configure(
        flow_id, {"url": sim.docker_url, "verify_ssl": True, **fields}
    )
    assert result["type"] is FlowResultType.FORM, result.get("errors")
    assert result["step_id"] == "resources"
    options = result["data_schema"].schema["resources"].config["options"]
    assert [o["value"] for o in options] == [
        "homepage",
        "jellyfin",
        "nextcloud",
        "paperless",
    ]
    assert options[1]["label"] == "jellyfin — jellyfin/jellyfin:10.10 (running)"
    result = await hass.config_entries.flow.async_configure(
        flow_id, {"resources": ["jellyfin", "nextcloud"]}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    return dict(result)


async def test_full_flow(hass: HomeAssistant, docker_sim: DockerSimulator) -> None:
    flow_id = await start_docker_flow(hass)
    result = await _finish(hass, flow_id, docker_sim)
    assert result["title"] == "docker-host"
    assert result["data"] == {
        "kind": "docker",
        "url": docker_sim.docker_url,
        "verify_ssl": True,
    }
    entry = result["result"]
    assert entry.unique_id == docker_sim.engine_id
    subentries = sorted(entry.subentries.values(), key=lambda s: s.title)
    assert [
        (s.subentry_type, s.unique_id, s.title, dict(s.data)) for s in subentries
    ] == [
        ("container", "jellyfin", "jellyfin", {"container": "jellyfin"}),
        ("container", "nextcloud", "nextcloud", {"container": "nextcloud"}),
    ]
    await hass.async_block_till_done()
    assert hass.states.get("switch.jellyfin").state == "on"


@pytest.fixture
async def web_server() -> Any:
    """A web server that is not Docker."""
    runners: list[web.AppRunner] = []

    async def factory() -> str:
        async def ping(_: web.Request) -> web.Response:
            return web.Response(status=404, text="no")

        app = web.Application()
        app.router.add_get("/_ping", ping)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        runners.append(runner)
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return f"tcp://127.0.0.1:{port}"

    yield factory
    for runner in runners:
        await runner.cleanup()


@pytest.mark.parametrize(
    ("failure", "error"),
    [
        ("missing_socket", {"base": "docker_socket_missing"}),
        ("unreachable", {"base": "cannot_connect"}),
        ("timeout", {"base": "timeout"}),
        ("not_docker", {"base": "not_that_kind"}),
        ("too_old", {"base": "docker_engine_too_old"}),
        ("bad_url", {"url": "docker_invalid_url"}),
        ("cert_without_key", {"base": "docker_client_cert_without_key"}),
        ("client_cert_refused", {"base": "certificate"}),
        ("bad_pem", {"base": "certificate"}),
    ],
)
async def test_errors_recover(
    hass: HomeAssistant,
    docker_sim: DockerSimulator,
    make_sim: SimFactory,
    socket_dir: str,
    web_server: Callable[[], Awaitable[str]],
    monkeypatch: pytest.MonkeyPatch,
    failure: str,
    error: dict[str, str],
) -> None:
    fields: dict[str, Any] = {}
    if failure == "missing_socket":
        fields["url"] = f"unix://{socket_dir}/docker.sock"
    elif failure == "unreachable":
        fields["url"] = "tcp://127.0.0.1:1"
    elif failure == "timeout":
        monkeypatch.setattr(docker_flow, "FLOW_TIMEOUT", 0.2)
        slow = await make_sim(delay=1.0)
        fields["url"] = slow.docker_url
    elif failure == "not_docker":
        fields["url"] = await web_server()
    elif failure == "too_old":
        fields["url"] = (await make_sim(api_version="1.30")).docker_url
    elif failure == "bad_url":
        fields["url"] = "ftp://127.0.0.1"
    elif failure == "cert_without_key":
        fields |= {"url": docker_sim.docker_url, "client_cert": "-----BEGIN X"}
    else:
        tls = DockerTls.generate()
        guarded = await make_sim(client_ca=tls)
        fields |= {
            "url": guarded.docker_url,
            "ca_cert": tls.ca_cert,
            "client_cert": tls.rogue_client_cert,
            "client_key": tls.rogue_client_key,
        }
        if failure == "bad_pem":
            fields["client_key"] = "-----BEGIN PRIVATE KEY-----\nnot a key\n"
    flow_id = await start_docker_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        flow_id, {"verify_ssl": True, **fields}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "docker"
    assert result["errors"] == error
    await _finish(hass, flow_id, docker_sim)


async def test_socket_permission(
    hass: HomeAssistant, make_sim: SimFactory, socket_dir: str
) -> None:
    path = f"{socket_dir}/docker.sock"
    sim = populate(await make_sim(unix_socket=path))
    Path(path).chmod(0o600)  # noqa: ASYNC240
    flow_id = await start_docker_flow(hass)
    as_root = os.geteuid() == 0
    if as_root:
        os.seteuid(65534)  # root ignores file modes: be `nobody` meanwhile
    try:
        result = await hass.config_entries.flow.async_configure(
            flow_id, {"url": sim.docker_url, "verify_ssl": True}
        )
    finally:
        if as_root:
            os.seteuid(0)
    assert result["errors"] == {"base": "docker_socket_permission"}
    await _finish(hass, flow_id, sim)


async def test_tls_client_certificates(
    hass: HomeAssistant, make_sim: SimFactory
) -> None:
    tls = DockerTls.generate()
    sim = populate(await make_sim(client_ca=tls))
    flow_id = await start_docker_flow(hass)
    result = await _finish(
        hass,
        flow_id,
        sim,
        ca_cert=tls.ca_cert,
        client_cert=tls.client_cert,
        client_key=tls.client_key,
    )
    assert result["data"]["client_key"] == tls.client_key
    assert result["data"]["url"].startswith("https://")
    await hass.async_block_till_done()
    assert hass.states.get("switch.jellyfin").state == "on"


async def test_pin_untrusted_certificate(
    hass: HomeAssistant, make_sim: SimFactory
) -> None:
    sim = populate(await make_sim(tls=True))
    flow_id = await start_docker_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        flow_id, {"url": sim.docker_url, "verify_ssl": True}
    )
    assert result["type"] is FlowResultType.MENU
    assert result["step_id"] == "certificate"
    assert sim.certificate is not None
    fingerprint = format_fingerprint(sim.certificate.der)
    assert result["description_placeholders"]["fingerprint"] == fingerprint
    result = await hass.config_entries.flow.async_configure(flow_id, TRUST)
    assert result["step_id"] == "resources"
    result = await hass.config_entries.flow.async_configure(
        flow_id, {"resources": ["jellyfin"]}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"]["fingerprint"] == fingerprint
    await hass.async_block_till_done()
    assert hass.states.get("switch.jellyfin").state == "on"


async def test_pin_with_client_certificates(
    hass: HomeAssistant, make_sim: SimFactory
) -> None:
    """The engine's CA is not given: its certificate is pinned, the client's sent."""
    tls = DockerTls.generate()
    sim = populate(await make_sim(client_ca=tls))
    flow_id = await start_docker_flow(hass)
    fields = {"client_cert": tls.client_cert, "client_key": tls.client_key}
    result = await hass.config_entries.flow.async_configure(
        flow_id, {"url": sim.docker_url, "verify_ssl": True, **fields}
    )
    assert result["step_id"] == "certificate"
    result = await hass.config_entries.flow.async_configure(flow_id, TRUST)
    assert result["step_id"] == "resources"


async def test_already_configured(
    hass: HomeAssistant, docker_sim: DockerSimulator
) -> None:
    docker_entry_for(docker_sim).add_to_hass(hass)
    flow_id = await start_docker_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        flow_id, {"url": docker_sim.docker_url, "verify_ssl": True}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"


# -- reconfigure ----------------------------------------------------------------------
async def test_reconfigure_keeps_blank_secrets(
    hass: HomeAssistant, make_sim: SimFactory
) -> None:
    tls = DockerTls.generate()
    sim = populate(await make_sim(client_ca=tls))
    secrets = {
        "ca_cert": tls.ca_cert,
        "client_cert": tls.client_cert,
        "client_key": tls.client_key,
    }
    entry = docker_entry_for(sim, data={"url": "https://127.0.0.1:1", **secrets})
    entry.add_to_hass(hass)
    result = await entry.start_reconfigure_flow(hass)
    assert result["step_id"] == "reconfigure"
    # Secrets are never shown back.
    assert all(
        key.default is vol_undefined() or key not in secrets
        for key in result["data_schema"].schema
        if str(key) in secrets
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"url": "https://127.0.0.1:1", "verify_ssl": True}
    )
    assert result["errors"] == {"base": "cannot_connect"}
    assert result["step_id"] == "reconfigure"
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"url": sim.docker_url, "verify_ssl": True}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    assert entry.data["url"] == sim.docker_url
    assert entry.data["client_key"] == tls.client_key


def vol_undefined() -> Any:
    from custom_components.wakehub.schema import vol

    return vol.UNDEFINED


async def test_reconfigure_other_engine(
    hass: HomeAssistant, docker_sim: DockerSimulator, make_sim: SimFactory
) -> None:
    entry = docker_entry_for(docker_sim)
    entry.add_to_hass(hass)
    other = await make_sim(engine_id="another-engine")
    result = await entry.start_reconfigure_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"url": other.docker_url, "verify_ssl": True}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "docker_wrong_engine"


async def test_reconfigure_changed_certificate(
    hass: HomeAssistant, make_sim: SimFactory
) -> None:
    """The pinned certificate changed: shown again, pinned again on confirm."""
    sim = populate(await make_sim(tls=True))
    entry = docker_entry_for(sim, data={"fingerprint": "AB:" * 31 + "AB"})
    entry.add_to_hass(hass)
    result = await entry.start_reconfigure_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"url": sim.docker_url, "verify_ssl": True}
    )
    assert result["step_id"] == "certificate_changed"
    assert result["description_placeholders"]["previous"] == "AB:" * 31 + "AB"
    assert sim.certificate is not None
    fingerprint = format_fingerprint(sim.certificate.der)
    assert result["description_placeholders"]["fingerprint"] == fingerprint
    result = await hass.config_entries.flow.async_configure(result["flow_id"], TRUST)
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    assert entry.data["fingerprint"] == fingerprint


# -- options --------------------------------------------------------------------------
async def test_options(
    hass: HomeAssistant,
    init_docker: MockConfigEntry,
    init_machine: MockConfigEntry,
    entity_registry: er.EntityRegistry,
) -> None:
    result = await hass.config_entries.options.async_init(init_docker.entry_id)
    assert result["step_id"] == "docker_options"
    result = await hass.config_entries.options.async_configure(
        result["flow_id"],
        {
            CONF_HOST_LINK: "switch.does_not_exist",
            "timeout": 60,
            "scan_interval": 15,
            "stats": False,
        },
    )
    assert result.get("errors") == {CONF_HOST_LINK: "docker_invalid_host_link"}, result
    # Not one of its own containers, not an auto-shutdown switch.
    for wrong in ("switch.jellyfin", "switch.nas_auto_shutdown"):
        result = await hass.config_entries.options.async_configure(
            result["flow_id"],
            {CONF_HOST_LINK: wrong, "timeout": 60, "scan_interval": 15},
        )
        assert result["errors"] == {CONF_HOST_LINK: "docker_invalid_host_link"}
    result = await hass.config_entries.options.async_configure(
        result["flow_id"],
        {
            CONF_HOST_LINK: "switch.nas",
            "timeout": 60.0,
            "scan_interval": 15,
            "stats": False,
        },
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    registry_id = entity_registry.async_get("switch.nas").id
    assert init_docker.options == {
        CONF_HOST_LINK: registry_id,
        "timeout": 60,
        "scan_interval": 15,
        "stats": False,
    }
    await hass.async_block_till_done()
    # Shown back as the entity it is now.
    result = await hass.config_entries.options.async_init(init_docker.entry_id)
    schema = result["data_schema"].schema
    link = next(key for key in schema if str(key) == CONF_HOST_LINK)
    assert link.description == {"suggested_value": "switch.nas"}
    # No link: none stored.
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"timeout": 60, "scan_interval": 15, "stats": True}
    )
    assert CONF_HOST_LINK not in init_docker.options


# -- subentries -----------------------------------------------------------------------
async def _add_containers(hass: HomeAssistant, entry: MockConfigEntry) -> Any:
    return await hass.config_entries.subentries.async_init(
        (entry.entry_id, "container"), context={"source": SOURCE_USER}
    )


async def test_add_and_remove_containers(
    hass: HomeAssistant, docker_sim: DockerSimulator, init_docker: MockConfigEntry
) -> None:
    docker_sim.add_container("adguard", image="adguard/adguardhome:v0.107")
    result = await _add_containers(hass, init_docker)
    assert result["type"] is FlowResultType.FORM
    options = result["data_schema"].schema["resources"].config["options"]
    assert [o["value"] for o in options] == ["adguard", "homepage"]
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], {"resources": ["homepage", "adguard"]}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    assert {s.unique_id for s in init_docker.subentries.values()} == {
        "jellyfin",
        "nextcloud",
        "paperless",
        "homepage",
        "adguard",
    }
    assert hass.states.get("switch.homepage").state == "on"
    assert hass.states.get("switch.adguard").state == "on"

    result = await _add_containers(hass, init_docker)
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "nothing_new"

    subentry_id = next(
        s.subentry_id for s in init_docker.subentries.values() if s.title == "homepage"
    )
    assert hass.config_entries.async_remove_subentry(init_docker, subentry_id)
    await hass.async_block_till_done()
    assert hass.states.get("switch.homepage") is None
    assert hass.states.get("switch.jellyfin").state == "on"


async def test_add_containers_failures(
    hass: HomeAssistant, docker_sim: DockerSimulator, init_docker: MockConfigEntry
) -> None:
    result = await _add_containers(hass, init_docker)
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], {"resources": []}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": "nothing_chosen"}

    docker_sim.fail_next("/_ping", 500, "down")
    result = await _add_containers(hass, init_docker)
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "cannot_connect"


@pytest.mark.usefixtures("init_docker")
async def test_stop_grace_setting(
    hass: HomeAssistant, docker_entry: MockConfigEntry
) -> None:
    """Set, validated, shown back, and cleared (blank: the container's own)."""

    async def reconfigure(grace: object) -> dict[str, Any]:
        result = await docker_entry.start_subentry_reconfigure_flow(
            hass, "sub_jellyfin"
        )
        assert result["step_id"] == "reconfigure"
        fields = {"stop_with_dependents": True, "idle_timeout": 30}
        if grace is not None:
            fields["stop_grace"] = grace
        return await hass.config_entries.subentries.async_configure(
            result["flow_id"], fields
        )

    result = await reconfigure(20.0)
    assert result["reason"] == "reconfigure_successful"
    await hass.async_block_till_done()
    data = docker_entry.subentries["sub_jellyfin"].data
    assert data["stop_grace"] == 20
    assert data["container"] == "jellyfin"

    result = await docker_entry.start_subentry_reconfigure_flow(hass, "sub_jellyfin")
    suggested = {
        str(key): key.description.get("suggested_value")
        for key in result["data_schema"].schema
        if getattr(key, "description", None)
    }
    assert suggested["stop_grace"] == 20
    with pytest.raises(InvalidData):
        await hass.config_entries.subentries.async_configure(
            result["flow_id"],
            {"stop_with_dependents": True, "idle_timeout": 30, "stop_grace": 7200},
        )

    result = await reconfigure(None)
    assert result["reason"] == "reconfigure_successful"
    await hass.async_block_till_done()
    assert "stop_grace" not in docker_entry.subentries["sub_jellyfin"].data


async def test_compose_projects_are_offered_as_stacks(
    hass: HomeAssistant, make_sim: SimFactory
) -> None:
    """A compose project is offered first, as its stack, with its size."""
    sim = await make_sim()
    sim.add_stack("media", {"web": ["db"], "db": []})
    sim.add_container("solo", image="busybox")
    flow_id = await start_docker_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        flow_id, {"url": sim.docker_url, "verify_ssl": True}
    )
    assert result["step_id"] == "resources"
    options = result["data_schema"].schema["resources"].config["options"]
    assert (options[0]["value"], options[0]["label"]) == (
        "stack:media",
        "stack: media (2 containers)",
    )
    result = await hass.config_entries.flow.async_configure(
        flow_id, {"resources": ["stack:media", "solo"]}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["description_placeholders"]["added"] == "media, solo"
    assert sorted(
        (s.unique_id, dict(s.data)) for s in result["result"].subentries.values()
    ) == [("solo", {"container": "solo"}), ("stack:media", {"stack": "media"})]
