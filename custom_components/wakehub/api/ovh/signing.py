"""How OVH knows a request is ours: its endpoints, the signature, the key's rights.

Every signed request carries the application key, the consumer key, a timestamp
and `sign()` of them (transport.py adds the headers, with the clock offset).
"""

from __future__ import annotations

from collections.abc import Iterable
import fnmatch
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

# The VPS manager's changes (automated backup, backup storage, secondary DNS):
# a key asked for before them lacks these, and needs replacing to use them.
MANAGER_RULES: Final[tuple[tuple[str, str], ...]] = (
    ("POST", "/vps/*/automatedBackup/restore"),
    ("POST", "/vps/*/automatedBackup/reschedule"),
    ("POST", "/vps/*/automatedBackup/detachBackup"),
    ("POST", "/vps/*/backupftp/password"),
    ("POST", "/vps/*/backupftp/access"),
    ("DELETE", "/vps/*/backupftp/access/*"),
    ("POST", "/vps/*/secondaryDnsDomains"),
    ("DELETE", "/vps/*/secondaryDnsDomains/*"),
)

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
    *MANAGER_RULES,
)


def missing_rules(
    granted: Iterable[tuple[str, str]],
) -> tuple[tuple[str, str], ...]:
    """The ACCESS_RULES a consumer key with `granted` rules lacks.

    A granted rule covers a needed one when the methods match and the granted
    path, as OVH's pattern ("*" matches anything, "/" too), matches the needed
    path taken literally: "/vps/*" covers "/vps/*/start".
    """
    rules = list(granted)
    return tuple(
        (method, path)
        for method, path in ACCESS_RULES
        if not any(m == method and fnmatch.fnmatchcase(path, p) for m, p in rules)
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
