"""The wake link and the gate, through Home Assistant's own HTTP server, in every
state of the lab: off, starting, running, failed, disabled, wrong token."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from aiohttp import ClientResponse
from homeassistant.const import ATTR_ENTITY_ID, STATE_ON
from homeassistant.core import HomeAssistant
import pytest

from custom_components.wakehub.const import DOMAIN
from custom_components.wakehub.wake.const import (
    CONF_WAKE_MAX_STARTS,
    CONF_WAKE_ON_ACCESS,
    FORWARDED_METHOD,
    POLL_HEADER,
    RETRY_HEADER,
    STATE_HEADER,
    VERSION_HEADER,
)
from custom_components.wakehub.wake.tokens import new_token
from tests.conftest import record_events
from tests.wake.conftest import (
    JELLYFIN,
    NODE_SWITCH,
    REMOTE,
    WakeLab,
    free_port,
    set_wake,
)


async def poll(wl: WakeLab, path: str, version: str = "0") -> ClientResponse:
    response = await wl.client.get(
        path, headers={POLL_HEADER: version}, allow_redirects=False
    )
    await response.read()
    return response


async def until_ready(wl: WakeLab, path: str) -> list[str]:
    """Follow the page's long poll until it says ready; the fragments seen."""
    seen: list[str] = []
    version = "0"
    for _ in range(200):
        response = await poll(wl, path, version)
        state = response.headers.get(STATE_HEADER)
        if state is None:  # the gate let it through
            assert response.status == 200
            return seen
        seen.append(await response.text())
        assert state != "failed", seen[-1]
        if state == "ready":
            return seen
        version = response.headers[VERSION_HEADER]
    raise AssertionError("never ready")


async def turn_on(hass: HomeAssistant, entity_id: str) -> None:
    """Turn it on, then let every entry poll once: the link judges "running"
    by the last poll, as it would a moment after a real start."""
    await hass.services.async_call(
        "switch", "turn_on", {ATTR_ENTITY_ID: entity_id}, blocking=True
    )
    for entry in hass.config_entries.async_entries(DOMAIN):
        await entry.runtime_data.coordinator.async_refresh()
    await hass.async_block_till_done()


def starts(wl: WakeLab) -> int:
    """Start requests the Docker engine received for jellyfin."""
    return sum(
        1
        for r in wl.lab.docker.requests
        if r.method == "POST" and r.path.endswith("/containers/jellyfin/start")
    )


async def test_off_wakes_the_chain_then_redirects(
    hass: HomeAssistant, wake_lab: WakeLab
) -> None:
    wl = wake_lab
    access = record_events(hass, "wakehub_access")
    response = await wl.client.get(wl.wake, allow_redirects=False)
    page = await response.text()
    assert response.status == 200
    assert response.headers[STATE_HEADER] == "waiting"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert "Content-Security-Policy" in response.headers
    assert "Starting jellyfin" in page
    # Every layer, bottom first.
    assert page.index("Node pve1") < page.index("docker") < page.index("jellyfin</b>")
    assert "http://" not in page.replace(wl.service_url, "")  # no external asset

    fragments = await until_ready(wl, wl.wake)
    assert "jellyfin is ready" in fragments[-1]
    assert hass.states.get(JELLYFIN).state == STATE_ON
    assert wl.lab.docker.page_serving("jellyfin")
    # Each layer shown up, with when it came up.
    assert fragments[-1].count('class="up"') == 3

    response = await wl.client.get(wl.wake, allow_redirects=False)
    assert response.status == 302
    assert response.headers["Location"] == wl.service_url
    assert [e.data["result"] for e in access] == ["woken"]
    assert access[0].data == {
        "resource": access[0].data["resource"],
        "name": "jellyfin",
        "result": "woken",
    }

    # The page's own poll, once the service answers, says "ready" (its script
    # then goes there) rather than following a redirect.
    response = await poll(wl, wl.wake)
    assert response.status == 200
    assert response.headers[STATE_HEADER] == "ready"

    # The next wake shows an estimate from this one.
    assert "Usually ready in about" not in page
    await hass.services.async_call(
        "switch", "turn_off", {ATTR_ENTITY_ID: JELLYFIN}, blocking=True
    )
    await hass.async_block_till_done()
    page = await (await wl.client.get(wl.wake)).text()
    assert "Usually ready in about" in page
    await until_ready(wl, wl.wake)


