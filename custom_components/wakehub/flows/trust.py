"""What the wizard keeps and what it asks the user to trust, for every kind.

- A secret field is never shown back: left blank in a reconfigure form, it keeps
  the stored value.
- A pin (certificate fingerprint, SSH host key) the user trusted is kept while
  the form still names the same server: after a wrong password, or when
  reconfiguring something else than the address.
- A certificate the system does not trust is shown by its SHA-256 fingerprint,
  read over a connection that sends nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from ..api.errors import CertificateError, WakeHubError
from ..api.tls import fetch_fingerprint
from .kind import FlowKind, Untrusted

# How long the wizard waits for a server to show its certificate.
CERTIFICATE_TIMEOUT = 10.0
#: A trust step's choices, in the wizard and in the changed-pin repairs: each
#: is the step that follows.
TRUST_OPTIONS = ["trust", "not_trusted"]


def kept_secrets(
    kind: FlowKind, data: Mapping[str, Any], stored: Mapping[str, Any]
) -> dict[str, Any]:
    """The stored secrets that fields left blank (absent from `data`) keep."""
    return {
        key: stored[key]
        for key in kind.secret_fields
        if key not in data and stored.get(key)
    }


def kept_pin(
    kind: FlowKind, data: Mapping[str, Any], *trusted: Mapping[str, Any]
) -> str | None:
    """The pin of the first of `trusted` (the flow's last attempt, the stored
    entry) that names the server `data` names."""
    if kind.pin_field is None or (server := kind.server_of(data)) is None:
        return None
    for known in trusted:
        pin = known.get(kind.pin_field)
        if pin and kind.server_of(known) == server:
            return str(pin)
    return None


async def untrusted_certificate(
    kind: FlowKind, data: Mapping[str, Any], err: WakeHubError
) -> Untrusted | None:
    """The certificate to offer for trust when `err` is one the user may pin.

    A pinned certificate that changed comes with the new one's fingerprint; an
    untrusted one is read now. Raises WakeHubError when the server no longer
    answers.
    """
    if (url := kind.pinnable(data, err)) is None:
        return None
    if isinstance(err, CertificateError) and err.fingerprint:
        fingerprint = err.fingerprint
    else:
        parts = urlsplit(url)
        host, port = str(parts.hostname), parts.port or kind.tls_port
        fingerprint = await fetch_fingerprint(host, port, timeout=CERTIFICATE_TIMEOUT)
    return Untrusted(fingerprint, fingerprint, url)
