"""The Proxmox wizard, step by step, against the simulator over real sockets."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping
import socket
from typing import Any
from unittest.mock import patch

from aiohttp import ThreadedResolver, web
from homeassistant.config_entries import SOURCE_RECONFIGURE, SOURCE_USER
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType, section
from homeassistant.helpers import device_registry as dr, entity_registry as er
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.wakehub.const import DOMAIN
from custom_components.wakehub.kinds.proxmox import flow as pve_flow
from tests.conftest import find_device
from tests.simulators.proxmox import (
    ALL_PRIVILEGES,
    DEFAULT_PASSWORD,
    DEFAULT_TOKEN_SECRET,
    NotProxmoxSimulator,
    ProxmoxSimulator,
    PveError,
)

from .conftest import ENTRY_ID, guest_subentries, pve_data

# Submits a trust menu: trust the certificate shown.
TRUST = {"next_step_id": "trust"}
# Submits the choose step with nothing but the server.
SERVER_ONLY = {"server_only": True}


def form(sim: ProxmoxSimulator, **overrides: Any) -> dict[str, Any]:
    """What a user types into the Proxmox form (token by default)."""
    data: dict[str, Any] = {
        "url": sim.url,
        "username": "root@pam",
        "token_id": "wakehub",
        "token_secret": DEFAULT_TOKEN_SECRET,
        "verify_ssl": True,
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


async def start_flow(hass: HomeAssistant) -> str:
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_USER}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "proxmox"}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "proxmox"
    return result["flow_id"]


async def pin_and_select(
    hass: HomeAssistant, flow_id: str, result: dict[str, Any], fingerprint: str
) -> dict[str, Any]:
    """Confirm the certificate step, then choose two guests."""
    assert result["step_id"] == "certificate"
    assert result["description_placeholders"]["fingerprint"] == fingerprint
    result = await hass.config_entries.flow.async_configure(flow_id, TRUST)
    assert result["step_id"] == "resources"
    return await hass.config_entries.flow.async_configure(
        flow_id, {"resources": ["100", "102"]}
    )


async def test_token_flow_pins_the_certificate(
    hass: HomeAssistant, pve_sim: ProxmoxSimulator, quiet_handshakes: None
) -> None:
    flow_id = await start_flow(hass)
    result = await hass.config_entries.flow.async_configure(flow_id, form(pve_sim))
    assert result["type"] is FlowResultType.MENU
    assert result["step_id"] == "certificate"
    assert result["description_placeholders"]["fingerprint"] == pve_sim.fingerprint
    assert pve_sim.count(path_prefix="/api2") == 0, "nothing sent before the pin"

    result = await hass.config_entries.flow.async_configure(flow_id, TRUST)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "resources"
    assert result["description_placeholders"] == {"server": "homelab", "count": "5"}
    options = result["data_schema"].schema["resources"].config["options"]
    assert [o["label"] for o in options] == [
        "docker (100, qemu, pve1, running)",
        "windows11 (101, qemu, pve1, stopped)",
        "pihole (102, lxc, pve2, running)",
        "nextcloud (103, lxc, pve2, stopped)",
        "homeassistant (104, qemu, pve2, running)",
    ]  # the template 9000 is not offered

    result = await hass.config_entries.flow.async_configure(
        flow_id, {"resources": ["100", "102"]}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "homelab"
    entry = result["result"]
    assert entry.unique_id == "homelab"
    assert entry.data == pve_data(pve_sim)
    assert sorted(
        (s.subentry_type, s.title, s.unique_id, dict(s.data))
        for s in entry.subentries.values()
    ) == [
        (
            "guest",
            "docker",
            "100",
            {"vmid": 100, "type": "qemu", "node": "pve1", "name": "docker"},
        ),
        (
            "guest",
            "pihole",
            "102",
            {"vmid": 102, "type": "lxc", "node": "pve2", "name": "pihole"},
        ),
    ]
    await hass.async_block_till_done()
    assert hass.states.get("switch.docker") is not None


async def test_trusted_certificate_survives_a_wrong_secret(
    hass: HomeAssistant, pve_sim: ProxmoxSimulator, quiet_handshakes: None
) -> None:
    """Trusted once, a certificate is not asked again after a wrong token."""
    flow_id = await start_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        flow_id, form(pve_sim, token_secret="wrong")
    )
    assert result["type"] is FlowResultType.MENU
    assert result["step_id"] == "certificate"
    # A first trust shows no "previous" certificate.
    assert result["description_placeholders"] == {
        "address": pve_sim.url,
        "fingerprint": pve_sim.fingerprint,
    }
    assert result["menu_options"] == ["trust", "not_trusted"]
    result = await hass.config_entries.flow.async_configure(flow_id, TRUST)
    assert result["step_id"] == "proxmox"
    assert result["errors"] == {"base": "invalid_auth"}
    result = await hass.config_entries.flow.async_configure(flow_id, form(pve_sim))
    assert result["step_id"] == "resources"


async def test_certificate_not_trusted(
    hass: HomeAssistant, pve_sim: ProxmoxSimulator, quiet_handshakes: None
) -> None:
    """Cancel goes back to the form; the menu shown again is the same."""
    flow_id = await start_flow(hass)
    result = await hass.config_entries.flow.async_configure(flow_id, form(pve_sim))
    assert result["step_id"] == "certificate"
    again = await hass.config_entries.flow.async_configure(flow_id, {})
    assert again["step_id"] == "certificate"
    assert again["description_placeholders"] == result["description_placeholders"]
    result = await hass.config_entries.flow.async_configure(
        flow_id, {"next_step_id": "not_trusted"}
    )
    assert result["step_id"] == "proxmox"
    assert result["errors"] == {"base": "not_trusted"}
    assert pve_sim.count(path_prefix="/api2") == 0, "nothing sent untrusted"


async def test_choose_step_needs_a_choice(
    hass: HomeAssistant, pve_sim: ProxmoxSimulator
) -> None:
    """At least one guest, or explicitly the server only; the text names all."""
    flow_id = await start_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        flow_id, form(pve_sim, verify_ssl=False)
    )
    assert result["step_id"] == "resources"
    assert result["data_schema"]({})["resources"] == [], "none ticked"
    result = await hass.config_entries.flow.async_configure(flow_id, {})
    assert result["errors"] == {"base": "nothing_chosen"}
    result = await hass.config_entries.flow.async_configure(
        flow_id, {"resources": ["100", "102", "100"]}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["description"] == "added"
    assert result["description_placeholders"] == {
        "server": "homelab",
        "added": "docker, pihole",
    }
    assert len(result["result"].subentries) == 2


async def test_password_flow_without_verification(
    hass: HomeAssistant, pve_sim: ProxmoxSimulator
) -> None:
    """verify_ssl off: no certificate step; a bare host:port gets https."""
    flow_id = await start_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        flow_id,
        form(
            pve_sim,
            url=f"127.0.0.1:{pve_sim.port}",
            token_id=None,
            token_secret=None,
            password=DEFAULT_PASSWORD,
            verify_ssl=False,
        ),
    )
    assert result["step_id"] == "resources"
    result = await hass.config_entries.flow.async_configure(flow_id, SERVER_ONLY)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"] == pve_data(
        pve_sim,
        token_id=None,
        token_secret=None,
        fingerprint=None,
        password=DEFAULT_PASSWORD,
        verify_ssl=False,
    )
    assert result["result"].subentries == {}
    # One login for the connection test, one for the entry's own client.
    assert pve_sim.count("POST", "/api2/json/access/ticket") == 2


async def test_standalone_host_is_named_after_its_node(
    hass: HomeAssistant, quiet_handshakes: None
) -> None:
    sim = ProxmoxSimulator(cluster_name=None, node_names=("pve",))
    await sim.start()
    try:
        flow_id = await start_flow(hass)
        result = await hass.config_entries.flow.async_configure(flow_id, form(sim))
        result = await pin_and_select(hass, flow_id, result, sim.fingerprint)
        assert result["type"] is FlowResultType.CREATE_ENTRY
        assert result["title"] == "pve"
        assert result["result"].unique_id == "pve"
        assert result["data"]["nodes"] == ["pve"]
        await hass.async_block_till_done()
    finally:
        await sim.stop()
    assert sim.violations == []


async def test_two_standalone_hosts_of_one_name(
    hass: HomeAssistant, quiet_handshakes: None
) -> None:
    """Two standalone hosts both called "pve" (the installer's usual name) are
    two servers: the second is named by its address too, each keeps its own
    devices and entities, and each is recognised again when added twice or
    reconfigured."""
    first = ProxmoxSimulator(cluster_name=None, node_names=("pve",))
    second = ProxmoxSimulator(cluster_name=None, node_names=("pve",))
    await first.start()
    await second.start()
    try:
        entries = []
        for sim in (first, second):
            flow_id = await start_flow(hass)
            result = await hass.config_entries.flow.async_configure(flow_id, form(sim))
            result = await pin_and_select(hass, flow_id, result, sim.fingerprint)
            assert result["type"] is FlowResultType.CREATE_ENTRY
            entries.append(result["result"])
            await hass.async_block_till_done()
        where = f"pve (127.0.0.1:{second.port})"
        assert [e.title for e in entries] == ["pve", where]
        assert [e.unique_id for e in entries] == ["pve", where]
        assert "cluster_name" not in entries[0].data
        assert entries[1].data["cluster"] == where
        assert entries[1].data["cluster_name"] == "pve"
        # Each server's guests and node are its own devices and entities.
        entities = er.async_entries_for_config_entry(
            er.async_get(hass), entries[1].entry_id
        )
        assert entities
        assert all(e.unique_id.startswith(where) for e in entities)
        assert hass.states.get("switch.docker") is not None
        assert hass.states.get("switch.docker_2") is not None
        node_devices = [
            find_device(hass, (DOMAIN, f"{key}_pve"), entry.entry_id)
            for key, entry in zip(("pve", where), entries, strict=True)
        ]
        assert None not in node_devices
        assert node_devices[0] != node_devices[1]

        # The second server added again is refused; reconfigured, it keeps its key.
        flow_id = await start_flow(hass)
        result = await hass.config_entries.flow.async_configure(flow_id, form(second))
        result = await hass.config_entries.flow.async_configure(flow_id, TRUST)
        assert result["type"] is FlowResultType.ABORT
        assert result["reason"] == "already_configured"
        result = await hass.config_entries.flow.async_init(
            DOMAIN,
            context={"source": SOURCE_RECONFIGURE, "entry_id": entries[1].entry_id},
        )
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"], form(second, token_secret="")
        )
        assert result["reason"] == "reconfigure_successful"
        assert entries[1].unique_id == where
        assert entries[1].data["cluster"] == where
        await hass.async_block_till_done()
    finally:
        await first.stop()
        await second.stop()
    assert first.violations == second.violations == []


async def test_one_host_by_another_name_is_the_same(
    hass: HomeAssistant, pve_sim: ProxmoxSimulator, quiet_handshakes: None
) -> None:
    """Added by its name, then by its address: a server presenting the
    certificate pinned for an entry is that entry's server."""
    by_name = pve_data(pve_sim, url="https://homelab.lan:8006")
    MockConfigEntry(domain=DOMAIN, unique_id="homelab", data=by_name).add_to_hass(hass)
    flow_id = await start_flow(hass)
    result = await hass.config_entries.flow.async_configure(flow_id, form(pve_sim))
    result = await hass.config_entries.flow.async_configure(flow_id, TRUST)
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"


async def test_same_cluster_twice_is_refused(
    hass: HomeAssistant, pve_sim: ProxmoxSimulator, quiet_handshakes: None
) -> None:
    MockConfigEntry(
        domain=DOMAIN, unique_id="homelab", data=pve_data(pve_sim)
    ).add_to_hass(hass)
    flow_id = await start_flow(hass)
    result = await hass.config_entries.flow.async_configure(flow_id, form(pve_sim))
    result = await hass.config_entries.flow.async_configure(flow_id, TRUST)
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"


@pytest.fixture
async def unresolvable_names(
    monkeypatch: pytest.MonkeyPatch, disable_mock_zeroconf_resolver: None
) -> AsyncIterator[None]:
    """RFC 6761 `.invalid` names never resolve (the harness forbids real DNS).

    Home Assistant's session resolves through the system resolver here, which
    gives the answer any resolver gives for such a name, without a query.
    """
    harness_getaddrinfo = socket.getaddrinfo

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        if isinstance(host, str) and host.endswith(".invalid"):
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return harness_getaddrinfo(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    resolver = ThreadedResolver()
    resolver.real_close = resolver.close  # type: ignore[attr-defined]
    with patch(
        "homeassistant.helpers.aiohttp_client._async_make_resolver",
        return_value=resolver,
    ):
        yield


async def test_unresolvable_host(
    hass: HomeAssistant, pve_sim: ProxmoxSimulator, unresolvable_names: None
) -> None:
    flow_id = await start_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        flow_id, form(pve_sim, url="pve.invalid")
    )
    assert result["errors"] == {"base": "cannot_resolve"}
    result = await hass.config_entries.flow.async_configure(
        flow_id, form(pve_sim, verify_ssl=False)
    )
    assert result["step_id"] == "resources"


@pytest.fixture
async def silent_port(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[int]:
    """Accepts TCP connections and never answers; the flow waits 0.3 s."""
    monkeypatch.setattr(pve_flow, "FLOW_TIMEOUT", 0.3)

    async def handle(
        reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        await reader.read()
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    yield server.sockets[0].getsockname()[1]
    server.close()
    await server.wait_closed()


@pytest.fixture
async def not_pve() -> AsyncIterator[dict[str, NotProxmoxSimulator]]:
    sims = {
        kind: NotProxmoxSimulator(kind=kind, tls=False)
        for kind in ("html", "json", "data")
    }
    sims["plain_http_on_https"] = NotProxmoxSimulator(kind="html", tls=False)
    for sim in sims.values():
        await sim.start()
    yield sims
    for sim in sims.values():
        await sim.stop()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class BrokenApi(ProxmoxSimulator):
    """Proxmox whose API fails with an error Proxmox does not usually give."""

    async def _version(self, request: web.Request, _p: Any) -> web.StreamResponse:
        raise PveError(500, "internal error")


class NoResources(ProxmoxSimulator):
    """Answers the connection test, then fails the discovery."""

    async def _resources(self, request: web.Request, _p: Any) -> web.StreamResponse:
        raise PveError(500, "cluster resources unavailable")


async def _restricted(sim: ProxmoxSimulator, missing: str) -> dict[str, Any]:
    sim.add_token("root@pam", "limited", "limited-secret", ALL_PRIVILEGES - {missing})
    return {"token_id": "limited", "token_secret": "limited-secret"}


@pytest.mark.parametrize(
    ("case", "field", "error", "placeholders"),
    [
        ("bad_url", "url", "proxmox_invalid_url", None),
        ("bad_username", "username", "proxmox_invalid_username", None),
        ("no_credentials", "base", "proxmox_missing_credentials", None),
        ("token_id_only", "base", "proxmox_missing_credentials", None),
        ("wrong_secret", "base", "invalid_auth", None),
        ("wrong_password", "base", "invalid_auth", None),
        ("no_audit", "base", "permission_denied", {"privilege": "VM.Audit"}),
        (
            "no_power",
            "base",
            "permission_denied",
            {"privilege": "VM.PowerMgmt"},
        ),
        ("html", "base", "not_that_kind", None),
        ("json", "base", "not_that_kind", None),
        ("data", "base", "not_that_kind", None),
        ("plain_http_on_https", "base", "cannot_connect", None),
        ("refused", "base", "cannot_connect", None),
        ("timeout", "base", "timeout", None),
        ("api_error", "base", "api_error", None),
        ("discovery_fails", "base", "api_error", None),
    ],
)
@pytest.mark.usefixtures("quiet_handshakes")
async def test_errors_recover_to_an_entry(
    hass: HomeAssistant,
    pve_sim: ProxmoxSimulator,
    not_pve: dict[str, NotProxmoxSimulator],
    silent_port: int,
    case: str,
    field: str,
    error: str,
    placeholders: dict[str, str] | None,
) -> None:
    """Each failure is named on the form; fixing the input creates the entry."""
    extra_sims: list[ProxmoxSimulator] = []
    bad: dict[str, Any] = {"verify_ssl": False}
    match case:
        case "bad_url":
            bad["url"] = "ftp://pve.lan"
        case "bad_username":
            bad["username"] = "root"
        case "no_credentials":
            bad |= {"token_id": None, "token_secret": None}
        case "token_id_only":
            bad |= {"token_secret": None}
        case "wrong_secret":
            bad["token_secret"] = "not-the-secret"
        case "wrong_password":
            bad |= {"token_id": None, "token_secret": None, "password": "nope"}
        case "no_audit":
            bad |= await _restricted(pve_sim, "VM.Audit")
        case "no_power":
            bad |= await _restricted(pve_sim, "VM.PowerMgmt")
        case "html" | "json" | "data":
            bad["url"] = not_pve[case].url
        case "plain_http_on_https":
            bad |= {
                "url": not_pve[case].url.replace("http://", "https://"),
                "verify_ssl": True,
            }
        case "refused":
            bad["url"] = f"https://127.0.0.1:{_free_port()}"
        case "timeout":
            bad["url"] = f"https://127.0.0.1:{silent_port}"
        case "api_error" | "discovery_fails":
            broken = (BrokenApi if case == "api_error" else NoResources)()
            await broken.start()
            extra_sims.append(broken)
            bad["url"] = broken.url
    try:
        flow_id = await start_flow(hass)
        result = await hass.config_entries.flow.async_configure(
            flow_id, form(pve_sim, **bad)
        )
        assert result["type"] is FlowResultType.FORM
        assert result["step_id"] == "proxmox"
        assert result["errors"] == {field: error}
        if placeholders:
            assert result["description_placeholders"] == placeholders

        result = await hass.config_entries.flow.async_configure(
            flow_id, form(pve_sim, verify_ssl=False)
        )
        assert result["step_id"] == "resources"
        result = await hass.config_entries.flow.async_configure(flow_id, SERVER_ONLY)
        assert result["type"] is FlowResultType.CREATE_ENTRY
        await hass.async_block_till_done()
    finally:
        for sim in extra_sims:
            await sim.stop()


# -- reauth and reconfigure -----------------------------------------------------------


@pytest.mark.parametrize(
    ("credentials", "field", "new_secret"),
    [
        ({}, "token_secret", "rotated-secret"),
        (
            {"token_id": None, "token_secret": None, "password": "old"},
            "password",
            "new-password",
        ),
    ],
)
async def test_reauth(
    hass: HomeAssistant,
    pve_sim: ProxmoxSimulator,
    credentials: dict[str, Any],
    field: str,
    new_secret: str,
) -> None:
    """Credentials refused while polling: a reauth flow asks for the new secret."""
    pve_sim.add_user("root@pam", "new-password")
    pve_sim.add_token("root@pam", "wakehub", "rotated-secret")
    entry = MockConfigEntry(
        domain=DOMAIN,
        title="homelab",
        unique_id="homelab",
        data=pve_data(pve_sim, **credentials),
        entry_id=ENTRY_ID,
        subentries_data=guest_subentries([100]),
    )
    entry.add_to_hass(hass)
    assert not await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    flows = hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    assert [f["context"]["source"] for f in flows] == ["reauth"]
    flow_id = flows[0]["flow_id"]
    result = await hass.config_entries.flow.async_configure(flow_id)
    assert result["step_id"] == "reauth_confirm"
    assert list(result["data_schema"].schema) == [field]

    result = await hass.config_entries.flow.async_configure(flow_id, {field: "wrong"})
    assert result["errors"] == {"base": "invalid_auth"}
    assert list(result["data_schema"].schema) == [field], "still the same credential"
    result = await hass.config_entries.flow.async_configure(
        flow_id, {field: new_secret}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reauth_successful"
    assert entry.data[field] == new_secret
    await hass.async_block_till_done()
    assert hass.states.get("switch.docker") is not None


async def test_reconfigure_keeps_blank_secrets(
    hass: HomeAssistant, pve_sim: ProxmoxSimulator, init_pve: MockConfigEntry
) -> None:
    result = await init_pve.start_reconfigure_flow(hass)
    assert result["step_id"] == "reconfigure"
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {"url": pve_sim.url, "username": "nobody", "token_id": "wakehub"},
    )
    assert result["errors"] == {"username": "proxmox_invalid_username"}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {
            "url": pve_sim.url,
            "username": "root@pam",
            "token_id": "wakehub",
            "verify_ssl": True,
        },
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    assert init_pve.data == pve_data(pve_sim)


async def test_reconfigure_repins_a_changed_certificate(
    hass: HomeAssistant, pve_sim: ProxmoxSimulator, quiet_handshakes: None
) -> None:
    old = ":".join(["AB"] * 32)
    entry = MockConfigEntry(
        domain=DOMAIN,
        title="homelab",
        unique_id="homelab",
        data=pve_data(pve_sim, fingerprint=old),
        entry_id=ENTRY_ID,
    )
    entry.add_to_hass(hass)
    result = await entry.start_reconfigure_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], form(pve_sim, token_secret="")
    )
    assert result["step_id"] == "certificate_changed"
    assert result["description_placeholders"] == {
        "address": pve_sim.url,
        "fingerprint": pve_sim.fingerprint,
        "previous": old,
    }
    result = await hass.config_entries.flow.async_configure(result["flow_id"], TRUST)
    assert result["reason"] == "reconfigure_successful"
    assert entry.data["fingerprint"] == pve_sim.fingerprint
    await hass.async_block_till_done()


async def test_reconfigure_to_another_cluster_is_refused(
    hass: HomeAssistant, pve_sim: ProxmoxSimulator
) -> None:
    other = ProxmoxSimulator(cluster_name=None, node_names=("pve",))
    await other.start()
    try:
        entry = MockConfigEntry(
            domain=DOMAIN, unique_id="homelab", data=pve_data(pve_sim)
        )
        entry.add_to_hass(hass)
        result = await entry.start_reconfigure_flow(hass)
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"], form(other, verify_ssl=False)
        )
        assert result["type"] is FlowResultType.ABORT
        assert result["reason"] == "proxmox_wrong_cluster"
        result = await entry.start_reconfigure_flow(hass)
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"], form(other, url=f"https://127.0.0.1:{_free_port()}")
        )
        assert result["step_id"] == "reconfigure"
        assert result["errors"] == {"base": "cannot_connect"}
    finally:
        await other.stop()


