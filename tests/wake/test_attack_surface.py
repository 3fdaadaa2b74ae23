"""The two unauthenticated endpoints, attacked through Home Assistant's own HTTP
server: odd methods and paths, forged client addresses, hostile headers and
query strings, parallel guesses, retry storms, a platform's hostile error text,
and an entry reloaded under a wake.

Only the real endpoints are spoken to; a test that provokes a known weakness is
marked `xfail(strict=True)` with the weakness as its reason.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
import json
import random
import re
from typing import Any
from urllib.parse import quote

from aiohttp import ClientResponse
from homeassistant.core import HomeAssistant
from hypothesis import example, given, strategies as st
import pytest
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator
from yarl import URL

from custom_components.wakehub.wake import limits, views
from custom_components.wakehub.wake.const import (
    CONF_WAKE_MAX_STARTS,
    POLL_HEADER,
    RETRY_HEADER,
    STATE_HEADER,
    VERSION_HEADER,
)
from custom_components.wakehub.wake.limits import FREE_MISSES, MISS_DELAY
from custom_components.wakehub.wake.tokens import new_token
from tests.conftest import record_events
from tests.hostile import hostile_settings
from tests.wake.conftest import (
    JELLYFIN,
    REMOTE,
    Lab,
    WakeLab,
    http,  # noqa: F401 - fixture
    serving_wake,
    set_wake,
)
from tests.wake.test_endpoints import poll, starts, turn_on, until_ready

EXAMPLES = 40
_addresses = iter(range(1, 1 << 24))


def fresh_local() -> dict[str, str]:
    """A private client address never used before (seen through the trusted
    proxy on loopback), so the miss throttle of one address does not slow a
    whole run of generated requests."""
    n = next(_addresses)
    return {"X-Forwarded-For": f"10.{n >> 16 & 255}.{n >> 8 & 255}.{n & 255}"}


async def fuzz(
    hass: HomeAssistant,
    strategy: st.SearchStrategy[Any],
    attempt: Callable[[Any], Awaitable[None]],
    *,
    explicit: list[Any] | None = None,
    max_examples: int = EXAMPLES,
) -> None:
    """Run `attempt` on the test's loop for each generated value (hypothesis in
    a worker thread, as tests/hostile.py does)."""
    loop = asyncio.get_running_loop()

    @hostile_settings(max_examples)
    @given(strategy)
    def run(value: Any) -> None:
        random.seed()
        asyncio.run_coroutine_threadsafe(attempt(value), loop).result(timeout=120)

    for value in explicit or []:
        run = example(value)(run)
    await hass.async_add_executor_job(run)


async def until_state(
    wl: WakeLab, path: str, wanted: str, headers: dict[str, str] | None = None
) -> ClientResponse:
    """Follow the long poll until the page says `wanted`."""
    version = "0"
    for _ in range(100):
        response = await wl.client.get(
            path,
            headers={**(headers or {}), POLL_HEADER: version},
            allow_redirects=False,
        )
        await response.read()
        if response.headers.get(STATE_HEADER) == wanted:
            return response
        version = response.headers.get(VERSION_HEADER, version)
    raise AssertionError(f"never {wanted}")


# -- a token for an entry that goes away, or reloads under a wake -------------------


async def test_reloading_the_entry_mid_wake_does_not_strand_the_link(
    hass: HomeAssistant, wake_lab: WakeLab
) -> None:
    """The wake's run belongs to the resource's entry: reloading it cancels the
    run, which used to stay "waiting" for ever, every later visit joining it
    (the link never started anything again, the gate answered 503 until Home
    Assistant restarted). The page now says the wake was interrupted, and the
    link works again."""
    wl = wake_lab
    first = await wl.client.get(wl.wake)
    assert first.headers[STATE_HEADER] == "waiting"
    # A settings change (or a reauth, or an update) reloads the entry.
    await hass.config_entries.async_reload(wl.lab.docker_entry.entry_id)
    await hass.async_block_till_done()
    interrupted = await wl.client.get(wl.wake)
    assert interrupted.headers[STATE_HEADER] == "failed"
    assert "interrupted" in await interrupted.text()
    # Someone starts it from Home Assistant: its service answers.
    await turn_on(hass, JELLYFIN)
    assert wl.lab.docker.page_serving("jellyfin")
    gate = await wl.client.get(wl.gate)
    assert gate.status == 200, gate.headers.get(STATE_HEADER)
    wake = await wl.client.get(wl.wake, allow_redirects=False)
    assert wake.status == 302


async def test_unloaded_or_removed_entry_token_is_an_unknown_path(
    hass: HomeAssistant, wake_lab: WakeLab
) -> None:
    wl = wake_lab
    unknown = await wl.client.get("/api/wakehub/nothing/here")
    plain = (unknown.status, await unknown.read())
    events = record_events(hass, "wakehub_access")
    await hass.config_entries.async_unload(wl.lab.docker_entry.entry_id)
    await hass.async_block_till_done()
    for path in (wl.wake, wl.gate):
        response = await wl.client.get(path, allow_redirects=False)
        assert (response.status, await response.read()) == plain
    # Loaded again: the same link works again.
    assert await hass.config_entries.async_setup(wl.lab.docker_entry.entry_id)
    await hass.async_block_till_done()
    assert (await wl.client.get(wl.gate)).status == 503
    await until_ready(wl, wl.gate)
    # Removed: unknown, and nothing of it left to start.
    await hass.config_entries.async_remove(wl.lab.docker_entry.entry_id)
    await hass.async_block_till_done()
    before = starts(wl)
    for path in (wl.wake, wl.gate):
        response = await wl.client.get(path, allow_redirects=False)
        assert (response.status, await response.read()) == plain
    assert starts(wl) == before
    assert [e.data["result"] for e in events] == ["woken"]
    wl.lab.docker_entry.add_to_hass(hass)  # for the lab's own teardown


# -- methods, paths ------------------------------------------------------------------


@pytest.mark.parametrize("method", ["HEAD", "POST", "PUT", "DELETE", "PATCH"])
async def test_other_methods_start_nothing(
    hass: HomeAssistant, wake_lab: WakeLab, method: str
) -> None:
    """A HEAD (a proxy's or monitor's health check) or a POST wakes nothing,
    keeps nothing awake, and says the same for a right and a wrong token."""
    wl = wake_lab
    events = record_events(hass, "wakehub_access")
    for path in (wl.wake, wl.gate):
        right = await wl.client.request(method, path, allow_redirects=False)
        wrong = await wl.client.request(
            method, path.replace(wl.token, new_token()), allow_redirects=False
        )
        assert right.status == wrong.status == 405
        assert await right.read() == await wrong.read()
    await hass.async_block_till_done()
    assert starts(wl) == 0
    assert not wl.lab.node.packets
    assert events == []


async def test_cors_preflight_is_not_granted(
    hass: HomeAssistant, wake_lab: WakeLab
) -> None:
    """Another site's script cannot read the page (nor start anything by OPTIONS)."""
    wl = wake_lab
    for path in (wl.wake, wl.gate):
        response = await wl.client.options(
            path,
            headers={
                "Origin": "https://evil.example",
                "Access-Control-Request-Method": "GET",
                "Access-Control-Request-Headers": POLL_HEADER,
            },
        )
        assert response.status >= 400
        assert "Access-Control-Allow-Origin" not in response.headers
    assert starts(wl) == 0


