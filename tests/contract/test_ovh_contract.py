"""The OVH contract validator is not vacuous: it accepts good exchanges, refuses bad ones."""

from __future__ import annotations

import json

from tests.contract import ovh as contract


def _j(value: object) -> bytes:
    return json.dumps(value).encode()


TASK = {
    "id": 1,
    "date": "2026-01-27T10:00:00+00:00",
    "progress": 0,
    "state": "todo",
    "type": "rebootVm",
}


def test_good_vps_exchanges_pass() -> None:
    assert (
        contract.check_exchange(
            "GET", "/1.0/vps", "", b"", 200, _j(["vps-1.vps.ovh.net"])
        )
        == []
    )
    assert (
        contract.check_exchange("POST", "/1.0/vps/vps-1/reboot", "", b"", 200, _j(TASK))
        == []
    )
    assert (
        contract.check_exchange(
            "GET", "/1.0/vps/vps-1/tasks", "state=doing", b"", 200, _j([1, 2])
        )
        == []
    )
    assert (
        contract.check_exchange(
            "PUT", "/1.0/vps/vps-1", "", _j({"netbootMode": "rescue"}), 200, b""
        )
        == []
    )
    assert (
        contract.check_exchange(
            "GET",
            "/1.0/vps/vps-1/use",
            "type=cpu%3Aused",
            b"",
            200,
            _j({"unit": "%", "value": 1.5}),
        )
        == []
    )


def test_bad_vps_exchanges_fail() -> None:
    def bad(*args: object) -> list[str]:
        problems = contract.check_exchange(*args)  # type: ignore[arg-type]
        assert problems, f"accepted: {args}"
        return problems

    bad("GET", "/1.0/vps/vps-1/nonsense", "", b"", 200, b"{}")  # unknown operation
    bad("PATCH", "/1.0/vps/vps-1", "", b"", 200, b"{}")  # unknown method
    bad(
        "POST", "/1.0/vps/vps-1/reboot", "", b"", 200, _j({**TASK, "state": "running"})
    )  # enum
    bad("POST", "/1.0/vps/vps-1/reboot", "", b"", 200, _j({**TASK, "id": "1"}))  # type
    bad(
        "POST", "/1.0/vps/vps-1/reboot", "", b"", 200, _j({**TASK, "typo": 1})
    )  # closed object
    bad("POST", "/1.0/vps/vps-1/reboot", "", b"{}", 200, _j(TASK))  # body where none
    bad(
        "PUT", "/1.0/vps/vps-1", "", _j({"netbootMode": "network"}), 200, b""
    )  # body enum
    bad("PUT", "/1.0/vps/vps-1", "", b"not json", 200, b"")
    bad("PUT", "/1.0/vps/vps-1", "", b"", 200, b"")  # required body missing
    bad(
        "POST", "/1.0/vps/vps-1/rebuild", "", _j({"sshKey": "k"}), 200, _j(TASK)
    )  # imageId required
    bad("GET", "/1.0/vps/vps-1/tasks", "state=running", b"", 200, _j([]))  # query enum
    bad("GET", "/1.0/vps/vps-1/tasks", "limit=3", b"", 200, _j([]))  # unknown query
    bad(
        "GET", "/1.0/vps/vps-1/use", "", b"", 200, _j({"unit": "%", "value": 1})
    )  # required query
    bad("GET", "/1.0/vps/vps-1/tasks/abc", "", b"", 200, _j(TASK))  # path param type
    bad("GET", "/1.0/vps/vps-1", "", b"", 200, b"<html>")  # not JSON
    bad("GET", "/1.0/vps/vps-1", "", b"", 200, _j({"state": "on"}))
    bad(
        "PUT", "/1.0/vps/vps-1", "", _j({"displayName": "x"}), 200, b"{}"
    )  # body not declared
    bad("GET", "/1.0/vps/vps-1", "", b"", 404, b"oops")  # error not JSON
    bad("GET", "/1.0/vps/vps-1", "", b"", 404, _j({"error": "x"}))  # no message
    bad("GET", "/1.0/vps/vps-1", "", b"", 404, _j({"message": "x", "errorCode": 4}))
    bad("GET", "/2.0/vps", "", b"", 200, b"[]")
    bad("GET", "/1.0/dedicated/server", "", b"", 200, b"[]")


def test_nullable_is_accepted() -> None:
    vps = {"name": "vps-1", "displayName": None, "keymap": None, "state": "running"}
    assert contract.check_exchange("GET", "/1.0/vps/vps-1", "", b"", 200, _j(vps)) == []


