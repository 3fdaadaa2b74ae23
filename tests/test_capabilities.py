"""Each kind's features come from the capabilities its resource class implements."""

from __future__ import annotations

import pytest

from custom_components.wakehub.features import ResourceFeature as F
from custom_components.wakehub.kinds.docker.resources import (
    ContainerResource,
    DockerEngineResource,
    StackResource,
)
from custom_components.wakehub.kinds.machine import MachineResource
from custom_components.wakehub.kinds.ovh.vps import OvhVpsResource
from custom_components.wakehub.kinds.proxmox.guest import ProxmoxGuestResource
from custom_components.wakehub.kinds.proxmox.node import ProxmoxNodeResource
from custom_components.wakehub.resource import Resource


@pytest.mark.parametrize(
    ("cls", "features"),
    [
        (MachineResource, F.POWER | F.REBOOT),
        (DockerEngineResource, F(0)),
        (ContainerResource, F.POWER | F.REBOOT | F.FORCE_STOP | F.PAUSE),
        (StackResource, F.POWER),
        (ProxmoxNodeResource, F.POWER | F.REBOOT),
        (
            ProxmoxGuestResource,
            F.POWER | F.REBOOT | F.FORCE_STOP | F.RESET | F.SNAPSHOTS | F.BACKUP,
        ),
        (
            OvhVpsResource,
            F.POWER
            | F.REBOOT
            | F.SNAPSHOTS
            | F.RESCUE
            | F.CONSOLE
            | F.REBUILD
            | F.RESET_PASSWORD,
        ),
    ],
)
def test_features_are_the_implemented_capabilities(
    cls: type[Resource], features: F
) -> None:
    """The flags (which entities and actions exist) match the methods written."""
    assert cls.features == features
