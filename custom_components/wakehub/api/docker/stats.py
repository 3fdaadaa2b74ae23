"""A container's stats sample, CPU share from two cycles' counters.

The engine's `one-shot` stats carry no `precpu_stats`, so the CPU share is
computed from two cycles' counters (`total_usage`, `system_cpu_usage`) kept per
container id: the first sample of a container gives `cpu_percent=None`.
`cpu % = Δcontainer / Δsystem * online_cpus * 100`, as `docker stats` shows it
(100 % = one full CPU). When the engine does provide `precpu_stats` it is used.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..fields import JsonObject, opt_int, opt_obj, text
from .models import ContainerStats


@dataclass(frozen=True)
class CpuSample:
    container_id: str
    total: int
    system: int


def _cpu_counters(stats: JsonObject) -> tuple[int | None, int | None]:
    """(total_usage, system_cpu_usage) of a `cpu_stats` or `precpu_stats` block."""
    return (
        opt_int(opt_obj(stats.get("cpu_usage")).get("total_usage")),
        opt_int(stats.get("system_cpu_usage")),
    )


def compute_stats(
    raw: Mapping[str, Any], previous: CpuSample | None
) -> tuple[ContainerStats, CpuSample | None]:
    """A stats sample and the CPU counters to keep for the next cycle.

    A figure of the wrong type is left out (None), never an error.
    """
    cpu = opt_obj(raw.get("cpu_stats"))
    total, system = _cpu_counters(cpu)
    percpu = opt_obj(cpu.get("cpu_usage")).get("percpu_usage")
    online = (
        opt_int(cpu.get("online_cpus"))
        or (len(percpu) if isinstance(percpu, list) else 0)
        or 1
    )
    sample = (
        CpuSample(text(raw.get("id")), total, system)
        if total is not None and system is not None and system > 0
        else None
    )
    pre_total, pre_system = _cpu_counters(opt_obj(raw.get("precpu_stats")))
    if pre_total is not None and pre_system is not None and pre_system > 0:
        reference: CpuSample | None = CpuSample(
            sample.container_id if sample else "", pre_total, pre_system
        )
    elif (
        previous is not None
        and sample is not None
        and previous.container_id == sample.container_id
    ):
        reference = previous
    else:
        reference = None
    cpu_percent = None
    if sample is not None and reference is not None:
        cpu_delta = sample.total - reference.total
        system_delta = sample.system - reference.system
        if system_delta > 0 and cpu_delta >= 0:
            cpu_percent = round(cpu_delta / system_delta * online * 100.0, 2)
    memory = opt_obj(raw.get("memory_stats"))
    usage = opt_int(memory.get("usage"))
    if usage is not None:
        extra = opt_obj(memory.get("stats"))
        # cgroup v2 names it inactive_file, v1 total_inactive_file: docker stats
        # subtracts it, so the figure matches what users compare with.
        cache = opt_int(extra.get("inactive_file", extra.get("total_inactive_file")))
        usage = max(usage - (cache or 0), 0)
    networks = [opt_obj(n) for n in opt_obj(raw.get("networks")).values()]
    rx = tx = None
    if networks:
        rx = sum(opt_int(n.get("rx_bytes")) or 0 for n in networks)
        tx = sum(opt_int(n.get("tx_bytes")) or 0 for n in networks)
    stats = ContainerStats(
        cpu_percent=cpu_percent,
        memory_usage=usage,
        memory_limit=opt_int(memory.get("limit")),
        network_rx=rx,
        network_tx=tx,
    )
    return stats, sample