async def test_hostile_tokens_are_unknown_paths(
    hass: HomeAssistant, wake_lab: WakeLab
) -> None:
    """Any path segment that is not the token, however encoded, long or odd, is
    refused like an unknown address (never a 5xx, a redirect or a start)."""
    wl = wake_lab
    t = wl.token
    seen: set[int] = set()

    async def attempt(raw: str) -> None:
        for base in ("/api/wakehub/wake/", "/api/wakehub/gate/"):
            response = await wl.client.get(
                URL(base + raw, encoded=True),
                headers=fresh_local(),
                allow_redirects=False,
            )
            await response.read()
            seen.add(response.status)
            assert response.status in (400, 404, 414), (raw, response.status)
            assert STATE_HEADER not in response.headers

    encoded = st.text(min_size=1, max_size=300).map(lambda s: quote(s, safe=""))
    await fuzz(
        hass,
        encoded,
        attempt,
        explicit=[
            "..",
            "%2e%2e",
            "..%2f..%2fauth%2ftoken",
            f"{t}%2F",
            f"{t}%2Fx",
            f"{t}%00",
            f"{t}%20",
            f"%20{t}",
            f"{t}%0d%0aSet-Cookie:%20x=1",
            t.upper() if t.upper() != t else t.lower(),
            t[:-1] + ("A" if t[-1] != "A" else "B"),
            t + t,
            "%ED%A0%80",  # a lone surrogate, UTF-8 encoded
            "%C0%AE%C0%AE",  # overlong '.'
            "%FF%FE",
            quote("\u0430" + t[1:], safe=""),  # Cyrillic look-alike first letter
            "A" * 129,
            "A" * 7000,
        ],
    )
    assert starts(wl) == 0
    assert not wl.lab.node.packets


