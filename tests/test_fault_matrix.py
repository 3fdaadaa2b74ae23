"""Every kind of server against every way a server fails, then recovers.

For each kind (machine, proxmox, docker, ovh) and each fault the simulators can
inject over real sockets (timeout, HTTP 500, connection reset, malformed body,
401, 403, server gone, certificate changed):

- the resource's reading goes unavailable within one poll cycle;
- where credentials apply (Proxmox, OVH) a 401/403 starts reauthentication,
  and nowhere else;
- a changed certificate raises a repair issue;
- once the fault clears, the reading is back within one poll cycle;
- no WakeHub log record at ERROR level carries a traceback (Home Assistant's
  "Unexpected error fetching ..." is one).

Combinations that cannot happen are skipped with their reason.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta
import json
import logging
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import SOURCE_REAUTH
from homeassistant.const import STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_time_changed,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.wakehub.api.tls import format_fingerprint
from custom_components.wakehub.const import CONF_TIMEOUT, DOMAIN
from custom_components.wakehub.kinds.docker.const import POLL_TIMEOUT
from custom_components.wakehub.kinds.proxmox.const import REQUEST_TIMEOUT
from tests.conftest import machine_data
from tests.docker.conftest import docker_entry_for, populate
from tests.ovh.conftest import ovh_data, vps_subentries
from tests.proxmox.conftest import guest_subentries, pve_data
from tests.simulators.base import HttpSimulator, SelfSignedCertificate
from tests.simulators.docker import DockerSimulator
from tests.simulators.machine import LINUX_METRICS_OUTPUT, MachineSimulator
from tests.simulators.ovh import OvhSimulator
from tests.simulators.proxmox import ProxmoxSimulator
from tests.test_machine_entities import repairs_client, start_fix_flow

FAULTS = (
    "timeout",
    "http_500",
    "connection_reset",
    "malformed_body",
    "http_401",
    "http_403",
    "server_gone",
    "certificate_changed",
)
KINDS = ("machine", "proxmox", "docker", "ovh")
# Seconds the OVH client waits for an answer (OvhClient's default).
OVH_REQUEST_TIMEOUT = 30

SKIPPED: dict[tuple[str, str], str] = {
    ("machine", "http_500"): "a machine is probed over TCP and read over SSH: no HTTP",
    ("machine", "http_403"): "SSH refuses a login one way (covered by http_401)",
    ("machine", "certificate_changed"): (
        "a machine has no TLS certificate; its pinned SSH host key changing is "
        "tests/test_machine_entities.py::test_changed_host_key_raises_a_repair_and_is_fixed"
    ),
}


# The same failure reads the same, whatever the kind (action_errors.update_failed).
POLL_ERROR_KEYS = {
    "timeout": "timeout",
    "http_500": "api_error",
    "connection_reset": "cannot_connect",
    "malformed_body": "invalid_response",
    "http_401": "invalid_auth",
    "http_403": "permission_denied",
    "server_gone": "cannot_connect",
    "certificate_changed": "certificate",
}


@dataclass
class Lab:
    """One kind's server, its entry, and how to break and mend it."""

    kind: str
    sim: Any
    entry: MockConfigEntry
    watched: str  # an entity that shows a reading from the server
    request_timeout: float
    credentials: bool  # a 401/403 starts reauth (there is a reauth flow)
    certificate_issue: str | None = None
    _saved: dict[str, Any] = field(default_factory=dict)

    @property
    def http(self) -> HttpSimulator:
        assert isinstance(self.sim, HttpSimulator)
        return self.sim

    @property
    def poll_path(self) -> str:
        return {
            "proxmox": "/cluster/resources",
            "docker": "/containers/json",
            "ovh": "/vps/",
        }[self.kind]

    def attempts(self) -> int:
        """Requests that met the fault so far (logins, for a machine)."""
        if self.kind == "machine":
            return int(self.sim.logins)
        return self.http.spoiled

    @property
    def requests_per_poll(self) -> int:
        # OVH asks for each of its three VPSes and their running tasks at once.
        return 6 if self.kind == "ovh" else 1

    async def break_it(self, fault: str) -> None:
        if self.kind == "machine":
            await self._break_machine(fault)
            return
        sim, path = self.http, self.poll_path
        if fault == "timeout":
            sim.inject_hang(path, count=None)
        elif fault == "http_500":
            sim.inject(path, status=500, body=self._error("Internal server error"), count=None)  # fmt: skip
        elif fault == "connection_reset":
            sim.inject_reset(path, count=None)
        elif fault == "malformed_body":
            sim.inject(path, body=b'{"data": [{"type": "qemu", "vmid": 1', count=None)
        elif fault in ("http_401", "http_403"):
            status = 401 if fault == "http_401" else 403
            sim.inject(path, status=status, body=self._refusal(status), count=None)
        elif fault == "server_gone":
            await sim.stop()
        elif fault == "certificate_changed":
            self._saved["certificate"] = sim.certificate
            await sim.stop()
            sim.certificate = SelfSignedCertificate.generate()
            await sim.start()

    async def mend_it(self, fault: str) -> None:
        if self.kind == "machine":
            await self._mend_machine(fault)
            return
        sim = self.http
        sim.clear_faults()
        if fault == "server_gone":
            await sim.start()  # same port
        elif fault == "certificate_changed":
            await sim.stop()
            sim.certificate = self._saved["certificate"]
            await sim.start()

    async def _break_machine(self, fault: str) -> None:
        sim: MachineSimulator = self.sim
        if fault == "timeout":
            sim.auth_delay = 10**6  # sshd accepts, then never answers the login
        elif fault == "connection_reset":
            sim.reset_connections = True
        elif fault == "malformed_body":
            sim.metrics_output = "12345.67\nnot a load average\n"
        elif fault == "http_401":
            sim.refuse_logins = True
        elif fault == "server_gone":
            await sim.power_off()

    async def _mend_machine(self, fault: str) -> None:
        sim: MachineSimulator = self.sim
        sim.auth_delay = 0.0
        sim.reset_connections = False
        sim.refuse_logins = False
        sim.metrics_output = LINUX_METRICS_OUTPUT
        if fault == "server_gone":
            await sim.power_on()

    def _error(self, message: str) -> bytes:
        if self.kind == "proxmox":
            return json.dumps({"data": None, "message": message}).encode()
        return json.dumps({"message": message}).encode()

    def _refusal(self, status: int) -> bytes:
        if self.kind == "ovh":
            code = "INVALID_CREDENTIAL" if status == 401 else "NOT_GRANTED_CALL"
            return json.dumps({"errorCode": code, "message": "refused"}).encode()
        if self.kind == "proxmox" and status == 403:
            return self._error("Permission check failed (/vms, VM.Audit)")
        return self._error("authentication failure")


