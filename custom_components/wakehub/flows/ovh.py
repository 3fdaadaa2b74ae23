"""The OVHcloud part of the wizard.

Steps: `ovh` (endpoint and application keys) → the API's clock is read (which
also tests the connection and, for a full API URL with an untrusted certificate,
leads to `ovh_certificate`: confirm its fingerprint, which is pinned) → without a
consumer key one is requested with WakeHub's access rules and `ovh_validate`
shows its validation link until OVH says it is validated → the account's nic is
the unique id → `ovh_resources` (which VPSes to add, one subentry each).

Reauth (`reauth_ovh`) takes a consumer key or requests a new one the same way;
reconfigure (`reconfigure_ovh`) changes the endpoint and keys (blank secrets keep
the stored ones). The subentry flow "vps" adds VPSes not added yet.

OVH may answer a key still waiting for validation with a 403 rather than with
its `pendingValidation` state: during `ovh_validate` an authentication refusal
therefore means "not validated yet", unless OVH says the key was refused or
expired, or the signature (the application secret) is wrong.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

from homeassistant.config_entries import (
    SOURCE_REAUTH,
    SOURCE_RECONFIGURE,
    ConfigEntry,
    ConfigFlowResult,
    ConfigSubentryFlow,
    OptionsFlow,
    SubentryFlowResult,
)
from homeassistant.helpers.selector import (
    SelectOptionDict,
    SelectSelector,
    SelectSelectorConfig,
    SelectSelectorMode,
    TextSelector,
    TextSelectorConfig,
    TextSelectorType,
)

from ..api.errors import (
    ApiError,
    CannotConnect,
    CertificateError,
    Conflict,
    ConnectionTimeout,
    InvalidAuth,
    NotFound,
    PermissionDenied,
    RateLimited,
    WakeHubError,
)
from ..api.ovh import (
    ENDPOINTS,
    CredentialRejected,
    InvalidSignature,
    OvhClient,
    ServiceExpired,
    VpsInfo,
    resolve_endpoint,
)
from ..const import CONF_KIND, KIND_OVH
from ..kinds.ovh import (
    CONF_APPLICATION_KEY,
    CONF_APPLICATION_SECRET,
    CONF_CONSUMER_KEY,
    CONF_ENDPOINT,
    CONF_FINGERPRINT,
    CONF_SERVICE_NAME,
    DEFAULT_SCAN_INTERVAL,
    SUBENTRY_VPS,
    is_named_endpoint,
    ovh_client,
)
from ..schema import vol
from . import validate
from .common import CertificatePinSteps, kept_pin, timing_fields, timing_options
from .power_settings import PowerSettingsSubentryFlow

CONF_RESOURCES = "resources"
CONF_VPS = "vps"
SECRET_FIELDS = (CONF_APPLICATION_SECRET, CONF_CONSUMER_KEY)

_TEXT = TextSelector()
_PASSWORD = TextSelector(TextSelectorConfig(type=TextSelectorType.PASSWORD))
_ENDPOINT = SelectSelector(
    SelectSelectorConfig(
        options=list(ENDPOINTS), custom_value=True, mode=SelectSelectorMode.DROPDOWN
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


_RULES: dict[str, validate.Rule] = {
    CONF_ENDPOINT: _endpoint,
    CONF_APPLICATION_KEY: _key,
    CONF_APPLICATION_SECRET: _key,
    CONF_CONSUMER_KEY: _optional_key,
}
# Reconfiguring, a blank application secret keeps the stored one.
_RECONFIGURE_RULES = {**_RULES, CONF_APPLICATION_SECRET: _optional_key}

# Most specific first (ConnectionTimeout is a CannotConnect, ServiceExpired an
# ApiError, InvalidSignature an InvalidAuth).
_ERROR_KEYS: tuple[tuple[type[WakeHubError], str], ...] = (
    (ConnectionTimeout, "timeout"),
    (CannotConnect, "cannot_connect"),
    (InvalidAuth, "invalid_auth"),
    (PermissionDenied, "ovh_permission_denied"),
    (NotFound, "ovh_not_found"),
    (Conflict, "ovh_conflict"),
    (RateLimited, "ovh_rate_limited"),
    (ServiceExpired, "ovh_service_expired"),
)


def error_key(err: WakeHubError) -> str:
    """The form error for what OVH answered (seed spec §6.1's table)."""
    key = next((k for cls, k in _ERROR_KEYS if isinstance(err, cls)), None)
    if key is not None:
        return key
    code = err.code if isinstance(err, ApiError) else None
    if code == 400:
        return "ovh_bad_request"
    if isinstance(code, int) and code >= 500:
        return "ovh_server_error"
    return "ovh_api_error"


def _ovh_schema(*, reconfigure: bool) -> vol.Schema:
    """Endpoint and keys; secrets are never prefilled (blank keeps them)."""
    return vol.Schema(
        {
            vol.Required(CONF_ENDPOINT): _ENDPOINT,
            vol.Required(CONF_APPLICATION_KEY): _TEXT,
            (
                vol.Optional(CONF_APPLICATION_SECRET)
                if reconfigure
                else vol.Required(CONF_APPLICATION_SECRET)
            ): _PASSWORD,
            vol.Optional(CONF_CONSUMER_KEY): _PASSWORD,
        }
    )


def _vps_label(vps: VpsInfo, datacenter: str | None) -> str:
    parts = [
        vps.model.name if vps.model and vps.model.name else None,
        datacenter,
        vps.state,
    ]
    details = ", ".join(p for p in parts if p)
    return f"{vps.display_name} ({vps.service_name}) — {details}"


async def discover(client: OvhClient) -> list[tuple[VpsInfo, str | None]]:
    """Every VPS of the account with its datacenter's name (best effort)."""
    vpses = await client.discover()

    async def with_datacenter(vps: VpsInfo) -> tuple[VpsInfo, str | None]:
        try:
            center = await client.datacenter(vps.service_name)
        except WakeHubError:
            return vps, None
        return vps, center.long_name or center.name

    return list(await asyncio.gather(*(with_datacenter(vps) for vps in vpses)))


class OvhFlowMixin(CertificatePinSteps):
    """Steps of the ovh kind; mixed into WakeHubConfigFlow."""

    _ovh: dict[str, Any]
    _ovh_pending: str | None = None
    _ovh_validation_url: str = ""
    _ovh_found: list[tuple[VpsInfo, str | None]]

    # -- forms --------------------------------------------------------------------
    async def async_step_ovh(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        if user_input is None:
            return self._ovh_form("ovh", {}, {})
        values, errors = validate.parse(user_input, _RULES)
        if errors:
            return self._ovh_form("ovh", values, errors)
        previous: dict[str, Any] = getattr(self, "_ovh", {})
        self._ovh = {CONF_KIND: KIND_OVH, **values}
        # Corrected keys after an error: the certificate was already confirmed.
        same = previous.get(CONF_ENDPOINT) == self._ovh[CONF_ENDPOINT]
        if pin := kept_pin(previous, same, CONF_FINGERPRINT):
            self._ovh[CONF_FINGERPRINT] = pin
        return await self._ovh_connect()

    async def async_step_reconfigure_ovh(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        entry = self._get_reconfigure_entry()
        if user_input is None:
            return self._ovh_form("reconfigure_ovh", entry.data, {})
        # A blank secret is left out of `values`: it keeps the stored one.
        values, errors = validate.parse(user_input, _RECONFIGURE_RULES)
        if errors:
            return self._ovh_form("reconfigure_ovh", entry.data, errors)
        data = {**entry.data, **values}
        # Another server: its certificate is checked (and pinned) anew.
        data.pop(CONF_FINGERPRINT, None)
        same = data[CONF_ENDPOINT] == entry.data[CONF_ENDPOINT]
        if pin := kept_pin(entry.data, same, CONF_FINGERPRINT):
            data[CONF_FINGERPRINT] = pin
        self._ovh = data
        return await self._ovh_connect()

    async def async_step_reauth_ovh(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """A new consumer key: typed in, or requested when left empty."""
        entry = self._get_reauth_entry()
        if user_input is None:
            return self._ovh_form("reauth_ovh", entry.data, {})
        values, errors = validate.parse(user_input, {CONF_CONSUMER_KEY: _optional_key})
        if errors:
            return self._ovh_form("reauth_ovh", entry.data, errors)
        self._ovh = {**entry.data}
        self._ovh.pop(CONF_CONSUMER_KEY, None)
        self._ovh.update(values)
        return await self._ovh_connect()

    def _ovh_form(
        self, step_id: str, defaults: Mapping[str, Any], errors: dict[str, str]
    ) -> ConfigFlowResult:
        if step_id == "reauth_ovh":
            schema = vol.Schema({vol.Optional(CONF_CONSUMER_KEY): _PASSWORD})
        else:
            schema = self.add_suggested_values_to_schema(
                _ovh_schema(reconfigure=step_id != "ovh"),
                {k: v for k, v in defaults.items() if k not in SECRET_FIELDS},
            )
        return self.async_show_form(
            step_id=step_id,
            data_schema=schema,
            errors=errors,
            description_placeholders={"name": self._ovh_title()},
        )

    def _ovh_title(self) -> str:
        if self.source == SOURCE_REAUTH:
            return self._get_reauth_entry().title
        if self.source == SOURCE_RECONFIGURE:
            return self._get_reconfigure_entry().title
        return "OVHcloud"

    def _ovh_back(self, error: str) -> ConfigFlowResult:
        """Back to the form the user filled, with what went wrong."""
        step = {SOURCE_REAUTH: "reauth_ovh", SOURCE_RECONFIGURE: "reconfigure_ovh"}
        return self._ovh_form(
            step.get(self.source or "", "ovh"), self._ovh, {"base": error}
        )

    # -- connection, certificate, consumer key ---------------------------------------
    def _ovh_client(self) -> OvhClient:
        # No retry on 429 in the wizard: the user sees it and submits again.
        return ovh_client(self.hass, self._ovh, max_retries=0)

    async def _ovh_connect(self) -> ConfigFlowResult:
        """Reach the API (pinning its certificate if needed), then the key."""
        client = self._ovh_client()
        try:
            await client.server_time()
        except CertificateError as err:
            if is_named_endpoint(self._ovh[CONF_ENDPOINT]):
                return self._ovh_back("cannot_connect")  # OVH's own: always verified
            return await self._ovh_certificate(err)
        except WakeHubError as err:
            return self._ovh_back(error_key(err))
        if self._ovh.get(CONF_CONSUMER_KEY):
            return await self._ovh_check()
        try:
            request = await client.request_credential()
        except WakeHubError as err:
            return self._ovh_back(error_key(err))
        self._ovh_pending = request.consumer_key
        self._ovh_validation_url = request.validation_url
        return await self.async_step_ovh_validate()

    async def _ovh_certificate(self, err: CertificateError) -> ConfigFlowResult:
        try:
            await self._async_read_pin(
                err, resolve_endpoint(self._ovh[CONF_ENDPOINT]), 443
            )
        # The server answered a moment ago; failing now is a race.
        except WakeHubError as err2:  # pragma: no cover
            return self._ovh_back(error_key(err2))
        return await self.async_step_ovh_certificate()

    async def async_step_ovh_certificate(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Show the certificate's fingerprint; it is pinned once confirmed."""
        return await self._async_pin_step(
            "ovh_certificate",
            user_input,
            self._ovh,
            url=resolve_endpoint(self._ovh[CONF_ENDPOINT]),
            confirmed=self._ovh_connect,
        )

    async def async_step_ovh_validate(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """The user opens the validation link, then submits this step."""
        errors: dict[str, str] = {}
        if user_input is not None:
            client = self._ovh_client()
            try:
                status = await client.credential_status(self._ovh_pending)
            except CredentialRejected as err:
                return self._ovh_back(f"ovh_credential_{err.state}")
            except InvalidSignature:
                return self._ovh_back("invalid_auth")
            except InvalidAuth:
                status = "pendingValidation"  # OVH may answer 403 while pending
            except WakeHubError as err:
                status = None
                errors["base"] = error_key(err)
            if status == "validated":
                self._ovh[CONF_CONSUMER_KEY] = self._ovh_pending
                return await self._ovh_check()
            if status is not None:
                # Pending, or any state OVH may add: not usable yet either way
                # (refused and expired keys raised CredentialRejected above).
                errors["base"] = "ovh_not_validated_yet"
        return self.async_show_form(
            step_id="ovh_validate",
            data_schema=vol.Schema({}),
            errors=errors,
            description_placeholders={"url": self._ovh_validation_url},
        )

    async def _ovh_check(self) -> ConfigFlowResult:
        """Whose account is it? Then finish (reauth, reconfigure) or discover."""
        client = self._ovh_client()
        try:
            account = await client.account_id()
            if self.source not in (SOURCE_REAUTH, SOURCE_RECONFIGURE):
                await self.async_set_unique_id(account)
                self._abort_if_unique_id_configured()
                self._ovh_found = await discover(client)
        except WakeHubError as err:
            return self._ovh_back(error_key(err))
        if self.source == SOURCE_REAUTH:
            await self.async_set_unique_id(account)
            self._abort_if_unique_id_mismatch(reason="ovh_wrong_account")
            return self.async_update_reload_and_abort(
                self._get_reauth_entry(), data=self._ovh
            )
        if self.source == SOURCE_RECONFIGURE:
            await self.async_set_unique_id(account)
            self._abort_if_unique_id_mismatch(reason="ovh_wrong_account")
            return self.async_update_reload_and_abort(
                self._get_reconfigure_entry(), data=self._ovh
            )
        return await self.async_step_ovh_resources()

    # -- selection --------------------------------------------------------------------
    async def async_step_ovh_resources(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        found = {vps.service_name: vps for vps, _ in self._ovh_found}
        if user_input is not None:
            chosen = [found[sn] for sn in user_input.get(CONF_RESOURCES, [])]
            return self.async_create_entry(
                title=f"OVHcloud {self.unique_id}",
                data=self._ovh,
                subentries=[
                    {
                        "subentry_type": SUBENTRY_VPS,
                        "unique_id": vps.service_name,
                        "title": vps.display_name,
                        "data": {CONF_SERVICE_NAME: vps.service_name},
                    }
                    for vps in chosen
                ],
            )
        options = [
            SelectOptionDict(value=vps.service_name, label=_vps_label(vps, center))
            for vps, center in self._ovh_found
        ]
        return self.async_show_form(
            step_id="ovh_resources",
            data_schema=vol.Schema(
                {
                    vol.Optional(CONF_RESOURCES, default=list(found)): SelectSelector(
                        SelectSelectorConfig(
                            options=options,
                            multiple=True,
                            mode=SelectSelectorMode.LIST,
                        )
                    )
                }
            ),
            description_placeholders={"count": str(len(options))},
        )


class OvhOptionsFlow(OptionsFlow):
    """How long a start or stop may take, and how often to poll.

    Not an OptionsFlowWithReload: the entry's update listener (which also
    follows added VPSes) reloads it.
    """

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
            if not errors:
                return self.async_create_entry(data=options)
        return self.async_show_form(
            step_id="ovh_options",
            data_schema=vol.Schema(
                timing_fields(
                    self.config_entry.options, scan_interval=DEFAULT_SCAN_INTERVAL
                )
            ),
            errors=errors,
        )


class OvhVpsSubentryFlow(PowerSettingsSubentryFlow):
    """Add a VPS of the account that is not in WakeHub yet."""

    _found: dict[str, VpsInfo]

    async def async_step_user(
        self, user_input: dict[str, Any] | None = None
    ) -> SubentryFlowResult:
        entry: ConfigEntry = self._get_entry()
        if user_input is not None:
            vps = self._found[user_input[CONF_VPS]]
            return self.async_create_entry(
                title=vps.display_name,
                data={CONF_SERVICE_NAME: vps.service_name},
                unique_id=vps.service_name,
            )
        added = {sub.unique_id for sub in entry.subentries.values()}
        try:
            found = await discover(ovh_client(self.hass, entry.data, max_retries=0))
        except WakeHubError as err:
            return self.async_abort(
                reason="ovh_discovery_failed",
                description_placeholders={"error": str(err)},
            )
        new = [(vps, center) for vps, center in found if vps.service_name not in added]
        if not new:
            return self.async_abort(reason="ovh_no_new_vps")
        self._found = {vps.service_name: vps for vps, _ in new}
        return self.async_show_form(
            step_id="user",
            data_schema=vol.Schema(
                {
                    vol.Required(CONF_VPS): SelectSelector(
                        SelectSelectorConfig(
                            options=[
                                SelectOptionDict(
                                    value=vps.service_name,
                                    label=_vps_label(vps, center),
                                )
                                for vps, center in new
                            ],
                            mode=SelectSelectorMode.LIST,
                        )
                    )
                }
            ),
        )


OPTIONS_FLOW: type[OptionsFlow] = OvhOptionsFlow
SUBENTRY_FLOWS: dict[str, type[ConfigSubentryFlow]] = {SUBENTRY_VPS: OvhVpsSubentryFlow}