def test_auth_exchanges() -> None:
    rules = [{"method": "GET", "path": "/vps"}]
    good_request = _j({"accessRules": rules})
    answer = {
        "consumerKey": "ck",
        "state": "pendingValidation",
        "validationUrl": "https://x",
    }
    assert (
        contract.check_exchange(
            "POST", "/1.0/auth/credential", "", good_request, 200, _j(answer)
        )
        == []
    )
    assert (
        contract.check_exchange("GET", "/1.0/auth/time", "", b"", 200, b"1700000000")
        == []
    )
    assert (
        contract.check_exchange("GET", "/1.0/auth/time", "", b"", 200, b'"now"') != []
    )
    assert contract.check_exchange("GET", "/1.0/auth/time", "", b"", 200, b"<") != []
    assert (
        contract.check_exchange(
            "POST", "/1.0/auth/credential", "", _j({"rules": rules}), 200, _j(answer)
        )
        != []
    )
    assert (
        contract.check_exchange(
            "POST", "/1.0/auth/credential", "", b"", 200, _j(answer)
        )
        != []
    )
    assert (
        contract.check_exchange(
            "POST", "/1.0/auth/credential", "", b"{", 200, _j(answer)
        )
        != []
    )
    bad_rule = _j({"accessRules": [{"method": "PATCH", "path": "/vps"}]})
    assert (
        contract.check_exchange(
            "POST", "/1.0/auth/credential", "", bad_rule, 200, _j(answer)
        )
        != []
    )
    assert (
        contract.check_exchange(
            "POST",
            "/1.0/auth/credential",
            "",
            good_request,
            200,
            _j({**answer, "state": "ok"}),
        )
        != []
    )
    assert contract.check_exchange("GET", "/1.0/auth/time", "", b"{}", 200, b"1") != []
    assert contract.check_exchange("GET", "/1.0/auth/nothing", "", b"", 200, b"1") != []
    assert contract.check_exchange("POST", "/1.0/auth/logout", "", b"", 200, b"") == []
    credential = {
        "status": "validated",
        "rules": rules,
        "expiration": None,
        "allowedIPs": None,
    }
    assert (
        contract.check_exchange(
            "GET", "/1.0/auth/currentCredential", "", b"", 200, _j(credential)
        )
        == []
    )
    assert (
        contract.check_exchange(
            "GET", "/1.0/auth/currentCredential", "", b"", 200, _j({"status": "nope"})
        )
        != []
    )
    assert (
        contract.check_exchange(
            "GET",
            "/1.0/auth/currentCredential",
            "",
            b"",
            403,
            _j({"message": "x", "errorCode": "INVALID_CREDENTIAL"}),
        )
        == []
    )


def test_me() -> None:
    assert (
        contract.check_exchange(
            "GET", "/1.0/me", "", b"", 200, _j({"nichandle": "ab1-ovh"})
        )
        == []
    )
    assert (
        contract.check_exchange("GET", "/1.0/me", "", b"", 200, _j({"name": "x"})) != []
    )
    assert contract.check_exchange("GET", "/1.0/me", "", b"", 200, b"x") != []
    assert contract.check_exchange("PUT", "/1.0/me", "", b"", 200, b"{}") != []
    assert (
        contract.check_exchange("GET", "/1.0/me", "", b"", 403, _j({"message": "no"}))
        == []
    )


def test_schemas_loaded_once() -> None:
    assert contract.vps_spec() is contract.vps_spec()
    assert contract.auth_spec() is contract.auth_spec()
    assert contract.find_vps_operation("GET", "/vps/datacenter") is not None
    found = contract.find_vps_operation("GET", "/vps/datacenter")
    assert found is not None
    assert found[0] == "/vps/datacenter"


def test_vps_manager_exchanges() -> None:
    """The VPS manager's calls: an IP block travels percent-encoded in its path."""
    storage_task = {"taskId": 1, "function": "applyBackupFtpAcls", "status": "todo"}
    assert (
        contract.check_exchange(
            "DELETE",
            "/1.0/vps/vps-1/backupftp/access/192.0.2.0%2F24",
            "",
            b"",
            200,
            _j(storage_task),
        )
        == []
    )
    assert (
        contract.check_exchange(
            "POST",
            "/1.0/vps/vps-1/automatedBackup/restore",
            "",
            _j({"restorePoint": "2026-01-27T03:00:00+00:00", "type": "file"}),
            200,
            _j(TASK),
        )
        == []
    )
    assert (
        contract.check_exchange(
            "GET",
            "/1.0/vps/vps-1/monitoring",
            "period=today&type=cpu%3Aused",
            b"",
            200,
            _j({"unit": "%", "values": [{"timestamp": 1, "value": None}]}),
        )
        == []
    )
    # A restore type OVH does not know, a missing ACL protocol, an unknown period.
    assert contract.check_exchange(
        "POST",
        "/1.0/vps/vps-1/automatedBackup/restore",
        "",
        _j({"restorePoint": "2026-01-27T03:00:00+00:00", "type": "partial"}),
        200,
        _j(TASK),
    )
    assert contract.check_exchange(
        "POST",
        "/1.0/vps/vps-1/backupftp/access",
        "",
        _j({"ipBlock": "192.0.2.0/24", "ftp": True}),
        200,
        _j(storage_task),
    )
    assert contract.check_exchange(
        "GET",
        "/1.0/vps/vps-1/monitoring",
        "period=forever&type=cpu%3Aused",
        b"",
        200,
        _j({"unit": "%", "values": []}),
    )
    # The specification's migration2020 is not in OVH's API.
    assert contract.check_exchange(
        "GET", "/1.0/vps/vps-1/migration2020", "", b"", 200, b"{}"
    )
