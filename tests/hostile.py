"""Hostile form input, generated: the harness of the `test_forms_hostile` tests.

A user of Home Assistant's HTTP API may send any JSON as a form's input. Whatever
it is, a WakeHub form must answer with a form (with or without errors), an
abort, a created entry, or a schema error (`InvalidData`, which the API turns
into a 400): never another exception (a 500 with a traceback in the log).

How the examples run: hypothesis's `@given` cannot drive an async test, and Home
Assistant's `hass` fixture lives for one test, so one `hass` serves every example
of a test. `fuzz_form` runs hypothesis in a worker thread; its test function
hands each example to the test's event loop (`asyncio.run_coroutine_threadsafe`)
and waits for the outcome. Hypothesis thus sees real failures and shrinks them to
the smallest input as usual; `derandomize` makes every run try the same inputs.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
import contextlib
import json
import math
from pathlib import Path
import random
import socket
from typing import Any
from unittest.mock import patch

from aiohttp import ThreadedResolver
from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import (
    FlowManager,
    FlowResultType,
    InvalidData,
    UnknownFlow,
)
from hypothesis import HealthCheck, Phase, example, given, settings, strategies as st
import pytest_socket

TRANSLATIONS = json.loads(
    (
        Path(__file__).parents[1] / "custom_components/wakehub/translations/en.json"
    ).read_text()
)
EXAMPLES = 50  # per form: enough to meet every class below, fast enough to run often

# Inputs that broke, or could break, a form: blanks, NaN spelled out, control
# characters and lone surrogates, 100 kB, URLs without a host, with a port out
# of range, with a bare IPv6 address, of other schemes.
HOSTILE_STRINGS = (
    "",
    " ",
    " \t\n ",
    "\x00",
    "a\x00b",
    "\x1b[31mred",
    "two\nlines",
    "\u2028",
    "\ud800",
    "NaN",
    "Infinity",
    "-1",
    "0",
    "65536",
    "1e400",
    "x" * 100_000,
    "é" * 5000,
    "💥",
    "https://",
    "https://:8006",
    "https://127.0.0.1:99999",
    "https://127.0.0.1:0",
    "https://127.0.0.1:port",
    "https://::1:8006",
    "https://[::1",
    "https://[::1]:1",
    "http://[fe80::1%eth0]:1",
    "https://user:secret@127.0.0.1:1",
    "https://127.0.0.1:1/1.0?x=%00",
    "ftp://127.0.0.1/",
    "file:///etc/passwd",
    "javascript:alert(1)",
    "unix://",
    "unix:///",
    "unix:///nonexistent/docker.sock",
    "unix:///etc/hostname",
    "tcp://",
    "tcp://127.0.0.1:1",
    "//127.0.0.1",
    "127.0.0.1:1",
    "::1",
    "[::1]",
    "localhost",
    "nas.invalid",
    "-bad-.host",
    "a" * 64 + ".example",
    "ovh-eu",
    " OVH-EU ",
    "root@pam",
    "@",
    "!",
    "%s%n{0}",
    "' OR 1=1 --",
    "52:54:00:12:34:56",
    "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
    "-----BEGIN OPENSSH PRIVATE KEY-----\nAAAA\n-----END OPENSSH PRIVATE KEY-----\n",
)
HOSTILE_NUMBERS = (0, -1, 1, 65535, 65536, 10**400, -(10**400), 2**63, 0.5, -0.0)

_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=20),
)
json_values = st.recursive(
    _scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.dictionaries(st.text(max_size=8), inner, max_size=3),
    ),
    max_leaves=6,
)
hostile_values = st.one_of(
    st.sampled_from(HOSTILE_STRINGS),
    st.sampled_from(HOSTILE_NUMBERS),
    st.sampled_from([float("nan"), float("inf"), float("-inf")]),
    st.text(max_size=40),
    json_values,
)
# What a field of that type is most likely to choke on, or else anything.
_hostile_numbers = st.sampled_from(
    [math.nan, "NaN", math.inf, -math.inf, 10**400, 0, -1, 65536, 0.5, True, "22"]
)
_hostile_strings = st.one_of(st.sampled_from(HOSTILE_STRINGS), st.text(max_size=40))


def hostile_for(valid: Any) -> st.SearchStrategy[Any]:
    """Hostile values for a field whose valid value is `valid`."""
    if isinstance(valid, bool):
        return hostile_values
    if isinstance(valid, int | float):
        return _hostile_numbers | hostile_values
    return _hostile_strings | hostile_values


@st.composite
def form_inputs(
    draw: st.DrawFn,
    valid: Mapping[str, Any],
    optional: Mapping[str, Any] | None = None,
) -> Any:
    """A form's input: `valid` (plus some `optional` fields) with a few fields
    hostile or left out, an unknown field now and then, rarely not a mapping."""
    if draw(st.integers(0, 19)) == 19:
        return draw(json_values)
    fields = {**valid, **(optional or {})}
    data = dict(valid)
    data.update({k: v for k, v in (optional or {}).items() if draw(st.booleans())})
    keys = sorted(fields)
    most = draw(st.sampled_from([0, 1, 1, 2, len(keys)])) if keys else 0
    changed = st.lists(
        st.sampled_from(keys), min_size=min(1, most), max_size=most, unique=True
    )
    for key in draw(changed) if keys else []:
        if draw(st.integers(0, 5)) == 5:
            data.pop(key, None)
        else:
            data[key] = draw(hostile_for(fields[key]))
    if draw(st.integers(0, 19)) == 19:
        data[draw(st.text(max_size=8))] = draw(hostile_values)
    return data


# One value of each class, for the sweep of every field of a form.
SWEEP_VALUES = (
    "",
    "   ",
    " \t\n",
    "a\x00b",
    "\ud800",
    "x" * 100_000,
    "https://::1:8006",
    "https://:1",
    "https://127.0.0.1:99999",
    math.nan,
    math.inf,
    10**400,
    -1,
    0.5,
    True,
    None,
    [],
    {},
)


def sweep(fields: Mapping[str, Any]) -> list[dict[str, Any]]:
    """`fields` with one of them replaced by each of `SWEEP_VALUES`, or left out."""
    inputs = []
    for key in fields:
        inputs.append({k: v for k, v in fields.items() if k != key})
        inputs.extend({**fields, key: value} for value in SWEEP_VALUES)
    return inputs


def check_outcome(result: Mapping[str, Any], section: Mapping[str, Any]) -> None:
    """A form, menu, abort or entry, whose errors and reasons are translated."""
    assert result["type"] in (
        FlowResultType.FORM,
        FlowResultType.MENU,
        FlowResultType.ABORT,
        FlowResultType.CREATE_ENTRY,
    ), result
    for field, key in (result.get("errors") or {}).items():
        assert key in section["error"], f"{field}: {key} is not translated"
    if result["type"] is FlowResultType.ABORT:
        assert result["reason"] in section["abort"], result["reason"]


OpenForm = Callable[[], Awaitable[tuple[FlowManager[Any, Any], str]]]


def hostile_settings(max_examples: int) -> settings:
    """How every hostile property here runs: derandomized (a failure comes back
    on the next run), no example database, no deadline (real sockets take their
    time), every health check off (hypothesis runs in a worker thread)."""
    return settings(
        max_examples=max_examples,
        deadline=None,
        database=None,
        derandomize=True,
        phases=(Phase.explicit, Phase.generate, Phase.shrink),
        suppress_health_check=list(HealthCheck),
        print_blob=False,
    )


async def fuzz_form(
    hass: HomeAssistant,
    open_form: OpenForm,
    valid: Mapping[str, Any],
    section: Mapping[str, Any],
    *,
    optional: Mapping[str, Any] | None = None,
    also: st.SearchStrategy[Any] | None = None,
    max_examples: int = EXAMPLES,
    after: Callable[[], Awaitable[None]] | None = None,
) -> int:
    """Submit hostile variations of a form's `valid` input (each field swept
    through every class of `SWEEP_VALUES`, then `form_inputs` generated, and
    `also` if given) to a fresh form each; returns how many were tried.

    `open_form` opens the form and returns its flow manager and flow id;
    `after` undoes what an example changed, so the next one meets the same form.
    """
    loop = asyncio.get_running_loop()
    tried = 0
    outcomes: Counter[str] = Counter()

    async def attempt(user_input: Any) -> None:
        manager, flow_id = await open_form()
        try:
            result = await manager.async_configure(flow_id, user_input)
        except InvalidData:
            outcomes["schema error"] += 1  # the HTTP API answers 400
        else:
            check_outcome(result, section)
            outcomes[
                str(result.get("errors") or result.get("step_id") or result["type"])
            ] += 1
            if isinstance(entry := result.get("result"), ConfigEntry):
                await hass.async_block_till_done()  # its setup first
                await hass.config_entries.async_remove(entry.entry_id)
        finally:
            with contextlib.suppress(UnknownFlow):
                manager.async_abort(flow_id)
            await hass.async_block_till_done()
            if after is not None:
                await after()

    inputs = form_inputs(valid, optional)
    if also is not None:
        inputs |= also

    @hostile_settings(max_examples)
    @given(inputs)
    def run(user_input: Any) -> None:
        nonlocal tried
        tried += 1
        # Hypothesis seeds the global `random` alike for every example, and Home
        # Assistant draws registry ids from it: same ids, clashing entities.
        random.seed()
        asyncio.run_coroutine_threadsafe(attempt(user_input), loop).result(timeout=120)

    for explicit in sweep({**valid, **(optional or {})}):
        run = example(explicit)(run)
    await hass.async_add_executor_job(run)
    print(f"hostile inputs tried: {tried} {dict(outcomes)}")
    return tried


@contextlib.asynccontextmanager
async def loopback_network(monkeypatch: Any) -> AsyncIterator[None]:
    """Connections to loopback only, v4 and v6 and unix sockets; every name but
    `localhost` unresolvable.

    Generated host names must not reach a real resolver (the harness forbids
    DNS, and a test must not depend on the network): the system resolver is
    given the answer any resolver gives for an unknown name.
    """
    harness_getaddrinfo = socket.getaddrinfo

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        if host not in ("localhost", "127.0.0.1", "::1", None):
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return harness_getaddrinfo(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    saved_connect = socket.socket.connect
    pytest_socket.socket_allow_hosts(["127.0.0.1", "::1"], allow_unix_socket=True)
    resolver = ThreadedResolver()
    resolver.real_close = resolver.close  # type: ignore[attr-defined]
    try:
        with patch(
            "homeassistant.helpers.aiohttp_client._async_make_resolver",
            return_value=resolver,
        ):
            yield
    finally:
        socket.socket.connect = saved_connect  # type: ignore[method-assign]


def keep_subentries(
    hass: HomeAssistant, entry: ConfigEntry
) -> Callable[[], Awaitable[None]]:
    """An `after` for subentry flows: removes the subentries an example added."""
    kept = set(entry.subentries)

    async def after() -> None:
        for subentry_id in set(entry.subentries) - kept:
            hass.config_entries.async_remove_subentry(entry, subentry_id)
        await hass.async_block_till_done()

    return after
