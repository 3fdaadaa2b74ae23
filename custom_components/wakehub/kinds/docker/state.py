"""What one poll says of a Docker engine, container or stack."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Self

from ...api.docker import (
    Container,
)
from ...api.models import ResourceStatus
from ...state import ResourceState
from .compose import COMPLETED, awaited


@dataclass(frozen=True, kw_only=True)
class EngineState(ResourceState):
    """The engine: it answers (running), and what it runs."""

    containers: int
    running: int
    server_version: str | None
    api_version: str | None

    def stopped(self) -> Self:
        return replace(super().stopped(), running=0)


@dataclass(frozen=True, kw_only=True)
class ContainerState(ResourceState):
    """A followed container: Docker's own state word, its id and health."""

    state: str  # Docker's: created, running, paused, exited...
    container_id: str
    health: str  # healthy, unhealthy, starting, or none (no healthcheck)
    exit_code: int | None = None  # of its last run, once it has exited

    def stopped(self) -> Self:
        # What the engine reports of a container it stopped: exited, no health.
        return replace(super().stopped(), state="exited", health="none")


@dataclass(frozen=True, kw_only=True)
class StackState(ResourceState):
    """A compose stack: which of its containers run."""

    containers: int
    running: tuple[str, ...]
    not_running: tuple[str, ...]

    def stopped(self) -> Self:
        return replace(
            super().stopped(), running=(), not_running=self.running + self.not_running
        )


@dataclass(frozen=True, kw_only=True)
class Metrics:
    """One stats sample of a container, as the sensors show it."""

    container_id: str
    cpu: float | None
    memory: float | None  # percent of the limit
    network_in: float | None  # bytes per second since the previous sample
    network_out: float | None


NO_METRICS = Metrics(
    container_id="", cpu=None, memory=None, network_in=None, network_out=None
)


def stack_state(members: Sequence[Container]) -> StackState:
    """A stack's state from its members': their common status when they share
    one, else `starting` (partly up: neither on nor off), with the members that
    run and those that do not as attributes. One-shot jobs are left out: they
    exit once done."""
    jobs = {s for s, condition in awaited(members).items() if condition == COMPLETED}
    lasting = [c for c in members if c.service not in jobs] or members
    statuses = {c.status for c in lasting}
    status = statuses.pop() if len(statuses) == 1 else ResourceStatus.STARTING
    return StackState(
        status=status,
        containers=len(members),
        running=tuple(c.name for c in members if c.running),
        not_running=tuple(c.name for c in members if not c.running),
    )
