"""Benchmark: how long a whole cascade takes, and WakeHub's own share of it.

Run: `.venv/bin/python scripts/bench/cascade.py` (prints markdown tables).

The chain (as in tests/power/test_cascade.py, with the issue's boot times): the
container "jellyfin" on a Docker engine that runs in the Proxmox VM "media", on
the node "Node pve1", which is a WakeHub machine. Everything starts off; the node
boots in 20 s after its magic packet, the VM's start task takes 5 s, the
container's start request 1 s. The Proxmox API answers as soon as the node's SSH
is up, the Docker engine as soon as the VM runs.

A real Home Assistant core runs in-process, as in the tests: this script runs
pytest on scripts/bench/cascade_bench_test.py (outside the test suite), one test
per run, each with a fresh Home Assistant and fresh simulators. Each run measures
the wall time from the `switch.turn_on` call on switch.jellyfin to its state
"on". Overhead = that total - the simulated boot times (20 + 5 + 1 s). The
breakdown places every step on one clock (time.monotonic(), in-process): the
simulators note when they saw each packet, request and boot, and WakeHub's
`wakehub_power` events say when it saw each layer up.

`--probe-interval` / `--task-poll` try other values of PROBE_INTERVAL and
kinds/proxmox.py's TASK_POLL_INTERVAL without editing the integration (by default
its own constants are used). `--no-loop-debug` measures with asyncio's debug mode
off (Home Assistant's test harness turns it on).
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path
import statistics
import subprocess
import sys
import tempfile
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
BENCH_TEST = Path(__file__).resolve().with_name("cascade_bench_test.py")
JELLYFIN = "switch.jellyfin"
VM_START_PATH = "/status/start"
CONTAINER_START_PATH = "/containers/jellyfin/start"

# The steps of the breakdown: (label, who spends the time, from mark, to mark).
STEPS = (
    ("turn_on → magic packet received", "WakeHub", "t0", "packet"),
    ("packet → node SSH up (node boot)", "simulated", "packet", "node_up"),
    ("node SSH up → node seen running", "WakeHub", "node_up", "node_done"),
    ("node seen → VM start requested (Proxmox API wait)", "WakeHub", "node_done", "vm_requested"),
    ("VM start requested → POST received", "WakeHub", "vm_requested", "vm_post"),
    ("POST → VM running (VM start task)", "simulated", "vm_post", "vm_running"),
    ("VM running → VM seen running (task poll + refresh)", "WakeHub", "vm_running", "vm_done"),
    ("VM seen → container start requested (engine wait)", "WakeHub", "vm_done", "ct_requested"),
    ("container start requested → POST received", "WakeHub", "ct_requested", "ct_post"),
    ("POST received → answered (container start)", "simulated", "ct_post", "ct_started"),
    ("container started → switch.jellyfin on", "WakeHub", "ct_started", "switch_on"),
)  # fmt: skip


def run_benchmark(args: argparse.Namespace) -> list[dict[str, Any]]:
    """Run the pytest module; return one result per run."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "cascade.jsonl"
        env = {
            **os.environ,
            "WAKEHUB_BENCH_OUT": str(out),
            "WAKEHUB_BENCH_RUNS": str(args.runs),
            "WAKEHUB_BENCH_NODE_BOOT": str(args.node_boot),
            "WAKEHUB_BENCH_VM_START": str(args.vm_start),
            "WAKEHUB_BENCH_CONTAINER_START": str(args.container_start),
        }
        if args.probe_interval is not None:
            env["WAKEHUB_BENCH_PROBE_INTERVAL"] = str(args.probe_interval)
        if args.task_poll is not None:
            env["WAKEHUB_BENCH_TASK_POLL"] = str(args.task_poll)
        if args.no_loop_debug:
            env["WAKEHUB_BENCH_LOOP_DEBUG"] = "0"
        command = [
            sys.executable,
            "-m",
            "pytest",
            str(BENCH_TEST.relative_to(ROOT)),
            "-p",
            "no:cacheprovider",
            "-q",
            "-s",
        ]
        print(f"Running: {' '.join(command)}", file=sys.stderr, flush=True)
        done = subprocess.run(
            command,
            cwd=ROOT,
            env=env,
            check=False,
            capture_output=not args.verbose,
            text=True,
        )
        if done.returncode != 0:
            if not args.verbose:
                print(done.stdout[-6000:], done.stderr[-3000:], file=sys.stderr)
            raise SystemExit(
                f"the benchmark run failed (pytest exit {done.returncode})"
            )
        lines = out.read_text(encoding="utf-8").splitlines()
    return sorted((json.loads(line) for line in lines), key=lambda r: r["run"])


