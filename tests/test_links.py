"""Host links proposed from what the platforms report, confirmed by the user."""

from __future__ import annotations

from collections.abc import AsyncIterator
import contextlib
from dataclasses import dataclass
from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er, issue_registry as ir
from hypothesis import given, strategies as st
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator
import pytest_socket

from custom_components.wakehub.const import (
    CONF_HOST_LINK,
    CONF_HOST_LINKS,
    CONF_KIND,
    DOMAIN,
    KIND_DOCKER,
)
from custom_components.wakehub.hosting import KnownAs
from tests.conftest import machine_data
from tests.proxmox.conftest import guest_subentries, pve_data
from tests.simulators.docker import DockerSimulator
from tests.simulators.machine import MachineSimulator
from tests.simulators.proxmox import ProxmoxSimulator
from tests.test_machine_entities import repairs_client, start_fix_flow

NODE_ADDRESS = "127.0.0.11"  # pve1's address in the cluster, and its machine's host
GUEST_ADDRESS = "127.0.0.12"  # the VM "docker"'s address, as its guest agent says


@dataclass
class Unlinked:
    machine: MockConfigEntry
    pve: MockConfigEntry
    docker: MockConfigEntry
    pve_sim: ProxmoxSimulator


async def add(hass: HomeAssistant, entry: MockConfigEntry) -> MockConfigEntry:
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    return entry


@pytest.fixture(autouse=True)
def second_loopback_address() -> None:
    """The machine listens on another loopback address than 127.0.0.1 (which
    names every host): allow connecting there too, and nowhere else."""
    pytest_socket.socket_allow_hosts(["127.0.0.1", NODE_ADDRESS, GUEST_ADDRESS])


@pytest.fixture
async def unlinked(hass: HomeAssistant) -> AsyncIterator[Unlinked]:
    """A lab added server by server, with no link set: a machine whose host is
    pve1's address, the cluster, and an engine whose host name is the VM
    "docker" it runs in (its URL, on loopback, says nothing)."""
    async with lab(hass) as servers:
        yield servers


@contextlib.asynccontextmanager
async def lab(
    hass: HomeAssistant,
    *,
    engine_name: str = "docker",
    engine_host: str = "127.0.0.1",
    addresses: dict[int, list[str]] | None = None,
    vmids: tuple[int, ...] = (100,),
    stopped: tuple[int, ...] = (),
) -> AsyncIterator[Unlinked]:
    """The lab of `unlinked`, its engine's name and host, the guests WakeHub
    manages (100 is the running VM "docker"), their addresses and those stopped
    being chosen."""
    machine_sim = MachineSimulator(mac="52:54:00:00:00:11", host=NODE_ADDRESS)
    await machine_sim.start(powered=True)
    pve_sim = ProxmoxSimulator()
    pve_sim.nodes["pve1"].ip = NODE_ADDRESS
    for vmid, guest_addresses in (addresses or {}).items():
        pve_sim.guests[vmid].addresses = guest_addresses
    for vmid in stopped:
        pve_sim.guests[vmid].status = "stopped"
    await pve_sim.start()
    docker_sim = DockerSimulator(engine_name=engine_name, host=engine_host)
    await docker_sim.start()

    machine = await add(
        hass,
        MockConfigEntry(
            domain=DOMAIN,
            title="Rack server",
            unique_id=machine_sim.mac,
            data=machine_data(machine_sim, broadcast_address=NODE_ADDRESS),
        ),
    )
    pve = await add(
        hass,
        MockConfigEntry(
            domain=DOMAIN,
            title="homelab",
            unique_id="homelab",
            data=pve_data(pve_sim),
            subentries_data=guest_subentries(list(vmids)),
        ),
    )
    docker = await add(
        hass,
        MockConfigEntry(
            domain=DOMAIN,
            title="docker-vm",
            unique_id=docker_sim.engine_id,
            data={CONF_KIND: KIND_DOCKER, "url": docker_sim.docker_url},
        ),
    )
    try:
        yield Unlinked(machine, pve, docker, pve_sim)
    finally:
        for entry in (docker, pve, machine):
            if hass.config_entries.async_get_entry(entry.entry_id):
                await hass.config_entries.async_unload(entry.entry_id)
        await docker_sim.stop()
        await pve_sim.stop()
        await machine_sim.stop()


AGENT = "/api2/json/nodes/pve1/qemu/100/agent/network-get-interfaces"


async def poll_twice(hass: HomeAssistant, servers: Unlinked) -> None:
    for _ in range(2):
        await servers.pve.runtime_data.coordinator.async_refresh()
    await hass.async_block_till_done()


