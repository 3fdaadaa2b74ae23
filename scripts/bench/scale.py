"""Benchmark: event-loop time per poll as a cluster grows, WakeHub vs `proxmoxve`.

Run: `.venv/bin/python scripts/bench/scale.py` (prints a markdown table).

One Home Assistant core per run (pytest-homeassistant-custom-component's test
instance, asyncio debug off, as in production) loads, against the same
simulated cluster:

- WakeHub: three machine entries (the nodes' hardware) and one Proxmox entry
  that follows every guest, each node linked to its machine: every guest
  depends on a machine, the worst case for the dependency graph and the idle
  detector;
- Home Assistant's `proxmoxve` (proxmoxer + requests in the executor), which
  creates its entities for every guest too.

The simulators (tests/simulators: a Proxmox cluster of 3 nodes and N guests,
contract checks off, and the three machines) run in a child process, so what
is measured here is Home Assistant's side only. For each integration, a poll
cycle is `coordinator.async_refresh()` then `hass.async_block_till_done()`
(its listeners, entity state writes and whatever they scheduled). Per cycle:

- loop ms: CPU time of the event loop's thread during the cycle
  (`time.thread_time`), i.e. the time the loop spent running callbacks; waits
  for the network and proxmoxve's executor thread are not in it;
- longest block: the longest stretch the loop could not run anything else,
  measured by a watchdog task that sleeps 2 ms: how much loop CPU time passed
  before it woke (the code's cost), and how late it woke in wall time (what a
  user sees, inflated when the machine is busy and the process preempted).

Each run takes the median of `--cycles` polls of each integration (they
alternate); the table gives min/median/max over `--runs` runs. The growth
exponent is the least-squares slope of log(loop ms) over log(guests) for 100
to 2000 guests (1.0: linear). Setup time is from `async_setup` of the entry to
`async_block_till_done`; memory is the growth of the process's resident set
across that setup (both at 1000 guests, or the largest size run). Each run is
a fresh process, so no run reuses memory another freed.

Home Assistant (2026.10) adds at most 10,000 enabled entities per config entry;
the benchmark lifts that limit so both integrations poll every guest
(`--entity-limit` keeps it). `--profile N` prints a cProfile of WakeHub's poll
cycles at N guests instead of the table.
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Callable, Coroutine
import contextlib
import cProfile
import gc
import json
import math
from pathlib import Path
import pstats
import statistics
import subprocess
import sys
import tempfile
import time
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

NODES = 3
SIZES = (10, 100, 500, 1000, 2000)
SETUP_SIZE = 1000
WATCHDOG_TICK = 0.002


# -- the simulators, in a child process ----------------------------------------------------


async def _serve(guests: int) -> None:
    from tests.conftest import machine_data
    from tests.simulators.machine import MachineSimulator
    from tests.simulators.proxmox import ProxmoxSimulator, SimNode

    class Cluster(ProxmoxSimulator):
        """Nodes listed with their "id" and "type", as Proxmox lists them.

        The published schema (and so the simulator) lacks both, but Proxmox
        sends them and proxmoxve reads "id".
        """

        def _node_stats(self, node: SimNode) -> dict[str, Any]:
            stats: dict[str, Any] = super()._node_stats(node)
            return {"id": f"node/{node.name}", "type": "node", **stats}

    sim = Cluster(
        cluster_name="bench", node_count=NODES, guest_count=guests, contract=False
    )
    await sim.start()
    machines = [
        MachineSimulator(mac=f"52:54:00:00:01:{i:02x}") for i in range(1, NODES + 1)
    ]
    for machine in machines:
        await machine.start()
        await machine.power_on()
    info = {
        "url": sim.url,
        "fingerprint": sim.fingerprint,
        "port": sim.port,
        "machines": [machine_data(m) for m in machines],
    }
    print(json.dumps(info), flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
    for machine in machines:
        await machine.stop()
    await sim.stop()


@contextlib.contextmanager
def _simulators(guests: int) -> Any:
    child = subprocess.Popen(
        [sys.executable, __file__, "--serve", str(guests)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    assert child.stdout is not None
    assert child.stdin is not None
    try:
        yield json.loads(child.stdout.readline())
    finally:
        child.stdin.close()
        child.wait(timeout=60)


# -- measuring ----------------------------------------------------------------------------


class Watchdog:
    """Notes how late a task that sleeps WATCHDOG_TICK wakes: the loop was busy.

    In wall time (what a user sees, including the process being preempted on a
    busy machine) and in the loop thread's CPU time (what the code costs).
    """

    def __init__(self) -> None:
        self.longest = 0.0
        self.longest_cpu = 0.0
        self._task: asyncio.Task[None] | None = None

    async def _run(self) -> None:
        while True:
            wall, cpu = time.perf_counter(), time.thread_time()
            await asyncio.sleep(WATCHDOG_TICK)
            late = time.perf_counter() - wall - WATCHDOG_TICK
            self.longest = max(self.longest, late)
            self.longest_cpu = max(self.longest_cpu, time.thread_time() - cpu)

    def reset(self) -> None:
        self.longest = self.longest_cpu = 0.0

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        assert self._task is not None
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task


def _rss() -> int:
    """Resident set size of this process, bytes (after a full collection)."""
    gc.collect()
    pages = int(Path("/proc/self/statm").read_text().split()[1])
    return pages * 4096


async def _cycle(hass: Any, refresh: Callable[[], Coroutine[Any, Any, None]],
                 watchdog: Watchdog) -> tuple[float, float, float, float]:  # fmt: skip
    """Loop ms, wall ms, longest blocked ms (wall, CPU) of a poll and its effects."""
    await hass.async_block_till_done()
    await asyncio.sleep(WATCHDOG_TICK * 2)  # the watchdog's stretch starts here
    watchdog.reset()
    cpu, wall = time.thread_time(), time.perf_counter()
    await refresh()
    await hass.async_block_till_done()
    cpu, wall = time.thread_time() - cpu, time.perf_counter() - wall
    await asyncio.sleep(WATCHDOG_TICK * 2)  # let it notice the last stretch
    return cpu * 1000, wall * 1000, watchdog.longest * 1000, watchdog.longest_cpu * 1000


# -- one run: a Home Assistant with both integrations ----------------------------------------


def _guest_subentries(guests: int) -> list[dict[str, Any]]:
    """Every guest the simulator generates (its naming, types and placement)."""
    return [
        {
            "subentry_type": "guest",
            "title": f"guest-{100 + i}",
            "unique_id": str(100 + i),
            "data": {
                "vmid": 100 + i,
                "type": "lxc" if i % 3 == 2 else "qemu",
                "node": f"pve{i % NODES + 1}",
                "name": f"guest-{100 + i}",
            },
        }
        for i in range(guests)
    ]


async def _setup(hass: Any, entry: Any) -> tuple[float, int]:
    """(seconds, RSS growth in bytes) of setting `entry` up."""
    entry.add_to_hass(hass)
    rss, start = _rss(), time.perf_counter()
    if not await hass.config_entries.async_setup(entry.entry_id):
        raise RuntimeError(
            f"{entry.domain} {entry.title}: {entry.state} {entry.reason}"
        )
    await hass.async_block_till_done()
    return time.perf_counter() - start, _rss() - rss


def _guest_switches(hass: Any, entry: Any) -> int:
    """How many guests of `entry` have a power switch (under the entity cap)."""
    from homeassistant.helpers import entity_registry as er

    return sum(
        1
        for e in er.async_entries_for_config_entry(er.async_get(hass), entry.entry_id)
        if e.config_subentry_id is not None
        and e.unique_id.endswith("_power")
        and hass.states.get(e.entity_id) is not None
    )


async def one_run(
    info: dict[str, Any],
    guests: int,
    cycles: int,
    profile: cProfile.Profile | None = None,
    *,
    entity_limit: bool = False,
) -> dict[str, Any]:
    from homeassistant import loader
    from homeassistant.helpers import entity_platform

    if not entity_limit and hasattr(
        entity_platform, "MAX_ENABLED_ENTITIES_PER_CONFIG_ENTRY"
    ):
        # Home Assistant stops adding an entry's entities at 10,000; lifted, so
        # both integrations poll every guest they were given.
        entity_platform.MAX_ENABLED_ENTITIES_PER_CONFIG_ENTRY = 10**9
    from homeassistant.helpers import entity_registry as er, frame
    from pytest_homeassistant_custom_component.common import (
        MockConfigEntry,
        async_test_home_assistant,
    )

    from custom_components.wakehub.const import (
        CONF_HOST_LINKS,
        CONF_KIND,
        CONF_SCAN_INTERVAL,
        CONF_TIMEOUT,
        DOMAIN,
        KIND_PROXMOX,
    )
    from tests.simulators.proxmox import DEFAULT_TOKEN_SECRET

    result: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as config_dir:
        async with async_test_home_assistant(config_dir=config_dir) as hass:
            hass.data.pop(loader.DATA_CUSTOM_COMPONENTS)  # load custom integrations
            frame.async_setup(hass)  # as the test harness's fixture does
            registry = er.async_get(hass)
            # Polled by hand below: no timer poll in the middle of a measure.
            slow = {CONF_TIMEOUT: 60, CONF_SCAN_INTERVAL: 3600}
            links = {}
            for index, data in enumerate(info["machines"], start=1):
                machine = MockConfigEntry(
                    domain=DOMAIN,
                    title=f"Node pve{index}",
                    unique_id=data["mac"],
                    data=data,
                    options=slow,
                )
                await _setup(hass, machine)
                switch = next(
                    e
                    for e in er.async_entries_for_config_entry(
                        registry, machine.entry_id
                    )
                    if e.unique_id.endswith("_power")
                )
                links[f"pve{index}"] = switch.id

            wakehub = MockConfigEntry(
                domain=DOMAIN,
                title="bench",
                unique_id="bench",
                data={
                    CONF_KIND: KIND_PROXMOX,
                    "url": info["url"],
                    "username": "root@pam",
                    "token_id": "wakehub",
                    "token_secret": DEFAULT_TOKEN_SECRET,
                    "verify_ssl": True,
                    "fingerprint": info["fingerprint"],
                    "cluster": "bench",
                    "nodes": [f"pve{i + 1}" for i in range(NODES)],
                },
                options={**slow, CONF_HOST_LINKS: links},
                subentries_data=_guest_subentries(guests),
            )
            result["wakehub_setup_s"], result["wakehub_rss"] = await _setup(
                hass, wakehub
            )
            theirs = MockConfigEntry(
                domain="proxmoxve",
                version=3,
                title="bench",
                data={
                    "host": "127.0.0.1",
                    "port": info["port"],
                    "username": "root@pam",
                    "auth_method": "pam",
                    "realm": "pam",
                    "token": True,
                    "token_id": "wakehub",
                    "token_value": DEFAULT_TOKEN_SECRET,
                    "verify_ssl": False,  # proxmoxer cannot pin a certificate
                },
            )
            result["ha_setup_s"], result["ha_rss"] = await _setup(hass, theirs)

            ours_refresh = wakehub.runtime_data.coordinator.async_refresh
            theirs_refresh = theirs.runtime_data.async_refresh
            watchdog = Watchdog()
            watchdog.start()
            samples: dict[str, list[tuple[float, float, float, float]]] = {
                "wakehub": [],
                "ha": [],
            }
            await _cycle(hass, ours_refresh, watchdog)  # warm up both
            await _cycle(hass, theirs_refresh, watchdog)
            for _ in range(cycles):
                if profile is not None:
                    profile.enable()
                samples["wakehub"].append(await _cycle(hass, ours_refresh, watchdog))
                if profile is not None:
                    profile.disable()
                    continue
                samples["ha"].append(await _cycle(hass, theirs_refresh, watchdog))
            await watchdog.stop()
            for name, entry in (("wakehub", wakehub), ("ha", theirs)):
                entity_ids = {
                    e.entity_id
                    for e in er.async_entries_for_config_entry(registry, entry.entry_id)
                }
                result[f"{name}_states"] = sum(
                    1
                    for state in hass.states.async_all()
                    if state.entity_id in entity_ids
                )
            result["wakehub_guest_switches"] = _guest_switches(hass, wakehub)
            for name, values in samples.items():
                if not values:
                    continue
                loop_ms, wall_ms, blocked_ms, blocked_cpu_ms = zip(*values, strict=True)
                result[f"{name}_loop_ms"] = statistics.median(loop_ms)
                result[f"{name}_wall_ms"] = statistics.median(wall_ms)
                result[f"{name}_blocked_ms"] = max(blocked_ms)
                result[f"{name}_blocked_cpu_ms"] = max(blocked_cpu_ms)
            await hass.async_stop(force=True)
    return result


# -- the table ---------------------------------------------------------------------------------


def _spread(values: list[float], digits: int = 1) -> str:
    """min / median / max, or the one value of a single run."""
    if len(values) == 1:
        return f"{values[0]:.{digits}f}"
    low, mid, high = min(values), statistics.median(values), max(values)
    return f"{mid:.{digits}f} ({low:.{digits}f}-{high:.{digits}f})"


def _slope(points: list[tuple[int, float]]) -> float:
    """Least-squares slope of log(y) over log(x)."""
    xs = [math.log(x) for x, _ in points]
    ys = [math.log(y) for _, y in points]
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / sum(
        (x - mx) ** 2 for x in xs
    )


def table(results: dict[int, list[dict[str, Any]]]) -> str:
    rows = [
        (
            "| guests | runs | WakeHub loop ms/poll | proxmoxve loop ms/poll | ratio "
            "| WakeHub longest block, CPU ms | proxmoxve longest block, CPU ms "
            "| WakeHub longest block, wall ms | proxmoxve longest block, wall ms "
            "| WakeHub / proxmoxve entities | WakeHub / proxmoxve loop µs per entity |"
        ),
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for guests, runs in results.items():
        ours = [r["wakehub_loop_ms"] for r in runs]
        theirs = [r["ha_loop_ms"] for r in runs]
        ratio = statistics.median(ours) / statistics.median(theirs)
        rows.append(
            f"| {guests} | {len(runs)} | {_spread(ours)} | {_spread(theirs)} "
            f"| {ratio:.2f} "
            f"| {_spread([r['wakehub_blocked_cpu_ms'] for r in runs])} "
            f"| {_spread([r['ha_blocked_cpu_ms'] for r in runs])} "
            f"| {_spread([r['wakehub_blocked_ms'] for r in runs])} "
            f"| {_spread([r['ha_blocked_ms'] for r in runs])} "
            f"| {runs[0]['wakehub_states']} / {runs[0]['ha_states']} "
            f"| {1000 * statistics.median(ours) / runs[0]['wakehub_states']:.0f} / "
            f"{1000 * statistics.median(theirs) / runs[0]['ha_states']:.0f} |"
        )
    lines = ["\n".join(rows), ""]
    for name, key in (("WakeHub", "wakehub_loop_ms"), ("proxmoxve", "ha_loop_ms")):
        points = [
            (guests, statistics.median(r[key] for r in runs))
            for guests, runs in results.items()
            if 100 <= guests <= 2000  # the range the goal is set on
        ]
        if len(points) > 1:
            lines.append(
                f"- growth exponent of {name} loop time "
                f"({points[0][0]}-{points[-1][0]} guests): {_slope(points):.2f}"
            )
    for guests, runs in results.items():
        switches = min(r["wakehub_guest_switches"] for r in runs)
        lines.append(f"- WakeHub guests with a power switch at {guests}: {switches}")
    size = SETUP_SIZE if SETUP_SIZE in results else max(results)
    runs = results[size]
    for name, prefix in (("WakeHub", "wakehub"), ("proxmoxve", "ha")):
        setup = _spread([r[f"{prefix}_setup_s"] for r in runs], 2)
        rss = _spread([r[f"{prefix}_rss"] / 2**20 for r in runs])
        lines.append(
            f"- {name} at {size} guests: setup {setup} s, memory +{rss} MiB RSS"
        )
    return "\n".join(lines)


async def run(
    sizes: list[int], runs: int, big_runs: int, cycles: int, entity_limit: bool
) -> str:
    results: dict[int, list[dict[str, Any]]] = {}
    for guests in sizes:
        count = runs if guests < SETUP_SIZE else big_runs
        with _simulators(guests) as info:
            results[guests] = []
            for _ in range(count):
                start = time.perf_counter()
                results[guests].append(
                    _run_in_child(info, guests, cycles, entity_limit)
                )
                print(
                    f"{guests} guests: run in {time.perf_counter() - start:.0f} s",
                    file=sys.stderr,
                    flush=True,
                )
    return table(results)


def _run_in_child(
    info: dict[str, Any], guests: int, cycles: int, entity_limit: bool
) -> dict[str, Any]:
    """One run in a fresh process: nothing left by the previous run skews it."""
    done = subprocess.run(
        [
            sys.executable,
            __file__,
            "--run",
            str(guests),
            "--cycles",
            str(cycles),
            "--info",
            json.dumps(info),
            *(["--entity-limit"] if entity_limit else []),
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    if done.returncode:
        raise RuntimeError(done.stderr[-3000:])
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


async def profile(guests: int, cycles: int) -> str:
    profiler = cProfile.Profile()
    with _simulators(guests) as info:
        await one_run(info, guests, cycles, profiler)
    stats = pstats.Stats(profiler, stream=sys.stdout)
    stats.sort_stats("cumulative").print_stats(40)
    stats.sort_stats("tottime").print_stats(25)
    return ""


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--serve", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--sizes", type=int, nargs="*", default=list(SIZES))
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument(
        "--big-runs", type=int, help=f"runs at {SETUP_SIZE}+ guests (default: --runs)"
    )
    parser.add_argument("--cycles", type=int, default=5, help="polls per run")
    parser.add_argument("--profile", type=int, metavar="GUESTS")
    parser.add_argument(
        "--entity-limit",
        action="store_true",
        help="keep Home Assistant's limit of 10,000 entities per entry",
    )
    parser.add_argument("--run", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--info", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve is not None:
        asyncio.run(_serve(args.serve))
    elif args.run is not None:
        result = asyncio.run(
            one_run(
                json.loads(args.info),
                args.run,
                args.cycles,
                entity_limit=args.entity_limit,
            )
        )
        print(json.dumps(result))
    elif args.profile is not None:
        asyncio.run(profile(args.profile, args.cycles))
    else:
        big_runs = args.big_runs if args.big_runs is not None else args.runs
        print(
            asyncio.run(
                run(args.sizes, args.runs, big_runs, args.cycles, args.entity_limit)
            )
        )


if __name__ == "__main__":
    main()
