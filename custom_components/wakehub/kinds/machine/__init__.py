"""Physical machines: Wake-on-LAN to start, a TCP probe to see, SSH to stop.

One entry is one machine, and one resource (keyed by its MAC address). This
module holds its coordinator and resource; `flow` its wizard.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime, timedelta
import logging
from typing import Any

from homeassistant.config_entries import ConfigEntry
from homeassistant.const import CONF_HOST, CONF_PASSWORD, CONF_USERNAME
from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.device_registry import CONNECTION_NETWORK_MAC, DeviceInfo
from homeassistant.util import dt as dt_util

from ...api.errors import CannotConnect, HostKeyMismatch, InvalidAuth, WakeHubError
from ...api.machine import (
    MachineClient,
    MachineMetrics,
    SshCredentials,
    fetch_host_key,
    host_key_fingerprint,
    is_port_open,
    send_magic_packet,
)
from ...api.models import ResourceStatus
from ...const import (
    CONF_BROADCAST_ADDRESS,
    CONF_BROADCAST_PORT,
    CONF_HOST_KEY,
    CONF_MAC,
    CONF_PRIVATE_KEY,
    CONF_PRIVATE_KEY_PASSPHRASE,
    CONF_REBOOT_COMMAND,
    CONF_SHUTDOWN_COMMAND,
    CONF_SSH_PORT,
    DOMAIN,
    KIND_MACHINE,
)
from ...coordinator import WakeHubCoordinator
from ...descriptions import (
    CPU,
    MEMORY,
    REBOOT,
    STATUS,
    UPTIME,
    ResourceDescriptions,
    disabled,
)
from ...hosting import HostKind, KnownAs
from ...naming import Noun
from ...resource import Resource
from ...runtime import WakeHubRuntimeData
from ...state import ResourceState
from ..kind import Kind

_LOGGER = logging.getLogger(__name__)

# A reachability probe must be quick: an answer slower than this is "off".
PORT_PROBE_TIMEOUT = 3.0
# Polls in a row whose SSH login is refused before the log says so.
REFUSALS_TO_WARN = 2


async def async_setup_kind(
    hass: HomeAssistant, entry: ConfigEntry
) -> WakeHubRuntimeData[MachineCoordinator]:
    coordinator = MachineCoordinator(hass, entry)
    await coordinator.async_config_entry_first_refresh()
    resource = MachineResource(
        key=coordinator.key, name=entry.title, coordinator=coordinator, entry=entry
    )
    return WakeHubRuntimeData(coordinator=coordinator, resources=[resource])


def machine_credentials(entry: ConfigEntry) -> SshCredentials:
    """The SSH credentials of a machine entry (host key as currently pinned)."""
    return credentials(entry.data)


def credentials(data: Mapping[str, Any]) -> SshCredentials:
    """The SSH credentials in entry (or form) data."""
    return SshCredentials(
        host=data[CONF_HOST],
        port=data[CONF_SSH_PORT],
        username=data[CONF_USERNAME],
        password=data.get(CONF_PASSWORD) or None,
        private_key=data.get(CONF_PRIVATE_KEY) or None,
        private_key_passphrase=data.get(CONF_PRIVATE_KEY_PASSPHRASE) or None,
        host_key=data.get(CONF_HOST_KEY) or None,
    )


def create_client(hass: HomeAssistant, data: Mapping[str, Any]) -> MachineClient:
    """The SSH client for entry (or form) data."""
    return MachineClient(credentials(data))


def host_key_issue_id(entry: ConfigEntry) -> str:
    return f"host_key_changed_{entry.entry_id}"


class MachineCoordinator(WakeHubCoordinator):
    """Polls one physical machine: a TCP probe, then one SSH command for metrics."""

    def __init__(self, hass: HomeAssistant, entry: ConfigEntry) -> None:
        super().__init__(hass, entry)
        self.key: str = entry.data[CONF_MAC]
        self._boot_time: datetime | None = None
        #: SSH logins refused in a row by a machine that answers.
        self._refusals = 0

    @property
    def client(self) -> MachineClient:
        # Built per use: the pinned key may change (first contact, repair flow).
        return create_client(self.hass, self.config_entry.data)

    async def _async_update_data(self) -> dict[str, ResourceState]:
        creds = machine_credentials(self.config_entry)
        try:
            reachable = await is_port_open(creds.host, creds.port, PORT_PROBE_TIMEOUT)
        except CannotConnect as err:
            raise self.poll_failed(err) from err
        metrics = await self._read_metrics() if reachable else None
        if not reachable:
            self._boot_time = None
            self._refusals = 0
        return {
            self.key: ResourceState(
                status=ResourceStatus.RUNNING if reachable else ResourceStatus.STOPPED,
                cpu=metrics.cpu_percent if metrics else None,
                memory=metrics.memory_percent if metrics else None,
                boot_time=self._stable_boot_time(metrics),
            )
        }

    async def _read_metrics(self) -> MachineMetrics | None:
        """Metrics over SSH; None when the host cannot tell (off, Windows...)."""
        if not self.config_entry.data.get(CONF_HOST_KEY):
            await self.pin_host_key_at_first_contact()
            if not self.config_entry.data.get(CONF_HOST_KEY):
                # Its key could not be read this time: no login (no password)
                # to a server whose key was never seen, let alone pinned.
                return None
        try:
            metrics = await self.client.read_metrics()
        except HostKeyMismatch as err:
            self.raise_host_key_issue(err)
            return None
        except InvalidAuth as err:
            self._login_refused(err)
            return None
        except WakeHubError as err:
            _LOGGER.debug("No metrics from %s: %s", self.config_entry.title, err)
            return None
        if self._refusals >= REFUSALS_TO_WARN:
            _LOGGER.info(
                "%s accepts WakeHub's SSH login again", self.config_entry.title
            )
        self._refusals = 0
        ir.async_delete_issue(self.hass, DOMAIN, host_key_issue_id(self.config_entry))
        return metrics

    def _login_refused(self, err: InvalidAuth) -> None:
        """It answers, so it shows on: a refused login would go unseen until a
        shutdown (an idle auto-shutdown at night) fails with it. Said once, when
        a second poll in a row is refused: a machine shutting down refuses
        logins for a moment too (`/run/nologin`)."""
        self._refusals += 1
        if self._refusals != REFUSALS_TO_WARN:
            _LOGGER.debug("%s refused the SSH login: %s", self.config_entry.title, err)
            return
        _LOGGER.warning(
            "%s answers but refuses WakeHub's SSH login (%s): its figures are "
            "unavailable and it cannot be shut down or rebooted. Check the username "
            "and the password or key (reconfigure the entry)",
            self.config_entry.title,
            err,
        )

    #: Seconds between probes while the machine answers (see probe_pause).
    answering_probe_interval = 2.0

    def probe_pause(self, state: ResourceState | None) -> float:
        """A port probe that finds sshd listening is a connection closed
        without logging in: OpenSSH 9.8 and later count each as a 1-second
        "noauth" penalty and refuse the address once 15 seconds accrue
        (PerSourcePenalties). While the machine answers (a stop or a reboot on
        its way down), one probe every 2 seconds never accrues; while it does
        not (a start), a probe costs nothing and the usual pace holds."""
        if state is not None and state.is_running:
            return self.answering_probe_interval
        return super().probe_pause(state)

    def one_reader(self, key: str) -> Callable[[], Awaitable[ResourceState]] | None:
        """While it starts, stops or reboots, the machine is probed on its port
        alone: a TCP connect, not an SSH login every quarter second, and a probe
        cut short by the change's timeout leaves the last poll's view intact."""
        return self._probe if key == self.key else None

    async def _probe(self) -> ResourceState:
        creds = machine_credentials(self.config_entry)
        reachable = await is_port_open(creds.host, creds.port, PORT_PROBE_TIMEOUT)
        last = self.data.get(self.key) if self.data else None
        if not reachable:
            return (
                last.stopped() if last else ResourceState(status=ResourceStatus.STOPPED)
            )
        if last is not None and last.is_running:
            return last
        return ResourceState(status=ResourceStatus.RUNNING)

    async def pin_host_key_at_first_contact(self) -> None:
        """The machine was off when it was added: trust its key on first contact."""
        creds = machine_credentials(self.config_entry)
        try:
            key = await fetch_host_key(creds.host, creds.port)
        except WakeHubError:
            return
        _LOGGER.info(
            "Pinned the SSH host key of %s at first contact: %s",
            self.config_entry.title,
            host_key_fingerprint(key),
        )
        self.hass.config_entries.async_update_entry(
            self.config_entry, data={**self.config_entry.data, CONF_HOST_KEY: key}
        )

    def raise_host_key_issue(self, err: HostKeyMismatch) -> None:
        ir.async_create_issue(
            self.hass,
            DOMAIN,
            host_key_issue_id(self.config_entry),
            is_fixable=True,
            is_persistent=False,
            severity=ir.IssueSeverity.ERROR,
            translation_key="host_key_changed",
            translation_placeholders={
                "name": self.config_entry.title,
                "fingerprint": err.fingerprint or "?",
            },
            data={"entry_id": self.config_entry.entry_id},
        )

    def _stable_boot_time(self, metrics: MachineMetrics | None) -> datetime | None:
        """Boot time from uptime, kept steady so the sensor does not flap."""
        if metrics is None:
            return self._boot_time
        boot = dt_util.utcnow() - timedelta(seconds=metrics.uptime_seconds)
        if (
            self._boot_time is None
            or abs((boot - self._boot_time).total_seconds()) > 60
        ):
            self._boot_time = boot.replace(microsecond=0)
        return self._boot_time


class MachineResource(Resource):
    """A physical machine: Wake-on-LAN to start, SSH commands to stop/reboot."""

    descriptions = ResourceDescriptions(
        sensors=(STATUS, CPU, disabled(MEMORY), UPTIME), buttons=(REBOOT,)
    )
    starting_text = "waking"
    host_kind = HostKind.MACHINE
    noun = Noun.MACHINE
    coordinator: MachineCoordinator

    def known_as(self) -> KnownAs:
        host = str(self.entry.data.get(CONF_HOST, ""))
        return KnownAs.of(addresses=[host], names=[self.name, host])

    @property
    def device_info(self) -> DeviceInfo:
        # Its address: the MAC as a connection, the host it answers at as the
        # model id ("Physical machine (192.168.1.20)").
        return DeviceInfo(
            identifiers={(DOMAIN, self.key)},
            connections={(CONNECTION_NETWORK_MAC, self.key)},
            name=self.name,
            model="Physical machine",
            model_id=str(self.entry.data.get(CONF_HOST, "")) or None,
        )

    async def async_start(self) -> None:
        data = self.entry.data
        await send_magic_packet(
            self.key, data[CONF_BROADCAST_ADDRESS], data[CONF_BROADCAST_PORT]
        )

    async def async_stop(self) -> None:
        try:
            await self._power_command(CONF_SHUTDOWN_COMMAND)
        except CannotConnect:
            # Off since the last poll (its own button, a power cut): what the
            # user asked for. Following the stop confirms it.
            creds = machine_credentials(self.entry)
            if await is_port_open(creds.host, creds.port, PORT_PROBE_TIMEOUT):
                raise
            _LOGGER.debug("%s is already off: no shutdown command sent", self.name)

    async def async_reboot(self) -> None:
        await self._power_command(CONF_REBOOT_COMMAND)

    async def _power_command(self, field: str) -> None:
        if not self.entry.data.get(CONF_HOST_KEY):
            # Added while off and not polled since it answers: pin its key
            # first; never send the password to a key nobody has seen.
            await self.coordinator.pin_host_key_at_first_contact()
            if not self.entry.data.get(CONF_HOST_KEY):
                raise CannotConnect(
                    f"the SSH host key of {self.name} could not be read"
                )
        try:
            await self._client().run_power_command(self.entry.data[field])
        except HostKeyMismatch as err:
            # The error sends the user to the repair issue: it must exist now,
            # not only after the next poll.
            self.coordinator.raise_host_key_issue(err)
            raise

    def _client(self) -> MachineClient:
        return self.coordinator.client


KIND = Kind(
    name=KIND_MACHINE,
    setup=async_setup_kind,
    create_client=create_client,
    subentry_type=None,
    secret_fields=frozenset(
        {CONF_PASSWORD, CONF_PRIVATE_KEY, CONF_PRIVATE_KEY_PASSPHRASE}
    ),
    resources={"machine": MachineResource.descriptions},
)
