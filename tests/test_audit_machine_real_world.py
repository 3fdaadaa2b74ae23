"""A physical machine as real machines behave, seen from the user's side.

Most tests here drive a real OpenSSH `sshd` (tests/services/sshd.py) through
WakeHub's entities: the shutdown command is a shell command the test chooses, and
"the machine powers off" is the test stopping that sshd once the command ran
(`PowerPlug`). What is asserted is what the user sees: the switch and status
sensor, the translated action error, the form error, repair issues, log records.

Needs root and `bash tests/services/sshd_setup.sh` for the sshd tests (skipped
otherwise); the rest runs anywhere.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
import contextlib
from dataclasses import dataclass
from datetime import timedelta
import logging
import os
from pathlib import Path
import shlex
import shutil
import sys
import tempfile
import time
from typing import Any, Self

from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import SOURCE_USER, ConfigEntryState
from homeassistant.const import (
    ATTR_ENTITY_ID,
    STATE_OFF,
    STATE_ON,
    STATE_UNAVAILABLE,
)
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import issue_registry as ir
from hypothesis import HealthCheck, given, settings, strategies as st
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_time_changed,
)

from custom_components.wakehub.api.errors import (
    CannotConnect,
    ConnectionTimeout,
    TaskFailed,
)
from custom_components.wakehub.api.machine import (
    MachineClient,
    SshCredentials,
    fetch_host_key,
    parse_metrics,
)
from custom_components.wakehub.const import (
    CONF_BROADCAST_ADDRESS,
    CONF_BROADCAST_PORT,
    CONF_HOST_KEY,
    CONF_KIND,
    CONF_MAC,
    CONF_REBOOT_COMMAND,
    CONF_SHUTDOWN_COMMAND,
    CONF_SSH_PORT,
    CONF_TIMEOUT,
    DOMAIN,
    KIND_MACHINE,
)
from tests.conftest import machine_data, record_events
from tests.services.sshd import RealSshd, running_sshd
from tests.simulators.machine import LINUX_METRICS_OUTPUT, MachineSimulator

SWITCH = "switch.box"
STATUS = "sensor.box_status"
REBOOT = "button.box_reboot"
CPU = "sensor.box_cpu"
TIMEOUT = 2  # the entry's start/stop timeout: every wait here is on loopback

# The sshd fixture makes a passphrase-protected key with 16 bcrypt rounds.
pytestmark = pytest.mark.filterwarnings(
    r"ignore:.*bcrypt\.kdf\(\) called with only 16 round:UserWarning"
)

FEW = settings(
    max_examples=25,
    deadline=None,
    database=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
    print_blob=False,
)


# -- the machine: a real sshd, and its power plug ------------------------------------
class PowerPlug:
    """The machine's power: once the shutdown (or reboot) command has run (it
    touches `marker`), sshd is stopped, as a machine powering off takes its SSH
    server down. The command's own session is left to sshd, as on a real host.
    """

    def __init__(self, sshd: RealSshd, workdir: Path) -> None:
        self.sshd = sshd
        self.marker = workdir / "powered_off"
        self.pulled = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    @property
    def touch(self) -> str:
        return f"touch {shlex.quote(str(self.marker))}"

    def arm(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._watch())

    async def _watch(self) -> None:
        # The file is written by another process: no event to wait on.
        while not await asyncio.to_thread(self.marker.exists):  # noqa: ASYNC110
            await asyncio.sleep(0.02)
        # Set before sshd goes: WakeHub sees the machine off once its port
        # closes, which may be before sshd's stop returns.
        self.pulled.set()
        await self.sshd.stop()

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task


@pytest.fixture
async def real_sshd() -> AsyncIterator[RealSshd]:
    async with running_sshd() as sshd:
        yield sshd


@pytest.fixture
async def plug(real_sshd: RealSshd) -> AsyncIterator[PowerPlug]:
    # A directory the test user may write to (the sshd's own is root's).
    workdir = Path(await asyncio.to_thread(tempfile.mkdtemp, prefix="wakehub-plug-"))
    await asyncio.to_thread(workdir.chmod, 0o777)
    plug = PowerPlug(real_sshd, workdir)
    plug.arm()
    yield plug
    await plug.close()
    await asyncio.to_thread(shutil.rmtree, workdir, ignore_errors=True)


def sshd_data(sshd: RealSshd, **overrides: Any) -> dict[str, Any]:
    """What the wizard stores for the real sshd (password login, key pinned)."""
    data: dict[str, Any] = {
        CONF_KIND: KIND_MACHINE,
        CONF_MAC: "52:54:00:ab:cd:ef",
        "host": sshd.host,
        CONF_BROADCAST_ADDRESS: "127.0.0.1",
        CONF_BROADCAST_PORT: 9,
        CONF_SSH_PORT: sshd.port,
        "username": sshd.username,
        "password": sshd.password,
        CONF_SHUTDOWN_COMMAND: "true",
        CONF_REBOOT_COMMAND: "true",
        CONF_HOST_KEY: sshd.host_key,
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


@dataclass
class Box:
    """The machine entry of a test, and how to act on it as a user does."""

    hass: HomeAssistant
    entry: MockConfigEntry

    def state(self, entity_id: str = SWITCH) -> str:
        current = self.hass.states.get(entity_id)
        assert current is not None, f"{entity_id} does not exist"
        return current.state

    async def press(self, domain: str, service: str, entity_id: str) -> None:
        await self.hass.services.async_call(
            domain, service, {ATTR_ENTITY_ID: entity_id}, blocking=True
        )

    async def turn_off(self) -> None:
        await self.press("switch", "turn_off", SWITCH)

    async def reboot(self) -> None:
        await self.press("button", "press", REBOOT)

    async def failing(
        self, action: Callable[[], Awaitable[None]]
    ) -> HomeAssistantError:
        with pytest.raises(HomeAssistantError) as caught:
            await action()
        return caught.value


@pytest.fixture
async def box_factory(
    hass: HomeAssistant,
) -> AsyncIterator[Callable[..., Awaitable[Box]]]:
    entries: list[MockConfigEntry] = []

    async def make(data: dict[str, Any], *, title: str = "Box") -> Box:
        entry = MockConfigEntry(
            domain=DOMAIN,
            title=title,
            unique_id=data[CONF_MAC],
            data=data,
            options={CONF_TIMEOUT: TIMEOUT},
        )
        entry.add_to_hass(hass)
        entries.append(entry)
        assert await hass.config_entries.async_setup(entry.entry_id)
        await hass.async_block_till_done()
        return Box(hass, entry)

    yield make
    for entry in entries:
        if entry.state is ConfigEntryState.LOADED:
            await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()


async def accepted_logins(sshd: RealSshd) -> int:
    return (await sshd.log()).count("Accepted ")


def power_results(events: list[Any]) -> list[tuple[str, str]]:
    return [(e.data["action"], e.data["result"]) for e in events]


# -- shutdown: what counts as sent -------------------------------------------------------
async def test_shutdown_that_drops_its_own_session_is_success(
    real_sshd: RealSshd, plug: PowerPlug, box_factory: Callable[..., Awaitable[Box]]
) -> None:
    """`poweroff` takes sshd down under the command: the link drops, no exit
    status ever comes. That is the normal way, not an error."""
    box = await box_factory(
        sshd_data(real_sshd, shutdown_command=f"{plug.touch}; kill -9 $PPID")
    )
    assert box.state() == STATE_ON
    events = record_events(box.hass, "wakehub_power")

    await box.turn_off()

    assert plug.pulled.is_set()
    assert box.state() == STATE_OFF
    assert box.state(STATUS) == "stopped"
    assert power_results(events)[-1] == ("stop", "done")


async def test_shutdown_whose_shell_is_killed_by_sigterm_is_success(
    real_sshd: RealSshd, plug: PowerPlug, box_factory: Callable[..., Awaitable[Box]]
) -> None:
    """systemd's shutdown sends SIGTERM to every session: sshd may still report
    the command's death by signal before it goes down itself. The command was
    delivered; the machine powers off."""
    box = await box_factory(
        sshd_data(real_sshd, shutdown_command=f"{plug.touch}; kill -TERM $$")
    )

    await box.turn_off()

    assert plug.pulled.is_set()
    assert box.state() == STATE_OFF
    assert box.state(STATUS) == "stopped"


class SlowSshd(RealSshd):
    """A loaded machine: every SSH command starts `delay` seconds late."""

    delay = 1.2

    def _config(self) -> str:
        return (
            super()._config()
            + f'ForceCommand sleep {self.delay}; eval "$SSH_ORIGINAL_COMMAND"\n'
        )


@pytest.fixture(params=["fast", "slow"])
async def either_sshd(request: pytest.FixtureRequest) -> AsyncIterator[RealSshd]:
    """A real sshd, as it comes or slowed down (SlowSshd)."""
    async with running_sshd() as sshd:
        if request.param == "fast":
            yield sshd
            return
        slow = SlowSshd(sshd.workdir / "slow")
        await asyncio.to_thread(slow.workdir.mkdir)
        try:
            await slow.prepare()
            await slow.start()
            yield slow
        finally:
            await slow.stop()


async def test_shutdown_accepted_but_machine_keeps_answering(
    either_sshd: RealSshd, box_factory: Callable[..., Awaitable[Box]]
) -> None:
    """Exit 0 and nothing happens (a broken ACPI, an inhibitor): after the
    timeout the user is told, and the switch shows the machine still on, not
    "unavailable". On a slow machine (SSH commands take a second to start) the
    timeout always falls while WakeHub is reading it: that must not count as a
    failed poll either."""
    sshd = either_sshd
    box = await box_factory(sshd_data(sshd, shutdown_command="true"))
    assert box.state() == STATE_ON
    events = record_events(box.hass, "wakehub_power")

    err = await box.failing(box.turn_off)

    assert err.translation_key == "stop_timeout"
    assert str(err).startswith(f"Box did not stop within {TIMEOUT} seconds")
    assert box.state() == STATE_ON
    assert box.state(STATUS) == "running"
    assert power_results(events) == [("stop", "requested"), ("stop", "failed")]
    assert events[-1].data["reason"] == "timeout"
    # While it waited, WakeHub probed the port, not logged in every 0.25 s.
    assert (await sshd.log()).count("Accepted password") <= 3


SUDO_NO_TTY = (
    "sudo: a terminal is required to read the password; either use the -S option "
    "to read from standard input or configure an askpass helper"
)


@pytest.mark.parametrize(
    ("command", "message"),
    [
        pytest.param(
            f"echo {shlex.quote(SUDO_NO_TTY)} >&2; "
            "echo 'sudo: a password is required' >&2; exit 1",
            "sudo: a password is required",
            id="sudo-asks-for-a-password",
        ),
        pytest.param(
            "systemctl-typo poweroff",
            "bash: line 1: systemctl-typo: command not found",
            id="command-not-found",
        ),
        pytest.param(
            "echo off > /etc/wakehub-audit-not-writable",
            "bash: line 1: /etc/wakehub-audit-not-writable: Permission denied",
            id="permission-denied",
        ),
        pytest.param(
            "echo 'Failed to power off system: Access denied'; exit 1",
            "Failed to power off system: Access denied",
            id="stdout-only",
        ),
        pytest.param(
            "exit 5",
            "'exit 5' exited with 5",
            id="silent-failure",
        ),
    ],
)
async def test_shutdown_that_really_fails(
    real_sshd: RealSshd,
    box_factory: Callable[..., Awaitable[Box]],
    command: str,
    message: str,
) -> None:
    """A real refusal: the user reads the machine's own last words, at once."""
    box = await box_factory(sshd_data(real_sshd, shutdown_command=command))
    events = record_events(box.hass, "wakehub_power")

    started = time.monotonic()
    err = await box.failing(box.turn_off)

    assert time.monotonic() - started < TIMEOUT, "a refusal is not a timeout"
    assert err.translation_key == "task_failed"
    assert str(err) == f"Box: {message}"
    assert box.state() == STATE_ON
    assert box.state(STATUS) == "running"
    assert power_results(events) == [("stop", "requested"), ("stop", "failed")]


