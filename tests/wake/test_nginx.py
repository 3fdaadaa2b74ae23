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
from pathlib import Path
import re
import shutil

from homeassistant.core import HomeAssistant
import pytest

from tests.wake.conftest import WakeLab, free_port
from tests.wake.proxy import port_open, run_until_ready, stop, wakes_through_proxy

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
    process = await run_until_ready(
        NGINX,
        "-p",
        str(tmp_path),
        "-e",
        str(tmp_path / "error.log"),
        "-c",
        str(config),
        ready=lambda: port_open(port),
        log=tmp_path / "error.log",
    )
    return process, f"http://127.0.0.1:{port}/"


@pytest.fixture
async def nginx(tmp_path: Path, wake_lab: WakeLab) -> AsyncIterator[str]:
    process, url = await start_nginx(tmp_path, wake_lab)
    yield url
    await stop(process)


async def test_nginx_auth_request_wakes_the_service(
    hass: HomeAssistant, wake_lab: WakeLab, nginx: str
) -> None:
    # The answer that ends the poll is the service when nginx's check already
    # passes, or the gate's empty 200 when the poll itself saw the service come
    # up: either way the page reloads, and the reload gets the service.
    await wakes_through_proxy(hass, wake_lab, nginx, proxy="nginx")
