"""Benchmark: how long a guest takes to wake after each stop method.

Run: `.venv/bin/python scripts/bench/wake_methods.py` (prints a markdown table).

The qemu VM "docker" of the Proxmox simulator (tests/simulators/proxmox.py) is
stopped with one of the three stop methods, then woken with `switch.turn_on`:

- shutdown → a cold start: the start task takes `start_delay`;
- hibernate (suspend to disk) → a start that restores the saved RAM:
  `restore_delay`;
- pause (in RAM) → a resume: `resume_delay`.

The simulator's delays stand in for real hardware at a smaller scale: a cold
boot until the guest serves takes tens of seconds, reading back a RAM image of a
few GB from an SSD a few seconds, continuing a paused VM milliseconds. What is
measured is the wall time from the `switch.turn_on` call until it returns with
the switch on, through a real Home Assistant core and WakeHub's own task
following and polling (the integration's constants, not the tests' faster ones).

Like scripts/bench/cascade.py, this file is also the pytest module that does the
measuring: the script runs pytest on itself, one test per run, each with a fresh
Home Assistant and simulator, and reads the results back.
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
import time
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

METHODS = ("shutdown", "hibernate", "pause")
# What each method's wake costs on the simulator (seconds), and its stop.
DELAYS = {
    "start_delay": 5.0,  # cold boot
    "restore_delay": 1.5,  # start of a hibernated VM: its RAM read back
    "resume_delay": 0.05,  # resume of a paused VM
    "stop_delay": 1.0,  # ACPI shutdown
    "hibernate_delay": 1.0,  # RAM written to disk
    "pause_delay": 0.05,
}
WAKE_DELAY = {
    "shutdown": "start_delay",
    "hibernate": "restore_delay",
    "pause": "resume_delay",
}
SWITCH = "switch.docker"


# -- the script ---------------------------------------------------------------------


def run_benchmark(runs: int, *, verbose: bool) -> list[dict[str, Any]]:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "wake.jsonl"
        env = {
            **os.environ,
            "WAKEHUB_BENCH_OUT": str(out),
            "WAKEHUB_BENCH_RUNS": str(runs),
        }
        command = [
            sys.executable,
            "-m",
            "pytest",
            str(Path(__file__).relative_to(ROOT)),
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
            capture_output=not verbose,
            text=True,
        )
        if done.returncode != 0:
            if not verbose:
                print(done.stdout[-6000:], done.stderr[-3000:], file=sys.stderr)
            raise SystemExit(f"the benchmark failed (pytest exit {done.returncode})")
        return [json.loads(line) for line in out.read_text().splitlines()]


def print_table(results: list[dict[str, Any]]) -> None:
    print(
        "| guest was | wakes by | simulated wake s | runs | min s | median s "
        "| max s | WakeHub overhead s (median) |"
    )
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    wakes_by = {"shutdown": "start", "hibernate": "start (restore)", "pause": "resume"}
    was = {"shutdown": "shut down", "hibernate": "hibernated", "pause": "paused"}
    for method in METHODS:
        times = [r["wake"] for r in results if r["method"] == method]
        delay = DELAYS[WAKE_DELAY[method]]
        median = statistics.median(times)
        print(
            f"| {was[method]} | {wakes_by[method]} | {delay:g} | {len(times)} "
            f"| {min(times):.3f} | {median:.3f} | {max(times):.3f} "
            f"| {median - delay:.3f} |"
        )
    print()
    print(
        "Simulator timings: "
        + ", ".join(f"`{name}` {value:g} s" for name, value in DELAYS.items())
        + "."
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--verbose", action="store_true")
    args = parser.parse_args()
    print_table(run_benchmark(args.runs, verbose=args.verbose))


if __name__ == "__main__":
    main()


# -- the measuring, as a pytest module ------------------------------------------------

if "pytest" in sys.modules:
    from collections.abc import AsyncIterator

    from homeassistant.const import ATTR_ENTITY_ID, STATE_OFF, STATE_ON
    from homeassistant.core import HomeAssistant
    import pytest
    from pytest_homeassistant_custom_component.common import MockConfigEntry

    from custom_components.wakehub.const import CONF_TIMEOUT, DOMAIN
    from custom_components.wakehub.kinds.proxmox.const import CONF_STOP_METHOD
    from tests.conftest import (  # autouse fixtures: custom integrations, sockets
        auto_enable_custom_integrations,  # noqa: F401
        real_sockets,  # noqa: F401
    )
    from tests.proxmox.conftest import guest_subentries, pve_data
    from tests.simulators.proxmox import ProxmoxSimulator

    RUNS = int(os.environ.get("WAKEHUB_BENCH_RUNS", "3"))
    OUT = os.environ.get("WAKEHUB_BENCH_OUT")

    @pytest.fixture
    async def sim() -> AsyncIterator[ProxmoxSimulator]:
        simulator = ProxmoxSimulator(**DELAYS)
        await simulator.start()
        yield simulator
        await simulator.stop()
        assert simulator.violations == []

    async def _switch(hass: HomeAssistant, service: str) -> None:
        await hass.services.async_call(
            "switch", service, {ATTR_ENTITY_ID: SWITCH}, blocking=True
        )

    @pytest.mark.parametrize("run", range(1, RUNS + 1))
    @pytest.mark.parametrize("method", METHODS)
    async def test_wake(
        hass: HomeAssistant, sim: ProxmoxSimulator, method: str, run: int
    ) -> None:
        subentries = guest_subentries([100])
        subentries[0]["data"][CONF_STOP_METHOD] = method
        entry = MockConfigEntry(
            domain=DOMAIN,
            title="homelab",
            unique_id="homelab",
            data=pve_data(sim),
            options={CONF_TIMEOUT: 60},
            subentries_data=subentries,
        )
        entry.add_to_hass(hass)
        assert await hass.config_entries.async_setup(entry.entry_id)
        await hass.async_block_till_done()
        assert hass.states.get(SWITCH).state == STATE_ON

        await _switch(hass, "turn_off")
        assert hass.states.get(SWITCH).state == STATE_OFF
        started = time.monotonic()
        await _switch(hass, "turn_on")
        wake = time.monotonic() - started
        assert hass.states.get(SWITCH).state == STATE_ON
        await hass.config_entries.async_unload(entry.entry_id)
        if OUT:
            line = json.dumps({"method": method, "run": run, "wake": wake})
            await hass.async_add_executor_job(_append, Path(OUT), line)

    def _append(path: Path, line: str) -> None:
        with path.open("a", encoding="utf-8") as out:
            out.write(line + "\n")
