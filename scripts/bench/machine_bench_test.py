"""Run by scripts/bench/machine.py (not part of the test suite).

One test per run: a fresh Home Assistant, the machine simulator off with a
3-second boot delay, switch.nas turned on, and the wall time until its state is
"on" printed as a JSON line.
"""

from __future__ import annotations

import json
import os
import time

from homeassistant.const import ATTR_ENTITY_ID
from homeassistant.core import Event, HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.wakehub.const import CONF_TIMEOUT, DOMAIN
from tests.conftest import (  # noqa: F401 - fixtures used by pytest
    auto_enable_custom_integrations,
    machine_data,
    real_sockets,
)
from tests.simulators.machine import MachineSimulator

RUNS = int(os.environ.get("WAKEHUB_BENCH_RUNS", "5"))
BOOT = float(os.environ.get("WAKEHUB_BENCH_BOOT", "3"))


@pytest.mark.parametrize("run", range(RUNS))
async def test_switch_on_time(hass: HomeAssistant, run: int) -> None:
    sim = MachineSimulator(boot_delay=BOOT, shutdown_delay=0.05)
    await sim.start()
    entry = MockConfigEntry(
        domain=DOMAIN,
        title="NAS",
        unique_id=sim.mac,
        data=machine_data(sim),
        options={CONF_TIMEOUT: 60},
    )
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    on_at: list[float] = []

    def record(event: Event) -> None:
        new = event.data["new_state"]
        if event.data["entity_id"] == "switch.nas" and new and new.state == "on":
            on_at.append(time.monotonic())

    hass.bus.async_listen("state_changed", record)
    start = time.monotonic()
    await hass.services.async_call(
        "switch", "turn_on", {ATTR_ENTITY_ID: "switch.nas"}, blocking=True
    )
    await hass.async_block_till_done()
    booted_after = sim.boot_delay
    print(
        "BENCH "
        + json.dumps(
            {
                "run": run,
                "total": on_at[0] - start,
                "boot": booted_after,
                "ssh_logins": len(sim.commands),
            }
        )
    )
    await hass.config_entries.async_unload(entry.entry_id)
    await sim.stop()