async def _machine_lab(hass: HomeAssistant) -> Lab:
    sim = MachineSimulator(boot_delay=0.01, shutdown_delay=0.01)
    await sim.start(powered=True)
    entry = MockConfigEntry(
        domain=DOMAIN,
        title="NAS",
        unique_id=sim.mac,
        data=machine_data(sim),
        options={CONF_TIMEOUT: 5},
    )
    return Lab("machine", sim, entry, "sensor.nas_cpu", 15.0, credentials=False)


async def _proxmox_lab(hass: HomeAssistant) -> Lab:
    sim = ProxmoxSimulator(start_delay=0.02, stop_delay=0.02, task_delay=0.02)
    await sim.start()
    entry = MockConfigEntry(
        domain=DOMAIN,
        title="homelab",
        unique_id="homelab",
        data=pve_data(sim),
        options={CONF_TIMEOUT: 5},
        subentries_data=guest_subentries(),
    )
    return Lab(
        "proxmox",
        sim,
        entry,
        "sensor.docker_cpu",
        REQUEST_TIMEOUT,
        credentials=True,
        certificate_issue=f"certificate_changed_{entry.entry_id}",
    )


async def _docker_lab(hass: HomeAssistant) -> Lab:
    sim = DockerSimulator(tls=True)
    await sim.start()
    populate(sim)
    assert sim.certificate is not None
    entry = docker_entry_for(
        sim, data={"fingerprint": format_fingerprint(sim.certificate.der)}
    )
    return Lab(
        "docker",
        sim,
        entry,
        "switch.jellyfin",
        POLL_TIMEOUT,
        credentials=False,
        certificate_issue=f"certificate_changed_{entry.entry_id}",
    )


async def _ovh_lab(hass: HomeAssistant) -> Lab:
    sim = OvhSimulator(vps_count=3, task_duration=0.05, task_start_delay=0.01)
    await sim.start()
    entry = MockConfigEntry(
        domain=DOMAIN,
        title=f"OVHcloud {sim.nichandle}",
        unique_id=sim.nichandle,
        data=ovh_data(sim),
        options={CONF_TIMEOUT: 1},
        subentries_data=vps_subentries(sim),
    )
    return Lab(
        "ovh",
        sim,
        entry,
        "sensor.web_status",
        OVH_REQUEST_TIMEOUT,
        credentials=True,
        certificate_issue=f"certificate_changed_{entry.entry_id}",
    )