# -- forged client addresses ------------------------------------------------------


@pytest.mark.parametrize(
    "headers",
    [
        # The browser claims a private address; the proxy appends the real one.
        {"X-Forwarded-For": "192.168.1.10, 8.8.8.8"},
        {"X-Forwarded-For": "8.8.8.8, 127.0.0.1"},
        {"X-Forwarded-For": "::ffff:8.8.8.8"},
        {"X-Forwarded-For": "100.64.0.1"},  # carrier-grade NAT is not local
        # Headers Home Assistant does not read for the client's address.
        {**REMOTE, "X-Real-IP": "10.0.0.1"},
        {**REMOTE, "Forwarded": "for=10.0.0.1"},
        {**REMOTE, "True-Client-IP": "10.0.0.1"},
        {**REMOTE, "CF-Connecting-IP": "10.0.0.1"},
    ],
    ids=[
        "prepended",
        "trusted-last",
        "mapped",
        "cgnat",
        "real-ip",
        "forwarded",
        "true-client",
        "cf",
    ],
)
async def test_local_only_sees_the_address_the_proxy_saw(
    hass: HomeAssistant, wake_lab: WakeLab, headers: dict[str, str]
) -> None:
    wl = wake_lab
    for path in (wl.wake, wl.gate):
        response = await wl.client.get(path, headers=headers, allow_redirects=False)
        assert response.status == 404
    assert starts(wl) == 0
    assert not wl.lab.node.packets


@pytest.fixture
async def direct_lab(
    hass: HomeAssistant,
    http: None,  # noqa: F811 - not set up for reverse proxies
    lab: Lab,
    hass_client_no_auth: ClientSessionGenerator,
) -> AsyncIterator[WakeLab]:
    async with serving_wake(hass, lab, hass_client_no_auth) as wake_lab:
        yield wake_lab


async def test_forwarded_for_without_a_trusted_proxy_is_refused(
    hass: HomeAssistant, direct_lab: WakeLab
) -> None:
    """Home Assistant not set up for proxies: a forged X-Forwarded-For is a 400
    before WakeHub is asked (nothing started, nothing kept awake)."""
    wl = direct_lab
    events = record_events(hass, "wakehub_access")
    for path in (wl.wake, wl.gate):
        for address in ("192.168.1.10", "8.8.8.8"):
            response = await wl.client.get(
                path, headers={"X-Forwarded-For": address}, allow_redirects=False
            )
            assert response.status == 400
    await hass.async_block_till_done()
    assert starts(wl) == 0
    assert events == []


# -- guessing ---------------------------------------------------------------------


async def test_parallel_guesses_are_slowed_like_sequential_ones(
    hass: HomeAssistant, wake_lab: WakeLab
) -> None:
    """Ten wrong tokens sent at once from one address are answered one after
    the other: they used to wait side by side, ten guesses for the time of one."""
    wl = wake_lab
    guesser = fresh_local()
    for _ in range(FREE_MISSES):
        await wl.client.get(f"/api/wakehub/gate/{new_token()}", headers=guesser)
    loop = asyncio.get_running_loop()
    began = loop.time()
    answers = await asyncio.gather(
        *(
            wl.client.get(f"/api/wakehub/gate/{new_token()}", headers=guesser)
            for _ in range(10)
        )
    )
    took = loop.time() - began
    assert {a.status for a in answers} == {404}
    in_a_row = sum(k * MISS_DELAY for k in range(1, 11))  # 11 s
    assert took >= 0.9 * in_a_row, took


