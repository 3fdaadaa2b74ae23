"""TLS trust for self-hosted servers: verified by default, pinned on request.

Proxmox and Docker hosts usually present a self-signed certificate. Rather than
turning verification off, the user is shown the certificate's SHA-256
fingerprint and may pin it; later connections accept exactly that certificate.
"""

from __future__ import annotations

import asyncio
import hashlib
import ssl

import aiohttp

from .errors import CannotConnect, CertificateError, ConnectionTimeout


def format_fingerprint(der: bytes) -> str:
    """SHA-256 of a DER certificate as colon-separated upper-case hex."""
    return format_digest(hashlib.sha256(der).digest())


def format_digest(digest: bytes) -> str:
    """Colon-separated upper-case hex of an already computed SHA-256 digest."""
    hexed = digest.hex().upper()
    return ":".join(hexed[i : i + 2] for i in range(0, len(hexed), 2))


def normalize_fingerprint(fingerprint: str) -> str:
    """Accept `AA:BB...`, `aabb...` or with spaces; return the canonical form."""
    hex_only = "".join(ch for ch in fingerprint if ch not in ": ").upper()
    if len(hex_only) != 64 or any(ch not in "0123456789ABCDEF" for ch in hex_only):
        raise ValueError("not a SHA-256 fingerprint")
    return ":".join(hex_only[i : i + 2] for i in range(0, 64, 2))


def ssl_option(
    *, verify_ssl: bool, fingerprint: str | None
) -> bool | aiohttp.Fingerprint:
    """The `ssl=` argument for aiohttp requests.

    A pinned fingerprint wins: aiohttp then checks the exact certificate instead of
    the CA chain. Without one, `verify_ssl` decides (True is the default path).
    """
    if fingerprint:
        return aiohttp.Fingerprint(
            bytes.fromhex(normalize_fingerprint(fingerprint).replace(":", ""))
        )
    return verify_ssl


async def fetch_fingerprint(host: str, port: int, *, timeout: float = 10) -> str:
    """Connect without verification only to read the certificate's fingerprint.

    Nothing is sent over this connection: it exists so the user can compare the
    fingerprint with the one their server shows before trusting it.
    """
    # No CA store is loaded (that would block the event loop): this connection
    # verifies nothing on purpose, it only reads the certificate.
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    try:
        async with asyncio.timeout(timeout):
            _reader, writer = await asyncio.open_connection(
                host, port, ssl=context, server_hostname=host
            )
    except TimeoutError as err:
        raise ConnectionTimeout(f"{host}:{port} did not answer in time") from err
    except (OSError, ssl.SSLError) as err:
        raise CannotConnect(f"cannot connect to {host}:{port}: {err}") from err
    try:
        ssl_object = writer.get_extra_info("ssl_object")
        der = ssl_object.getpeercert(binary_form=True) if ssl_object else None
    finally:
        writer.close()
    if not der:
        raise CertificateError(f"{host}:{port} presented no certificate")
    return format_fingerprint(der)
