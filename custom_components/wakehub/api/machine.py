"""A physical machine: woken by Wake-on-LAN, probed over TCP, driven over SSH.

Public API:
- `normalize_mac(mac)`: canonical `aa:bb:cc:dd:ee:ff`, or ValueError.
- `async send_magic_packet(mac, broadcast_address, port)`: non-blocking WoL.
- `async is_port_open(host, port, timeout)`: the reachability probe (a TCP connect
  to the SSH port: no root, no raw sockets).
- `async fetch_host_key(host, port)`: the server's SSH host key, for the user to
  confirm before it is pinned.
- `host_key_fingerprint(public_key)`: its `SHA256:...` fingerprint, as
  `ssh-keygen -lf` shows it.
- `MachineClient(credentials)`: `check()` (log in once, return the host key to
  pin), `run(command)`, `run_power_command(command)` (shutdown or reboot: a dropped
  link is success) and `read_metrics()` (Linux `/proc` figures in one command),
  always checking the pinned host key.

A command's output is read up to MAX_OUTPUT_BYTES on each of stdout and stderr;
a command that prints more is an InvalidResponse, and is not waited for. A power
command is the exception: it must run to its end (a chatty shutdown script), so
its output is read to the end and only its last MAX_OUTPUT_BYTES kept; a failure
shows the last line of it, cleaned of terminal sequences and cut to
MAX_MESSAGE_CHARS.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
import re
import socket
from typing import Final

import asyncssh
import wakeonlan

from .errors import (
    CannotConnect,
    ConnectionTimeout,
    HostKeyMismatch,
    InvalidAuth,
    InvalidResponse,
    TaskFailed,
)

DEFAULT_SHUTDOWN_COMMAND = "sudo systemctl poweroff"
DEFAULT_REBOOT_COMMAND = "sudo systemctl reboot"

# One command per polling cycle gives every Linux figure we show. `nproc` turns the
# load average into a CPU percentage that means the same on 2 and 64 cores.
METRICS_COMMAND = (
    "cat /proc/uptime /proc/loadavg && nproc && "
    "grep -E '^(MemTotal|MemAvailable):' /proc/meminfo"
)

# The most WakeHub reads of a command's stdout, and as much of its stderr. The
# metrics command prints about 200 bytes and a power command a line or two: more
# is not an answer to us, and reading it all would let a host fill our memory.
MAX_OUTPUT_BYTES: Final = 64 * 1024
_CHUNK: Final = 16 * 1024

# What a shutdown or reboot sends to every process of a session (systemd, then
# the kernel's final kill): a power command killed by one was delivered.
SHUTDOWN_SIGNALS: Final = frozenset({"TERM", "KILL", "HUP"})
# The longest error message shown from a power command's output: one line of a
# terminal, not a whole log in a notification (and in the event's data).
MAX_MESSAGE_CHARS: Final = 300
# A terminal colour or cursor sequence (ESC [ ... letter).
_ANSI_RE = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]")

_MAC_RE = re.compile(r"^[0-9a-f]{12}$")
# A century: more uptime than that is not a reading but garbage.
MAX_UPTIME = 100 * 365 * 86400.0
# More CPUs than Linux can count (NR_CPUS is at most 8192) is garbage too, and a
# count too large for a float would break the load-to-percent division.
MAX_CPUS = 1 << 20


def normalize_mac(mac: str) -> str:
    """Return `aa:bb:cc:dd:ee:ff` for any common spelling of a MAC address."""
    hex_only = re.sub(r"[\s:.\-]", "", mac).lower()
    if not _MAC_RE.match(hex_only):
        raise ValueError(f"not a MAC address: {mac!r}")
    return ":".join(hex_only[i : i + 2] for i in range(0, 12, 2))


class _DatagramSender(asyncio.DatagramProtocol):
    """The protocol object asyncio needs; sending is all we do.

    asyncio's transport does not raise a failed `sendto` (no route to the
    broadcast address, the network down): it hands the error to the protocol.
    """

    def __init__(self) -> None:
        self.error: OSError | None = None

    def error_received(self, exc: Exception) -> None:
        if self.error is None and isinstance(exc, OSError):
            self.error = exc


async def send_magic_packet(mac: str, broadcast_address: str, port: int) -> bytes:
    """Send the Wake-on-LAN magic packet without blocking the event loop.

    The packet is sent three times: it is a single unacknowledged UDP datagram,
    and a lost one would leave the machine asleep until the timeout.
    Returns the packet that was sent.
    """
    packet: bytes = wakeonlan.create_magic_packet(normalize_mac(mac))
    loop = asyncio.get_running_loop()
    try:
        transport, sender = await loop.create_datagram_endpoint(
            _DatagramSender,
            family=socket.AF_INET,
            allow_broadcast=True,
        )
    except OSError as err:
        raise CannotConnect(f"cannot open a UDP socket: {err}") from err
    try:
        for _ in range(3):
            transport.sendto(packet, (broadcast_address, port))
        if sender.error is not None:
            raise sender.error
    except OSError as err:
        raise CannotConnect(
            f"cannot send the magic packet to {broadcast_address}:{port}: {err}"
        ) from err
    finally:
        transport.close()
    return packet


async def is_port_open(host: str, port: int, timeout: float = 3) -> bool:
    """True when a TCP connection to host:port succeeds within `timeout`.

    A refused or timed-out connection means the machine is off (or its SSH server
    is not up yet). A name that does not resolve is a configuration problem, not
    "off", so it raises CannotConnect.
    """
    try:
        async with asyncio.timeout(timeout):
            _reader, writer = await asyncio.open_connection(host, port)
    except socket.gaierror as err:
        raise CannotConnect(f"cannot resolve {host}: {err.strerror}") from err
    except OSError, TimeoutError:
        return False
    writer.close()
    # The peer may reset the connection; the SYN/ACK was all we wanted.
    with contextlib.suppress(OSError):
        await writer.wait_closed()
    return True


def host_key_fingerprint(public_key: str) -> str:
    """OpenSSH-style SHA-256 fingerprint (`SHA256:...`) of an OpenSSH public key."""
    key = asyncssh.import_public_key(public_key)
    return str(key.get_fingerprint("sha256"))


async def fetch_host_key(host: str, port: int, timeout: float = 10) -> str:
    """Return the server's host key as an OpenSSH public key line."""
    try:
        async with asyncio.timeout(timeout):
            key = await asyncssh.get_server_host_key(host, port)
    except TimeoutError as err:
        raise ConnectionTimeout(f"{host}:{port} did not answer in time") from err
    except (OSError, asyncssh.Error, ValueError) as err:
        # ValueError: asyncssh decodes the server's version line as ASCII and
        # lets a UnicodeDecodeError out (something else than sshd answers).
        raise CannotConnect(f"cannot connect to {host}:{port}: {err}") from err
    assert key is not None  # asyncssh always negotiates a host key
    return key.export_public_key("openssh").decode().strip()


