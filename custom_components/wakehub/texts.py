"""WakeHub's own texts in Home Assistant's language, for what Home Assistant
does not translate itself: the progress sensor's state and the logbook's lines.

They live in sections of the translation files (`progress`, `logbook`), read from
Home Assistant's translation cache with English where a text is missing. The
cache is filled ahead (the texts are rendered in callbacks that cannot wait),
and again whenever Home Assistant's language changes.
"""

from __future__ import annotations

from homeassistant.const import EVENT_CORE_CONFIG_UPDATE
from homeassistant.core import Event, HomeAssistant, callback
from homeassistant.helpers.translation import (
    async_get_cached_translations,
    async_get_translations,
)
from homeassistant.util.hass_dict import HassKey

from .const import DOMAIN

_LOADED: HassKey[set[str]] = HassKey(f"{DOMAIN}_texts")


async def async_load_texts(hass: HomeAssistant, category: str) -> None:
    """Load the texts of `category` in Home Assistant's language and English,
    and load them again whenever the language changes."""
    categories = hass.data.get(_LOADED)
    if categories is None:
        categories = hass.data[_LOADED] = set()

        @callback
        def language_changed(_event: Event) -> None:
            for loaded in categories:
                hass.async_create_task(_async_load(hass, loaded), eager_start=True)

        hass.bus.async_listen(EVENT_CORE_CONFIG_UPDATE, language_changed)
    categories.add(category)
    await _async_load(hass, category)


async def _async_load(hass: HomeAssistant, category: str) -> None:
    for language in {hass.config.language, "en"}:
        await async_get_translations(hass, language, category, [DOMAIN])


@callback
def text(hass: HomeAssistant, category: str, key: str) -> str | None:
    """The text of `key` (dotted, within `category`) in Home Assistant's
    language, else in English; None when neither has it."""
    path = f"component.{DOMAIN}.{category}.{key}"
    for language in (hass.config.language, "en"):
        found = async_get_cached_translations(hass, language, category, DOMAIN)
        if value := found.get(path):
            return value
    return None


def fill(template: str, **placeholders: str) -> str:
    """`template` with its placeholders; as is when a translation has one it
    should not have."""
    try:
        return template.format(**placeholders)
    except KeyError, IndexError, ValueError:
        return template
