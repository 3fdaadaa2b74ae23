"""What the HTTP clients (Proxmox, Docker, OVH) share: transport errors and bodies.

Every client wraps its requests in `transport_errors()` so that DNS failures,
refused connections, timeouts and certificate problems become the same
`errors.py` exceptions whatever the platform, and reads every answer with
`read_body()` and `decode_json()`: a body is read up to `MAX_BODY_BYTES`, and
anything that is not the JSON expected (empty, truncated, HTML, too big, too
deeply nested) is an `InvalidResponse`, never a decoding exception.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
import json
from typing import Any, Final

import aiohttp

from .errors import CannotConnect, CertificateError, ConnectionTimeout, InvalidResponse
from .tls import format_digest

# The biggest answer WakeHub reads. The largest real ones (Proxmox's
# /cluster/resources of a big cluster, Docker's list of a thousand containers)
# stay well under a megabyte; anything past this bound is not an answer to us.
MAX_BODY_BYTES: Final = 8 * 1024 * 1024
_CHUNK: Final = 64 * 1024


@asynccontextmanager
async def transport_errors(where: str) -> AsyncIterator[None]:
    """Map aiohttp/asyncio transport failures to WakeHub errors.

    `where` names the server (host:port or URL without credentials) for messages.
    """
    try:
        yield
    except aiohttp.ServerFingerprintMismatch as err:
        raise CertificateError(
            f"the certificate of {where} changed since it was pinned",
            fingerprint=format_digest(err.got),
        ) from err
    except aiohttp.ClientConnectorCertificateError as err:
        raise CertificateError(
            f"the certificate of {where} is not trusted: {err.certificate_error}"
        ) from err
    except aiohttp.ClientSSLError as err:
        raise CertificateError(f"TLS failed with {where}: {err}") from err
    except TimeoutError as err:
        raise ConnectionTimeout(f"{where} did not answer in time") from err
    except aiohttp.ClientConnectionError as err:
        raise CannotConnect(f"cannot connect to {where}: {_why(err)}") from err
    except aiohttp.ClientPayloadError as err:
        # The body was cut short (the connection closed before its announced
        # length, a broken chunked encoding): the link failed, not the server.
        raise CannotConnect(f"the answer of {where} was cut short: {err}") from err
    except aiohttp.ClientResponseError as err:
        raise InvalidResponse(f"{where} did not answer in readable HTTP") from err
    except aiohttp.ClientError as err:
        raise CannotConnect(f"cannot talk to {where}: {err}") from err
    except asyncio.CancelledError:
        raise


async def read_body(
    response: aiohttp.ClientResponse, where: str, *, limit: int = MAX_BODY_BYTES
) -> bytes:
    """The whole body, or InvalidResponse as soon as it exceeds `limit` bytes.

    The announced length is not trusted: the bound holds while reading.
    """
    if response.content_length is not None and response.content_length > limit:
        raise InvalidResponse(f"{where} sent an answer larger than {limit} bytes")
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.content.iter_chunked(_CHUNK):
        size += len(chunk)
        if size > limit:
            raise InvalidResponse(f"{where} sent an answer larger than {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def is_json(content_type: str) -> bool:
    """`application/json` and its relatives (`application/problem+json`)."""
    media = content_type.split(";", 1)[0].strip().lower()
    return media == "application/json" or media.endswith("+json")


def decode_json(body: bytes, where: str, what: str) -> Any:
    """Decode a JSON body; InvalidResponse when it is empty or not valid JSON.

    `what` names the request ("GET /cluster/resources") for the message. NaN and
    Infinity are refused: JSON has no such numbers, and they would break every
    figure computed from them.
    """
    if not body.strip():
        raise InvalidResponse(f"{where} answered {what} with an empty body")
    try:
        return json.loads(body, parse_constant=_refuse_constant)
    except (ValueError, RecursionError) as err:
        # ValueError covers bad UTF-8 as well; RecursionError a body nested
        # deeper than the parser goes.
        raise InvalidResponse(f"{where} answered {what} with invalid JSON") from err


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


__all__ = [
    "MAX_BODY_BYTES",
    "decode_json",
    "is_json",
    "read_body",
    "transport_errors",
]


def _why(err: aiohttp.ClientConnectionError) -> str:
    """The reason of a failed connection, in the operating system's words.

    aiohttp's own text repeats the address and adds its connection key (with
    object reprs such as `ssl:<Fingerprint object at 0x...>`), which reads as
    noise in the log and the repair.
    """
    if isinstance(err, aiohttp.ClientConnectorError):
        return err.os_error.strerror or type(err.os_error).__name__
    return str(err) or type(err).__name__
