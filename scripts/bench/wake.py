"""Benchmark: wake on access, from opening the link to the service's page.

Run: `.venv/bin/python scripts/bench/wake.py` (prints markdown tables).

The chain of cascade.py (node 20 s, VM 5 s, container 1 s in the simulators),
everything off; wake on access on for the container "jellyfin", whose simulated
container serves a page on its own port only while it runs. Each run opens the
wake link through Home Assistant's HTTP server, follows the page's long poll as
its script does, then fetches the service's page (what the browser does once
redirected). Overhead = that total - the simulated boot times (26 s); the part
of it that is wake on access's own = total - when switch.jellyfin turned on.

Then, with the service up: the cost of a gate hit (what a reverse proxy's
forward-auth asks before each request) next to a plain request to the service,
median and p99 over `--hits` sequential requests; with Caddy installed, the
same request through Caddy with forward_auth and without.
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
BENCH_TEST = Path(__file__).resolve().with_name("wake_bench_test.py")


def run_benchmark(args: argparse.Namespace) -> list[dict[str, Any]]:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "wake.jsonl"
        env = {
            **os.environ,
            "WAKEHUB_BENCH_OUT": str(out),
            "WAKEHUB_BENCH_RUNS": str(args.runs),
            "WAKEHUB_BENCH_HITS": str(args.hits),
        }
        command = [
            sys.executable, "-m", "pytest", str(BENCH_TEST.relative_to(ROOT)),
            "-p", "no:cacheprovider", "-q", "-s",
        ]  # fmt: skip
        print(f"Running: {' '.join(command)}", file=sys.stderr, flush=True)
        done = subprocess.run(
            command, cwd=ROOT, env=env, check=False,
            capture_output=not args.verbose, text=True,
        )  # fmt: skip
        if done.returncode != 0:
            if not args.verbose:
                print(done.stdout[-6000:], done.stderr[-3000:], file=sys.stderr)
            raise SystemExit(
                f"the benchmark run failed (pytest exit {done.returncode})"
            )
        lines = out.read_text(encoding="utf-8").splitlines()
    return sorted((json.loads(line) for line in lines), key=lambda r: r["run"])


def p99(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]


def print_wake(results: list[dict[str, Any]]) -> None:
    print(
        "| run | page s | switch on s | ready s | service page s | simulated s | "
        "overhead s | overhead % | wake's own s | polls |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in results:
        sim = sum(r["delays"].values())
        over = r["total"] - sim
        own = r["total"] - (r["switch_on"] or r["total"])
        r["_over"], r["_pct"], r["_own"] = over, 100 * over / sim, own
        print(
            f"| {r['run']} | {r['page']:.3f} | {r['switch_on']:.3f} | {r['ready']:.3f} "
            f"| {r['total']:.3f} | {sim:g} | {over:.3f} | {r['_pct']:.2f} | "
            f"{own:.3f} | {r['polls']} |"
        )
    med = statistics.median
    print(
        f"| **median** | | | | **{med(r['total'] for r in results):.3f}** | | "
        f"**{med(r['_over'] for r in results):.3f}** | "
        f"**{med(r['_pct'] for r in results):.2f}** | "
        f"**{med(r['_own'] for r in results):.3f}** | |"
    )


def print_hits(results: list[dict[str, Any]]) -> None:
    rows = (
        ("gate hit (service up)", "gate_ms"),
        ("plain request to the service", "service_ms"),
        ("through Caddy with forward_auth to the gate", "caddy_forward_auth"),
        ("through Caddy, plain reverse_proxy", "caddy_plain"),
    )
    print("| request | requests | median ms | p99 ms |")
    print("|---|---:|---:|---:|")
    for label, key in rows:
        values = [v for r in results for v in r.get(key, [])]
        if values:
            print(
                f"| {label} | {len(values)} | {statistics.median(values):.2f} | "
                f"{p99(values):.2f} |"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--hits", type=int, default=300, help="requests per series")
    parser.add_argument("--verbose", action="store_true", help="show pytest output")
    parser.add_argument("--json", type=Path, help="also save the raw results there")
    args = parser.parse_args()
    results = run_benchmark(args)
    if args.json:
        args.json.write_text(json.dumps(results, indent=1), encoding="utf-8")
    print(
        "Wake link from all-off to the service's page: node boot 20 s, VM start "
        f"5 s, container start 1 s; {len(results)} runs.\n"
    )
    print_wake(results)
    print("\nCost of a request while the service is up:\n")
    print_hits(results)


if __name__ == "__main__":
    main()