@dataclass(frozen=True, kw_only=True)
class SshCredentials:
    """Everything needed to log in. `host_key` None means: not pinned yet."""

    host: str
    port: int = 22
    username: str
    password: str | None = None
    private_key: str | None = None
    private_key_passphrase: str | None = None
    host_key: str | None = None

    def __repr__(self) -> str:
        # Dataclasses print every field; credentials must never reach a log.
        return f"SshCredentials(host={self.host!r}, port={self.port}, username={self.username!r})"


@dataclass(frozen=True)
class MachineMetrics:
    """What `METRICS_COMMAND` tells about a Linux host."""

    uptime_seconds: float
    cpu_percent: float
    memory_percent: float
    cpu_count: int


@dataclass(frozen=True)
class CommandResult:
    """Outcome of a command; `exit_status` None when the connection dropped.

    `exit_signal` names the signal that killed it (`TERM`...), when one did
    (`exit_status` is then -1, as asyncssh reports it).
    """

    exit_status: int | None
    stdout: str
    stderr: str
    exit_signal: str | None = None


def parse_metrics(output: str) -> MachineMetrics:
    """Parse the output of `METRICS_COMMAND`; ValueError when it is not Linux's.

    Every figure is checked, not only its syntax: "nan", a negative load or a
    zero memory total would otherwise break the sensors computed from them.
    """
    lines = [line.strip() for line in output.strip().splitlines() if line.strip()]
    if len(lines) < 5:
        raise ValueError("unexpected metrics output")
    uptime = _figure(lines[0].split()[0], MAX_UPTIME)
    load1 = _figure(lines[1].split()[0], float("inf"))
    cpus = int(lines[2])
    memory: dict[str, int] = {}
    for line in lines[3:]:
        name, _, rest = line.partition(":")
        memory[name] = int(rest.split()[0])
    total, available = memory["MemTotal"], memory["MemAvailable"]
    if not 1 <= cpus <= MAX_CPUS or total <= 0 or not 0 <= available <= total:
        raise ValueError("impossible metrics")
    return MachineMetrics(
        uptime_seconds=uptime,
        cpu_percent=round(min(100.0, load1 / max(cpus, 1) * 100), 1),
        memory_percent=round((total - available) / total * 100, 1),
        cpu_count=cpus,
    )


