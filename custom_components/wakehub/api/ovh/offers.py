"""What a VPS could become: its migration to a newer range, the models it can be
upgraded to. WakeHub only shows them: ordering stays in OVHcloud's manager.

The API describes the migration of the 2016/2018 ranges (`migration2018`; the
2016 call is deprecated); the specification's `migration2020` does not exist in
it. A VPS of another range answers 404 or 400 there: no migration, not an error.
"""

from __future__ import annotations

from dataclasses import dataclass
import datetime as dt
from typing import Any

from ..errors import WakeHubError
from ..fields import items, opt_int, opt_obj, opt_str
from .models import parse_datetime
from .transport import OvhTransport, vps_path
from .values import aware, is_gone


@dataclass(frozen=True, slots=True)
class MigrationPlan:
    current_plan: str | None
    new_plan: str | None
    product: str | None


@dataclass(frozen=True, slots=True)
class Migration:
    """`vps.migration.VPS2018to2020`: available, notAvailable, toPlan, planned, ongoing."""

    status: str | None
    date: dt.datetime | None
    datacenter: str | None
    plans: tuple[MigrationPlan, ...]


@dataclass(frozen=True, slots=True)
class UpgradeModel:
    """A model (`vps.Model`) this VPS can be upgraded to."""

    name: str | None
    offer: str | None
    vcore: int | None
    memory: int | None
    disk: int | None
    version: str | None


def parse_model(payload: Any) -> UpgradeModel:
    data = opt_obj(payload)
    return UpgradeModel(
        name=opt_str(data.get("name")),
        offer=opt_str(data.get("offer")),
        vcore=opt_int(data.get("vcore")),
        memory=opt_int(data.get("memory")),
        disk=opt_int(data.get("disk")),
        version=opt_str(data.get("version")),
    )


class OffersReader(OvhTransport):
    """Migration and upgrades on offer for a VPS."""

    async def migration(self, service: str) -> Migration | None:
        """The migration on offer; None when the API has none for this range."""
        try:
            answer = await self._call("GET", vps_path(service, "migration2018"))
        except WakeHubError as err:
            if is_gone(err):
                return None
            raise
        data = opt_obj(answer)
        plans = tuple(
            MigrationPlan(
                current_plan=opt_str(plan.get("currentPlan")),
                new_plan=opt_str(plan.get("newPlan")),
                product=opt_str(plan.get("product")),
            )
            for plan in map(opt_obj, data.get("plans") or [])
        )
        return Migration(
            status=opt_str(data.get("status")),
            date=aware(parse_datetime(data.get("date"))),
            datacenter=opt_str(data.get("datacenter")),
            plans=plans,
        )

    async def available_upgrades(self, service: str) -> list[UpgradeModel]:
        answer = await self._call("GET", vps_path(service, "availableUpgrade"))
        return [parse_model(m) for m in items(answer, f"the upgrades of {service}")]
