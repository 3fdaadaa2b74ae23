"""Following a platform task: read often at first, then less and less often.

The clients' clock is patched (their waits move it forward instead of waiting)
and the simulators run their tasks by the same clock, so a 60 s task is
followed in milliseconds and the status requests it costs are counted exactly.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from itertools import islice

import aiohttp
import pytest

from custom_components.wakehub.api import backoff
from custom_components.wakehub.api.backoff import task_delays
from custom_components.wakehub.api.errors import TaskFailed
from custom_components.wakehub.api.ovh import OvhClient
from custom_components.wakehub.api.proxmox import GuestRef, ProxmoxClient, TaskTimeout
from custom_components.wakehub.api.proxmox.models import upid_node
from custom_components.wakehub.api.tls import format_fingerprint
from tests.simulators.ovh import OvhSimulator
from tests.simulators.proxmox import DEFAULT_TOKEN_SECRET, ProxmoxSimulator

TASK_STATUS = "/api2/json/nodes/pve1/tasks/"
_real_sleep = asyncio.sleep


class Clock:
    """The clients' clock: their waits move it forward, nothing really waits."""

    def __init__(self) -> None:
        self.now = 1000.0

    def monotonic(self) -> float:
        return self.now

    async def sleep(self, delay: float) -> None:
        self.now += delay
        await _real_sleep(0)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    clock = Clock()
    monkeypatch.setattr(backoff, "monotonic", clock.monotonic)
    monkeypatch.setattr(backoff, "sleep", clock.sleep)
    return clock


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client_session:
        yield client_session


@pytest.fixture
async def pve(clock: Clock) -> AsyncIterator[ProxmoxSimulator]:
    simulator = ProxmoxSimulator(task_clock=clock.monotonic)
    await simulator.start()
    yield simulator
    await simulator.stop()
    assert simulator.violations == []


@pytest.fixture
def pve_client(pve: ProxmoxSimulator, session: aiohttp.ClientSession) -> ProxmoxClient:
    return ProxmoxClient(
        session,
        pve.url,
        username="root@pam",
        token_id="wakehub",
        token_secret=DEFAULT_TOKEN_SECRET,
        fingerprint=pve.fingerprint,
    )


@pytest.fixture
async def ovh(clock: Clock) -> AsyncIterator[OvhSimulator]:
    simulator = OvhSimulator(vps_count=1, task_clock=clock.monotonic)
    await simulator.start()
    yield simulator
    await simulator.stop()
    assert simulator.violations == []


@pytest.fixture
def ovh_client(ovh: OvhSimulator, session: aiohttp.ClientSession) -> OvhClient:
    assert ovh.certificate is not None
    return OvhClient(
        session,
        endpoint=f"{ovh.url}/1.0",
        application_key=ovh.application_key,
        application_secret=ovh.application_secret,
        consumer_key=ovh.consumer_key,
        fingerprint=format_fingerprint(ovh.certificate.der),
    )


def test_delays_fast_then_growing_then_capped() -> None:
    assert list(islice(task_delays(), 13)) == [
        *[0.25] * 8,  # the first 2 s
        0.375,
        0.5625,
        0.84375,
        1.265625,
        1.8984375,
    ]
    assert list(islice(task_delays(), 15, 18)) == [5.0, 5.0, 5.0]
    # Tests may follow tasks faster: the first wait is a parameter, the rule is not.
    assert list(islice(task_delays(0.5), 5)) == [0.5, 0.5, 0.5, 0.5, 0.75]


async def _pve_task(
    pve: ProxmoxSimulator, client: ProxmoxClient, seconds: float
) -> int:
    pve.start_delay = seconds
    upid = await client.start(GuestRef("pve1", "qemu", 101))
    await client.wait_for_task(upid_node(upid), upid)
    assert pve.guests[101].status == "running"
    return pve.count("GET", TASK_STATUS)


async def test_proxmox_minute_long_task_costs_26_reads(
    pve: ProxmoxSimulator, pve_client: ProxmoxClient
) -> None:
    """It cost 239 at a fixed 0.25 s: 9 reads in the first 2 s, then 17."""
    assert await _pve_task(pve, pve_client, 60) == 26


async def test_proxmox_short_task_is_seen_at_once(
    pve: ProxmoxSimulator, pve_client: ProxmoxClient
) -> None:
    """A 1 s task is seen done by the read right at its end (the 5th)."""
    assert await _pve_task(pve, pve_client, 1) == 5


async def test_proxmox_deadline_is_read_once_more(
    pve: ProxmoxSimulator, pve_client: ProxmoxClient, clock: Clock
) -> None:
    pve.start_delay = 600
    upid = await pve_client.start(GuestRef("pve1", "qemu", 101))
    start = clock.now
    with pytest.raises(TaskTimeout):
        await pve_client.wait_for_task("pve1", upid, timeout=30)
    # 0..2 s: 9 reads; 2.4, 2.9, 3.8, 5.0, 6.9, 9.8, 14.1, 19.1, 24.1, 29.1; 30.
    assert pve.count("GET", TASK_STATUS) == 20
    assert clock.now - start == 30


async def test_ovh_minute_long_task_costs_26_reads(
    ovh: OvhSimulator, ovh_client: OvhClient
) -> None:
    """The same rule as Proxmox (it was a fixed 2 s: 31 reads, the end seen late)."""
    name = next(iter(ovh.vps))
    ovh.task_duration = 60
    task = await ovh_client.reboot(name)
    done = await ovh_client.wait_for_task(name, task.id)
    assert done.state == "done"
    assert ovh.count("GET", f"/1.0/vps/{name}/tasks/") == 26


async def test_ovh_failed_task_is_reported_at_the_next_read(
    ovh: OvhSimulator, ovh_client: OvhClient
) -> None:
    name = next(iter(ovh.vps))
    ovh.task_duration = 1
    ovh.fail_next_task(name)
    task = await ovh_client.reboot(name)
    with pytest.raises(TaskFailed, match="ended in state error"):
        await ovh_client.wait_for_task(name, task.id)
    assert ovh.count("GET", f"/1.0/vps/{name}/tasks/") == 5
