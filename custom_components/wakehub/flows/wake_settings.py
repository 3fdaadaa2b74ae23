"""Wake-on-access fields of the per-resource settings form (power_settings.py).

The service's address, the switch, local networks only, minutes of activity per
hit, the hourly start cap, and a box to replace the link's token. The token is
made when wake on access is first turned on, kept across later edits (links
and bookmarks keep working), and replaced only when asked; it is never shown in
the form (the device's Visit link is the wake link).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from homeassistant.helpers.selector import (
    TextSelector,
    TextSelectorConfig,
    TextSelectorType,
)

from ..wake.const import (
    CONF_REGENERATE_TOKEN,
    CONF_SERVICE_URL,
    CONF_WAKE_KEEP_AWAKE,
    CONF_WAKE_LOCAL_ONLY,
    CONF_WAKE_MAX_STARTS,
    CONF_WAKE_ON_ACCESS,
    CONF_WAKE_TOKEN,
    DEFAULT_WAKE_KEEP_AWAKE,
    DEFAULT_WAKE_LOCAL_ONLY,
    DEFAULT_WAKE_MAX_STARTS,
)
from ..wake.probe import HTTP_SCHEMES
from ..wake.tokens import new_token
from . import validate
from .fields import checkbox, form, number_field, rules, suggested

_DEFAULTS: dict[str, Any] = {
    CONF_WAKE_ON_ACCESS: False,
    CONF_WAKE_LOCAL_ONLY: DEFAULT_WAKE_LOCAL_ONLY,
    CONF_WAKE_KEEP_AWAKE: DEFAULT_WAKE_KEEP_AWAKE,
    CONF_WAKE_MAX_STARTS: DEFAULT_WAKE_MAX_STARTS,
    CONF_SERVICE_URL: None,
    CONF_WAKE_TOKEN: None,
}


def service_url(value: Any) -> str | None:
    """An http(s) address, or any other with a port (checked by a TCP connect)."""
    if validate.optional_text(value, validate.MAX_URL) is None:
        return None
    try:
        scheme = urlsplit(str(value).strip()).scheme.lower()
    except ValueError:  # e.g. an unclosed IPv6 bracket
        raise validate.InvalidField("invalid_service_url") from None
    schemes = {scheme} if scheme and scheme not in HTTP_SCHEMES else HTTP_SCHEMES
    address = validate.url(value, schemes=schemes, error="invalid_service_url")
    if scheme not in HTTP_SCHEMES and urlsplit(address).port is None:
        raise validate.InvalidField("invalid_service_url")
    return address


# The form; the token is never shown.
_FIELDS = (
    suggested(
        CONF_SERVICE_URL,
        service_url,
        TextSelector(TextSelectorConfig(type=TextSelectorType.URL)),
    ),
    checkbox(CONF_WAKE_ON_ACCESS, False),
    checkbox(CONF_WAKE_LOCAL_ONLY, DEFAULT_WAKE_LOCAL_ONLY),
    number_field(CONF_WAKE_KEEP_AWAKE, 0, 1440, "min", default=DEFAULT_WAKE_KEEP_AWAKE),
    number_field(CONF_WAKE_MAX_STARTS, 1, 60, "/h", default=DEFAULT_WAKE_MAX_STARTS),
    checkbox(CONF_REGENERATE_TOKEN, False),
)


def wake_settings_fields(settings: Mapping[str, Any]) -> dict[Any, Any]:
    """The form fields, prefilled from stored settings."""
    return form(_FIELDS, settings)


def parse_wake_settings(
    user_input: Mapping[str, Any], stored: Mapping[str, Any]
) -> tuple[dict[str, Any], dict[str, str]]:
    """(settings to store, form errors), the token kept or made as needed."""
    values, errors = validate.parse(user_input, rules(_FIELDS))
    enabled = values[CONF_WAKE_ON_ACCESS]
    if enabled and CONF_SERVICE_URL not in values and not errors:
        errors[CONF_SERVICE_URL] = "service_url_required"
    token = stored.get(CONF_WAKE_TOKEN)
    if values.pop(CONF_REGENERATE_TOKEN) or (enabled and not token):
        token = new_token()
    chosen = {**_DEFAULTS, **values, CONF_WAKE_TOKEN: token}
    # Only what differs from the defaults is stored: a resource that never
    # used wake on access keeps exactly the settings it had.
    settings = {
        key: value for key, value in chosen.items() if value != _DEFAULTS.get(key)
    }
    return settings, errors
