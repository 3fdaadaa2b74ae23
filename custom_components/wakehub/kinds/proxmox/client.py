"""The Proxmox client of an entry (or of a flow's input)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from homeassistant.const import CONF_PASSWORD, CONF_URL, CONF_USERNAME, CONF_VERIFY_SSL
from homeassistant.core import HomeAssistant
from homeassistant.helpers.aiohttp_client import async_get_clientsession

from ...api.proxmox import ProxmoxClient
from ...const import CONF_FINGERPRINT
from . import const
from .const import CONF_TOKEN_ID, CONF_TOKEN_SECRET


def create_client(
    hass: HomeAssistant,
    data: Mapping[str, Any],
    *,
    request_timeout: float | None = None,
) -> ProxmoxClient:
    """The client for entry (or flow) data; token wins over password."""
    verify_ssl = bool(data.get(CONF_VERIFY_SSL, True))
    token = bool(data.get(CONF_TOKEN_ID) and data.get(CONF_TOKEN_SECRET))
    return ProxmoxClient(
        async_get_clientsession(hass, verify_ssl=verify_ssl),
        data[CONF_URL],
        username=data[CONF_USERNAME],
        token_id=data.get(CONF_TOKEN_ID) if token else None,
        token_secret=data.get(CONF_TOKEN_SECRET) if token else None,
        password=None if token else data.get(CONF_PASSWORD),
        verify_ssl=verify_ssl,
        fingerprint=data.get(CONF_FINGERPRINT) if verify_ssl else None,
        request_timeout=const.REQUEST_TIMEOUT
        if request_timeout is None
        else request_timeout,
    )
