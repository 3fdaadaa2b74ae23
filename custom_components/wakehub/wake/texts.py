"""The waiting page's words, in Home Assistant's language (English fallback).

The page's own texts are the `wake_page` section of the translations; a layer's
step is the progress sensor's text (progress.py); a failure is the action's own
error message (the `exceptions` section), so the page says what the action
would have said.
"""

from __future__ import annotations

from collections.abc import Mapping

from homeassistant.core import HomeAssistant, callback
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers.translation import (
    async_get_cached_translations,
    async_get_translations,
)

from ..const import DOMAIN

CATEGORY = "wake_page"
_CATEGORIES = (CATEGORY, "exceptions", "progress")


async def async_load(hass: HomeAssistant) -> None:
    """Load what the page shows into the translation cache (rendering cannot wait)."""
    for language in {hass.config.language, "en"}:
        for category in _CATEGORIES:
            await async_get_translations(hass, language, category, [DOMAIN])


@callback
def _lookup(hass: HomeAssistant, category: str, key: str) -> str | None:
    full = f"component.{DOMAIN}.{category}.{key}"
    for language in (hass.config.language, "en"):
        cached = async_get_cached_translations(hass, language, category, DOMAIN)
        if text := cached.get(full):
            return text
    return None


@callback
def page_text(hass: HomeAssistant, key: str, **placeholders: str) -> str:
    template = _lookup(hass, CATEGORY, key) or key
    try:
        return template.format(**placeholders)
    except KeyError, IndexError, ValueError:
        return template


@callback
def error_message(hass: HomeAssistant, err: HomeAssistantError) -> str:
    """The action error's message, translated like the action shows it."""
    if err.translation_key is None:
        return str(err) or page_text(hass, "failed")
    template = _lookup(hass, "exceptions", f"{err.translation_key}.message")
    if template is None:
        return str(err)
    placeholders: Mapping[str, str] = err.translation_placeholders or {}
    try:
        return template.format(**placeholders)
    except KeyError, IndexError, ValueError:
        return template
