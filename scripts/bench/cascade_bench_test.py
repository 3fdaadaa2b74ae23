"""The cascade benchmark, as a pytest module (run by scripts/bench/cascade.py).

A real Home Assistant core runs in-process (pytest-homeassistant-custom-component's
`hass` fixture), with the lab of tests/power/conftest.py but realistic delays: the
Proxmox node "Node pve1" (a WakeHub machine) boots in 20 s, the VM "media" on it
starts in 5 s, the container "jellyfin" on the Docker engine inside that VM starts
in 1 s. Each parametrized run starts from everything off, turns `switch.jellyfin`
on and records, with `time.monotonic()`:

- when the simulators saw each step (magic packet, SSH up, API up, start request,
  guest running, container started) — subclasses of the simulators add the clocks;
- when WakeHub fired each `wakehub_power` event, and when each switch turned on;
- how many requests, SSH commands and packets the cascade cost.

Each run appends one JSON object to the file named by WAKEHUB_BENCH_OUT. Knobs
(environment): WAKEHUB_BENCH_RUNS, WAKEHUB_BENCH_NODE_BOOT, WAKEHUB_BENCH_VM_START,
WAKEHUB_BENCH_CONTAINER_START, and, to try other timings without editing the
integration, WAKEHUB_BENCH_PROBE_INTERVAL / WAKEHUB_BENCH_TASK_POLL (seconds;
unset: the integration's own constants).

It lives outside tests/ so the test suite never collects it.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator, Callable
import contextlib
from dataclasses import dataclass, field
from datetime import timedelta
import json
import os
from pathlib import Path
import re
import time
from typing import Any

from aiohttp import web
from homeassistant.const import ATTR_ENTITY_ID, STATE_ON
from homeassistant.core import Event, HomeAssistant, callback
from homeassistant.helpers import entity_registry as er
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.wakehub import cascade, coordinator
from custom_components.wakehub.const import (
    CONF_HOST_LINK,
    CONF_HOST_LINKS,
    CONF_KIND,
    CONF_SCAN_INTERVAL,
    CONF_TIMEOUT,
    DOMAIN,
    EVENT_POWER,
    KIND_DOCKER,
)
from custom_components.wakehub.kinds import proxmox as pve_kind
from tests.conftest import (  # autouse fixtures: custom integrations, real sockets
    auto_enable_custom_integrations,  # noqa: F401
    machine_data,
    real_sockets,  # noqa: F401
)
from tests.contract import SPECS_DIR
from tests.contract.docker import contract_for
from tests.contract.pve import SPEC_NAME, load_spec
from tests.power.conftest import follow
from tests.proxmox.conftest import guest_subentries, pve_data
from tests.simulators.docker import DockerSimulator
from tests.simulators.machine import MachineSimulator
from tests.simulators.proxmox import ProxmoxSimulator

RUNS = int(os.environ.get("WAKEHUB_BENCH_RUNS", "3"))
NODE_BOOT = float(os.environ.get("WAKEHUB_BENCH_NODE_BOOT", "20"))
VM_START = float(os.environ.get("WAKEHUB_BENCH_VM_START", "5"))
CONTAINER_START = float(os.environ.get("WAKEHUB_BENCH_CONTAINER_START", "1"))
PROBE_INTERVAL = os.environ.get("WAKEHUB_BENCH_PROBE_INTERVAL")
TASK_POLL = os.environ.get("WAKEHUB_BENCH_TASK_POLL")
# "0": measure with asyncio debug mode off (the test harness turns it on).
LOOP_DEBUG = os.environ.get("WAKEHUB_BENCH_LOOP_DEBUG")
OUT = os.environ.get("WAKEHUB_BENCH_OUT")
# Every layer's start/stop may take this long before WakeHub gives up.
TIMEOUT = NODE_BOOT + VM_START + CONTAINER_START + 60

VMID = 100
VM_NAME = "media"
NODE_SWITCH = "switch.node_pve1"
VM_SWITCH = f"switch.{VM_NAME}"
JELLYFIN = "switch.jellyfin"
SWITCHES = (NODE_SWITCH, VM_SWITCH, JELLYFIN)


# -- simulators with clocks ----------------------------------------------------------


@dataclass
class Timed:
    """Mixin: the time each request arrived and was answered; when the API came up."""

    timings: list[tuple[float, float, str, str, int]] = field(default_factory=list)
    api_up: list[float] = field(default_factory=list)

    async def start(self) -> None:
        await super().start()  # type: ignore[misc]
        self.api_up.append(time.monotonic())

    @web.middleware
    async def _record(self, request: web.Request, handler: Any) -> web.StreamResponse:
        arrived = time.monotonic()
        response: web.StreamResponse = await super()._record(request, handler)  # type: ignore[misc]
        self.timings.append(
            (arrived, time.monotonic(), request.method, request.path, response.status)
        )
        return response


@dataclass
class TimedProxmox(Timed, ProxmoxSimulator):
    """Proxmox, also noting when each task's effect (the guest running) applied."""

    effects: list[tuple[float, str]] = field(default_factory=list)

    def _task(
        self,
        guest: Any,
        principal: Any,
        action: str,
        delay: float,
        effect: Callable[[], None],
        **kwargs: Any,
    ) -> web.Response:
        def timed_effect() -> None:
            effect()
            self.effects.append((time.monotonic(), f"{action} {guest.vmid}"))

        return super()._task(guest, principal, action, delay, timed_effect, **kwargs)


