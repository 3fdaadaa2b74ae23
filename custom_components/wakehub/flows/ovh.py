"""The OVHcloud kind of the wizard.

Its form (`ovh`: endpoint and application keys) → the API's clock is read
(which also tests the connection and, for a full API URL with an untrusted
certificate, leads to `certificate`) → without a consumer key one is requested
with WakeHub's access rules and `ovh_validate` shows its validation link until
OVH says it is validated → the account's nic is the unique id → `resources`:
its VPSes. A reauth takes a consumer key, or requests a new one the same way.

OVH may answer a key still waiting for validation with a 403 rather than with
its `pendingValidation` state: during `ovh_validate` an authentication refusal
therefore means "not validated yet", unless OVH says the key was refused or
expired, or the signature (the application secret) is wrong.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Final
from urllib.parse import urlsplit

from homeassistant.config_entries import ConfigFlowResult, OptionsFlowWithReload
from homeassistant.core import HomeAssistant
from homeassistant.helpers.selector import (
    NumberSelectorConfig,
    NumberSelectorMode,
    SelectSelector,
    SelectSelectorConfig,
    SelectSelectorMode,
    TextSelector,
    TextSelectorConfig,
    TextSelectorType,
)

from ..api.errors import CertificateError, InvalidAuth, WakeHubError, error_key
from ..api.ovh import CredentialRequest, VpsInfo
from ..api.ovh.error_map import CredentialRejected, InvalidSignature, ServiceExpired
from ..api.ovh.signing import ENDPOINTS, resolve_endpoint
from ..const import KIND_OVH
from ..kinds.ovh.client import create_client
from ..kinds.ovh.const import (
    CONF_APPLICATION_KEY,
    CONF_APPLICATION_SECRET,
    CONF_CONSUMER_KEY,
    CONF_ENDPOINT,
    CONF_FINGERPRINT,
    CONF_LOW_DISK_THRESHOLD,
    CONF_SERVICE_NAME,
    DEFAULT_LOW_DISK_THRESHOLD,
    DEFAULT_SCAN_INTERVAL,
    SUBENTRY_VPS,
    is_named_endpoint,
)
from ..schema import vol
from . import validate
from .choose import ResourcesSubentryFlow
from .common import timing_fields, timing_options
from .kind import Detour, FlowKind, FormError, Found, Server, Trust, Use

if TYPE_CHECKING:
    from .steps import ServerFlow

OVH_ERROR_KEYS: tuple[tuple[type[WakeHubError], str], ...] = (
    (ServiceExpired, "ovh_service_expired"),
)

_TEXT = TextSelector()
_PASSWORD = TextSelector(TextSelectorConfig(type=TextSelectorType.PASSWORD))
# OVHcloud's endpoints by their names (selector.endpoint), or a full API URL.
_ENDPOINT = SelectSelector(
    SelectSelectorConfig(
        options=list(ENDPOINTS),
        custom_value=True,
        translation_key=CONF_ENDPOINT,
        mode=SelectSelectorMode.DROPDOWN,
    )
)


def _endpoint(value: Any) -> str:
    """One of OVHcloud's endpoint names, or a full API root URL."""
    name = validate.text(value, validate.MAX_URL)
    if name.lower() in ENDPOINTS:
        return name
    return validate.url(name, schemes=("http", "https"), error="ovh_invalid_endpoint")


def _key(value: Any) -> str:
    """An OVH key: spaces around it can only be a copy-paste accident."""
    return validate.text(value, validate.MAX_SECRET)


def _optional_key(value: Any) -> str | None:
    return validate.optional_text(value, validate.MAX_SECRET)


_RULES: dict[Use, dict[str, validate.Rule]] = {
    Use.ADD: {
        CONF_ENDPOINT: _endpoint,
        CONF_APPLICATION_KEY: _key,
        CONF_APPLICATION_SECRET: _key,
        CONF_CONSUMER_KEY: _optional_key,
    },
    # A blank application secret keeps the stored one.
    Use.RECONFIGURE: {
        CONF_ENDPOINT: _endpoint,
        CONF_APPLICATION_KEY: _key,
        CONF_APPLICATION_SECRET: _optional_key,
        CONF_CONSUMER_KEY: _optional_key,
    },
    # Blank: a new consumer key is requested.
    Use.REAUTH: {CONF_CONSUMER_KEY: _optional_key},
}


def _schema(use: Use, defaults: Mapping[str, Any]) -> vol.Schema:
    """Endpoint and keys; secrets are never prefilled (blank keeps them)."""
    if use is Use.REAUTH:
        return vol.Schema({vol.Optional(CONF_CONSUMER_KEY): _PASSWORD})

    def suggested(key: str) -> dict[str, Any]:
        return {"description": {"suggested_value": defaults.get(key)}}

    secret = vol.Required if use is Use.ADD else vol.Optional
    return vol.Schema(
        {
            vol.Required(CONF_ENDPOINT, **suggested(CONF_ENDPOINT)): _ENDPOINT,
            vol.Required(
                CONF_APPLICATION_KEY, **suggested(CONF_APPLICATION_KEY)
            ): _TEXT,
            secret(CONF_APPLICATION_SECRET): _PASSWORD,
            vol.Optional(CONF_CONSUMER_KEY): _PASSWORD,
        }
    )


