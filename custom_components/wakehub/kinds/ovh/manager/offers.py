"""What OVHcloud offers the VPS (a migration, upgrades): how it is read, and
its sensors."""

from __future__ import annotations

import asyncio
from typing import Any, Final

from homeassistant.components.sensor import SensorDeviceClass
from homeassistant.const import EntityCategory

from ....api.errors import WakeHubError
from ....api.ovh import OvhClient
from ....api.ovh.offers import UpgradeModel
from ....api.ovh.values import is_gone
from ....descriptions import WakeHubSensorEntityDescription
from ..state import OvhVpsState
from .data import PART_OFFERS, Offers, VpsManagerData
from .values import attributes, exists, part_value

# OVH's migration states, as the sensor's options (translation keys are snake_case).
_MIGRATION_STATES: Final[dict[str, str]] = {
    "available": "available",
    "notAvailable": "not_available",
    "toPlan": "to_plan",
    "planned": "planned",
    "ongoing": "ongoing",
}


async def read_offers(client: OvhClient, service: str) -> Offers:
    """2 requests: the migration on offer and the models to upgrade to."""
    migration, upgrades = await asyncio.gather(
        client.migration(service), _upgrades(client, service)
    )
    return Offers(migration=migration, upgrades=upgrades)


async def _upgrades(client: OvhClient, service: str) -> tuple[UpgradeModel, ...]:
    try:
        return tuple(await client.available_upgrades(service))
    except WakeHubError as err:
        if is_gone(err):
            return ()
        raise


def _upgrade_attributes(data: VpsManagerData) -> dict[str, Any]:
    upgrades = data.offers.upgrades if data.offers else ()
    return {
        "models": [
            {
                "name": u.name,
                "vcores": u.vcore,
                "memory_mb": u.memory,
                "disk_gb": u.disk,
            }
            for u in upgrades
        ],
        "manager_url": data.manager_url,
    }


def _migration_attributes(data: VpsManagerData) -> dict[str, Any] | None:
    migration = data.offers.migration if data.offers else None
    if migration is None:
        return None
    return {
        "date": migration.date.isoformat() if migration.date else None,
        "plans": [p.new_plan for p in migration.plans],
        "manager_url": data.manager_url,
    }


OFFER_SENSORS = (
    WakeHubSensorEntityDescription[OvhVpsState](
        key="migration",
        translation_key="migration",
        device_class=SensorDeviceClass.ENUM,
        options=list(_MIGRATION_STATES.values()),
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=part_value(
            PART_OFFERS,
            lambda d: (
                _MIGRATION_STATES.get(d.offers.migration.status or "")
                if d.offers and d.offers.migration
                else None
            ),
        ),
        attr_fn=attributes(_migration_attributes),
        exists_fn=exists(
            lambda d: d.offers is not None and d.offers.migration is not None
        ),
    ),
    WakeHubSensorEntityDescription[OvhVpsState](
        key="available_upgrades",
        translation_key="available_upgrades",
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=part_value(
            PART_OFFERS, lambda d: len(d.offers.upgrades) if d.offers else None
        ),
        attr_fn=attributes(_upgrade_attributes),
        exists_fn=exists(lambda d: d.offers is not None),
    ),
)
