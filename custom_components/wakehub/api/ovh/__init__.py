"""OVHcloud VPS client: signed calls to the OVH API, discovery, polling, actions.

Public API (what the Home Assistant layer uses), all importable from this package:

    resolve_endpoint("ovh-eu" | ... | "https://host:port/1.0") -> API root URL
    sign(application_secret, consumer_key, method, url, body, timestamp) -> "$1$..."
    vps_status(state, task_type=None) -> ResourceStatus
    ACCESS_RULES: the (method, path) rules a WakeHub consumer key asks for

    client = OvhClient(session, endpoint=..., application_key=..., application_secret=...,
                       consumer_key=..., verify_ssl=True, fingerprint=None)
    # consumer key (config flow)
    await client.server_time() -> int                     GET /auth/time (reachability)
    await client.request_credential(redirection=None) -> CredentialRequest
    await client.credential_status(consumer_key=None) -> "validated" | "pendingValidation"
        (raises CredentialRejected, an InvalidAuth, when refused or expired)
    await client.account_id() -> nichandle from GET /me, else the application key
    # discovery
    await client.discover() -> list[VpsInfo]              GET /vps, then GET /vps/{sn}
    # polling
    await client.fast_poll(services) -> dict[str, VpsState | WakeHubError]
        exactly 2 requests per VPS: GET /vps/{sn} (state, netboot mode, model)
        and GET /vps/{sn}/tasks?state=doing (ids of running tasks). A running task
        is described (type) only when this client started or fetched it already,
        or with describe_new_tasks=True (one GET per never-seen task id).
    await client.get_details(service) -> VpsDetails
        hourly: serviceInfos, ips, datacenter, images/current (or distribution),
        snapshot (404 = none). Backups and figures: the VPS manager's modules below.
    # actions: each returns the OVH Task; follow it with wait_for_task
    start/stop/reboot(service), rescue(service, enabled), create_snapshot(service,
    description), restore_snapshot, delete_snapshot, get_snapshot -> Snapshot | None,
    snapshot_download -> SnapshotDownload, console_url -> str, list_images ->
    list[Image], rebuild(service, image_id, ssh_key=, public_ssh_key=,
    do_not_send_password=), reset_password(service)
    await client.wait_for_task(service, task_id, timeout=900, interval=0.25) -> Task

Modules: signing.py (endpoints, signature, access rules), transport.py (one signed
call, clock offset, rate-limit retries), error_map.py (OVH's error answers to
errors.py), models.py (dataclasses and parsers), details.py (the hourly cycle),
tasks.py (following a task), client.py (the rest of OvhClient).

Errors (error_map.py, on the classes of errors.py): 400 ApiError (INVALID_SIGNATURE,
i.e. a wrong application secret, is InvalidSignature, an InvalidAuth); 401
InvalidAuth; 403 NOT_GRANTED_CALL and FORBIDDEN PermissionDenied (privilege =
"METHOD /path"), NOT_CREDENTIAL, INVALID_KEY, INVALID_CREDENTIAL InvalidAuth; 404
NotFound; 409 Conflict; 429 RateLimited after a bounded number of retries honouring
Retry-After; 460 ServiceExpired (an ApiError); 5xx ApiError. OVH's own `message` is
kept in every exception.
"""

from __future__ import annotations

from .client import OvhClient
from .models import (
    AutomatedBackup,
    CredentialRequest,
    Datacenter,
    Image,
    ServiceInfo,
    Snapshot,
    SnapshotDownload,
    Task,
    VpsDetails,
    VpsInfo,
    VpsModel,
    VpsState,
)

__all__ = [
    "AutomatedBackup",
    "CredentialRequest",
    "Datacenter",
    "Image",
    "OvhClient",
    "ServiceInfo",
    "Snapshot",
    "SnapshotDownload",
    "Task",
    "VpsDetails",
    "VpsInfo",
    "VpsModel",
    "VpsState",
]
