"""Benchmark on a real Docker engine: poll time with stats, and how soon a start
or stop is confirmed after the engine answered, for 1, 10 and 20 running
containers (all followed, stats on).

Run (the engine of tests/services/dockerd.sh, or any engine you may create
containers on; they are named wakehub-bench-* and removed afterwards):

    export WAKEHUB_DOCKER_SOCKET=/tmp/wakehub-dockerd/docker.sock
    .venv/bin/python scripts/bench/docker_real.py [--runs 3] [--sizes 1,10,20]

`--code DIR` measures another checkout of WakeHub (for instance an export of an
older commit: `git archive <commit> | tar -x -C DIR`): the measuring file is
copied into it and run against its code. A real Home Assistant core runs
in-process (pytest on docker_real_bench_test.py).
"""

from __future__ import annotations

import argparse
from collections import defaultdict
import json
import os
from pathlib import Path
import shutil
import statistics
import subprocess
import sys

ROOT = Path(__file__).resolve().parents[2]
BENCH = Path(__file__).with_name("docker_real_bench_test.py")


def _spread(values: list[float]) -> str:
    """min / median / max, in seconds."""
    return " / ".join(
        f"{v:.3f}" for v in (min(values), statistics.median(values), max(values))
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--sizes", default="1,10,20")
    parser.add_argument("--code", type=Path, default=ROOT)
    args = parser.parse_args()
    if not os.environ.get("WAKEHUB_DOCKER_SOCKET"):
        raise SystemExit("set WAKEHUB_DOCKER_SOCKET to the engine's socket")
    code = args.code.resolve()
    bench = code / "scripts" / "bench" / BENCH.name
    if bench != BENCH:
        shutil.copy(BENCH, bench)
    env = {
        **os.environ,
        "PYTHONPATH": str(code),
        "WAKEHUB_BENCH_RUNS": str(args.runs),
        "WAKEHUB_BENCH_SIZES": args.sizes,
    }
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            str(bench),
            "-p",
            "no:cacheprovider",
            "-q",
            "-s",
            "--timeout",
            "0",  # 20 containers, 3 runs: longer than the suite's per-test limit
            "--rootdir",
            str(code),
        ],
        cwd=code,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    rows = [
        json.loads(line.split("BENCH ", 1)[1])
        for line in out.stdout.splitlines()
        if "BENCH " in line
    ]
    if not rows:
        print(out.stdout[-3000:], out.stderr[-3000:])
        raise SystemExit("no measurement")
    by_size: dict[int, list[dict[str, float]]] = defaultdict(list)
    for row in rows:
        by_size[int(row["size"])].append(row)
    print(f"code: {code} ({args.runs} runs; seconds, min / median / max)\n")
    print(
        "| running containers | poll with stats due | poll, no stats due "
        "| stop confirmed after the engine's answer "
        "| start confirmed after the engine's answer |"
    )
    print("|---:|---:|---:|---:|---:|")
    for size, measured in sorted(by_size.items()):
        cells = [
            _spread([m[key] for m in measured])
            for key in ("poll", "state_poll", "stop", "start")
        ]
        print(f"| {size} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
