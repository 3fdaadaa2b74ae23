"""The wake-on-access benchmark, as a pytest module (run by scripts/bench/wake.py).

The lab of cascade_bench_test.py (node 20 s, VM 5 s, container 1 s; everything
off), with wake on access on for "jellyfin", whose container serves a page on
its own port while it runs. Home Assistant's HTTP server is served on loopback
(the test server), as a phone on the LAN would reach it.

Each parametrized run, from all-off, does what the waiting page's script does
and records with `time.monotonic()`:
- t0: the wake link is requested; the page arrives;
- the page's long poll is repeated until it says "ready" (then the browser goes
  to the service), and the service's page is fetched: the end;
- when switch.jellyfin turned on (the cascade alone, as cascade.py measures it).

Then, with the service up, `WAKEHUB_BENCH_HITS` sequential requests each: the gate
(what a reverse proxy asks before every request), and the service directly; and
when Caddy is installed, the same through Caddy with and without forward_auth.

Each run appends one JSON object to the file named by WAKEHUB_BENCH_OUT.
It lives outside tests/ so the test suite never collects it.
"""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path
import time
from typing import Any

import aiohttp
from cascade_bench_test import (  # noqa: F401 - fixtures used by pytest
    TIMEOUT,
    Chain,
    auto_enable_custom_integrations,
    chain,
    real_sockets,
    timings,
)
from homeassistant.const import STATE_ON
from homeassistant.core import Event, HomeAssistant, callback
from homeassistant.core_config import async_process_ha_core_config
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.wakehub.const import DOMAIN
from custom_components.wakehub.wake.const import (
    CONF_SERVICE_URL,
    CONF_WAKE_ON_ACCESS,
    CONF_WAKE_TOKEN,
    POLL_HEADER,
    STATE_HEADER,
    VERSION_HEADER,
)
from custom_components.wakehub.wake.tokens import new_token
from tests.wake.conftest import free_port
from tests.wake.test_caddy import CADDY, CADDYFILE

RUNS = int(os.environ.get("WAKEHUB_BENCH_RUNS", "3"))
HITS = int(os.environ.get("WAKEHUB_BENCH_HITS", "300"))
OUT = os.environ.get("WAKEHUB_BENCH_OUT")
JELLYFIN = "switch.jellyfin"
HAVE_CADDY = Path(CADDY).exists()


async def _timed_gets(
    session: aiohttp.ClientSession, url: str, count: int
) -> list[float]:
    """Sequential GETs, each timed until its body is read (milliseconds)."""
    times = []
    for _ in range(count):
        start = time.perf_counter()
        async with session.get(url, allow_redirects=False) as response:
            await response.read()
            assert response.status == 200, (url, response.status)
        times.append((time.perf_counter() - start) * 1000)
    return times


async def _through_caddy(
    tmp_path: Path, ha_port: int, gate: str, service_url: str
) -> dict[str, list[float]] | None:
    """Request costs through a real Caddy, with and without forward_auth."""
    if not HAVE_CADDY:
        return None
    gated, plain = free_port(), free_port()
    service = service_url.removeprefix("http://").rstrip("/")
    config = tmp_path / "Caddyfile"
    config.write_text(
        CADDYFILE.format(port=gated, ha_port=ha_port, gate=gate, service=service)
        + f"http://127.0.0.1:{plain} {{\n    reverse_proxy {service}\n}}\n",
        encoding="utf-8",
    )
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    process = await asyncio.create_subprocess_exec(
        CADDY, "run", "--config", str(config), "--adapter", "caddyfile",
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
        env={"HOME": str(home), "XDG_DATA_HOME": str(home), "XDG_CONFIG_HOME": str(home)},
    )  # fmt: skip
    try:
        for _ in range(200):
            try:
                _, writer = await asyncio.open_connection("127.0.0.1", plain)
                writer.close()
                _, writer = await asyncio.open_connection("127.0.0.1", gated)
                writer.close()
                break
            except OSError:
                await asyncio.sleep(0.05)
        async with aiohttp.ClientSession() as session:
            return {
                "caddy_forward_auth": await _timed_gets(
                    session, f"http://127.0.0.1:{gated}/", HITS
                ),
                "caddy_plain": await _timed_gets(
                    session, f"http://127.0.0.1:{plain}/", HITS
                ),
            }
    finally:
        process.terminate()
        await process.wait()


