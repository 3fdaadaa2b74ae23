"""One OVH API call: signing with the measured clock offset, bounded concurrency,
rate-limit retries and error mapping (error_map.py).

Clock: OVH rejects a request whose timestamp is more than a few minutes off, so the
client measures the offset to the server's clock once (`GET /auth/time`) and signs
with local time + offset; a "Query out of time" answer re-measures it once.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
import json
import logging
import time
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

import aiohttp
from yarl import URL

from ..errors import ApiError, InvalidAuth
from ..http import decode_json, read_body, transport_errors
from ..tls import ssl_option
from .error_map import error_payload, map_error, parse_retry_after
from .models import Task
from .signing import resolve_endpoint, sign
from .spec_errors import refine

_LOGGER = logging.getLogger(__name__)


class OvhTransport:
    """Signed calls to the OVH API for one account (application + consumer key)."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        *,
        endpoint: str,
        application_key: str,
        application_secret: str,
        consumer_key: str | None = None,
        verify_ssl: bool = True,
        fingerprint: str | None = None,
        request_timeout: float = 30,
        max_retries: int = 3,
        retry_backoff: float = 1.0,
        max_retry_delay: float = 30.0,
        concurrency: int = 8,
    ) -> None:
        self._session = session
        self.base_url = resolve_endpoint(endpoint)
        self._where = urlsplit(self.base_url).netloc
        self._application_key = application_key
        self._application_secret = application_secret
        self.consumer_key = consumer_key
        self._ssl = ssl_option(verify_ssl=verify_ssl, fingerprint=fingerprint)
        self._timeout = aiohttp.ClientTimeout(total=request_timeout)
        self._max_retries = max_retries
        self._retry_backoff = retry_backoff
        self._max_retry_delay = max_retry_delay
        self._semaphore = asyncio.Semaphore(concurrency)
        self._time_offset: int | None = None
        # Tasks started or read by this client, by (service, id): see tasks.py.
        self._tasks: dict[tuple[str, int], Task] = {}

    # -- low level ---------------------------------------------------------------
    async def server_time(self) -> int:
        """OVH's clock (`GET /auth/time`, unauthenticated)."""
        answer = await self._call("GET", "/auth/time", signed=False)
        if not isinstance(answer, int):
            raise ApiError("time", "GET /auth/time did not answer a number")
        return answer

    async def sync_time(self) -> int:
        """Measure and keep the offset between the server's clock and ours."""
        server = await self.server_time()
        self._time_offset = server - int(time.time())
        return self._time_offset

    def _url(self, path: str, query: Mapping[str, str] | None) -> str:
        url = self.base_url + path
        if query:
            url += "?" + urlencode(query, quote_via=quote)
        return url

    def _headers(
        self, method: str, url: str, body: str, signed: bool
    ) -> dict[str, str]:
        headers = {
            "X-Ovh-Application": self._application_key,
            "Accept": "application/json",
        }
        if body:
            headers["Content-Type"] = "application/json"
        if signed:
            if not self.consumer_key:
                raise InvalidAuth("no OVH consumer key configured")
            timestamp = int(time.time()) + (self._time_offset or 0)
            headers["X-Ovh-Consumer"] = self.consumer_key
            headers["X-Ovh-Timestamp"] = str(timestamp)
            headers["X-Ovh-Signature"] = sign(
                self._application_secret,
                self.consumer_key,
                method,
                url,
                body,
                timestamp=timestamp,
            )
        return headers

    async def _call(
        self,
        method: str,
        path: str,
        *,
        query: Mapping[str, str] | None = None,
        body: Any = None,
        signed: bool = True,
    ) -> Any:
        """One API call with clock sync, rate-limit retries and error mapping."""
        if signed and self._time_offset is None:
            await self.sync_time()
        payload = "" if body is None else json.dumps(body, separators=(",", ":"))
        url = self._url(path, query)
        resynced = False
        attempt = 0
        while True:
            status, reply, retry_after = await self._send(method, url, payload, signed)
            if status < 300:
                if method != "GET" and not reply.strip():
                    return None  # an action without an answer (PUT, 204)
                return decode_json(reply, self._where, f"{method} {path}")
            message, code = error_payload(reply)
            if code == "QUERY_TIME_OUT" and signed and not resynced:
                resynced = True  # our clock drifted since the last measure
                await self.sync_time()
                continue
            if status == 429 and attempt < self._max_retries:
                delay = max(retry_after or 0.0, self._retry_backoff * 2**attempt)
                if delay <= self._max_retry_delay:
                    attempt += 1
                    _LOGGER.debug(
                        "OVH rate limit on %s %s, retry in %.1fs", method, path, delay
                    )
                    await asyncio.sleep(delay)
                    continue
            call = f"{method} {path}"
            raise refine(
                map_error(status, message, code, call=call, retry_after=retry_after),
                status=status,
                message=message,
                call=call,
            )

    async def _send(
        self, method: str, url: str, body: str, signed: bool
    ) -> tuple[int, bytes, float | None]:
        async with self._semaphore, transport_errors(self._where):
            headers = self._headers(method, url, body, signed)
            async with self._session.request(
                method,
                URL(url, encoded=True),
                data=body.encode() if body else None,
                headers=headers,
                ssl=self._ssl,
                timeout=self._timeout,
            ) as response:
                reply = await read_body(response, self._where)
                return (
                    response.status,
                    reply,
                    parse_retry_after(response.headers.get("Retry-After")),
                )


def vps_path(service: str, suffix: str = "") -> str:
    path = f"/vps/{quote(service, safe='')}"
    return f"{path}/{suffix}" if suffix else path
