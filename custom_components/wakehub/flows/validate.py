"""The rules every form value passes before the wizard uses it.

Home Assistant's selectors check little more than a value's JSON type: a text
field takes a 100 kB string, a NUL or a lone surrogate, a number field takes NaN.
Anything the HTTP API can carry may arrive here. Each rule takes such a value
and returns it clean, or raises `InvalidField` carrying the translation key of
the form error to show next to the field; `parse` applies a table of rules to a
form's input (a form declares its fields with their rules: flows/fields.py).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
import ipaddress
import math
import re
from typing import Any
import unicodedata
from urllib.parse import urlsplit

from homeassistant.helpers.selector import NumberSelector

from ..api.machine import normalize_mac
from ..schema import vol

MAX_TEXT = 255  # names, user names, host names, keys and ids
MAX_SECRET = 1024  # passwords, token secrets, API keys
MAX_COMMAND = 1024  # shell commands run over SSH
MAX_URL = 2048
MAX_PEM = 64 * 1024  # a certificate chain or a private key

type Rule = Callable[[Any], Any]

# A.B.C... names of letters, digits and inner hyphens (RFC 1123), 253 at most.
_HOSTNAME = re.compile(
    r"(?=.{1,253}\.?$)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?"
    r"(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*\.?",
    re.IGNORECASE,
)
# What follows `scheme://` in an address: a name, or an IPv6 literal in brackets
# (a bare one is ambiguous with the port), then an optional port. No user info:
# credentials have fields of their own.
_NETLOC = re.compile(
    r"(?:\[(?P<ipv6>[0-9a-f:.]+)\]|(?P<name>[^:\[\]@/]+))(?::(?P<port>[0-9]{1,10}))?",
    re.IGNORECASE,
)
# Unicode categories no one types: control characters and lone surrogates
# (which cannot even be encoded to send), line and paragraph separators.
_UNTYPABLE = frozenset({"Cc", "Cs", "Zl", "Zp"})
_LINE_BREAKS = frozenset("\t\n\r")


class InvalidField(ValueError):
    """A form value that cannot be used; `key` is the form error to show."""

    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def parse(
    user_input: Mapping[str, Any], rules: Mapping[str, Rule]
) -> tuple[dict[str, Any], dict[str, str]]:
    """Apply each field's rule: (clean values, form errors by field).

    A field the form left out reaches its rule as None; optional rules return
    None for it, and such values are left out of the result.
    """
    values: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for key, rule in rules.items():
        try:
            value = rule(user_input.get(key))
        except InvalidField as err:
            errors[key] = err.key
        else:
            if value is not None:
                values[key] = value
    return values, errors


def _string(
    value: Any, max_len: int, *, multiline: bool = False, strip: bool = True
) -> str:
    """The text, without surrounding spaces and line breaks if `strip`."""
    if not isinstance(value, str):
        raise InvalidField("invalid_text")
    if len(value) > max_len:
        raise InvalidField("too_long")
    kept = value.strip() if strip else value
    allowed = _LINE_BREAKS if multiline else frozenset()
    if any(
        unicodedata.category(char) in _UNTYPABLE and char not in allowed
        for char in kept
    ):
        raise InvalidField("control_characters")
    return kept


def text(value: Any, max_len: int = MAX_TEXT) -> str:
    """Required one-line text, without surrounding spaces."""
    if value is None:
        raise InvalidField("blank")
    stripped = _string(value, max_len)
    if not stripped:
        raise InvalidField("blank")
    return stripped


def optional_text(value: Any, max_len: int = MAX_TEXT) -> str | None:
    """One-line text, without surrounding spaces; None when blank."""
    if value is None:
        return None
    return _string(value, max_len) or None


def command(value: Any) -> str:
    """A shell command run over SSH."""
    return text(value, MAX_COMMAND)


def secret(value: Any) -> str | None:
    """A password, token secret or key, kept as typed (spaces may belong to it);
    None when blank or only spaces, which in a reconfigure keeps the stored one."""
    if value is None:
        return None
    typed = _string(value, MAX_SECRET, strip=False)
    return typed if typed.strip() else None


def required_secret(value: Any) -> str:
    """A secret that must be given (spaces alone are not one)."""
    if (typed := secret(value)) is None:
        raise InvalidField("blank")
    return typed


def pem(value: Any) -> str | None:
    """Pasted PEM text (certificate or key, several lines), kept as pasted;
    None when blank."""
    if value is None:
        return None
    pasted = _string(value, MAX_PEM, multiline=True, strip=False)
    return pasted if pasted.strip() else None


def _whole_or_real(value: Any, key: str) -> float:
    # bool is an int to Python, never a number to a user.
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidField(key)
    if isinstance(value, float) and not math.isfinite(value):
        raise InvalidField(key)
    return value


def flag(default: bool) -> Rule:
    """A checkbox: `default` when the form left it out, else its truth value."""

    def rule(value: Any) -> bool:
        return default if value is None else bool(value)

    return rule


def port(value: Any) -> int:
    """A TCP or UDP port, 1 to 65535."""
    number = _whole_or_real(value, "invalid_port")
    if number != int(number) or not 1 <= number <= 65535:
        raise InvalidField("invalid_port")
    return int(number)


def number(
    value: Any, minimum: float, maximum: float, *, whole: bool = False
) -> float | int:
    """A finite number within the field's limits (a whole one if `whole`)."""
    checked = _whole_or_real(value, "invalid_number")
    if not minimum <= checked <= maximum or (whole and checked != int(checked)):
        raise InvalidField("invalid_number")
    return int(checked) if whole else float(checked)


