"""What the Docker client returns: typed dataclasses, the state vocabulary, and
the small parsers of the engine's texts. They are pure functions, and a value of
the wrong type or format reads as None (or is left out), never an error; only
`parse_version` raises (ValueError), so negotiation can say "not Docker"."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
import datetime as dt
import re
from typing import Any

from ..fields import opt_obj, opt_str
from ..models import ResourceStatus

# Labels `docker compose` puts on the containers of a project (a "stack").
COMPOSE_PROJECT = "com.docker.compose.project"
COMPOSE_SERVICE = "com.docker.compose.service"
# "db:service_healthy:false,cache:service_started:true": service:condition:restart.
COMPOSE_DEPENDS_ON = "com.docker.compose.depends_on"
# "True" on the throwaway containers of `docker compose run`: not stack members.
COMPOSE_ONEOFF = "com.docker.compose.oneoff"
#: The OCI label an image carries its release in (linuxserver and most official
#: images set it); a container's labels include its image's.
OCI_VERSION = "org.opencontainers.image.version"


STATE_MAP: Mapping[str, ResourceStatus] = {
    "running": ResourceStatus.RUNNING,
    "exited": ResourceStatus.STOPPED,
    "created": ResourceStatus.STOPPED,
    "dead": ResourceStatus.STOPPED,
    "paused": ResourceStatus.PAUSED,
    "restarting": ResourceStatus.REBOOTING,
    "removing": ResourceStatus.STOPPING,
}


def map_state(state: str) -> ResourceStatus:
    """Docker's container state to the fleet's status vocabulary."""
    return STATE_MAP.get(state.lower(), ResourceStatus.UNKNOWN)


@dataclass(frozen=True, kw_only=True)
class EngineInfo:
    """Who answered: `id` is the engine's stable ID (the config entry unique id)."""

    id: str
    name: str
    server_version: str
    api_version: str  # the negotiated version the client speaks
    operating_system: str
    os_type: str | None
    architecture: str | None


@dataclass(frozen=True, kw_only=True)
class Container:
    """One container from the list. `name` is the stable handle; `id` changes
    when the container is recreated."""

    name: str
    id: str
    image: str
    state: str  # Docker's raw state: running, exited, paused, ...
    status_text: str  # Docker's human status: "Up 3 hours (healthy)"
    created: dt.datetime
    health: str | None  # healthy, unhealthy, starting; None without healthcheck
    #: The container's labels (string values only); not part of its hash.
    labels: Mapping[str, str] = field(default_factory=dict, hash=False)

    @property
    def status(self) -> ResourceStatus:
        """The shared status vocabulary."""
        return map_state(self.state)

    @property
    def running(self) -> bool:
        return self.state == "running"

    @property
    def version(self) -> str | None:
        """The release it runs (its device's software version)."""
        return image_version(self.image, self.labels)

    @property
    def exit_code(self) -> int | None:
        """Its last exit code, from the list's "Exited (0) ..." (None otherwise)."""
        match = EXITED.match(self.status_text)
        return int(match.group(1)) if match else None

    @property
    def project(self) -> str | None:
        """The compose project (stack) it belongs to; None for `compose run`'s
        one-off containers and containers compose did not create."""
        if self.labels.get(COMPOSE_ONEOFF, "").lower() == "true":
            return None
        return self.labels.get(COMPOSE_PROJECT) or None

    @property
    def service(self) -> str:
        """Its compose service (the container's name when it has none)."""
        return self.labels.get(COMPOSE_SERVICE) or self.name

    @property
    def depends_on(self) -> dict[str, str]:
        """The services it needs first, with compose's condition for each."""
        return parse_depends_on(self.labels.get(COMPOSE_DEPENDS_ON, ""))


@dataclass(frozen=True, kw_only=True)
class ContainerStats:
    """One stats sample. Counters are cumulative bytes since the container started."""

    cpu_percent: float | None  # None on a container's first sample
    memory_usage: int | None  # bytes, page cache excluded (as `docker stats`)
    memory_limit: int | None
    network_rx: int | None  # None when the container has no network
    network_tx: int | None


@dataclass(frozen=True, kw_only=True)
class ContainerDetails:
    """What inspect adds to the list: boot time, the healthcheck's own status, and
    the container's own stop timeout (seconds; None: the engine's default)."""

    id: str
    name: str
    state: str
    started_at: dt.datetime | None
    health: str | None
    stop_timeout: int | None = None
    #: The signal `docker stop` sends first (Config.StopSignal; None: SIGTERM).
    stop_signal: str | None = None
    #: The exit code of its last run (State.ExitCode; 0 while it runs).
    exit_code: int | None = None


