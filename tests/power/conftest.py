"""A whole home lab on loopback, wired the way the cascade expects.

- "Node pve1": a simulated physical machine (WoL + SSH) that is the Proxmox node;
- a Proxmox cluster whose API answers only while that machine is powered;
- the qemu VM "docker" (vmid 100) on pve1, running a Docker engine whose API
  answers only while the VM runs;
- the containers "jellyfin" and "nextcloud" on that engine.
Everything starts off. The entries are linked as a user would link them: the
Proxmox node to the machine, the engine to the VM.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
import contextlib
from dataclasses import dataclass
from typing import Any

from homeassistant.const import ATTR_ENTITY_ID
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.wakehub.const import (
    CONF_HOST_LINK,
    CONF_HOST_LINKS,
    CONF_KIND,
    CONF_SCAN_INTERVAL,
    CONF_TIMEOUT,
    DOMAIN,
    KIND_DOCKER,
)
from custom_components.wakehub.kinds import proxmox as pve_kind
from tests.conftest import machine_data
from tests.proxmox.conftest import guest_subentries, pve_data
from tests.simulators.docker import DockerSimulator
from tests.simulators.machine import MachineSimulator
from tests.simulators.proxmox import ProxmoxSimulator

NODE_SWITCH = "switch.node_pve1"
VM_SWITCH = "switch.docker"
JELLYFIN = "switch.jellyfin"
NEXTCLOUD = "switch.nextcloud"


@dataclass
class Lab:
    node: MachineSimulator
    pve: ProxmoxSimulator
    docker: DockerSimulator
    machine_entry: MockConfigEntry
    pve_entry: MockConfigEntry
    docker_entry: MockConfigEntry
    #: Platforms whose API is out ("pve", "docker") although their host runs.
    down: set[str]


async def follow(
    condition: Callable[[], bool], server: Any, stop: asyncio.Event
) -> None:
    """Serve `server` only while `condition` holds (a platform on its host)."""
    while not stop.is_set():
        up = server._runner is not None
        if condition() and not up:
            await server.start()
        elif not condition() and up:
            await server.stop()
        await asyncio.sleep(0.02)


async def turn(hass: HomeAssistant, service: str, entity_id: str) -> None:
    """Turn a switch on or off, and let everything it caused settle."""
    await hass.services.async_call(
        "switch", service, {ATTR_ENTITY_ID: entity_id}, blocking=True
    )
    await hass.async_block_till_done()


async def poll(lab: Lab) -> None:
    """Poll every server of the lab once, machine first."""
    for entry in (lab.machine_entry, lab.pve_entry, lab.docker_entry):
        await entry.runtime_data.coordinator.async_refresh()


@pytest.fixture(autouse=True)
def fast_tasks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pve_kind.const, "TASK_POLL_INTERVAL", 0.01)


@pytest.fixture
async def lab(hass: HomeAssistant) -> AsyncIterator[Lab]:
    node = MachineSimulator(
        mac="52:54:00:00:00:01", boot_delay=0.3, shutdown_delay=0.05
    )
    await node.start()
    pve = ProxmoxSimulator(start_delay=0.05, stop_delay=0.05, task_delay=0.05)
    await pve.start()  # once, to own its port and certificate
    await pve.stop()
    pve.guests[100].status = "stopped"
    docker = DockerSimulator(start_delay=0.05, stop_delay=0.05)
    docker.add_container("jellyfin", image="jellyfin/jellyfin:10.10", state="exited")
    docker.add_container("nextcloud", image="nextcloud:30-apache", state="exited")
    await docker.start()
    await docker.stop()

    stop = asyncio.Event()
    down: set[str] = set()
    gates = [
        asyncio.create_task(
            follow(lambda: node.powered and "pve" not in down, pve, stop)
        ),
        asyncio.create_task(
            follow(
                lambda: pve.guests[100].status == "running" and "docker" not in down,
                docker,
                stop,
            )
        ),
    ]

    machine_entry = MockConfigEntry(
        domain=DOMAIN,
        title="Node pve1",
        unique_id=node.mac,
        data=machine_data(node),
        options={CONF_TIMEOUT: 10},
    )
    machine_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(machine_entry.entry_id)
    await hass.async_block_till_done()
    registry = er.async_get(hass)

    pve_entry = MockConfigEntry(
        domain=DOMAIN,
        title="homelab",
        unique_id="homelab",
        data=pve_data(pve),
        options={
            CONF_TIMEOUT: 10,
            CONF_HOST_LINKS: {"pve1": registry.async_get(NODE_SWITCH).id},
        },
        subentries_data=guest_subentries([100]),
    )
    pve_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(pve_entry.entry_id)
    await hass.async_block_till_done()

    docker_entry = MockConfigEntry(
        domain=DOMAIN,
        title="docker-vm",
        unique_id=docker.engine_id,
        data={CONF_KIND: KIND_DOCKER, "url": docker.docker_url, "verify_ssl": True},
        options={
            CONF_TIMEOUT: 10,
            CONF_SCAN_INTERVAL: 30,
            CONF_HOST_LINK: registry.async_get(VM_SWITCH).id,
        },
        subentries_data=[
            {
                "subentry_type": "container",
                "data": {"container": name},
                "title": name,
                "unique_id": name,
            }
            for name in ("jellyfin", "nextcloud")
        ],
    )
    docker_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(docker_entry.entry_id)
    await hass.async_block_till_done()

    yield Lab(node, pve, docker, machine_entry, pve_entry, docker_entry, down)

    for entry in (docker_entry, pve_entry, machine_entry):
        await hass.config_entries.async_unload(entry.entry_id)
    stop.set()
    for gate in gates:
        # Cancelled, not awaited to the end: under `freezer` its sleep never ends.
        gate.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await gate
    await docker.stop()
    await pve.stop()
    await node.stop()
    assert pve.violations == []
    assert docker.violations == []
