"""One exception hierarchy for every platform client.

The Home Assistant layer maps these to form errors, repair issues and translated
action errors in one place, so a client only has to say *what* went wrong. No
exception text may contain a secret (password, token, key): messages carry the
platform's own words and the host, never credentials.
"""

from __future__ import annotations


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
