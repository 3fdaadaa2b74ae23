"""One exception hierarchy for every platform client.

A client only says *what* went wrong; `error_key` names it, from the one table
`ERROR_KEYS`, for every place that tells the user: the wizard's form errors
(`config.error.<key>`) and the translated action and polling errors
(`exceptions.<key>`), so one failure reads the same for every kind. No
exception text may contain a secret (password, token, key): messages carry the
platform's own words and the host, never credentials.
"""

from __future__ import annotations

from collections.abc import Iterable
import socket

import aiohttp


class WakeHubError(Exception):
    """Base class of every error a WakeHub client raises."""


class CannotConnect(WakeHubError):
    """The server could not be reached (DNS, refused, unreachable)."""


class ConnectionTimeout(CannotConnect):
    """The server did not answer in time."""


class CertificateError(CannotConnect):
    """The TLS certificate is not trusted (or no longer matches the pinned one).

    `fingerprint` is the SHA-256 fingerprint (colon-separated hex) of the
    certificate the server presented, so the user can be asked to pin it.
    """

    def __init__(self, message: str, fingerprint: str | None = None) -> None:
        super().__init__(message)
        self.fingerprint = fingerprint


class NotThatKind(WakeHubError):
    """Something answered, but it is not the kind of server expected."""


class InvalidAuth(WakeHubError):
    """The credentials were refused."""


class PermissionDenied(WakeHubError):
    """Logged in, but a privilege is missing; `privilege` names it when known."""

    def __init__(self, message: str, privilege: str | None = None) -> None:
        super().__init__(message)
        self.privilege = privilege


class HostKeyMismatch(WakeHubError):
    """An SSH server presented a host key other than the pinned one."""

    def __init__(self, message: str, fingerprint: str | None = None) -> None:
        super().__init__(message)
        self.fingerprint = fingerprint


class NotFound(WakeHubError):
    """The resource does not exist (any more) on the platform."""


class Conflict(WakeHubError):
    """The platform refused because something else is under way (lock, task)."""


class RateLimited(WakeHubError):
    """Too many requests; `retry_after` seconds to wait, when the server said."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class TaskFailed(WakeHubError):
    """A platform task ended in failure; the message is the platform's own text."""


class ApiError(WakeHubError):
    """Any other error answer; `code` is the HTTP status or platform code."""

    def __init__(self, code: int | str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


class InvalidResponse(ApiError):
    """The server answered, but with something WakeHub cannot read.

    A truncated or invalid JSON body, HTML where JSON was due, an empty or
    oversized body, or JSON of the wrong shape (a list for an object, a string
    for a required number). `code` is always "invalid_response".
    """

    def __init__(self, message: str) -> None:
        super().__init__("invalid_response", message)


# Most specific first: ConnectionTimeout and CertificateError are CannotConnect
# too, InvalidResponse is an ApiError. A kind's own subclasses (a missing Docker
# socket...) may be named before these (`error_key`'s `specific`).
ERROR_KEYS: tuple[tuple[type[WakeHubError], str], ...] = (
    (ConnectionTimeout, "timeout"),
    (CertificateError, "certificate"),
    (CannotConnect, "cannot_connect"),
    (NotThatKind, "not_that_kind"),
    (InvalidAuth, "invalid_auth"),
    (PermissionDenied, "permission_denied"),
    (HostKeyMismatch, "host_key_changed"),
    (Conflict, "conflict"),
    (NotFound, "not_found"),
    (RateLimited, "rate_limited"),
    (TaskFailed, "task_failed"),
    (InvalidResponse, "invalid_response"),
    (ApiError, "api_error"),
)
UNKNOWN_ERROR = "unknown_error"
CANNOT_RESOLVE = "cannot_resolve"


def _unresolved(err: WakeHubError) -> bool:
    """A connection that failed because the host name does not resolve."""
    cause = err.__cause__
    return isinstance(cause, aiohttp.ClientConnectorDNSError | socket.gaierror)


def error_key(
    err: WakeHubError,
    specific: Iterable[tuple[type[WakeHubError], str]] = (),
) -> str:
    """The translation key naming `err` (form error and exception alike)."""
    for cls, key in (*specific, *ERROR_KEYS):
        if isinstance(err, cls):
            if key == "cannot_connect" and _unresolved(err):
                return CANNOT_RESOLVE
            return key
    return UNKNOWN_ERROR
