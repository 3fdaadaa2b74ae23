"""Docker entry and subentry keys, resource keys, timings."""

from __future__ import annotations

import datetime as dt
import logging

from homeassistant.config_entries import (
    ConfigEntry,
)

_LOGGER = logging.getLogger(__name__)


CONF_CA_CERT = "ca_cert"
CONF_CLIENT_CERT = "client_cert"
CONF_CLIENT_KEY = "client_key"
CONF_STATS = "stats"
CONF_CONTAINER = "container"  # subentry data: the container's name
CONF_STACK = "stack"  # subentry data of a stack: its compose project
# Subentry data: seconds between SIGTERM and SIGKILL on stop and restart
# (absent: the container's own stop timeout, as `docker stop`).
CONF_STOP_GRACE = "stop_grace"
SUBENTRY_CONTAINER = "container"

# Stats requests in flight at once. The engine answers every request waiting on
# its collection tick together (its work is per container, not per request), so
# each extra batch would only cost one more second: send them all at once.
STATS_CONCURRENCY = 64
# Stats are sampled at most this often (the polling interval when it is longer).
STATS_INTERVAL = dt.timedelta(seconds=60)
# Inspects (boot time of a container that just (re)started) in flight at once.
INSPECT_CONCURRENCY = 8
POLL_TIMEOUT = 10.0


def followed_containers(entry: ConfigEntry) -> dict[str, str]:
    """Container name -> subentry id, for every container subentry."""
    return {
        str(sub.data.get(CONF_CONTAINER, sub.unique_id)): sub.subentry_id
        for sub in entry.subentries.values()
        if sub.subentry_type == SUBENTRY_CONTAINER and CONF_STACK not in sub.data
    }


def followed_stacks(entry: ConfigEntry) -> dict[str, str]:
    """Compose project -> subentry id, for every stack followed."""
    return {
        str(sub.data[CONF_STACK]): sub.subentry_id
        for sub in entry.subentries.values()
        if sub.subentry_type == SUBENTRY_CONTAINER and CONF_STACK in sub.data
    }


def container_key(engine_id: str, name: str) -> str:
    return f"{engine_id}_{name}"


def stack_key(engine_id: str, project: str) -> str:
    # ":" never appears in a container name: no clash with container_key.
    return f"{engine_id}_stack:{project}"


def missing_issue_id(entry: ConfigEntry, name: str) -> str:
    return f"docker_container_missing_{entry.entry_id}_{name}"


def missing_stack_issue_id(entry: ConfigEntry, project: str) -> str:
    return f"docker_stack_missing_{entry.entry_id}_{project}"
