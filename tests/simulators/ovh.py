"""A stateful fake of the OVHcloud API (`/1.0/auth`, `/1.0/me`, `/1.0/vps`), over HTTPS.

It checks what OVH checks: application key, consumer key (unknown, pending,
refused, expired), timestamp (more than 180 s from the server clock is refused),
signature, and the credential's access rules, answering with OVH's error codes and
messages. VPSes run a task state machine: an action creates a `vps.Task` (todo ->
doing -> done/error) that takes `task_duration` seconds; a second action while one
runs gets 409; a reboot with netboot mode `rescue` ends in state `rescued`.

Knobs for tests:
    OvhSimulator(vps_count=3, task_duration=0.05, task_start_delay=0.01, clock_skew=0,
                 auto_validate_after=None, response_delay=0.0)
    (a task is "todo" for task_start_delay, then "doing" until task_duration)
    sim.application_key / application_secret / consumer_key (a validated key)
    sim.add_credential(rules=..., state="validated") -> consumer key
    sim.validate_credential(ck), sim.refuse_credential(ck), sim.expire_credential(ck)
    sim.clock_skew = 600                 server clock ahead of ours by 600 s
    sim.rate_limit(count, retry_after)   next `count` requests answer 429
    sim.inject_error(status, error_code, message, count=1, path_contains="")
    sim.fail_next_task(service)          the next task of that VPS ends in "error"
    sim.vps[service].expired = True      460 on its calls
    sim.vps[service].monitoring_status = 404   deprecated /use and /monitoring gone
    sim.vps[service].snapshot_option / automated_backup / snapshot / state / ...
    sim.forget_task(service, task_id)    OVH purging a finished task
    VPS manager (stateful, per VPS): sim.vps[sn].backup_schedule, restore_point_states
    (point -> restoring/restored), attached (mounted points), backup_storage (None:
    no option) with storage_acl / authorizable_blocks / storage_acl_limit, disks,
    secondary_dns, migration (None: 404), upgrades, monitoring_step (seconds
    between monitoring points)

Standalone (demo): `python -m tests.simulators.ovh --port 8443` prints the values to
enter in the wizard; a consumer key requested there is validated by opening its
validation URL (a page answering "WakeHub access granted") or automatically after
a few seconds.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
from dataclasses import dataclass, field
import datetime as dt
import fnmatch
import hashlib
import itertools
import json
import random
import re
import secrets
import string
import time
from typing import Any, ClassVar

from aiohttp import web

from tests.contract.ovh import check_exchange
from tests.simulators.base import HttpSimulator

API = "/1.0"
TIME_TOLERANCE = 180
IMAGES = {
    "4d2f2b7e-5a1c-4a7e-9a51-1c3bd1b2c001": "Debian 12",
    "4d2f2b7e-5a1c-4a7e-9a51-1c3bd1b2c002": "Ubuntu 24.04",
    "4d2f2b7e-5a1c-4a7e-9a51-1c3bd1b2c003": "AlmaLinux 9",
}
MODELS = [
    ("VPS Elite 2025", "VPS Elite", 8, 24576, 400),
    ("VPS Comfort 2025", "VPS Comfort", 4, 12288, 200),
    ("VPS Value 2025", "VPS Value", 2, 4096, 80),
]
DATACENTERS = [
    ("gra", "Gravelines", "fr"),
    ("sbg", "Strasbourg", "fr"),
    ("bhs", "Beauharnois", "ca"),
]
ALL_RULES = [{"method": m, "path": "/*"} for m in ("GET", "POST", "PUT", "DELETE")]
TASK_STATES_DURING = {
    "startVm": None,
    "stopVm": "stopping",
    "rebootVm": "rebooting",
    "reinstallVm": "installing",
    "revertSnapshot": "installing",
    "createSnapshot": None,
    "deleteSnapshot": None,
    "changeRootPassword": None,
    "restoreFullVeeamBackup": "installing",
}
SECONDARY_NS = {"hostname": "sdns2.ovh.net", "ip": "213.251.188.141", "ipv6": None}
# Units the monitoring answers in, and a plausible level per metric.
MONITORING = {
    "cpu:used": ("%", 12.0),
    "cpu:max": ("%", 100.0),
    "mem:used": ("MB", 1843.0),
    "mem:max": ("MB", 4096.0),
    "net:rx": ("bytes/s", 5120.0),
    "net:tx": ("bytes/s", 2048.0),
}
# Parameter segments of the manager's paths, as the route table names them.
_PARAM_ROUTES = (
    (re.compile(r"^/disks/\d+(/use|/monitoring)?$"), r"/disks/{id}\1"),
    (re.compile(r"^/backupftp/access/.+$"), "/backupftp/access/{ipBlock}"),
    (re.compile(r"^/secondaryDnsDomains/[^/]+$"), "/secondaryDnsDomains/{domain}"),
)


def ovh_error(status: int, message: str, error_code: str | None = None) -> web.Response:
    """OVH's error body; `httpCode` mirrors the status line as OVH does."""
    body: dict[str, Any] = {"message": message}
    if error_code:
        body["errorCode"] = error_code
        body["httpCode"] = f"{status} {_reason(status)}"
    return web.json_response(body, status=status)


def _reason(status: int) -> str:
    return {
        400: "Bad Request",
        401: "Unauthorized",
        403: "Forbidden",
        404: "Not Found",
        409: "Conflict",
        429: "Too Many Requests",
        460: "Service Expired",
    }.get(status, "Error")


def _now_iso() -> str:
    return dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()


def _rule_matches(rule: dict[str, str], method: str, path: str) -> bool:
    return rule["method"] == method and fnmatch.fnmatchcase(path, rule["path"])


@dataclass
class Credential:
    consumer_key: str
    application_key: str
    rules: list[dict[str, str]]
    state: str = "pendingValidation"
    token: str = field(default_factory=lambda: secrets.token_hex(16))
    credential_id: int = field(default_factory=lambda: random.randint(100000, 999999))
    creation: str = field(default_factory=_now_iso)


