"""MachineClient.run against a real OpenSSH server on 127.0.0.1.

A command's output is bounded: a host (or a user's command) that prints without
end must neither fill Home Assistant's memory nor hold the client until its
timeout, so past MAX_OUTPUT_BYTES on stdout or stderr `run()` stops reading and
raises InvalidResponse. A link that drops during a command, and a command that
outlasts the timeout, are failures unless the caller expects them (a power
command).

Needs root and `bash tests/services/sshd_setup.sh`; skipped otherwise.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
import time

import pytest

from custom_components.wakehub.api.errors import (
    CannotConnect,
    ConnectionTimeout,
    InvalidResponse,
)
from custom_components.wakehub.api.machine import (
    MAX_OUTPUT_BYTES,
    MachineClient,
    SshCredentials,
)
from tests.services.sshd import RealSshd, running_sshd

TIMEOUT = 20.0  # the client's timeout: a bounded read ends long before it

# The fixture makes a passphrase-protected key with 16 bcrypt rounds (`ssh-keygen`'s
# default); the bcrypt package warns about so few.
pytestmark = pytest.mark.filterwarnings(
    r"ignore:.*bcrypt\.kdf\(\) called with only 16 round:UserWarning"
)


@pytest.fixture
async def client() -> AsyncIterator[MachineClient]:
    """A client of a real sshd started for this test only."""
    async with running_sshd() as sshd:
        yield MachineClient(_credentials(sshd), timeout=TIMEOUT)


def _credentials(sshd: RealSshd) -> SshCredentials:
    return SshCredentials(
        host=sshd.host, port=sshd.port, username=sshd.username, password=sshd.password
    )


async def test_output_up_to_the_bound_is_read_whole(client: MachineClient) -> None:
    result = await client.run(f"head -c {MAX_OUTPUT_BYTES} /dev/zero | tr '\\0' x")
    assert result.exit_status == 0
    assert result.stdout == "x" * MAX_OUTPUT_BYTES
    assert result.stderr == ""


@pytest.mark.parametrize(
    "command",
    [
        pytest.param(f"head -c {MAX_OUTPUT_BYTES + 1} /dev/zero", id="one-byte-over"),
        pytest.param("yes", id="endless-stdout"),
        pytest.param("yes >&2", id="endless-stderr"),
    ],
)
async def test_output_past_the_bound_is_invalid_response(
    client: MachineClient, command: str
) -> None:
    started = time.monotonic()
    with pytest.raises(InvalidResponse, match=f"more than {MAX_OUTPUT_BYTES} bytes"):
        await client.run(command)
    # Refused as soon as the bound is passed, not at the timeout.
    assert time.monotonic() - started < TIMEOUT / 2


async def test_output_that_is_not_utf8_is_read_with_replacements(
    client: MachineClient,
) -> None:
    result = await client.run("printf 'caf\\351\\n'")
    assert (result.exit_status, result.stdout) == (0, "caf\ufffd\n")


async def test_a_dropped_link_fails_unless_expected(client: MachineClient) -> None:
    # The shell kills its own sshd session process: the link drops mid-command.
    drop = "echo bye; kill -9 $PPID"
    with pytest.raises(CannotConnect, match="closed the connection"):
        await client.run(drop)
    result = await client.run(drop, expect_disconnect=True)
    assert result.exit_status is None


async def test_a_command_past_the_timeout_fails_unless_expected() -> None:
    async with running_sshd() as sshd:
        client = MachineClient(_credentials(sshd), timeout=1)
        with pytest.raises(ConnectionTimeout, match="did not finish"):
            await client.run("sleep 30")
        result = await client.run("sleep 30", expect_disconnect=True)
        assert result.exit_status is None
