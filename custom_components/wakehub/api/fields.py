"""Typed reading of decoded JSON: the one rule every client parses answers with.

Servers are not trusted to send the shapes their documentation promises. Two
kinds of accessor, so each field says which rule applies:

- `obj()`, `items()`, `required_str()`, `required_int()`: what the answer cannot
  do without (the list of guests, a container's id). The wrong type raises
  `InvalidResponse`, so a broken answer fails the poll instead of looking like
  "every guest vanished".
- `opt_*()` and `text()`: figures and labels that may be absent. The wrong type
  reads as absent (None, or the default), so one odd field leaves one sensor
  unknown rather than the whole device unavailable.

Numbers: a bool is never a number (JSON `true` is not 1 here); an integral float
or a decimal string is accepted where an int is expected, as Proxmox sends both.
"""

from __future__ import annotations

from collections.abc import Mapping
import math
from typing import Any, cast

from .errors import InvalidResponse

type JsonObject = Mapping[str, Any]


def obj(value: Any, what: str) -> JsonObject:
    """`value` as a JSON object; InvalidResponse when it is anything else."""
    if not isinstance(value, dict):
        raise InvalidResponse(f"{what} is {_kind(value)}, not an object")
    return cast("JsonObject", value)


def opt_obj(value: Any) -> JsonObject:
    """`value` as a JSON object, or an empty one when it is not an object."""
    return cast("JsonObject", value) if isinstance(value, dict) else {}


def items(value: Any, what: str) -> list[Any]:
    """`value` as a JSON list; InvalidResponse when it is anything else."""
    if not isinstance(value, list):
        raise InvalidResponse(f"{what} is {_kind(value)}, not a list")
    return value


def objects(value: Any, what: str) -> list[JsonObject]:
    """A JSON list of objects; InvalidResponse when it or an element is not."""
    return [obj(item, f"an element of {what}") for item in items(value, what)]


def required_str(data: JsonObject, key: str, what: str) -> str:
    """A non-empty string field (a number is taken as its decimal text)."""
    value = text(data.get(key))
    if not value:
        raise InvalidResponse(f"{what} has no usable {key!r}")
    return value


def required_int(data: JsonObject, key: str, what: str) -> int:
    """An integer field; InvalidResponse when it is absent or not a number."""
    value = opt_int(data.get(key))
    if value is None:
        raise InvalidResponse(f"{what} has no usable {key!r}")
    return value


def opt_int(value: Any) -> int | None:
    """An int from an int, an integral float or a decimal string; else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value) if math.isfinite(value) and value.is_integer() else None
    if isinstance(value, str):
        digits = value.strip()
        # Bounded: int() refuses texts of thousands of digits with a ValueError.
        if digits.removeprefix("-").isdigit() and digits.isascii() and len(digits) < 40:
            return int(digits)
    return None


def opt_float(value: Any) -> float | None:
    """A finite float from a number or a numeric string; else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return float(value) if abs(value) < 2**1023 else None
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, str):
        try:
            number = float(value)
        except ValueError:
            return None
        return number if math.isfinite(number) else None
    return None


def opt_str(value: Any) -> str | None:
    """A string field, None when absent or of another type."""
    return value if isinstance(value, str) else None


def text(value: Any, default: str = "") -> str:
    """A label: a string as is, a number as its decimal text, else `default`."""
    if isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return default


def flag(value: Any) -> bool:
    """Proxmox-style booleans: true, 1, "1" are true; anything else false."""
    if isinstance(value, bool):
        return value
    return opt_int(value) == 1


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    return "an object"
