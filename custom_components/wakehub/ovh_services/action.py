"""What a VPS manager action is, the errors it raises, and how it follows the
OVH task it starts."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from homeassistant.core import ServiceCall, SupportsResponse
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError

from ..api.ovh import Task
from ..const import DOMAIN
from ..kinds.ovh.vps import OvhVpsResource

type Act = Callable[[OvhVpsResource, ServiceCall], Awaitable[dict[str, Any]]]


@dataclass(frozen=True, kw_only=True)
class OvhAction:
    """One `wakehub.*` action: what it does to each VPS, and its fields (beside
    the targets every action has)."""

    name: str
    act: Act
    fields: Mapping[Any, Any] = field(default_factory=dict)
    response: SupportsResponse = SupportsResponse.OPTIONAL
    #: Refuses the call before any VPS is resolved (ServiceValidationError).
    check: Callable[[ServiceCall], None] | None = None


def _texts(key: str, name: str, placeholders: Mapping[str, str]) -> dict[str, Any]:
    return {
        "translation_domain": DOMAIN,
        "translation_key": key,
        "translation_placeholders": {"name": name, **placeholders},
    }


def failed(key: str, name: str, **placeholders: str) -> HomeAssistantError:
    """What VPS `name` cannot do (OVH's answer), translated."""
    return HomeAssistantError(**_texts(key, name, placeholders))


def refused(key: str, name: str, **placeholders: str) -> ServiceValidationError:
    """A request for VPS `name` that cannot be right, refused, translated."""
    return ServiceValidationError(**_texts(key, name, placeholders))


async def follow(vps: OvhVpsResource, action: Callable[[], Awaitable[Task]]) -> Task:
    """Send `action` and follow its OVH task to the end, as every OVH action does."""
    return await vps._follow(action, details=True)  # noqa: SLF001 - the kind's one rule
