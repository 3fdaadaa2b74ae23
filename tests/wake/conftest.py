"""The lab of tests/power (node → VM → Docker engine → jellyfin), with wake on
access on for jellyfin, whose container serves a page while it runs.

Home Assistant's HTTP server is set up as a reverse proxy on 127.0.0.1 would
need it (trusting its X-Forwarded-For), so a test can speak as a remote client;
its own address is http://ha.lan:8123 (the device's Visit link).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
import contextlib
from dataclasses import dataclass
import socket
from typing import Any

from aiohttp.test_utils import TestClient
from homeassistant.core import HomeAssistant
from homeassistant.core_config import async_process_ha_core_config
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.wakehub.wake.const import (
    CONF_SERVICE_URL,
    CONF_WAKE_ON_ACCESS,
    CONF_WAKE_TOKEN,
)
from custom_components.wakehub.wake.tokens import new_token
from tests.power.conftest import (  # noqa: F401 - fixtures
    JELLYFIN,
    NODE_SWITCH,
    VM_SWITCH,
    Lab,
    fast_tasks,
    lab,
)

INTERNAL_URL = "http://ha.lan:8123"
REMOTE = {"X-Forwarded-For": "8.8.8.8"}


def free_port() -> int:
    """A loopback port nothing listens on (now)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class WakeLab:
    lab: Lab
    client: TestClient
    token: str
    service_url: str

    @property
    def wake(self) -> str:
        return f"/api/wakehub/wake/{self.token}"

    @property
    def gate(self) -> str:
        return f"/api/wakehub/gate/{self.token}"


@pytest.fixture
async def http(hass: HomeAssistant) -> None:
    """Home Assistant's HTTP server, with its own address known."""
    await async_process_ha_core_config(hass, {"internal_url": INTERNAL_URL})
    assert await async_setup_component(hass, "http", {})


@pytest.fixture
async def http_behind_proxy(hass: HomeAssistant) -> None:
    """Home Assistant's HTTP server, trusting a reverse proxy on loopback.

    (Not for tests that jump the clock by minutes: a changed HTTP setup is
    reverted after a while unless confirmed, by a restart.)
    """
    await async_process_ha_core_config(hass, {"internal_url": INTERNAL_URL})
    assert await async_setup_component(
        hass,
        "http",
        {"http": {"use_x_forwarded_for": True, "trusted_proxies": ["127.0.0.1"]}},
    )


def subentry_of(entry: MockConfigEntry, title: str) -> Any:
    return next(s for s in entry.subentries.values() if s.title == title)


async def set_wake(
    hass: HomeAssistant, the_lab: Lab, title: str = "jellyfin", **settings: Any
) -> None:
    """Store wake settings in a container's subentry and reload its entry."""
    entry = the_lab.docker_entry
    subentry = subentry_of(entry, title)
    hass.config_entries.async_update_subentry(
        entry, subentry, data={**subentry.data, **settings}
    )
    await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()


@pytest.fixture
async def wake_lab(
    hass: HomeAssistant,
    http_behind_proxy: None,
    lab: Lab,  # noqa: F811
    hass_client_no_auth: ClientSessionGenerator,
) -> AsyncIterator[WakeLab]:
    async with serving_wake(hass, lab, hass_client_no_auth) as wake_lab:
        yield wake_lab


@contextlib.asynccontextmanager
async def serving_wake(
    hass: HomeAssistant,
    lab: Lab,  # noqa: F811 - the fixture's value, passed on
    client_factory: ClientSessionGenerator,
) -> AsyncIterator[WakeLab]:
    """jellyfin's page served, wake on access on with a fresh token, and an
    unauthenticated client: what every wake test starts from."""
    service_url = await lab.docker.serve_page("jellyfin")
    token = new_token()
    await set_wake(
        hass,
        lab,
        **{
            CONF_SERVICE_URL: service_url,
            CONF_WAKE_ON_ACCESS: True,
            CONF_WAKE_TOKEN: token,
        },
    )
    client = await client_factory()
    try:
        yield WakeLab(lab, client, token, service_url)
    finally:
        await lab.docker.stop_pages()