def _figure(word: str, bound: float) -> float:
    """A finite, non-negative number below `bound` (ValueError otherwise)."""
    value = float(word)
    if not 0 <= value < bound:
        raise ValueError(f"{word!r} is not a plausible figure")
    return value


class MachineClient:
    """SSH to one machine, checking its pinned host key on every connection."""

    def __init__(self, credentials: SshCredentials, *, timeout: float = 15) -> None:
        self.credentials = credentials
        self._timeout = timeout

    async def _connect(self) -> asyncssh.SSHClientConnection:
        creds = self.credentials
        where = f"{creds.host}:{creds.port}"
        client_keys = None
        if creds.private_key:
            try:
                # Decrypting a passphrase-protected key runs a slow KDF (bcrypt
                # rounds): keep it off the event loop.
                client_keys = [
                    await asyncio.to_thread(
                        asyncssh.import_private_key,
                        creds.private_key,
                        creds.private_key_passphrase or None,
                    )
                ]
            except (asyncssh.KeyImportError, ValueError) as err:
                # The message says what is wrong (bad format, wrong passphrase)
                # without echoing the key.
                raise InvalidAuth(f"the private key cannot be used: {err}") from err
        known_hosts: object = None
        if creds.host_key:
            known_hosts = ([asyncssh.import_public_key(creds.host_key)], [], [])
        try:
            async with asyncio.timeout(self._timeout):
                return await asyncssh.connect(
                    creds.host,
                    creds.port,
                    username=creds.username,
                    password=creds.password or None,
                    client_keys=client_keys,
                    known_hosts=known_hosts,
                    # Never read ~/.ssh of the Home Assistant user: the entry's
                    # credentials are the only ones we offer.
                    agent_path=None,
                    config=None,
                    preferred_auth="publickey,keyboard-interactive,password"
                    if client_keys
                    else "keyboard-interactive,password",
                )
        except asyncssh.HostKeyNotVerifiable as err:
            new_key = await self._presented_key()
            raise HostKeyMismatch(
                f"the SSH host key of {where} changed since it was pinned",
                fingerprint=host_key_fingerprint(new_key) if new_key else None,
            ) from err
        except asyncssh.PermissionDenied as err:
            raise InvalidAuth(f"SSH login to {where} was refused") from err
        except TimeoutError as err:
            raise ConnectionTimeout(f"{where} did not answer in time") from err
        except (OSError, asyncssh.Error, ValueError) as err:
            # ValueError: a version line that is not ASCII (see fetch_host_key).
            raise CannotConnect(f"cannot connect to {where}: {err}") from err

    async def _presented_key(self) -> str | None:
        """The key the server shows now, in the pinned key's algorithm."""
        creds = self.credentials
        try:
            pinned = asyncssh.import_public_key(creds.host_key or "")
            async with asyncio.timeout(self._timeout):
                key = await asyncssh.get_server_host_key(
                    creds.host,
                    creds.port,
                    server_host_key_algs=[pinned.get_algorithm()],
                )
        except OSError, TimeoutError, asyncssh.Error, ValueError:
            return None
        return key.export_public_key("openssh").decode().strip() if key else None

    async def check(self) -> str:
        """Log in once; return the host key the server presented (to pin it)."""
        conn = await self._connect()
        try:
            key = conn.get_server_host_key()
            assert key is not None  # asyncssh always negotiates one
            return key.export_public_key("openssh").decode().strip()
        finally:
            conn.close()

    async def run(
        self, command: str, *, expect_disconnect: bool = False
    ) -> CommandResult:
        """Run a command. With `expect_disconnect`, a dropped link is success.

        InvalidResponse as soon as its stdout or stderr exceeds MAX_OUTPUT_BYTES;
        with `expect_disconnect` (a power command, which must run to its end
        however much it prints) the output is read to its end instead, and only
        its last MAX_OUTPUT_BYTES kept.
        """
        conn = await self._connect()
        try:
            async with asyncio.timeout(self._timeout):
                process = await conn.create_process(command, encoding=None)
                stdout, stderr = await _read_output(
                    process, command, keep_tail=expect_disconnect
                )
                await process.wait_closed()
        except asyncssh.ConnectionLost, asyncssh.DisconnectError, BrokenPipeError:
            if expect_disconnect:
                return CommandResult(None, "", "")
            raise CannotConnect(
                f"{self.credentials.host} closed the connection during {command!r}"
            ) from None
        except TimeoutError:
            if expect_disconnect:
                # poweroff may hang the session until the network goes away
                return CommandResult(None, "", "")
            raise ConnectionTimeout(
                f"{command!r} did not finish on {self.credentials.host} in time"
            ) from None
        finally:
            conn.close()
        signal = process.exit_signal
        return CommandResult(
            exit_status=process.exit_status,
            stdout=stdout.decode(errors="replace"),
            stderr=stderr.decode(errors="replace"),
            exit_signal=signal[0] if signal else None,
        )

    async def run_power_command(self, command: str) -> None:
        """Run a shutdown/reboot command; TaskFailed with its message on failure.

        Sent when it exits 0, when the link drops, when it does not return in
        time, or when the shutdown it started kills it (SHUTDOWN_SIGNALS).
        """
        result = await self.run(command, expect_disconnect=True)
        if result.exit_status in (None, 0) or result.exit_signal in SHUTDOWN_SIGNALS:
            return
        message = _last_line(result.stderr) or _last_line(result.stdout)
        if not message:
            message = (
                f"{command!r} was killed by SIG{result.exit_signal}"
                if result.exit_signal
                else f"{command!r} exited with {result.exit_status}"
            )
        raise TaskFailed(message)

    async def read_metrics(self) -> MachineMetrics:
        """Uptime, load-based CPU and memory use in one command."""
        result = await self.run(METRICS_COMMAND)
        if result.exit_status != 0:
            raise InvalidResponse("the metrics command is not supported on this host")
        try:
            return parse_metrics(result.stdout)
        except (ValueError, KeyError, IndexError) as err:
            raise InvalidResponse(
                "the metrics command returned unexpected output"
            ) from err


