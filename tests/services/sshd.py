"""A real OpenSSH `sshd` on 127.0.0.1, for interoperability tests.

`running_sshd()` starts `/usr/sbin/sshd -D -e -f <config>` on a free loopback port
with its own ed25519 host key, config, pidfile and authorized_keys in a private
temporary directory; the system's sshd, its config and its keys are never used or
touched. Only the local user `wakehub-test` may log in, by password or by one of
three client keys made here:

- `client_key`: ed25519 made by asyncssh, no passphrase (OpenSSH format);
- `encrypted_key`: ed25519 made by asyncssh, passphrase-protected OpenSSH format
  (bcrypt KDF with 16 rounds, as `ssh-keygen` does by default);
- `pem_key`: ECDSA made by `ssh-keygen -m PEM`, passphrase-protected legacy PEM
  (`Proc-Type: 4,ENCRYPTED`), the format older guides still produce.

Preparation (root, once per machine): `bash tests/services/sshd_setup.sh`. Without
root, sshd or the user, `running_sshd()` skips the test and says why.

`UsePAM no`: sshd then checks passwords against /etc/shadow itself, which works in
containers without a PAM session stack (no loginuid, no systemd-logind).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
import contextlib
from dataclasses import dataclass
import os
from pathlib import Path
import pwd
import shutil
import socket
import tempfile

import asyncssh
import pytest

SSHD = Path("/usr/sbin/sshd")
TEST_USER = "wakehub-test"
# Must match tests/services/sshd_setup.sh: a throwaway user on a test machine.
DEFAULT_PASSWORD = "wakehub-test-only-not-a-secret"
KEY_PASSPHRASE = "wakehub key passphrase 7f3a"
PEM_PASSPHRASE = "wakehub pem passphrase 91c2"
SETUP_HINT = "run `bash tests/services/sshd_setup.sh` as root first"
START_TIMEOUT = 5.0

# Whether this sshd knows `PerSourcePenalties` (OpenSSH >= 9.8); None: not tried yet.
_penalties_supported: bool | None = None


def sshd_password() -> str:
    """The test user's password, as sshd_setup.sh set it."""
    return os.environ.get("WAKEHUB_SSHD_PASSWORD", DEFAULT_PASSWORD)


def skip_reason() -> str | None:
    """Why a real sshd cannot run here, or None when it can."""
    if os.geteuid() != 0:
        return "the real-sshd tests need root (sshd runs as root to switch users)"
    if not SSHD.is_file():
        return f"{SSHD} is missing: {SETUP_HINT}"
    if shutil.which("ssh-keygen") is None:
        return f"ssh-keygen is missing: {SETUP_HINT}"
    try:
        pwd.getpwnam(TEST_USER)
    except KeyError:
        return f"the user {TEST_USER} is missing: {SETUP_HINT}"
    return None


@dataclass(frozen=True)
class ClientKey:
    """A client key pair as a user would paste it into the wizard."""

    private_key: str
    public_key: str
    passphrase: str | None = None