@dataclass
class TimedDocker(Timed, DockerSimulator):
    """The Docker engine with request clocks."""


@dataclass
class TimedMachine(MachineSimulator):
    """The machine, noting when packets arrived, when it booted, each SSH command."""

    packet_times: list[float] = field(default_factory=list)
    boot_times: list[float] = field(default_factory=list)
    command_times: list[tuple[float, str]] = field(default_factory=list)

    def receive_packet(self, data: bytes) -> None:
        self.packet_times.append(time.monotonic())
        super().receive_packet(data)

    async def _boot_now(self) -> None:
        was_on = self.powered
        await super()._boot_now()
        if not was_on:
            self.boot_times.append(time.monotonic())

    def _handle_process(self, process: Any) -> None:
        self.command_times.append((time.monotonic(), process.command or ""))
        super()._handle_process(process)


# -- the lab, with realistic delays ------------------------------------------------------


@dataclass
class Chain:
    node: TimedMachine
    pve: TimedProxmox
    docker: TimedDocker


@pytest.fixture(autouse=True)
def timings(monkeypatch: pytest.MonkeyPatch) -> None:
    """The integration's own intervals, unless the run asks to try others."""
    if PROBE_INTERVAL is not None:
        # Read where it is used: a changing resource's probes, a platform's wait.
        for module in (coordinator, cascade):
            monkeypatch.setattr(
                module, "PROBE_INTERVAL", timedelta(seconds=float(PROBE_INTERVAL))
            )
    if TASK_POLL is not None:
        monkeypatch.setattr(pve_kind.const, "TASK_POLL_INTERVAL", float(TASK_POLL))


