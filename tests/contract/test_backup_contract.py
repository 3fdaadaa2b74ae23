"""The backup requests WakeHub sends, held against Proxmox's API tree."""

from __future__ import annotations

import pytest

from tests.contract import spec_path
from tests.contract.pve import SPEC_NAME, PveSpec, load_spec


@pytest.fixture
def spec() -> PveSpec:
    return load_spec(spec_path(SPEC_NAME))


@pytest.mark.parametrize(
    "params",
    [
        {"vmid": "100", "storage": "local", "mode": "snapshot"},
        {"vmid": "102", "storage": "pbs", "mode": "stop", "compress": "0"},
        {"vmid": "100", "storage": "local", "mode": "suspend", "compress": "zstd"},
    ],
)
def test_vzdump_requests(spec: PveSpec, params: dict[str, str]) -> None:
    assert spec.validate_request("POST", "/nodes/pve1/vzdump", params) == []


@pytest.mark.parametrize(
    ("params", "why"),
    [
        ({"vmid": "100", "mode": "hibernate"}, "is not one of"),
        ({"vmid": "100", "compress": "bzip2"}, "is not one of"),
        ({"vmid": "100", "compression": "zstd"}, "Additional properties"),
    ],
)
def test_vzdump_bad_requests(spec: PveSpec, params: dict[str, str], why: str) -> None:
    problems = spec.validate_request("POST", "/nodes/pve1/vzdump", params)
    assert any(why in p for p in problems), problems


def test_vzdump_answers_a_upid(spec: PveSpec) -> None:
    upid = "UPID:pve1:00001A2C:00000001:6750A1B2:vzdump:100:root@pam!wakehub:"
    assert spec.validate_response("POST", "/nodes/pve1/vzdump", upid) == []
    assert spec.validate_response("POST", "/nodes/pve1/vzdump", 1)


def test_last_backup_request(spec: PveSpec) -> None:
    params = {
        "typefilter": "vzdump",
        "vmid": "100",
        "statusfilter": "ok,warning",
        "limit": "1",
    }
    assert spec.validate_request("GET", "/nodes/pve1/tasks", params) == []
    problems = spec.validate_request("GET", "/nodes/pve1/tasks", {"vmid": "42"})
    assert any("less than the minimum" in p for p in problems), problems
    task = {
        "upid": "UPID:pve1:00001A2C:00000001:6750A1B2:vzdump:100:root@pam!wakehub:",
        "node": "pve1",
        "pid": 6700,
        "pstart": 1,
        "starttime": 1733337522,
        "endtime": 1733337600,
        "type": "vzdump",
        "id": "100",
        "user": "root@pam!wakehub",
        "status": "OK",
    }
    assert spec.validate_response("GET", "/nodes/pve1/tasks", [task]) == []
