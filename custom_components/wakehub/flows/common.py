"""Form pieces every kind shares."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from homeassistant.helpers.selector import (
    NumberSelector,
    NumberSelectorConfig,
    NumberSelectorMode,
)

from ..const import (
    CONF_SCAN_INTERVAL,
    CONF_TIMEOUT,
    DEFAULT_SCAN_INTERVAL,
    DEFAULT_TIMEOUT,
)
from ..schema import vol


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
