"""The priority queue in front of the chat's workers: the most urgent job first, one per worker at a time."""
from __future__ import annotations

import asyncio
import itertools
from concurrent.futures import Executor


class Jobs:
    """Feeds an executor one job per worker at a time, lowest priority number first.

    The executor's own queue is first come, first served; keeping it empty is what lets an answer
    overtake a warm-up drawing queued before it.
    """

    def __init__(self, pool: Executor, slots: int):
        self.pool = pool
        self.slots = slots
        self._queue: asyncio.PriorityQueue | None = None
        self._seq = itertools.count()
        self._runners: list[asyncio.Task] = []

    def start(self) -> None:
        """Start the feeders (on the running loop)."""
        self._queue = asyncio.PriorityQueue()
        self._runners = [asyncio.ensure_future(self._run()) for _ in range(self.slots)]

    def stop(self) -> None:
        """Stop the feeders."""
        for r in self._runners:
            r.cancel()

    @property
    def waiting(self) -> int:
        """Jobs queued and not yet started."""
        return self._queue.qsize() if self._queue else 0

    async def submit(self, priority: int, fn, *args):
        """Run fn(*args) in the executor when no more urgent job is waiting; its result."""
        fut = asyncio.get_running_loop().create_future()
        self._queue.put_nowait((priority, next(self._seq), fut, fn, args))
        return await fut

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            _, _, fut, fn, args = await self._queue.get()
            if fut.done():             # its asker has gone
                continue
            try:
                result = await loop.run_in_executor(self.pool, fn, *args)
            except asyncio.CancelledError:
                fut.cancel()
                raise
            except BaseException as e:  # noqa: BLE001  (handed to the asker)
                if not fut.done():
                    fut.set_exception(e)
            else:
                if not fut.done():
                    fut.set_result(result)