def number_rule(minimum: float, maximum: float, *, whole: bool = False) -> Rule:
    """`number` with its limits, for a table of rules; None stays None."""

    def rule(value: Any) -> float | int | None:
        if value is None:
            return None
        return number(value, minimum, maximum, whole=whole)

    return rule


def _is_host(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
    except ValueError:
        # A name ending in a number is an IPv4 address to URL parsers ("0",
        # "10.1", "nas.0x1f"), and not a canonical one: no such host name.
        last = name.rstrip(".").rsplit(".", 1)[-1]
        numeric = last.isdigit() or last.lower().startswith("0x")
        return not numeric and _HOSTNAME.fullmatch(name) is not None
    return True


def host(value: Any) -> str:
    """An IP address (v4 or v6) or a host name."""
    name = text(value)
    if not _is_host(name):
        raise InvalidField("invalid_host")
    return name


def ipv4(value: Any) -> str:
    """An IPv4 address (where Wake-on-LAN packets are broadcast)."""
    address = text(value)
    try:
        ipaddress.IPv4Address(address)
    except ValueError:
        raise InvalidField("invalid_broadcast_address") from None
    return address


def mac(value: Any) -> str:
    """A MAC address in any common spelling, as `aa:bb:cc:dd:ee:ff`."""
    typed = text(value, 64)
    try:
        return normalize_mac(typed)
    except ValueError:
        raise InvalidField("invalid_mac") from None


def url(
    value: Any,
    *,
    schemes: Collection[str],
    error: str,
    default_scheme: str | None = None,
) -> str:
    """An address of one of `schemes`, without surrounding spaces.

    `error` is the kind's form error saying which addresses it takes. A host is
    required (an IPv6 one in brackets) and a port, if given, is 1 to 65535;
    `unix:///path` names a socket instead. Without `://`, `default_scheme` is
    assumed when given.
    """
    address = text(value, MAX_URL)
    if default_scheme and "://" not in address:
        address = f"{default_scheme}://{address}"
    try:
        parts = urlsplit(address)
    except ValueError:  # e.g. an unclosed IPv6 bracket
        raise InvalidField(error) from None
    if parts.scheme.lower() not in schemes:
        raise InvalidField(error)
    if parts.scheme.lower() == "unix":
        if parts.netloc or not parts.path.strip("/"):
            raise InvalidField(error)
        return address
    if (found := _NETLOC.fullmatch(parts.netloc)) is None:
        raise InvalidField(error)
    # (An address in brackets was checked by urlsplit, which refuses any
    # other than IPv6.)
    if found["ipv6"] is None and not _is_host(found["name"]):
        raise InvalidField(error)
    if found["port"] is not None and not 1 <= int(found["port"]) <= 65535:
        raise InvalidField("invalid_port")
    return address


class FiniteNumberSelector(NumberSelector):
    """Home Assistant's number selector, refusing integers too big for a float.

    Before 2026.10 its float conversion let the OverflowError of such a JSON
    number escape (an HTTP 500); here it is a schema error like any other.
    """

    def __call__(self, data: Any) -> float:
        if isinstance(data, int) and not isinstance(data, bool):
            try:
                float(data)
            except OverflowError:
                raise vol.Invalid("number too large") from None
        return super().__call__(data)
