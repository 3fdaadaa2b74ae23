"""Docker kind: requests and time per refresh, against the simulator.

    .venv/bin/python -m scripts.bench.docker

For 10, 100 and 500 containers (all followed, half running), with stats on and
off, runs what the Docker coordinator runs (kinds/docker.py): the poll (one
container list, boot time only for containers that (re)started), and, with stats
on, the stats sample it takes once per stats interval (stats of the followed
running containers, all at once); and prints a markdown table: requests of the
first (cold) refresh, requests and median time of a steady refresh with a stats
sample. The simulator answers stats at once; a real engine makes every stats
request wait for its next collection tick (scripts/bench/docker_real.py).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import statistics
import time

import aiohttp

from custom_components.wakehub.api.docker import Container, DockerClient
from custom_components.wakehub.kinds.docker.const import (
    INSPECT_CONCURRENCY,
    STATS_CONCURRENCY,
)
from tests.simulators.docker import DockerSimulator

SIZES = (10, 100, 500)
ROUNDS = 7


async def refresh(client: DockerClient, stats: bool) -> None:
    """The coordinator's cycle (DockerCoordinator._async_update_data)."""
    containers = await client.list_containers()
    running = [c for c in containers.values() if c.running]
    if stats:
        await client.container_stats(running)
    limit = asyncio.Semaphore(INSPECT_CONCURRENCY)

    async def started(container: Container) -> dt.datetime | None:
        async with limit:
            return await client.started_at(container)

    await asyncio.gather(*(started(c) for c in running))


async def measure(size: int, stats: bool) -> tuple[int, int, float]:
    sim = DockerSimulator(delay=0.0)
    for index in range(size):
        sim.add_container(
            f"app-{index:03d}", state="running" if index % 2 == 0 else "exited"
        )
    await sim.start()
    try:
        async with aiohttp.ClientSession() as session:
            client = DockerClient(
                session, sim.docker_url, stats_concurrency=STATS_CONCURRENCY
            )
            await client.connect()
            sim.requests.clear()
            await refresh(client, stats)
            cold = len(sim.requests)
            times = []
            for _ in range(ROUNDS):
                sim.requests.clear()
                started = time.perf_counter()
                await refresh(client, stats)
                times.append(time.perf_counter() - started)
            steady = len(sim.requests)
            await client.close()
    finally:
        await sim.stop()
    assert sim.violations == [], sim.violations
    return cold, steady, statistics.median(times) * 1000


async def main() -> None:
    print(
        "| containers (half running) | stats | requests, first refresh | requests per refresh | refresh time (median) |"
    )
    print("|---:|:---:|---:|---:|---:|")
    for size in SIZES:
        for stats in (False, True):
            cold, steady, ms = await measure(size, stats)
            print(
                f"| {size} | {'on' if stats else 'off'} | {cold} | {steady} | {ms:.1f} ms |"
            )


if __name__ == "__main__":
    asyncio.run(main())
