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
from pathlib import Path
import shutil

from homeassistant.core import HomeAssistant
import pytest

from tests.wake.conftest import WakeLab, free_port
from tests.wake.proxy import port_open, run_until_ready, stop, wakes_through_proxy

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
    process = await run_until_ready(
        CADDY,
        "run",
        "--config",
        str(config),
        "--adapter",
        "caddyfile",
        ready=lambda: port_open(port),
        env={
            "HOME": str(home),
            "XDG_CONFIG_HOME": str(home / "config"),
            "XDG_DATA_HOME": str(home / "data"),
        },
    )
    return process, f"http://127.0.0.1:{port}/"


@pytest.fixture
async def caddy(tmp_path: Path, wake_lab: WakeLab) -> AsyncIterator[str]:
    process, url = await start_caddy(tmp_path, wake_lab)
    yield url
    await stop(process)


async def test_caddy_forward_auth_wakes_the_service(
    hass: HomeAssistant, wake_lab: WakeLab, caddy: str
) -> None:
    # Caddy passes the service's own answer to the poll that sees it come up.
    body = await wakes_through_proxy(hass, wake_lab, caddy, proxy="Caddy")
    assert "<h1>jellyfin</h1>" in body