async def test_chatty_shutdown_script_still_powers_off(
    real_sshd: RealSshd, plug: PowerPlug, box_factory: Callable[..., Awaitable[Box]]
) -> None:
    """A shutdown script that logs a lot before powering off (a backup, an
    upgrade) must run to its end: WakeHub may stop keeping the output, not stop
    the script."""
    box = await box_factory(
        sshd_data(real_sshd, shutdown_command=f"seq 1 40000 && {plug.touch}")
    )

    await box.turn_off()

    assert plug.pulled.is_set()
    assert box.state() == STATE_OFF


# -- reboot ------------------------------------------------------------------------------
async def test_reboot_where_the_machine_never_comes_back(
    real_sshd: RealSshd, plug: PowerPlug, box_factory: Callable[..., Awaitable[Box]]
) -> None:
    """The machine goes down for its reboot and stays down (a failed boot):
    after the timeout the user is told, and the switch shows it off."""
    box = await box_factory(sshd_data(real_sshd, reboot_command=plug.touch))
    events = record_events(box.hass, "wakehub_power")

    err = await box.failing(box.reboot)

    assert plug.pulled.is_set()
    assert err.translation_key == "reboot_timeout"
    assert str(err).startswith(
        f"Box did not come back within {TIMEOUT} seconds after the reboot"
    )
    assert box.state() == STATE_OFF
    assert box.state(STATUS) == "stopped"
    assert box.state(REBOOT) == STATE_UNAVAILABLE  # nothing to reboot while off
    assert power_results(events)[-1] == ("reboot", "failed")


