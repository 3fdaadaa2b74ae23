"""One wake at a time per resource: start it, follow its layers, see it answer.

A hit on a resource's link either finds the service answering (nothing to do)
or joins the resource's *run*: the start through the power manager (cascade,
one run per resource, so a burst of hits is one start), then probing the
service until it answers. A run remembers when each layer came up, for the
page, and how long the whole wake took, for the next estimate (the last boots
are stored). A failed run is shown until a retry, or for a minute.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
import statistics
import time

from homeassistant.core import HomeAssistant, callback
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers.dispatcher import async_dispatcher_connect
from homeassistant.helpers.storage import Store
from homeassistant.util.hass_dict import HassKey

from ..const import DOMAIN, PROBE_INTERVAL
from ..idle import async_get_idle_monitor
from ..power import SIGNAL_TRANSITION, PowerManager, async_get_power_manager
from ..power_events import PowerAction, Step
from ..progress import progress, render
from ..resource import Resource
from .activity import async_get_access_record
from .const import (
    CONF_SERVICE_URL,
    CONF_WAKE_MAX_STARTS,
    DEFAULT_WAKE_MAX_STARTS,
)
from .limits import MissThrottle, StartLimit
from .probe import service_answers
from .texts import error_message, page_text

DATA_WAKE: HassKey[WakeAccess] = HassKey(f"{DOMAIN}_wake")
STORAGE_KEY = f"{DOMAIN}.wake_history"
STORAGE_VERSION = 1
HISTORY = 5  # wakes kept per resource for the estimate
# A service seen answering this recently is not probed again on each hit (the
# cost of a gate hit while the service is up is then a lookup).
READY_FRESH = 10.0
FAILED_SHOWN = 60.0  # seconds a failure is shown before a hit tries again


@dataclass
class Run:
    """A wake under way (or just ended) for one resource."""

    started: float = field(default_factory=time.monotonic)
    woke: bool = False
    #: Seconds after `started` each layer (by key) was first seen running.
    up_after: dict[str, float] = field(default_factory=dict)
    ready_after: float | None = None
    error: str | None = None
    ended: float | None = None
    version: int = 0
    changed: asyncio.Event = field(default_factory=asyncio.Event)
    task: asyncio.Task[None] | None = None

    @property
    def state(self) -> str:
        if self.error is not None:
            return "failed"
        return "ready" if self.ready_after is not None else "waiting"

    @property
    def elapsed(self) -> float:
        return (self.ended or time.monotonic()) - self.started

    def bump(self) -> None:
        self.version += 1
        self.changed.set()
        self.changed = asyncio.Event()

    async def wait_change(self, seen: int, timeout: float) -> None:
        """Return once `version` differs from `seen` (or after `timeout`)."""
        if self.version != seen or self.state != "waiting":
            return
        changed = self.changed
        try:
            async with asyncio.timeout(timeout):
                await changed.wait()
        except TimeoutError:
            pass


@dataclass(frozen=True)
class Layer:
    """One line of the page: a resource of the chain and what it is doing."""

    name: str
    text: str
    up: bool
    up_after: float | None


def chain(power: PowerManager, resource: Resource) -> list[Resource]:
    """`resource` and everything it needs, the bottom layer first."""
    ordered: list[Resource] = []
    seen: set[str] = set()

    def visit(layer: Resource) -> None:
        if layer.key in seen:
            return
        seen.add(layer.key)
        for below in power.graph.dependencies(layer):
            visit(below)
        ordered.append(layer)

    visit(resource)
    return ordered


def _running(resource: Resource) -> bool:
    state = resource.state
    return state is not None and state.is_running


class WakeAccess:
    """Runs, limits and wake history of every resource's link."""

    def __init__(self, hass: HomeAssistant) -> None:
        self.hass = hass
        self.power = async_get_power_manager(hass)
        self.starts = StartLimit()
        self.misses = MissThrottle()
        self._runs: dict[str, Run] = {}
        self._ready_at: dict[str, float] = {}
        self._store: Store[dict[str, list[float]]] = Store(
            hass, STORAGE_VERSION, STORAGE_KEY
        )
        self._history: dict[str, list[float]] = {}
        self._loaded = False

    async def async_load(self) -> None:
        if not self._loaded:
            self._loaded = True
            stored = await self._store.async_load() or {}
            self._history = {
                key: [float(v) for v in values if isinstance(v, int | float)]
                for key, values in stored.items()
                if isinstance(values, list)
            }

    def estimate(self, resource: Resource) -> float | None:
        """Seconds the last wakes took (median), None before the first."""
        past = self._history.get(resource.key)
        return statistics.median(past) if past else None

    # -- a hit -------------------------------------------------------------------
    async def async_hit(self, resource: Resource, *, retry: bool) -> Run | None:
        """A link was opened: None when the service answers, else the run to show."""
        await self.async_load()
        run = self._runs.get(resource.key)
        if run is not None and _stranded(run):
            run = None
        if run is not None and run.state == "failed":
            # Shown a while (not retried at each hit), unless its service
            # answers by now: started by hand, or after an interrupted wake.
            if (
                retry
                or time.monotonic() - (run.ended or 0) > FAILED_SHOWN
                or await self.async_answers(resource)
            ):
                run = None
        elif run is not None and run.state == "ready":
            run = None
        if run is not None:
            self._record_hit(resource, woke=False)
            return run
        if await self.async_answers(resource):
            self._record_hit(resource, woke=False)
            return None
        if (joined := self._runs.get(resource.key)) is not None and (
            joined.state == "waiting" and not _stranded(joined)
        ):
            # Another hit began a run while this one asked the service.
            self._record_hit(resource, woke=False)
            return joined
        woke = not _running(resource)
        run = self._runs[resource.key] = Run(woke=woke)
        cap = int(resource.settings.get(CONF_WAKE_MAX_STARTS, DEFAULT_WAKE_MAX_STARTS))
        if woke and not self.starts.allow(resource.key, cap):
            run.error = page_text(self.hass, "too_many_starts")
            run.ended = time.monotonic()
            return run
        self._record_hit(resource, woke=woke)
        run.task = resource.entry.async_create_background_task(
            self.hass, self._async_run(resource, run), f"{DOMAIN} wake {resource.name}"
        )
        return run

    async def async_answers(self, resource: Resource) -> bool:
        """Running and answering (asked at most every READY_FRESH seconds).

        Records no hit and starts nothing (a HEAD request asks only this)."""
        if not _running(resource):
            return False
        seen = self._ready_at.get(resource.key)
        if seen is not None and time.monotonic() - seen < READY_FRESH:
            return True
        if await service_answers(self.hass, resource.settings[CONF_SERVICE_URL]):
            self._ready_at[resource.key] = time.monotonic()
            return True
        self._ready_at.pop(resource.key, None)
        return False

    @callback
    def _record_hit(self, resource: Resource, *, woke: bool) -> None:
        idle = async_get_idle_monitor(self.hass)
        record = async_get_access_record(self.hass)

        @callback
        def expired() -> None:
            idle.async_evaluate(resource)

        record.async_hit(resource, woke=woke, expired=expired)
        idle.async_evaluate(resource)

    # -- the run -----------------------------------------------------------------
    async def _async_run(self, resource: Resource, run: Run) -> None:
        layers = chain(self.power, resource)

        @callback
        def note() -> None:
            for layer in layers:
                if layer.key not in run.up_after and _running(layer):
                    run.up_after[layer.key] = run.elapsed
            run.bump()

        unsubscribe = async_dispatcher_connect(self.hass, SIGNAL_TRANSITION, note)
        try:
            note()
            if run.woke:
                await self.power.async_start(resource)
            note()
            await self._until_answers(resource)
            run.ready_after = run.elapsed
            self._ready_at[resource.key] = time.monotonic()
            if run.woke:
                self._remember(resource, run.ready_after)
        except HomeAssistantError as err:
            run.error = error_message(self.hass, err)
        except TimeoutError:
            run.error = page_text(self.hass, "service_timeout", name=resource.name)
        except asyncio.CancelledError:
            # Its entry was reloaded or removed: the page says so and offers
            # to try again, rather than waiting for a run that is gone.
            interrupted = HomeAssistantError(
                translation_domain=DOMAIN,
                translation_key="change_interrupted",
                translation_placeholders={"name": resource.name},
            )
            run.error = error_message(self.hass, interrupted)
            raise
        finally:
            unsubscribe()
            run.ended = time.monotonic()
            run.bump()

    async def _until_answers(self, resource: Resource) -> None:
        url = resource.settings[CONF_SERVICE_URL]
        async with asyncio.timeout(resource.timeout):
            while True:
                if await service_answers(self.hass, url):
                    return
                await asyncio.sleep(PROBE_INTERVAL.total_seconds())

    def _remember(self, resource: Resource, seconds: float) -> None:
        past = self._history.setdefault(resource.key, [])
        past.append(round(seconds, 1))
        del past[:-HISTORY]
        self._store.async_delay_save(lambda: dict(self._history), 5)

    # -- what the page shows -------------------------------------------------------
    def layers(self, resource: Resource, run: Run) -> list[Layer]:
        shown: list[Layer] = []
        for layer in chain(self.power, resource):
            transition = self.power.transition(layer.key)
            up = _running(layer) and (
                transition is None or transition.action is not PowerAction.STOP
            )
            if up:
                text = page_text(self.hass, "layer_up")
            elif transition is None:
                text = page_text(
                    self.hass, "layer_off" if run.state == "waiting" else "layer_down"
                )
            elif transition.phase is Step.DEPENDENCIES:
                text = page_text(self.hass, "layer_waiting")
            else:
                text = render(self.hass, progress(self.power, layer))
            shown.append(Layer(layer.name, text, up, run.up_after.get(layer.key)))
        return shown


@callback
def async_get_wake_access(hass: HomeAssistant) -> WakeAccess:
    if (access := hass.data.get(DATA_WAKE)) is None:
        access = hass.data[DATA_WAKE] = WakeAccess(hass)
    return access


def _stranded(run: Run) -> bool:
    """A run still waiting whose task is over: it died without a word, and
    would keep every later visit waiting for ever."""
    return run.state == "waiting" and run.task is not None and run.task.done()
