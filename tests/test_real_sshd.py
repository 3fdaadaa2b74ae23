"""WakeHub's SSH client and wizard against a real OpenSSH server on 127.0.0.1.

The simulator in tests/simulators/machine.py is asyncssh talking to asyncssh; these
tests prove the same code works with the `sshd` real machines run: its host key
fingerprints match `ssh-keygen -lf`, its password and key logins (including keys
under a passphrase, in the OpenSSH and the legacy PEM format) are accepted, its
refusals map to InvalidAuth, and a replaced host key is caught.

Needs root and `bash tests/services/sshd_setup.sh`; skipped otherwise.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
import dataclasses
import logging
import os
from pathlib import Path

import asyncssh
from homeassistant.config_entries import SOURCE_USER, ConfigEntryState
from homeassistant.const import STATE_ON
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
import pytest

from custom_components.wakehub.api.errors import (
    HostKeyMismatch,
    InvalidAuth,
    TaskFailed,
)
from custom_components.wakehub.api.machine import (
    MachineClient,
    SshCredentials,
    fetch_host_key,
    host_key_fingerprint,
    is_port_open,
)
from custom_components.wakehub.const import CONF_HOST_KEY, DOMAIN
from tests.services.sshd import ClientKey, RealSshd, running_sshd

FAST = 5.0  # client timeout: everything here is on loopback

# The passphrase-protected OpenSSH key uses 16 bcrypt rounds, `ssh-keygen`'s own
# default, so it is what users paste; the bcrypt package warns about so few.
pytestmark = pytest.mark.filterwarnings(
    r"ignore:.*bcrypt\.kdf\(\) called with only 16 round:UserWarning"
)


@pytest.fixture
async def real_sshd() -> AsyncIterator[RealSshd]:
    """A real OpenSSH server for this test only."""
    async with running_sshd() as sshd:
        yield sshd


@pytest.fixture
def no_secret_logged(
    real_sshd: RealSshd, caplog: pytest.LogCaptureFixture
) -> Iterator[None]:
    """Fail the test if a password, passphrase or private key reached any log."""
    caplog.set_level(logging.DEBUG)
    yield
    secrets = [real_sshd.password]
    for key in (real_sshd.client_key, real_sshd.encrypted_key, real_sshd.pem_key):
        secrets.append(key.passphrase or "")
        # Any line of the key's body is as bad as the whole key.
        secrets += [line for line in key.private_key.splitlines() if len(line) > 40]
    leaked = [s for s in secrets if s and s in caplog.text]
    assert not leaked, "a secret was logged"


def credentials(sshd: RealSshd, **overrides: object) -> SshCredentials:
    """Password login to `sshd`, host key not pinned, unless overridden."""
    creds = SshCredentials(
        host=sshd.host, port=sshd.port, username=sshd.username, password=sshd.password
    )
    return dataclasses.replace(creds, **overrides)  # type: ignore[arg-type]


def key_login(sshd: RealSshd, key: ClientKey, **overrides: object) -> SshCredentials:
    """Key login (no password) to `sshd`, unless overridden."""
    fields: dict[str, object] = {
        "password": None,
        "private_key": key.private_key,
        "private_key_passphrase": key.passphrase,
    }
    return credentials(sshd, **(fields | overrides))


def state(hass: HomeAssistant, entity_id: str) -> str:
    current = hass.states.get(entity_id)
    assert current is not None, f"{entity_id} does not exist"
    return current.state


# -- host key ---------------------------------------------------------------------------
async def test_host_key_fingerprint_matches_ssh_keygen(real_sshd: RealSshd) -> None:
    presented = await fetch_host_key(real_sshd.host, real_sshd.port, FAST)

    assert presented == real_sshd.host_key
    assert presented.startswith("ssh-ed25519 ")
    assert host_key_fingerprint(presented) == real_sshd.host_key_fingerprint
    assert real_sshd.host_key_fingerprint.startswith("SHA256:")


async def test_port_probe_follows_the_daemon(real_sshd: RealSshd) -> None:
    assert await is_port_open(real_sshd.host, real_sshd.port, 1)
    await real_sshd.stop()
    assert not await is_port_open(real_sshd.host, real_sshd.port, 1)


async def test_pinned_host_key_is_accepted(
    real_sshd: RealSshd, no_secret_logged: None
) -> None:
    client = MachineClient(
        credentials(real_sshd, host_key=real_sshd.host_key), timeout=FAST
    )

    assert await client.check() == real_sshd.host_key
    result = await client.run("echo pinned")
    assert (result.exit_status, result.stdout) == (0, "pinned\n")


async def test_changed_host_key_is_refused_with_the_new_fingerprint(
    real_sshd: RealSshd, no_secret_logged: None
) -> None:
    client = MachineClient(
        credentials(real_sshd, host_key=real_sshd.host_key), timeout=FAST
    )
    await client.check()
    old_fingerprint = real_sshd.host_key_fingerprint

    await real_sshd.restart_with_new_host_key()
    logins = (await real_sshd.log()).count("Accepted password")

    assert real_sshd.host_key_fingerprint != old_fingerprint
    with pytest.raises(HostKeyMismatch) as caught:
        await client.run("true")
    assert caught.value.fingerprint == real_sshd.host_key_fingerprint
    assert (await real_sshd.log()).count("Accepted password") == logins, (
        "the password must not be sent to a server whose key changed"
    )


# -- logins -----------------------------------------------------------------------------
async def test_password_login(
    real_sshd: RealSshd, no_secret_logged: None, caplog: pytest.LogCaptureFixture
) -> None:
    client = MachineClient(credentials(real_sshd), timeout=FAST)

    assert await client.check() == real_sshd.host_key
    result = await client.run("id -un")
    assert (result.exit_status, result.stdout.strip()) == (0, real_sshd.username)
    assert "Accepted password for wakehub-test" in await real_sshd.log()
    # asyncssh's own log is captured, so `no_secret_logged` checks what it says.
    assert "Auth for user wakehub-test succeeded" in caplog.text


async def test_key_login(real_sshd: RealSshd, no_secret_logged: None) -> None:
    client = MachineClient(key_login(real_sshd, real_sshd.client_key), timeout=FAST)

    result = await client.run("id -un")

    assert (result.exit_status, result.stdout.strip()) == (0, real_sshd.username)
    assert "Accepted publickey for wakehub-test" in await real_sshd.log()


@pytest.mark.parametrize("which", ["encrypted_key", "pem_key"])
async def test_passphrase_protected_key_login(
    real_sshd: RealSshd, no_secret_logged: None, which: str
) -> None:
    key: ClientKey = getattr(real_sshd, which)
    client = MachineClient(key_login(real_sshd, key), timeout=FAST)

    result = await client.run("id -un")

    assert (result.exit_status, result.stdout.strip()) == (0, real_sshd.username)
    assert "Accepted publickey for wakehub-test" in await real_sshd.log()


async def test_wrong_password_is_invalid_auth(
    real_sshd: RealSshd, no_secret_logged: None
) -> None:
    client = MachineClient(
        credentials(real_sshd, password="not the password"), timeout=FAST
    )

    with pytest.raises(InvalidAuth) as caught:
        await client.check()
    assert "not the password" not in str(caught.value)
    assert "Failed password for wakehub-test" in await real_sshd.log()


async def test_unknown_key_is_invalid_auth(
    real_sshd: RealSshd, no_secret_logged: None
) -> None:
    """A key sshd does not know, and no password: refused by the server."""
    stranger = asyncssh.generate_private_key("ssh-ed25519")
    unknown = ClientKey(stranger.export_private_key().decode(), "")
    client = MachineClient(key_login(real_sshd, unknown), timeout=FAST)

    with pytest.raises(InvalidAuth):
        await client.check()


async def test_user_not_allowed_is_invalid_auth(
    real_sshd: RealSshd, no_secret_logged: None
) -> None:
    client = MachineClient(credentials(real_sshd, username="root"), timeout=FAST)

    with pytest.raises(InvalidAuth):
        await client.check()


@pytest.mark.parametrize("which", ["encrypted_key", "pem_key"])
async def test_wrong_passphrase_is_invalid_auth(
    real_sshd: RealSshd, no_secret_logged: None, which: str
) -> None:
    key: ClientKey = getattr(real_sshd, which)
    client = MachineClient(
        key_login(real_sshd, key, private_key_passphrase="wrong passphrase"),
        timeout=FAST,
    )

    with pytest.raises(InvalidAuth) as caught:
        await client.check()
    assert "wrong passphrase" not in str(caught.value)
    assert "BEGIN" not in str(caught.value)


# -- commands ---------------------------------------------------------------------------
async def test_read_metrics_on_this_linux_host(
    real_sshd: RealSshd, no_secret_logged: None
) -> None:
    client = MachineClient(credentials(real_sshd), timeout=FAST)

    metrics = await client.read_metrics()

    # nproc counts the CPUs this process may use, as os.process_cpu_count() does.
    assert metrics.cpu_count == os.process_cpu_count()
    uptime = float((await asyncio.to_thread(Path("/proc/uptime").read_text)).split()[0])
    assert 0 < metrics.uptime_seconds <= uptime
    assert 0 <= metrics.cpu_percent <= 100
    assert 0 < metrics.memory_percent < 100


async def test_power_command_that_succeeds(
    real_sshd: RealSshd, no_secret_logged: None
) -> None:
    client = MachineClient(credentials(real_sshd), timeout=FAST)

    await client.run_power_command("true")  # no TaskFailed


@pytest.mark.parametrize(
    ("command", "message"),
    [
        ("false", "'false' exited with 1"),
        ("echo 'poweroff: Access denied' >&2; exit 3", "poweroff: Access denied"),
    ],
)
async def test_power_command_that_fails(
    real_sshd: RealSshd, no_secret_logged: None, command: str, message: str
) -> None:
    client = MachineClient(credentials(real_sshd), timeout=FAST)

    with pytest.raises(TaskFailed) as caught:
        await client.run_power_command(command)
    assert str(caught.value) == message


# -- the wizard -------------------------------------------------------------------------
@pytest.mark.usefixtures("entity_registry_enabled_by_default")
@pytest.mark.parametrize("login", ["password", "encrypted_key"])
async def test_config_flow_against_real_sshd(
    hass: HomeAssistant, real_sshd: RealSshd, no_secret_logged: None, login: str
) -> None:
    """Menu → machine form → host key confirmation → entry with the key pinned."""
    secret = (
        {"password": real_sshd.password}
        if login == "password"
        else {
            "private_key": real_sshd.encrypted_key.private_key,
            "private_key_passphrase": real_sshd.encrypted_key.passphrase,
        }
    )
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_USER}
    )
    assert result["type"] is FlowResultType.MENU
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "machine"}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "machine"
    flow_id = result["flow_id"]

    result = await hass.config_entries.flow.async_configure(
        flow_id,
        {
            "name": "Real host",
            "mac": "52:54:00:aa:bb:cc",
            "host": real_sshd.host,
            "broadcast_address": "127.0.0.1",
            "broadcast_port": 9,
            "ssh_port": real_sshd.port,
            "username": real_sshd.username,
            **secret,
            "shutdown_command": "true",
            "reboot_command": "true",
        },
    )
    assert result["type"] is FlowResultType.MENU, result.get("errors")
    assert result["step_id"] == "host_key"
    placeholders = result["description_placeholders"]
    assert placeholders is not None
    assert placeholders["fingerprint"] == real_sshd.host_key_fingerprint
    assert "Accepted" not in await real_sshd.log(), "no login before confirmation"

    result = await hass.config_entries.flow.async_configure(
        flow_id, {"next_step_id": "trust"}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY, result.get("errors")
    assert result["title"] == "Real host"
    assert result["data"][CONF_HOST_KEY] == real_sshd.host_key
    assert result["data"]["ssh_port"] == real_sshd.port
    assert result["result"].unique_id == "52:54:00:aa:bb:cc"
    assert "Accepted" in await real_sshd.log()

    # The new entry is set up at once and polls the real host over SSH.
    await hass.async_block_till_done()
    assert result["result"].state is ConfigEntryState.LOADED
    assert state(hass, "switch.real_host") == STATE_ON
    assert state(hass, "sensor.real_host_status") == "running"
    assert float(state(hass, "sensor.real_host_memory")) > 0
