"""Fixtures shared by every WakeHub test.

The code under test talks to real servers on 127.0.0.1: the simulators in
`tests/simulators/`, and where installed a real `sshd` (tests/services/sshd.py).
Nothing of WakeHub's own is mocked.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any
from unittest.mock import PropertyMock, patch

from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import __version__ as ha_version
from homeassistant.core import Event, HomeAssistant, callback
from homeassistant.helpers import device_registry as dr
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.syrupy import HomeAssistantSnapshotExtension
from syrupy.assertion import SnapshotAssertion

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
    PROBE_INTERVAL,
)
from custom_components.wakehub.devices import entry_device
from custom_components.wakehub.kinds.machine import MachineCoordinator
from tests.simulators.machine import MachineSimulator

# Entity and device snapshots are recorded with the newest Home Assistant the tests
# run on; older releases serialise registry entries with other fields.
SNAPSHOT_HA_VERSION = (2026, 10)


@pytest.fixture
def entity_registry_enabled_by_default() -> Iterator[None]:
    """Create disabled-by-default entities enabled (for snapshots)."""
    with patch(
        "homeassistant.helpers.entity.Entity.entity_registry_enabled_default",
        return_value=True,
        new_callable=PropertyMock,
    ):
        yield


@pytest.fixture
def snapshot(snapshot: SnapshotAssertion) -> SnapshotAssertion:
    """Snapshots in Home Assistant's format (stable ids, readable states)."""
    if tuple(int(p) for p in ha_version.split(".")[:2]) < SNAPSHOT_HA_VERSION:
        pytest.skip(
            f"snapshots are recorded with Home Assistant {SNAPSHOT_HA_VERSION}, "
            f"whose registry entries have other fields than {ha_version}'s"
        )
    return snapshot.use_extension(HomeAssistantSnapshotExtension)


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(enable_custom_integrations: None) -> None:
    """Let Home Assistant load custom_components/wakehub."""


@pytest.fixture(autouse=True)
def real_sockets(socket_enabled: None) -> None:
    """Our tests talk to real servers: allow sockets (connects stay loopback-only)."""


@pytest.fixture(autouse=True)
def quick_machine_probes(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A machine that answers while it changes is probed every 2 s (sparing
    sshd's penalties: kinds/machine); tests whose timeouts are seconds, below
    any a user may set, probe it at every other kind's pace. A test marked
    `real_probe_pace` keeps the real one."""
    if request.node.get_closest_marker("real_probe_pace") is None:
        monkeypatch.setattr(
            MachineCoordinator,
            "answering_probe_interval",
            PROBE_INTERVAL.total_seconds(),
        )


@pytest.fixture
async def machine_sim() -> AsyncIterator[MachineSimulator]:
    """A simulated machine, off, with short delays."""
    sim = MachineSimulator(boot_delay=0.2, shutdown_delay=0.05)
    await sim.start()
    yield sim
    await sim.stop()


def machine_data(sim: MachineSimulator, **overrides: Any) -> dict[str, Any]:
    """The entry data a user would have created for `sim`."""
    data = {
        CONF_KIND: KIND_MACHINE,
        CONF_MAC: sim.mac,
        "host": sim.host,
        CONF_BROADCAST_ADDRESS: "127.0.0.1",
        CONF_BROADCAST_PORT: sim.udp_port,
        CONF_SSH_PORT: sim.ssh_port,
        "username": sim.username,
        "password": sim.password,
        CONF_SHUTDOWN_COMMAND: sim.shutdown_command,
        CONF_REBOOT_COMMAND: sim.reboot_command,
        CONF_HOST_KEY: sim.host_key,
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


@pytest.fixture
async def machine_entry(
    hass: HomeAssistant, machine_sim: MachineSimulator
) -> AsyncIterator[MockConfigEntry]:
    """A machine entry for `machine_sim`, with a short start/stop timeout.

    Unloaded before the simulator stops: a poll still logging in over SSH would
    otherwise outlive the simulator and linger past the test.
    """
    entry = MockConfigEntry(
        domain=DOMAIN,
        title="NAS",
        unique_id=machine_sim.mac,
        data=machine_data(machine_sim),
        options={CONF_TIMEOUT: 5},
        entry_id="01NASMACHINE0000000000000",
    )
    entry.add_to_hass(hass)
    yield entry
    if entry.state is ConfigEntryState.LOADED:
        await hass.config_entries.async_unload(entry.entry_id)
    # Polls or stops cut short by the unload leave an SSH login closing.
    await machine_sim.settle()


@pytest.fixture
async def init_machine(
    hass: HomeAssistant, machine_entry: MockConfigEntry
) -> MockConfigEntry:
    """The machine entry, set up."""
    assert await hass.config_entries.async_setup(machine_entry.entry_id)
    await hass.async_block_till_done()
    return machine_entry


def find_device(
    hass: HomeAssistant, identifier: tuple[str, str], entry_id: str
) -> dr.DeviceEntry | None:
    """A device of an entry by identifier, on every supported Home Assistant."""
    domain, key = identifier
    assert domain == DOMAIN
    return entry_device(hass, entry_id, key)


def record_events(hass: HomeAssistant, event_type: str) -> list[Event]:
    """Collect events in the order they are fired.

    The listener is a callback, run in the event loop as the event fires; a plain
    function would be run later in a worker thread, out of order.
    """
    events: list[Event] = []

    @callback
    def record(event: Event) -> None:
        events.append(event)

    hass.bus.async_listen(event_type, record)
    return events
