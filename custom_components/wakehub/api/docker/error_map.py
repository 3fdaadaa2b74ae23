"""The engine's error answers mapped to errors.py (`map_api_error`), and the three
exceptions of the Docker client's own, raised by transport.py."""

from __future__ import annotations

import contextlib

from ..errors import (
    ApiError,
    CannotConnect,
    Conflict,
    InvalidAuth,
    InvalidResponse,
    NotFound,
    NotThatKind,
    PermissionDenied,
)
from ..fields import opt_obj, text
from ..http import decode_json


class DockerSocketMissing(CannotConnect):
    """The unix socket does not exist (engine not installed, or not mounted)."""


class DockerSocketPermission(CannotConnect):
    """The unix socket exists but this process may not open it (docker group)."""


class DockerEngineTooOld(NotThatKind):
    """A Docker engine answered, but its API is older than 1.41."""

    def __init__(self, message: str, api_version: str) -> None:
        super().__init__(message)
        self.api_version = api_version


def map_api_error(status: int, body: bytes) -> Exception:
    """Docker's `{"message": ...}` error answers, mapped to errors.py."""
    message = ""
    # The error's text is a bonus: an unreadable body still maps by status.
    with contextlib.suppress(InvalidResponse):
        message = text(
            opt_obj(decode_json(body, "the engine", "an error")).get("message")
        )
    message = (
        message or body[:200].decode("utf-8", "replace").strip() or f"HTTP {status}"
    )
    if status == 404:
        return NotFound(message)
    if status == 409:
        return Conflict(message)
    if status == 401:
        return InvalidAuth(message)
    if status == 403:
        return PermissionDenied(message)
    return ApiError(status, message)
