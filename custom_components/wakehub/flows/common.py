"""Form pieces every kind shares."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection, Mapping
from typing import Any
from urllib.parse import urlsplit

from homeassistant.config_entries import ConfigFlow, ConfigFlowResult
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
# Where every kind keeps the SHA-256 fingerprint of the certificate it pinned
# (the CONF_FINGERPRINT of kinds/).
CONF_FINGERPRINT = "fingerprint"


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


def same_server(url: str, stored: str | None) -> bool:
    """Whether `url` names the server (host and port) of the `stored` URL, one
    that connected when it was stored."""
    if not stored:
        return False
    new, old = urlsplit(url.strip()), urlsplit(stored.strip())
    return (new.hostname, new.port) == (old.hostname, old.port)


def kept_pin(stored: Mapping[str, Any], same: bool, key: str) -> str | None:
    """The pin (certificate fingerprint, SSH host key) stored for a server, kept
    when the form still names that server: the user confirmed it already."""
    return stored.get(key) if same else None


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


class CertificatePinSteps(ConfigFlow):
    """The step that pins a certificate the system does not trust, written once
    for the kinds that speak HTTPS: the server's SHA-256 fingerprint is shown,
    and pinned in the flow's data once the user confirms it."""

    _pin_presented: str | None = None

    async def _async_read_pin(
        self, err: WakeHubError, url: str, default_port: int
    ) -> None:
        """Read the fingerprint to show; raises WakeHubError when the server no
        longer answers."""
        self._pin_presented = await presented_fingerprint(err, url, default_port)

    async def _async_pin_step(
        self,
        step_id: str,
        user_input: Mapping[str, Any] | None,
        data: dict[str, Any],
        *,
        url: str,
        confirmed: Callable[[], Awaitable[ConfigFlowResult]],
        placeholders: Mapping[str, str] | None = None,
    ) -> ConfigFlowResult:
        """The kind's `step_id` form; once submitted, the pin goes into `data`
        and `confirmed` goes on (connects again, with the pin)."""
        assert self._pin_presented is not None
        if user_input is not None:
            data[CONF_FINGERPRINT] = self._pin_presented
            return await confirmed()
        return self.async_show_form(
            step_id=step_id,
            data_schema=vol.Schema({}),
            description_placeholders={
                "url": url,
                "fingerprint": self._pin_presented,
                **(placeholders or {}),
            },
        )
