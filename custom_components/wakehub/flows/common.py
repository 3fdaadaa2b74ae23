"""Form pieces every kind shares."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from homeassistant.helpers.selector import (
    NumberSelector,
    NumberSelectorConfig,
    NumberSelectorMode,
)

from ..api.errors import CertificateError, WakeHubError
from ..api.tls import fetch_fingerprint
from ..const import (
    CONF_SCAN_INTERVAL,
    CONF_TIMEOUT,
    DEFAULT_SCAN_INTERVAL,
    DEFAULT_TIMEOUT,
)
from ..schema import vol

# How long the wizard waits for a server to show its certificate.
CERTIFICATE_TIMEOUT = 10.0


def seconds_selector(minimum: int, maximum: int) -> NumberSelector:
    return NumberSelector(
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


def timing_options(user_input: Mapping[str, Any]) -> dict[str, Any]:
    """Number selectors give floats; options store whole seconds."""
    return {
        key: int(value) if isinstance(value, float) else value
        for key, value in user_input.items()
    }


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