LABS: dict[str, Callable[[HomeAssistant], Awaitable[Lab]]] = {
    "machine": _machine_lab,
    "proxmox": _proxmox_lab,
    "docker": _docker_lab,
    "ovh": _ovh_lab,
}


@pytest.fixture
async def quiet_loop() -> AsyncIterator[None]:
    """Refused TLS handshakes and reset connections are this test's point: the
    loop's debug mode would report the servers' side of them as errors."""
    loop = asyncio.get_running_loop()
    debug = loop.get_debug()
    loop.set_debug(False)
    yield
    loop.set_debug(debug)


async def _next_poll(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, seconds: float
) -> None:
    freezer.tick(timedelta(seconds=seconds))
    async_fire_time_changed(hass)
    await hass.async_block_till_done(wait_background_tasks=True)


def _state(hass: HomeAssistant, entity_id: str) -> str:
    state = hass.states.get(entity_id)
    assert state is not None
    return state.state


async def _until(condition: Callable[[], bool]) -> None:
    """Let the loop run (real I/O, frozen clock) until `condition` holds."""
    for _ in range(200_000):
        if condition():
            return
        await asyncio.sleep(0)
    raise AssertionError("never happened")


def _reauth_flows(hass: HomeAssistant) -> list[Any]:
    return [
        flow
        for flow in hass.config_entries.flow.async_progress_by_handler(DOMAIN)
        if flow["context"]["source"] == SOURCE_REAUTH
    ]


@pytest.mark.parametrize("fault", FAULTS)
@pytest.mark.parametrize("kind", KINDS)
async def test_fault_then_recovery(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    caplog: pytest.LogCaptureFixture,
    issue_registry: ir.IssueRegistry,
    quiet_loop: None,
    kind: str,
    fault: str,
) -> None:
    if (reason := SKIPPED.get((kind, fault))) is not None:
        pytest.skip(reason)
    caplog.set_level(logging.DEBUG, logger="custom_components.wakehub")
    lab = await LABS[kind](hass)
    try:
        lab.entry.add_to_hass(hass)
        assert await hass.config_entries.async_setup(lab.entry.entry_id)
        await hass.async_block_till_done()
        coordinator = lab.entry.runtime_data.coordinator
        interval = coordinator.update_interval.total_seconds()
        assert hass.states.get(lab.watched).state != STATE_UNAVAILABLE

        # The fault: unavailable within one poll cycle (a hung request fails at
        # the client's timeout, well inside the cycle).
        await lab.break_it(fault)
        if fault == "timeout":
            # Time is frozen: the poll's requests all wait on the same deadline,
            # which passes once every one of them hangs at the server.
            assert lab.request_timeout < interval
            before = lab.attempts()
            freezer.tick(timedelta(seconds=interval))
            async_fire_time_changed(hass)
            await _until(lambda: lab.attempts() >= before + lab.requests_per_poll)
            await _next_poll(hass, freezer, lab.request_timeout + 1)
            # A request being cancelled by its timeout is not waited for by
            # async_block_till_done: let it wind down (real I/O, frozen clock).
            await _until(lambda: _state(hass, lab.watched) == STATE_UNAVAILABLE)
        else:
            await _next_poll(hass, freezer, interval)
        assert hass.states.get(lab.watched).state == STATE_UNAVAILABLE

        if kind != "machine":  # a machine's unreadable metrics are no poll failure
            error = coordinator.last_exception
            assert getattr(error, "translation_key", None) == POLL_ERROR_KEYS[fault]
        refused = fault in ("http_401", "http_403")
        if refused and lab.credentials:
            assert len(_reauth_flows(hass)) == 1
        else:
            assert _reauth_flows(hass) == []
        if fault == "certificate_changed":
            assert lab.certificate_issue is not None
            assert issue_registry.async_get_issue(DOMAIN, lab.certificate_issue)

        # The fault clears: back within one poll cycle. Refused credentials stop
        # the polls until reauthentication reloads the entry.
        await lab.mend_it(fault)
        if refused and lab.credentials:
            assert await hass.config_entries.async_reload(lab.entry.entry_id)
            await hass.async_block_till_done()
        else:
            await _next_poll(hass, freezer, interval)
        assert hass.states.get(lab.watched).state != STATE_UNAVAILABLE
        if lab.certificate_issue is not None:
            assert not issue_registry.async_get_issue(DOMAIN, lab.certificate_issue)
    finally:
        await hass.config_entries.async_unload(lab.entry.entry_id)
        await hass.async_block_till_done()
        await lab.sim.stop()

    tracebacks = [
        record
        for record in caplog.records
        if record.name.startswith("custom_components.wakehub")
        and record.levelno >= logging.ERROR
        and record.exc_info
    ]
    assert tracebacks == []
    assert "Unexpected error" not in caplog.text


