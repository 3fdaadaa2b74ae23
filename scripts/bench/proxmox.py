"""Benchmark: one Proxmox refresh, WakeHub vs Home Assistant's `proxmoxve`.

Run: `.venv/bin/python scripts/bench/proxmox.py` (prints a markdown table).

The simulator (tests/simulators/proxmox.py, 3 nodes, N guests, contract checks
off) runs in a child process, so the memory and time measured here are the
client side only. For each size:

- WakeHub: `ProxmoxClient.fetch_state()` (aiohttp, one `GET /cluster/resources`)
  plus `ProxmoxCoordinator.states()`, the mapping the coordinator applies, with
  every guest selected (worst case). No Home Assistant instance is started.
- HA proxmoxve: the integration's own `ProxmoxCoordinator._fetch_all_nodes()`
  (synchronous `proxmoxer` + `requests`, run in a worker thread as Home
  Assistant's executor does) plus the `ProxmoxNodeData` construction its
  `_async_update_data` performs. Its one-time setup (`_init_proxmox`) is not timed.

Requests are counted on the client side (aiohttp trace / requests.Session).
Time: median of several refreshes (wall clock). Memory: tracemalloc peak during
one refresh.
"""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path
import statistics
import subprocess
import sys
import time
import tracemalloc
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

NODES = 3
SIZES = (10, 100, 1000)


# -- the simulator, in a child process ---------------------------------------------------


