"""One authenticated call to the Proxmox VE API, its answer decoded or mapped.

Authentication: an API token (`Authorization: PVEAPIToken=USER@REALM!NAME=SECRET`)
or a password, exchanged for a ticket (`POST /access/ticket`) sent as the
`PVEAuthCookie` cookie plus the `CSRFPreventionToken` header on writes. Tickets
live two hours: the client renews after TICKET_RENEW_AFTER and again on a 401.
The cookie goes in a header, not in the shared session's cookie jar.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
import contextlib
import time
from typing import Any, Final
from urllib.parse import quote, urlsplit

import aiohttp

from ..errors import CannotConnect, InvalidAuth, InvalidResponse, NotThatKind
from ..fields import flag, obj, opt_obj, required_str, text
from ..http import decode_json, is_json, read_body, transport_errors
from ..tls import ssl_option
from .error_map import error_message, map_error

DEFAULT_PORT: Final = 8006
API_PREFIX: Final = "/api2/json"
# Tickets are valid for two hours; renew well before so a poll never meets a 401.
TICKET_RENEW_AFTER: Final = 90 * 60


def normalize_url(url: str) -> str:
    """Canonical base URL: https unless told otherwise, port 8006 when absent."""
    text = url.strip()
    if not text:
        raise ValueError("empty URL")
    if "://" not in text:
        text = f"https://{text}"
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("not an http(s) URL")
    host = parts.hostname
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    port = parts.port or DEFAULT_PORT
    return f"{parts.scheme}://{host}:{port}"


def _full_token_id(username: str, token_id: str) -> str:
    """'user@realm!name' from the token's name (or the full id, accepted as is)."""
    if "!" in token_id:
        return token_id
    return f"{username}!{token_id}"


def _form(values: Mapping[str, Any]) -> dict[str, str]:
    """Form-encode values the way Proxmox reads them (booleans as 0/1)."""
    encoded: dict[str, str] = {}
    for key, value in values.items():
        if value is None:
            continue
        encoded[key] = str(int(value)) if isinstance(value, bool) else str(value)
    return encoded


class ProxmoxConnection:
    """Authenticated API calls to one Proxmox VE cluster or standalone host."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        url: str,
        *,
        username: str,
        token_id: str | None = None,
        token_secret: str | None = None,
        password: str | None = None,
        verify_ssl: bool = True,
        fingerprint: str | None = None,
        request_timeout: float = 10.0,
    ) -> None:
        if not (token_id and token_secret) and not password:
            raise ValueError("an API token (id and secret) or a password is needed")
        self._session = session
        self.base_url = normalize_url(url)
        parts = urlsplit(self.base_url)
        self.where = f"{parts.hostname}:{parts.port}"
        self._username = username
        self._token = (
            f"PVEAPIToken={_full_token_id(username, token_id)}={token_secret}"
            if token_id and token_secret
            else None
        )
        self._password = password
        self._ssl = ssl_option(verify_ssl=verify_ssl, fingerprint=fingerprint)
        self._timeout = aiohttp.ClientTimeout(total=request_timeout)
        self._ticket: str | None = None
        self._csrf: str | None = None
        self._ticket_time = 0.0
        self._login_lock = asyncio.Lock()

    async def _request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        form: Mapping[str, Any] | None = None,
    ) -> Any:
        """One API call; returns the answer's `data`. Renews the ticket on a 401."""
        if self._token is None:
            await self._ensure_ticket()
        try:
            return await self._send(method, path, params=params, form=form)
        except InvalidAuth:
            if self._token is not None:
                raise
            await self._ensure_ticket(force=True)
            return await self._send(method, path, params=params, form=form)

    def _headers(self, method: str) -> dict[str, str]:
        if self._token is not None:
            return {"Authorization": self._token}
        headers = {"Cookie": f"PVEAuthCookie={quote(self._ticket or '', safe='')}"}
        if method != "GET" and self._csrf:
            headers["CSRFPreventionToken"] = self._csrf
        return headers

    async def _send(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        form: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Any:
        async with (
            transport_errors(self.where),
            self._session.request(
                method,
                f"{self.base_url}{API_PREFIX}{path}",
                params=params,
                data=_form(form) if form else None,
                headers=headers if headers is not None else self._headers(method),
                ssl=self._ssl,
                timeout=self._timeout,
            ) as response,
        ):
            return await self._answer(response)

    async def _answer(self, response: aiohttp.ClientResponse) -> Any:
        """Map Proxmox's answer to data or to an errors.py exception."""
        raw = await read_body(response, self.where)
        what = f"{response.method} {response.url.path}"
        if response.status == 200:
            if not is_json(response.content_type):
                raise InvalidResponse(
                    f"{self.where} answered {what} with {response.content_type}, "
                    "not JSON"
                )
            answer = opt_obj(decode_json(raw, self.where, what))
            if "data" not in answer:
                raise InvalidResponse(f"{self.where} answered {what} without data")
            return answer["data"]
        body: Any = None
        if is_json(response.content_type):
            # An error's details are a bonus: an unreadable one still maps by status.
            with contextlib.suppress(InvalidResponse):
                body = decode_json(raw, self.where, what)
        if body is None and response.status in (404, 405):
            # Proxmox answers unknown paths with a JSON 501; a bare 404 is a web
            # server of another kind.
            raise NotThatKind(f"{self.where} has no Proxmox VE API")
        if body is None and response.status in (502, 503, 504):
            # Not Proxmox's words: a reverse proxy in front of it (nginx, Caddy,
            # Traefik) that cannot reach it, as when its node is off.
            reason = f" {response.reason.strip()}" if response.reason else ""
            raise CannotConnect(
                f"{self.where} answered {response.status}{reason}: "
                "Proxmox VE behind it does not answer"
            )
        raise map_error(response.status, error_message(response, body))

    async def _ensure_ticket(self, *, force: bool = False) -> None:
        """Log in with the password when there is no ticket or it is getting old."""
        async with self._login_lock:
            fresh = time.monotonic() - self._ticket_time < TICKET_RENEW_AFTER
            if self._ticket and fresh and not force:
                return
            data = await self._send(
                "POST",
                "/access/ticket",
                form={"username": self._username, "password": self._password},
                headers={},
            )
            login = obj(data, "the login answer")
            ticket = required_str(login, "ticket", "the login answer")
            if flag(login.get("NeedTFA")) or ticket.startswith("PVE:!tfa!"):
                # Only half a ticket: the API refuses it until a second factor
                # is sent, which nobody is there to type.
                raise InvalidAuth(
                    f"{self._username} must give a second factor (TFA) to log in: "
                    "use an API token instead of the password"
                )
            self._ticket = ticket
            self._csrf = text(login.get("CSRFPreventionToken"))
            self._ticket_time = time.monotonic()
