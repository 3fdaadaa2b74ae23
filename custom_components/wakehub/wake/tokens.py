"""Wake-link tokens: made, found in constant time, never shown anywhere else.

A token is the only thing standing between the network and a start, so:
- it is 256 random bits from `secrets` (URL-safe text);
- finding the resource a token belongs to compares it with *every* enabled
  resource's token, each with `hmac.compare_digest`, and never stops early: how
  long a lookup takes says nothing about how close a guess was;
- a disabled resource's token is not looked at (its link answers 404).
"""

from __future__ import annotations

from collections.abc import Iterable
import hmac
import secrets

from ..resource import Resource
from .const import CONF_SERVICE_URL, CONF_WAKE_ON_ACCESS, CONF_WAKE_TOKEN, TOKEN_BYTES

# Longer path segments are not tokens: refused before any comparison.
MAX_TOKEN_LENGTH = 128


def new_token() -> str:
    """A fresh token (43 URL-safe characters)."""
    return secrets.token_urlsafe(TOKEN_BYTES)


def enabled_token(resource: Resource) -> str | None:
    """The resource's token when wake on access is on (with a service address)."""
    settings = resource.settings
    token = settings.get(CONF_WAKE_TOKEN)
    if (
        not settings.get(CONF_WAKE_ON_ACCESS)
        or not settings.get(CONF_SERVICE_URL)
        or not isinstance(token, str)
    ):
        return None
    return token or None


def find_resource(resources: Iterable[Resource], candidate: str) -> Resource | None:
    """The resource whose enabled token is `candidate`, compared in constant time."""
    if not candidate or len(candidate) > MAX_TOKEN_LENGTH:
        return None
    offered = candidate.encode()
    found: Resource | None = None
    for resource in resources:
        token = enabled_token(resource)
        if token is None:
            continue
        if hmac.compare_digest(token.encode(), offered) and found is None:
            found = resource
    return found
