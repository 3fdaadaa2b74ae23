"""The VPS manager specification's business errors (its section 6), recognised.

OVH answers them with a generic status (400, 403, 409) and a message; the
integration shows each with its own translated text, so they are refined here
into distinct classes. Each subclasses the errors.py class the status already
maps to (a 409 stays a Conflict), so code that handles the general case keeps
working; `translation_key` names the action error users read.

`refine()` is the one place that reads OVH's wording; transport.py passes every
mapped error through it.
"""

from __future__ import annotations

import re
from typing import ClassVar, Final

from ..errors import ApiError, Conflict, WakeHubError


class SpecError(WakeHubError):
    """Mixin of the specification's errors: the action error's translation key."""

    translation_key: ClassVar[str]


class TaskInProgress(Conflict, SpecError):
    """409: an operation is already running on this VPS."""

    translation_key = "ovh_task_in_progress"


class SnapshotExists(Conflict, SpecError):
    """The VPS already has its one snapshot: delete it before taking another."""

    translation_key = "ovh_snapshot_already_exists"


class OptionNotAvailable(ApiError, SpecError):
    """The option (snapshot, backup, storage...) does not exist for this range."""

    translation_key = "ovh_option_not_available"


class IpQuotaReached(ApiError, SpecError):
    """The VPS has the most additional IPs (or IP blocks) its range allows."""

    translation_key = "ovh_ip_quota_reached"


class MigrationNotPossible(ApiError, SpecError):
    """OVH refuses to migrate this VPS now."""

    translation_key = "ovh_migration_not_possible"


_SNAPSHOT: Final = re.compile(r"snapshot.*(already|exist)", re.IGNORECASE)
_OPTION: Final = re.compile(
    r"(option|feature).*not (available|enabled|allowed|compatible)"
    r"|not (available|enabled) (for|on) (this|your) (vps|offer|range|model)",
    re.IGNORECASE,
)
_IP_QUOTA: Final = re.compile(
    r"(maximum|max|quota|limit).*\bips?\b|\bips?\b.*(maximum|quota|limit)",
    re.IGNORECASE,
)
_MIGRATION_STATUSES: Final = frozenset({400, 403, 409})


def refine(  # noqa: PLR0911 - one return per error, read as a table
    error: WakeHubError, *, status: int, message: str, call: str
) -> WakeHubError:
    """`error` (from error_map) as the specification's error it is, if any.

    Only plain ApiErrors and Conflicts are refined: an authentication, permission
    or expiry answer keeps its meaning whatever its message says.
    """
    if isinstance(error, Conflict):
        if _SNAPSHOT.search(message):
            return SnapshotExists(str(error))
        return TaskInProgress(str(error))
    if type(error) is not ApiError:
        return error
    if "/migration" in call and status in _MIGRATION_STATUSES:
        return MigrationNotPossible(status, message)
    if _SNAPSHOT.search(message):
        return SnapshotExists(f"the VPS already has a snapshot: {message}")
    if _IP_QUOTA.search(message):
        return IpQuotaReached(status, message)
    if _OPTION.search(message):
        return OptionNotAvailable(status, message)
    return error


__all__ = [
    "IpQuotaReached",
    "MigrationNotPossible",
    "OptionNotAvailable",
    "SnapshotExists",
    "SpecError",
    "TaskInProgress",
    "refine",
]