async def _serve(guests: int) -> None:
    from tests.simulators.proxmox import ProxmoxSimulator

    sim = ProxmoxSimulator(
        cluster_name="bench", node_count=NODES, guest_count=guests, contract=False
    )
    await sim.start()
    print(sim.port, sim.fingerprint, flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
    await sim.stop()


def _start_simulator(guests: int) -> tuple[subprocess.Popen[str], int, str]:
    child = subprocess.Popen(
        [sys.executable, __file__, "--serve", str(guests)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    assert child.stdout is not None
    port, fingerprint = child.stdout.readline().split()
    return child, int(port), fingerprint


# -- WakeHub -----------------------------------------------------------------------------


def _wakehub_coordinator(guests: int) -> Any:
    """WakeHub's coordinator mapping without a Home Assistant instance."""
    from custom_components.wakehub.kinds.proxmox.coordinator import ProxmoxCoordinator
    from custom_components.wakehub.kinds.proxmox.guest import ProxmoxGuestResource

    coordinator = object.__new__(ProxmoxCoordinator)
    coordinator.cluster = "bench"
    coordinator.missing = set()
    coordinator._counters = {}
    coordinator._boot_times = {}
    nodes = [f"pve{i + 1}" for i in range(NODES)]
    coordinator.guests = {
        vmid: ProxmoxGuestResource(
            key=f"bench_{vmid}",
            name=f"guest-{vmid}",
            coordinator=coordinator,
            entry=None,  # type: ignore[arg-type]
            vmid=vmid,
            guest_type="lxc" if i % 3 == 2 else "qemu",
            node=nodes[i % NODES],
        )
        for i, vmid in enumerate(range(100, 100 + guests))
    }
    return coordinator


async def bench_wakehub(
    port: int, fingerprint: str, guests: int, runs: int
) -> dict[str, float]:
    import aiohttp

    from custom_components.wakehub.api.proxmox import ProxmoxClient
    from tests.simulators.proxmox import DEFAULT_TOKEN_SECRET

    count = 0

    async def on_request(*_: Any) -> None:
        nonlocal count
        count += 1

    trace = aiohttp.TraceConfig()
    trace.on_request_start.append(on_request)
    coordinator = _wakehub_coordinator(guests)
    async with aiohttp.ClientSession(trace_configs=[trace]) as session:
        client = ProxmoxClient(
            session,
            f"https://127.0.0.1:{port}",
            username="root@pam",
            token_id="wakehub",
            token_secret=DEFAULT_TOKEN_SECRET,
            fingerprint=fingerprint,
        )

        async def refresh() -> int:
            state = await client.fetch_state()
            return len(coordinator.states(state, time.monotonic()))

        await refresh()  # warm up: connection, TLS
        times = []
        count = 0
        for _ in range(runs):
            start = time.perf_counter()
            await refresh()
            times.append(time.perf_counter() - start)
        requests = count / runs
        tracemalloc.start()
        await refresh()
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    return {
        "requests": requests,
        "ms": statistics.median(times) * 1000,
        "kib": peak / 1024,
    }


# -- Home Assistant's proxmoxve ----------------------------------------------------------


def bench_ha(port: int, guests: int, runs: int) -> dict[str, float]:
    from homeassistant.components.proxmoxve.coordinator import (
        ProxmoxCoordinator,
        ProxmoxNodeData,
    )
    from proxmoxer import ProxmoxAPI
    import requests
    import urllib3

    from tests.simulators.proxmox import DEFAULT_TOKEN_SECRET

    urllib3.disable_warnings()
    count = 0
    original = requests.Session.request

    def counted(self: requests.Session, *args: Any, **kwargs: Any) -> Any:
        nonlocal count
        count += 1
        return original(self, *args, **kwargs)

    requests.Session.request = counted  # type: ignore[method-assign]
    coordinator = object.__new__(ProxmoxCoordinator)
    # What _init_proxmox does (verify_ssl off: proxmoxer cannot pin a certificate).
    coordinator.proxmox = ProxmoxAPI(
        host="127.0.0.1",
        port=port,
        user="root@pam",
        token_name="wakehub",
        token_value=DEFAULT_TOKEN_SECRET,
        verify_ssl=False,
        timeout=30,
    )
    coordinator.permissions = coordinator.proxmox.access.permissions.get() or {}

    def refresh() -> int:
        # _async_update_data: the executor job, then the data it builds.
        node_pairs = coordinator._fetch_all_nodes()
        data = {
            node["node"]: ProxmoxNodeData(
                node=node,
                vms={int(vm["vmid"]): vm for vm in res.vms},
                containers={int(c["vmid"]): c for c in res.containers},
                storages={s["storage"]: s for s in res.storages},
                backups=res.backups,
                version=res.version,
                update=res.update,
            )
            for node, res in node_pairs
        }
        return len(data)

    try:
        refresh()
        count = 0
        times = []
        for _ in range(runs):
            start = time.perf_counter()
            refresh()
            times.append(time.perf_counter() - start)
        requests_per = count / runs
        tracemalloc.start()
        refresh()
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    finally:
        requests.Session.request = original  # type: ignore[method-assign]
    return {
        "requests": requests_per,
        "ms": statistics.median(times) * 1000,
        "kib": peak / 1024,
    }


# -- main ----------------------------------------------------------------------------------


async def run(sizes: tuple[int, ...]) -> str:
    rows = [
        (
            "| guests (3 nodes) | WakeHub requests/refresh "
            "| HA proxmoxve requests/refresh | WakeHub refresh ms (median) "
            "| HA proxmoxve refresh ms (median) | WakeHub peak KiB "
            "| HA proxmoxve peak KiB |"
        ),
        "|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for guests in sizes:
        runs = 9 if guests < 1000 else 5
        child, port, fingerprint = _start_simulator(guests)
        try:
            ours = await bench_wakehub(port, fingerprint, guests, runs)
            theirs = await asyncio.to_thread(bench_ha, port, guests, runs)
        finally:
            assert child.stdin is not None
            child.stdin.close()
            child.wait(timeout=30)
        rows.append(
            f"| {guests} | {ours['requests']:.0f} | {theirs['requests']:.0f} "
            f"| {ours['ms']:.1f} | {theirs['ms']:.1f} "
            f"| {ours['kib']:.0f} | {theirs['kib']:.0f} |"
        )
    return "\n".join(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--serve", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--sizes", type=int, nargs="*", default=list(SIZES))
    args = parser.parse_args()
    if args.serve is not None:
        asyncio.run(_serve(args.serve))
        return
    print(asyncio.run(run(tuple(args.sizes))))


if __name__ == "__main__":
    main()
