"""Form fields declared once: each with its rule (flows/validate.py), its
selector, and how it shows what is known (stored, or typed a moment ago).

`form` makes a schema's fields of them, `rules` the table `validate.parse`
applies; a kind's connection form and every settings form are tuples of them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import KW_ONLY, dataclass
from enum import Enum
from typing import Any

from homeassistant.helpers.selector import (
    BooleanSelector,
    NumberSelectorConfig,
    NumberSelectorMode,
    TextSelector,
    TextSelectorConfig,
    TextSelectorType,
)

from ..schema import vol
from .validate import FiniteNumberSelector, Rule, flag, number_rule, secret, text


class Prefill(Enum):
    """How a field shows the value known for it (stored, or typed before)."""

    DEFAULT = "default"  # as its default (else the field's own default)
    SUGGESTED = "suggested"  # as a suggestion: cleared, it stays blank
    NEVER = "never"  # a secret is never shown back


@dataclass(frozen=True)
class Field:
    """A form field: its rule, its selector, and how it is prefilled."""

    key: str
    rule: Rule
    selector: Any
    _: KW_ONLY
    required: bool = False
    default: Any = None
    prefill: Prefill = Prefill.DEFAULT

    def marker(self, known: Mapping[str, Any]) -> vol.Marker:
        value = known.get(self.key, self.default)
        options: dict[str, Any] = {}
        if value is not None and self.prefill is Prefill.DEFAULT:
            options["default"] = value
        elif value is not None and self.prefill is Prefill.SUGGESTED:
            options["description"] = {"suggested_value": value}
        return (vol.Required if self.required else vol.Optional)(self.key, **options)


TEXT = TextSelector()
PASSWORD = TextSelector(TextSelectorConfig(type=TextSelectorType.PASSWORD))
PEM = TextSelector(TextSelectorConfig(multiline=True))


def required(
    key: str, rule: Rule = text, selector: Any = TEXT, default: Any = None
) -> Field:
    """A field that must be filled, prefilled with what is known (else `default`)."""
    return Field(key, rule, selector, required=True, default=default)


def suggested(
    key: str, rule: Rule, selector: Any = TEXT, *, required: bool = False
) -> Field:
    """A field whose known value is suggested: cleared, it stays blank."""
    return Field(key, rule, selector, required=required, prefill=Prefill.SUGGESTED)


def secret_field(
    key: str, rule: Rule = secret, selector: Any = PASSWORD, *, required: bool = False
) -> Field:
    """A secret: never shown back (left blank when reconfiguring, it keeps the
    stored one: flows/trust.py)."""
    return Field(key, rule, selector, required=required, prefill=Prefill.NEVER)


def form(fields: Iterable[Field], known: Mapping[str, Any]) -> dict[Any, Any]:
    """The schema's fields, prefilled from what is `known`."""
    return {field.marker(known): field.selector for field in fields}


def rules(fields: Iterable[Field]) -> dict[str, Rule]:
    return {field.key: field.rule for field in fields}


def number_field(
    key: str,
    minimum: float,
    maximum: float,
    unit: str,
    *,
    default: float | None = None,
    step: float = 1,
    whole: bool = True,
) -> Field:
    """A number field whose selector and rule share its limits: required with
    its default, else optional (left empty, nothing is stored)."""
    return Field(
        key,
        number_rule(minimum, maximum, whole=whole),
        number_selector(minimum, maximum, unit, step),
        required=default is not None,
        default=default,
        prefill=Prefill.SUGGESTED if default is None else Prefill.DEFAULT,
    )


def checkbox(key: str, default: bool) -> Field:
    return Field(key, flag(default), BooleanSelector(), required=True, default=default)


def number_selector(
    minimum: float, maximum: float, unit: str, step: float = 1
) -> FiniteNumberSelector:
    return FiniteNumberSelector(
        NumberSelectorConfig(
            min=minimum,
            max=maximum,
            step=step,
            unit_of_measurement=unit,
            mode=NumberSelectorMode.BOX,
        )
    )
