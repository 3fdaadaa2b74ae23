"""A simulated physical machine: wakes on its magic packet, then answers SSH.

- A UDP listener on loopback stands for the network card: a correct magic packet
  for the machine's MAC (6 x 0xFF then the MAC 16 times) powers it on; anything
  else is ignored, as a real NIC would.
- After `boot_delay` seconds an asyncssh server starts on `ssh_port` (fixed across
  boots, like a real host's port 22) with a host key that survives reboots until
  `regenerate_host_key()` is called.
- The shutdown command powers it off (the SSH server goes away after
  `shutdown_delay`), the reboot command powers it off and on again, and the metrics
  command answers like a Linux host's /proc; its uptime advances with the clock
  and starts again from zero at every boot by magic packet or reboot (a machine
  already on when the simulation starts, `start(powered=True)` or `power_on()`,
  has been up `initial_uptime` seconds).

Run alone for the demo: `python -m tests.simulators.machine`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
from dataclasses import dataclass, field
import socket
import time

import asyncssh

MAGIC_PREFIX = b"\xff" * 6

# The default answer; its first figure (seconds since boot) is replaced by the
# live uptime (see `metrics`), other outputs are answered as they are.
LINUX_METRICS_OUTPUT = """\
12345.67 23456.78
0.52 0.40 0.35 1/123 4567
4
MemTotal:       16303412 kB
MemAvailable:   12227559 kB
"""


def _free_tcp_port(host: str) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


@dataclass
class MachineSimulator:
    """A machine that is off until it receives its magic packet."""

    mac: str = "52:54:00:12:34:56"
    username: str = "wakehub"
    password: str | None = "correct horse"
    authorized_key: str | None = None
    host: str = "127.0.0.1"
    udp_port: int = 0
    ssh_port: int = 0
    boot_delay: float = 0.1
    shutdown_delay: float = 0.05
    shutdown_command: str = "sudo systemctl poweroff"
    reboot_command: str = "sudo systemctl reboot"
    metrics_output: str | None = LINUX_METRICS_OUTPUT
    initial_uptime: float = 12345.67  # up that long when found on, at start
    # Failure knobs
    refuse_logins: bool = False
    sudo_password_required: bool = False
    ignore_packets: bool = False
    auth_delay: float = 0.0  # > 0: logins hang that long (a stalled sshd)
    reset_connections: bool = False  # SSH connections dropped as they open
    ignore_shutdown: bool = False  # the power command succeeds, nothing goes down
    # OpenSSH 9.8 and later (PerSourcePenalties' defaults): a connection closed
    # without attempting to log in costs its address 1 s of penalty; once 15 s
    # have accrued, its connections are dropped as they open until it lapses.
    penalties: bool = False
    dropped_by_penalty: int = 0
    _penalty_until: float = 0.0
    _blocked_until: float = 0.0
    logins: int = 0  # password logins attempted (a stalled one counts at once)

    powered: bool = False
    packets: list[bytes] = field(default_factory=list)
    commands: list[str] = field(default_factory=list)
    boots: int = 0
    booted_at: float | None = None  # wall clock (frozen in tests that freeze it)
    _host_key: asyncssh.SSHKey | None = None
    _udp: asyncio.DatagramTransport | None = None
    _ssh: asyncssh.SSHAcceptor | None = None
    _pending: set[asyncio.Task[None]] = field(default_factory=set)
    _connections: set[asyncssh.SSHServerConnection] = field(default_factory=set)

    # -- lifecycle -------------------------------------------------------------
    async def start(self, *, powered: bool = False) -> None:
        """Listen for magic packets; power on at once when `powered`."""
        loop = asyncio.get_running_loop()
        self._host_key = self._host_key or asyncssh.generate_private_key("ssh-ed25519")
        if not self.ssh_port:
            self.ssh_port = _free_tcp_port(self.host)
        transport, _ = await loop.create_datagram_endpoint(
            lambda: _MagicPacketListener(self),
            local_addr=(self.host, self.udp_port),
        )
        self._udp = transport
        self.udp_port = transport.get_extra_info("sockname")[1]
        if powered:
            await self._boot_now(up_for=self.initial_uptime)

    async def power_on(self) -> None:
        """Switch the machine on directly, as if it had been on for a while
        (`initial_uptime`) when the simulation looked at it."""
        await self._boot_now(up_for=self.initial_uptime)

    async def power_off(self) -> None:
        """Cut the power (no clean shutdown)."""
        await self._power_off_now()

    async def settle(self, turns: int = 500) -> None:
        """Let the loop turn (bounded) until no SSH connection is open: a login
        its client gave up on mid-way is closed by asyncssh a few turns later.
        Loop turns, not time: tests that freeze the clock call this too."""
        for turn in range(turns):
            # A few turns at least: a probe's connect already in the listen queue
            # is accepted then, not while the server closes.
            if turn >= 50 and not self._connections:
                return
            await asyncio.sleep(0)

    async def stop(self) -> None:
        for task in list(self._pending):
            task.cancel()
        await self._power_off_now()
        if self._udp is not None:
            self._udp.close()
            self._udp = None

    @property
    def host_key(self) -> str:
        """The public host key, OpenSSH format (what the flow shows and pins)."""
        assert self._host_key is not None
        return self._host_key.export_public_key("openssh").decode().strip()

    @property
    def host_key_fingerprint(self) -> str:
        assert self._host_key is not None
        return str(self._host_key.get_fingerprint("sha256"))

    def regenerate_host_key(self) -> None:
        """A reinstalled OS (or an attacker): the next boot shows another key."""
        self._host_key = asyncssh.generate_private_key("ssh-ed25519")

    @property
    def uptime(self) -> float:
        """Seconds since boot (0 while off)."""
        if not self.powered or self.booted_at is None:
            return 0.0
        return max(0.0, time.time() - self.booted_at)

    def metrics(self) -> str | None:
        """What the metrics command prints: the default output with the live
        uptime, or `metrics_output` as set (a test's broken answer)."""
        output = self.metrics_output
        if output != LINUX_METRICS_OUTPUT:
            return output
        return f"{self.uptime:.2f}" + output[output.index(" ") :]

    @property
    def expected_packet(self) -> bytes:
        return MAGIC_PREFIX + bytes.fromhex(self.mac.replace(":", "")) * 16

    # -- power -----------------------------------------------------------------
    def _schedule(self, coro: object) -> None:
        task: asyncio.Task[None] = asyncio.get_running_loop().create_task(coro)  # type: ignore[arg-type]
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    def receive_packet(self, data: bytes) -> None:
        self.packets.append(data)
        if self.ignore_packets or data != self.expected_packet:
            return
        if not self.powered and not any(t.get_name() == "boot" for t in self._pending):
            self._schedule(self._boot_after(self.boot_delay))

    async def _boot_after(self, delay: float) -> None:
        asyncio.current_task().set_name("boot")  # type: ignore[union-attr]
        await asyncio.sleep(delay)
        await self._boot_now()

    async def _boot_now(self, *, up_for: float = 0.0) -> None:
        if self.powered:
            return
        assert self._host_key is not None
        self._ssh = await asyncssh.create_server(
            lambda: _SshServer(self),
            self.host,
            self.ssh_port,
            server_host_keys=[self._host_key],
            process_factory=self._handle_process,
            reuse_address=True,
            # No login timer: asyncssh arms it when a connection is accepted, and a
            # probe accepted while the server closes (a test's teardown) never
            # reaches the connection's cleanup, leaving the timer behind.
            login_timeout=0,
        )
        self.powered = True
        self.booted_at = time.time() - up_for
        self.boots += 1

    async def _power_off_now(self) -> None:
        self.powered = False
        if self._ssh is not None:
            self._ssh.close()
            with contextlib.suppress(Exception):
                await self._ssh.wait_closed()
            self._ssh = None
        for conn in list(self._connections):
            conn.abort()
        self._connections.clear()

    async def _power_off_after(self, delay: float, *, reboot: bool) -> None:
        await asyncio.sleep(delay)
        await self._power_off_now()
        if reboot:
            await asyncio.sleep(self.boot_delay)
            await self._boot_now()

    def penalise_noauth(self) -> None:
        if not self.penalties:
            return
        now = time.monotonic()
        self._penalty_until = max(now, self._penalty_until) + 1.0
        if self._penalty_until - now >= 15.0:
            self._blocked_until = self._penalty_until

    def blocked(self) -> bool:
        return self.penalties and time.monotonic() < self._blocked_until

    # -- SSH commands ------------------------------------------------------------
    def _handle_process(self, process: asyncssh.SSHServerProcess[str]) -> None:
        command = process.command or ""
        self.commands.append(command)
        if command in (self.shutdown_command, self.reboot_command):
            if self.sudo_password_required and command.startswith("sudo "):
                process.stderr.write("sudo: a password is required\n")
                process.exit(1)
                return
            process.exit(0)
            if self.ignore_shutdown:
                return
            self._schedule(
                self._power_off_after(
                    self.shutdown_delay, reboot=command == self.reboot_command
                )
            )
            return
        if "/proc/uptime" in command:
            output = self.metrics()
            if output is None:
                process.stderr.write("'cat' is not recognized as a command\n")
                process.exit(1)
                return
            process.stdout.write(output)
            process.exit(0)
            return
        process.stderr.write(
            f"sh: {command.split()[0] if command else ''}: not found\n"
        )
        process.exit(127)


class _MagicPacketListener(asyncio.DatagramProtocol):
    def __init__(self, machine: MachineSimulator) -> None:
        self.machine = machine

    def datagram_received(self, data: bytes, addr: tuple[str | object, int]) -> None:
        self.machine.receive_packet(data)


class _SshServer(asyncssh.SSHServer):
    def __init__(self, machine: MachineSimulator) -> None:
        self.machine = machine
        self._conn: asyncssh.SSHServerConnection | None = None
        self._tried_auth = False

    def connection_made(self, conn: asyncssh.SSHServerConnection) -> None:
        if self.machine.reset_connections:
            conn.abort()
            return
        if self.machine.blocked():
            self.machine.dropped_by_penalty += 1
            conn.abort()
            return
        self._conn = conn
        self.machine._connections.add(conn)

    def connection_lost(self, exc: Exception | None) -> None:
        if self._conn is not None:
            self.machine._connections.discard(self._conn)
            if not self._tried_auth:
                self.machine.penalise_noauth()

    def begin_auth(self, username: str) -> bool:
        self._tried_auth = True
        return True

    def password_auth_supported(self) -> bool:
        return self.machine.password is not None

    async def validate_password(self, username: str, password: str) -> bool:
        m = self.machine
        m.logins += 1
        if m.auth_delay:
            await asyncio.sleep(m.auth_delay)
        return not m.refuse_logins and username == m.username and password == m.password

    def public_key_auth_supported(self) -> bool:
        return self.machine.authorized_key is not None

    def validate_public_key(self, username: str, key: asyncssh.SSHKey) -> bool:
        m = self.machine
        if m.refuse_logins or username != m.username or m.authorized_key is None:
            return False
        authorized = asyncssh.import_public_key(m.authorized_key)
        return bool(key.public_data == authorized.public_data)


async def _main() -> None:  # pragma: no cover - interactive demo entry point
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--mac", default="52:54:00:12:34:56")
    parser.add_argument("--udp-port", type=int, default=40009)
    parser.add_argument("--ssh-port", type=int, default=2222)
    parser.add_argument("--boot-delay", type=float, default=3.0)
    args = parser.parse_args()
    machine = MachineSimulator(
        mac=args.mac,
        udp_port=args.udp_port,
        ssh_port=args.ssh_port,
        boot_delay=args.boot_delay,
        shutdown_delay=1.0,
    )
    await machine.start()
    print(
        "Simulated machine (off until woken). In Home Assistant add WakeHub → Physical machine:\n"
        f"  name: Demo machine\n  mac: {machine.mac}\n  host: 127.0.0.1\n"
        f"  broadcast_address: 127.0.0.1\n  broadcast_port: {machine.udp_port}\n"
        f"  ssh_port: {machine.ssh_port}\n  username: {machine.username}\n"
        f"  password: {machine.password}\n"
        f"  host key fingerprint: {machine.host_key_fingerprint}",
        flush=True,
    )
    await asyncio.Event().wait()


if __name__ == "__main__":  # pragma: no cover
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_main())
