"""The Docker contract validator itself: it must catch what it is there to catch."""

from __future__ import annotations

import json

import pytest

from tests.contract.docker import (
    check_exchange,
    contract_for,
    spec_version_for,
    strip_version,
    to_json_schema,
)

GOOD_ID = "a" * 64


def _summary(**fields: object) -> bytes:
    item = {
        "Id": GOOD_ID,
        "Names": ["/web"],
        "State": "running",
        "Status": "Up 2 hours",
    }
    return json.dumps([{**item, **fields}]).encode()


def _check(
    version: str,
    method: str,
    path: str,
    query: dict[str, str],
    status: int,
    body: bytes,
    content_type: str = "application/json",
) -> list[str]:
    return check_exchange(
        version,
        method,
        path,
        query=query,
        status=status,
        content_type=content_type,
        body=body,
    )


@pytest.mark.parametrize("version", ["1.41", "1.56"])
def test_accepts_good_exchanges(version: str) -> None:
    prefix = f"/v{version}"
    assert (
        _check(
            version, "GET", f"{prefix}/containers/json", {"all": "1"}, 200, _summary()
        )
        == []
    )
    assert _check(version, "GET", "/_ping", {}, 200, b"OK", "text/plain") == []
    assert (
        _check(version, "POST", f"{prefix}/containers/web/start", {}, 304, b"", "")
        == []
    )
    assert (
        _check(
            version, "POST", f"{prefix}/containers/web/stop", {"t": "10"}, 204, b"", ""
        )
        == []
    )
    error = json.dumps({"message": "No such container: x"}).encode()
    assert _check(version, "GET", f"{prefix}/containers/x/json", {}, 404, error) == []
    stats_query = {"stream": "false", "one-shot": "true"}
    assert (
        _check(version, "GET", f"{prefix}/containers/x/stats", stats_query, 200, b"{}")
        == []
    )


def test_catches_bad_response() -> None:
    problems = _check(
        "1.56",
        "GET",
        "/v1.56/containers/json",
        {"all": "1"},
        200,
        _summary(Id="short", State="sleeping"),
    )
    assert any("/0/Id" in p for p in problems)
    assert any("'sleeping' is not one of" in p for p in problems)
    # 1.41 declares neither the Id pattern nor the State enum.
    assert (
        _check(
            "1.41",
            "GET",
            "/v1.41/containers/json",
            {},
            200,
            _summary(Id="short", State="sleeping"),
        )
        == []
    )
    assert _check("1.56", "GET", "/containers/x/json", {}, 404, b'{"msg": "x"}') == [
        "GET /containers/x/json: 404 body at /: 'message' is a required property"
    ]
    assert _check("1.56", "GET", "/info", {}, 200, b"{not json") == [
        "GET /info: 200 body is not JSON"
    ]
    assert _check("1.56", "GET", "/info", {}, 200, b"<html>", "text/html") == [
        "GET /info: 200 body is text/html, not JSON"
    ]


def test_catches_undeclared_status_and_path() -> None:
    assert _check(
        "1.56", "POST", "/v1.56/containers/x/start", {}, 409, b'{"message": "x"}'
    ) == [
        "POST /v1.56/containers/x/start: status 409 is not declared ([204, 304, 400, 404, 500])"
    ]
    assert _check("1.56", "GET", "/v1.56/containers/x/bogus", {}, 404, b"") == [
        "GET /v1.56/containers/x/bogus: no such operation in Docker API 1.56"
    ]


def test_catches_bad_query() -> None:
    assert _check("1.56", "GET", "/containers/json", {"all": "yes"}, 200, b"[]") == [
        "GET /containers/json: query all='yes' is not a boolean"
    ]
    assert _check(
        "1.56", "POST", "/containers/x/stop", {"t": "soon"}, 204, b"", ""
    ) == ["POST /containers/x/stop: query t='soon' is not an integer"]
    assert _check(
        "1.56", "GET", "/containers/json", {"everything": "1"}, 200, b"[]"
    ) == ["GET /containers/json: query parameter 'everything' is not in the spec"]
    # `signal` on stop exists since 1.42: the 1.41 contract refuses it.
    assert _check(
        "1.41", "POST", "/containers/x/stop", {"signal": "SIGINT"}, 204, b"", ""
    )
    assert not _check(
        "1.56", "POST", "/containers/x/stop", {"signal": "SIGINT"}, 204, b"", ""
    )