async def test_an_engine_at_a_guest_address_is_proposed_to_run_on_it(
    hass: HomeAssistant,
) -> None:
    """The engine's own name matches nothing; its URL's host is the address the
    VM's guest agent reports."""
    async with lab(
        hass,
        engine_name="elsewhere",
        engine_host=GUEST_ADDRESS,
        vmids=(100, 102),  # 102 is a running container
        addresses={
            100: [GUEST_ADDRESS, "fe80::be24:11ff:fe00:1"],
            102: ["192.168.1.52", "fd00::52"],
        },
    ) as servers:
        await poll_twice(hass, servers)
        engine = link_issues(hass)[f"link_proposal_{servers.docker.entry_id}_"]
        assert engine.translation_placeholders == {
            "host": "docker",
            "target": "docker-vm",
        }
        # Asked once, not at every poll.
        assert servers.pve_sim.count("GET", AGENT) == 1
        coordinator = servers.pve.runtime_data.coordinator
        assert coordinator.guest_addresses == {
            100: [GUEST_ADDRESS],
            102: ["192.168.1.52", "fd00::52"],
        }
        assert servers.pve_sim.count("GET", "/api2/json/nodes/pve2/lxc/102/") == 1
        assert servers.pve_sim.violations == []


async def test_a_guest_without_agent_is_not_matched_by_address(
    hass: HomeAssistant,
) -> None:
    async with lab(hass, engine_name="elsewhere", engine_host=GUEST_ADDRESS) as servers:
        await poll_twice(hass, servers)
        assert f"link_proposal_{servers.docker.entry_id}_" not in link_issues(hass)
        # Proxmox's "QEMU guest agent is not running" is an answer: not asked again.
        assert servers.pve_sim.count("GET", AGENT) == 1
        assert servers.pve.runtime_data.coordinator.guest_addresses == {100: []}


async def test_a_guest_is_asked_once_it_runs_and_again_after_a_connection_error(
    hass: HomeAssistant,
) -> None:
    async with lab(hass, addresses={100: ["192.168.1.60"]}, stopped=(100,)) as servers:
        coordinator = servers.pve.runtime_data.coordinator
        assert servers.pve_sim.count("GET", AGENT) == 0  # stopped: not asked
        servers.pve_sim.guests[100].status = "running"
        servers.pve_sim.inject_reset("/agent/", count=None)
        await coordinator.async_refresh()
        assert coordinator.guest_addresses == {}  # the answer never came
        servers.pve_sim.clear_faults()
        asked = servers.pve_sim.count("GET", AGENT)
        await poll_twice(hass, servers)
        assert servers.pve_sim.count("GET", AGENT) == asked + 1
        assert coordinator.guest_addresses == {100: ["192.168.1.60"]}


def link_issues(hass: HomeAssistant) -> dict[str, ir.IssueEntry]:
    return {
        issue_id: issue
        for (domain, issue_id), issue in ir.async_get(hass).issues.items()
        if domain == DOMAIN and issue_id.startswith("link_proposal_")
    }


def switch_id(hass: HomeAssistant, entity_id: str) -> str:
    entry = er.async_get(hass).async_get(entity_id)
    assert entry is not None
    return entry.id


async def test_matching_servers_are_proposed_as_repairs(
    hass: HomeAssistant, unlinked: Unlinked
) -> None:
    issues = link_issues(hass)
    node = issues[f"link_proposal_{unlinked.pve.entry_id}_pve1"]
    assert node.is_fixable
    assert node.translation_key == "link_proposal_node"
    assert node.translation_placeholders == {"host": "Rack server", "target": "pve1"}
    engine = issues[f"link_proposal_{unlinked.docker.entry_id}_"]
    assert engine.translation_key == "link_proposal_engine"
    assert engine.translation_placeholders == {"host": "docker", "target": "docker-vm"}
    # pve2 has an address no WakeHub machine has: nothing is proposed for it.
    assert set(issues) == {
        f"link_proposal_{unlinked.pve.entry_id}_pve1",
        f"link_proposal_{unlinked.docker.entry_id}_",
    }


