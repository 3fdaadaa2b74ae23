"""A Proxmox node: figures, and power through its machine or the cluster."""

from __future__ import annotations

from collections.abc import Mapping
import logging
from typing import TYPE_CHECKING, Any

from homeassistant.config_entries import ConfigEntry
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers.device_registry import DeviceInfo

from ...action_errors import translate_error
from ...api.errors import (
    ApiError,
    InvalidResponse,
    WakeHubError,
)
from ...api.proxmox import (
    ProxmoxClient,
)
from ...const import CONF_STOP_WITH_DEPENDENTS, DOMAIN
from ...features import ResourceFeature
from ...naming import Noun
from ...resource import Resource
from .const import node_key, web_url
from .descriptions import NODE

if TYPE_CHECKING:
    from .coordinator import ProxmoxCoordinator

_LOGGER = logging.getLogger(__name__)


def node_device_info(entry: ConfigEntry, cluster: str, node: str) -> DeviceInfo:
    """The device of a node that is not shown on a machine's."""
    return DeviceInfo(
        identifiers={(DOMAIN, node_key(cluster, node))},
        name=node,
        manufacturer="Proxmox Server Solutions",
        model="Proxmox VE node",
        configuration_url=web_url(entry, f"node/{node}"),
    )


class ProxmoxNodeResource(Resource):
    """A cluster node: a device with figures, and power.

    A node linked to a WakeHub machine is powered through that machine (and
    shown on its device). A node without a machine is powered through the
    cluster: shut down and rebooted by its own API, woken by another running
    node's Wake-on-LAN, which reaches it even when Home Assistant sits on
    another network.
    """

    noun = Noun.PROXMOX_NODE

    descriptions = NODE
    coordinator: ProxmoxCoordinator
    # "Proxmox CPU": on its machine's device it sits beside the machine's "CPU",
    # and a node named like its machine gets no "_2" entity ids before linking.
    translation_keys: Mapping[str, str] = {
        "power": "node_power",
        "status": "node_status",
        "cpu": "node_cpu",
        "memory": "node_memory",
        "uptime": "node_uptime",
        "reboot": "node_reboot",
        "progress": "node_progress",
        "auto_off_at": "node_auto_off_at",
        "active": "node_active",
        "auto_shutdown": "node_auto_shutdown",
    }
    starting_text = "waking"
    # Its wake is a request to the cluster's API: waiting for that API to come
    # back is pointless when no other node runs to serve it.
    woken_by_its_server = True

    def __init__(self, *, powered: bool, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if not powered:
            self.features = ResourceFeature(0)

    @property
    def device_info(self) -> DeviceInfo:
        return node_device_info(self.entry, self.coordinator.cluster, self.name)

    @property
    def on_linked_host(self) -> bool:
        return self.coordinator.machine_link(self.name) is not None

    @property
    def host_slot(self) -> str | None:
        return self.name

    @property
    def settings(self) -> Mapping[str, Any]:
        """The entry's options; a node is not stopped with its dependents unless
        they say so: turning off a guest must not power a whole host off that
        nobody linked to a machine (and whose Wake-on-LAN may not be set up)."""
        return {CONF_STOP_WITH_DEPENDENTS: False, **self.entry.options}

    @property
    def client(self) -> ProxmoxClient:
        return self.coordinator.client

    async def async_stop(self) -> None:
        """Its guests are shut down by Proxmox first; then it powers off."""
        await self.client.node_command(self.name, "shutdown")

    async def async_reboot(self) -> None:
        await self.client.node_command(self.name, "reboot")

    async def async_start(self) -> None:
        """Ask the node answering the API to send this node's magic packet."""
        cluster = self.entry.title
        try:
            state = await self.client.fetch_state()
        except WakeHubError as err:
            # Nothing answers for the cluster (a standalone host that is off).
            raise translate_error(
                err, self.name, advice="proxmox_wake_unreachable", cluster=cluster
            ) from err
        if not any(n.online for n in state.nodes.values() if n.name != self.name):
            raise HomeAssistantError(
                translation_domain=DOMAIN,
                translation_key="proxmox_no_peer",
                translation_placeholders={"name": self.name, "cluster": cluster},
            )
        try:
            await self.client.wake_node(self.name)
        except InvalidResponse:
            raise
        except ApiError as err:
            # Typically no `wakeonlan` MAC in the node's config: Proxmox's
            # words, and how to set it.
            raise translate_error(
                err, self.name, advice="proxmox_wake_failed", cluster=cluster
            ) from err
