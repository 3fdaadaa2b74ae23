"""A real Home Assistant with WakeHub, and the demo lab, each in its own process.

What `scripts/demo` runs, on free ports and in a throwaway directory, for the
browser tests (and `scripts/screenshots`, which runs them):

- `DemoLab`: `python -m tests.simulators.demo` (every simulator of the demo,
  the Docker engine over HTTPS so that its certificate is confirmed too).
- `HomeAssistant`: `hass --config <tmp>` with the repository's
  configuration.yaml, WakeHub linked in, on a free port, WakeHub's log at INFO.

Both write their output to files in their directory (`log()`), shown when a
test fails.
"""

from __future__ import annotations

from dataclasses import dataclass, field
import os
from pathlib import Path
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

REPO = Path(__file__).resolve().parents[2]
HOST = "127.0.0.1"
CHROMIUM = Path(os.environ.get("WAKEHUB_CHROMIUM", "/usr/bin/chromium"))
HA_START_TIMEOUT = 300.0  # a first start installs the frontend from PyPI
# "  jellyfin     http://127.0.0.1:41234/" in the lab's instructions.
PAGE_LINE = re.compile(r"^  (\S+) +(http://[\d.]+:\d+/)$", re.MULTILINE)


def free_port(kind: int = socket.SOCK_STREAM) -> int:
    with socket.socket(socket.AF_INET, kind) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def _stop(process: subprocess.Popen[bytes] | None, timeout: float = 30.0) -> None:
    if process is None or process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@dataclass
class DemoLab:
    """The demo's simulators in a subprocess, on free ports."""

    directory: Path
    ports: dict[str, int] = field(default_factory=dict)
    #: Each container's page (served while it runs), as the lab prints them.
    pages: dict[str, str] = field(default_factory=dict)
    process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.ports = {
            "nas-wol": free_port(socket.SOCK_DGRAM),
            "nas-ssh": free_port(),
            "pve1-wol": free_port(socket.SOCK_DGRAM),
            "pve1-ssh": free_port(),
            "proxmox": free_port(),
            "docker": free_port(),
            "ovh": free_port(),
        }
        ready = self.directory / "lab-ready.txt"
        command = [
            sys.executable,
            "-m",
            "tests.simulators.demo",
            "--state-dir",
            "",
            "--docker-tls",
            "--ready-file",
            str(ready),
            # Quicker than the demo's, so the cascade fits in the suite's time.
            "--pve1-boot",
            "4",
            "--pve-api-delay",
            "1",
            "--vm-boot",
            "3",
        ]
        for name, port in self.ports.items():
            command += [f"--{name}-port", str(port)]
        log = (self.directory / "lab.log").open("wb")
        self.process = subprocess.Popen(  # noqa: S603 - our own command line
            command,
            cwd=REPO,
            env={**os.environ, "PYTHONPATH": str(REPO)},
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 60
        while not ready.exists():
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the demo lab did not start: {self.log()}")
            time.sleep(0.1)
        self.pages = dict(PAGE_LINE.findall(ready.read_text()))

    def log(self) -> str:
        path = self.directory / "lab.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def renew_docker_certificate(self) -> str:
        """A new certificate for the engine (the lab's SIGUSR1); its SHA-256."""
        assert self.process is not None
        renewed = re.compile(r"certificate was renewed, SHA-256 (\S+)")
        before = len(renewed.findall(self.log()))
        self.process.send_signal(signal.SIGUSR1)
        deadline = time.monotonic() + 30
        while len(found := renewed.findall(self.log())) == before:
            if time.monotonic() > deadline:
                raise RuntimeError(f"the lab did not renew it: {self.log()[-2000:]}")
            time.sleep(0.1)
        return str(found[-1])

    def stop(self) -> None:
        _stop(self.process)


@dataclass
class HomeAssistant:
    """`hass` on a free port with a fresh configuration directory."""

    directory: Path
    port: int = 0
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def start(self) -> None:
        self.port = free_port()
        config = self.directory / "config"
        (config / "custom_components").mkdir(parents=True)
        (config / "custom_components" / "wakehub").symlink_to(
            REPO / "custom_components" / "wakehub"
        )
        shutil.copy(REPO / "config" / "configuration.yaml", config)
        self._launch()

    def restart(self) -> None:
        """Stopped and started again on the same data and port, as an update
        restarts it: the browser's login survives, as a person's does."""
        self.stop()
        self._launch()

    def _launch(self) -> None:
        config = self.directory / "config"
        hass = Path(sys.executable).with_name("hass")
        log = (self.directory / "home-assistant.log").open("ab")
        self.process = subprocess.Popen(  # noqa: S603 - our own command line
            [str(hass), "--config", str(config)],
            cwd=REPO,
            # The port through SETUP_PORT: an `http:` section in YAML would be a
            # change the owner must confirm in the UI, else reverted.
            env={
                **os.environ,
                "SETUP_PORT": str(self.port),
                "WAKEHUB_LOG_LEVEL": "info",
            },
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + HA_START_TIMEOUT
        while not self._answers():
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(
                    f"Home Assistant did not start: {self.log()[-3000:]}"
                )
            time.sleep(0.5)

    def _answers(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.url}/api/onboarding", timeout=2):  # noqa: S310
                return True
        except urllib.error.HTTPError:
            return True  # 404 once onboarding is done: it answers all the same
        except urllib.error.URLError, OSError:
            return False

    def log(self) -> str:
        path = self.directory / "home-assistant.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def stop(self) -> None:
        _stop(self.process, timeout=60)


def throwaway_directory() -> Path:
    return Path(tempfile.mkdtemp(prefix="wakehub-browser-"))


def remove(directory: Path) -> None:
    shutil.rmtree(directory, ignore_errors=True)
