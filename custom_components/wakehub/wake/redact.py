"""Keep link tokens out of the log lines Home Assistant's HTTP stack writes.

WakeHub never logs a token; but Home Assistant's view dispatcher logs each
request's path at debug level ("Serving /api/... to ..."), and aiohttp's access
log writes it at info level. A filter on those two loggers replaces the token
part of a wake or gate path with `***` before any handler sees the line.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from .const import GATE_PATH, WAKE_PATH

HTTP_LOGGERS = ("homeassistant.helpers.http", "aiohttp.access")
_TOKEN_IN_PATH = re.compile(
    f"({re.escape(WAKE_PATH)}/|{re.escape(GATE_PATH)}/)[^\\s?\"'/]*"
)


def _hide(value: Any) -> Any:
    if isinstance(value, str):
        return _TOKEN_IN_PATH.sub(r"\1***", value)
    return value


class HideTokens(logging.Filter):
    """Rewrites the message, its arguments and string extras of a record."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = _hide(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(_hide(arg) for arg in record.args)
        elif isinstance(record.args, dict):
            record.args = {key: _hide(arg) for key, arg in record.args.items()}
        for key, value in list(vars(record).items()):
            if isinstance(value, str) and key not in ("msg", "name", "pathname"):
                setattr(record, key, _hide(value))
        return True


def install() -> None:
    """Add the filter once to each logger that writes request paths."""
    for name in HTTP_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, HideTokens) for f in logger.filters):
            logger.addFilter(HideTokens())