# -- subentries and options -------------------------------------------------------------


async def test_add_guests_offers_only_new_ones(
    hass: HomeAssistant, pve_sim: ProxmoxSimulator, pve_entry: MockConfigEntry
) -> None:
    assert await hass.config_entries.async_setup(pve_entry.entry_id)
    await hass.async_block_till_done()
    result = await hass.config_entries.subentries.async_init(
        (pve_entry.entry_id, "guest"), context={"source": SOURCE_USER}
    )
    assert result["step_id"] == "user"
    options = result["data_schema"].schema["resources"].config["options"]
    assert [o["value"] for o in options] == ["101", "103"]
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], {"resources": []}
    )
    assert result["errors"] == {"base": "nothing_chosen"}
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], {"resources": ["101", "103"]}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    assert sorted(s.unique_id for s in pve_entry.subentries.values()) == [
        "100",
        "101",
        "102",
        "103",
        "104",
    ]
    assert hass.states.get("switch.windows11") is not None
    assert hass.states.get("switch.nextcloud") is not None

    result = await hass.config_entries.subentries.async_init(
        (pve_entry.entry_id, "guest"), context={"source": SOURCE_USER}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "nothing_new"

    await pve_sim.stop()
    result = await hass.config_entries.subentries.async_init(
        (pve_entry.entry_id, "guest"), context={"source": SOURCE_USER}
    )
    assert result["reason"] == "cannot_connect"


async def test_removing_a_guest_removes_its_device(
    hass: HomeAssistant,
    init_pve: MockConfigEntry,
    device_registry: dr.DeviceRegistry,
) -> None:
    assert find_device(hass, (DOMAIN, "homelab_102"), ENTRY_ID)
    assert hass.config_entries.async_remove_subentry(init_pve, "SUB102")
    await hass.async_block_till_done()
    assert find_device(hass, (DOMAIN, "homelab_102"), ENTRY_ID) is None
    assert hass.states.get("switch.pihole") is None
    assert [r.key for r in init_pve.runtime_data.resources] == [
        "homelab_pve1",
        "homelab_pve2",
        "homelab_100",
        "homelab_104",
    ]


def node_links(result: Mapping[str, Any]) -> dict[Any, Any]:
    """The fields of the options form's section of node links."""
    schema = result["data_schema"].schema
    links = schema[next(k for k in schema if str(k) == "host_links")]
    assert isinstance(links, section)
    return dict(links.schema.schema)


async def test_options_link_nodes_to_machines(
    hass: HomeAssistant,
    init_pve: MockConfigEntry,
    init_machine: MockConfigEntry,
    entity_registry: er.EntityRegistry,
) -> None:
    result = await hass.config_entries.options.async_init(init_pve.entry_id)
    assert result["step_id"] == "proxmox_options"
    assert list(result["data_schema"].schema) == [
        "host_links",
        "timeout",
        "scan_interval",
    ]
    assert [str(k) for k in node_links(result)] == ["pve1", "pve2"]
    result = await hass.config_entries.options.async_configure(
        result["flow_id"],
        {"host_links": {"pve1": "switch.gone"}, "timeout": 120, "scan_interval": 15.0},
    )
    assert result["errors"] == {"host_links": "host_link_not_machine"}
    assert result["description_placeholders"]["node"] == "pve1"
    # Only a machine's power switch can be a node: not one of the cluster's own
    # guests, not an auto-shutdown switch.
    for wrong in ("switch.docker", "switch.nas_auto_shutdown"):
        result = await hass.config_entries.options.async_configure(
            result["flow_id"],
            {"host_links": {"pve1": wrong}, "timeout": 120, "scan_interval": 15.0},
        )
        assert result["errors"] == {"host_links": "host_link_not_machine"}, wrong
    links = node_links(result)
    selector = next(k for k in links if str(k) == "pve1")
    offered = links[selector].config["include_entities"]
    assert offered == ["switch.nas"]
    result = await hass.config_entries.options.async_configure(
        result["flow_id"],
        {"host_links": {"pve1": "switch.nas"}, "timeout": 120, "scan_interval": 15.0},
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    switch_id = entity_registry.async_get("switch.nas").id
    assert init_pve.options == {
        "timeout": 120,
        "scan_interval": 15,
        "host_links": {"pve1": switch_id},
    }
    await hass.async_block_till_done()

    result = await hass.config_entries.options.async_init(init_pve.entry_id)
    keys = {str(k): k for k in node_links(result)}
    assert keys["pve1"].description == {"suggested_value": "switch.nas"}
    assert keys["pve2"].description == {"suggested_value": None}

    # A guest's settings: a dependency on another guest; the reverse would
    # close a cycle. An LXC container has no stop method to choose.
    result = await init_pve.start_subentry_reconfigure_flow(hass, "SUB100")
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], {"dependencies": ["switch.pihole"]}
    )
    assert result["reason"] == "reconfigure_successful"
    await hass.async_block_till_done()
    result = await init_pve.start_subentry_reconfigure_flow(hass, "SUB102")
    assert "stop_method" not in {str(k) for k in result["data_schema"].schema}
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], {"dependencies": ["switch.docker"]}
    )
    assert result["errors"] == {"dependencies": "dependency_cycle"}


