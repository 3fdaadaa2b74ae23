"""The Proxmox VE contract validator is not vacuous: it refuses what Proxmox would."""

from __future__ import annotations

import pytest

from tests.contract import spec_path
from tests.contract.pve import SPEC_NAME, PveSpec, load_spec, to_json_schema


@pytest.fixture(scope="module")
def spec() -> PveSpec:
    return load_spec(spec_path(SPEC_NAME))


def test_spec_loaded_once() -> None:
    path = spec_path(SPEC_NAME)
    assert load_spec(path) is load_spec(path)


def test_endpoint_lookup(spec: PveSpec) -> None:
    found = spec.find("/nodes/pve1/qemu/100/status/start")
    assert found is not None
    endpoint, params = found
    assert endpoint.template == "/nodes/{node}/qemu/{vmid}/status/start"
    assert params == {"node": "pve1", "vmid": "100"}
    literal = spec.find("/nodes/pve1/qemu")
    assert literal is not None
    assert literal[0].template == "/nodes/{node}/qemu"
    assert spec.find("/nodes/pve1/bogus/thing/x/y/z") is None


def test_unknown_endpoint_and_method(spec: PveSpec) -> None:
    assert spec.validate_request("GET", "/no/such/path", {}) == [
        "GET /no/such/path: no such endpoint in the Proxmox API"
    ]
    problems = spec.validate_request("POST", "/nodes/pve1/lxc/100/status/reset", {})
    assert problems
    assert "no such endpoint" in problems[0]
    problems = spec.validate_response("DELETE", "/cluster/resources", None)
    assert problems
    assert "has no DELETE method" in problems[0]


def test_good_requests(spec: PveSpec) -> None:
    assert spec.validate_request("GET", "/cluster/resources", {"type": "vm"}) == []
    assert spec.validate_request("GET", "/cluster/resources", {}) == []
    assert (
        spec.validate_request(
            "POST",
            "/nodes/pve1/qemu/100/snapshot",
            {"snapname": "before_update-2", "description": "x", "vmstate": "1"},
        )
        == []
    )
    assert (
        spec.validate_request(
            "POST", "/access/ticket", {"username": "root@pam", "password": "p"}
        )
        == []
    )
    assert (
        spec.validate_request(
            "GET", "/nodes/pve1/tasks", {"typefilter": "vzdump", "limit": "1"}
        )
        == []
    )


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/nodes/pve1/qemu/100/status/suspend", {"todisk": "1"}),  # hibernate
        ("/nodes/pve1/qemu/100/status/suspend", {}),  # pause
        (
            "/nodes/pve1/qemu/100/status/suspend",
            {"todisk": "1", "statestorage": "local-lvm"},
        ),
        ("/nodes/pve1/qemu/100/status/resume", {}),
        ("/nodes/pve1/qemu/100/status/start", {}),  # also wakes a hibernated VM
        ("/nodes/pve1/lxc/102/status/suspend", {}),
    ],
)
def test_good_suspend_and_resume_requests(
    spec: PveSpec, path: str, params: dict[str, str]
) -> None:
    assert spec.validate_request("POST", path, params) == []
    assert (
        spec.validate_response("POST", path, "UPID:pve1:1:2:3:qmsuspend:100:x:") == []
    )


@pytest.mark.parametrize(
    ("method", "path", "params", "why"),
    [
        ("GET", "/cluster/resources", {"type": "vms"}, "is not one of"),
        ("GET", "/cluster/resources", {"kind": "vm"}, "Additional properties"),
        ("POST", "/nodes/pve1/qemu/100/snapshot", {}, "'snapname' is a required"),
        (
            "POST",
            "/nodes/pve1/qemu/100/snapshot",
            {"snapname": "1bad"},
            "does not match",
        ),
        ("POST", "/nodes/pve1/qemu/100/snapshot", {"snapname": "a" * 41}, "too long"),
        (
            "POST",
            "/nodes/pve1/qemu/100/snapshot",
            {"snapname": "ok-name", "vmstate": "maybe"},
            "vmstate",
        ),
        (
            "POST",
            "/nodes/pve1/lxc/100/snapshot",
            {"snapname": "ab", "vmstate": "1"},
            "vmstate",
        ),
        ("POST", "/nodes/pve1/qemu/42/status/start", {}, "less than the minimum"),
        (
            "POST",
            "/nodes/pve1/qemu/100/status/suspend",
            {"todisk": "maybe"},
            "todisk",
        ),
        (
            "POST",
            "/nodes/pve1/qemu/100/status/suspend",
            {"statestorage": "local"},
            "'todisk' is a dependency of 'statestorage'",
        ),
        (
            "POST",
            "/nodes/pve1/lxc/102/status/suspend",
            {"todisk": "1"},
            "Additional properties",
        ),
        ("POST", "/nodes/pve1/qemu/100/status/resume", {"todisk": "1"}, "Additional"),
        ("POST", "/nodes/pve1/qemu/abc/status/start", {}, "is not of type 'integer'"),
        (
            "POST",
            "/access/ticket",
            {"username": "root@pam"},
            "'password' is a required",
        ),
    ],
)
def test_bad_requests(
    spec: PveSpec, method: str, path: str, params: dict[str, str], why: str
) -> None:
    problems = spec.validate_request(method, path, params)
    assert problems, f"{method} {path} {params} should be refused"
    assert any(why in p for p in problems), problems


