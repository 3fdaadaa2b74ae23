"""What the wizard knows about one kind of server, declared once per kind.

Each kind declares a `FlowKind` in `kinds/<kind>/flow.py`; `flows/steps.py` runs the same
path with it for every kind: connect form → connection test → trust (a
certificate or an SSH host key) → choose resources → entry, and the same path
for reconfigure and reauth; flows/settings.py runs its options form and its
resources' settings from the sections it declares. Only what is truly one
kind's (the machine's "add it anyway", OVHcloud's validation link) is a step
of that kind's module, reached through a `Detour`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from homeassistant.config_entries import ConfigFlowResult
from homeassistant.core import HomeAssistant

from ..api.errors import WakeHubError
from ..const import CONF_FINGERPRINT, CONF_HOST_KEY
from .fields import Field, Prefill
from .settings import Options, Section

if TYPE_CHECKING:
    from .steps import ServerFlow


class Trust(StrEnum):
    """What a kind asks the user to trust before sending credentials."""

    NONE = "none"
    CERTIFICATE = "certificate"  # a TLS certificate the system does not trust
    HOST_KEY = "host_key"  # an SSH host key


_PIN_FIELDS = {Trust.CERTIFICATE: CONF_FINGERPRINT, Trust.HOST_KEY: CONF_HOST_KEY}


class Use(StrEnum):
    """Which form the connection fields are shown in."""

    ADD = "add"
    RECONFIGURE = "reconfigure"
    REAUTH = "reauth"


@dataclass(frozen=True, kw_only=True)
class Found:
    """A resource discovery found: its option in the choose step, its subentry."""

    value: str  # the option's value, and the subentry's unique id
    label: str
    title: str
    data: Mapping[str, Any]


@dataclass(frozen=True, kw_only=True)
class Server:
    """Who answered the connection test, and the entry data to store."""

    unique_id: str
    title: str
    data: Mapping[str, Any]
    # Discovery over the connection just tested (a Proxmox password login is
    # not repeated); else the kind's `discover` runs.
    resources: Callable[[], Awaitable[list[Found]]] | None = None


class Untrusted(Exception):
    """The server presented a certificate or host key nobody trusted yet.

    `presented` is what gets pinned once the user trusts it; `shown` is how it
    is shown (a fingerprint); `address` is where it was presented.
    """

    def __init__(self, presented: str, shown: str, address: str) -> None:
        super().__init__(address)
        self.presented = presented
        self.shown = shown
        self.address = address


class FormError(Exception):
    """The connection test found a field to correct (`errors`: field -> key)."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__(errors)
        self.errors = errors


type DetourStep = Callable[
    [ServerFlow, dict[str, Any] | None], Awaitable[ConfigFlowResult]
]


class Detour(Exception):
    """The connection test needs the user in one of the kind's own steps first.

    `show` is that step (called with the flow and no input to show it); `state`
    is what it needs, kept by the flow meanwhile.
    """

    def __init__(self, show: DetourStep, state: Any = None) -> None:
        super().__init__("detour")
        self.show = show
        self.state = state


async def _no_check(hass: HomeAssistant, data: dict[str, Any]) -> dict[str, str]:
    return {}


@dataclass(frozen=True, kw_only=True)
class FlowKind:
    """One kind of server, as the wizard sees it."""

    # The kind (KIND_*): the data's `kind`, and the step id of its first form.
    kind: str
    # The connection form's fields for a use, given the stored data.
    fields: Callable[[Use, Mapping[str, Any]], Sequence[Field]]
    # Checks across fields once each is valid (may complete the data).
    check: Callable[[HomeAssistant, dict[str, Any]], Awaitable[dict[str, str]]] = (
        _no_check
    )
    # Tests the connection with the data; returns the server, raises
    # WakeHubError, Untrusted, FormError or Detour.
    connect: Callable[[HomeAssistant, dict[str, Any]], Awaitable[Server]]
    # The unique id, when the form already gives it (checked before connecting).
    known_id: Callable[[Mapping[str, Any]], str | None] = lambda data: None
    # The resources of a server (None: the server is the only resource).
    discover: (
        Callable[[HomeAssistant, Mapping[str, Any]], Awaitable[list[Found]]] | None
    ) = None
    trust: Trust = Trust.NONE
    # Which server the data names (host and port...), None when nothing is
    # pinned for it: the same server keeps its pin.
    server_of: Callable[[Mapping[str, Any]], object] = lambda data: None
    # For Trust.CERTIFICATE: the URL whose certificate the user may pin when
    # `err` is one, else None; and its port when the URL names none.
    pinnable: Callable[[Mapping[str, Any], WakeHubError], str | None] = (
        lambda data, err: None
    )
    tls_port: int = 443
    # How a pin is shown (an SSH key by its fingerprint).
    show_pin: Callable[[str], str] = str
    # Errors only this kind raises, named before api/errors.py's table.
    error_keys: tuple[tuple[type[WakeHubError], str], ...] = ()
    # The abort reason when reconfigure or reauth reach another server.
    wrong_server: str = "wrong_server"
    # The options form (flows/settings.py).
    options: Options
    # The resource settings of the kind's own, after the power settings.
    resource_sections: tuple[Section, ...] = ()

    @property
    def pin_field(self) -> str | None:
        """Where the trusted fingerprint or host key is stored: the same key
        for every kind, which the coordinators read (coordinator.py)."""
        return _PIN_FIELDS.get(self.trust)

    @property
    def secret_fields(self) -> frozenset[str]:
        """The fields never shown back; left blank when reconfiguring, they
        keep their value (flows/trust.py)."""
        fields = self.fields(Use.RECONFIGURE, {})
        return frozenset(f.key for f in fields if f.prefill is Prefill.NEVER)