@dataclass
class SimVps:
    """One VPS: what `GET /vps/{sn}` and the sub-resources answer."""

    name: str
    display_name: str
    model: tuple[str, str, int, int, int]
    datacenter: tuple[str, str, str]
    state: str = "running"
    netboot_mode: str = "local"
    ipv4: str = "51.68.0.10"
    ipv6: str = "2001:41d0:304:200::10"
    image_id: str = "4d2f2b7e-5a1c-4a7e-9a51-1c3bd1b2c001"
    snapshot_option: bool = True
    snapshot: dict[str, Any] | None = None
    automated_backup: str | None = "enabled"  # None: option not subscribed
    restore_points: list[str] = field(default_factory=list)
    expiration: str = "2026-12-31"
    expired: bool = False
    monitoring_status: int = 200
    tasks: dict[int, dict[str, Any]] = field(default_factory=dict)
    fail_next: bool = False
    # -- the VPS manager --
    backup_schedule: str = "03:00:00"
    restore_point_states: dict[str, str] = field(default_factory=dict)
    attached: list[str] = field(default_factory=list)
    backup_storage: dict[str, Any] | None = None
    storage_acl: dict[str, dict[str, Any]] = field(default_factory=dict)
    authorizable_blocks: list[str] = field(default_factory=list)
    storage_acl_limit: int = 4
    disks: list[dict[str, Any]] = field(default_factory=list)
    secondary_dns: dict[str, dict[str, Any]] = field(default_factory=dict)
    migration: dict[str, Any] | None = None
    upgrades: list[dict[str, Any]] = field(default_factory=list)
    monitoring_step: int = 300

    def running_task(self) -> dict[str, Any] | None:
        for task in self.tasks.values():
            if task["state"] in {"todo", "doing"}:
                return task
        return None

    def describe(self) -> dict[str, Any]:
        name, offer, vcore, memory, disk = self.model
        return {
            "name": self.name,
            "displayName": self.display_name,
            "state": self.state,
            "netbootMode": self.netboot_mode,
            "zone": f"Region OpenStack: os-{self.datacenter[0]}7",
            "zoneType": "region",
            "cluster": f"{self.datacenter[0]}-cluster-3",
            "vcore": vcore,
            "memoryLimit": memory,
            "offerType": "ssd",
            "keymap": None,
            "slaMonitoring": False,
            "monitoringIpBlocks": ["92.222.184.0/24"],
            "model": {
                "name": name,
                "offer": offer,
                "vcore": vcore,
                "memory": memory,
                "disk": disk,
                "version": "2019v1",
                "datacenter": [d[0] for d in DATACENTERS],
                "maximumAdditionnalIp": 16,
                "availableOptions": ["snapshot", "automatedBackup", "additionalDisk"],
            },
            "iam": {
                "id": "6a2b3c4d-0000-4000-8000-00000000abcd",
                "urn": f"urn:v1:eu:resource:vps:{self.name}",
                "displayName": self.display_name,
                "tags": None,
            },
        }


