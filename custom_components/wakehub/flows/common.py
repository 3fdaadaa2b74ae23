"""Option form pieces every kind shares: start/stop timeout and polling."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from homeassistant.helpers.selector import NumberSelectorConfig, NumberSelectorMode

from ..const import (
    CONF_SCAN_INTERVAL,
    CONF_TIMEOUT,
    DEFAULT_SCAN_INTERVAL,
    DEFAULT_TIMEOUT,
)
from ..schema import vol
from . import validate

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
