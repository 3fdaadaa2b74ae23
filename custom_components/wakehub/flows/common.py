"""Form pieces every kind shares."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any
from urllib.parse import urlsplit

from homeassistant.helpers.selector import NumberSelectorConfig, NumberSelectorMode

from ..api.errors import CertificateError, WakeHubError
from ..api.tls import fetch_fingerprint
from ..const import (
    CONF_SCAN_INTERVAL,
    CONF_TIMEOUT,
    DEFAULT_SCAN_INTERVAL,
    DEFAULT_TIMEOUT,
)
from ..schema import vol
from . import validate

# How long the wizard waits for a server to show its certificate.
CERTIFICATE_TIMEOUT = 10.0


_TIMING_RULES: dict[str, validate.Rule] = {
    CONF_TIMEOUT: validate.number_rule(10, 3600, whole=True),
    CONF_SCAN_INTERVAL: validate.number_rule(5, 3600, whole=True),
}


def seconds_selector(minimum: int, maximum: int) -> validate.FiniteNumberSelector:
    return validate.FiniteNumberSelector(
        NumberSelectorConfig(
            min=minimum,
            max=maximum,
            step=1,
            unit_of_measurement="s",
            mode=NumberSelectorMode.BOX,
        )
    )


def timing_fields(
    options: Mapping[str, Any], *, scan_interval: int = DEFAULT_SCAN_INTERVAL
) -> dict[Any, Any]:
    """Start/stop timeout and polling interval, prefilled from `options`."""
    return {
        vol.Required(
            CONF_TIMEOUT, default=options.get(CONF_TIMEOUT, DEFAULT_TIMEOUT)
        ): seconds_selector(10, 3600),
        vol.Required(
            CONF_SCAN_INTERVAL, default=options.get(CONF_SCAN_INTERVAL, scan_interval)
        ): seconds_selector(5, 3600),
    }


def timing_options(
    user_input: Mapping[str, Any],
) -> tuple[dict[str, Any], dict[str, str]]:
    """(whole seconds to store, form errors) of the `timing_fields`."""
    return validate.parse(user_input, _TIMING_RULES)


def keep_stored_secrets(
    data: Mapping[str, Any], stored: Mapping[str, Any], fields: Collection[str]
) -> dict[str, Any]:
    """The stored secrets to keep: forms never show a secret back, so one left
    blank (absent from the clean `data`) means "unchanged"."""
    return {key: stored[key] for key in fields if key not in data and stored.get(key)}


async def presented_fingerprint(err: WakeHubError, url: str, default_port: int) -> str:
    """The fingerprint to show the user before pinning a server's certificate.

    A pinned certificate that changed comes with the new one's fingerprint; an
    untrusted one is read now, over a connection that sends nothing. Raises
    WakeHubError when the server no longer answers.
    """
    if isinstance(err, CertificateError) and err.fingerprint:
        return err.fingerprint
    parts = urlsplit(url.strip())
    return await fetch_fingerprint(
        str(parts.hostname), parts.port or default_port, timeout=CERTIFICATE_TIMEOUT
    )
