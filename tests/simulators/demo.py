"""The whole demo home lab in one process, for `scripts/demo`.

Everything listens on 127.0.0.1 with fixed ports (flags change them):

- "Demo NAS": a physical machine (Wake-on-LAN UDP 40009, SSH 2222, boots in 3 s);
- "pve1": the physical Proxmox node (Wake-on-LAN UDP 40010, SSH 2223, boots in 20 s);
- Proxmox VE cluster "homelab" (HTTPS 8006, self-signed) with one node, pve1, and a
  few guests, among them the qemu VM "media"; its API answers only while the pve1
  machine is on, from `--pve-api-delay` (3) s after its SSH server, as pveproxy
  starts after sshd (a node that is off refuses connections; its guests stop);
- the Docker engine inside "media" (plain TCP 2375) with "jellyfin" and friends; it
  answers only once "media" has been running for `--vm-boot` seconds, and its
  containers stop when the VM stops (restart policies apply when it comes back);
- an OVHcloud API (HTTPS 8443, self-signed) with two VPSes; a consumer key
  requested by the wizard is validated by opening its link in a browser.

So the cascade can be watched: from everything off, turning on jellyfin wakes pve1,
then starts media, then jellyfin.

Keys and certificates (and consumer keys granted by the OVH page) are kept in
`--state-dir` (config/.wakehub-demo by default, next to the Home Assistant data
that pins them), so restarting the demo does not look like an impostor.

It prints what to type in Home Assistant's WakeHub wizard, writes the same text to
`--ready-file` once everything listens, logs every power change, then serves until
Ctrl-C (or SIGTERM); SIGUSR1 renews the engine's certificate (with `--docker-tls`),
to see WakeHub's repair for a changed certificate. With `--setup URL` it also waits
for the Home Assistant at URL, creates (or logs in as) the demo's owner, and adds the
whole lab through WakeHub's own wizard and options, host links included
(tests/simulators/demo_setup.py).

    python -m tests.simulators.demo [--cold] [--contract] [--setup URL] [--help]
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Awaitable, Callable
import contextlib
from dataclasses import dataclass, field
import datetime as dt
import hashlib
import json
from pathlib import Path
import signal
import ssl
import sys
import time
from typing import Any

import aiohttp
from aiohttp import web
import asyncssh
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from tests.contract import SPECS_DIR
from tests.simulators.base import HttpSimulator, SelfSignedCertificate
from tests.simulators.demo_setup import (
    DEMO_PASSWORD,
    DEMO_USERNAME,
    HomeAssistantApi,
    Json,
    SetupError,
    Wizard,
)
from tests.simulators.docker import DockerSimulator
from tests.simulators.machine import MachineSimulator
from tests.simulators.ovh import Credential, OvhSimulator
from tests.simulators.proxmox import (
    DEFAULT_TOKEN_SECRET,
    GIB,
    ProxmoxSimulator,
    SimGuest,
)

REPO = Path(__file__).resolve().parents[2]
HOST = "127.0.0.1"
TICK = 0.25  # how often the power links between the simulators are checked
WAKE_PATH = "/api/wakehub/wake/"  # the wake link's path (wake/const.py)
WAKE_CONTAINER = "jellyfin"  # the container whose wake on access the setup turns on
# The Docker kind's subentry type (kinds/docker/const.py), for its Reconfigure.
CONTAINER_SUBENTRY = "container"

NAS_MAC = "52:54:00:12:34:56"
PVE1_MAC = "52:54:00:8a:1e:01"
NODE = "pve1"
CLUSTER = "homelab"
MEDIA_VMID = 100
ONBOOT = {102}  # guests Proxmox starts by itself when the node boots (pihole)
PROXMOX_USER = "root@pam"
PROXMOX_TOKEN_NAME = "wakehub"

# Docker restart policies: what comes back by itself when the engine starts.
# "unless-stopped" ones come back only if they were running when the VM stopped.
CONTAINERS: list[tuple[str, str, str, str, str | None]] = [
    # name, image, policy, initial state, healthcheck result
    ("jellyfin", "jellyfin/jellyfin:10.10", "unless-stopped", "running", "healthy"),
    ("sonarr", "lscr.io/linuxserver/sonarr:4.0", "unless-stopped", "running", None),
    ("radarr", "lscr.io/linuxserver/radarr:5.14", "unless-stopped", "running", None),
    ("qbittorrent", "lscr.io/linuxserver/qbittorrent:5.0", "no", "exited", None),
    ("homepage", "ghcr.io/gethomepage/homepage:v1.0", "always", "running", None),
    ("broken", "example/broken:latest", "no", "exited", None),
]
CONTRACT_FILES = (
    "pve-apidata-9.1.3.json",
    "docker-engine-v1.56-swagger.yaml",
    "ovh-vps-openapi3.json",
    "ovh-auth-legacy-eu.json",
)


def say(text: str) -> None:
    """Print, but keep serving if the terminal went away."""
    with contextlib.suppress(OSError):
        print(text, flush=True)


def log(message: str) -> None:
    """One line per event, so the terminal tells the story of a cascade."""
    now = dt.datetime.now().astimezone().strftime("%H:%M:%S")
    say(f"[demo {now}] {message}")


def sha256_fingerprint(der: bytes) -> str:
    """As WakeHub shows it (api/tls.py format_fingerprint), without importing HA."""
    digest = hashlib.sha256(der).hexdigest().upper()
    return ":".join(digest[i : i + 2] for i in range(0, 64, 2))


# -- state kept across runs ---------------------------------------------------------
@dataclass
class DemoState:
    """Host keys, certificates and OVH consumer keys that must survive a restart:
    Home Assistant pins the first two and stores the third."""

    directory: Path | None
    nas_key: asyncssh.SSHKey
    pve1_key: asyncssh.SSHKey
    proxmox_cert: SelfSignedCertificate
    ovh_cert: SelfSignedCertificate
    ovh_credentials: list[dict[str, Any]] = field(default_factory=list)

    @classmethod
    def load(cls, directory: Path | None) -> DemoState:
        """Read the state (synchronously, before the loop starts), creating it."""
        if directory is not None:
            directory.mkdir(parents=True, exist_ok=True)
        credentials: list[dict[str, Any]] = []
        if directory is not None:
            with contextlib.suppress(OSError, ValueError):
                credentials = json.loads(
                    (directory / "ovh-credentials.json").read_text()
                )
        return cls(
            directory,
            _host_key(directory, "nas_host_key"),
            _host_key(directory, "pve1_host_key"),
            _certificate(directory, "proxmox"),
            _certificate(directory, "ovh"),
            credentials,
        )

    def save_credentials(self, credentials: list[dict[str, Any]]) -> None:
        if self.directory is None:
            return
        path = self.directory / "ovh-credentials.json"
        temporary = path.with_suffix(".tmp")  # consumer keys are secrets: 0600
        _private(temporary, json.dumps(credentials, indent=1).encode())
        temporary.replace(path)


def _private(path: Path, data: bytes) -> None:
    path.write_bytes(data)
    path.chmod(0o600)


def _host_key(directory: Path | None, name: str) -> asyncssh.SSHKey:
    path = directory / name if directory is not None else None
    if path is not None and path.is_file():
        with contextlib.suppress(OSError, asyncssh.KeyImportError):
            return asyncssh.read_private_key(path)
    key = asyncssh.generate_private_key("ssh-ed25519")
    if path is not None:
        _private(path, key.export_private_key("openssh"))
    return key


def _certificate(directory: Path | None, name: str) -> SelfSignedCertificate:
    if directory is not None:
        cert_path, key_path = directory / f"{name}.crt", directory / f"{name}.key"
        if cert_path.is_file() and key_path.is_file():
            with contextlib.suppress(OSError, ValueError):
                cert_pem = cert_path.read_bytes()
                certificate = x509.load_pem_x509_certificate(cert_pem)
                return SelfSignedCertificate(
                    cert_pem=cert_pem,
                    key_pem=key_path.read_bytes(),
                    der=certificate.public_bytes(serialization.Encoding.DER),
                )
    generated = SelfSignedCertificate.generate()
    if directory is not None:
        _private(directory / f"{name}.key", generated.key_pem)
        (directory / f"{name}.crt").write_bytes(generated.cert_pem)
    return generated


# -- simulators with the contract check as an option ----------------------------------
@dataclass
class DemoDocker(DockerSimulator):
    """The Docker simulator; contract checks only when asked (they load big specs)."""

    contract: bool = False

    def check_contract(
        self, request: web.Request, body: bytes, response: web.StreamResponse
    ) -> list[str]:
        if not self.contract:
            return []
        return super().check_contract(request, body, response)


class DemoOvh(OvhSimulator):
    """The OVH simulator; contract checks only when asked."""

    contract = False

    def check_contract(
        self, request: web.Request, body: bytes, response: web.StreamResponse
    ) -> list[str]:
        if not self.contract:
            return []
        return super().check_contract(request, body, response)


@dataclass
class NodeMachine(MachineSimulator):
    """A machine whose services start with it: `on_boot` runs as it powers on,
    before its SSH server listens (`booting` is true meanwhile)."""

    on_boot: Callable[[], Awaitable[None]] | None = None
    booting: bool = False

    async def _boot_now(self, *, up_for: float = 0.0) -> None:
        if self.powered:
            return
        self.booting = True
        try:
            if self.on_boot is not None:
                await self.on_boot()
            await super()._boot_now(up_for=up_for)
        finally:
            self.booting = False


@dataclass
class PowerGate:
    """The listening socket of an HTTP simulator, opened and closed as the host it
    runs on powers on and off (closing also drops kept-alive connections)."""

    sim: HttpSimulator
    ssl_context: ssl.SSLContext | None
    up: bool = True

    async def close(self) -> None:
        runner = self.sim._runner
        assert runner is not None
        for site in list(runner.sites):
            await site.stop()
        if runner.server is not None:
            for handler in runner.server.connections:
                handler.force_close()
        self.up = False

    async def open(self) -> None:
        runner = self.sim._runner
        assert runner is not None
        site = web.TCPSite(
            runner, self.sim.host, self.sim.port, ssl_context=self.ssl_context
        )
        await site.start()
        self.up = True


# -- the lab --------------------------------------------------------------------------
class DemoLab:
    """The five simulators and the power links between them."""

    def __init__(self, args: argparse.Namespace, state: DemoState) -> None:
        self.args = args
        self.state = state
        self.nas = MachineSimulator(
            mac=NAS_MAC,
            host=HOST,
            udp_port=args.nas_wol_port,
            ssh_port=args.nas_ssh_port,
            boot_delay=args.nas_boot,
            shutdown_delay=2.0,
        )
        self.nas._host_key = state.nas_key
        self.pve1 = NodeMachine(
            mac=PVE1_MAC,
            host=HOST,
            udp_port=args.pve1_wol_port,
            ssh_port=args.pve1_ssh_port,
            boot_delay=args.pve1_boot,
            shutdown_delay=5.0,
        )
        self.pve1._host_key = state.pve1_key
        self.contract = args.contract and all(
            (SPECS_DIR / name).is_file() for name in CONTRACT_FILES
        )
        self.proxmox = ProxmoxSimulator(
            host=HOST,
            port=args.proxmox_port,
            certificate=state.proxmox_cert,
            cluster_name=CLUSTER,
            node_names=(NODE,),
            guests=_demo_guests(),
            start_delay=4.0,
            stop_delay=8.0,
            task_delay=2.0,
            contract=self.contract,
        )
        self.docker = DemoDocker(
            host=HOST,
            port=args.docker_port,
            engine_name="media",
            delay=0.02,
            start_delay=1.0,
            stop_delay=1.5,
            stats_delay=0.05,
            health_delay=5.0,
            contract=self.contract,
            tls=args.docker_tls,
        )
        self.policies: dict[str, str] = {}
        for name, image, policy, initial, health in CONTAINERS:
            self.docker.add_container(name, image=image, state=initial, health=health)
            self.policies[name] = policy
        self.docker.fail_start(
            "broken",
            'failed to create task for container: exec: "/app": permission denied',
        )
        self.ovh = DemoOvh(
            host=HOST,
            port=args.ovh_port,
            certificate=state.ovh_cert,
            vps_count=2,
            task_duration=8.0,
            task_start_delay=0.5,
            auto_validate_after=args.ovh_auto_validate,
            response_delay=0.05,
            verbose=True,
        )
        self.ovh.contract = self.contract
        for saved in state.ovh_credentials:
            with contextlib.suppress(KeyError, TypeError):
                self.ovh.credentials[saved["consumer_key"]] = Credential(
                    consumer_key=saved["consumer_key"],
                    application_key=self.ovh.application_key,
                    rules=saved["rules"],
                    state=saved["state"],
                    token=saved["token"],
                    credential_id=saved["credential_id"],
                    creation=saved["creation"],
                )
        self._saved_credentials = self._credentials_json()
        self.proxmox_gate = PowerGate(self.proxmox, None)
        self.docker_gate = PowerGate(self.docker, None)
        self._api_at: float | None = None  # when pveproxy answers after a boot
        self._was_running: set[str] = set()  # containers up when the engine stopped
        self._last: dict[str, str] = {}
        self._started: list[Any] = []
        self.pages: dict[str, str] = {}  # container -> its page, served while it runs

    # -- lifecycle ---------------------------------------------------------------------
    async def start(self) -> None:
        """Start everything; raises OSError (naming the flag) if a port is taken."""
        cold = self.args.cold
        steps: list[tuple[str, Any]] = [
            ("--nas-wol-port/--nas-ssh-port", self._start_machine(self.nas, cold)),
            ("--pve1-wol-port/--pve1-ssh-port", self._start_machine(self.pve1, cold)),
            ("--proxmox-port", self.proxmox.start()),
            ("--docker-port", self.docker.start()),
            ("--ovh-port", self.ovh.start()),
        ]
        for index, (flag, coroutine) in enumerate(steps):
            try:
                await coroutine
            except OSError as err:
                for _, pending in steps[index + 1 :]:
                    pending.close()
                raise OSError(f"{err} (change the port with {flag})") from err
        # Each container serves its tiny page while it runs: what wake on
        # access opens once the container answers.
        for name, *_ in CONTAINERS:
            self.pages[name] = await self.docker.serve_page(name)
        assert self.proxmox.certificate is not None
        self.proxmox_gate.ssl_context = self.proxmox.certificate.server_context()
        if self.docker.certificate is not None:
            self.docker_gate.ssl_context = self.docker.certificate.server_context()
        if cold:
            self.docker.containers["jellyfin"].state = "exited"  # stopped by hand
            await self._engine_off()
            await self._node_off()
        self._remember_states(quiet=True)
        self.pve1.on_boot = self._pve1_booting

    async def _start_machine(self, machine: MachineSimulator, cold: bool) -> None:
        await machine.start(powered=not cold)
        self._started.append(machine)

    async def stop(self) -> None:
        with contextlib.suppress(Exception):
            await self.docker.stop_pages()
        # Reverse order: the Docker and OVH simulators chain the loop's exception
        # handler and restore it on stop.
        for sim in (self.ovh, self.docker, self.proxmox):
            with contextlib.suppress(Exception):
                await sim.stop()
        for machine in reversed(self._started):
            with contextlib.suppress(Exception):
                await machine.stop()

    async def run(self, stopping: asyncio.Event) -> None:
        """Follow the power links until asked to stop."""
        while not stopping.is_set():
            await self.tick()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stopping.wait(), TICK)

    async def tick(self) -> None:
        node_on = self.pve1.powered or self.pve1.booting
        api_due = self._api_at is not None and time.monotonic() >= self._api_at
        if node_on and api_due and not self.proxmox_gate.up:
            await self._open_api()
        elif not node_on and (self.proxmox_gate.up or self._api_at is not None):
            self._api_at = None
            await self._node_off()
            log("pve1 is off: the Proxmox API is gone, its guests are stopped")
        engine_on = node_on and self._media_booted()
        if engine_on and not self.docker_gate.up:
            self._engine_booted()
            await self.docker_gate.open()
            log(f"media booted: the Docker engine answers on {self.docker.docker_url}")
        elif not engine_on and self.docker_gate.up:
            await self._engine_off()
            log("media is not running: the Docker engine is gone")
        self._remember_states()
        self._report_violations()
        await self._save_credentials()

    # -- power links -------------------------------------------------------------------
    def _media_booted(self) -> bool:
        """Docker answers once the VM has been up long enough for its OS to boot."""
        media = self.proxmox.guests[MEDIA_VMID]
        return (
            media.status == "running"
            and not media.paused
            and media.started_at is not None
            and time.time() - media.started_at >= self.args.vm_boot
        )

    async def _node_off(self) -> None:
        """Power lost: guests stop and running tasks never finish."""
        await self.proxmox_gate.close()
        for handle in self.proxmox._handles:
            handle.cancel()
        self.proxmox._handles.clear()
        now = int(time.time())
        for task in self.proxmox.tasks.values():
            if task.running:
                task.running, task.exitstatus, task.endtime = False, "interrupted", now
        for guest in self.proxmox.guests.values():
            guest.status, guest.started_at, guest.paused = "stopped", None, False

    async def _pve1_booting(self) -> None:
        """pve1 powers on: pveproxy answers `--pve-api-delay` s after sshd (before
        it, when the delay is 0, so that no client can see one without the other)."""
        self._api_at = time.monotonic() + self.args.pve_api_delay
        if self.args.pve_api_delay <= 0:
            await self._open_api()

    async def _open_api(self) -> None:
        self.proxmox.nodes[NODE].boot_time = time.time()
        for vmid in ONBOOT:
            self.proxmox.set_status(vmid, "running")
        await self.proxmox_gate.open()
        log(f"pve1 is up: the Proxmox API answers on {self.proxmox.url}")

    async def _engine_off(self) -> None:
        await self.docker_gate.close()
        for container in self.docker.containers.values():
            if container.state in ("running", "paused", "restarting"):
                self._was_running.add(container.name)
                self.docker._exited(container, 0)

    def _engine_booted(self) -> None:
        """dockerd starts the containers their restart policy asks for."""
        loop = asyncio.get_running_loop()
        for name, container in self.docker.containers.items():
            policy = self.policies.get(name, "no")
            if container.state == "running" or not (
                policy == "always"
                or (policy == "unless-stopped" and name in self._was_running)
            ):
                continue
            container.state = "running"
            container.started_at = dt.datetime.now(dt.UTC)
            if container.healthcheck:
                container.health = "starting"
                self.docker._timers.append(
                    loop.call_later(
                        self.docker.health_delay, self.docker._settle_health, container
                    )
                )
        self._was_running.clear()

    async def renew_docker_certificate(self) -> None:
        """A new self-signed certificate for the engine (on SIGUSR1), as a
        renewal gives: WakeHub, which pinned the old one, must raise a repair."""
        if not self.args.docker_tls:
            log("SIGUSR1 ignored: the engine has no certificate (see --docker-tls)")
            return
        self.docker.certificate = SelfSignedCertificate.generate()
        self.docker_gate.ssl_context = self.docker.certificate.server_context()
        if self.docker_gate.up:  # as dockerd restarts to load it
            await self.docker_gate.close()
            await self.docker_gate.open()
        fingerprint = sha256_fingerprint(self.docker.certificate.der)
        log(f"the Docker engine's certificate was renewed, SHA-256 {fingerprint}")

    # -- reporting ---------------------------------------------------------------------
    def _states(self) -> dict[str, str]:
        states = {
            "machine Demo NAS": "on" if self.nas.powered else "off",
            "machine pve1": "on" if self.pve1.powered else "off",
        }
        for guest in self.proxmox.guests.values():
            if not guest.template:
                status = "paused" if guest.paused else guest.status
                states[f"Proxmox {guest.type} {guest.name}"] = status
        for container in self.docker.containers.values():
            states[f"container {container.name}"] = container.state
        for vps in self.ovh.vps.values():
            states[f"VPS {vps.display_name}"] = vps.state
        return states

    def _remember_states(self, *, quiet: bool = False) -> None:
        states = self._states()
        if not quiet:
            for name, state in states.items():
                if self._last.get(name) != state:
                    log(f"{name}: {state}")
        self._last = states

    def _report_violations(self) -> None:
        for label, sim in (
            ("proxmox", self.proxmox),
            ("docker", self.docker),
            ("ovh", self.ovh),
        ):
            for problem in sim.violations:
                log(f"contract violation ({label}): {problem}")
            sim.violations.clear()

    def _credentials_json(self) -> list[dict[str, Any]]:
        return [
            {
                "consumer_key": c.consumer_key,
                "rules": c.rules,
                "state": c.state,
                "token": c.token,
                "credential_id": c.credential_id,
                "creation": c.creation,
            }
            for key, c in sorted(self.ovh.credentials.items())
            if key != self.ovh.consumer_key
        ]

    async def _save_credentials(self) -> None:
        current = self._credentials_json()
        if current != self._saved_credentials:
            self._saved_credentials = current
            await asyncio.to_thread(self.state.save_credentials, current)

    # -- the wizard values ---------------------------------------------------------------
    def instructions(self) -> str:
        a = self.args
        proxmox_cert = self.proxmox.certificate
        ovh_cert = self.ovh.certificate
        assert proxmox_cert is not None
        assert ovh_cert is not None
        vps = ", ".join(f"{v.display_name} ({v.name})" for v in self.ovh.vps.values())
        state_note = (
            [
                "Everything starts OFF (--cold): add the machines with",
                f'"Add it anyway", turn pve1 on (it boots in {a.pve1_boot:g} s) before',
                "adding Proxmox, and turn media on before adding Docker.",
            ]
            if a.cold
            else ["Everything starts ON (run with --cold to start from all off)."]
        )
        machine = self._machine_block
        boot, api, vm = f"{a.pve1_boot:g}", f"{a.pve_api_delay:g}", f"{a.vm_boot:g}"
        lines = [
            "=" * 78,
            "WakeHub demo home lab: every simulator listens on 127.0.0.1.",
            *state_note,
            "In Home Assistant (http://localhost:8123): Settings > Devices & services",
            "> Add integration > WakeHub, then pick from the menu:",
            "",
            *machine("1", "Demo NAS", self.nas, a.nas_boot),
            "",
            *machine("2", "pve1", self.pve1, a.pve1_boot),
            "     (this machine IS the Proxmox node: its API answers only while it is",
            f"     on, from {a.pve_api_delay:g} s after its SSH server)",
            "",
            '3. "Proxmox VE"  (cluster homelab, node pve1)',
            f"     url           https://{HOST}:{self.proxmox.port}",
            f"     username      {PROXMOX_USER}",
            f"     token_id      {PROXMOX_TOKEN_NAME}",
            f"     token_secret  {DEFAULT_TOKEN_SECRET}",
            "     password      (leave empty)",
            "     verify_ssl    keep on, then confirm the certificate, SHA-256:",
            f"                   {sha256_fingerprint(proxmox_cert.der)}",
            "     resources     media (qemu 100), and any of windows11, pihole,",
            "                   nextcloud, gitea (locked by a backup: its start fails)",
            "",
            '4. "Docker"  (the engine inside the VM "media": answers only while',
            f"   media runs, {a.vm_boot:g} s after its start)",
            f"     url           {self.docker.docker_url}",
            "     (no client certificates; with --docker-tls, confirm the",
            "     engine's self-signed certificate)",
            "     resources     jellyfin, and any of sonarr, radarr, qbittorrent,",
            "                   homepage, broken (its start fails)",
            "",
            '5. "OVHcloud"',
            f"     endpoint            https://{HOST}:{self.ovh.port}/1.0",
            f"     application_key     {self.ovh.application_key}",
            f"     application_secret  {self.ovh.application_secret}",
            "     consumer_key        leave empty",
            "     then confirm the certificate, SHA-256:",
            f"                         {sha256_fingerprint(ovh_cert.der)}",
            "     then open the validation link WakeHub shows (a browser on this",
            "     host; accept the self-signed certificate): the page says",
            '     "WakeHub access granted"; go back and submit.',
            f"     resources           {vps}",
            "",
            "Container pages (each answers only while its container runs):",
            *(f"  {name:<12} {url}" for name, url in self.pages.items()),
            "",
            "Wake on access (set up with --setup; by hand: the container's",
            "Reconfigure > Service address = its page, Wake on access on): the",
            "device's Visit link wakes the whole chain, then opens the page.",
            "",
            "Host links, for the cascade:",
            "  Proxmox entry > Configure > pve1: the pve1 power switch",
            "  Docker entry > Configure > Runs on: the media power switch",
            "",
            "Cascade to try: turn off jellyfin, then media, then pve1 (or restart",
            "with --cold). Then turn on jellyfin and watch: WakeHub wakes pve1 by",
            f"Wake-on-LAN ({boot} s boot, API {api} s later), starts media",
            f"(4 s task, then {vm} s until Docker answers), then starts jellyfin.",
            "Every step is logged below and in Home Assistant's logbook.",
            "=" * 78,
        ]
        return "\n".join(lines) + "\n"

    @staticmethod
    def _machine_block(
        number: str, name: str, machine: MachineSimulator, boot: float
    ) -> list[str]:
        return [
            f'{number}. "Physical machine (Wake-on-LAN + SSH)"  (boots in {boot:g} s)',
            f"     name               {name}",
            f"     mac                {machine.mac}",
            f"     host               {HOST}",
            f"     broadcast_address  {HOST}",
            f"     broadcast_port     {machine.udp_port}",
            f"     ssh_port           {machine.ssh_port}",
            f"     username           {machine.username}",
            f"     password           {machine.password}",
            "     shutdown/reboot    keep the defaults",
            f"     host key to confirm  {machine.host_key_fingerprint}",
        ]


# -- the lab added to Home Assistant, through the wizard -------------------------------
def wizards(lab: DemoLab) -> list[tuple[str, str, Wizard]]:
    """(label, menu choice, answers) of every server of the lab, in the order a
    person adds them: the machines first, so that the links can point at them."""

    async def open_validation_link(step: Json) -> None:
        # What the person does in a browser: the page grants WakeHub's access.
        url = (step.get("description_placeholders") or {}).get("url")
        if url:
            async with (
                aiohttp.ClientSession() as session,
                session.get(url, ssl=False) as resp,
            ):
                await resp.read()

    def machine(name: str, sim: MachineSimulator) -> Wizard:
        return Wizard(
            {
                "name": name,
                "mac": sim.mac,
                "host": HOST,
                "broadcast_address": HOST,
                "broadcast_port": sim.udp_port,
                "ssh_port": sim.ssh_port,
                "username": sim.username,
                "password": sim.password,
            }
        )

    proxmox = Wizard(
        {
            "url": lab.proxmox.url,
            "username": PROXMOX_USER,
            "token_id": PROXMOX_TOKEN_NAME,
            "token_secret": DEFAULT_TOKEN_SECRET,
            "verify_ssl": True,
        }
    )
    docker = Wizard({"url": lab.docker.docker_url})
    ovh = Wizard(
        {
            "endpoint": f"https://{HOST}:{lab.ovh.port}/1.0",
            "application_key": lab.ovh.application_key,
            "application_secret": lab.ovh.application_secret,
        },
        hooks={"ovh_validate": open_validation_link},
    )
    return [
        ("machine Demo NAS", "machine", machine("Demo NAS", lab.nas)),
        ("machine pve1", "machine", machine(NODE, lab.pve1)),
        (f"Proxmox VE cluster {CLUSTER}", "proxmox", proxmox),
        ("Docker engine media", "docker", docker),
        ("OVHcloud account", "ovh", ovh),
    ]


async def add_lab(api: HomeAssistantApi, lab: DemoLab) -> None:
    """Add every server of the lab through the wizard, then link the layers
    (pve1 is the Proxmox node; the Docker engine runs in the VM media)."""
    added: dict[str, str] = {}  # menu choice -> entry id, for the links
    for label, kind, wizard in wizards(lab):
        result = await api.config_flow(kind, wizard)
        if result.get("type") == "create_entry":
            added[kind] = result["result"]["entry_id"]
            log(f"Home Assistant: added {label} through the wizard")
        elif result.get("reason") == "already_configured":
            log(f"Home Assistant: {label} was already added")
        else:
            raise SetupError(f"adding {label}: {result}")
    if "proxmox" in added:
        await set_host_link(api, added["proxmox"], NODE, node=NODE)
        log(f"Home Assistant: Proxmox node {NODE} linked to the machine {NODE}")
    if "docker" in added:
        await set_host_link(api, added["docker"], "media")
        log("Home Assistant: the Docker engine linked to the VM media")
    # Every start: the page's port is new each time the lab starts.
    await enable_wake_on_access(api, WAKE_CONTAINER, lab.pages[WAKE_CONTAINER])
    log(f"Home Assistant: wake on access on for {WAKE_CONTAINER}")


async def enable_wake_on_access(
    api: HomeAssistantApi, name: str, service_url: str
) -> None:
    """Turn wake on access on for the container `name` with `service_url`, in
    its Reconfigure form (the rest of the form kept as shown). Retried while its
    entry is still (re)loading."""
    answers = Wizard(
        {"service_url": service_url, "wake_on_access": True}, keep_shown=True
    )
    for attempt in range(60):
        try:
            switch = await api.power_switch(name)
            entry_id = await api.template(f"{{{{ config_entry_id('{switch}') }}}}")
            subentry_id = await api.subentry_id(entry_id, name)
            result = await api.subentry_reconfigure(
                entry_id, CONTAINER_SUBENTRY, subentry_id, answers
            )
        except SetupError:
            if attempt == 59:
                raise
            await asyncio.sleep(0.5)
        else:
            if result.get("reason") != "reconfigure_successful":
                raise SetupError(f"wake on access for {name}: {result}")
            return


async def wake_link(api: HomeAssistantApi, name: str, timeout: float = 30.0) -> str:
    """The wake link of `name`: its device's Visit link, once its entry has
    reloaded with wake on access on ('' if Home Assistant knows no address of
    its own to build it with)."""
    deadline = time.monotonic() + timeout
    while True:
        with contextlib.suppress(SetupError):
            switch = await api.power_switch(name)
            url = await api.device_attr(switch, "configuration_url")
            if isinstance(url, str) and WAKE_PATH in url:
                return url
        if time.monotonic() > deadline:
            return ""
        await asyncio.sleep(0.5)


async def set_host_link(
    api: HomeAssistantApi, entry_id: str, host: str, *, node: str | None = None
) -> None:
    """Set a host link in the entry's options to the power switch of `host`:
    the engine's, or `node`'s (in the form's section of node links). Retried
    while the host's entry is still (re)loading: its switch is refused until
    its entry is set up again (saving a link reloads the entry)."""
    for attempt in range(60):
        try:
            switch = await api.power_switch(host)
            values = (
                {"host_links": {node: switch}}
                if node is not None
                else {"host_link": switch}
            )
            await api.options_flow(entry_id, Wizard(values))
        except SetupError:
            if attempt == 59:
                raise
            await asyncio.sleep(0.5)
        else:
            return


async def set_up_home_assistant(url: str, lab: DemoLab) -> None:
    """Onboard (or log in), then add the lab; says what to log in with."""
    async with aiohttp.ClientSession() as session:
        api = HomeAssistantApi(url.rstrip("/"), session)
        await api.wait_until_up()
        await api.onboard_or_login()
        await add_lab(api, lab)
        link = await wake_link(api, WAKE_CONTAINER)
    log(
        f"Home Assistant is ready on {url}: log in as {DEMO_USERNAME!r}, "
        f"password {DEMO_PASSWORD!r}"
    )
    if link:
        log(f"{WAKE_CONTAINER}'s wake link (its Visit link, no login): {link}")
        here = url.rstrip("/") + link[link.index(WAKE_PATH) :]
        if here != link:
            log(f"{WAKE_CONTAINER}'s wake link, from this host: {here}")
    else:
        log(
            f"{WAKE_CONTAINER}'s wake link: none yet (Home Assistant knows no "
            "address of its own: Settings > System > Network)"
        )


def _demo_guests() -> dict[int, SimGuest]:
    """The guests of node pve1; media is the VM that runs Docker."""
    now = time.time()
    guests = [
        SimGuest(MEDIA_VMID, "media", "qemu", NODE, "running", maxcpu=4,
                 maxmem=8 * GIB, maxdisk=64 * GIB, started_at=now - 7200),
        SimGuest(101, "windows11", "qemu", NODE, maxcpu=4, maxmem=16 * GIB,
                 maxdisk=128 * GIB),
        SimGuest(102, "pihole", "lxc", NODE, "running", maxcpu=1,
                 maxmem=512 * 1024**2, maxdisk=8 * GIB, started_at=now - 7300),
        SimGuest(103, "nextcloud", "lxc", NODE, maxmem=4 * GIB),
        SimGuest(104, "gitea", "lxc", NODE, maxmem=2 * GIB, lock="backup"),
        SimGuest(9000, "debian-12-template", "qemu", NODE, template=True),
    ]  # fmt: skip
    return {guest.vmid: guest for guest in guests}


# -- entry point ----------------------------------------------------------------------
def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m tests.simulators.demo",
        description="WakeHub's demo home lab: two machines, a Proxmox cluster, a "
        "Docker engine and an OVHcloud account, all simulated on 127.0.0.1.",
    )
    ports = parser.add_argument_group("ports (all on 127.0.0.1)")
    ports.add_argument("--nas-wol-port", type=int, default=40009, help="UDP")
    ports.add_argument("--nas-ssh-port", type=int, default=2222)
    ports.add_argument("--pve1-wol-port", type=int, default=40010, help="UDP")
    ports.add_argument("--pve1-ssh-port", type=int, default=2223)
    ports.add_argument("--proxmox-port", type=int, default=8006, help="HTTPS")
    ports.add_argument("--docker-port", type=int, default=2375, help="plain TCP")
    ports.add_argument("--ovh-port", type=int, default=8443, help="HTTPS")
    timing = parser.add_argument_group("timing (seconds)")
    timing.add_argument("--nas-boot", type=float, default=3.0)
    timing.add_argument("--pve1-boot", type=float, default=20.0)
    timing.add_argument(
        "--pve-api-delay",
        type=float,
        default=3.0,
        help="after pve1's SSH server, until its Proxmox API answers (0: with it)",
    )
    timing.add_argument(
        "--vm-boot",
        type=float,
        default=8.0,
        help="after media's start task, until its Docker engine answers",
    )
    parser.add_argument("--cold", action="store_true", help="start with everything off")
    parser.add_argument(
        "--docker-tls",
        action="store_true",
        help="the Docker engine speaks HTTPS with a self-signed certificate",
    )
    parser.add_argument(
        "--contract",
        action="store_true",
        help="check every exchange against ../shared/api-specs (if present)",
    )
    parser.add_argument(
        "--ovh-auto-validate",
        type=float,
        default=None,
        metavar="SECONDS",
        help="validate requested OVH consumer keys by themselves after SECONDS "
        "(when no browser can open the link)",
    )
    parser.add_argument(
        "--state-dir",
        default=str(REPO / "config" / ".wakehub-demo"),
        help="where host keys, certificates and OVH consumer keys are kept "
        "('' for throwaway ones)",
    )
    parser.add_argument(
        "--setup",
        metavar="URL",
        default=None,
        help="add the lab to the Home Assistant at URL through WakeHub's wizard "
        f"(onboarding it with the owner {DEMO_USERNAME!r}, password "
        f"{DEMO_PASSWORD!r}, or logging in as that owner)",
    )
    parser.add_argument(
        "--ready-file",
        type=Path,
        default=None,
        help="write the instructions there once everything listens",
    )
    return parser


def _write_atomically(path: Path, text: str) -> None:
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(text)
    temporary.replace(path)


async def _run(args: argparse.Namespace, state: DemoState) -> int:
    loop = asyncio.get_running_loop()
    stopping = asyncio.Event()
    loop.add_signal_handler(signal.SIGTERM, stopping.set)
    # Started in the background by scripts/demo, SIGINT is ignored: keep it so,
    # the script stops us once Home Assistant is gone.
    if signal.getsignal(signal.SIGINT) is not signal.SIG_IGN:
        loop.add_signal_handler(signal.SIGINT, stopping.set)
    lab = DemoLab(args, state)
    renewals: set[asyncio.Task[None]] = set()

    def renew() -> None:
        task = loop.create_task(lab.renew_docker_certificate())
        renewals.add(task)
        task.add_done_callback(renewals.discard)

    loop.add_signal_handler(signal.SIGUSR1, renew)
    try:
        await lab.start()
    except OSError as err:
        print(f"demo: cannot start: {err}", file=sys.stderr, flush=True)
        await lab.stop()
        return 1
    try:
        text = lab.instructions()
        if args.contract and not lab.contract:
            text += f"(contract checks off: schemas not found in {SPECS_DIR})\n"
        say(text)
        if args.ready_file is not None:
            await asyncio.to_thread(_write_atomically, args.ready_file, text)
        log("ready; Ctrl-C to stop")
        setup = None
        if args.setup:
            setup = asyncio.create_task(_set_up(args.setup, lab))
        await lab.run(stopping)
        if setup is not None:
            setup.cancel()
    finally:
        await lab.stop()
    log("stopped")
    return 0


async def _set_up(url: str, lab: DemoLab) -> None:
    log(f"adding the lab to Home Assistant on {url} (its first start takes a minute)")
    try:
        await set_up_home_assistant(url, lab)
    except (SetupError, aiohttp.ClientError, TimeoutError) as err:
        log(f"could not add the lab to Home Assistant: {err}")


def main() -> None:
    args = _parser().parse_args()
    state = DemoState.load(Path(args.state_dir) if args.state_dir else None)
    code = 0
    with contextlib.suppress(KeyboardInterrupt):
        code = asyncio.run(_run(args, state))
    sys.exit(code)


if __name__ == "__main__":
    main()
