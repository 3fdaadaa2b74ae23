"""Actions on one guest: power, snapshots, backups; a guest that migrated to
another node is found again by vmid and the request retried once."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from ..errors import InvalidResponse, NotFound
from ..fields import flag, objects, opt_int, opt_str, required_str, text
from .connection import ProxmoxConnection
from .models import (
    PAUSED_RUN_STATES,
    ActionNotSupported,
    BackupCompress,
    BackupMode,
    GuestLike,
    PowerAction,
    ProxmoxGuest,
    ProxmoxSnapshot,
    validate_snapshot_name,
)
from .parsers import parse_guest, tree_order

# Task states of a backup that produced an archive ("WARNINGS: n" still did).
BACKUP_OK_STATUSES: Final = "ok,warning"


class GuestActions(ProxmoxConnection):
    """Power, snapshot and backup requests on guests, following migrations."""

    async def locate(self, vmid: int) -> ProxmoxGuest:
        """Where a guest is now (one GET /cluster/resources?type=vm)."""
        items = await self._request("GET", "/cluster/resources", params={"type": "vm"})
        for item in objects(items, "/cluster/resources"):
            if (
                item.get("type") in ("qemu", "lxc")
                and opt_int(item.get("vmid")) == vmid
            ):
                return parse_guest(item)
        raise NotFound(f"guest {vmid} is not in the cluster")

    async def current(self, guest: GuestLike) -> ProxmoxGuest:
        """One guest's state alone (GET .../status/current), shaped as
        /cluster/resources lists it: what a change under way is probed with."""
        item = await self._guest_request(guest, "GET", "status/current")
        if not isinstance(item, dict):
            raise InvalidResponse(f"status/current of {guest.vmid} is not an object")
        status = item.get("status")
        run_state = opt_str(item.get("qmpstatus"))
        if status == "running" and run_state in PAUSED_RUN_STATES:
            # /cluster/resources gives a live VM's QEMU run state as its status.
            status = run_state
        return parse_guest(
            {
                **item,
                "status": status,
                "vmid": guest.vmid,
                "type": guest.type,
                "node": guest.node,
                "maxcpu": item.get("cpus"),
            }
        )

    # -- power ----------------------------------------------------------------------

    async def start(self, guest: GuestLike) -> str:
        return await self.power(guest, "start")

    async def shutdown(self, guest: GuestLike) -> str:
        """Graceful: ACPI (qemu) or init (lxc) shutdown."""
        return await self.power(guest, "shutdown")

    async def stop(self, guest: GuestLike) -> str:
        """Forced stop, like pulling the plug."""
        return await self.power(guest, "stop")

    async def reboot(self, guest: GuestLike) -> str:
        return await self.power(guest, "reboot")

    async def reset(self, guest: GuestLike) -> str:
        """Hard reset (qemu only)."""
        return await self.power(guest, "reset")

    async def suspend(self, guest: GuestLike) -> str:
        return await self.power(guest, "suspend")

    async def resume(self, guest: GuestLike) -> str:
        return await self.power(guest, "resume")

    async def power(self, guest: GuestLike, action: PowerAction) -> str:
        """Run a power action; returns the task's UPID (see wait_for_task)."""
        if action == "reset" and guest.type == "lxc":
            raise ActionNotSupported("LXC containers cannot be reset; use reboot")
        return await self._guest_post(guest, f"status/{action}")

    # -- stops that keep the guest's state (qemu only) -------------------------------

    async def hibernate(self, guest: GuestLike) -> str:
        """Suspend to disk: the RAM is saved to a state volume, then the VM stops
        (lock `suspended`). A plain `start` resumes it where it was."""
        if guest.type == "lxc":
            raise ActionNotSupported("LXC containers cannot be hibernated")
        return await self._guest_post(guest, "status/suspend", {"todisk": True})

    async def pause(self, guest: GuestLike) -> str:
        """Pause in RAM (status `paused`): the VM keeps its memory on the node and
        `resume` continues it at once. A `start` would be refused (it runs)."""
        if guest.type == "lxc":
            raise ActionNotSupported("LXC containers cannot be paused")
        return await self.suspend(guest)

    # -- snapshots ------------------------------------------------------------------

    async def list_snapshots(self, guest: GuestLike) -> list[ProxmoxSnapshot]:
        """Snapshots, oldest first, without Proxmox's 'current' pseudo entry."""
        items = await self._guest_request(guest, "GET", "snapshot")
        snapshots = [
            ProxmoxSnapshot(
                name=required_str(item, "name", "a snapshot"),
                description=text(item.get("description")),
                snaptime=opt_int(item.get("snaptime")),
                parent=opt_str(item.get("parent")) or None,
                vmstate=flag(item.get("vmstate")),
            )
            for item in objects(items, "the snapshot list")
            if item.get("name") != "current"
        ]
        return tree_order(snapshots)

    async def create_snapshot(
        self,
        guest: GuestLike,
        name: str,
        description: str = "",
        *,
        include_ram: bool = False,
    ) -> str:
        """Take a snapshot; `include_ram` (qemu only) saves the running state too."""
        validate_snapshot_name(name)
        if include_ram and guest.type == "lxc":
            raise ActionNotSupported("LXC snapshots cannot include RAM")
        form: dict[str, Any] = {"snapname": name}
        if description:
            form["description"] = description
        if include_ram:
            form["vmstate"] = True
        return await self._guest_post(guest, "snapshot", form)

    async def rollback_snapshot(self, guest: GuestLike, name: str) -> str:
        validate_snapshot_name(name)
        return await self._guest_post(guest, f"snapshot/{name}/rollback")

    async def delete_snapshot(self, guest: GuestLike, name: str) -> str:
        validate_snapshot_name(name)
        return await self._guest_upid(guest, "DELETE", f"snapshot/{name}")

    # -- backups ----------------------------------------------------------------------

    async def backup(
        self,
        guest: GuestLike,
        storage: str,
        mode: BackupMode = "snapshot",
        compress: BackupCompress | None = None,
    ) -> str:
        """Back the guest up now (POST /nodes/{node}/vzdump); returns the UPID.

        Needs VM.Backup on the guest and Datastore.AllocateSpace on `storage`.
        """
        form: dict[str, Any] = {"vmid": guest.vmid, "storage": storage, "mode": mode}
        if compress is not None:
            form["compress"] = compress
        return await self._guest_upid(guest, "POST", "vzdump", form, on_node=True)

    async def last_backup(self, guest: GuestLike) -> int | None:
        """When the guest's last successful backup ended (UNIX time), if any.

        ONE GET /nodes/{node}/tasks filtered on vzdump tasks of this vmid that
        ended well, newest first. Proxmox lists a user's own tasks, and every
        task with Sys.Audit on the node; a backup job covering several guests is
        one task without a vmid, so it is not seen here.
        """
        items = await self._request(
            "GET",
            f"/nodes/{guest.node}/tasks",
            params={
                "typefilter": "vzdump",
                "vmid": str(guest.vmid),
                "statusfilter": BACKUP_OK_STATUSES,
                "limit": "1",
            },
        )
        ends = [
            opt_int(item.get("endtime")) or opt_int(item.get("starttime"))
            for item in objects(items, "the task list")
        ]
        return max((end for end in ends if end), default=None)

    # -- plumbing -------------------------------------------------------------------

    async def _guest_post(
        self, guest: GuestLike, suffix: str, form: Mapping[str, Any] | None = None
    ) -> str:
        return await self._guest_upid(guest, "POST", suffix, form)

    async def _guest_upid(
        self,
        guest: GuestLike,
        method: str,
        suffix: str,
        form: Mapping[str, Any] | None = None,
        *,
        on_node: bool = False,
    ) -> str:
        upid = await self._guest_request(guest, method, suffix, form, on_node=on_node)
        if not isinstance(upid, str) or not upid:
            raise InvalidResponse("Proxmox did not return a task id")
        return upid

    async def _guest_request(
        self,
        guest: GuestLike,
        method: str,
        suffix: str,
        form: Mapping[str, Any] | None = None,
        *,
        on_node: bool = False,
    ) -> Any:
        """Request on a guest (or, `on_node`, on its node: /nodes/{node}/{suffix});
        if it migrated away from `guest.node`, follow it."""

        def path(where: GuestLike) -> str:
            return (
                f"/nodes/{where.node}/{suffix}"
                if on_node
                else _guest_path(where, suffix)
            )

        try:
            return await self._request(method, path(guest), form=form)
        except NotFound:
            moved = await self.locate(guest.vmid)
            # A container never becomes a VM (nor the reverse): a vmid of the
            # other type was deleted and reused by another guest, not moved.
            if moved.node == guest.node or moved.type != guest.type:
                raise
            return await self._request(method, path(moved), form=form)


def _guest_path(guest: GuestLike, suffix: str) -> str:
    return f"/nodes/{guest.node}/{guest.type}/{guest.vmid}/{suffix}"