async def _connect(hass: HomeAssistant, data: dict[str, Any]) -> Server:
    """Reach the API, get a consumer key validated if needed, name the account."""
    # No retry on 429 in the wizard: the user sees it and submits again.
    client = create_client(hass, data, max_retries=0)
    await client.server_time()
    if not data.get(CONF_CONSUMER_KEY):
        raise Detour(validate_step, await client.request_credential())
    if await client.missing_access_rules():
        # A key from before the VPS manager: WakeHub would fail on its new calls.
        raise FormError({"base": "ovh_missing_rules"})
    account = await client.account_id()
    return Server(unique_id=account, title=f"OVHcloud {account}", data=data)


async def validate_step(
    flow: ServerFlow, user_input: dict[str, Any] | None
) -> ConfigFlowResult:
    """`ovh_validate`: the user opens the validation link, then submits."""
    assert flow.detour is not None
    request: CredentialRequest = flow.detour.state
    errors: dict[str, str] = {}
    if user_input is not None:
        client = create_client(flow.hass, flow.data, max_retries=0)
        status: str | None
        try:
            status = await client.credential_status(request.consumer_key)
        except CredentialRejected as err:
            return flow.show_connect_form({"base": f"ovh_credential_{err.state}"})
        except InvalidSignature:
            return flow.show_connect_form({"base": "invalid_auth"})
        except InvalidAuth:
            status = "pendingValidation"  # OVH may answer 403 while pending
        except WakeHubError as err:
            status = None
            errors["base"] = error_key(err, OVH_ERROR_KEYS)
        if status == "validated":
            flow.data[CONF_CONSUMER_KEY] = request.consumer_key
            return await flow.async_test()
        if status is not None:
            # Pending, or any state OVH may add: not usable yet either way
            # (refused and expired keys raised CredentialRejected above).
            errors["base"] = "ovh_not_validated_yet"
    return flow.async_show_form(
        step_id="ovh_validate",
        data_schema=vol.Schema({}),
        errors=errors,
        description_placeholders={"url": request.validation_url},
    )


def _pinnable(
    data: Mapping[str, Any], err: WakeHubError
) -> tuple[str, str, int] | None:
    """A full API URL's certificate; OVHcloud's own endpoints are always verified."""
    if not isinstance(err, CertificateError) or is_named_endpoint(data[CONF_ENDPOINT]):
        return None
    url = resolve_endpoint(data[CONF_ENDPOINT])
    parts = urlsplit(url)
    return url, str(parts.hostname), parts.port or 443


def _vps_label(vps: VpsInfo, datacenter: str | None) -> str:
    parts = [
        vps.model.name if vps.model and vps.model.name else None,
        datacenter,
        vps.state,
    ]
    details = ", ".join(p for p in parts if p)
    return f"{vps.display_name} ({vps.service_name}) — {details}"


async def _discover(hass: HomeAssistant, data: Mapping[str, Any]) -> list[Found]:
    """Every VPS of the account, with its datacenter's name (best effort)."""
    client = create_client(hass, data, max_retries=0)
    vpses = await client.discover()

    async def choice(vps: VpsInfo) -> Found:
        try:
            center = await client.datacenter(vps.service_name)
        except WakeHubError:
            where = None
        else:
            where = center.long_name or center.name
        return Found(
            value=vps.service_name,
            label=_vps_label(vps, where),
            title=vps.display_name,
            data={CONF_SERVICE_NAME: vps.service_name},
        )

    return list(await asyncio.gather(*(choice(vps) for vps in vpses)))


FLOW_KIND = FlowKind(
    kind=KIND_OVH,
    schema=_schema,
    rules=lambda use, stored: _RULES[use],
    connect=_connect,
    discover=_discover,
    subentry_type=SUBENTRY_VPS,
    secret_fields=(CONF_APPLICATION_SECRET, CONF_CONSUMER_KEY),
    trust=Trust.CERTIFICATE,
    pin_field=CONF_FINGERPRINT,
    server_of=lambda data: data.get(CONF_ENDPOINT),
    pinnable=_pinnable,
    error_keys=OVH_ERROR_KEYS,
    wrong_server="ovh_wrong_account",
)


# Percent used from which a disk is low on space (binary sensor, repair issue).
_LOW_DISK_RULES: Final[dict[str, validate.Rule]] = {
    CONF_LOW_DISK_THRESHOLD: validate.number_rule(50, 99, whole=True)
}


class OvhOptionsFlow(OptionsFlowWithReload):
    """How long a start or stop may take, how often to poll, and from which
    percentage a disk is low on space."""

    async def async_step_init(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        return await self.async_step_ovh_options()

    async def async_step_ovh_options(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        errors: dict[str, str] = {}
        if user_input is not None:
            options, errors = timing_options(user_input)
            threshold, threshold_errors = validate.parse(user_input, _LOW_DISK_RULES)
            errors |= threshold_errors
            if not errors:
                return self.async_create_entry(data=options | threshold)
        current = self.config_entry.options
        return self.async_show_form(
            step_id="ovh_options",
            data_schema=vol.Schema(
                {
                    **timing_fields(current, scan_interval=DEFAULT_SCAN_INTERVAL),
                    vol.Required(
                        CONF_LOW_DISK_THRESHOLD,
                        default=current.get(
                            CONF_LOW_DISK_THRESHOLD, int(DEFAULT_LOW_DISK_THRESHOLD)
                        ),
                    ): validate.FiniteNumberSelector(
                        NumberSelectorConfig(
                            min=50,
                            max=99,
                            step=1,
                            unit_of_measurement="%",
                            mode=NumberSelectorMode.BOX,
                        )
                    ),
                }
            ),
            errors=errors,
        )


class OvhVpsSubentryFlow(ResourcesSubentryFlow):
    """Add VPSes of the account that are not in WakeHub yet."""

    async def discover(self, data: Mapping[str, Any]) -> list[Found]:
        return await _discover(self.hass, data)
