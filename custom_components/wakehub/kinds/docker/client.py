"""The Docker client of an entry (or of a flow's input)."""

from __future__ import annotations

from collections.abc import Mapping
import logging
from typing import Any

from homeassistant.const import CONF_URL, CONF_VERIFY_SSL
from homeassistant.core import HomeAssistant
from homeassistant.helpers.aiohttp_client import async_get_clientsession

from ...api.docker import (
    DockerClient,
)
from ...const import CONF_FINGERPRINT
from .const import (
    CONF_CA_CERT,
    CONF_CLIENT_CERT,
    CONF_CLIENT_KEY,
    POLL_TIMEOUT,
    STATS_CONCURRENCY,
)

_LOGGER = logging.getLogger(__name__)


def create_client(
    hass: HomeAssistant, data: Mapping[str, Any], *, timeout: float = POLL_TIMEOUT
) -> DockerClient:
    """A client for entry (or form) data; ValueError on an unusable URL."""
    verify_ssl = bool(data.get(CONF_VERIFY_SSL, True))
    return DockerClient(
        async_get_clientsession(hass, verify_ssl=verify_ssl),
        data[CONF_URL],
        ca_cert=data.get(CONF_CA_CERT) or None,
        client_cert=data.get(CONF_CLIENT_CERT) or None,
        client_key=data.get(CONF_CLIENT_KEY) or None,
        verify_ssl=verify_ssl,
        fingerprint=data.get(CONF_FINGERPRINT) or None,
        timeout=timeout,
        stats_concurrency=STATS_CONCURRENCY,
    )