async def _exec(*args: str) -> str:
    """Run a short command without blocking the loop; its stdout, or RuntimeError."""
    proc = await asyncio.create_subprocess_exec(
        *args,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    stdout, stderr = await proc.communicate()
    if proc.returncode != 0:
        raise RuntimeError(
            f"{args[0]} exited with {proc.returncode}: {stderr.decode().strip()}"
        )
    return stdout.decode()


async def keygen_fingerprint(public_key_file: Path) -> str:
    """`SHA256:...` as `ssh-keygen -lf` prints it: the reference fingerprint."""
    # "256 SHA256:xxxx comment (ED25519)"
    return (await _exec("ssh-keygen", "-lf", str(public_key_file))).split()[1]


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _asyncssh_keys() -> tuple[ClientKey, ClientKey]:
    """An ed25519 key in the clear and one under a passphrase (bcrypt: slow-ish)."""
    plain = asyncssh.generate_private_key("ssh-ed25519", comment="wakehub-plain")
    encrypted = asyncssh.generate_private_key("ssh-ed25519", comment="wakehub-enc")
    return (
        ClientKey(
            private_key=plain.export_private_key("openssh").decode(),
            public_key=plain.export_public_key("openssh").decode().strip(),
        ),
        ClientKey(
            private_key=encrypted.export_private_key(
                "openssh", KEY_PASSPHRASE, rounds=16
            ).decode(),
            public_key=encrypted.export_public_key("openssh").decode().strip(),
            passphrase=KEY_PASSPHRASE,
        ),
    )


class RealSshd:
    """One sshd process and everything it owns. Use `running_sshd()` to get one."""

    host = "127.0.0.1"
    username = TEST_USER

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.password = sshd_password()
        self.port = 0
        self.host_key = ""
        self.host_key_fingerprint = ""
        self.client_key = ClientKey("", "")
        self.encrypted_key = ClientKey("", "")
        self.pem_key = ClientKey("", "")
        self._proc: asyncio.subprocess.Process | None = None
        self._generation = 0
        self._host_key_file = workdir / "host_key_0"

    @property
    def config_file(self) -> Path:
        return self.workdir / "sshd_config"

    @property
    def log_file(self) -> Path:
        return self.workdir / "sshd.log"

    async def log(self) -> str:
        """What sshd wrote to stderr so far (for failure messages)."""
        return await asyncio.to_thread(self.log_file.read_text, errors="replace")

    # -- preparation ------------------------------------------------------------------
    async def prepare(self) -> None:
        """Host key, client keys, authorized_keys: everything before the first start."""
        # The unprivileged sshd child reads authorized_keys as the test user.
        await asyncio.to_thread(self.workdir.chmod, 0o755)
        await self._new_host_key()
        self.client_key, self.encrypted_key = await asyncio.to_thread(_asyncssh_keys)
        self.pem_key = await self._ssh_keygen_pem_key()
        authorized = "".join(
            f"{key.public_key}\n"
            for key in (self.client_key, self.encrypted_key, self.pem_key)
        )
        await asyncio.to_thread(self._write, "authorized_keys", authorized, 0o644)

    def _write(self, name: str, text: str, mode: int) -> None:
        path = self.workdir / name
        path.write_text(text)
        path.chmod(mode)

    async def _new_host_key(self) -> None:
        """A fresh ed25519 host key in a new file (ssh-keygen will not overwrite)."""
        self._generation += 1
        self._host_key_file = self.workdir / f"host_key_{self._generation}"
        await _exec(
            "ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "wakehub-test-host",
            "-f", str(self._host_key_file),
        )  # fmt: skip
        pub = self._host_key_file.with_name(self._host_key_file.name + ".pub")
        text = await asyncio.to_thread(pub.read_text)
        # Compare without the comment: servers do not send it.
        self.host_key = " ".join(text.split()[:2])
        self.host_key_fingerprint = await keygen_fingerprint(pub)

    async def _ssh_keygen_pem_key(self) -> ClientKey:
        path = self.workdir / "client_pem"
        await _exec(
            "ssh-keygen", "-q", "-t", "ecdsa", "-b", "256", "-m", "PEM",
            "-N", PEM_PASSPHRASE, "-C", "wakehub-pem", "-f", str(path),
        )  # fmt: skip
        private = await asyncio.to_thread(path.read_text)
        public = await asyncio.to_thread(path.with_name("client_pem.pub").read_text)
        return ClientKey(private, public.strip(), PEM_PASSPHRASE)

    def _config(self) -> str:
        lines = [
            f"Port {self.port}",
            f"ListenAddress {self.host}",
            f"HostKey {self._host_key_file}",
            f"PidFile {self.workdir / 'sshd.pid'}",
            f"AuthorizedKeysFile {self.workdir / 'authorized_keys'}",
            # The key file lives under /tmp, which StrictModes rejects (world-writable).
            "StrictModes no",
            f"AllowUsers {TEST_USER}",
            "PasswordAuthentication yes",
            "KbdInteractiveAuthentication no",
            "PubkeyAuthentication yes",
            "UsePAM no",
            "PermitRootLogin no",
            "UseDNS no",
            "PrintMotd no",
            "PrintLastLog no",
            "X11Forwarding no",
            "AllowTcpForwarding no",
            "LoginGraceTime 10",
            "LogLevel VERBOSE",
        ]
        if _penalties_supported is not False:
            # OpenSSH >= 9.8 would block 127.0.0.1 after the refused-login tests.
            lines.append("PerSourcePenalties no")
        return "\n".join(lines) + "\n"

    async def _write_config(self) -> None:
        """Write the config and have sshd check it (`sshd -t`) before starting."""
        global _penalties_supported  # noqa: PLW0603 - probed once per test run
        await asyncio.to_thread(self._write, "sshd_config", self._config(), 0o600)
        if _penalties_supported is not None:
            return
        try:
            await _exec(str(SSHD), "-t", "-f", str(self.config_file))
        except RuntimeError as err:
            if "PerSourcePenalties" not in str(err):
                raise
            _penalties_supported = False  # older OpenSSH: nothing to switch off
            await asyncio.to_thread(self._write, "sshd_config", self._config(), 0o600)
        else:
            _penalties_supported = True

    # -- process ----------------------------------------------------------------------
    async def start(self) -> None:
        """Start sshd (on a new free port the first time) and wait until it listens."""
        attempts = 3 if self.port == 0 else 1
        for attempt in range(attempts):
            if attempts > 1:
                self.port = _free_port()
            await self._write_config()
            try:
                await self._spawn_and_wait()
            except RuntimeError:
                # Another process may have taken the port between probe and bind.
                if attempt == attempts - 1:
                    raise
            else:
                return

    async def _spawn_and_wait(self) -> None:
        log = await asyncio.to_thread(self.log_file.open, "ab")
        try:
            self._proc = await asyncio.create_subprocess_exec(
                str(SSHD), "-D", "-e", "-f", str(self.config_file),
                stdin=asyncio.subprocess.DEVNULL,
                stdout=log,
                stderr=log,
            )  # fmt: skip
        finally:
            await asyncio.to_thread(log.close)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + START_TIMEOUT
        while loop.time() < deadline:
            if self._proc.returncode is not None:
                raise RuntimeError(
                    f"sshd exited with {self._proc.returncode}: {await self.log()}"
                )
            if await self._accepts():
                return
            await asyncio.sleep(0.02)
        await self.stop()
        raise RuntimeError(f"sshd did not listen within {START_TIMEOUT} s")

    async def _accepts(self) -> bool:
        try:
            _reader, writer = await asyncio.open_connection(self.host, self.port)
        except OSError:
            return False
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()
        return True

    async def stop(self) -> None:
        """Stop sshd (SIGTERM, then SIGKILL after 5 s) and wait until the port is shut."""
        proc, self._proc = self._proc, None
        if proc is None or proc.returncode is not None:
            return
        proc.terminate()
        try:
            async with asyncio.timeout(5):
                await proc.wait()
        except TimeoutError:
            proc.kill()
            await proc.wait()
        # A connection child forked just before SIGTERM holds the listening socket
        # until it closes it a moment later; until then the port still accepts
        # (and cannot be bound again by a restart).
        for _ in range(int(START_TIMEOUT / 0.01)):
            if not await self._accepts():
                return
            await asyncio.sleep(0.01)

    async def restart_with_new_host_key(self) -> None:
        """Same address and port, a new host key: what a reinstalled machine shows."""
        await self.stop()
        await self._new_host_key()
        await self.start()


@contextlib.asynccontextmanager
async def running_sshd() -> AsyncIterator[RealSshd]:
    """A started `RealSshd`, stopped and wiped afterwards; skips when impossible."""
    reason = skip_reason()
    if reason:
        pytest.skip(reason)
    workdir = Path(await asyncio.to_thread(tempfile.mkdtemp, prefix="wakehub-sshd-"))
    sshd = RealSshd(workdir)
    try:
        await sshd.prepare()
        await sshd.start()
        yield sshd
    finally:
        await sshd.stop()
        await asyncio.to_thread(shutil.rmtree, workdir, ignore_errors=True)