async def test_a_flooded_address_is_not_looked_up(
    hass: HomeAssistant, wake_lab: WakeLab, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An address with more answers queued than MAX_QUEUE gets 404 without its
    token being looked at: the right token from it starts nothing, while the
    same link from another address works. (The queue's length is the only
    thing patched: a real one takes a minute of guesses to fill.)"""
    monkeypatch.setattr(limits, "MAX_QUEUE", 0.0)
    monkeypatch.setattr(views, "MAX_MISS_DELAY", 0.0)
    wl = wake_lab
    guesser = fresh_local()
    for _ in range(FREE_MISSES):
        await wl.client.get(f"/api/wakehub/gate/{new_token()}", headers=guesser)
    # Three more guesses at once: their answers are queued over a second.
    guesses = [
        asyncio.ensure_future(
            wl.client.get(f"/api/wakehub/gate/{new_token()}", headers=guesser)
        )
        for _ in range(3)
    ]
    await asyncio.sleep(0.05)
    right = await wl.client.get(wl.gate, headers=guesser)
    assert right.status == 404
    assert {(await guess).status for guess in guesses} == {404}
    assert starts(wl) == 0
    other = await wl.client.get(wl.gate, headers=fresh_local())
    assert other.status == 503  # the waiting page: the link works
    await until_ready(wl, wl.gate)
    assert starts(wl) == 1


# -- reflection, redirects, caching ------------------------------------------------

SENTINEL = "zq7x"
_HEADERS = (
    "Referer",
    "X-Forwarded-Uri",
    "X-Original-URI",
    "X-Original-URL",
    "X-Rewrite-URL",
    "X-Forwarded-Host",
    "X-Forwarded-Prefix",
    "Accept-Language",
    "Origin",
    "User-Agent",
    "Cookie",
)
_QUERY = ("next", "redirect", "url", "return", "rd", "target", "continue")
_header_text = st.text(
    st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=80
)


@st.composite
def _hostile_request(draw: st.DrawFn) -> tuple[dict[str, str], dict[str, str]]:
    headers = {
        name: SENTINEL + draw(_header_text)
        for name in draw(st.lists(st.sampled_from(_HEADERS), unique=True))
    }
    if draw(st.booleans()):
        headers["Host"] = SENTINEL + ".evil.example"
    query = {
        name: SENTINEL + draw(st.text(max_size=80))
        for name in draw(st.lists(st.sampled_from(_QUERY), unique=True))
    }
    return headers, query


async def test_nothing_from_the_request_is_reflected_or_redirected_to(
    hass: HomeAssistant, wake_lab: WakeLab
) -> None:
    """`next`, Referer, X-Forwarded-Uri, Host and the like never choose where the
    link goes, and never appear in the page or its headers (CR/LF included:
    query values are decoded by the server, never written back)."""
    wl = wake_lab
    await turn_on(hass, JELLYFIN)
    states: set[int] = set()

    async def attempt(value: tuple[dict[str, str], dict[str, str]]) -> None:
        headers, query = value
        for path in (wl.wake, wl.gate):
            response = await wl.client.get(
                path, headers=headers, params=query, allow_redirects=False
            )
            body = await response.text()
            states.add(response.status)
            assert SENTINEL not in body.lower()
            assert SENTINEL not in str(response.headers).lower()
            if response.status == 302:
                assert response.headers["Location"] == wl.service_url
            elif response.status == 200 and path == wl.wake:
                config = re.search(r'id="wakehub-config">(.*?)</script>', body)
                assert config is not None
                assert json.loads(config[1])["target"] == wl.service_url
            else:
                # 400: Home Assistant's filter refused the request first.
                assert response.status in (200, 400, 503), response.status

    explicit = [
        ({"X-Forwarded-Uri": SENTINEL + "\t//evil.example"}, {}),
        ({}, {"next": SENTINEL + "\r\nSet-Cookie: a=b", "rd": SENTINEL + "//evil"}),
        ({"Accept-Language": SENTINEL + '"><script>alert(1)</script>'}, {}),
    ]
    await fuzz(hass, _hostile_request(), attempt, explicit=explicit)
    # Now off: the page path, then the redirect once it answers.
    await hass.services.async_call(
        "switch", "turn_off", {"entity_id": JELLYFIN}, blocking=True
    )
    await hass.async_block_till_done()
    await fuzz(hass, _hostile_request(), attempt, max_examples=15)
    assert {200, 302} <= states


async def test_no_answer_may_be_stored_by_a_cache(
    hass: HomeAssistant, wake_lab: WakeLab
) -> None:
    """The waiting page, its poll, the gate's 503 and 200 and the redirect:
    none may be kept by a shared cache and served to someone else."""
    wl = wake_lab
    answers = [
        await wl.client.get(wl.wake, allow_redirects=False),
        await wl.client.get(wl.gate, allow_redirects=False),
        await poll(wl, wl.gate, "-1"),
    ]
    await until_ready(wl, wl.wake)
    answers += [
        await wl.client.get(wl.wake, allow_redirects=False),
        await wl.client.get(wl.gate, allow_redirects=False),
        await poll(wl, wl.wake, "-1"),
    ]
    assert [a.status for a in answers] == [200, 503, 503, 302, 200, 200]
    for answer in answers:
        assert answer.headers["Cache-Control"] == "no-store", answer.status
        assert "Set-Cookie" not in answer.headers
        assert "Server-Timing" not in answer.headers


# -- what the page shows ------------------------------------------------------------

PAYLOAD = (
    "</script><script>alert(1)</script><img src=x onerror=alert(1)>\"'&"
    "{name}{0}%s\u2028</p>"
)


async def test_hostile_platform_error_and_names_are_escaped(
    hass: HomeAssistant, wake_lab: WakeLab
) -> None:
    """A platform's error text (the Docker engine's own words) and a
    resource's name are shown as text: no markup, no placeholder expansion."""
    wl = wake_lab
    hass.config_entries.async_update_entry(wl.lab.machine_entry, title=PAYLOAD)
    await hass.config_entries.async_reload(wl.lab.machine_entry.entry_id)
    await hass.async_block_till_done()
    wl.lab.docker.fail_start("jellyfin", PAYLOAD)
    page = await (await wl.client.get(wl.wake)).text()
    failed = await until_state(wl, wl.wake, "failed")
    fragment = await failed.text()
    page_failed = await (await wl.client.get(wl.wake)).text()
    gate = await wl.client.get(wl.gate)
    assert gate.status == 503
    for text in (page, fragment, page_failed, await gate.text()):
        assert "<script>alert" not in text
        assert "<img" not in text
        assert "onerror=alert(1)>" not in text
    # The message itself is there, as text.
    assert "onerror=alert(1)&gt;" in fragment
    assert "{name}{0}%s" in fragment
    assert page_failed.count("<script") == 2  # the page's own two
    assert page_failed.count("</script>") == 2