@pytest.mark.parametrize("kind", [k for k in KINDS if k != "machine"])
async def test_changed_certificate_pinned_by_its_repair(
    hass: HomeAssistant,
    issue_registry: ir.IssueRegistry,
    hass_client: ClientSessionGenerator,
    kind: str,
) -> None:
    """A renewed certificate the user recognises: the repair's fix shows the
    certificate the server now presents and the pinned one, pins exactly the
    one shown, and the entry is back with the repair gone."""
    lab = await LABS[kind](hass)
    try:
        lab.entry.add_to_hass(hass)
        assert await hass.config_entries.async_setup(lab.entry.entry_id)
        await hass.async_block_till_done()
        pinned = lab.entry.data["fingerprint"]
        await lab.break_it("certificate_changed")
        # A poll now (no frozen clock here: the HTTP API logs real times).
        await lab.entry.runtime_data.coordinator.async_refresh()
        await hass.async_block_till_done()
        assert _state(hass, lab.watched) == STATE_UNAVAILABLE
        assert lab.certificate_issue is not None
        issue = issue_registry.async_get_issue(DOMAIN, lab.certificate_issue)
        assert issue is not None
        assert issue.is_fixable
        renewed = format_fingerprint(lab.http.certificate.der)  # type: ignore[union-attr]

        client = await repairs_client(hass, hass_client)
        flow = await start_fix_flow(client, lab.certificate_issue)
        assert flow["type"] == "menu"
        assert flow["step_id"] == "confirm"
        assert flow["menu_options"] == ["trust", "not_trusted"]
        assert flow["description_placeholders"] == {
            "name": lab.entry.title,
            "fingerprint": renewed,
            "previous": pinned,
        }
        # "Cancel": nothing is pinned, the issue stays.
        resp = await client.post(
            f"/api/repairs/issues/fix/{flow['flow_id']}",
            json={"next_step_id": "not_trusted"},
        )
        assert (await resp.json())["reason"] == "not_trusted"
        assert lab.entry.data["fingerprint"] == pinned
        assert issue_registry.async_get_issue(DOMAIN, lab.certificate_issue)
        # "Trust the new certificate": exactly the one shown is pinned.
        flow = await start_fix_flow(client, lab.certificate_issue)
        resp = await client.post(
            f"/api/repairs/issues/fix/{flow['flow_id']}",
            json={"next_step_id": "trust"},
        )
        assert (await resp.json())["type"] == "create_entry"
        await hass.async_block_till_done(wait_background_tasks=True)

        assert lab.entry.data["fingerprint"] == renewed
        assert _state(hass, lab.watched) != STATE_UNAVAILABLE
        assert not issue_registry.async_get_issue(DOMAIN, lab.certificate_issue)
    finally:
        await hass.config_entries.async_unload(lab.entry.entry_id)
        await hass.async_block_till_done()
        await lab.sim.stop()


async def test_certificate_repair_of_a_removed_entry(
    hass: HomeAssistant, hass_client: ClientSessionGenerator
) -> None:
    """The entry was deleted while its repair was open: the fix says so."""
    assert await async_setup_component(hass, DOMAIN, {})
    ir.async_create_issue(
        hass,
        DOMAIN,
        "certificate_changed_gone",
        is_fixable=True,
        severity=ir.IssueSeverity.ERROR,
        data={"entry_id": "gone", "fingerprint": "AB:" * 31 + "AB"},
        translation_key="certificate_changed",
        translation_placeholders={"name": "media", "fingerprint": "", "previous": ""},
    )
    client = await repairs_client(hass, hass_client)
    flow = await start_fix_flow(client, "certificate_changed_gone")
    assert flow["type"] == "abort"
    assert flow["reason"] == "entry_removed"
