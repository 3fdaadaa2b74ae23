"""A real reverse proxy in front of a service that only answers while its
container runs: Debian's nginx, `auth_request` to WakeHub's gate.

The nginx configuration is README's own recipe (the ```nginx block of "Wake on
access"), with its placeholders pointed at this test's Home Assistant, service
and token, so what README promises is what runs here.

nginx passes on only 2xx, 401 and 403 from an auth subrequest and turns the
gate's 503 into a 500 without its body; the recipe catches that 500 and asks
the gate again as the answer itself, so the browser gets the waiting page (503)
at the service's own address, as with Caddy. The page's long poll goes through
nginx too, and once the cascade is done the same URL reaches the service.

Needs /usr/sbin/nginx (as root, `bash tests/services/debian_package.sh nginx nginx`
installs it).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
import contextlib
from pathlib import Path
import re
import shutil

import aiohttp
from homeassistant.core import HomeAssistant
import pytest

from custom_components.wakehub.wake.const import POLL_HEADER, STATE_HEADER
from tests.wake.conftest import JELLYFIN, WakeLab, free_port

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
README = Path(__file__).parents[2] / "README.md"

pytestmark = pytest.mark.skipif(
    not Path(NGINX).exists(),
    reason="nginx is not installed: run "
    "`bash tests/services/debian_package.sh nginx nginx` as root",
)

# The recipe's placeholders: Home Assistant, the service, the wake token.
README_HA = "http://homeassistant.lan:8123"
README_SERVICE = "http://192.168.1.20:8096"
README_TOKEN = "<token>"

# A whole nginx of its own: one process in the foreground (no workers that
# would switch to an unprivileged user), every file in the temporary directory.
NGINX_CONF = """\
daemon off;
master_process off;
pid {dir}/nginx.pid;
error_log {dir}/error.log;
events {{
    worker_connections 64;
}}
http {{
    access_log {dir}/access.log;
    client_body_temp_path {dir}/client_body;
    proxy_temp_path {dir}/proxy;
    fastcgi_temp_path {dir}/fastcgi;
    uwsgi_temp_path {dir}/uwsgi;
    scgi_temp_path {dir}/scgi;
    server {{
        listen 127.0.0.1:{port};
{recipe}
    }}
}}
"""


def readme_recipe() -> str:
    """README's nginx recipe: the ```nginx block of the wake-on-access section."""
    found = re.search(r"```nginx\n(.*?)```", README.read_text(encoding="utf-8"), re.S)
    assert found is not None, "README has no nginx recipe"
    return found.group(1)


def recipe_for(wl: WakeLab) -> str:
    recipe = readme_recipe()
    for placeholder in (README_HA, README_SERVICE, README_TOKEN):
        assert placeholder in recipe, f"README's nginx recipe lost {placeholder}"
    service = wl.service_url.rstrip("/")
    return (
        recipe.replace(README_HA, f"http://127.0.0.1:{wl.client.server.port}")
        .replace(README_SERVICE, service)
        .replace(README_TOKEN, wl.token)
    )


async def start_nginx(
    tmp_path: Path, wl: WakeLab
) -> tuple[asyncio.subprocess.Process, str]:
    port = free_port()
    config = tmp_path / "nginx.conf"
    config.write_text(
        NGINX_CONF.format(dir=tmp_path, port=port, recipe=recipe_for(wl)),
        encoding="utf-8",
    )
    process = await asyncio.create_subprocess_exec(
        NGINX,
        "-p",
        str(tmp_path),
        "-e",
        str(tmp_path / "error.log"),
        "-c",
        str(config),
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
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
    log = (tmp_path / "error.log").read_text(encoding="utf-8", errors="replace")
    raise AssertionError(f"nginx did not start: {err.decode()[-2000:]}{log[-2000:]}")


@pytest.fixture
async def nginx(tmp_path: Path, wake_lab: WakeLab) -> AsyncIterator[str]:
    process, url = await start_nginx(tmp_path, wake_lab)
    yield url
    process.terminate()
    with contextlib.suppress(ProcessLookupError):
        await asyncio.wait_for(process.wait(), 10)


async def test_nginx_auth_request_wakes_the_service(
    hass: HomeAssistant, wake_lab: WakeLab, nginx: str
) -> None:
    async with aiohttp.ClientSession() as browser:
        async with browser.get(nginx, allow_redirects=False) as response:
            page = await response.text()
            assert response.status == 503
            assert response.headers["Retry-After"] == "5"
            assert response.headers[STATE_HEADER] == "waiting"
            assert "Starting jellyfin" in page
            assert wake_lab.token not in page

        # What the page's script does: poll the same URL until the answer is
        # no longer the waiting page, then reload. (The answer that ends the
        # poll is the service when nginx's check already passes, or the gate's
        # empty 200 when the poll itself saw the service come up.)
        version = "0"
        for _ in range(200):
            async with browser.get(
                nginx, headers={POLL_HEADER: version}, allow_redirects=False
            ) as answer:
                await answer.read()
                if STATE_HEADER not in answer.headers:
                    break
                assert answer.status == 503
                version = answer.headers["X-WakeHub-Version"]
        else:
            raise AssertionError("the service never came through nginx")
        assert answer.status == 200

        async with browser.get(nginx, allow_redirects=False) as response:
            assert response.status == 200
            assert "<h1>jellyfin</h1>" in await response.text()
    assert hass.states.get(JELLYFIN).state == "on"
    assert wake_lab.lab.docker.page_hits["jellyfin"] >= 2
