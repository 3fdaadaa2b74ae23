"""Constants of the WakeHub integration."""

from __future__ import annotations

from datetime import timedelta
from typing import Final

DOMAIN: Final = "wakehub"

# Kinds of server (one config entry each); the `user` step's menu.
CONF_KIND: Final = "kind"
KIND_MACHINE: Final = "machine"
KIND_PROXMOX: Final = "proxmox"
KIND_DOCKER: Final = "docker"
KIND_OVH: Final = "ovh"

# Machine fields (DESIGN.md: these keys are a contract).
CONF_MAC: Final = "mac"
CONF_BROADCAST_ADDRESS: Final = "broadcast_address"
CONF_BROADCAST_PORT: Final = "broadcast_port"
CONF_SSH_PORT: Final = "ssh_port"
CONF_PRIVATE_KEY: Final = "private_key"
CONF_PRIVATE_KEY_PASSPHRASE: Final = "private_key_passphrase"
CONF_SHUTDOWN_COMMAND: Final = "shutdown_command"
CONF_REBOOT_COMMAND: Final = "reboot_command"
CONF_HOST_KEY: Final = "host_key"
# The pinned SHA-256 fingerprint of a server's TLS certificate (Proxmox, Docker).
CONF_FINGERPRINT: Final = "fingerprint"

DEFAULT_BROADCAST_ADDRESS: Final = "255.255.255.255"
DEFAULT_BROADCAST_PORT: Final = 9
DEFAULT_SSH_PORT: Final = 22

# Options
CONF_TIMEOUT: Final = "timeout"
CONF_SCAN_INTERVAL: Final = "scan_interval"
DEFAULT_TIMEOUT: Final = 300  # seconds a start or stop may take before it fails
DEFAULT_SCAN_INTERVAL: Final = 30  # seconds between polls when nothing happens

# While a start or stop is under way the resource is probed this often, so each
# layer of a cascade is seen up within a quarter of a second of answering (a
# probe is one TCP connect, or one request for a whole Proxmox cluster).
PROBE_INTERVAL: Final = timedelta(seconds=0.25)

# Action (service) names and fields
SERVICE_START: Final = "start"
SERVICE_STOP: Final = "stop"
SERVICE_REBOOT: Final = "reboot"
ATTR_CASCADE: Final = "cascade"

EVENT_POWER: Final = "wakehub_power"

# Secrets every diagnostics dump redacts, whatever the kind of entry.
TO_REDACT: Final = {
    "password",
    CONF_PRIVATE_KEY,
    CONF_PRIVATE_KEY_PASSPHRASE,
    "token_secret",
    "application_secret",
    "consumer_key",
    "client_key",
    "api_key",
    "wake_token",  # wake on access (wake/const.py)
}

# Host links (what a server runs on) and explicit dependencies, stored as
# entity-registry ids of WakeHub power switches so renames do not break them.
CONF_HOST_LINKS: Final = "host_links"  # proxmox: {node name: registry id}
CONF_HOST_LINK: Final = "host_link"  # docker: registry id of the VM/machine
CONF_DEPENDENCIES: Final = "dependencies"  # [registry id, ...]

# Per-resource power settings (machine: entry options; others: subentry data).
CONF_STOP_WITH_DEPENDENTS: Final = "stop_with_dependents"
CONF_IDLE_TIMEOUT: Final = "idle_timeout"  # minutes; 0 disables
CONF_CPU_THRESHOLD: Final = "cpu_threshold"  # percent; active above it
CONF_NETWORK_THRESHOLD: Final = "network_threshold"  # kB/s in + out; active above it
CONF_KEEP_AWAKE: Final = "keep_awake"  # entity ids keeping the resource active
DEFAULT_IDLE_TIMEOUT: Final = 30
DEFAULT_STOP_WITH_DEPENDENTS: Final = True
