"""Transport-error mapping shared by the HTTP clients (Proxmox, Docker, OVH).

Every client wraps its requests in `transport_errors()` so that DNS failures,
refused connections, timeouts and certificate problems become the same
`errors.py` exceptions whatever the platform.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import aiohttp

from .errors import CannotConnect, CertificateError, ConnectionTimeout
from .tls import format_fingerprint


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
            fingerprint=format_fingerprint_from_digest(err.got),
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
        raise CannotConnect(f"cannot connect to {where}: {err}") from err
    except asyncio.CancelledError:
        raise


def format_fingerprint_from_digest(digest: bytes) -> str:
    """Colon-separated hex of an already computed SHA-256 digest."""
    hexed = digest.hex().upper()
    return ":".join(hexed[i : i + 2] for i in range(0, len(hexed), 2))


__all__ = ["format_fingerprint", "transport_errors"]