async def test_reboot_that_is_accepted_but_never_happens(
    real_sshd: RealSshd, box_factory: Callable[..., Awaitable[Box]]
) -> None:
    """The reboot command exits 0 and the machine never leaves. WakeHub cannot
    tell that from a reboot too fast to be seen; what it shows afterwards must
    still be the machine, on, not an unavailable entity."""
    box = await box_factory(sshd_data(real_sshd, reboot_command="true"))

    await box.reboot()

    assert box.state() == STATE_ON
    assert box.state(STATUS) == "running"
    assert box.state(CPU) != STATE_UNAVAILABLE


# -- host key ------------------------------------------------------------------------------
async def test_changed_host_key_refuses_the_shutdown_and_raises_the_repair(
    real_sshd: RealSshd,
    box_factory: Callable[..., Awaitable[Box]],
    issue_registry: ir.IssueRegistry,
) -> None:
    """Reinstalled (or another machine at its address) between two polls: the
    shutdown is refused before any credential is sent, and the repair issue the
    error points to exists."""
    box = await box_factory(sshd_data(real_sshd, shutdown_command="true"))
    await real_sshd.restart_with_new_host_key()
    logins = await accepted_logins(real_sshd)

    err = await box.failing(box.turn_off)

    assert err.translation_key == "host_key_changed"
    assert "see the repair issue" in str(err)
    assert await accepted_logins(real_sshd) == logins, "a login reached the new key"
    issue = issue_registry.async_get_issue(
        DOMAIN, f"host_key_changed_{box.entry.entry_id}"
    )
    assert issue is not None, "the error points to a repair issue that is not there"
    assert issue.translation_placeholders == {
        "name": "Box",
        "fingerprint": real_sshd.host_key_fingerprint,
    }
    assert box.entry.data[CONF_HOST_KEY] != real_sshd.host_key