@pytest.fixture
async def chain(hass: HomeAssistant) -> AsyncIterator[Chain]:
    """tests/power/conftest.py's `lab`, with the issue's boot times and VM name."""
    node = TimedMachine(
        mac="52:54:00:00:00:01", boot_delay=NODE_BOOT, shutdown_delay=0.05
    )
    await node.start()
    # The VM's start task finishes (and the guest runs) after start_delay;
    # task_delay is for other actions (stop, reset...), not used by a start.
    pve = TimedProxmox(start_delay=VM_START, stop_delay=0.05, task_delay=0.05)
    pve.guests[VMID].name = VM_NAME
    await pve.start()  # once, to own its port and certificate
    await pve.stop()
    pve.guests[VMID].status = "stopped"
    docker = TimedDocker(start_delay=CONTAINER_START, stop_delay=0.05)
    docker.add_container("jellyfin", image="jellyfin/jellyfin:10.10", state="exited")
    docker.add_container("nextcloud", image="nextcloud:30-apache", state="exited")
    await docker.start()
    await docker.stop()
    # The simulators check every exchange against the vendors' schemas, loaded
    # once per process: load them now, not inside the first run's measurement.
    await hass.async_add_executor_job(load_spec, SPECS_DIR / SPEC_NAME)
    await hass.async_add_executor_job(contract_for, docker.api_version)

    # The Proxmox API answers as soon as the node's SSH is up; the engine as soon
    # as the VM runs (both checked every 20 ms, as in the test lab).
    stop = asyncio.Event()
    gates = [
        asyncio.create_task(follow(lambda: node.powered, pve, stop)),
        asyncio.create_task(
            follow(lambda: pve.guests[VMID].status == "running", docker, stop)
        ),
    ]

    machine_entry = MockConfigEntry(
        domain=DOMAIN,
        title="Node pve1",
        unique_id=node.mac,
        data=machine_data(node),
        options={CONF_TIMEOUT: TIMEOUT},
    )
    machine_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(machine_entry.entry_id)
    await hass.async_block_till_done()
    registry = er.async_get(hass)

    subentries = guest_subentries([VMID])
    for subentry in subentries:
        subentry["title"] = VM_NAME
        subentry["data"]["name"] = VM_NAME
    pve_entry = MockConfigEntry(
        domain=DOMAIN,
        title="homelab",
        unique_id="homelab",
        data=pve_data(pve),
        options={
            CONF_TIMEOUT: TIMEOUT,
            CONF_HOST_LINKS: {"pve1": registry.async_get(NODE_SWITCH).id},
        },
        subentries_data=subentries,
    )
    pve_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(pve_entry.entry_id)
    await hass.async_block_till_done()

    docker_entry = MockConfigEntry(
        domain=DOMAIN,
        title="docker on media",
        unique_id=docker.engine_id,
        data={CONF_KIND: KIND_DOCKER, "url": docker.docker_url, "verify_ssl": True},
        options={
            CONF_TIMEOUT: TIMEOUT,
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

    yield Chain(node, pve, docker)

    for entry in (docker_entry, pve_entry, machine_entry):
        await hass.config_entries.async_unload(entry.entry_id)
    stop.set()
    for gate in gates:
        with contextlib.suppress(asyncio.CancelledError):
            await gate
    await docker.stop()
    await pve.stop()
    await node.stop()
    assert pve.violations == []
    assert docker.violations == []


# -- the measurement -----------------------------------------------------------------


def _path_label(path: str) -> str:
    """Group request paths: task ids and API versions would make every path unique."""
    path = re.sub(r"/tasks/[^/]+/", "/tasks/{upid}/", path)
    path = re.sub(r"/containers/[0-9a-f]{64}/", "/containers/{id}/", path)
    return re.sub(r"^/v\d+\.\d+/", "/", path)


def _requests(sim: Timed, t0: float, end: float) -> dict[str, Any]:
    during = [t for t in sim.timings if t0 <= t[0] <= end]
    return {
        "count": len(during),
        "by_path": dict(Counter(f"{m} {_path_label(p)}" for _, _, m, p, _ in during)),
        "timings": [(a - t0, b - t0, m, p, s) for a, b, m, p, s in during],
    }


def _append(path: Path, line: str) -> None:
    with path.open("a", encoding="utf-8") as out:
        out.write(line + "\n")


@pytest.mark.timeout(TIMEOUT * 2 + 60)
@pytest.mark.parametrize("run", range(1, RUNS + 1))
async def test_cascade(hass: HomeAssistant, chain: Chain, run: int) -> None:
    """Everything off → turn on switch.jellyfin → record when each step happened."""
    for entity_id in SWITCHES:
        assert hass.states.get(entity_id).state == "off", entity_id

    events: list[tuple[float, dict[str, Any]]] = []
    switched_on: dict[str, float] = {}

    # Callbacks: run in the event loop at once (a plain function would be run in
    # the executor, later, and its clock reading would be late).
    @callback
    def on_power(event: Event) -> None:
        events.append((time.monotonic(), dict(event.data)))

    @callback
    def on_state(event: Event) -> None:
        new = event.data["new_state"]
        entity_id = event.data["entity_id"]
        if entity_id in SWITCHES and new and new.state == STATE_ON:
            switched_on.setdefault(entity_id, time.monotonic())

    hass.bus.async_listen(EVENT_POWER, on_power)
    hass.bus.async_listen("state_changed", on_state)
    pve_before, docker_before = len(chain.pve.timings), len(chain.docker.timings)
    commands_before, packets_before = len(chain.node.commands), len(chain.node.packets)

    loop = asyncio.get_running_loop()
    harness_debug = loop.get_debug()
    if LOOP_DEBUG is not None:
        loop.set_debug(LOOP_DEBUG != "0")
    loop_debug = loop.get_debug()
    t0 = time.monotonic()
    try:
        await hass.services.async_call(
            "switch", "turn_on", {ATTR_ENTITY_ID: JELLYFIN}, blocking=True
        )
        returned = time.monotonic()
    finally:
        loop.set_debug(harness_debug)
    assert hass.states.get(JELLYFIN).state == STATE_ON
    assert chain.docker.containers["jellyfin"].state == "running"
    assert chain.docker.containers["nextcloud"].state == "exited"
    end = switched_on[JELLYFIN]

    result = {
        "run": run,
        "loop_debug": loop_debug,
        "delays": {
            "node_boot": NODE_BOOT,
            "vm_start": VM_START,
            "container_start": CONTAINER_START,
            "pve_task_delay": chain.pve.task_delay,
        },
        "intervals": {
            "probe": coordinator.PROBE_INTERVAL.total_seconds(),
            "task_poll": pve_kind.const.TASK_POLL_INTERVAL,
        },
        "total": end - t0,
        "service_returned": returned - t0,
        "switch_on": {k: v - t0 for k, v in switched_on.items()},
        "events": [
            {
                "t": t - t0,
                **{k: data.get(k) for k in ("name", "action", "step", "result")},
                "reason": data.get("reason"),
            }
            for t, data in events
        ],
        "node": {
            "packets": len(chain.node.packets) - packets_before,
            "packet_times": [t - t0 for t in chain.node.packet_times],
            "boot_times": [t - t0 for t in chain.node.boot_times],
            "ssh_commands": len(chain.node.commands) - commands_before,
            "command_times": [(t - t0, c) for t, c in chain.node.command_times],
        },
        "pve": {
            "api_up": [t - t0 for t in chain.pve.api_up if t >= t0],
            "effects": [(t - t0, what) for t, what in chain.pve.effects],
            **_requests(chain.pve, t0, end),
            "total_requests": len(chain.pve.timings) - pve_before,
        },
        "docker": {
            "api_up": [t - t0 for t in chain.docker.api_up if t >= t0],
            **_requests(chain.docker, t0, end),
            "total_requests": len(chain.docker.timings) - docker_before,
        },
    }
    if OUT:
        await hass.async_add_executor_job(_append, Path(OUT), json.dumps(result))
    else:
        print(json.dumps(result, indent=1))
