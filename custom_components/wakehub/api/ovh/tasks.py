"""OVH tasks: the cache of known tasks, following one to its end, starting one."""

from __future__ import annotations

from typing import Any

from ..backoff import FIRST_DELAY, TaskPace
from ..errors import NotFound, TaskFailed
from .models import TASK_FAILED_STATES, Task, parse_task
from .transport import OvhTransport, vps_path


class TaskFollower(OvhTransport):
    """Tasks this client started or read, and following one until it ends."""

    # -- tasks ----------------------------------------------------------------------
    async def get_task(self, service: str, task_id: int) -> Task:
        task = parse_task(
            await self._call("GET", vps_path(service, f"tasks/{task_id}"))
        )
        self._remember(service, task)
        return task

    async def wait_for_task(
        self,
        service: str,
        task_id: int,
        *,
        timeout: float = 900,
        interval: float = FIRST_DELAY,
    ) -> Task:
        """Poll a task until it is done; TaskFailed if it ends in error or cancelled.

        Read every `interval` seconds at first, then less often (backoff.py).
        OVH forgets finished tasks after a while: a task that vanished (404) while
        we followed it is taken as done.
        """
        pace = TaskPace(timeout, interval)
        seen = False
        while True:
            try:
                task = await self.get_task(service, task_id)
            except NotFound:
                if not seen:
                    raise
                return Task(id=task_id, type=None, state="done", progress=100)
            seen = True
            if task.state == "done":
                return task
            if task.state in TASK_FAILED_STATES:
                raise TaskFailed(
                    f"OVH task {task.type or task_id} on {service} ended in state {task.state}"
                )
            if not await pace.wait():
                raise TaskFailed(
                    f"OVH task {task.type or task_id} on {service} still {task.state} "
                    f"after {timeout:g} s"
                )

    def _remember(self, service: str, task: Task) -> Task:
        if len(self._tasks) > 1000:  # bounded: tasks are only interesting while running
            self._tasks.clear()
        self._tasks[(service, task.id)] = task
        return task

    async def _task_call(
        self, service: str, method: str, action: str, body: Any = None
    ) -> Task:
        answer = await self._call(method, vps_path(service, action), body=body)
        return self._remember(service, parse_task(answer))