@pytest.fixture
async def http_behind_proxy(hass: HomeAssistant) -> None:
    """Home Assistant's HTTP server, set up before the lab's entries need it.

    It trusts the Caddy on loopback: Home Assistant refuses forwarded requests
    from a proxy it was not told about (400).
    """
    await async_process_ha_core_config(hass, {"internal_url": "http://ha.lan:8123"})
    assert await async_setup_component(
        hass,
        "http",
        {"http": {"use_x_forwarded_for": True, "trusted_proxies": ["127.0.0.1"]}},
    )


@pytest.mark.timeout(TIMEOUT * 2 + 120)
@pytest.mark.parametrize("run", range(1, RUNS + 1))
async def test_wake(  # noqa: PLR0917 - pytest fixtures
    hass: HomeAssistant,
    http_behind_proxy: None,
    chain: Chain,  # noqa: F811
    hass_client_no_auth: ClientSessionGenerator,
    tmp_path: Path,
    run: int,
) -> None:
    """All off → open the wake link → follow the page → the service's page."""
    service_url = await chain.docker.serve_page("jellyfin")
    token = new_token()
    entry = next(
        e
        for e in hass.config_entries.async_entries(DOMAIN)
        if e.title == "docker on media"
    )
    subentry = next(s for s in entry.subentries.values() if s.title == "jellyfin")
    hass.config_entries.async_update_subentry(
        entry,
        subentry,
        data={
            **subentry.data,
            CONF_SERVICE_URL: service_url,
            CONF_WAKE_ON_ACCESS: True,
            CONF_WAKE_TOKEN: token,
        },
    )
    await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    client = await hass_client_no_auth()
    wake, gate = f"/api/wakehub/wake/{token}", f"/api/wakehub/gate/{token}"
    assert hass.states.get(JELLYFIN).state == "off"

    switched_on: list[float] = []

    @callback
    def on_state(event: Event) -> None:
        new = event.data["new_state"]
        if event.data["entity_id"] == JELLYFIN and new and new.state == STATE_ON:
            switched_on.append(time.monotonic())

    hass.bus.async_listen("state_changed", on_state)

    polls = 0
    t0 = time.monotonic()
    response = await client.get(wake)
    await response.read()
    page_at = time.monotonic()
    version = response.headers[VERSION_HEADER]
    ready_at = None
    while ready_at is None:
        polls += 1
        answer = await client.get(wake, headers={POLL_HEADER: version})
        await answer.read()
        assert answer.headers[STATE_HEADER] != "failed"
        if answer.headers[STATE_HEADER] == "ready":
            ready_at = time.monotonic()
        version = answer.headers[VERSION_HEADER]
    async with client.session.get(service_url) as service:
        assert "<h1>jellyfin</h1>" in await service.text()
    end = time.monotonic()

    try:
        gate_ms = await _timed_gets(client.session, str(client.make_url(gate)), HITS)
        service_ms = await _timed_gets(client.session, service_url, HITS)
        caddy = await _through_caddy(tmp_path, client.server.port, gate, service_url)
    finally:
        await chain.docker.stop_pages()

    result: dict[str, Any] = {
        "run": run,
        "delays": {"node_boot": 20.0, "vm_start": 5.0, "container_start": 1.0},
        "total": end - t0,
        "page": page_at - t0,
        "switch_on": (switched_on[0] - t0) if switched_on else None,
        "ready": ready_at - t0,
        "polls": polls,
        "gate_ms": gate_ms,
        "service_ms": service_ms,
        **(caddy or {}),
    }
    if OUT:
        await hass.async_add_executor_job(_append, Path(OUT), json.dumps(result))
    else:
        print(json.dumps({k: v for k, v in result.items() if not k.endswith("_ms")}))


def _append(path: Path, line: str) -> None:
    with path.open("a", encoding="utf-8") as out:
        out.write(line + "\n")
