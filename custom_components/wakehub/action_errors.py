"""Turn client errors into the translated errors users see from actions.

Every action (switch, button, `wakehub.*`) goes through `translate_error`, so the
same failure reads the same everywhere and never leaks a secret: only the
resource's name and the platform's own message are shown.
"""

from __future__ import annotations

from homeassistant.exceptions import HomeAssistantError

from .api.errors import (
    ApiError,
    CannotConnect,
    CertificateError,
    Conflict,
    ConnectionTimeout,
    HostKeyMismatch,
    InvalidAuth,
    NotFound,
    PermissionDenied,
    RateLimited,
    TaskFailed,
    WakeHubError,
)
from .const import DOMAIN

# Most specific first: ConnectionTimeout and CertificateError are CannotConnect too.
_KEYS: tuple[tuple[type[WakeHubError], str], ...] = (
    (ConnectionTimeout, "timeout"),
    (CertificateError, "certificate"),
    (CannotConnect, "cannot_connect"),
    (InvalidAuth, "invalid_auth"),
    (PermissionDenied, "permission_denied"),
    (HostKeyMismatch, "host_key_changed"),
    (Conflict, "conflict"),
    (NotFound, "not_found"),
    (RateLimited, "rate_limited"),
    (TaskFailed, "task_failed"),
    (ApiError, "api_error"),
)


def translate_error(err: WakeHubError, name: str) -> HomeAssistantError:
    """The HomeAssistantError for `err` raised while acting on resource `name`."""
    key = next((k for cls, k in _KEYS if isinstance(err, cls)), "unknown_error")
    message = err.message if isinstance(err, ApiError) else str(err)
    return HomeAssistantError(
        translation_domain=DOMAIN,
        translation_key=key,
        translation_placeholders={"name": name, "message": message},
    )
