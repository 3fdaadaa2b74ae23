"""How a VPS's entities read the VPS manager's parts of its state.

The topic modules write their readings over `VpsManagerData`; these wrap them
over the VPS's state, so that every manager entity follows the same rules: a
part's value is None (the entity unavailable) while that part's last read
failed, and attributes that say nothing are None.
"""

from __future__ import annotations

from collections.abc import Callable
import datetime as dt
from typing import Any

from homeassistant.helpers.typing import StateType

from ..state import OvhVpsState
from .data import VpsManagerData


def part_value(
    part: str, read: Callable[[VpsManagerData], StateType | dt.datetime]
) -> Callable[[OvhVpsState], StateType | dt.datetime]:
    """`read`, None while `part`'s last read failed."""

    def value(state: OvhVpsState) -> StateType | dt.datetime:
        if part in state.manager.unavailable:
            return None
        return read(state.manager)

    return value


def exists(check: Callable[[VpsManagerData], bool]) -> Callable[[OvhVpsState], bool]:
    return lambda state: check(state.manager)


def attributes(
    read: Callable[[VpsManagerData], dict[str, Any] | None],
) -> Callable[[OvhVpsState], dict[str, Any] | None]:
    return lambda state: read(state.manager) or None
