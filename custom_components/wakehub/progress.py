"""Progress in words: what a start or stop under way is doing right now.

A container's start may spend a minute waiting for the physical node under its
VM. Its status says `waiting`; the progress sensor says for what, naming the
deepest layer at work: "Waiting for pve1: Wake-on-LAN sent, waiting for it to
boot", then "Waiting for docker: starting the VM", then "Starting the
container". The texts come from the `progress` section of the translations, in
Home Assistant's language.
"""

from __future__ import annotations

from dataclasses import dataclass

from homeassistant.const import EVENT_CORE_CONFIG_UPDATE
from homeassistant.core import Event, HomeAssistant, callback
from homeassistant.helpers.translation import (
    async_get_cached_translations,
    async_get_translations,
)
from homeassistant.util.hass_dict import HassKey

from .const import DOMAIN
from .power import Phase, PowerManager, Transition
from .resource import Resource

CATEGORY = "progress"
IDLE = "idle"
_PREFIX = f"component.{DOMAIN}.{CATEGORY}."
_LANGUAGE_TRACKED: HassKey[bool] = HassKey(f"{DOMAIN}_progress_language")


@dataclass(frozen=True, slots=True)
class Text:
    """A translation key of the progress section and its placeholders."""

    key: str
    names: str = ""
    #: For "waiting for <layer>: <what it does>": the layer and its own text.
    layer: str = ""
    step: Text | None = None


def progress(power: PowerManager, resource: Resource) -> Text:
    """What `resource`'s change under way is doing, as text to translate."""
    transition = power.transition(resource.key)
    if transition is None:
        return Text(IDLE)
    if transition.phase is Phase.DEPENDENCIES:
        deepest = _deepest_at_work(power, transition, seen={resource.key})
        if deepest is None:
            return Text("waiting_for", names=_names(transition))
        layer, layer_transition = deepest
        return Text(
            "waiting_for_layer", layer=layer.name, step=_own(layer, layer_transition)
        )
    return _own(resource, transition)


def _own(resource: Resource, transition: Transition) -> Text:
    """What the resource itself is doing (not its dependencies)."""
    names = _names(transition)
    if transition.phase is Phase.PLATFORM:
        return Text("platform", names=names)
    if transition.phase is Phase.DEPENDENTS:
        return Text("stopping_dependents", names=names)
    if transition.action in ("start", "start_alone"):
        return Text(resource.starting_text)
    if transition.action == "reboot":
        return Text("rebooting")
    return Text("stopping")


def _names(transition: Transition) -> str:
    return ", ".join(transition.waiting_for)


def _deepest_at_work(
    power: PowerManager, transition: Transition, *, seen: set[str]
) -> tuple[Resource, Transition] | None:
    """Follow what a start waits for down to the layer that is doing something."""
    for key in transition.waiting_keys:
        below = power.transition(key)
        layer = power.resources.get(key)
        if below is None or layer is None or key in seen:
            continue
        seen.add(key)
        if below.phase is Phase.DEPENDENCIES:
            if (deeper := _deepest_at_work(power, below, seen=seen)) is not None:
                return deeper
            continue
        return layer, below
    return None


async def async_load_texts(hass: HomeAssistant) -> None:
    """Load the progress texts of Home Assistant's language, and of any language
    it is set to later, into the translation cache (render() cannot wait)."""
    if not hass.data.get(_LANGUAGE_TRACKED):
        hass.data[_LANGUAGE_TRACKED] = True

        @callback
        def language_changed(_event: Event) -> None:
            hass.async_create_task(_async_load(hass), eager_start=True)

        hass.bus.async_listen(EVENT_CORE_CONFIG_UPDATE, language_changed)
    await _async_load(hass)


async def _async_load(hass: HomeAssistant) -> None:
    for language in {hass.config.language, "en"}:
        await async_get_translations(hass, language, CATEGORY, [DOMAIN])


@callback
def render(hass: HomeAssistant, text: Text) -> str:
    """The text in Home Assistant's language (English where it is missing)."""
    strings = async_get_cached_translations(
        hass, hass.config.language, CATEGORY, DOMAIN
    )
    english = async_get_cached_translations(hass, "en", CATEGORY, DOMAIN)

    def lookup(key: str) -> str:
        return strings.get(_PREFIX + key) or english.get(_PREFIX + key) or key

    def text_of(text: Text) -> str:
        template = lookup(text.key)
        step = text_of(text.step) if text.step is not None else ""
        try:
            return template.format(names=text.names, name=text.layer, step=step)
        except KeyError, IndexError, ValueError:
            # A translation with a placeholder it should not have: show it as is.
            return template

    return text_of(text)
