"""Types shared by every platform client."""

from __future__ import annotations

from enum import StrEnum


class ResourceStatus(StrEnum):
    """What a resource is doing, in one vocabulary for the whole fleet.

    These values are the states of the `status` sensor: users' automations hold
    them, so they only ever grow.
    """

    RUNNING = "running"
    STOPPED = "stopped"
    PAUSED = "paused"
    STARTING = "starting"
    STOPPING = "stopping"
    REBOOTING = "rebooting"
    INSTALLING = "installing"
    RESCUED = "rescued"
    MAINTENANCE = "maintenance"
    BACKUPING = "backuping"
    #: A start that waits for something else first (its host, its server's API).
    WAITING = "waiting"
    UPGRADING = "upgrading"
    UNKNOWN = "unknown"
