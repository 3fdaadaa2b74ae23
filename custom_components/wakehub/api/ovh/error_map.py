"""OVH's error answers, mapped to the exceptions of errors.py.

Three are OVH's own (all subclasses of errors.py's): ServiceExpired, CredentialRejected
(refused or expired) and InvalidSignature. `map_error` is the table; transport.py is its only caller.
"""

from __future__ import annotations

from typing import ClassVar, Final

from ..errors import (
    ApiError,
    Conflict,
    InvalidAuth,
    InvalidResponse,
    NotFound,
    PermissionDenied,
    RateLimited,
    WakeHubError,
)
from ..fields import opt_float, opt_str, text
from ..http import decode_json

_AUTH_ERROR_CODES: Final = frozenset(
    {"NOT_CREDENTIAL", "INVALID_KEY", "INVALID_CREDENTIAL", "INVALID_SIGNATURE"}
)
_SERVICE_EXPIRED_STATUS: Final = 460


class ServiceExpired(ApiError):
    """HTTP 460: the VPS service is expired or suspended (renewal needed).

    Every action that meets it says so in these words (action_errors.py reads
    `translation_key`), not as a generic API error.
    """

    translation_key: ClassVar[str] = "ovh_service_expired"


class CredentialRejected(InvalidAuth):
    """The consumer key was refused by the account owner or has expired.

    Unlike a plain InvalidAuth (which OVH may also answer for a key still waiting
    for validation), waiting longer will not help: a new key is needed.
    """


class CredentialRefused(CredentialRejected):
    """The account owner refused the consumer key."""


class CredentialExpired(CredentialRejected):
    """The consumer key has expired."""


class InvalidSignature(InvalidAuth):
    """OVH could not verify the signature: the application secret is wrong."""


def error_payload(body: bytes) -> tuple[str, str | None]:
    """OVH's `message` and `errorCode` from an error body (any shape)."""
    try:
        data = decode_json(body, "OVH", "an error")
    except InvalidResponse:
        return (body[:200].decode(errors="replace").strip() or "no message"), None
    if isinstance(data, dict):
        message = text(data.get("message")) or "no message"
        return message[:500], opt_str(data.get("errorCode"))
    return text(data, "no message")[:200], None


def parse_retry_after(value: str | None) -> float | None:
    """Retry-After in seconds; None when absent, unreadable or not finite."""
    seconds = opt_float(value)
    return None if seconds is None else max(0.0, seconds)


def map_error(  # noqa: PLR0911 - one return per OVH status, read as a table
    status: int,
    message: str,
    code: str | None,
    *,
    call: str,
    retry_after: float | None,
) -> WakeHubError:
    """OVH's answer to the errors.py exception the integration understands."""
    if code == "INVALID_SIGNATURE":
        return InvalidSignature(f"OVH refused the signature: {message}")
    if code in _AUTH_ERROR_CODES or status == 401:
        return InvalidAuth(f"OVH refused the credentials: {message}")
    if status == 403:
        return PermissionDenied(f"OVH denied {call}: {message}", privilege=call)
    if status == 404:
        return NotFound(f"{call}: {message}")
    if status == 409:
        return Conflict(f"an operation is already running on this VPS: {message}")
    if status == 429:
        return RateLimited(
            f"OVH rate limit reached: {message}", retry_after=retry_after
        )
    if status == _SERVICE_EXPIRED_STATUS:
        return ServiceExpired(status, message)
    return ApiError(status, message)
