"""Secondary DNS of a VPS: the domains OVH serves as secondary, adding and
removing one, and the name server to declare at the registrar."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
import datetime as dt
from urllib.parse import quote

from ..fields import items, obj, opt_obj, opt_str
from .models import parse_datetime
from .transport import OvhTransport, vps_path
from .values import aware


@dataclass(frozen=True, slots=True)
class SecondaryDomain:
    """A domain OVH serves as secondary: its server and the master it copies."""

    domain: str
    dns: str | None
    ip_master: str | None
    created: dt.datetime | None


@dataclass(frozen=True, slots=True)
class NameServer:
    """The secondary name server to declare for a domain of this VPS."""

    hostname: str | None
    ip: str | None
    ipv6: str | None


def _domain_path(service: str, domain: str) -> str:
    return vps_path(service, f"secondaryDnsDomains/{quote(domain, safe='')}")


class DnsManager(OvhTransport):
    """Secondary DNS domains of a VPS."""

    async def secondary_domains(self, service: str) -> list[SecondaryDomain]:
        """Every domain with its details (the list, then one request each)."""
        answer = await self._call("GET", vps_path(service, "secondaryDnsDomains"))
        names = [
            d
            for d in items(answer, f"the secondary DNS domains of {service}")
            if isinstance(d, str)
        ]
        details = await asyncio.gather(
            *(self._call("GET", _domain_path(service, name)) for name in names)
        )
        result = []
        for name, payload in zip(names, details, strict=True):
            data = opt_obj(payload)
            result.append(
                SecondaryDomain(
                    domain=opt_str(data.get("domain")) or name,
                    dns=opt_str(data.get("dns")),
                    ip_master=opt_str(data.get("ipMaster")),
                    created=aware(parse_datetime(data.get("creationDate"))),
                )
            )
        return result

    async def add_secondary_domain(
        self, service: str, domain: str, ip: str | None = None
    ) -> None:
        """Serve `domain` as secondary; `ip` is its master (the VPS by default)."""
        body = {"domain": domain} | ({"ip": ip} if ip else {})
        await self._call("POST", vps_path(service, "secondaryDnsDomains"), body=body)

    async def remove_secondary_domain(self, service: str, domain: str) -> None:
        await self._call("DELETE", _domain_path(service, domain))

    async def secondary_name_server(self, service: str) -> NameServer:
        answer = await self._call(
            "GET", vps_path(service, "secondaryDnsNameServerAvailable")
        )
        data = obj(answer, f"the secondary name server of {service}")
        return NameServer(
            hostname=opt_str(data.get("hostname")),
            ip=opt_str(data.get("ip")),
            ipv6=opt_str(data.get("ipv6")),
        )
