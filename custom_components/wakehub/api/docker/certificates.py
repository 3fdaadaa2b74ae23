"""The TLS context of a Docker client from PEM text (ca.pem, cert.pem, key.pem)."""

from __future__ import annotations

import os
from pathlib import Path
import shutil
import ssl
import tempfile


def build_ssl_context(
    *,
    ca_cert: str | None,
    client_cert: str | None,
    client_key: str | None,
    verify: bool,
) -> ssl.SSLContext:
    """An SSLContext from PEM text. Blocking (CA store, temp files): run it in an
    executor. Key material touches the disk only in a 0700 directory, for the
    duration of `load_cert_chain`."""
    if verify:
        context = (
            ssl.create_default_context(cadata=ca_cert)
            if ca_cert
            else ssl.create_default_context()
        )
    else:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    if client_cert and client_key:
        directory = Path(tempfile.mkdtemp(prefix="wakehub-docker-"))
        try:
            cert_file, key_file = directory / "cert.pem", directory / "key.pem"
            for path, text in ((cert_file, client_cert), (key_file, client_key)):
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                with os.fdopen(fd, "w", encoding="ascii") as handle:
                    handle.write(text)
            context.load_cert_chain(cert_file, key_file)
        finally:
            shutil.rmtree(directory, ignore_errors=True)
    return context