# -- logins refused -----------------------------------------------------------------------
async def test_key_removed_from_the_machine(
    real_sshd: RealSshd,
    box_factory: Callable[..., Awaitable[Box]],
    freezer: FrozenDateTimeFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The machine answers (port open) but its authorized_keys lost WakeHub's
    key: it shows on, its figures go unavailable, the log says why once (not at
    every poll, and not for one refusal: a machine shutting down refuses
    logins for a moment), and a shutdown names the refused login."""
    key = real_sshd.client_key
    box = await box_factory(
        sshd_data(real_sshd, password=None, private_key=key.private_key)
    )
    assert box.state(CPU) != STATE_UNAVAILABLE
    authorized = real_sshd.workdir / "authorized_keys"
    await asyncio.to_thread(authorized.write_text, "")
    caplog.clear()

    def said(level: int) -> list[str]:
        return [
            r.getMessage()
            for r in caplog.records
            if r.name.startswith("custom_components.wakehub") and r.levelno == level
        ]

    async def poll() -> None:
        freezer.tick(timedelta(seconds=31))
        async_fire_time_changed(box.hass)
        await box.hass.async_block_till_done(wait_background_tasks=True)

    await poll()
    assert box.state() == STATE_ON
    assert box.state(CPU) == STATE_UNAVAILABLE
    assert said(logging.WARNING) == []
    await poll()
    await poll()

    assert box.state() == STATE_ON
    assert box.state(STATUS) == "running"
    [warning] = said(logging.WARNING)
    assert warning.startswith("Box answers but refuses WakeHub's SSH login")
    assert key.private_key.splitlines()[1] not in caplog.text

    err = await box.failing(box.turn_off)
    assert err.translation_key == "invalid_auth"
    assert box.state() == STATE_ON

    # The key is back: figures again, and the log says so.
    await asyncio.to_thread(authorized.write_text, key.public_key + "\n")
    await poll()
    assert box.state(CPU) != STATE_UNAVAILABLE
    assert "Box accepts WakeHub's SSH login again" in said(logging.INFO)


async def test_wrong_user_in_the_wizard(
    hass: HomeAssistant, real_sshd: RealSshd
) -> None:
    """A typo in the username: the host key is confirmed first, then the login
    is refused and the form says so; no entry is created."""
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_USER}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "machine"}
    )
    flow_id = result["flow_id"]
    result = await hass.config_entries.flow.async_configure(
        flow_id,
        {
            "name": "Box",
            "mac": "52:54:00:ab:cd:ef",
            "host": real_sshd.host,
            "broadcast_address": "127.0.0.1",
            "broadcast_port": 9,
            "ssh_port": real_sshd.port,
            "username": "wakehub-tset",
            "password": real_sshd.password,
            "shutdown_command": "true",
            "reboot_command": "true",
        },
    )
    assert result["step_id"] == "host_key"
    result = await hass.config_entries.flow.async_configure(
        flow_id, {"next_step_id": "trust"}
    )

    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": "invalid_auth"}
    assert not hass.config_entries.async_entries(DOMAIN)


# -- a server that accepts, then says nothing ----------------------------------------------
@contextlib.asynccontextmanager
async def tcp_server(
    handler: Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]],
) -> AsyncIterator[int]:
    """A TCP server on a free loopback port; yields the port."""
    writers: list[asyncio.StreamWriter] = []
    tasks: set[asyncio.Task[Any]] = set()

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writers.append(writer)
        task = asyncio.current_task()
        assert task is not None
        tasks.add(task)
        with contextlib.suppress(OSError):
            await handler(reader, writer)

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    try:
        yield int(server.sockets[0].getsockname()[1])
    finally:
        server.close()
        for writer in writers:
            writer.close()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await server.wait_closed()


async def _silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    await asyncio.sleep(3600)


class LoopWatch:
    """The longest the event loop went without running a 10 ms ticker."""

    def __init__(self) -> None:
        self.worst = 0.0
        self._task: asyncio.Task[None] | None = None

    async def _tick(self) -> None:
        loop = asyncio.get_running_loop()
        last = loop.time()
        while True:
            await asyncio.sleep(0.01)
            now = loop.time()
            self.worst = max(self.worst, now - last)
            last = now

    async def __aenter__(self) -> Self:
        self._task = asyncio.get_running_loop().create_task(self._tick())
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._task is not None
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task


async def test_silent_ssh_server_in_the_wizard(hass: HomeAssistant) -> None:
    """Something accepts on the SSH port and never sends a banner (a hung sshd,
    a tarpit): the wizard says "did not answer in time" within its timeout, and
    the event loop keeps running meanwhile."""
    async with tcp_server(_silent) as port:
        result = await hass.config_entries.flow.async_init(
            DOMAIN, context={"source": SOURCE_USER}
        )
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"], {"next_step_id": "machine"}
        )
        started = time.monotonic()
        async with LoopWatch() as watch:
            result = await hass.config_entries.flow.async_configure(
                result["flow_id"],
                {
                    "name": "Box",
                    "mac": "52:54:00:ab:cd:ef",
                    "host": "127.0.0.1",
                    "broadcast_address": "127.0.0.1",
                    "broadcast_port": 9,
                    "ssh_port": port,
                    "username": "wakehub",
                    "password": "secret",
                    "shutdown_command": "true",
                    "reboot_command": "true",
                },
            )
        elapsed = time.monotonic() - started

    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": "timeout"}
    assert 4 < elapsed < 8  # the wizard's 5 s, not asyncssh's own minutes
    assert watch.worst < 0.5


@pytest.mark.parametrize(
    "call",
    [
        pytest.param(lambda c: c.check(), id="login"),
        pytest.param(lambda c: c.run_power_command("true"), id="shutdown"),
        pytest.param(lambda c: c.read_metrics(), id="metrics"),
    ],
)
async def test_silent_ssh_server_times_out(call: Any) -> None:
    async with tcp_server(_silent) as port, LoopWatch() as watch:
        client = MachineClient(
            SshCredentials(host="127.0.0.1", port=port, username="u", password="p"),
            timeout=1,
        )
        started = time.monotonic()
        with pytest.raises(ConnectionTimeout):
            await call(client)
        elapsed = time.monotonic() - started
        with pytest.raises(ConnectionTimeout):
            await fetch_host_key("127.0.0.1", port, timeout=1)
    assert elapsed < 2
    assert watch.worst < 0.5


@FEW
@given(
    answer=st.one_of(
        st.binary(max_size=600),
        st.binary(max_size=300).map(lambda b: b"SSH-2.0-" + b),
        st.binary(max_size=300).map(lambda b: b"SSH-2.0-OpenSSH_9.6\r\n" + b),
        st.just(b"x" * 70000),
        st.just(b"banner line\r\n" * 2000),
        st.just(b"SSH-2.0-\x80\n"),  # found by this test: asyncssh's UnicodeDecodeError
    ),
    # Mostly a server that hangs up after its answer; sometimes one that stays.
    closes=st.sampled_from([True, True, True, False]),
)
async def test_whatever_answers_on_the_ssh_port(answer: bytes, closes: bool) -> None:
    """Whatever a thing on port 22 sends (a web server, a tarpit, a broken
    sshd), the host-key fetch and the login end in a WakeHub error, in time."""

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(answer)
        await writer.drain()
        if closes:
            writer.close()
            return
        await asyncio.sleep(3600)

    async with tcp_server(serve) as port:
        client = MachineClient(
            SshCredentials(host="127.0.0.1", port=port, username="u", password="p"),
            timeout=0.3,
        )
        for call in (client.check, lambda: fetch_host_key("127.0.0.1", port, 0.3)):
            started = time.monotonic()
            with pytest.raises(CannotConnect):
                await call()
            assert time.monotonic() - started < 1.5


async def test_non_ascii_banner_in_the_wizard(hass: HomeAssistant) -> None:
    """The same at the wizard: a form error, not "Unknown error occurred"."""

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"SSH-2.0-Serveur\xe9\r\n")
        await writer.drain()
        await asyncio.sleep(3600)

    async with tcp_server(serve) as port:
        result = await hass.config_entries.flow.async_init(
            DOMAIN, context={"source": SOURCE_USER}
        )
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"], {"next_step_id": "machine"}
        )
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"],
            {
                "name": "Box",
                "mac": "52:54:00:ab:cd:ef",
                "host": "127.0.0.1",
                "broadcast_address": "127.0.0.1",
                "broadcast_port": 9,
                "ssh_port": port,
                "username": "wakehub",
                "password": "secret",
                "shutdown_command": "true",
                "reboot_command": "true",
            },
        )

    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": "cannot_connect"}


# -- a machine already off ---------------------------------------------------------------
async def test_machine_already_off_needs_no_command(
    real_sshd: RealSshd, box_factory: Callable[..., Awaitable[Box]]
) -> None:
    await real_sshd.stop()
    box = await box_factory(sshd_data(real_sshd))
    events = record_events(box.hass, "wakehub_power")
    assert box.state() == STATE_OFF

    await box.turn_off()

    assert box.state() == STATE_OFF
    assert power_results(events) == [("stop", "done")]
    assert events[0].data["reason"] == "already_stopped"


async def test_machine_switched_off_by_hand_since_the_last_poll(
    real_sshd: RealSshd, box_factory: Callable[..., Awaitable[Box]]
) -> None:
    """Shut down at its own power button a moment ago: the last poll still said
    on. Turning it off must end off, without an error that it cannot be reached
    (off is what the user asked for)."""
    box = await box_factory(sshd_data(real_sshd))
    assert box.state() == STATE_ON
    await real_sshd.stop()

    await box.turn_off()

    assert box.state() == STATE_OFF
    assert box.state(STATUS) == "stopped"


# -- what the machine prints -------------------------------------------------------------
def _printf(data: bytes) -> str:
    """A shell command printing exactly `data` (octal escapes: any byte)."""
    return "printf '" + "".join(f"\\{byte:03o}" for byte in data) + "'"


@pytest.fixture
async def sshd_client(real_sshd: RealSshd) -> MachineClient:
    return MachineClient(
        SshCredentials(
            host=real_sshd.host,
            port=real_sshd.port,
            username=real_sshd.username,
            password=real_sshd.password,
            host_key=real_sshd.host_key,
        ),
        timeout=5,
    )


@FEW
@given(
    output=st.one_of(
        st.binary(max_size=400),
        st.text(max_size=200).map(lambda t: t.encode()),
        st.sampled_from(
            [
                b"\x1b[31mFailed to power off\x1b[0m\r\n",
                b"no newline at all " * 40,
                b"\xff\xfe\x00binary\x00\x07",
                "Stop \u202eevil\u2028second line\n".encode(),
            ]
        ),
    ),
    stream=st.sampled_from(["1", "2"]),
    status=st.integers(1, 255),
)
async def test_power_command_failure_message_is_one_clean_line(
    sshd_client: MachineClient, output: bytes, stream: str, status: int
) -> None:
    """Whatever a failing power command prints, the user reads one short line
    of printable text (it lands in a notification and the logbook)."""
    command = f"{_printf(output)} >&{stream}; exit {status}"
    with pytest.raises(TaskFailed) as caught:
        await sshd_client.run_power_command(command)
    message = str(caught.value)
    assert message
    assert message.isprintable(), repr(message)
    assert len(message) <= 300


async def test_huge_single_line_error_is_cut_for_the_user(
    real_sshd: RealSshd, box_factory: Callable[..., Awaitable[Box]]
) -> None:
    """60 kB on one line before failing: the user sees its end, cut short."""
    command = "head -c 60000 /dev/zero | tr '\\0' x >&2; echo ' END' >&2; exit 1"
    box = await box_factory(sshd_data(real_sshd, shutdown_command=command))

    err = await box.failing(box.turn_off)

    assert err.translation_key == "task_failed"
    assert str(err).endswith("xxx END")
    assert len(str(err)) < 320
    assert box.state() == STATE_ON


HUGE = st.integers(min_value=10**308, max_value=10**4000).map(str)


@FEW
@given(
    slot=st.sampled_from(
        [0, 2, 4, 6, 8]
    ),  # uptime, load, nproc, MemTotal, MemAvailable
    word=st.one_of(HUGE, st.sampled_from(["1" + "0" * 400, "-" + "9" * 400])),
)
def test_metrics_with_absurd_figures(slot: int, word: str) -> None:
    """Figures too large for a float (a corrupted /proc, a fake nproc): a
    ValueError the poll handles, never an OverflowError it does not."""
    lines = LINUX_METRICS_OUTPUT.splitlines()
    index = {0: (0, 0), 2: (1, 0), 4: (2, 0), 6: (3, 1), 8: (4, 1)}[slot]
    words = lines[index[0]].split()
    words[index[1]] = word
    lines[index[0]] = " ".join(words)
    output = "\n".join(lines) + "\n"
    try:
        metrics = parse_metrics(output)
    except ValueError, KeyError, IndexError:
        return
    assert 0 <= metrics.cpu_percent <= 100
    assert 0 <= metrics.memory_percent <= 100
    assert metrics.cpu_count >= 1


@pytest.mark.usefixtures("entity_registry_enabled_by_default")
async def test_machine_with_absurd_cpu_count_still_shows_on(
    hass: HomeAssistant,
    machine_sim: MachineSimulator,
    freezer: FrozenDateTimeFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A machine whose `nproc` prints a 400-digit number: it is on, its CPU
    figure is unavailable, and no "Unexpected error" traceback is logged."""
    await machine_sim.power_on()
    machine_sim.metrics_output = LINUX_METRICS_OUTPUT.replace(
        "\n4\n", f"\n1{'0' * 400}\n"
    )
    entry = MockConfigEntry(
        domain=DOMAIN,
        title="NAS",
        unique_id=machine_sim.mac,
        data=machine_data(machine_sim),
    )
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()

    assert hass.states.get("switch.nas").state == STATE_ON
    assert hass.states.get("sensor.nas_status").state == "running"
    assert hass.states.get("sensor.nas_cpu").state == STATE_UNAVAILABLE
    assert "Unexpected error" not in caplog.text
    await hass.config_entries.async_unload(entry.entry_id)
    await machine_sim.settle()


# -- Wake-on-LAN ---------------------------------------------------------------------------
WOL_SCRIPT = """
import asyncio, sys
from custom_components.wakehub.api.errors import CannotConnect
from custom_components.wakehub.api.machine import send_magic_packet

async def main() -> None:
    try:
        await send_magic_packet("52:54:00:12:34:56", "255.255.255.255", 9)
    except CannotConnect as err:
        print(err)
        sys.exit(3)

asyncio.run(main())
"""


async def test_magic_packet_that_cannot_leave_is_an_error_at_once() -> None:
    """Home Assistant's host has no route for the packet (its network is down,
    or it runs in a container without one): the user must learn it at once,
    not after the whole start timeout as "did not start". Run in a network
    namespace of its own (no interface up), as root."""
    if os.geteuid() != 0 or shutil.which("unshare") is None:
        pytest.skip("needs root and unshare for a network namespace")
    proc = await asyncio.create_subprocess_exec(
        "unshare", "-n", sys.executable, "-c", WOL_SCRIPT,
        cwd=str(Path(__file__).parent.parent),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    stdout, stderr = await proc.communicate()
    if proc.returncode not in (0, 3):
        pytest.skip(f"no network namespace here: {stderr.decode().strip()[-200:]}")
    assert proc.returncode == 3, "the magic packet was reported sent"
    assert "Network is unreachable" in stdout.decode()


# -- first contact ---------------------------------------------------------------------
@contextlib.asynccontextmanager
async def flaky_front(sshd: RealSshd, drop: set[int]) -> AsyncIterator[int]:
    """A TCP relay to `sshd` that hangs up on the connections numbered in
    `drop` (1 = the first), as a busy sshd does past `MaxStartups`. Once sshd
    is gone the relay stops listening too (the machine is off)."""
    count = 0
    tasks: set[asyncio.Task[Any]] = set()
    server: asyncio.Server | None = None

    async def pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(OSError):
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        writer.close()

    async def relay(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal count
        task = asyncio.current_task()
        assert task is not None
        tasks.add(task)
        count += 1
        try:
            if count in drop:
                return
            try:
                upstream = await asyncio.open_connection(sshd.host, sshd.port)
            except OSError:
                assert server is not None
                server.close()  # sshd is down: so is the machine's port
                return
            await asyncio.gather(pipe(reader, upstream[1]), pipe(upstream[0], writer))
        finally:
            writer.close()

    server = await asyncio.start_server(relay, "127.0.0.1", 0)
    try:
        yield int(server.sockets[0].getsockname()[1])
    finally:
        server.close()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


async def test_no_login_before_the_host_key_is_pinned(
    real_sshd: RealSshd,
    box_factory: Callable[..., Awaitable[Box]],
    freezer: FrozenDateTimeFactory,
) -> None:
    """Added while off (no key pinned). At first contact the key cannot be
    read (the connection is dropped), but the login right after would work:
    the password must not go to a server whose key was never seen. The next
    poll pins the key, then logs in."""
    # Poll 1: port probe (1), host key fetch (2, dropped), [a login would be 3].
    async with flaky_front(real_sshd, drop={2}) as port:
        box = await box_factory(sshd_data(real_sshd, ssh_port=port, host_key=None))
        assert box.state() == STATE_ON
        assert CONF_HOST_KEY not in box.entry.data
        assert await accepted_logins(real_sshd) == 0, "logged in to an unseen key"

        freezer.tick(timedelta(seconds=31))
        async_fire_time_changed(box.hass)
        await box.hass.async_block_till_done(wait_background_tasks=True)

        assert box.entry.data[CONF_HOST_KEY] == real_sshd.host_key
        assert await accepted_logins(real_sshd) == 1
        assert box.state(CPU) != STATE_UNAVAILABLE
        await box.hass.config_entries.async_unload(box.entry.entry_id)


async def test_shutdown_of_a_machine_whose_key_is_not_pinned_yet(
    real_sshd: RealSshd, plug: PowerPlug, box_factory: Callable[..., Awaitable[Box]]
) -> None:
    """Turned off before any poll could pin its key: the key is pinned first,
    and a key that cannot be read means no login and an error, not a
    shutdown command sent to whoever answers."""
    async with flaky_front(real_sshd, drop={2, 3}) as port:
        box = await box_factory(
            sshd_data(
                real_sshd, ssh_port=port, host_key=None, shutdown_command=plug.touch
            )
        )
        assert CONF_HOST_KEY not in box.entry.data

        err = await box.failing(box.turn_off)  # its key fetch (3) is dropped
        assert err.translation_key == "cannot_connect"
        assert "host key" in str(err)
        assert await accepted_logins(real_sshd) == 0
        assert box.state() == STATE_ON

        await box.turn_off()

        assert plug.pulled.is_set()
        assert box.entry.data[CONF_HOST_KEY] == real_sshd.host_key
        assert box.state() == STATE_OFF
        await box.hass.config_entries.async_unload(box.entry.entry_id)
