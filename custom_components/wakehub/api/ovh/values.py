"""Small readers shared by the VPS manager's modules: sizes, times, "gone" answers."""

from __future__ import annotations

import datetime as dt
from typing import Any, Final

from ..errors import ApiError, NotFound, PermissionDenied, WakeHubError
from ..fields import opt_float, opt_obj, opt_str
from .error_map import ServiceExpired

# Units OVH writes sizes in (UnitAndValue), to bytes. Unknown units read as None.
_UNITS: Final[dict[str, int]] = {
    "b": 1,
    "bytes": 1,
    "kb": 1000,
    "mb": 1000**2,
    "gb": 1000**3,
    "tb": 1000**4,
    "kib": 1024,
    "mib": 1024**2,
    "gib": 1024**3,
    "tib": 1024**4,
}


def size_bytes(payload: Any) -> int | None:
    """A `{unit, value}` size in bytes; None when absent or in an unknown unit."""
    data = opt_obj(payload)
    value = opt_float(data.get("value"))
    factor = _UNITS.get((opt_str(data.get("unit")) or "").strip().lower())
    if value is None or factor is None or value < 0:
        return None
    return round(value * factor)


def aware(value: dt.datetime | None) -> dt.datetime | None:
    """A datetime with a zone (OVH's rare naive ones are UTC)."""
    if value is None:
        return None
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def is_gone(err: WakeHubError) -> bool:
    """An answer meaning "this VPS has no such thing" rather than "try later".

    404 (not subscribed), 403 (not for this key or range), and other 4xx
    (a deprecated call withdrawn); an expired service, a 5xx and transport
    errors are not: they are worth another try.
    """
    if isinstance(err, NotFound | PermissionDenied):
        return True
    if isinstance(err, ApiError) and not isinstance(err, ServiceExpired):
        return isinstance(err.code, int) and 400 <= err.code < 500
    return False
