"""A real reverse proxy in front of a service that only answers while its
container runs: Debian's Caddy, `forward_auth` to WakeHub's gate.

From all-off, a request through Caddy gets the waiting page (503 from the gate,
passed on by Caddy); the page's own poll goes through Caddy too, and once the
cascade is done and the service answers, the same URL reaches the service.

Needs /usr/bin/caddy (as root, `bash tests/services/debian_package.sh caddy caddy`
installs it).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
import contextlib
from pathlib import Path
import shutil

import aiohttp
from homeassistant.core import HomeAssistant
import pytest

from custom_components.wakehub.wake.const import POLL_HEADER, STATE_HEADER
from tests.wake.conftest import JELLYFIN, WakeLab, free_port

CADDY = shutil.which("caddy") or "/usr/bin/caddy"

pytestmark = pytest.mark.skipif(
    not Path(CADDY).exists(),
    reason="caddy is not installed: run "
    "`bash tests/services/debian_package.sh caddy caddy` as root",
)

CADDYFILE = """\
{{
    admin off
    auto_https off
}}
http://127.0.0.1:{port} {{
    forward_auth 127.0.0.1:{ha_port} {{
        uri {gate}
    }}
    reverse_proxy {service}
}}
"""


async def start_caddy(
    tmp_path: Path, wl: WakeLab
) -> tuple[asyncio.subprocess.Process, str]:
    port = free_port()
    service = wl.service_url.removeprefix("http://").rstrip("/")
    config = tmp_path / "Caddyfile"
    config.write_text(
        CADDYFILE.format(
            port=port, ha_port=wl.client.server.port, gate=wl.gate, service=service
        ),
        encoding="utf-8",
    )
    home = tmp_path / "home"
    home.mkdir()
    process = await asyncio.create_subprocess_exec(
        CADDY,
        "run",
        "--config",
        str(config),
        "--adapter",
        "caddyfile",
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
        env={
            "HOME": str(home),
            "XDG_CONFIG_HOME": str(home / "config"),
            "XDG_DATA_HOME": str(home / "data"),
        },
    )
    for _ in range(200):
        with contextlib.suppress(OSError):
            _, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.close()
            return process, f"http://127.0.0.1:{port}/"
        if process.returncode is not None:
            break
        await asyncio.sleep(0.05)
    process.kill()
    _, err = await process.communicate()
    raise AssertionError(f"caddy did not start: {err.decode()[-2000:]}")


@pytest.fixture
async def caddy(tmp_path: Path, wake_lab: WakeLab) -> AsyncIterator[str]:
    process, url = await start_caddy(tmp_path, wake_lab)
    yield url
    process.terminate()
    with contextlib.suppress(ProcessLookupError):
        await asyncio.wait_for(process.wait(), 10)


async def test_caddy_forward_auth_wakes_the_service(
    hass: HomeAssistant, wake_lab: WakeLab, caddy: str
) -> None:
    async with aiohttp.ClientSession() as browser:
        async with browser.get(caddy) as response:
            page = await response.text()
            assert response.status == 503
            assert response.headers["Retry-After"] == "5"
            assert response.headers[STATE_HEADER] == "waiting"
            assert "Starting jellyfin" in page
            assert wake_lab.token not in page

        # What the page's script does: poll the same URL until the answer is
        # the service itself rather than the waiting page.
        version = "0"
        for _ in range(200):
            async with browser.get(caddy, headers={POLL_HEADER: version}) as answer:
                body = await answer.text()
                if STATE_HEADER not in answer.headers:
                    break
                version = answer.headers["X-WakeHub-Version"]
        else:
            raise AssertionError("the service never came through Caddy")
        assert answer.status == 200
        assert "<h1>jellyfin</h1>" in body

        async with browser.get(caddy) as response:
            assert response.status == 200
            assert "<h1>jellyfin</h1>" in await response.text()
    assert hass.states.get(JELLYFIN).state == "on"
    assert wake_lab.lab.docker.page_hits["jellyfin"] >= 2
