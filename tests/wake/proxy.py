"""What the real reverse-proxy tests (Caddy, nginx, Traefik) share.

Each test writes its proxy's own configuration and starts the real binary with
`run_until_ready`; then `wakes_through_proxy` walks the journey they all
promise: from all-off, a HEAD through the proxy (an uptime monitor) wakes
nothing; a GET gets the waiting page; the page's poll goes
through the proxy until the service answers; the same URL then reaches the
service, and the cascade really started jellyfin.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
import contextlib
from pathlib import Path

import aiohttp
from homeassistant.core import HomeAssistant

from custom_components.wakehub.wake.const import POLL_HEADER, STATE_HEADER
from tests.conftest import record_events
from tests.wake.conftest import JELLYFIN, WakeLab


async def port_open(port: int) -> bool:
    """Whether something accepts connections on this loopback port."""
    with contextlib.suppress(OSError):
        _, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.close()
        return True
    return False


async def run_until_ready(
    *command: str,
    ready: Callable[[], Awaitable[bool]],
    log: Path | None = None,
    env: Mapping[str, str] | None = None,
) -> asyncio.subprocess.Process:
    """Start a proxy and wait (10 s at most) until `ready()` says it serves.

    If it exits or never gets ready, fail with the end of its stderr and log.
    """
    process = await asyncio.create_subprocess_exec(
        *command,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
        env=env,
    )
    for _ in range(200):
        if await ready():
            return process
        if process.returncode is not None:
            break
        await asyncio.sleep(0.05)
    process.kill()
    _, err = await process.communicate()
    name = Path(command[0]).name
    raise AssertionError(f"{name} did not start: {err.decode()[-2000:]}{tail(log)}")


def tail(log: Path | None) -> str:
    """The end of a proxy's log file, if it wrote one."""
    if log is None or not log.exists():
        return ""
    return log.read_text(encoding="utf-8", errors="replace")[-2000:]


async def stop(process: asyncio.subprocess.Process) -> None:
    process.terminate()
    with contextlib.suppress(ProcessLookupError):
        await asyncio.wait_for(process.wait(), 10)


async def wakes_through_proxy(
    hass: HomeAssistant,
    wake_lab: WakeLab,
    url: str,
    *,
    proxy: str,
    headers: Mapping[str, str] | None = None,
) -> str:
    """From all-off, `url` (the service behind the proxy) wakes jellyfin.

    Returns the body of the answer that ended the poll, for the proxy's own
    checks (with Caddy and Traefik it is the service itself).
    """
    headers = dict(headers or {})
    access = record_events(hass, "wakehub_access")
    async with aiohttp.ClientSession() as browser:
        # The proxy asks the gate with a GET naming the HEAD (or, nginx, by the
        # recipe's header): a monitor's probe neither wakes nor keeps awake.
        async with browser.head(url, headers=headers, allow_redirects=False) as probe:
            assert probe.status == 503
        await hass.async_block_till_done()
        assert access == []
        assert not wake_lab.lab.node.packets
        assert hass.states.get(JELLYFIN).state == "off"

        async with browser.get(url, headers=headers, allow_redirects=False) as page:
            text = await page.text()
            assert page.status == 503
            assert page.headers["Retry-After"] == "5"
            assert page.headers[STATE_HEADER] == "waiting"
            assert "Starting jellyfin" in text
            assert wake_lab.token not in text

        # What the page's script does: poll the same URL until the answer is
        # no longer the waiting page, then reload.
        version = "0"
        for _ in range(200):
            async with browser.get(
                url, headers={**headers, POLL_HEADER: version}, allow_redirects=False
            ) as answer:
                body = await answer.text()
                if STATE_HEADER not in answer.headers:
                    break
                assert answer.status == 503
                version = answer.headers["X-WakeHub-Version"]
        else:
            raise AssertionError(f"the service never came through {proxy}")
        assert answer.status == 200

        async with browser.get(url, headers=headers, allow_redirects=False) as reload:
            assert reload.status == 200
            assert "<h1>jellyfin</h1>" in await reload.text()
    assert hass.states.get(JELLYFIN).state == "on"
    assert wake_lab.lab.docker.page_hits["jellyfin"] >= 2
    return body
