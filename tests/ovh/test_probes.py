"""A VPS's start or stop is probed on that VPS alone."""

from __future__ import annotations

from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import MockConfigEntry

from tests.simulators.ovh import OvhSimulator

from .conftest import vps_named


async def test_stop_is_probed_on_the_vps_alone(
    hass: HomeAssistant, init_ovh: MockConfigEntry, ovh_sim: OvhSimulator
) -> None:
    """Stopping `web` of three VPSes: its probe reads `web` alone (its state and
    running tasks); the others are read once, by the poll that ends the change."""
    web, db, mail = (vps_named(ovh_sim, name) for name in ("web", "db", "mail"))
    ovh_sim.requests.clear()
    await hass.services.async_call(
        "switch", "turn_off", {"entity_id": "switch.web"}, blocking=True
    )
    await hass.async_block_till_done()
    assert hass.states.get("switch.web").state == "off"
    reads = [
        r.path
        for r in ovh_sim.requests
        if r.method == "GET" and "/tasks/" not in r.path
    ]
    one = [f"/1.0/vps/{web}", f"/1.0/vps/{web}/tasks"]
    # The probe when OVH's task is done (its two requests run concurrently),
    # then the one full poll.
    assert sorted(reads[:2]) == one
    others = [
        f"/1.0/vps/{sn}{suffix}" for sn in (db, mail) for suffix in ("", "/tasks")
    ]
    assert sorted(reads[2:]) == sorted([*one, *others])
