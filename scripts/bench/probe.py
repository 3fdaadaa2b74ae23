"""Benchmark: from a Proxmox task's end to the power switch showing it.

Run: `.venv/bin/python scripts/bench/probe.py` (prints a markdown table).

One Home Assistant core per run (the test harness's instance, as in
scale.py) follows every guest of a simulated cluster of N guests; the
simulator runs in the same process and notes when each start or stop task
ends (the guest's state changes then). Each run turns a few stopped guests on
and then off again with the power switch; the latency is from the task's end
to the switch's state change. While a guest changes, it is probed alone
(`GET .../status/current`), so the latency should not grow with the cluster.
The table gives min / median / max over every start or stop of `--runs` runs.
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Callable
from pathlib import Path
import statistics
import sys
import tempfile
import time
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

SIZES = (6, 1000)
TOGGLES = 3  # guests started then stopped per run


async def one_run(guests: int) -> list[float]:
    from homeassistant import loader
    from homeassistant.helpers import entity_platform, frame
    from pytest_homeassistant_custom_component.common import (
        MockConfigEntry,
        async_test_home_assistant,
    )

    from custom_components.wakehub.const import (
        CONF_KIND,
        CONF_SCAN_INTERVAL,
        CONF_TIMEOUT,
        DOMAIN,
        KIND_PROXMOX,
    )
    from scripts.bench.scale import NODES, _guest_subentries
    from tests.simulators.proxmox import DEFAULT_TOKEN_SECRET, ProxmoxSimulator

    if hasattr(entity_platform, "MAX_ENABLED_ENTITIES_PER_CONFIG_ENTRY"):
        entity_platform.MAX_ENABLED_ENTITIES_PER_CONFIG_ENTRY = 10**9

    class Cluster(ProxmoxSimulator):
        """Notes when each task's effect (the guest's new state) happens."""

        ended: float = 0.0

        def _task(
            self,
            guest: Any,
            principal: Any,
            action: str,
            delay: float,
            effect: Callable[[], None],
            **kwargs: Any,
        ) -> Any:
            def noted() -> None:
                effect()
                self.ended = time.perf_counter()

            return super()._task(guest, principal, action, delay, noted, **kwargs)

    sim = Cluster(
        cluster_name="bench",
        node_count=NODES,
        guest_count=guests,
        contract=False,
        start_delay=0.5,
        stop_delay=0.5,
    )
    await sim.start()
    latencies: list[float] = []
    try:
        with tempfile.TemporaryDirectory() as config_dir:
            async with async_test_home_assistant(config_dir=config_dir) as hass:
                hass.data.pop(loader.DATA_CUSTOM_COMPONENTS)
                frame.async_setup(hass)
                entry = MockConfigEntry(
                    domain=DOMAIN,
                    title="bench",
                    unique_id="bench",
                    data={
                        CONF_KIND: KIND_PROXMOX,
                        "url": sim.url,
                        "username": "root@pam",
                        "token_id": "wakehub",
                        "token_secret": DEFAULT_TOKEN_SECRET,
                        "verify_ssl": True,
                        "fingerprint": sim.fingerprint,
                        "cluster": "bench",
                        "nodes": [f"pve{i + 1}" for i in range(NODES)],
                    },
                    options={CONF_TIMEOUT: 60, CONF_SCAN_INTERVAL: 3600},
                    subentries_data=_guest_subentries(guests),
                )
                entry.add_to_hass(hass)
                assert await hass.config_entries.async_setup(entry.entry_id)
                await hass.async_block_till_done()
                stopped = [g.vmid for g in sim.guests.values() if g.status == "stopped"]
                for vmid in stopped[:TOGGLES]:
                    for service, shown in (("turn_on", "on"), ("turn_off", "off")):
                        latencies.append(
                            await _toggle(
                                hass, sim, f"switch.guest_{vmid}", service, shown
                            )
                        )
                await hass.async_stop(force=True)
    finally:
        await sim.stop()
    return latencies


async def _toggle(
    hass: Any, sim: Any, entity_id: str, service: str, shown: str
) -> float:
    """Seconds from the task's end to `entity_id` showing `shown`."""
    from homeassistant.core import callback

    changed = asyncio.get_running_loop().create_future()

    @callback
    def mine(event_data: Any) -> bool:
        return bool(event_data["entity_id"] == entity_id)

    @callback
    def note(event: Any) -> None:
        state = event.data["new_state"]
        if state is not None and state.state == shown and not changed.done():
            changed.set_result(time.perf_counter())

    unsubscribe = hass.bus.async_listen("state_changed", note, event_filter=mine)
    await hass.services.async_call(
        "switch", service, {"entity_id": entity_id}, blocking=True
    )
    seen: float = await asyncio.wait_for(changed, 60)
    unsubscribe()
    await hass.async_block_till_done()
    return seen - sim.ended


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="*", default=list(SIZES))
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    rows = [
        "| guests | starts and stops | task end to switch, s (min / median / max) |",
        "|---:|---:|---:|",
    ]
    for guests in args.sizes:
        values: list[float] = []
        for _ in range(args.runs):
            run = asyncio.run(one_run(guests))
            print(f"{guests} guests: {[round(v, 3) for v in run]}", file=sys.stderr)
            values += run
        rows.append(
            f"| {guests} | {len(values)} | {min(values):.3f} / "
            f"{statistics.median(values):.3f} / {max(values):.3f} |"
        )
    print("\n".join(rows))


if __name__ == "__main__":
    main()
