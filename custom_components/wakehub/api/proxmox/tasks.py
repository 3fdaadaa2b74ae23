"""Following a Proxmox task (UPID) until it stops, reading less often as it lasts."""

from __future__ import annotations

from urllib.parse import quote

from ..backoff import FIRST_DELAY, TaskPace
from ..errors import TaskFailed
from ..fields import obj, opt_str, text
from .connection import ProxmoxConnection
from .models import ProxmoxTask, TaskTimeout


class TaskFollower(ProxmoxConnection):
    """Task status and waiting for a task's end."""

    # -- tasks ----------------------------------------------------------------------

    async def task_status(self, node: str, upid: str) -> ProxmoxTask:
        data = obj(
            await self._request(
                "GET", f"/nodes/{node}/tasks/{quote(upid, safe='')}/status"
            ),
            "the task status",
        )
        return ProxmoxTask(
            upid=upid,
            node=node,
            running=data.get("status") != "stopped",
            exitstatus=opt_str(data.get("exitstatus")),
            type=text(data.get("type")),
        )

    async def wait_for_task(
        self, node: str, upid: str, timeout: float = 300, interval: float = FIRST_DELAY
    ) -> ProxmoxTask:
        """Poll the task until it stops; TaskFailed carries Proxmox's exit status.

        Read every `interval` seconds at first, then less often (backoff.py).
        Raises TaskTimeout if still running after `timeout` seconds.
        """
        pace = TaskPace(timeout, interval)
        while True:
            task = await self.task_status(node, upid)
            if not task.running:
                if not task.ok:
                    raise TaskFailed(task.exitstatus or "task failed")
                return task
            if not await pace.wait():
                raise TaskTimeout(f"task {upid} still running after {timeout:g} s")