async def test_running_and_answering_redirects_at_once(
    hass: HomeAssistant, wake_lab: WakeLab
) -> None:
    wl = wake_lab
    await turn_on(hass, JELLYFIN)
    before = starts(wl)
    access = record_events(hass, "wakehub_access")
    response = await wl.client.get(wl.wake, allow_redirects=False)
    assert response.status == 302
    assert response.headers["Location"] == wl.service_url
    assert starts(wl) == before
    # The redirect reaches the service itself.
    async with wl.client.session.get(wl.service_url) as service:
        assert "<h1>jellyfin</h1>" in await service.text()
    assert [e.data["result"] for e in access] == ["kept_awake"]
    # A second hit within the keep-awake time adds no logbook line.
    await wl.client.get(wl.wake, allow_redirects=False)
    assert len(access) == 1


async def test_a_burst_of_hits_is_one_start(
    hass: HomeAssistant, wake_lab: WakeLab
) -> None:
    wl = wake_lab
    responses = await asyncio.gather(
        *(wl.client.get(wl.wake, allow_redirects=False) for _ in range(8))
    )
    assert {r.status for r in responses} == {200}
    # While starting: the same run, its layers at work.
    page = await (await wl.client.get(wl.wake)).text()
    assert "Starting jellyfin" in page
    await until_ready(wl, wl.wake)
    assert starts(wl) == 1
    assert wl.lab.node.packets  # the node was woken once for all of them


async def test_failure_shows_the_action_error_and_retries(
    hass: HomeAssistant, wake_lab: WakeLab
) -> None:
    wl = wake_lab
    wl.lab.docker.fail_start("jellyfin", "no space left on device")
    await wl.client.get(wl.wake)
    version = "0"
    for _ in range(100):
        response = await poll(wl, wl.wake, version)
        version = response.headers[VERSION_HEADER]
        if response.headers[STATE_HEADER] == "failed":
            break
    fragment = await response.text()
    assert "no space left on device" in fragment
    assert 'id="retry"' in fragment
    # Reloading shows the failure again: no new start without a retry.
    before = starts(wl)
    page = await (await wl.client.get(wl.wake)).text()
    assert "could not be started" in page
    assert starts(wl) == before

    wl.lab.docker.containers["jellyfin"].fail_start = None
    await wl.client.get(wl.wake, headers={RETRY_HEADER: "1"})
    await until_ready(wl, wl.wake)
    assert hass.states.get(JELLYFIN).state == STATE_ON


async def test_gate_answers_503_then_lets_through(
    hass: HomeAssistant, wake_lab: WakeLab
) -> None:
    wl = wake_lab
    response = await wl.client.get(wl.gate)
    assert response.status == 503
    assert response.headers["Retry-After"] == "5"
    assert "Starting jellyfin" in await response.text()
    await until_ready(wl, wl.gate)
    response = await wl.client.get(wl.gate)
    assert response.status == 200
    assert await response.text() == ""


async def test_a_head_named_by_a_proxy_neither_wakes_nor_keeps_awake(
    hass: HomeAssistant, wake_lab: WakeLab
) -> None:
    """An uptime monitor's HEAD, which a proxy's forward-auth names in the GET
    it sends, only asks whether the service is there. (A HEAD sent to a link
    itself is refused: test_attack_surface.py.)"""
    wl = wake_lab
    access = record_events(hass, "wakehub_access")
    for path in (wl.wake, wl.gate):
        for method in ("HEAD", " head "):
            response = await wl.client.get(
                path, headers={FORWARDED_METHOD: method}, allow_redirects=False
            )
            assert response.status == 503
            assert response.headers["Retry-After"] == "5"
            assert await response.text() == ""
    await hass.async_block_till_done()
    assert starts(wl) == 0
    assert not wl.lab.node.packets
    assert access == []

    await turn_on(hass, JELLYFIN)
    response = await wl.client.get(
        wl.wake, headers={FORWARDED_METHOD: "HEAD"}, allow_redirects=False
    )
    assert response.status == 302
    assert response.headers["Location"] == wl.service_url
    response = await wl.client.get(
        wl.gate, headers={FORWARDED_METHOD: "HEAD"}, allow_redirects=False
    )
    assert response.status == 200
    assert access == []  # not counted as use: the idle countdown goes on
    # Any other method a proxy names is a visit.
    response = await wl.client.get(
        wl.gate, headers={FORWARDED_METHOD: "POST"}, allow_redirects=False
    )
    assert response.status == 200
    assert [e.data["result"] for e in access] == ["kept_awake"]


