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
from typing import TYPE_CHECKING, Any

from homeassistant.config_entries import ConfigFlowResult
from homeassistant.core import HomeAssistant
from homeassistant.helpers.selector import (
    SelectSelector,
    SelectSelectorConfig,
    SelectSelectorMode,
)

from ...api.errors import CertificateError, InvalidAuth, WakeHubError
from ...api.ovh import CredentialRequest, VpsInfo
from ...api.ovh.error_map import (
    CredentialExpired,
    CredentialRefused,
    CredentialRejected,
    InvalidSignature,
    ServiceExpired,
)
from ...api.ovh.signing import ENDPOINTS, resolve_endpoint
from ...const import KIND_OVH
from ...flows import fields, validate
from ...flows.fields import Field, secret_field, suggested
from ...flows.kind import Detour, FlowKind, FormError, Found, Server, Trust, Use
from ...flows.settings import Options, of_fields, timing
from ...schema import vol
from .client import create_client
from .const import (
    CONF_APPLICATION_KEY,
    CONF_APPLICATION_SECRET,
    CONF_CONSUMER_KEY,
    CONF_ENDPOINT,
    CONF_LOW_DISK_THRESHOLD,
    CONF_SERVICE_NAME,
    DEFAULT_LOW_DISK_THRESHOLD,
    DEFAULT_SCAN_INTERVAL,
    is_named_endpoint,
)

if TYPE_CHECKING:
    from ...flows.steps import ServerFlow


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


_ENDPOINT_FIELD = suggested(CONF_ENDPOINT, _endpoint, _ENDPOINT, required=True)
_APPLICATION_KEY = suggested(CONF_APPLICATION_KEY, _key, required=True)
# Blank: a new consumer key is requested.
_CONSUMER_KEY = secret_field(CONF_CONSUMER_KEY, _optional_key)
_FIELDS: dict[Use, tuple[Field, ...]] = {
    Use.ADD: (
        _ENDPOINT_FIELD,
        _APPLICATION_KEY,
        secret_field(CONF_APPLICATION_SECRET, _key, required=True),
        _CONSUMER_KEY,
    ),
    # A blank application secret keeps the stored one.
    Use.RECONFIGURE: (
        _ENDPOINT_FIELD,
        _APPLICATION_KEY,
        secret_field(CONF_APPLICATION_SECRET, _optional_key),
        _CONSUMER_KEY,
    ),
    Use.REAUTH: (_CONSUMER_KEY,),
}


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
            return flow.show_connect_form({"base": flow.error_key(err)})
        except InvalidSignature:
            return flow.show_connect_form({"base": "invalid_auth"})
        except InvalidAuth:
            status = "pendingValidation"  # OVH may answer 403 while pending
        except WakeHubError as err:
            status = None
            errors["base"] = flow.error_key(err)
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


def _pinnable(data: Mapping[str, Any], err: WakeHubError) -> str | None:
    """A full API URL's certificate; OVHcloud's own endpoints are always verified."""
    if not isinstance(err, CertificateError) or is_named_endpoint(data[CONF_ENDPOINT]):
        return None
    return resolve_endpoint(data[CONF_ENDPOINT])


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
    fields=lambda use, stored: _FIELDS[use],
    connect=_connect,
    discover=_discover,
    trust=Trust.CERTIFICATE,
    server_of=lambda data: data.get(CONF_ENDPOINT),
    pinnable=_pinnable,
    error_keys=(
        (ServiceExpired, "ovh_service_expired"),
        (CredentialRefused, "ovh_credential_refused"),
        (CredentialExpired, "ovh_credential_expired"),
    ),
    wrong_server="ovh_wrong_account",
    options=Options(
        step_id="ovh_options",
        sections=(
            timing(scan_interval=DEFAULT_SCAN_INTERVAL),
            # Percent used from which a disk is low on space (binary sensor,
            # repair issue).
            of_fields(
                fields.number_field(
                    CONF_LOW_DISK_THRESHOLD,
                    50,
                    99,
                    "%",
                    default=int(DEFAULT_LOW_DISK_THRESHOLD),
                )
            ),
        ),
    ),
)
