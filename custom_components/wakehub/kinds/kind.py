"""`Kind`: everything WakeHub needs to know about one kind of server, in one place."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant

from ..descriptions import ResourceDescriptions
from ..runtime import WakeHubRuntimeData

type KindSetup = Callable[
    [HomeAssistant, ConfigEntry], Awaitable[WakeHubRuntimeData[Any]]
]
#: `create_client(hass, data)`: the platform client for entry (or form) data.
type ClientFactory = Callable[[HomeAssistant, Mapping[str, Any]], object]


@dataclass(frozen=True, kw_only=True)
class Kind:
    """One kind of server: machine, proxmox, docker or ovh."""

    #: The entry's `kind` (const.KIND_*).
    name: str
    #: Sets a loaded entry up: its coordinator and its resources.
    setup: KindSetup
    create_client: ClientFactory
    #: The type of its resources' config subentries (None: the entry is the
    #: resource, as a machine is).
    subentry_type: str | None
    #: Entry data never shown back in a form, a log or diagnostics.
    secret_fields: frozenset[str]
    #: The entities of each of its kinds of resource (descriptions.py).
    resources: Mapping[str, ResourceDescriptions]
