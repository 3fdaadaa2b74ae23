"""What a resource can do, as small protocols its kind's class implements.

A resource class offers an action by having its methods: a Docker container is
`Powered`, `Rebootable`, `ForceStoppable` and `Pausable`; an OVH VPS is `Powered`,
`Rebootable`, `Snapshots`, `Rescue`, ... Its `ResourceFeature` flags are derived
from these protocols (`implemented_features`), so a flag never promises a method
the class lacks; an instance may still offer less (an LXC container has no reset).

Whoever acts on a resource obtains the capability through `capability`, which
refuses what the resource cannot do with the translated "not supported" error
before anything is sent.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from homeassistant.exceptions import HomeAssistantError, ServiceValidationError

from .action_errors import translate_error
from .api.errors import WakeHubError
from .const import DOMAIN
from .features import ResourceFeature

if TYPE_CHECKING:
    from .resource import Resource


@runtime_checkable
class Powered(Protocol):
    """Started and stopped: the power switch, wakehub.start/stop."""

    async def async_start(self) -> None:
        """Ask the platform to start; return once the request was accepted.

        The power manager then follows the coordinator until the state says
        running, so implementations need not wait for the boot itself (they may
        wait for a platform task, and should raise its failure).
        """

    async def async_stop(self) -> None:
        """Ask the platform for a graceful shutdown."""


@runtime_checkable
class Rebootable(Protocol):
    async def async_reboot(self) -> None: ...


@runtime_checkable
class ForceStoppable(Protocol):
    async def async_force_stop(self) -> None: ...


@runtime_checkable
class Resettable(Protocol):
    async def async_reset(self) -> None: ...


@runtime_checkable
class Pausable(Protocol):
    """Frozen and thawed in place: wakehub.pause/unpause."""

    async def async_pause(self) -> None: ...

    async def async_unpause(self) -> None: ...


@dataclass(frozen=True, kw_only=True)
class Snapshot:
    """A snapshot as `wakehub.list_snapshots` returns it."""

    name: str
    description: str | None = None
    time: datetime | None = None
    parent: str | None = None
    include_ram: bool | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "description": self.description,
            "time": self.time.isoformat() if self.time else None,
            "parent": self.parent,
            "include_ram": self.include_ram,
            **self.extra,
        }


@runtime_checkable
class Snapshots(Protocol):
    """Create, list, restore and delete snapshots."""

    async def async_create_snapshot(
        self, name: str | None, description: str | None, include_ram: bool
    ) -> None: ...

    async def async_list_snapshots(self) -> list[Snapshot]: ...

    async def async_restore_snapshot(
        self, name: str | None, *, snapshot_first: bool = False
    ) -> None: ...

    async def async_delete_snapshot(self, name: str | None) -> None: ...

    async def async_snapshot_before(self, action: str, word: str) -> None:
        """Before `action`: take a snapshot named by `safety_snapshot_name(word)`
        and wait for it.

        For `snapshot_first`: raises a WakeHubError (or a translated
        HomeAssistantError saying why) when no snapshot could be taken, so the
        risky action is not performed.
        """


@runtime_checkable
class Backups(Protocol):
    async def async_backup(self, storage: str, mode: str, compress: str | None) -> None:
        """Back up now to `storage` and return once the platform's task ended."""


@runtime_checkable
class Rescue(Protocol):
    async def async_rescue(self, enabled: bool) -> dict[str, Any]: ...


@runtime_checkable
class Console(Protocol):
    async def async_console_url(self) -> dict[str, Any]: ...


@runtime_checkable
class Rebuild(Protocol):
    """Reinstall from an image (and list the images it may be rebuilt from)."""

    async def async_list_images(self) -> list[dict[str, Any]]: ...

    async def async_rebuild(
        self,
        image_id: str,
        ssh_key: str | None,
        public_ssh_key: str | None,
        do_not_send_password: bool,
        *,
        snapshot_first: bool = False,
    ) -> dict[str, Any]: ...


@runtime_checkable
class PasswordReset(Protocol):
    async def async_reset_password(self) -> dict[str, Any]: ...


#: The one table from capability to flag.
FEATURES: dict[type[Any], ResourceFeature] = {
    Powered: ResourceFeature.POWER,
    Rebootable: ResourceFeature.REBOOT,
    ForceStoppable: ResourceFeature.FORCE_STOP,
    Resettable: ResourceFeature.RESET,
    Pausable: ResourceFeature.PAUSE,
    Snapshots: ResourceFeature.SNAPSHOTS,
    Backups: ResourceFeature.BACKUP,
    Rescue: ResourceFeature.RESCUE,
    Console: ResourceFeature.CONSOLE,
    Rebuild: ResourceFeature.REBUILD,
    PasswordReset: ResourceFeature.RESET_PASSWORD,
}


def implemented_features(cls: type[Any]) -> ResourceFeature:
    """The flags of every capability `cls` implements."""
    features = ResourceFeature(0)
    for protocol, feature in FEATURES.items():
        if issubclass(cls, protocol):
            features |= feature
    return features


def capability[C](
    resource: Resource,
    protocol: type[C],
    action: str,
    refusal: str = "action_not_supported",
) -> C:
    """`resource` as `protocol`, or the translated refusal (`refusal` is its
    translation key, with placeholders `name` and `action`)."""
    if FEATURES[protocol] in resource.features and isinstance(resource, protocol):
        return resource
    raise ServiceValidationError(
        translation_domain=DOMAIN,
        translation_key=refusal,
        translation_placeholders={"name": resource.name, "action": action},
    )


def safety_snapshot_name(action: str, now: datetime) -> str:
    """The snapshot `snapshot_first` takes: wakehub-before-<action>-<UTC time>.

    Short action words ("restore", "rebuild") keep it within Proxmox's 40
    characters for a snapshot name.
    """
    return f"wakehub-before-{action}-{now.strftime('%Y%m%d%H%M%S')}"


async def async_take_safety_snapshot(
    resource: Resource, action: str, word: str
) -> None:
    """`snapshot_first`: the snapshot before `action`, or an error saying
    that `action` was not done and why (the platform's words).

    Kinds call it once the action's input is checked, right before the
    request that can lose data; `word` goes in the snapshot's name.
    """
    try:
        await capability(resource, Snapshots, action).async_snapshot_before(
            action, word
        )
    except WakeHubError as err:
        placeholders = translate_error(err, resource.name).translation_placeholders
        raise HomeAssistantError(
            translation_domain=DOMAIN,
            translation_key="snapshot_first_failed",
            translation_placeholders={
                "name": resource.name,
                "action": action,
                "message": (placeholders or {}).get("message", ""),
            },
        ) from err
