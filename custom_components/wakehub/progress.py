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

from homeassistant.core import HomeAssistant, callback

from . import texts
from .power import PowerManager
from .power_events import PowerAction, Step
from .resource import Resource
from .transitions import Transition

CATEGORY = "progress"
IDLE = "idle"


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
    if transition.phase is Step.DEPENDENCIES:
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
    if transition.phase is Step.PLATFORM:
        return Text("platform", names=names)
    if transition.phase is Step.DEPENDENTS:
        return Text("stopping_dependents", names=names)
    if transition.starts:
        return Text(resource.starting_text)
    if transition.action == PowerAction.REBOOT:
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
        if below.phase is Step.DEPENDENCIES:
            if (deeper := _deepest_at_work(power, below, seen=seen)) is not None:
                return deeper
            continue
        return layer, below
    return None


async def async_load_texts(hass: HomeAssistant) -> None:
    """Load the progress texts (render() cannot wait)."""
    await texts.async_load_texts(hass, CATEGORY)


@callback
def render(hass: HomeAssistant, text: Text) -> str:
    """The text in Home Assistant's language (English where it is missing)."""

    def text_of(text: Text) -> str:
        template = texts.text(hass, CATEGORY, text.key) or text.key
        step = text_of(text.step) if text.step is not None else ""
        return texts.fill(template, names=text.names, name=text.layer, step=step)

    return text_of(text)
