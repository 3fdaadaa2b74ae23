"""The one parsing rule: bounded bodies, strict JSON, typed field accessors."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
import math

import aiohttp
import pytest

from custom_components.wakehub.api import fields
from custom_components.wakehub.api.errors import (
    CannotConnect,
    InvalidResponse,
    NotThatKind,
)
from custom_components.wakehub.api.http import (
    MAX_BODY_BYTES,
    decode_json,
    is_json,
    read_body,
    transport_errors,
)
from custom_components.wakehub.api.proxmox import ProxmoxClient
from tests.simulators.proxmox import DEFAULT_TOKEN_SECRET, ProxmoxSimulator


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (3, 3),
        (3.0, 3),
        (3.5, None),
        (math.inf, None),
        ("42", 42),
        (" -7 ", -7),
        ("4" * 50, None),  # int() refuses very long texts
        ("٣", None),  # a digit, but not ASCII
        (True, None),
        (None, None),
        ([1], None),
    ],
)
def test_opt_int(value: object, expected: int | None) -> None:
    assert fields.opt_int(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (0.25, 0.25),
        (2, 2.0),
        (10**400, None),  # beyond any float
        ("0.5", 0.5),
        ("nan", None),
        ("soon", None),
        (False, None),
        ({}, None),
    ],
)
def test_opt_float(value: object, expected: float | None) -> None:
    assert fields.opt_float(value) == expected


def test_accessors() -> None:
    data = {"id": 7, "name": "web", "empty": "", "list": [{"a": 1}, 2]}
    assert fields.required_int(data, "id", "x") == 7
    assert fields.required_str(data, "id", "x") == "7"
    assert fields.required_str(data, "name", "x") == "web"
    for key in ("empty", "missing", "list"):
        with pytest.raises(InvalidResponse, match=f"no usable '{key}'"):
            fields.required_str(data, key, "x")
    with pytest.raises(InvalidResponse, match="no usable 'name'"):
        fields.required_int(data, "name", "x")
    with pytest.raises(InvalidResponse, match="an element of the list is a number"):
        fields.objects(data["list"], "the list")
    assert fields.text(None, "?") == "?"
    assert fields.text(1.5) == "1.5"
    assert fields.opt_str(1) is None
    assert fields.flag("1") is True
    assert fields.flag(0) is False
    assert fields.flag(True) is True
    assert fields.opt_obj([]) == {}
    for value, kind in (
        (None, "null"),
        (True, "a boolean"),
        (1, "a number"),
        ("x", "a string"),
        ([], "a list"),
    ):
        with pytest.raises(InvalidResponse, match=f"is {kind}, not an object"):
            fields.obj(value, "the answer")
    with pytest.raises(InvalidResponse, match="is an object, not a list"):
        fields.items({}, "the answer")


def test_decode_json() -> None:
    assert decode_json(b'{"a": [1, 2.5, null]}', "h", "GET /") == {"a": [1, 2.5, None]}
    for body in (b"", b"  \n", b'{"a": 1', b"NaN", b'{"a": Infinity}', b"\xff\xfe\xfd"):
        with pytest.raises(InvalidResponse):
            decode_json(body, "h", "GET /")
    with pytest.raises(InvalidResponse, match="invalid JSON"):
        decode_json(b"[" * 100_000, "h", "GET /")


def test_is_json() -> None:
    assert is_json("application/json")
    assert is_json("Application/JSON; charset=utf-8")
    assert is_json("application/problem+json")
    assert not is_json("text/html")
    assert not is_json("")


@pytest.fixture
async def pve() -> AsyncIterator[ProxmoxSimulator]:
    sim = ProxmoxSimulator()
    await sim.start()
    yield sim
    await sim.stop()


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client_session:
        yield client_session


def _client(sim: ProxmoxSimulator, session: aiohttp.ClientSession) -> ProxmoxClient:
    return ProxmoxClient(
        session,
        sim.url,
        username="root@pam",
        token_id="wakehub",
        token_secret=DEFAULT_TOKEN_SECRET,
        fingerprint=sim.fingerprint,
    )


async def test_body_bound_holds_while_reading(
    pve: ProxmoxSimulator, session: aiohttp.ClientSession
) -> None:
    """A body past the bound is refused, announced or not (chunked)."""
    pve.inject("/version", body=b"[" + b"0," * 600 + b"0]", count=None)
    async with session.get(f"{pve.url}/api2/json/version", ssl=False) as response:
        with pytest.raises(InvalidResponse, match="larger than 1000 bytes"):
            await read_body(response, "pve", limit=1000)
    async with session.get(f"{pve.url}/api2/json/version", ssl=False) as response:
        assert len(await read_body(response, "pve")) == 1203
    huge = b"[" + b"0," * (MAX_BODY_BYTES // 2) + b"0]"
    pve.inject("/cluster/resources", body=huge, count=None)
    with pytest.raises(InvalidResponse, match="larger than"):
        await _client(pve, session).fetch_state()


async def test_answer_cut_short_is_a_broken_link(
    pve: ProxmoxSimulator, session: aiohttp.ClientSession
) -> None:
    pve.inject_cut("/cluster/resources", body=b'{"data": []}' + b" " * 200, count=None)
    with pytest.raises(CannotConnect, match="cut short"):
        await _client(pve, session).fetch_state()


async def test_not_http_at_all_is_unreadable() -> None:
    """A response aiohttp cannot parse (here: a bad status line)."""

    async def garbage(
        reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        await reader.readline()
        writer.write(b"HTTP/1.1 abc\r\n\r\n")
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(garbage, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        async with aiohttp.ClientSession() as session:
            with pytest.raises(InvalidResponse, match="readable HTTP"):
                async with (
                    transport_errors("x"),
                    session.get(f"http://127.0.0.1:{port}/") as response,
                ):
                    await response.read()
    finally:
        server.close()
        await server.wait_closed()


async def test_first_answer_unreadable_is_not_proxmox(
    pve: ProxmoxSimulator, session: aiohttp.ClientSession
) -> None:
    pve.inject("/version", body=b'{"data": {"version": "8.', count=None)
    with pytest.raises(NotThatKind):
        await _client(pve, session).check()