def _last_line(output: str) -> str:
    """The last non-blank line of a command's output, fit to show a user: no
    terminal sequences or control characters, at most MAX_MESSAGE_CHARS."""
    for raw in reversed(output.splitlines()):
        shown = "".join(c if c.isprintable() else " " for c in _ANSI_RE.sub("", raw))
        if line := " ".join(shown.split()):
            if len(line) > MAX_MESSAGE_CHARS:
                return "…" + line[-(MAX_MESSAGE_CHARS - 1) :]
            return line
    return ""


async def _read_output(
    process: asyncssh.SSHClientProcess[bytes], command: str, *, keep_tail: bool
) -> tuple[bytes, bytes]:
    """stdout and stderr, read together: a command blocked writing one of them
    (the SSH window is full) would never finish the other."""
    try:
        async with asyncio.TaskGroup() as group:
            stdout = group.create_task(
                _read_bounded(process.stdout, command, keep_tail=keep_tail)
            )
            stderr = group.create_task(
                _read_bounded(process.stderr, command, keep_tail=keep_tail)
            )
    except ExceptionGroup as errors:
        # One stream failed (too long, connection lost): report that error as
        # the caller knows it; the other read was cancelled.
        raise errors.exceptions[0] from None
    return stdout.result(), stderr.result()


async def _read_bounded(
    stream: asyncssh.SSHReader[bytes], command: str, *, keep_tail: bool = False
) -> bytes:
    """A stream to its end, or InvalidResponse once it exceeds MAX_OUTPUT_BYTES
    (with `keep_tail`: to its end, keeping its last MAX_OUTPUT_BYTES)."""
    kept = bytearray()
    while chunk := await stream.read(_CHUNK):
        kept += chunk
        if len(kept) > MAX_OUTPUT_BYTES:
            if not keep_tail:
                raise InvalidResponse(
                    f"{command!r} printed more than {MAX_OUTPUT_BYTES} bytes"
                )
            del kept[:-MAX_OUTPUT_BYTES]
    return bytes(kept)