async def test_a_node_link_that_closes_a_cycle_is_refused(
    hass: HomeAssistant,
    init_pve: MockConfigEntry,
    init_machine: MockConfigEntry,
    entity_registry: er.EntityRegistry,
) -> None:
    """The NAS depends on the guest docker, on pve1: pve1 cannot be the NAS
    (the NAS would wait for its own guest to start), pve2 can."""
    docker_id = entity_registry.async_get("switch.docker").id
    hass.config_entries.async_update_entry(
        init_machine, options={**init_machine.options, "dependencies": [docker_id]}
    )
    await hass.config_entries.async_reload(init_machine.entry_id)
    await hass.async_block_till_done()

    result = await hass.config_entries.options.async_init(init_pve.entry_id)
    result = await hass.config_entries.options.async_configure(
        result["flow_id"],
        {"host_links": {"pve1": "switch.nas"}, "timeout": 120, "scan_interval": 15},
    )
    assert result["errors"] == {"host_links": "dependency_cycle"}
    cycle = result["description_placeholders"]["cycle"].split(" → ")
    assert cycle[0] == cycle[-1]
    assert {"NAS", "docker"} <= set(cycle)
    assert "host_links" not in init_pve.options

    result = await hass.config_entries.options.async_configure(
        result["flow_id"],
        {"host_links": {"pve2": "switch.nas"}, "timeout": 120, "scan_interval": 15},
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()


async def test_options_of_an_entry_not_loaded(
    hass: HomeAssistant, pve_entry: MockConfigEntry
) -> None:
    """The nodes come from the entry's data when the entry is not running."""
    result = await hass.config_entries.options.async_init(pve_entry.entry_id)
    assert [str(k) for k in node_links(result)] == ["pve1", "pve2"]
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"timeout": 60, "scan_interval": 30}
    )
    assert pve_entry.options == {"timeout": 60, "scan_interval": 30, "host_links": {}}


