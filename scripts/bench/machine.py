"""Benchmark: time from switching a machine on to its switch showing "on".

Run: `.venv/bin/python scripts/bench/machine.py [--runs N] [--boot SECONDS]`.
The simulated machine boots BOOT seconds (default 3) after its magic packet; a
real Home Assistant core runs in-process (pytest on machine_bench_test.py, one
fresh instance per run). Overhead = total - boot: the time WakeHub needs to see
the SSH port open (probed every PROBE_INTERVAL) and confirm it.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path
import statistics
import subprocess
import sys

ROOT = Path(__file__).resolve().parents[2]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--boot", type=float, default=3.0)
    args = parser.parse_args()
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "WAKEHUB_BENCH_RUNS": str(args.runs),
        "WAKEHUB_BENCH_BOOT": str(args.boot),
    }
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            str(Path(__file__).with_name("machine_bench_test.py")),
            "-p",
            "no:cacheprovider",
            "-q",
            "-s",
            "--rootdir",
            str(ROOT),
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    # pytest -s may print progress dots on the same line before our output.
    rows = [
        json.loads(line.split("BENCH ", 1)[1])
        for line in out.stdout.splitlines()
        if "BENCH " in line
    ]
    if not rows:
        print(out.stdout[-3000:], out.stderr[-3000:])
        raise SystemExit("no measurement")
    print("| run | switch-on → on (s) | boot (s) | overhead (s) |")
    print("|---:|---:|---:|---:|")
    for row in rows:
        print(
            f"| {row['run'] + 1} | {row['total']:.2f} | {row['boot']:.1f} "
            f"| {row['total'] - row['boot']:.2f} |"
        )
    totals = [row["total"] for row in rows]
    median = statistics.median(totals)
    print(
        f"\nmedian {median:.2f} s for a {args.boot:.0f} s boot ({median - args.boot:.2f} s overhead)"
    )


if __name__ == "__main__":
    main()
