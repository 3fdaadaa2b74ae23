"""What a resource can do beyond being shown: its optional abilities."""

from __future__ import annotations

from enum import IntFlag


class ResourceFeature(IntFlag):
    """Optional abilities; entities and actions exist only where supported."""

    POWER = 1  # start/stop: the power switch, wakehub.start/stop
    REBOOT = 2
    FORCE_STOP = 4
    RESET = 8
    SNAPSHOTS = 16  # create/list/restore/delete
    RESCUE = 32
    CONSOLE = 64
    REBUILD = 128  # rebuild + list_images
    RESET_PASSWORD = 256
    PAUSE = 512  # freeze and thaw in place: wakehub.pause/unpause
    BACKUP = 1024  # a platform backup now: wakehub.backup (Proxmox vzdump)