async def test_options_of_a_node_named_like_a_field(
    hass: HomeAssistant,
    init_machine: MockConfigEntry,
    entity_registry: er.EntityRegistry,
) -> None:
    """A node's name is the server's: the nodes' link fields live in their own
    section of the form, each labelled by its node's name, so a node named
    `timeout` neither hides the timing field nor loses its own."""
    sim = ProxmoxSimulator(node_names=("timeout", "pve-2"))
    await sim.start()
    entry = MockConfigEntry(
        domain=DOMAIN,
        title="homelab",
        unique_id="homelab",
        data=pve_data(sim, nodes=["timeout", "pve-2"]),
        options={"timeout": 10},
    )
    entry.add_to_hass(hass)
    try:
        assert await hass.config_entries.async_setup(entry.entry_id)
        await hass.async_block_till_done()
        result = await hass.config_entries.options.async_init(entry.entry_id)
        # The nodes' fields, named (so labelled) by the nodes, inside the
        # section; the timing fields beside it.
        assert [str(k) for k in result["data_schema"].schema] == [
            "host_links",
            "timeout",
            "scan_interval",
        ]
        assert [str(k) for k in node_links(result)] == ["pve-2", "timeout"]

        result = await hass.config_entries.options.async_configure(
            result["flow_id"],
            {
                "host_links": {"timeout": "switch.pve_2"},
                "timeout": 60,
                "scan_interval": 30,
            },
        )
        assert result["errors"] == {"host_links": "host_link_not_machine"}
        assert result["description_placeholders"]["node"] == "timeout"
        result = await hass.config_entries.options.async_configure(
            result["flow_id"],
            {
                "host_links": {"timeout": "switch.nas"},
                "timeout": 60,
                "scan_interval": 30,
            },
        )
        assert result["type"] is FlowResultType.CREATE_ENTRY, result
        await hass.async_block_till_done()
        switch_id = entity_registry.async_get("switch.nas").id
        assert entry.options == {
            "timeout": 60,
            "scan_interval": 30,
            "host_links": {"timeout": switch_id},
        }

        result = await hass.config_entries.options.async_init(entry.entry_id)
        suggested = {
            str(k): k.description["suggested_value"] for k in node_links(result)
        }
        assert suggested == {"pve-2": None, "timeout": "switch.nas"}
    finally:
        await hass.config_entries.async_unload(entry.entry_id)
        await sim.stop()
