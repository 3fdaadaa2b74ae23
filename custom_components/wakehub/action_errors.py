"""Turn client errors into the translated errors users see.

Every action (switch, button, `wakehub.*`) goes through `translate_error`, and
every coordinator's poll through `update_failed`: both read the same table, so
the same failure reads the same everywhere, whatever the kind, and never leaks a
secret: only the resource's or server's name and the platform's own message are
shown.
"""

from __future__ import annotations

from homeassistant.exceptions import ConfigEntryAuthFailed, HomeAssistantError
from homeassistant.helpers.update_coordinator import UpdateFailed

from .api.errors import (
    ApiError,
    CannotConnect,
    CertificateError,
    Conflict,
    ConnectionTimeout,
    HostKeyMismatch,
    InvalidAuth,
    InvalidResponse,
    NotFound,
    NotThatKind,
    PermissionDenied,
    RateLimited,
    TaskFailed,
    WakeHubError,
)
from .const import DOMAIN

# Most specific first: ConnectionTimeout and CertificateError are CannotConnect
# too, InvalidResponse is an ApiError.
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
    (InvalidResponse, "invalid_response"),
    (NotThatKind, "invalid_response"),
    (ApiError, "api_error"),
)


def _key_and_placeholders(err: WakeHubError, name: str) -> tuple[str, dict[str, str]]:
    key = next((k for cls, k in _KEYS if isinstance(err, cls)), "unknown_error")
    message = err.message if isinstance(err, ApiError) else str(err)
    return key, {"name": name, "message": message}


def translate_error(err: WakeHubError, name: str) -> HomeAssistantError:
    """The HomeAssistantError for `err` raised while acting on resource `name`."""
    key, placeholders = _key_and_placeholders(err, name)
    return HomeAssistantError(
        translation_domain=DOMAIN,
        translation_key=key,
        translation_placeholders=placeholders,
    )


def needs_reauth(err: WakeHubError) -> bool:
    """Credentials refused, or short of a permission: new ones are the only fix."""
    return isinstance(err, InvalidAuth | PermissionDenied)


def update_failed(
    err: WakeHubError, name: str, *, can_reauth: bool = False
) -> UpdateFailed | ConfigEntryAuthFailed:
    """What a coordinator raises when polling server `name` failed with `err`.

    UpdateFailed makes the entities unavailable until a poll succeeds again (a
    rate limit delays the next poll as the server asked). On kinds that have a
    reauth flow (`can_reauth`), refused credentials, or credentials that lost a
    permission (a revoked token, a consumer key without the rights), start
    reauthentication instead: new credentials are the only fix.
    """
    key, placeholders = _key_and_placeholders(err, name)
    if can_reauth and needs_reauth(err):
        return ConfigEntryAuthFailed(
            translation_domain=DOMAIN,
            translation_key=key,
            translation_placeholders=placeholders,
        )
    return UpdateFailed(
        translation_domain=DOMAIN,
        translation_key=key,
        translation_placeholders=placeholders,
        retry_after=err.retry_after if isinstance(err, RateLimited) else None,
    )