async def _not_found(wl: WakeLab, path: str, **kwargs: Any) -> tuple[Any, ...]:
    response = await wl.client.get(path, allow_redirects=False, **kwargs)
    return (response.status, response.content_type, await response.read())


async def test_wrong_disabled_and_remote_are_unknown_paths(
    hass: HomeAssistant, wake_lab: WakeLab
) -> None:
    wl = wake_lab
    unknown = await _not_found(wl, "/api/wakehub/nothing/here")
    assert unknown[0] == 404
    for path in (
        f"/api/wakehub/wake/{new_token()}",
        f"/api/wakehub/gate/{new_token()}",
        f"/api/wakehub/wake/{wl.token[:-1]}",
        "/api/wakehub/wake/" + "a" * 500,
    ):
        assert await _not_found(wl, path) == unknown
    # Local networks only by default: a remote client gets the same.
    assert await _not_found(wl, wl.wake, headers=REMOTE) == unknown
    await set_wake(hass, wl.lab, wake_local_only=False)
    assert (await wl.client.get(wl.wake, headers=REMOTE)).status == 200

    await set_wake(hass, wl.lab, **{CONF_WAKE_ON_ACCESS: False})
    assert await _not_found(wl, wl.wake) == unknown
    assert await _not_found(wl, wl.gate) == unknown


async def test_regenerated_token_replaces_the_old_one(
    hass: HomeAssistant, wake_lab: WakeLab
) -> None:
    wl = wake_lab
    await turn_on(hass, JELLYFIN)
    fresh = new_token()
    await set_wake(hass, wl.lab, wake_token=fresh)
    assert (await wl.client.get(wl.wake, allow_redirects=False)).status == 404
    response = await wl.client.get(f"/api/wakehub/wake/{fresh}", allow_redirects=False)
    assert response.status == 302


async def test_start_cap_per_hour(hass: HomeAssistant, wake_lab: WakeLab) -> None:
    wl = wake_lab
    await set_wake(hass, wl.lab, **{CONF_WAKE_MAX_STARTS: 1})
    await wl.client.get(wl.wake)
    await until_ready(wl, wl.wake)
    await hass.services.async_call(
        "switch", "turn_off", {ATTR_ENTITY_ID: JELLYFIN}, blocking=True
    )
    await hass.async_block_till_done()
    before = starts(wl)
    page = await (await wl.client.get(wl.wake)).text()
    assert "too many times" in page
    assert starts(wl) == before
    gate = await wl.client.get(wl.gate)
    assert gate.status == 503


async def test_no_token_in_answers_logs_or_events(
    hass: HomeAssistant, wake_lab: WakeLab, caplog: pytest.LogCaptureFixture
) -> None:
    wl = wake_lab
    caplog.set_level(logging.DEBUG)
    events: list[Any] = []
    hass.bus.async_listen("*", events.append)
    answers = [await wl.client.get(wl.wake, allow_redirects=False)]
    await until_ready(wl, wl.wake)
    answers.append(await wl.client.get(wl.wake, allow_redirects=False))
    answers.append(await wl.client.get(wl.gate))
    for response in answers:
        assert wl.token not in await response.text()
        assert wl.token not in str(response.headers)
    assert wl.token not in caplog.text
    assert all(wl.token not in str(event.data) for event in events)
    assert hass.states.get(NODE_SWITCH).state == STATE_ON


async def test_running_but_silent_service_times_out(
    hass: HomeAssistant, wake_lab: WakeLab
) -> None:
    """Running, its service never answers: the page waits, then says so."""
    wl = wake_lab
    await turn_on(hass, JELLYFIN)
    closed = f"http://127.0.0.1:{free_port()}/"
    hass.config_entries.async_update_entry(
        wl.lab.docker_entry, options={**wl.lab.docker_entry.options, "timeout": 1}
    )
    await set_wake(hass, wl.lab, service_url=closed)
    before = starts(wl)
    # Two visitors at once: one run (the second joins it after its own check).
    first, response = await asyncio.gather(
        wl.client.get(wl.wake), wl.client.get(wl.wake)
    )
    assert first.headers[STATE_HEADER] == response.headers[STATE_HEADER] == "waiting"
    version = response.headers[VERSION_HEADER]
    for _ in range(50):
        response = await poll(wl, wl.wake, version)
        version = response.headers[VERSION_HEADER]
        if response.headers[STATE_HEADER] == "failed":
            break
    assert "did not answer in time" in await response.text()
    assert starts(wl) == before  # it was running: nothing was started