# -- small parsers (pure functions, tested directly) ----------------------------
MAX_TAG = 128  # Docker's longest tag
EXITED = re.compile(r"^Exited \((-?\d+)\)")
HEALTH_IN_STATUS = re.compile(r"\((healthy|unhealthy|health: starting)\)")
UP_FOR = re.compile(r"^Up (.+?)(?: \(.*\))?$")
DURATION_UNITS = {
    "second": 1,
    "minute": 60,
    "hour": 3600,
    "day": 86400,
    "week": 7 * 86400,
    "month": 30 * 86400,
    "year": 365 * 86400,
}


def parse_version(version: str) -> tuple[int, int]:
    """'1.41' -> (1, 41); ValueError when it is not a version."""
    major, _, minor = version.strip().partition(".")
    return int(major), int(minor)


def image_version(image: str, labels: Mapping[str, str]) -> str | None:
    """An image's release: its OCI version label, else the reference's tag
    ("jellyfin/jellyfin:10.10" -> "10.10"); None for "latest", an untagged
    reference ("registry:5000/app") or a bare image id ("sha256:...")."""
    label = labels.get(OCI_VERSION, "").strip()
    if label and len(label) <= MAX_TAG and label.isprintable():
        return label
    name, colon, tag = image.split("@", 1)[0].rpartition(":")
    if not colon or name == "sha256" or not 0 < len(tag) <= MAX_TAG:
        return None
    if "/" in tag or tag == "latest" or not tag.isprintable():
        return None
    return tag


def health_from_status(status_text: str) -> str | None:
    """Health from the list's `Status` text: "Up 2 hours (healthy)" -> healthy."""
    match = HEALTH_IN_STATUS.search(status_text)
    if match is None:
        return None
    return "starting" if match.group(1) == "health: starting" else match.group(1)


def parse_depends_on(label: str) -> dict[str, str]:
    """Compose's depends_on label, "svc:condition:restart,..." -> {svc: condition}.

    The condition defaults to "service_started" when missing (older compose).
    """
    needs: dict[str, str] = {}
    for part in label.split(","):
        service, _, rest = part.strip().partition(":")
        if service:
            needs[service] = rest.partition(":")[0] or "service_started"
    return needs


def parse_labels(value: Any) -> dict[str, str]:
    """The list's `Labels` object; anything not a string is left out."""
    return {
        str(key): label
        for key, raw in opt_obj(value).items()
        if (label := opt_str(raw)) is not None
    }


def max_uptime(status_text: str) -> float | None:
    """Upper bound, in seconds, of the uptime in "Up 3 hours": Docker rounds the
    duration (go-units HumanDuration), so "Up 3 hours" is less than 4 hours."""
    match = UP_FOR.match(status_text)
    if match is None:
        return None
    text = match.group(1).lower()
    if text.startswith("less than a second"):
        return 1.0
    amount, _, unit = text.partition(" ")
    count = (
        1
        if amount in ("about", "a", "an")
        else int(amount)
        if amount.isdigit()
        else None
    )
    unit = unit.removeprefix("a ").removeprefix("an ").rstrip("s")
    if count is None or unit not in DURATION_UNITS:
        return None
    return (count + 1) * DURATION_UNITS[unit]


def parse_timestamp(value: str | None) -> dt.datetime | None:
    """Docker's RFC 3339 with nanoseconds; the zero time means 'never'.

    Anything else (another format, the 31st of February) is None, not an error.
    """
    if not value or value.startswith("0001-01-01"):
        return None
    match = re.match(
        r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(\.\d+)?(Z|[+-]\d\d:\d\d)$", value
    )
    if match is None:
        return None
    fraction = (match.group(2) or ".0")[:7]  # Python keeps microseconds
    zone = "+00:00" if match.group(3) == "Z" else match.group(3)
    try:
        return dt.datetime.fromisoformat(match.group(1) + fraction + zone)
    except ValueError:
        return None


def parse_created(seconds: int | None) -> dt.datetime:
    """The list's `Created` (Unix seconds); the epoch when absent or absurd."""
    try:
        return dt.datetime.fromtimestamp(seconds or 0, dt.UTC)
    except OverflowError, OSError, ValueError:
        return dt.datetime.fromtimestamp(0, dt.UTC)
