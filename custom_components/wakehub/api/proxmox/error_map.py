"""Proxmox's error answers, mapped to the exceptions of errors.py."""

from __future__ import annotations

from collections.abc import Mapping
import re
from typing import Any, Final

import aiohttp

from ..errors import (
    ApiError,
    CannotConnect,
    Conflict,
    InvalidAuth,
    NotFound,
    PermissionDenied,
    WakeHubError,
)

PERMISSION_RE: Final = re.compile(r"Permission check failed \(([^,]*),\s*([^)]+)\)")


def _privilege_from(message: str) -> str | None:
    match = PERMISSION_RE.search(message)
    return match.group(2).strip() if match else None


def error_message(response: aiohttp.ClientResponse, body: Any) -> str:
    """Proxmox's words: the reason phrase, `message`, and per-parameter `errors`."""
    parts: list[str] = []
    if response.reason:
        parts.append(response.reason.strip())
    if isinstance(body, Mapping):
        message = body.get("message")
        if isinstance(message, str) and message.strip() not in parts:
            parts.append(message.strip())
        errors = body.get("errors")
        if isinstance(errors, Mapping):
            parts.extend(f"{k}: {str(v).strip()}" for k, v in errors.items())
    return "; ".join(parts) or f"HTTP {response.status}"


def map_error(status: int, message: str) -> WakeHubError:
    """The errors.py exception for a Proxmox error status and message."""
    if status == 401:
        return InvalidAuth(f"credentials refused: {message}")
    if status == 403:
        return PermissionDenied(message, privilege=_privilege_from(message))
    if status == 595:  # the node that should answer is unreachable from the cluster
        return CannotConnect(f"node unreachable: {message}")
    if status == 500 and " is locked" in message:
        return Conflict(message)
    if status == 500 and "does not exist" in message:
        return NotFound(message)
    return ApiError(status, message)