class OvhSimulator(HttpSimulator):
    """OVH API simulator (see the module docstring for the knobs)."""

    def __init__(
        self,
        *,
        vps_count: int = 3,
        task_duration: float = 0.05,
        task_start_delay: float = 0.01,
        clock_skew: int = 0,
        auto_validate_after: float | None = None,
        response_delay: float = 0.0,
        seed: int = 42,
        verbose: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.task_duration = task_duration
        self.task_start_delay = task_start_delay
        self.clock_skew = clock_skew
        self.auto_validate_after = auto_validate_after
        self.response_delay = response_delay
        self.verbose = verbose
        self.application_key = "7kbG7Bk7S9Nt7ZSV"
        self.application_secret = "EXEgWIz07P0HYwtQDs7cNIqCiQaWSuHF"
        self.applications = {self.application_key: self.application_secret}
        self.credentials: dict[str, Credential] = {}
        # A fixed, already validated key so the demo's wizard values never change.
        self.consumer_key = self.add_credential(
            rules=ALL_RULES,
            state="validated",
            consumer_key="MtSwSrPpNjqfVSmJhLbPyr2i45lSg8WE",
        )
        self.nichandle = "ab12345-ovh"
        self.vps: dict[str, SimVps] = {}
        self._task_ids = itertools.count(48151623)
        self._rate_limited = 0
        self._retry_after = 1.0
        self._injected: list[dict[str, Any]] = []
        self._timers: list[asyncio.TimerHandle] = []
        rng = random.Random(seed)
        for index in range(vps_count):
            name = f"vps-{rng.getrandbits(32):08x}.vps.ovh.net"
            self.vps[name] = SimVps(
                name=name,
                display_name=["web", "db", "mail", "ci"][index % 4]
                + (f"-{index}" if index >= 4 else ""),
                model=MODELS[index % len(MODELS)],
                datacenter=DATACENTERS[index % 2],
                state="stopped" if index == 1 else "running",
                ipv4=f"51.68.{index // 250}.{index % 250 + 2}",
                ipv6=f"2001:41d0:304:200::{index + 1:x}",
                snapshot_option=index != 2,
                automated_backup="enabled" if index == 0 else None,
                restore_points=[
                    "2026-01-26T03:00:00+00:00",
                    "2026-01-27T03:00:00+00:00",
                ],
            )
            self._add_manager_state(self.vps[name], index)

    def _add_manager_state(self, vps: SimVps, index: int) -> None:
        """Backup storage on web, a migration offer on db, disks and upgrades on all."""
        size = vps.model[4]
        vps.disks = [
            {
                "id": 10 * index + 1,
                "size": size,
                "type": "primary",
                "state": "connected",
                "used_mb": size * 1000 * (0.35 + 0.2 * index),
                "max_mb": size * 1000.0,
            }
        ]
        vps.authorizable_blocks = [f"{vps.ipv4}/32", "203.0.113.0/24"]
        if index == 0:
            vps.backup_storage = {
                "ftpBackupName": f"ftpback-{vps.datacenter[0]}7-{index + 101}.ovh.net",
                "type": "ftpbackup",
                "quota": {"unit": "GB", "value": 100},
                "usage": {"unit": "GB", "value": 12},
                "readOnlyDate": None,
            }
            vps.secondary_dns["example.org"] = {
                "domain": "example.org",
                "dns": SECONDARY_NS["hostname"],
                "ipMaster": vps.ipv4,
                "creationDate": "2026-01-02T10:00:00+00:00",
            }
        if index == 1:
            vps.migration = {
                "status": "available",
                "date": None,
                "datacenter": vps.datacenter[0].upper(),
                "plans": [
                    {
                        "currentPlan": "vps-ssd-2",
                        "newPlan": "vps-2020-value-1",
                        "product": "VPS Value 2020",
                        "options": [],
                    }
                ],
            }
        vps.upgrades = [self._model(MODELS[i]) for i in range(MODELS.index(vps.model))]

    @staticmethod
    def _model(model: tuple[str, str, int, int, int]) -> dict[str, Any]:
        name, offer, vcore, memory, disk = model
        return {
            "name": name,
            "offer": offer,
            "vcore": vcore,
            "memory": memory,
            "disk": disk,
            "version": "2019v1",
            "datacenter": [d[0] for d in DATACENTERS],
            "maximumAdditionnalIp": 16,
            "availableOptions": ["snapshot", "automatedBackup", "additionalDisk"],
        }

    # -- knobs -----------------------------------------------------------------------
    def add_credential(
        self,
        *,
        rules: list[dict[str, str]] | None = None,
        state: str = "pendingValidation",
        consumer_key: str | None = None,
    ) -> str:
        ck = consumer_key or "".join(
            secrets.choice(string.ascii_letters + string.digits) for _ in range(32)
        )
        self.credentials[ck] = Credential(
            ck, self.application_key, rules or ALL_RULES, state
        )
        return ck

    def validate_credential(self, consumer_key: str) -> None:
        self.credentials[consumer_key].state = "validated"

    def refuse_credential(self, consumer_key: str) -> None:
        self.credentials[consumer_key].state = "refused"

    def expire_credential(self, consumer_key: str) -> None:
        self.credentials[consumer_key].state = "expired"

    def rate_limit(self, count: int, retry_after: float = 1.0) -> None:
        self._rate_limited = count
        self._retry_after = retry_after

    def inject_error(
        self,
        status: int,
        error_code: str | None,
        message: str,
        *,
        count: int = 1,
        path_contains: str = "",
    ) -> None:
        self._injected.append(
            {
                "status": status,
                "code": error_code,
                "message": message,
                "count": count,
                "path": path_contains,
            }
        )

    def fail_next_task(self, service: str) -> None:
        self.vps[service].fail_next = True

    def forget_task(self, service: str, task_id: int) -> None:
        self.vps[service].tasks.pop(task_id, None)

    def server_time(self) -> int:
        return int(time.time()) + self.clock_skew

    # -- contract --------------------------------------------------------------------
    def check_contract(
        self, request: web.Request, body: bytes, response: web.StreamResponse
    ) -> list[str]:
        if request.path.startswith("/auth/"):  # the simulator's own validation page
            return []
        answer = response.body if isinstance(response, web.Response) else b""
        if not isinstance(answer, bytes):
            answer = b""
        return check_exchange(
            request.method,
            # As sent: an IP block's "/" travels as %2F inside one path segment.
            request.raw_path.split("?", 1)[0],
            request.query_string,
            body,
            response.status,
            answer,
        )

    # -- routing ---------------------------------------------------------------------
    def setup_routes(self, app: web.Application) -> None:
        app.router.add_get("/auth/", self._validation_page)
        app.router.add_route("*", API + "/{tail:.*}", self._dispatch)

    async def start(self) -> None:
        self.quiet_refused_handshakes()
        await super().start()

    async def stop(self) -> None:
        for timer in self._timers:
            timer.cancel()
        await super().stop()
        self.restore_loop_handler()

    async def _dispatch(self, request: web.Request) -> web.Response:  # noqa: PLR0911 - OVH checks in order
        if self.response_delay:
            await asyncio.sleep(self.response_delay)
        path = request.path[len(API) :]
        body = await request.read()
        if self._rate_limited > 0:
            self._rate_limited -= 1
            response = ovh_error(
                429, "Too many requests, slow down", "TOO_MANY_REQUESTS"
            )
            response.headers["Retry-After"] = f"{self._retry_after:g}"
            return response
        for injected in self._injected:
            if injected["count"] > 0 and injected["path"] in path:
                injected["count"] -= 1
                return ovh_error(
                    injected["status"], injected["message"], injected["code"]
                )
        if path == "/auth/time" and request.method == "GET":
            return web.json_response(self.server_time())
        if path == "/auth/credential" and request.method == "POST":
            return self._request_credential(request, body)
        denied, credential = self._authenticate(request, path, body)
        if denied is not None:
            return denied
        assert credential is not None
        if path == "/auth/currentCredential" and request.method == "GET":
            return web.json_response(self._credential_json(credential))
        if credential.state != "validated":
            return ovh_error(403, "This credential is not valid", "INVALID_CREDENTIAL")
        if not any(_rule_matches(r, request.method, path) for r in credential.rules):
            return ovh_error(403, "This call has not been granted", "NOT_GRANTED_CALL")
        if path == "/me" and request.method == "GET":
            return web.json_response(
                {
                    "nichandle": self.nichandle,
                    "email": "owner@example.com",
                    "firstname": "Ada",
                    "name": "Lovelace",
                }
            )
        if path.startswith("/vps"):
            return self._vps(request.method, path, request.query, body)
        return ovh_error(
            404, f"Got an invalid (or empty) URL: {path}", "CLIENT_INVALID_URL"
        )

    # -- authentication --------------------------------------------------------------
    def _authenticate(  # noqa: PLR0911 - one answer per OVH auth check
        self, request: web.Request, path: str, body: bytes
    ) -> tuple[web.Response | None, Credential | None]:
        headers = request.headers
        application_key = headers.get("X-Ovh-Application")
        if application_key is None:
            return ovh_error(403, "Missing application key", "INVALID_KEY"), None
        secret = self.applications.get(application_key)
        if secret is None:
            return ovh_error(403, "Invalid application key", "INVALID_KEY"), None
        consumer_key = headers.get("X-Ovh-Consumer")
        if not consumer_key:
            return ovh_error(401, "You must login first", "NOT_AUTHENTICATED"), None
        try:
            timestamp = int(headers.get("X-Ovh-Timestamp", ""))
        except ValueError:
            return ovh_error(400, "Invalid timestamp", "INVALID_TIMESTAMP"), None
        if abs(timestamp - self.server_time()) > TIME_TOLERANCE:
            return ovh_error(400, "Query out of time", "QUERY_TIME_OUT"), None
        credential = self.credentials.get(consumer_key)
        if credential is None or credential.application_key != application_key:
            return ovh_error(
                403, "This credential does not exist", "NOT_CREDENTIAL"
            ), None
        full_url = f"{request.scheme}://{request.host}{request.raw_path}"
        expected = (
            "$1$"
            + hashlib.sha1(
                "+".join(
                    [
                        secret,
                        consumer_key,
                        request.method,
                        full_url,
                        body.decode(),
                        str(timestamp),
                    ]
                ).encode(),
                usedforsecurity=False,
            ).hexdigest()
        )
        if headers.get("X-Ovh-Signature") != expected:
            return ovh_error(400, "Invalid signature", "INVALID_SIGNATURE"), None
        return None, credential

    def _request_credential(self, request: web.Request, body: bytes) -> web.Response:
        application_key = request.headers.get("X-Ovh-Application")
        if application_key not in self.applications:
            return ovh_error(403, "Invalid application key", "INVALID_KEY")
        try:
            params = json.loads(body)
            rules = [
                {"method": r["method"], "path": r["path"]}
                for r in params["accessRules"]
            ]
        except ValueError, KeyError, TypeError:
            return ovh_error(
                400, "Invalid JSON body: accessRules expected", "INVALID_BODY"
            )
        ck = self.add_credential(rules=rules)
        credential = self.credentials[ck]
        validation_url = f"{self.url}/auth/?credentialToken={credential.token}"
        if self.auto_validate_after is not None:
            loop = asyncio.get_running_loop()
            self._timers.append(
                loop.call_later(self.auto_validate_after, self._auto_validate, ck)
            )
        if self.verbose:
            print(
                f"[ovh-sim] consumer key requested; validate at {validation_url}",
                flush=True,
            )
        return web.json_response(
            {
                "consumerKey": ck,
                "state": "pendingValidation",
                "validationUrl": validation_url,
            }
        )

    def _auto_validate(self, consumer_key: str) -> None:
        if self.credentials[consumer_key].state == "pendingValidation":
            self.validate_credential(consumer_key)
            if self.verbose:
                print("[ovh-sim] consumer key validated automatically", flush=True)

    async def _validation_page(self, request: web.Request) -> web.Response:
        token = request.query.get("credentialToken", "")
        for credential in self.credentials.values():
            if credential.token == token:
                if credential.state == "pendingValidation":
                    credential.state = "validated"
                return web.Response(
                    text="<html><body><h1>WakeHub access granted</h1>"
                    "<p>You can go back to Home Assistant.</p></body></html>",
                    content_type="text/html",
                )
        return web.Response(status=404, text="unknown credential token")

    def _credential_json(self, credential: Credential) -> dict[str, Any]:
        return {
            "credentialId": credential.credential_id,
            "applicationId": 4242,
            "creation": credential.creation,
            "expiration": None,
            "lastUse": _now_iso(),
            "ovhSupport": False,
            "allowedIPs": None,
            "rules": credential.rules,
            "status": credential.state,
        }

    # -- /vps ------------------------------------------------------------------------
    def _vps(self, method: str, path: str, query: Any, body: bytes) -> web.Response:
        if path == "/vps" and method == "GET":
            return web.json_response(sorted(self.vps))
        match = re.match(r"^/vps/([^/]+)(/.*)?$", path)
        if match is None:
            return ovh_error(
                404, f"Got an invalid (or empty) URL: {path}", "CLIENT_INVALID_URL"
            )
        name, sub = match.group(1), match.group(2) or ""
        vps = self.vps.get(name)
        if vps is None:
            return ovh_error(
                404, f"The requested object (serviceName = {name}) does not exist"
            )
        if vps.expired and sub != "/serviceInfos":
            return ovh_error(460, f"The service {name} is expired; renew it to use it")
        payload: Any = json.loads(body) if body else None
        route = sub
        for pattern, template in _PARAM_ROUTES:
            if pattern.match(sub):
                route = pattern.sub(template, sub)
                break
        else:
            route = re.sub(r"/\d+$", "/{id}", sub)
        handler = self._VPS_ROUTES.get((method, route))
        if handler is None and sub.startswith("/images/available/"):
            handler = OvhSimulator._image
        if handler is None:
            return ovh_error(
                404, f"Got an invalid (or empty) URL: {path}", "CLIENT_INVALID_URL"
            )
        return handler(self, vps, sub, query, payload)

    def _get(self, vps: SimVps, sub: str, query: Any, payload: Any) -> web.Response:
        return web.json_response(vps.describe())

    def _put(self, vps: SimVps, sub: str, query: Any, payload: Any) -> web.Response:
        if not isinstance(payload, dict):
            return ovh_error(400, "Invalid body")
        if "netbootMode" in payload:
            if payload["netbootMode"] not in {"local", "rescue"}:
                return ovh_error(400, "Invalid netbootMode")
            vps.netboot_mode = payload["netbootMode"]
        if "displayName" in payload:
            vps.display_name = payload["displayName"]
        return web.Response(status=200)

    def _tasks(self, vps: SimVps, sub: str, query: Any, payload: Any) -> web.Response:
        ids = [
            task_id
            for task_id, task in vps.tasks.items()
            if query.get("state") in {None, task["state"]}
            and query.get("type") in {None, task["type"]}
        ]
        return web.json_response(ids)

    def _task(self, vps: SimVps, sub: str, query: Any, payload: Any) -> web.Response:
        task = vps.tasks.get(int(sub.rsplit("/", 1)[1]))
        if task is None:
            return ovh_error(
                404,
                f"The requested object (id = {sub.rsplit('/', 1)[1]}) does not exist",
            )
        return web.json_response(task)

    def _start_task(
        self, vps: SimVps, task_type: str, on_done: Any = None
    ) -> web.Response:
        if vps.running_task() is not None:
            return ovh_error(
                409, "A task is already pending on this VPS, wait for it to finish"
            )
        task_id = next(self._task_ids)
        task = {
            "id": task_id,
            "date": _now_iso(),
            "progress": 0,
            "state": "todo",
            "type": task_type,
        }
        vps.tasks[task_id] = task
        fail, vps.fail_next = vps.fail_next, False

        def begin() -> None:
            task["state"] = "doing"
            task["progress"] = 10
            during = TASK_STATES_DURING.get(task_type)
            if during and not fail:
                vps.state = during

        def finish() -> None:
            if fail:
                task["state"] = "error"
                return
            task["state"] = "done"
            task["progress"] = 100
            if on_done is not None:
                on_done()

        for delay, step in (
            (min(self.task_start_delay, self.task_duration / 2), begin),
            (self.task_duration, finish),
        ):
            if (handle := self.later(delay, step)) is not None:
                self._timers.append(handle)
        return web.json_response(dict(task))

    def _booted_state(self, vps: SimVps) -> str:
        return "rescued" if vps.netboot_mode == "rescue" else "running"

    def _start(self, vps: SimVps, sub: str, query: Any, payload: Any) -> web.Response:
        return self._start_task(
            vps, "startVm", lambda: setattr(vps, "state", self._booted_state(vps))
        )

    def _stop(self, vps: SimVps, sub: str, query: Any, payload: Any) -> web.Response:
        return self._start_task(vps, "stopVm", lambda: setattr(vps, "state", "stopped"))

    def _reboot(self, vps: SimVps, sub: str, query: Any, payload: Any) -> web.Response:
        return self._start_task(
            vps, "rebootVm", lambda: setattr(vps, "state", self._booted_state(vps))
        )

    def _create_snapshot(
        self, vps: SimVps, sub: str, query: Any, payload: Any
    ) -> web.Response:
        if not vps.snapshot_option:
            return ovh_error(400, "The snapshot option is not enabled on this VPS")
        if vps.snapshot is not None:
            return ovh_error(409, "A snapshot already exists for this VPS")
        description = (payload or {}).get("description", "")

        def done() -> None:
            vps.snapshot = {
                "id": secrets.token_hex(8),
                "creationDate": _now_iso(),
                "description": description,
                "region": vps.datacenter[0].upper() + "1",
            }

        return self._start_task(vps, "createSnapshot", done)

    def _snapshot(
        self, vps: SimVps, sub: str, query: Any, payload: Any
    ) -> web.Response:
        if vps.snapshot is None:
            return ovh_error(
                404, f"The requested object (serviceName = {vps.name}) does not exist"
            )
        return web.json_response(vps.snapshot)

    def _delete_snapshot(
        self, vps: SimVps, sub: str, query: Any, payload: Any
    ) -> web.Response:
        if vps.snapshot is None:
            return self._snapshot(vps, sub, query, payload)
        return self._start_task(
            vps, "deleteSnapshot", lambda: setattr(vps, "snapshot", None)
        )

    def _revert(self, vps: SimVps, sub: str, query: Any, payload: Any) -> web.Response:
        if vps.snapshot is None:
            return self._snapshot(vps, sub, query, payload)
        return self._start_task(
            vps, "revertSnapshot", lambda: setattr(vps, "state", "running")
        )

    def _download(
        self, vps: SimVps, sub: str, query: Any, payload: Any
    ) -> web.Response:
        if vps.snapshot is None:
            return self._snapshot(vps, sub, query, payload)
        expires = self.server_time() + 86400
        return web.json_response(
            {
                "url": f"https://storage.{vps.datacenter[0]}.cloud.ovh.net/v1/AUTH_5e1b/snapshots/"
                f"{vps.snapshot['id']}.qcow2?temp_url_sig={secrets.token_hex(20)}&temp_url_expires={expires}",
                "size": 12_884_901_888,
            }
        )

    def _console(self, vps: SimVps, sub: str, query: Any, payload: Any) -> web.Response:
        return web.json_response(
            f"https://compute.{vps.datacenter[0]}7.cloud.ovh.net/vnc_auto.html?token={secrets.token_hex(16)}"
        )

    def _images(self, vps: SimVps, sub: str, query: Any, payload: Any) -> web.Response:
        return web.json_response(sorted(IMAGES))

    def _image(self, vps: SimVps, sub: str, query: Any, payload: Any) -> web.Response:
        image_id = sub.rsplit("/", 1)[1]
        if image_id not in IMAGES:
            return ovh_error(
                404, f"The requested object (id = {image_id}) does not exist"
            )
        return web.json_response({"id": image_id, "name": IMAGES[image_id]})

    def _current_image(
        self, vps: SimVps, sub: str, query: Any, payload: Any
    ) -> web.Response:
        return web.json_response({"id": vps.image_id, "name": IMAGES[vps.image_id]})

    def _rebuild(self, vps: SimVps, sub: str, query: Any, payload: Any) -> web.Response:
        image_id = (payload or {}).get("imageId")
        if image_id not in IMAGES:
            return ovh_error(400, f"Image {image_id} is not available for this VPS")
        if payload.get("doNotSendPassword") and not (
            payload.get("sshKey") or payload.get("publicSshKey")
        ):
            return ovh_error(400, "doNotSendPassword requires an SSH key")

        def done() -> None:
            vps.image_id = image_id
            vps.state = "running"
            vps.netboot_mode = "local"

        return self._start_task(vps, "reinstallVm", done)

    def _set_password(
        self, vps: SimVps, sub: str, query: Any, payload: Any
    ) -> web.Response:
        return self._start_task(vps, "changeRootPassword")

    def _service_infos(
        self, vps: SimVps, sub: str, query: Any, payload: Any
    ) -> web.Response:
        return web.json_response(
            {
                "status": "expired" if vps.expired else "ok",
                "expiration": vps.expiration,
                "creation": "2025-02-01",
                "engagedUpTo": None,
                "domain": vps.name,
                "serviceId": 120000000 + len(vps.name),
                "contactAdmin": self.nichandle,
                "contactBilling": self.nichandle,
                "contactTech": self.nichandle,
                "canDeleteAtExpiration": True,
                "possibleRenewPeriod": [1, 3, 6, 12],
                "renewalType": "automaticV2016",
                "renew": {
                    "automatic": True,
                    "deleteAtExpiration": False,
                    "forced": False,
                    "manualPayment": False,
                    "period": 1,
                },
            }
        )

    def _ips(self, vps: SimVps, sub: str, query: Any, payload: Any) -> web.Response:
        return web.json_response([vps.ipv4, vps.ipv6])

    def _datacenter(
        self, vps: SimVps, sub: str, query: Any, payload: Any
    ) -> web.Response:
        name, long_name, country = vps.datacenter
        return web.json_response(
            {"name": name, "longName": long_name, "country": country}
        )

    def _distribution(
        self, vps: SimVps, sub: str, query: Any, payload: Any
    ) -> web.Response:
        return web.json_response(
            {
                "id": 1401,
                "name": IMAGES[vps.image_id],
                "distribution": "debian",
                "bitFormat": 64,
                "locale": "en",
                "availableLanguage": ["en"],
            }
        )

    def _backup(self, vps: SimVps, sub: str, query: Any, payload: Any) -> web.Response:
        if vps.automated_backup is None:
            return ovh_error(
                404, f"The requested object (serviceName = {vps.name}) does not exist"
            )
        return web.json_response(
            {"state": vps.automated_backup, "schedule": vps.backup_schedule}
        )

    def _restore_points(
        self, vps: SimVps, sub: str, query: Any, payload: Any
    ) -> web.Response:
        if vps.automated_backup is None:
            return self._backup(vps, sub, query, payload)
        wanted = query.get("state")
        return web.json_response(
            [
                point
                for point in vps.restore_points
                if vps.restore_point_states.get(point, "available") == wanted
            ]
        )

    # -- automated backup ------------------------------------------------------------
    def _backup_refusal(self, vps: SimVps, sub: str) -> web.Response | None:
        if vps.automated_backup is None:
            return self._backup(vps, sub, {}, None)
        if vps.automated_backup != "enabled":
            return ovh_error(
                400, "The automated backup option is not enabled on this VPS"
            )
        return None

    def _restore(self, vps: SimVps, sub: str, query: Any, payload: Any) -> web.Response:
        if (refused := self._backup_refusal(vps, sub)) is not None:
            return refused
        point, kind = payload.get("restorePoint"), payload.get("type")
        if point not in vps.restore_points:
            return ovh_error(404, f"The restore point {point} does not exist")
        if vps.restore_point_states.get(point, "available") != "available":
            return ovh_error(400, f"The restore point {point} is already restored")
        task_type = "restoreVeeamBackup" if kind == "file" else "restoreFullVeeamBackup"

        def done() -> None:
            if kind == "file":
                vps.restore_point_states[point] = "restored"
                vps.attached.append(point)
            else:
                vps.state = "running"

        response = self._start_task(vps, task_type, done)
        if response.status == 200:
            vps.restore_point_states[point] = "restoring"
        return response

    def _reschedule(
        self, vps: SimVps, sub: str, query: Any, payload: Any
    ) -> web.Response:
        if (refused := self._backup_refusal(vps, sub)) is not None:
            return refused
        schedule = payload["schedule"]
        if not re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d:[0-5]\d", schedule):
            return ovh_error(400, f"Invalid time {schedule}")
        return self._start_task(
            vps,
            "rescheduleAutoBackup",
            lambda: setattr(vps, "backup_schedule", schedule),
        )

    def _attached(
        self, vps: SimVps, sub: str, query: Any, payload: Any
    ) -> web.Response:
        if (refused := self._backup_refusal(vps, sub)) is not None:
            return refused
        host = f"{vps.datacenter[0]}-veeam.ovh.net"
        return web.json_response(
            [
                {
                    "restorePoint": point,
                    "access": {
                        "nfs": f"{host}:/export/{vps.name}/{point[:10]}",
                        "smb": f"\\\\{host}\\{vps.name}-{point[:10]}",
                        "additionalDisk": None,
                    },
                }
                for point in vps.attached
            ]
        )

    def _detach(self, vps: SimVps, sub: str, query: Any, payload: Any) -> web.Response:
        if (refused := self._backup_refusal(vps, sub)) is not None:
            return refused
        point = payload.get("restorePoint")
        if point not in vps.attached:
            return ovh_error(404, f"No backup of {point} is attached to this VPS")

        def done() -> None:
            vps.attached.remove(point)
            vps.restore_point_states.pop(point, None)

        return self._start_task(vps, "removeVeeamBackup", done)

    # -- backup storage --------------------------------------------------------------
    def _storage_task(self, function: str) -> web.Response:
        return web.json_response(
            {
                "taskId": next(self._task_ids),
                "function": function,
                "status": "todo",
                "comment": None,
                "startDate": _now_iso(),
                "doneDate": None,
                "lastUpdate": _now_iso(),
                "needSchedule": False,
                "note": None,
                "plannedInterventionId": None,
                "tags": None,
                "ticketReference": None,
            }
        )

    def _no_storage(self, vps: SimVps) -> web.Response:
        return ovh_error(
            404, f"The requested object (serviceName = {vps.name}) does not exist"
        )

    def _storage(self, vps: SimVps, sub: str, query: Any, payload: Any) -> web.Response:
        if vps.backup_storage is None:
            return self._no_storage(vps)
        return web.json_response(vps.backup_storage)

    def _storage_password(
        self, vps: SimVps, sub: str, query: Any, payload: Any
    ) -> web.Response:
        if vps.backup_storage is None:
            return self._no_storage(vps)
        return self._storage_task("changePasswordBackupFTP")

    def _storage_acl(
        self, vps: SimVps, sub: str, query: Any, payload: Any
    ) -> web.Response:
        if vps.backup_storage is None:
            return self._no_storage(vps)
        return web.json_response(sorted(vps.storage_acl))

    def _storage_acl_add(
        self, vps: SimVps, sub: str, query: Any, payload: Any
    ) -> web.Response:
        if vps.backup_storage is None:
            return self._no_storage(vps)
        block = payload["ipBlock"]
        if block not in vps.authorizable_blocks:
            return ovh_error(400, f"The IP block {block} cannot be authorized")
        if block in vps.storage_acl:
            return ovh_error(400, f"An access for {block} already exists")
        if len(vps.storage_acl) >= vps.storage_acl_limit:
            return ovh_error(
                400, "You have reached the maximum number of IP blocks allowed"
            )
        vps.storage_acl[block] = {
            "ipBlock": block,
            "ftp": bool(payload.get("ftp", True)),
            "cifs": bool(payload["cifs"]),
            "nfs": bool(payload["nfs"]),
            "isApplied": True,
            "lastUpdate": _now_iso(),
        }
        return self._storage_task("applyBackupFtpAcls")

    def _storage_block(self, vps: SimVps, sub: str) -> str:
        return sub.removeprefix("/backupftp/access/")

    def _storage_acl_get(
        self, vps: SimVps, sub: str, query: Any, payload: Any
    ) -> web.Response:
        acl = vps.storage_acl.get(self._storage_block(vps, sub))
        if vps.backup_storage is None or acl is None:
            return self._no_storage(vps)
        return web.json_response(acl)

    def _storage_acl_delete(
        self, vps: SimVps, sub: str, query: Any, payload: Any
    ) -> web.Response:
        block = self._storage_block(vps, sub)
        if vps.backup_storage is None or block not in vps.storage_acl:
            return self._no_storage(vps)
        del vps.storage_acl[block]
        return self._storage_task("applyBackupFtpAcls")

    def _authorizable(
        self, vps: SimVps, sub: str, query: Any, payload: Any
    ) -> web.Response:
        if vps.backup_storage is None:
            return self._no_storage(vps)
        return web.json_response(vps.authorizable_blocks)

    # -- disks -----------------------------------------------------------------------
    def _disk_of(self, vps: SimVps, sub: str) -> dict[str, Any] | None:
        disk_id = int(sub.split("/")[2])
        return next((d for d in vps.disks if d["id"] == disk_id), None)

    def _disks(self, vps: SimVps, sub: str, query: Any, payload: Any) -> web.Response:
        return web.json_response([d["id"] for d in vps.disks])

    def _disk(self, vps: SimVps, sub: str, query: Any, payload: Any) -> web.Response:
        disk = self._disk_of(vps, sub)
        if disk is None:
            return self._no_storage(vps)
        return web.json_response(
            {
                "id": disk["id"],
                "size": disk["size"],
                "type": disk["type"],
                "state": disk["state"],
                "bandwidthLimit": 500,
                "lowFreeSpaceThreshold": None,
                "monitoring": True,
                "serviceName": None,
            }
        )

    def _disk_use(
        self, vps: SimVps, sub: str, query: Any, payload: Any
    ) -> web.Response:
        disk = self._disk_of(vps, sub)
        if disk is None:
            return self._no_storage(vps)
        if vps.monitoring_status != 200:
            return ovh_error(vps.monitoring_status, "Disk statistics are unavailable")
        key = "used_mb" if query.get("type") == "used" else "max_mb"
        return web.json_response({"unit": "MB", "value": float(disk[key])})

    # -- secondary DNS ---------------------------------------------------------------
    def _dns_list(
        self, vps: SimVps, sub: str, query: Any, payload: Any
    ) -> web.Response:
        return web.json_response(sorted(vps.secondary_dns))

    def _dns_add(self, vps: SimVps, sub: str, query: Any, payload: Any) -> web.Response:
        domain = payload["domain"]
        if not re.fullmatch(r"[a-z0-9-]+(\.[a-z0-9-]+)+", domain):
            return ovh_error(400, f"{domain} is not a valid domain name")
        if domain in vps.secondary_dns:
            return ovh_error(400, f"The domain {domain} is already declared")
        vps.secondary_dns[domain] = {
            "domain": domain,
            "dns": SECONDARY_NS["hostname"],
            "ipMaster": payload.get("ip") or vps.ipv4,
            "creationDate": _now_iso(),
        }
        return web.Response(status=200)

    def _dns_domain(self, vps: SimVps, sub: str) -> dict[str, Any] | None:
        return vps.secondary_dns.get(sub.removeprefix("/secondaryDnsDomains/"))

    def _dns_get(self, vps: SimVps, sub: str, query: Any, payload: Any) -> web.Response:
        domain = self._dns_domain(vps, sub)
        return web.json_response(domain) if domain else self._no_storage(vps)

    def _dns_delete(
        self, vps: SimVps, sub: str, query: Any, payload: Any
    ) -> web.Response:
        domain = self._dns_domain(vps, sub)
        if domain is None:
            return self._no_storage(vps)
        del vps.secondary_dns[domain["domain"]]
        return web.Response(status=200)

    def _name_server(
        self, vps: SimVps, sub: str, query: Any, payload: Any
    ) -> web.Response:
        return web.json_response(SECONDARY_NS)

    # -- offers ----------------------------------------------------------------------
    def _migration(
        self, vps: SimVps, sub: str, query: Any, payload: Any
    ) -> web.Response:
        if vps.migration is None:
            return ovh_error(404, "This VPS is not eligible to a migration")
        return web.json_response(vps.migration)

    def _upgrades(
        self, vps: SimVps, sub: str, query: Any, payload: Any
    ) -> web.Response:
        return web.json_response(vps.upgrades)

    def _use(self, vps: SimVps, sub: str, query: Any, payload: Any) -> web.Response:
        if vps.monitoring_status != 200:
            return ovh_error(
                vps.monitoring_status, "This call is deprecated and no longer available"
            )
        units = {
            "cpu:used": ("%", 12.5),
            "mem:used": ("MB", 1843.0),
            "net:rx": ("bytes/s", 5120.0),
            "net:tx": ("bytes/s", 2048.0),
        }
        unit, value = units.get(query.get("type", ""), ("", 0.0))
        if vps.state != "running":
            value = 0.0
        return web.json_response({"unit": unit, "value": value})

    def _monitoring(
        self, vps: SimVps, sub: str, query: Any, payload: Any
    ) -> web.Response:
        if vps.monitoring_status != 200:
            return ovh_error(
                vps.monitoring_status, "This call is deprecated and no longer available"
            )
        step = vps.monitoring_step
        last = self.server_time() // step * step
        unit, level = MONITORING.get(query.get("type", ""), ("", 0.0))
        if vps.state != "running" and query.get("type") not in {"cpu:max", "mem:max"}:
            level = 0.0
        values: list[dict[str, Any]] = [
            {"timestamp": last - step * i, "value": level + i} for i in range(4, 0, -1)
        ]
        # The point in progress has no value yet, as OVH's own series end.
        values.append({"timestamp": last, "value": None})
        return web.json_response({"unit": unit, "values": values})

    _VPS_ROUTES: ClassVar[dict[tuple[str, str], Any]] = {
        ("GET", ""): _get,
        ("PUT", ""): _put,
        ("GET", "/tasks"): _tasks,
        ("GET", "/tasks/{id}"): _task,
        ("POST", "/start"): _start,
        ("POST", "/stop"): _stop,
        ("POST", "/reboot"): _reboot,
        ("POST", "/createSnapshot"): _create_snapshot,
        ("GET", "/snapshot"): _snapshot,
        ("DELETE", "/snapshot"): _delete_snapshot,
        ("POST", "/snapshot/revert"): _revert,
        ("GET", "/snapshot/download"): _download,
        ("POST", "/getConsoleUrl"): _console,
        ("GET", "/images/available"): _images,
        ("GET", "/images/current"): _current_image,
        ("POST", "/rebuild"): _rebuild,
        ("POST", "/setPassword"): _set_password,
        ("GET", "/serviceInfos"): _service_infos,
        ("GET", "/ips"): _ips,
        ("GET", "/datacenter"): _datacenter,
        ("GET", "/distribution"): _distribution,
        ("GET", "/automatedBackup"): _backup,
        ("GET", "/automatedBackup/restorePoints"): _restore_points,
        ("GET", "/use"): _use,
        ("GET", "/monitoring"): _monitoring,
        ("POST", "/automatedBackup/restore"): _restore,
        ("POST", "/automatedBackup/reschedule"): _reschedule,
        ("GET", "/automatedBackup/attachedBackup"): _attached,
        ("POST", "/automatedBackup/detachBackup"): _detach,
        ("GET", "/backupftp"): _storage,
        ("POST", "/backupftp/password"): _storage_password,
        ("GET", "/backupftp/access"): _storage_acl,
        ("POST", "/backupftp/access"): _storage_acl_add,
        ("GET", "/backupftp/access/{ipBlock}"): _storage_acl_get,
        ("DELETE", "/backupftp/access/{ipBlock}"): _storage_acl_delete,
        ("GET", "/backupftp/authorizableBlocks"): _authorizable,
        ("GET", "/disks"): _disks,
        ("GET", "/disks/{id}"): _disk,
        ("GET", "/disks/{id}/use"): _disk_use,
        ("GET", "/secondaryDnsDomains"): _dns_list,
        ("POST", "/secondaryDnsDomains"): _dns_add,
        ("GET", "/secondaryDnsDomains/{domain}"): _dns_get,
        ("DELETE", "/secondaryDnsDomains/{domain}"): _dns_delete,
        ("GET", "/secondaryDnsNameServerAvailable"): _name_server,
        ("GET", "/migration2018"): _migration,
        ("GET", "/availableUpgrade"): _upgrades,
    }


async def _serve(port: int, vps_count: int) -> None:
    sim = OvhSimulator(
        port=port,
        vps_count=vps_count,
        task_duration=8.0,
        task_start_delay=0.5,
        auto_validate_after=5.0,
        response_delay=0.08,
        verbose=True,
    )
    await sim.start()
    assert sim.certificate is not None
    fingerprint = hashlib.sha256(sim.certificate.der).hexdigest().upper()
    print(
        "OVHcloud simulator ready. In Home Assistant: Add integration > WakeHub > OVH"
    )
    print(f"  endpoint:           {sim.url}/1.0")
    print(f"  application_key:    {sim.application_key}")
    print(f"  application_secret: {sim.application_secret}")
    print(f"  consumer_key:       {sim.consumer_key}  (or leave empty to request one)")
    print(
        "  certificate SHA-256: "
        + ":".join(fingerprint[i : i + 2] for i in range(0, 64, 2))
    )
    print(f"  VPSes: {', '.join(sim.vps)}", flush=True)
    try:
        await asyncio.Event().wait()
    finally:
        await sim.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description="OVHcloud API simulator for WakeHub")
    parser.add_argument("--port", type=int, default=8443)
    parser.add_argument("--vps", type=int, default=3, help="number of VPSes")
    args = parser.parse_args()
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(args.port, args.vps))


if __name__ == "__main__":
    main()
