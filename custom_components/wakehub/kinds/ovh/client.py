"""The OVH client of an entry (or of a flow's input)."""

from __future__ import annotations

from collections.abc import Mapping
import logging
from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.helpers.aiohttp_client import async_get_clientsession

from ...api.ovh import (
    OvhClient,
)
from ...const import CONF_FINGERPRINT
from . import const
from .const import (
    CONF_APPLICATION_KEY,
    CONF_APPLICATION_SECRET,
    CONF_CONSUMER_KEY,
    CONF_ENDPOINT,
)

_LOGGER = logging.getLogger(__name__)


def create_client(
    hass: HomeAssistant, data: Mapping[str, Any], *, max_retries: int = 3
) -> OvhClient:
    """A client for the credentials in `data` (entry data or flow input)."""
    return OvhClient(
        async_get_clientsession(hass),
        endpoint=data[CONF_ENDPOINT],
        application_key=data[CONF_APPLICATION_KEY],
        application_secret=data[CONF_APPLICATION_SECRET],
        consumer_key=data.get(CONF_CONSUMER_KEY) or None,
        fingerprint=data.get(CONF_FINGERPRINT) or None,
        max_retries=max_retries,
        retry_backoff=const.RETRY_BACKOFF,
    )
