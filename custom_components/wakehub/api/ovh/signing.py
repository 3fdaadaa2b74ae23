"""How OVH knows a request is ours: its endpoints, the signature, the key's rights.

Every signed request carries the application key, the consumer key, a timestamp
and `sign()` of them (transport.py adds the headers, with the clock offset).
"""

from __future__ import annotations

import hashlib
from typing import Final
from urllib.parse import urlsplit

ENDPOINTS: Final[dict[str, str]] = {
    "ovh-eu": "https://eu.api.ovh.com/1.0",
    "ovh-ca": "https://ca.api.ovh.com/1.0",
    "ovh-us": "https://api.us.ovhcloud.com/1.0",
    "kimsufi-eu": "https://eu.api.kimsufi.com/1.0",
    "kimsufi-ca": "https://ca.api.kimsufi.com/1.0",
    "soyoustart-eu": "https://eu.api.soyoustart.com/1.0",
    "soyoustart-ca": "https://ca.api.soyoustart.com/1.0",
}

# Exactly what WakeHub calls, nothing more ("*" matches any characters, "/" too).
ACCESS_RULES: Final[tuple[tuple[str, str], ...]] = (
    ("GET", "/me"),
    ("GET", "/vps"),
    ("GET", "/vps/*"),
    ("PUT", "/vps/*"),  # netbootMode for rescue
    ("POST", "/vps/*/start"),
    ("POST", "/vps/*/stop"),
    ("POST", "/vps/*/reboot"),
    ("POST", "/vps/*/createSnapshot"),
    ("POST", "/vps/*/snapshot/revert"),
    ("DELETE", "/vps/*/snapshot"),
    ("POST", "/vps/*/getConsoleUrl"),
    ("POST", "/vps/*/rebuild"),
    ("POST", "/vps/*/setPassword"),
)


def resolve_endpoint(endpoint: str) -> str:
    """API root for an endpoint name, or the given root URL (demo, tests)."""
    name = endpoint.strip()
    if name.lower() in ENDPOINTS:
        return ENDPOINTS[name.lower()]
    parts = urlsplit(name)
    if parts.scheme in {"http", "https"} and parts.netloc:
        return name.rstrip("/")
    raise ValueError(f"unknown OVH endpoint {endpoint!r}")


def sign(
    application_secret: str,
    consumer_key: str,
    method: str,
    url: str,
    body: str,
    *,
    timestamp: int | str,
) -> str:
    """OVH request signature: "$1$" + SHA-1 of the '+'-joined request parts."""
    parts = (
        application_secret,
        consumer_key,
        method.upper(),
        url,
        body,
        str(timestamp),
    )
    return (
        "$1$"
        + hashlib.sha1("+".join(parts).encode(), usedforsecurity=False).hexdigest()
    )