# -- reading one run --------------------------------------------------------------------


def simulated(result: dict[str, Any]) -> float:
    """The boot times asked of the simulators (a VM start uses start_delay only)."""
    d = result["delays"]
    return float(d["node_boot"] + d["vm_start"] + d["container_start"])


def _event(result: dict[str, Any], name: str, result_word: str) -> float | None:
    for e in result["events"]:
        if e["name"] == name and e["action"] == "start" and e["result"] == result_word:
            return float(e["t"])
    return None


def _request(
    side: dict[str, Any], method: str, suffix: str
) -> tuple[float, float] | None:
    for arrived, answered, m, path, _status in side["timings"]:
        if m == method and path.endswith(suffix):
            return float(arrived), float(answered)
    return None


def marks(result: dict[str, Any]) -> dict[str, float | None]:
    """When each step happened, seconds after the turn_on call."""
    node, pve, docker = result["node"], result["pve"], result["docker"]
    vm_post = _request(pve, "POST", VM_START_PATH)
    ct_post = _request(docker, "POST", CONTAINER_START_PATH)
    vm_running = [t for t, what in pve["effects"] if what.startswith("start ")]
    return {
        "t0": 0.0,
        "packet": node["packet_times"][0] if node["packet_times"] else None,
        "node_up": node["boot_times"][0] if node["boot_times"] else None,
        "node_done": _event(result, "Node pve1", "done"),
        "pve_up": pve["api_up"][0] if pve["api_up"] else None,
        "vm_requested": _event(result, "media", "requested"),
        "vm_post": vm_post[0] if vm_post else None,
        "vm_running": vm_running[0] if vm_running else None,
        "vm_done": _event(result, "media", "done"),
        "docker_up": docker["api_up"][0] if docker["api_up"] else None,
        "ct_requested": _event(result, "jellyfin", "requested"),
        "ct_post": ct_post[0] if ct_post else None,
        "ct_started": ct_post[1] if ct_post else None,
        "switch_on": result["switch_on"].get(JELLYFIN),
    }


def _delta(m: dict[str, float | None], start: str, end: str) -> float | None:
    a, b = m[start], m[end]
    return None if a is None or b is None else b - a


def _fmt(value: float | None, digits: int = 3) -> str:
    return "?" if value is None else f"{value:.{digits}f}"


# -- tables -------------------------------------------------------------------------------


def print_summary(results: list[dict[str, Any]]) -> None:
    print("| run | total s | simulated s | overhead s | overhead % |")
    print("|---:|---:|---:|---:|---:|")
    totals, overheads, percents = [], [], []
    for r in results:
        total, sim = r["total"], simulated(r)
        overhead = total - sim
        totals.append(total)
        overheads.append(overhead)
        percents.append(100 * overhead / sim)
        print(
            f"| {r['run']} | {total:.3f} | {sim:g} | {overhead:.3f} | "
            f"{percents[-1]:.2f} |"
        )
    print(
        f"| **median** | **{statistics.median(totals):.3f}** | "
        f"{simulated(results[0]):g} | **{statistics.median(overheads):.3f}** | "
        f"**{statistics.median(percents):.2f}** |"
    )


