"""The slow cycle of a VPS: billing, IPs, location, image, snapshot."""

from __future__ import annotations

import asyncio

from ..errors import ApiError, NotFound
from ..fields import items, opt_obj, opt_str, text
from .models import (
    Datacenter,
    Image,
    ServiceInfo,
    Snapshot,
    VpsDetails,
    opt_bool,
    parse_date,
    parse_datetime,
)
from .transport import OvhTransport, vps_path


class DetailsReader(OvhTransport):
    """The slow cycle: what changes rarely, read hourly."""

    async def get_details(self, service: str) -> VpsDetails:
        """What changes rarely: billing, IPs, location, image, snapshot.

        The automated backup and the figures are the VPS manager's (read on
        their own cycle by kinds/ovh/manager/), not read here again.
        """
        try:
            async with asyncio.TaskGroup() as group:
                service_info = group.create_task(self.service_info(service))
                ips = group.create_task(self.ips(service))
                datacenter = group.create_task(self.datacenter(service))
                image = group.create_task(self.current_image(service))
                snapshot = group.create_task(self.get_snapshot(service))
        except ExceptionGroup as errors:
            # One request failed: report the first error as any other call would.
            raise errors.exceptions[0] from None
        addresses = ips.result()
        return VpsDetails(
            service_info=service_info.result(),
            ipv4=tuple(ip for ip in addresses if ":" not in ip),
            ipv6=tuple(ip for ip in addresses if ":" in ip),
            datacenter=datacenter.result(),
            image=image.result(),
            snapshot=snapshot.result(),
        )

    async def service_info(self, service: str) -> ServiceInfo:
        data = opt_obj(await self._call("GET", vps_path(service, "serviceInfos")))
        return ServiceInfo(
            status=opt_str(data.get("status")),
            expiration=parse_date(data.get("expiration")),
            creation=parse_date(data.get("creation")),
            automatic_renew=opt_bool(opt_obj(data.get("renew")).get("automatic")),
        )

    async def ips(self, service: str) -> list[str]:
        answer = await self._call("GET", vps_path(service, "ips"))
        return [
            ip for ip in items(answer, f"the IPs of {service}") if isinstance(ip, str)
        ]

    async def datacenter(self, service: str) -> Datacenter:
        data = opt_obj(await self._call("GET", vps_path(service, "datacenter")))
        return Datacenter(
            name=opt_str(data.get("name")),
            long_name=opt_str(data.get("longName")),
            country=opt_str(data.get("country")),
        )

    async def current_image(self, service: str) -> Image | None:
        """Installed image (2025 range), else the older `distribution` template."""
        try:
            data = opt_obj(await self._call("GET", vps_path(service, "images/current")))
        except NotFound:
            data = {}
        except ApiError as err:
            if err.code != 400:
                raise
            data = {}
        if data.get("id"):
            return Image(id=text(data["id"]), name=opt_str(data.get("name")))
        try:
            template = opt_obj(
                await self._call("GET", vps_path(service, "distribution"))
            )
        except NotFound:
            return None
        if not template:
            return None
        return Image(id=text(template.get("id")), name=opt_str(template.get("name")))

    async def get_snapshot(self, service: str) -> Snapshot | None:
        """The VPS's snapshot, or None (OVH answers 404 when there is none)."""
        try:
            data = opt_obj(await self._call("GET", vps_path(service, "snapshot")))
        except NotFound:
            return None
        return Snapshot(
            id=opt_str(data.get("id")),
            description=opt_str(data.get("description")),
            creation_date=parse_datetime(data.get("creationDate")),
            region=opt_str(data.get("region")),
        )
