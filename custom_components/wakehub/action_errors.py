"""Turn client errors into the translated errors users see.

Every action (switch, button, `wakehub.*`) goes through `translate_error`, and
every coordinator's poll through `update_failed`: both name the failure with
`api.errors.error_key`, as the wizard's form errors do, so
the same failure reads the same everywhere, whatever the kind, and never leaks a
secret: only the resource's or server's name and the platform's own message are
shown. An error that names its own text (`translation_key`: the OVH VPS manager
specification's errors, e.g. "an operation is already running") is shown with it,
whichever action met it; forms keep the general key (they have no such texts).
"""

from __future__ import annotations

from collections.abc import Iterable

from homeassistant.exceptions import (
    ConfigEntryAuthFailed,
    HomeAssistantError,
    ServiceValidationError,
)
from homeassistant.helpers.update_coordinator import UpdateFailed

from .api.errors import (
    ApiError,
    InvalidAuth,
    PermissionDenied,
    RateLimited,
    WakeHubError,
    error_key,
)
from .const import DOMAIN


def _key_and_placeholders(
    err: WakeHubError,
    name: str,
    specific: Iterable[tuple[type[WakeHubError], str]] = (),
) -> tuple[str, dict[str, str]]:
    message = err.message if isinstance(err, ApiError) else str(err)
    # An error that names its own text (OVH's specification errors) comes first.
    own = getattr(err, "translation_key", None)
    key = own if isinstance(own, str) else error_key(err, specific)
    return key, {"name": name, "message": message}


def translate_error(
    err: WakeHubError,
    name: str,
    specific: Iterable[tuple[type[WakeHubError], str]] = (),
    *,
    advice: str | None = None,
    **placeholders: str,
) -> HomeAssistantError:
    """The HomeAssistantError for `err` raised while acting on resource `name`.

    `specific` names a kind's own errors before the common table; `advice`, a
    translation key that explains the failure in its context (how to wake a
    Proxmox node), replaces the table's key, still with the platform's words
    in `message`; `placeholders` are the advice's own. A client's refusal of
    bad input before sending anything (a ValueError) is a ServiceValidationError.
    """
    key, words = _key_and_placeholders(err, name, specific)
    error = (
        ServiceValidationError if isinstance(err, ValueError) else HomeAssistantError
    )
    return error(
        translation_domain=DOMAIN,
        translation_key=advice or key,
        translation_placeholders={**words, **placeholders},
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
