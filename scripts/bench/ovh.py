"""Benchmark the OVHcloud polling cycles against the simulator.

For 1, 10 and 100 VPSes: how many requests one fast cycle (state + running
tasks) and one slow cycle (hourly details) send, and how long a refresh takes
(median of several runs), with the same client calls the coordinator makes.

    .venv/bin/python -m scripts.bench.ovh [--latency 0.02] [--runs 5]

`--latency` adds a delay to every simulator answer, to stand in for the
network round trip to OVH's API (the client runs up to 8 requests at once).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time

import aiohttp

from custom_components.wakehub.api.ovh import OvhClient
from custom_components.wakehub.api.tls import format_fingerprint
from tests.simulators.ovh import OvhSimulator


async def measure(
    count: int, latency: float, runs: int
) -> tuple[int, int, float, float]:
    sim = OvhSimulator(vps_count=count, response_delay=latency)
    await sim.start()
    assert sim.certificate is not None
    try:
        async with aiohttp.ClientSession() as session:
            client = OvhClient(
                session,
                endpoint=f"{sim.url}/1.0",
                application_key=sim.application_key,
                application_secret=sim.application_secret,
                consumer_key=sim.consumer_key,
                fingerprint=format_fingerprint(sim.certificate.der),
            )
            services = await client.list_services()
            await client.sync_time()
            fast_times, slow_times = [], []
            fast_requests = slow_requests = 0
            for _ in range(runs):
                sim.requests.clear()
                start = time.perf_counter()
                await client.fast_poll(services)
                fast_times.append(time.perf_counter() - start)
                fast_requests = len(sim.requests)
                sim.requests.clear()
                start = time.perf_counter()
                await asyncio.gather(*(client.get_details(s) for s in services))
                slow_times.append(time.perf_counter() - start)
                slow_requests = len(sim.requests)
    finally:
        await sim.stop()
    assert sim.violations == [], sim.violations
    return (
        fast_requests,
        slow_requests,
        statistics.median(fast_times),
        statistics.median(slow_times),
    )


async def main(latency: float, runs: int) -> None:
    print(f"Simulator latency per answer: {latency * 1000:g} ms; median of {runs} runs")
    print()
    print(
        "| VPSes | requests / fast cycle | requests / slow cycle "
        "| fast refresh (median) | slow refresh (median) |"
    )
    print("|---:|---:|---:|---:|---:|")
    for count in (1, 10, 100):
        fast_n, slow_n, fast_t, slow_t = await measure(count, latency, runs)
        print(
            f"| {count} | {fast_n} | {slow_n} | {fast_t * 1000:.0f} ms "
            f"| {slow_t * 1000:.0f} ms |"
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--latency", type=float, default=0.0)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    asyncio.run(main(args.latency, args.runs))