def test_good_responses(spec: PveSpec) -> None:
    resources = [
        {"id": "node/pve1", "type": "node", "node": "pve1", "status": "online"},
        {
            "id": "qemu/100",
            "type": "qemu",
            "vmid": 100,
            "node": "pve1",
            "status": "running",
            "template": 0,
            "cpu": 0.05,
            "mem": "1024",  # Proxmox's Perl side sometimes sends numbers as text
        },
    ]
    assert spec.validate_response("GET", "/cluster/resources", resources) == []
    task = {
        "upid": "UPID:pve1:1:2:3:qmstart:100:root@pam:",
        "node": "pve1",
        "pid": 1,
        "pstart": 2,
        "starttime": 3,
        "type": "qmstart",
        "id": "100",
        "user": "root@pam",
        "status": "stopped",
        "exitstatus": "OK",
    }
    assert spec.validate_response("GET", "/nodes/pve1/tasks/x/status", task) == []
    assert (
        spec.validate_response("POST", "/nodes/pve1/qemu/100/status/start", "UPID:x")
        == []
    )
    assert spec.validate_response("GET", "/access/ticket", None) == []
    snapshot = [{"name": "a", "description": "", "vmstate": True, "snaptime": 1}]
    assert (
        spec.validate_response("GET", "/nodes/pve1/qemu/100/snapshot", snapshot) == []
    )


@pytest.mark.parametrize(
    ("path", "data", "why"),
    [
        ("/cluster/resources", [{"type": "qemu", "vmid": 100}], "'id' is a required"),
        ("/cluster/resources", [{"id": "x", "type": "vm"}], "is not one of"),
        ("/cluster/resources", [{"id": "x", "type": "qemu", "vmid": 7}], "vmid"),
        ("/cluster/resources", [{"id": "x", "type": "qemu", "cpu": "lots"}], "cpu"),
        (
            "/cluster/resources",
            [{"id": "x", "type": "qemu", "colour": "red"}],
            "Additional",
        ),
        ("/cluster/resources", {"id": "x"}, "is not of type 'array'"),
        ("/nodes/pve1/tasks/x/status", {"status": "done"}, "is not one of"),
        ("/nodes/pve1/qemu", [{"vmid": 100, "status": "paused"}], "is not one of"),
        ("/nodes/pve1/qemu/100/snapshot", [{"name": "a", "vmstate": 2}], "description"),
        (
            "/nodes/pve1/qemu/100/status/current",
            {"status": "running", "vmid": 100},
            "'ha'",
        ),
        ("/version", {"version": "9", "release": "9.1", "repoid": "xyz"}, "repoid"),
    ],
)
def test_bad_responses(spec: PveSpec, path: str, data: object, why: str) -> None:
    problems = spec.validate_response("GET", path, data)
    assert problems, f"GET {path} {data} should be refused"
    assert any(why in p for p in problems), problems


def test_post_upid_must_be_a_string(spec: PveSpec) -> None:
    assert spec.validate_response(
        "POST", "/nodes/pve1/qemu/100/status/stop", {"upid": 1}
    )


def test_schema_translation() -> None:
    schema = to_json_schema(
        {
            "type": "object",
            "properties": {
                "a": {"type": "boolean", "optional": 1, "typetext": "<boolean>"},
                "b": {"type": "string", "pattern": "(?^:x+)"},
                "c": {"type": "any"},
                "d": {"type": "object", "additionalProperties": {"type": "integer"}},
            },
            "additionalProperties": 1,
        },
        response=True,
    )
    assert schema["required"] == ["b", "c", "d"]
    assert schema["additionalProperties"] is True
    assert schema["properties"]["b"] == {"type": "string", "pattern": "^(?:(?:x+))$"}
    assert schema["properties"]["c"] == {}
    assert schema["properties"]["d"]["additionalProperties"]["anyOf"]
    assert to_json_schema("not a schema", response=False) == {}
    assert to_json_schema({"type": "number"}, response=False) == {"type": "number"}
    both = to_json_schema(
        {"type": "string", "pattern": "[a-z]+", "format": "pve-configid"},
        response=False,
    )
    assert len(both["allOf"]) == 2


def test_node_power_requests(spec: PveSpec) -> None:
    """A node's own shutdown and reboot, and its Wake-on-LAN sent by a peer."""
    for command in ("shutdown", "reboot"):
        assert (
            spec.validate_request("POST", "/nodes/pve1/status", {"command": command})
            == []
        )
    assert spec.validate_response("POST", "/nodes/pve1/status", None) == []
    assert spec.validate_request("POST", "/nodes/pve2/wakeonlan", {}) == []
    assert (
        spec.validate_response("POST", "/nodes/pve2/wakeonlan", "52:54:00:00:00:02")
        == []
    )


@pytest.mark.parametrize(
    ("path", "params", "why"),
    [
        ("/nodes/pve1/status", {}, "'command' is a required"),
        ("/nodes/pve1/status", {"command": "halt"}, "is not one of"),
        ("/nodes/pve1/status", {"command": "reboot", "force": "1"}, "Additional"),
        ("/nodes/pve2/wakeonlan", {"mac": "52:54:00:00:00:02"}, "Additional"),
        ("/nodes/-pve2/wakeonlan", {}, "does not match"),
    ],
)
def test_bad_node_power_requests(
    spec: PveSpec, path: str, params: dict[str, str], why: str
) -> None:
    problems = spec.validate_request("POST", path, params)
    assert any(why in p for p in problems), problems


def test_node_power_answers(spec: PveSpec) -> None:
    assert spec.validate_response("POST", "/nodes/pve1/status", "UPID:x")
    assert spec.validate_response("POST", "/nodes/pve2/wakeonlan", 7)
