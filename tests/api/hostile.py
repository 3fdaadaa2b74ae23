"""Hostile answers for the property-based tests of the clients' parsers.

Each strategy draws what a broken, hijacked or truncated server could send: the
simulators serve it over a real socket (`HttpSimulator.inject`), and the tests
check the client answers with a parse or a WakeHubError, never anything else.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
import json
from typing import Any

from hypothesis import HealthCheck, settings, strategies as st

from custom_components.wakehub.api.errors import WakeHubError
from custom_components.wakehub.api.http import MAX_BODY_BYTES

# Modest counts keep the suite fast; the simulators answer over real sockets.
HOSTILE = settings(
    max_examples=80,
    deadline=None,
    # One simulator and one client serve every example: faults are cleared
    # between examples, so nothing leaks from one to the next.
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)

JSON_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20)
)
JSON_VALUES = st.recursive(
    JSON_SCALARS,
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=12,
)

HTML_PAGES = st.sampled_from(
    [
        b"<!DOCTYPE html><html><body><h1>502 Bad Gateway</h1></body></html>",
        b"<html><head><title>Router login</title></head><body></body></html>",
        b"<h1>It works!</h1>",
    ]
)
# Bigger than any answer WakeHub reads; built once, not per example.
HUGE_BODY = b'{"data": [' + b"0," * (MAX_BODY_BYTES // 2) + b"0]}"
NESTED_BODY = b"[" * 100_000 + b"]" * 100_000
CONTENT_TYPES = st.sampled_from(
    [
        "application/json",
        "application/json; charset=utf-8",
        "application/json; charset=bogus",
        "text/html",
        "text/plain",
        None,
    ]
)
STATUSES = st.sampled_from([200, 200, 200, 201, 204, 400, 401, 403, 404, 409, 429, 500, 502, 503, 595])  # fmt: skip


@dataclass(frozen=True)
class Answer:
    """What the simulator sends instead of its own answer."""

    body: bytes
    status: int = 200
    content_type: str | None = "application/json"
    #: True when no client may read this as a success (broken JSON on a 200).
    unreadable: bool = False

    def __repr__(self) -> str:
        # The huge bodies would flood a failure report.
        head = self.body[:80] + (b"..." if len(self.body) > 80 else b"")
        return (
            f"Answer({head!r} ({len(self.body)} bytes), status={self.status}, "
            f"content_type={self.content_type!r}, unreadable={self.unreadable})"
        )


def _truncations(template: Any) -> st.SearchStrategy[Answer]:
    """The real answer cut short: never valid JSON, but for a number's digits."""
    trimmed = json.dumps(template).encode()
    broken = not isinstance(template, int | float)
    return st.integers(0, max(len(trimmed) - 1, 0)).map(
        lambda cut: Answer(trimmed[:cut], unreadable=broken or cut == 0)
    )


@st.composite
def _mutations(draw: st.DrawFn, template: Any) -> Answer:
    """A real answer with one value somewhere replaced by any JSON value."""
    document = json.loads(json.dumps(template))
    slots = _slots(document)
    node, key = draw(st.sampled_from(slots), label="slot")
    replacement = draw(JSON_VALUES, label="replacement")
    if node is None:
        document = replacement
    else:
        node[key] = replacement
    return Answer(json.dumps(document).encode())


def _slots(document: Any) -> list[tuple[Any, Any]]:
    """Every (container, key) in `document`; (None, None) is the root."""
    slots: list[tuple[Any, Any]] = [(None, None)]
    stack = [document] if isinstance(document, dict | list) else []
    while stack:
        node = stack.pop()
        keys = list(node.keys()) if isinstance(node, dict) else range(len(node))
        for key in keys:
            slots.append((node, key))
            if isinstance(node[key], dict | list):
                stack.append(node[key])
    return slots


def answers(template: Any) -> st.SearchStrategy[Answer]:
    """Every hostile answer, around `template` (a real decoded answer)."""
    encoded = json.dumps(template).encode()
    return st.one_of(
        JSON_VALUES.map(lambda v: Answer(json.dumps(v).encode())),
        _mutations(template),
        _truncations(template),
        HTML_PAGES.map(lambda page: Answer(page, content_type="text/html")),
        st.sampled_from([b"", b" ", b"\n"]).map(lambda b: Answer(b, unreadable=True)),
        st.just(Answer(HUGE_BODY, unreadable=True)),
        st.just(Answer(NESTED_BODY, unreadable=True)),
        st.just(Answer(b'{"data": NaN}', unreadable=True)),
        st.binary(max_size=64).map(Answer),
        st.builds(
            Answer,
            body=st.one_of(HTML_PAGES, st.just(encoded), st.binary(max_size=32)),
            status=STATUSES,
            content_type=CONTENT_TYPES,
        ),
    )


async def outcome(call: Callable[[], Awaitable[Any]]) -> Any:
    """The call's result or its WakeHubError; anything else fails the test."""
    try:
        return await call()
    except WakeHubError as err:
        return err
