"""Does the service answer? Asked from Home Assistant, as the link's user would.

An HTTP(S) address answers when any response below 500 comes back (a login
page, a redirect, a 401 all mean the service is there); a TLS certificate the
system does not trust still means a server is there, and nothing is sent to it
but a plain GET. Any other address answers when a TCP connection opens.
"""

from __future__ import annotations

import asyncio
import contextlib
from urllib.parse import urlsplit

import aiohttp
from homeassistant.core import HomeAssistant
from homeassistant.helpers.aiohttp_client import async_get_clientsession

PROBE_TIMEOUT = 3.0
HTTP_SCHEMES = frozenset({"http", "https"})


def is_http(url: str) -> bool:
    return urlsplit(url).scheme.lower() in HTTP_SCHEMES


async def service_answers(hass: HomeAssistant, url: str) -> bool:
    """Whether the service at `url` answers now (within PROBE_TIMEOUT)."""
    try:
        async with asyncio.timeout(PROBE_TIMEOUT):
            if is_http(url):
                return await _http_answers(hass, url)
            return await _tcp_answers(url)
    except TimeoutError, OSError, ValueError:
        return False


async def _http_answers(hass: HomeAssistant, url: str) -> bool:
    session = async_get_clientsession(hass)
    try:
        async with session.get(url, allow_redirects=False) as response:
            return response.status < 500
    except aiohttp.ClientSSLError:
        return True  # a server answered the handshake
    except aiohttp.ClientError:
        return False


async def _tcp_answers(url: str) -> bool:
    parts = urlsplit(url)
    if parts.hostname is None or parts.port is None:
        return False
    _reader, writer = await asyncio.open_connection(parts.hostname, parts.port)
    writer.close()
    with contextlib.suppress(OSError):
        await writer.wait_closed()
    return True