def test_enum_query_parameter() -> None:
    contract = contract_for("1.56")
    op = contract.find("GET", "/containers/json")
    assert op is not None
    op.params["fake"] = {"name": "fake", "in": "query", "type": "string", "enum": ["a"]}
    try:
        assert contract.check_request("GET", "/containers/json", {"fake": "b"}) == [
            "GET /containers/json: query fake='b' is not one of ['a']"
        ]
    finally:
        del op.params["fake"]


def test_x_nullable_and_versions() -> None:
    assert to_json_schema({"type": "string", "x-nullable": True, "example": "x"}) == {
        "type": ["string", "null"]
    }
    assert to_json_schema({"$ref": "#/definitions/A", "x-nullable": True}) == {
        "anyOf": [{"$ref": "#/definitions/A"}, {"type": "null"}]
    }
    assert to_json_schema({"type": "string", "enum": ["a"], "x-nullable": True}) == {
        "type": ["string", "null"],
        "enum": ["a", None],
    }
    # Property names that look like Swagger keywords are kept.
    assert to_json_schema({"properties": {"format": {"type": "string"}}}) == {
        "properties": {"format": {"type": "string"}}
    }
    assert spec_version_for("1.30") == (1, 41)
    assert spec_version_for("1.47") == (1, 41)
    assert spec_version_for("1.60") == (1, 56)
    assert strip_version("/v1.41/containers/json") == "/containers/json"
    assert strip_version("/_ping") == "/_ping"
    # Loaded once per process.
    assert contract_for("1.56") is contract_for("1.57")
    # Nullable fields accept null (ExecIDs is x-nullable in inspect).
    inspect = json.dumps({"Id": GOOD_ID, "ExecIDs": None}).encode()
    assert _check("1.41", "GET", "/containers/x/json", {}, 200, inspect) == []
    bad = json.dumps({"Id": GOOD_ID, "RestartCount": None}).encode()
    assert _check("1.41", "GET", "/containers/x/json", {}, 200, bad)


@pytest.mark.parametrize("version", ["1.41", "1.56"])
def test_stop_grace_and_pause_requests(version: str) -> None:
    """What a `docker stop`-like stop, a restart and pause/unpause send, and the
    inspect body they read the container's own stop timeout from."""
    prefix = f"/v{version}"
    for action, query, status in (
        ("stop", {}, 204),  # no `t`: the container's own stop timeout
        ("stop", {"t": "2"}, 204),
        ("stop", {}, 304),
        ("restart", {}, 204),
        ("restart", {"t": "0"}, 204),
        ("pause", {}, 204),
        ("unpause", {}, 204),
    ):
        assert (
            _check(
                version,
                "POST",
                f"{prefix}/containers/web/{action}",
                query,
                status,
                b"",
                "",
            )
            == []
        ), action
    for stop_timeout in (2, None):
        inspect = json.dumps(
            {"Id": GOOD_ID, "Config": {"Image": "busybox", "StopTimeout": stop_timeout}}
        ).encode()
        assert (
            _check(version, "GET", f"{prefix}/containers/web/json", {}, 200, inspect)
            == []
        )
    bad = json.dumps({"Id": GOOD_ID, "Config": {"StopTimeout": "10s"}}).encode()
    assert _check(version, "GET", f"{prefix}/containers/web/json", {}, 200, bad)
    # Pausing a stopped container: the engine answers 409 (errdefs.Conflict),
    # which its own API description does not declare.
    assert _check(
        version,
        "POST",
        f"{prefix}/containers/web/pause",
        {},
        409,
        b'{"message": "Container web is not running"}',
    )