async def test_accepting_the_repair_creates_the_link(
    hass: HomeAssistant, unlinked: Unlinked, hass_client: ClientSessionGenerator
) -> None:
    client = await repairs_client(hass, hass_client)
    flow = await start_fix_flow(client, f"link_proposal_{unlinked.pve.entry_id}_pve1")
    assert flow["step_id"] == "confirm", flow
    assert flow["description_placeholders"] == {
        "host": "Rack server",
        "target": "pve1",
    }
    resp = await client.post(f"/api/repairs/issues/fix/{flow['flow_id']}", json={})
    assert (await resp.json())["type"] == "create_entry"
    await hass.async_block_till_done()

    assert unlinked.pve.options[CONF_HOST_LINKS] == {
        "pve1": switch_id(hass, "switch.rack_server")
    }
    # The proposal is gone; the engine's is still there.
    assert set(link_issues(hass)) == {f"link_proposal_{unlinked.docker.entry_id}_"}

    flow = await start_fix_flow(client, f"link_proposal_{unlinked.docker.entry_id}_")
    await client.post(f"/api/repairs/issues/fix/{flow['flow_id']}", json={})
    await hass.async_block_till_done()
    assert unlinked.docker.options[CONF_HOST_LINK] == switch_id(hass, "switch.docker")
    assert link_issues(hass) == {}


async def test_a_link_the_user_set_is_never_second_guessed(
    hass: HomeAssistant, unlinked: Unlinked
) -> None:
    """Linked elsewhere by the user (here: the engine on the machine): no
    proposal, even though the platforms suggest the VM."""
    hass.config_entries.async_update_entry(
        unlinked.docker,
        options={CONF_HOST_LINK: switch_id(hass, "switch.rack_server")},
    )
    await hass.config_entries.async_reload(unlinked.docker.entry_id)
    await hass.async_block_till_done()
    assert f"link_proposal_{unlinked.docker.entry_id}_" not in link_issues(hass)


async def test_a_removed_server_withdraws_its_proposals(
    hass: HomeAssistant, unlinked: Unlinked
) -> None:
    await hass.config_entries.async_remove(unlinked.pve.entry_id)
    await hass.async_block_till_done()
    # The engine's proposal was the VM of the removed cluster: gone too.
    assert link_issues(hass) == {}


async def test_fixing_a_proposal_of_a_removed_entry_aborts(
    hass: HomeAssistant, unlinked: Unlinked, hass_client: ClientSessionGenerator
) -> None:
    client = await repairs_client(hass, hass_client)
    issue_id = f"link_proposal_{unlinked.pve.entry_id}_pve1"
    flow = await start_fix_flow(client, issue_id)
    await hass.config_entries.async_remove(unlinked.pve.entry_id)
    await hass.async_block_till_done()
    resp = await client.post(f"/api/repairs/issues/fix/{flow['flow_id']}", json={})
    answer = await resp.json()
    assert answer["reason"] == "entry_removed", answer


@given(
    value=st.one_of(
        st.text(max_size=80),
        st.ip_addresses().map(str),
        st.sampled_from(["127.0.0.1", "::1", "[::1]", "localhost", "0.0.0.0", ""]),  # noqa: S104
    )
)
def test_known_as_never_fails_and_self_addresses_identify_nothing(value: str) -> None:
    known = KnownAs.of(addresses=[value, None], names=[value, None])
    assert "127.0.0.1" not in known.addresses
    assert "::1" not in known.addresses
    assert "localhost" not in known.addresses
    assert all(name == name.lower() and "." not in name for name in known.names)


def test_names_compare_by_first_label_and_addresses_by_value() -> None:
    known = KnownAs.of(addresses=["PVE1.lan", "192.168.001.010"], names=["PVE1.lan"])
    assert "pve1" in known.names
    assert "pve1.lan" in known.addresses
    # An address is never a name.
    assert KnownAs.of(names=["192.168.1.10"]).names == frozenset()


def suggested(result: dict[str, Any], field: str) -> object:
    """A field's suggested value, at the form's top or in its section of node
    links (flows/settings.py `host_links`)."""
    schema = result["data_schema"].schema
    for key, value in schema.items():
        if str(key) == "host_links":
            schema = {**schema, **value.schema.schema}
    key = next(k for k in schema if str(k) == field)
    return (key.description or {}).get("suggested_value")


async def test_proposals_are_pre_filled_in_the_options(
    hass: HomeAssistant, unlinked: Unlinked
) -> None:
    result = await hass.config_entries.options.async_init(unlinked.pve.entry_id)
    assert suggested(result, "pve1") == "switch.rack_server"
    assert suggested(result, "pve2") is None  # no machine has pve2's address
    result = await hass.config_entries.options.async_configure(
        result["flow_id"],
        {
            "host_links": {"pve1": "switch.rack_server"},
            "timeout": 300,
            "scan_interval": 30,
        },
    )
    assert unlinked.pve.options[CONF_HOST_LINKS] == {
        "pve1": switch_id(hass, "switch.rack_server")
    }
    await hass.async_block_till_done()

    result = await hass.config_entries.options.async_init(unlinked.docker.entry_id)
    assert suggested(result, CONF_HOST_LINK) == "switch.docker"
