"""The secondary DNS actions: which domains OVHcloud serves as secondary."""

from __future__ import annotations

import asyncio
import ipaddress
from typing import Any, Final

from homeassistant.core import ServiceCall, SupportsResponse

from ..kinds.ovh.vps import OvhVpsResource
from ..schema import vol
from .action import OvhAction

ATTR_DOMAIN: Final = "domain"
ATTR_IP: Final = "ip"


def _ipv4(value: Any) -> str:
    try:
        return str(ipaddress.IPv4Address(str(value).strip()))
    except ValueError as err:
        raise vol.Invalid(f"not an IPv4 address: {value}") from err


def _domain(value: Any) -> str:
    domain = str(value).strip().rstrip(".").lower()
    labels = domain.split(".")
    if len(labels) < 2 or not all(
        0 < len(label) < 64 and label.replace("-", "").isalnum() and label.isascii()
        for label in labels
    ):
        raise vol.Invalid(f"not a domain name: {value}")
    return domain


async def list_secondary_dns(vps: OvhVpsResource, call: ServiceCall) -> dict[str, Any]:
    domains, server = await asyncio.gather(
        vps.client.secondary_domains(vps.key),
        vps.client.secondary_name_server(vps.key),
    )
    return {
        "name_server": {
            "hostname": server.hostname,
            "ip": server.ip,
            "ipv6": server.ipv6,
        },
        "domains": [
            {
                "domain": d.domain,
                "dns": d.dns,
                "ip_master": d.ip_master,
                "created": d.created.isoformat() if d.created else None,
            }
            for d in domains
        ],
    }


async def add_secondary_dns(vps: OvhVpsResource, call: ServiceCall) -> dict[str, Any]:
    domain: str = call.data[ATTR_DOMAIN]
    await vps.client.add_secondary_domain(vps.key, domain, call.data.get(ATTR_IP))
    server = await vps.client.secondary_name_server(vps.key)
    return {
        "domain": domain,
        "name_server": server.hostname,
        "message": f"Declare {server.hostname} as a name server of {domain} "
        "at its registrar.",
    }


async def remove_secondary_dns(
    vps: OvhVpsResource, call: ServiceCall
) -> dict[str, Any]:
    domain: str = call.data[ATTR_DOMAIN]
    await vps.client.remove_secondary_domain(vps.key, domain)
    return {"domain": domain}


_DOMAIN: Final = {vol.Required(ATTR_DOMAIN): _domain}
SECONDARY_DNS_ACTIONS: Final = (
    OvhAction(
        name="list_secondary_dns",
        act=list_secondary_dns,
        response=SupportsResponse.ONLY,
    ),
    OvhAction(
        name="add_secondary_dns",
        act=add_secondary_dns,
        fields={**_DOMAIN, vol.Optional(ATTR_IP): _ipv4},
    ),
    OvhAction(name="remove_secondary_dns", act=remove_secondary_dns, fields=_DOMAIN),
)
