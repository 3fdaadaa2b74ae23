"""The two unauthenticated endpoints: the wake link and the reverse-proxy gate.

`/api/wakehub/wake/<token>`: the service answers → redirect to it; otherwise
start the resource (with its cascade) and show the waiting page, which moves on
to the service once it answers.

`/api/wakehub/gate/<token>`, for a proxy's forward-auth (Caddy `forward_auth`,
Traefik `forwardAuth`, nginx `auth_request`): 200 while the service answers (the
proxy then serves it), else the same start and the waiting page with 503 and
`Retry-After`.

Both can do exactly one thing: start that one resource, and only for a GET.
Another method sent to them is refused (405); a HEAD that a proxy names as the
original method of a GET it sends (`X-Forwarded-Method`: an uptime monitor, a
link checker behind the proxy) only asks whether the service is there: it
neither starts the resource nor keeps it awake. An unknown, disabled or
wrong token, or a remote client when the link is for local networks only, gets
Home Assistant's plain 404, as for any unknown address, and repeated misses from
one address are answered ever later, one after the other (limits.py).
"""

from __future__ import annotations

import asyncio
import contextlib
from http import HTTPStatus
from ipaddress import ip_address
import secrets

from aiohttp import web
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.http import KEY_HASS, HomeAssistantView
from homeassistant.util.hass_dict import HassKey
from homeassistant.util.network import is_local

from ..const import DOMAIN
from ..resource import Resource
from . import redact
from .const import (
    CONF_SERVICE_URL,
    CONF_WAKE_LOCAL_ONLY,
    DEFAULT_WAKE_LOCAL_ONLY,
    FORWARDED_METHOD,
    GATE_PATH,
    POLL_HEADER,
    RETRY_HEADER,
    STATE_HEADER,
    VERSION_HEADER,
    WAKE_PATH,
)
from .limits import MAX_MISS_DELAY
from .page import PageModel, document, fragment
from .probe import is_http
from .session import Run, WakeAccess, async_get_wake_access
from .texts import async_load as async_load_texts, page_text
from .tokens import find_resource

_REGISTERED: HassKey[bool] = HassKey(f"{DOMAIN}_wake_views")
LONG_POLL = 20.0  # seconds a poll waits for the next change
RETRY_AFTER = 5  # seconds, for a proxy's client while the gate says "not yet"


def _headers(nonce: str | None = None) -> dict[str, str]:
    """Nothing cached, no referrer (the link holds the token), nothing external."""
    headers = {
        "Cache-Control": "no-store",
        "Referrer-Policy": "no-referrer",
        "X-Content-Type-Options": "nosniff",
        "X-Robots-Tag": "noindex",
    }
    if nonce is not None:
        headers["Content-Security-Policy"] = (
            "default-src 'none'; style-src 'unsafe-inline'; "
            f"script-src 'nonce-{nonce}'; connect-src 'self'; "
            "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
        )
    return headers


def _original_method(request: web.Request) -> str:
    """The method the client used: a proxy's forward-auth request is a GET
    that names it in `X-Forwarded-Method` (Caddy and Traefik set it; the
    nginx recipe does). A client naming another method only stops itself
    from waking the resource."""
    return request.headers.get(FORWARDED_METHOD, request.method).strip().upper()


def _is_local(request: web.Request) -> bool:
    """Home Assistant's own notion of local (loopback, private, link-local)."""
    try:
        return is_local(ip_address(request.remote or ""))
    except ValueError:
        return False


