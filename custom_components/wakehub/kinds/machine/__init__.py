"""Physical machines: Wake-on-LAN to start, a TCP probe to see, SSH to stop.

One entry is one machine, and one resource (keyed by its MAC address). This
module holds its coordinator and resource; `flow` its wizard.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
import logging
from typing import Any

from homeassistant.config_entries import ConfigEntry
from homeassistant.const import CONF_HOST, CONF_PASSWORD, CONF_USERNAME
from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.device_registry import CONNECTION_NETWORK_MAC, DeviceInfo
from homeassistant.util import dt as dt_util

from ...api.errors import CannotConnect, HostKeyMismatch, WakeHubError
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
            await self._pin_host_key_at_first_contact()
        try:
            metrics = await self.client.read_metrics()
        except HostKeyMismatch as err:
            self._raise_host_key_issue(err)
            return None
        except WakeHubError as err:
            _LOGGER.debug("No metrics from %s: %s", self.config_entry.title, err)
            return None
        ir.async_delete_issue(self.hass, DOMAIN, host_key_issue_id(self.config_entry))
        return metrics

    async def _pin_host_key_at_first_contact(self) -> None:
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

    def _raise_host_key_issue(self, err: HostKeyMismatch) -> None:
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
        await self._client().run_power_command(self.entry.data[CONF_SHUTDOWN_COMMAND])

    async def async_reboot(self) -> None:
        await self._client().run_power_command(self.entry.data[CONF_REBOOT_COMMAND])

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
