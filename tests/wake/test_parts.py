"""The small parts on their own: the service probe, the page's words, the log
filter."""

from __future__ import annotations

import logging

from aiohttp import web
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError

from custom_components.wakehub.const import DOMAIN
from custom_components.wakehub.wake import probe, texts
from custom_components.wakehub.wake.redact import HideTokens
from tests.simulators.docker import DockerSimulator
from tests.wake.conftest import free_port


async def _starting(_request: web.Request) -> web.Response:
    return web.Response(status=503)


async def _login(_request: web.Request) -> web.Response:
    raise web.HTTPFound("/")


async def test_probe(hass: HomeAssistant) -> None:
    app = web.Application()
    app.router.add_get("/", _starting)
    app.router.add_get("/login", _login)
    runner = web.AppRunner(app)
    await runner.setup()
    plain = web.TCPSite(runner, "127.0.0.1", 0)
    await plain.start()
    # A TLS server with a self-signed certificate (it keeps the refused
    # handshake out of the log).
    tls = DockerSimulator(tls=True)
    await tls.start()
    try:
        port = plain._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        # 5xx: not up yet; a redirect (a login page) is up.
        assert not await probe.service_answers(hass, f"http://127.0.0.1:{port}/")
        assert await probe.service_answers(hass, f"http://127.0.0.1:{port}/login")
        # A certificate nobody trusts still means a server is there.
        assert await probe.service_answers(hass, f"https://127.0.0.1:{tls.port}/")
        assert await probe.service_answers(hass, f"tcp://127.0.0.1:{port}")
    finally:
        await runner.cleanup()
        await tls.stop()
    gone = free_port()
    assert not await probe.service_answers(hass, f"http://127.0.0.1:{gone}/")
    assert not await probe.service_answers(hass, f"tcp://127.0.0.1:{gone}")
    assert not await probe.service_answers(hass, "tcp://127.0.0.1")


async def test_page_words(hass: HomeAssistant) -> None:
    await texts.async_load(hass)
    assert texts.page_text(hass, "title", name="NAS") == "Starting NAS"
    # A placeholder missing from the call: the text as it is.
    assert texts.page_text(hass, "title") == "Starting {name}"
    assert texts.page_text(hass, "no_such_text") == "no_such_text"
    plain = HomeAssistantError("the platform's own words")
    assert texts.error_message(hass, plain) == "the platform's own words"
    unknown = HomeAssistantError(translation_domain=DOMAIN, translation_key="nope")
    assert texts.error_message(hass, unknown) == str(unknown)
    missing = HomeAssistantError(
        translation_domain=DOMAIN, translation_key="start_timeout"
    )
    assert "{name}" in texts.error_message(hass, missing)
    timed_out = HomeAssistantError(
        translation_domain=DOMAIN,
        translation_key="start_timeout",
        translation_placeholders={"name": "NAS", "timeout": "300"},
    )
    assert "NAS" in texts.error_message(hass, timed_out)


def test_log_filter_masks_tokens_in_every_form() -> None:
    path = "/api/wakehub/gate/SECRET"
    record = logging.LogRecord(
        "aiohttp.access", logging.INFO, __file__, 1, "%(p)s", ({"p": path},), None
    )
    record.args = {"p": path}
    record.first_request_line = f"GET {path} HTTP/1.1"
    HideTokens().filter(record)
    assert "SECRET" not in record.getMessage()
    assert "SECRET" not in record.first_request_line
    assert "/api/wakehub/gate/***" in record.getMessage()