class _AccessView(HomeAssistantView):
    requires_auth = False
    #: Whether the answer for a service that is up is a redirect (wake) or 200.
    redirects = False

    def __init__(self, hass: HomeAssistant) -> None:
        self._hass = hass

    async def get(self, request: web.Request, token: str) -> web.StreamResponse:
        hass = request.app[KEY_HASS]
        access = async_get_wake_access(hass)
        address = request.remote or ""
        if access.misses.flooded(address):
            await asyncio.sleep(MAX_MISS_DELAY)
            raise web.HTTPNotFound
        resource = find_resource(access.power.resources.values(), token)
        if resource is None or (
            resource.settings.get(CONF_WAKE_LOCAL_ONLY, DEFAULT_WAKE_LOCAL_ONLY)
            and not _is_local(request)
        ):
            await asyncio.sleep(access.misses.miss(address))
            raise web.HTTPNotFound
        if _original_method(request) == "HEAD":
            return await self._probe(access, resource)
        await async_load_texts(hass)
        retry = bool(request.headers.get(RETRY_HEADER)) or (
            request.query.get("retry") == "1"
        )
        run = await access.async_hit(resource, retry=retry)
        polling = (seen := request.headers.get(POLL_HEADER)) is not None
        if run is None and polling and self.redirects:
            # The page's script asks: it goes to the service itself (a redirect
            # would be followed by the poll, not by the page).
            return self._answer(hass, access, resource, _ready_run(), poll=True)
        if run is None:
            return self.ready(resource)
        if seen is not None:
            with contextlib.suppress(ValueError):
                await run.wait_change(int(seen), LONG_POLL)
            if run.state == "ready" and not self.redirects:
                return self.ready(resource)
            return self._answer(hass, access, resource, run, poll=True)
        return self._answer(hass, access, resource, run, poll=False)

    async def _probe(
        self, access: WakeAccess, resource: Resource
    ) -> web.StreamResponse:
        """A HEAD named by a proxy: whether the service is there, nothing more."""
        if await access.async_answers(resource):
            return self.ready(resource)
        return web.Response(
            status=HTTPStatus.SERVICE_UNAVAILABLE,
            headers={**_headers(), "Retry-After": str(RETRY_AFTER)},
        )

    def ready(self, resource: Resource) -> web.StreamResponse:
        raise NotImplementedError

    def waiting_status(self, run: Run) -> int:
        raise NotImplementedError

    def _answer(
        self,
        hass: HomeAssistant,
        access: WakeAccess,
        resource: Resource,
        run: Run,
        *,
        poll: bool,
    ) -> web.Response:
        url = resource.settings[CONF_SERVICE_URL]
        model = _model(hass, access, resource, run, url if self.redirects else None)
        state_headers = {STATE_HEADER: run.state, VERSION_HEADER: str(run.version)}
        status = self.waiting_status(run)
        if poll:
            return web.Response(
                text=fragment(model),
                content_type="text/html",
                status=status,
                headers={**_headers(), **state_headers},
            )
        nonce = secrets.token_urlsafe(16)
        headers = {**_headers(nonce), **state_headers}
        if status == HTTPStatus.SERVICE_UNAVAILABLE:
            headers["Retry-After"] = str(RETRY_AFTER)
        return web.Response(
            text=document(model, nonce),
            content_type="text/html",
            status=status,
            headers=headers,
        )


class WakeView(_AccessView):
    """The wake link: a person opens it and ends up on the service."""

    url = WAKE_PATH + "/{token}"
    name = "api:wakehub:wake"
    redirects = True

    def ready(self, resource: Resource) -> web.StreamResponse:
        url = resource.settings[CONF_SERVICE_URL]
        if is_http(url):
            raise web.HTTPFound(url, headers=_headers())
        # Not a web address: nothing to go to, the page says it is ready.
        access = async_get_wake_access(self._hass)
        return self._answer(self._hass, access, resource, _ready_run(), poll=False)

    def waiting_status(self, run: Run) -> int:
        return HTTPStatus.OK


class GateView(_AccessView):
    """Forward-auth for reverse proxies: 200 lets the request through."""

    url = GATE_PATH + "/{token}"
    name = "api:wakehub:gate"

    def ready(self, resource: Resource) -> web.StreamResponse:
        return web.Response(status=HTTPStatus.OK, headers=_headers())

    def waiting_status(self, run: Run) -> int:
        return HTTPStatus.SERVICE_UNAVAILABLE


def _ready_run() -> Run:
    """What the page shows of a service found answering without a run."""
    run = Run(ready_after=0.0)
    run.ended = run.started
    return run


def _model(
    hass: HomeAssistant,
    access: WakeAccess,
    resource: Resource,
    run: Run,
    target: str | None,
) -> PageModel:
    name = resource.name
    headline = {
        "waiting": page_text(hass, "waking", name=name),
        "ready": page_text(hass, "ready", name=name),
        "failed": page_text(hass, "failed", name=name),
    }[run.state]
    estimate = access.estimate(resource)
    ready_text = None
    if run.state == "ready" and not is_http(resource.settings[CONF_SERVICE_URL]):
        ready_text = page_text(hass, "ready_not_web", name=name)
    return PageModel(
        language=hass.config.language,
        title=page_text(hass, "title", name=name),
        name=name,
        state=run.state,
        headline=headline,
        layers=access.layers(resource, run),
        elapsed=run.elapsed,
        elapsed_label=page_text(hass, "elapsed"),
        estimate=(
            page_text(hass, "estimate", seconds=str(round(estimate)))
            if estimate is not None and run.state == "waiting"
            else None
        ),
        error=run.error,
        retry_label=page_text(hass, "retry"),
        version=run.version,
        target=target if target is not None and is_http(target) else None,
        ready_text=ready_text,
    )


@callback
def async_register_views(hass: HomeAssistant) -> None:
    """Register both endpoints once (Home Assistant keeps views for its lifetime)."""
    if hass.data.get(_REGISTERED):
        return
    hass.data[_REGISTERED] = True
    redact.install()
    hass.http.register_view(WakeView(hass))
    hass.http.register_view(GateView(hass))
