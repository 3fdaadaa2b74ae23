"""The slow cycle of a VPS: billing, IPs, location, image, snapshot, backups, usage."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Final

from ..errors import ApiError, NotFound, PermissionDenied
from ..fields import items, opt_obj, opt_str, text
from .error_map import ServiceExpired
from .models import (
    AutomatedBackup,
    Datacenter,
    Image,
    ServiceInfo,
    Snapshot,
    VpsDetails,
    VpsUsage,
    opt_bool,
    parse_date,
    parse_datetime,
    parse_usage_value,
)
from .transport import OvhTransport, vps_path

_USAGE_TYPES: Final = ("cpu:used", "mem:used", "net:rx", "net:tx")


class DetailsReader(OvhTransport):
    """The slow cycle: what changes rarely, read hourly."""

    async def get_details(
        self, service: str, *, include_usage: bool = True
    ) -> VpsDetails:
        """What changes rarely: billing, IPs, location, image, snapshot, backups."""
        try:
            async with asyncio.TaskGroup() as group:
                service_info = group.create_task(self.service_info(service))
                ips = group.create_task(self.ips(service))
                datacenter = group.create_task(self.datacenter(service))
                image = group.create_task(self.current_image(service))
                snapshot = group.create_task(self.get_snapshot(service))
                backup = group.create_task(self.automated_backup(service))
                usage = group.create_task(
                    self.usage(service) if include_usage else _none()
                )
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
            automated_backup=backup.result(),
            usage=usage.result(),
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

    async def automated_backup(self, service: str) -> AutomatedBackup | None:
        """Automated backup option and its restore points; None without the option."""
        try:
            data = opt_obj(
                await self._call("GET", vps_path(service, "automatedBackup"))
            )
        except NotFound:
            return None
        state = opt_str(data.get("state"))
        points: tuple[dt.datetime, ...] = ()
        if state == "enabled":
            answer = await self._call(
                "GET",
                vps_path(service, "automatedBackup/restorePoints"),
                query={"state": "available"},
            )
            listed = items(answer, f"the restore points of {service}")
            points = tuple(p for p in map(parse_datetime, listed) if p is not None)
        return AutomatedBackup(
            state=state, schedule=opt_str(data.get("schedule")), restore_points=points
        )

    async def usage(self, service: str) -> VpsUsage | None:
        """CPU, memory and network use from `/use` (deprecated by OVH).

        Returns None, without raising, once OVH stops serving it (404, 400, 410...),
        so the sensors become unavailable rather than the whole VPS.
        """
        try:
            values = await asyncio.gather(
                *(
                    self._call("GET", vps_path(service, "use"), query={"type": kind})
                    for kind in _USAGE_TYPES
                )
            )
        except NotFound, PermissionDenied:
            return None
        except ApiError as err:
            if isinstance(err, ServiceExpired) or (
                isinstance(err.code, int) and err.code >= 500
            ):
                raise
            return None
        cpu, memory, net_rx, net_tx = (parse_usage_value(v) for v in values)
        return VpsUsage(cpu=cpu, memory=memory, net_rx=net_rx, net_tx=net_tx)


async def _none() -> None:
    return None