# -- storms --------------------------------------------------------------------------


async def test_a_retry_storm_is_one_start_then_the_hourly_cap(
    hass: HomeAssistant, wake_lab: WakeLab
) -> None:
    """Anyone with the link may press *Try again*: a burst of retries is one
    start, and retries in a row stop at the cap."""
    wl = wake_lab
    await set_wake(hass, wl.lab, **{CONF_WAKE_MAX_STARTS: 3})
    wl.lab.docker.fail_start("jellyfin", "no space left on device")
    await wl.client.get(wl.wake)
    await until_state(wl, wl.wake, "failed")
    assert starts(wl) == 1
    retry = {RETRY_HEADER: "1"}
    await asyncio.gather(*(wl.client.get(wl.gate, headers=retry) for _ in range(20)))
    await until_state(wl, wl.wake, "failed")
    assert starts(wl) == 2
    for _ in range(10):
        await wl.client.get(f"{wl.wake}?retry=1")
        await until_state(wl, wl.wake, "failed")
    assert starts(wl) == 3
    page = await (await wl.client.get(wl.wake, headers=retry)).text()
    assert "too many times" in page


async def test_hostile_poll_and_retry_headers(
    hass: HomeAssistant, wake_lab: WakeLab
) -> None:
    """Whatever the poll and retry headers say, an answer comes at once (the
    run has failed), never a 5xx, and no start beyond the cap."""
    wl = wake_lab
    await set_wake(hass, wl.lab, **{CONF_WAKE_MAX_STARTS: 1})
    wl.lab.docker.fail_start("jellyfin", "no space left on device")
    await wl.client.get(wl.wake)
    await until_state(wl, wl.wake, "failed")

    async def attempt(value: tuple[str, str | None]) -> None:
        seen, retry = value
        headers = {POLL_HEADER: seen}
        if retry is not None:
            headers[RETRY_HEADER] = retry
        for path in (wl.wake, wl.gate):
            async with asyncio.timeout(5):
                response = await wl.client.get(
                    path, headers=headers, allow_redirects=False
                )
                await response.read()
            assert response.status in (200, 503)
            assert response.headers[STATE_HEADER] == "failed"

    numbers = st.one_of(
        st.integers().map(str),
        st.just("9" * 5000),
        st.just("-0"),
        st.just(" 1_0 "),
        st.just("1e9"),
    )
    text = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=50)
    await fuzz(
        hass,
        st.tuples(numbers | text, st.none() | text),
        attempt,
        explicit=[("9" * 5000, "1"), ("", ""), ("0", "0")],
    )
    assert starts(wl) == 1
