"""Docker engines: one entry per engine, one subentry per followed container.

Containers are followed by *name*: `docker compose up` recreates a container under
a new id and the same name, and its entities keep working. A followed container
that disappears is unavailable and raises a (self-resolving) repair issue.

One poll is one `GET /containers/json?all=1`, plus an inspect only when a
container (re)started (its boot time): the state of every container in a few
milliseconds. Stats (CPU, memory, network), when the entry's `stats` option is
on, are sampled on their own slower schedule (STATS_INTERVAL, or the polling
interval when longer), in a task of their own after a poll, never while a start,
stop or reboot of one of the engine's containers is under way: the engine
answers a stats request only on its next once-a-second collection tick, which
must not delay seeing the outcome of an action. One sample is one stats request
per followed running container, all sent at once, so it costs one tick.

A stop is `docker stop`'s: SIGTERM, then SIGKILL after the container's own stop
timeout (`StopTimeout`, else the engine's default), or after the container's
`stop_grace` setting when the user set one. The resource's start/stop timeout
only bounds how long WakeHub waits for the outcome. A container that is never
to be killed (`--stop-timeout -1`: the engine would wait for ever) is sent its
stop signal alone, and WakeHub's timeout bounds the wait. Actions name a
container by its name, except a hex-only name ("db"), which the engine would
read as another container's id prefix once it is removed: it is resolved to
its container's id first (DockerClient.resolve).

A compose stack (the containers labelled with one `com.docker.compose.project`)
can be followed as one resource: a container subentry holding `stack` (the
project) instead of `container`. Its members are found by their labels at each
poll, so `docker compose up` recreating them changes nothing. It starts them in
dependency order (the `com.docker.compose.depends_on` label) and stops them in
reverse, each with the stop rule above; it runs when all of them run. A
service others wait for with the condition `service_healthy` must be healthy,
one they wait for with `service_completed_successfully` (a one-shot job:
migrations, init) must have exited with 0, before they start; such jobs do not
count in the stack's state.

Modules: `const` (keys and timings), `client`, `compose` (stack order),
`state` (typed states), `descriptions` (their entities), `coordinator`,
`resources` (engine, container, stack), `setup`, `flow` (its wizard).
"""

from __future__ import annotations

from ...const import KIND_DOCKER
from ..kind import Kind
from .client import create_client
from .const import CONF_CLIENT_KEY, SUBENTRY_CONTAINER
from .descriptions import CONTAINER, ENGINE, STACK
from .setup import async_setup_kind

KIND = Kind(
    name=KIND_DOCKER,
    setup=async_setup_kind,
    create_client=create_client,
    subentry_type=SUBENTRY_CONTAINER,
    secret_fields=frozenset({CONF_CLIENT_KEY}),
    resources={"engine": ENGINE, "container": CONTAINER, "stack": STACK},
)

__all__ = ["KIND"]