def print_breakdown(results: list[dict[str, Any]]) -> None:
    all_marks = [marks(r) for r in results]
    runs = " | ".join(f"run {r['run']} s" for r in results)
    print(f"| step | who | {runs} | median s |")
    print("|---|---|" + "---:|" * (len(results) + 1))
    totals: dict[str, list[float]] = {"WakeHub": [], "simulated": []}
    for label, who, start, end in STEPS:
        values = [_delta(m, start, end) for m in all_marks]
        known = [v for v in values if v is not None]
        median = statistics.median(known) if known else None
        totals[who].append(median or 0.0)
        cells = " | ".join(_fmt(v) for v in values)
        print(f"| {label} | {who} | {cells} | {_fmt(median)} |")
    print(
        f"\nSum of medians: WakeHub {sum(totals['WakeHub']):.3f} s, "
        f"simulators {sum(totals['simulated']):.3f} s."
    )
    gates = [
        (_delta(m, "node_up", "pve_up"), _delta(m, "vm_running", "docker_up"))
        for m in all_marks
    ]
    print(
        "Lab gates (20 ms polls, overlap WakeHub's waits): Proxmox API up after "
        "node SSH up: "
        + ", ".join(_fmt(g[0]) for g in gates)
        + " s; Docker engine up after VM running: "
        + ", ".join(_fmt(g[1]) for g in gates)
        + " s."
    )


def print_costs(results: list[dict[str, Any]]) -> None:
    print("| run | Proxmox requests | Docker requests | SSH commands | magic packets |")
    print("|---:|---:|---:|---:|---:|")
    for r in results:
        print(
            f"| {r['run']} | {r['pve']['count']} | {r['docker']['count']} | "
            f"{r['node']['ssh_commands']} | {r['node']['packets']} |"
        )
    for side in ("pve", "docker"):
        paths: dict[str, list[int]] = {}
        for i, r in enumerate(results):
            for path, n in r[side]["by_path"].items():
                paths.setdefault(path, [0] * len(results))[i] = n
        print(
            f"\n{'Proxmox' if side == 'pve' else 'Docker'} requests by path (per run):"
        )
        for path, counts in sorted(paths.items()):
            print(f"- `{path}`: {', '.join(map(str, counts))}")


def print_events(result: dict[str, Any]) -> None:
    print(f"\n`wakehub_power` events of run {result['run']} (s after turn_on):\n")
    for e in result["events"]:
        print(
            f"- {e['t']:.3f} {e['name']} {e['action']} {e['step'] or '-'} "
            f"{e['result']} {e['reason'] or ''}".rstrip()
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--node-boot", type=float, default=20.0)
    parser.add_argument("--vm-start", type=float, default=5.0)
    parser.add_argument("--container-start", type=float, default=1.0)
    parser.add_argument(
        "--probe-interval", type=float, help="override PROBE_INTERVAL (s)"
    )
    parser.add_argument(
        "--task-poll", type=float, help="override proxmox TASK_POLL_INTERVAL (s)"
    )
    parser.add_argument("--no-loop-debug", action="store_true")
    parser.add_argument("--events", action="store_true", help="print event timelines")
    parser.add_argument("--verbose", action="store_true", help="show pytest output")
    parser.add_argument("--json", type=Path, help="also save the raw results there")
    args = parser.parse_args()

    results = run_benchmark(args)
    if args.json:
        args.json.write_text(json.dumps(results, indent=1), encoding="utf-8")
    first = results[0]
    print(
        f"Cascade to switch.jellyfin: node boot {args.node_boot:g} s, VM start "
        f"{args.vm_start:g} s, container start {args.container_start:g} s "
        f"(Proxmox task_delay {first['delays']['pve_task_delay']:g} s is not used "
        f"by a start); PROBE_INTERVAL {first['intervals']['probe']:g} s, "
        f"TASK_POLL_INTERVAL {first['intervals']['task_poll']:g} s, asyncio debug "
        f"{'on' if first['loop_debug'] else 'off'}; {len(results)} runs.\n"
    )
    print_summary(results)
    print("\nWhere the time goes (each step's duration):\n")
    print_breakdown(results)
    print("\nWhat the cascade cost (from turn_on to switch on):\n")
    print_costs(results)
    if args.events:
        for r in results:
            print_events(r)


if __name__ == "__main__":
    main()
