"""`Intake`: an asyncio micro-batcher in front of the store for webhook posts.

Each request verifies and parses its delivery itself, then awaits `Intake.submit(...)`. One
writer task takes whatever has queued up (waiting at most `window` seconds after the first
item for company, at most `max_batch` items), commits it with `Store.submit_posts` in ONE
transaction on a dedicated thread, and only then resolves each request's future with its own
result: `queued` / `duplicate` stay truthful and nothing is acknowledged before it is committed.

While one batch commits the next one gathers, so under load batches grow by themselves and
at low load a delivery waits at most `window` extra. A batch that fails as a whole is retried
item by item inside the store, so one bad delivery gets its own error and the others go
through. `close()` stops intake and drains everything already queued before it returns;
a submit after close writes directly (one transaction per delivery), never drops.

A store without `submit_posts` (a test fake) is called one item at a time on the same thread.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from copilot.store_engine import Submission
from copilot.store_records import SubmitResult
from copilot.types import Post

log = logging.getLogger("moments.api.intake")

WINDOW_SECONDS = 0.003  # how long the first item of a batch waits for company
MAX_BATCH = 128  # items per transaction


@dataclass
class _Item:
    submission: Submission
    future: asyncio.Future[SubmitResult]


@dataclass
class IntakeStats:
    batches: int = 0
    items: int = 0
    largest: int = 0
    direct: int = 0  # written after close, one by one
    sizes: list[int] = field(default_factory=list)  # the last 1,000 batch sizes

    def add(self, size: int) -> None:
        self.batches += 1
        self.items += size
        self.largest = max(self.largest, size)
        self.sizes.append(size)
        if len(self.sizes) > 1000:
            del self.sizes[:500]


class Intake:
    """Batch concurrent `submit()` calls into few transactions; see the module docstring."""

    def __init__(
        self, store: Any, *, window: float = WINDOW_SECONDS, max_batch: int = MAX_BATCH
    ) -> None:
        self.store = store
        self.window = window
        self.max_batch = max(1, max_batch)
        self.stats = IntakeStats()
        self._queue: asyncio.Queue[_Item | None] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        self._closing = False
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="moments-intake")

    @property
    def running(self) -> bool:
        return self._task is not None and not self._closing and not self._task.done()

    def start(self) -> None:
        """Start the writer task on the running event loop."""
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run(), name="intake")

    async def submit(
        self, post: Post, *, source: str, revision: int = 1, draft: bool = True
    ) -> SubmitResult:
        """Record (and with `draft`, queue) one post; returns after its batch is committed.
        Raises the item's own error (InputError, ConflictError, StoreError, ...)."""
        submission = Submission(post=post, source=source, revision=revision, draft=draft)
        loop = asyncio.get_running_loop()
        if not self.running:
            self.stats.direct += 1
            result = (await asyncio.to_thread(self._write, [submission]))[0]
            if isinstance(result, Exception):
                raise result
            return result
        future: asyncio.Future[SubmitResult] = loop.create_future()
        self._queue.put_nowait(_Item(submission, future))
        # shield: a client that disconnects does not cancel a commit others share
        return await asyncio.shield(future)

    async def close(self) -> None:
        """Stop taking new items, commit everything queued, stop the writer."""
        if self._task is None:
            self._executor.shutdown(wait=True)
            return
        if not self._closing:
            self._closing = True
            self._queue.put_nowait(None)
        await asyncio.shield(self._task)
        self._executor.shutdown(wait=True)

    # Writer ------------------------------------------------------------------------------
    async def _run(self) -> None:
        stopping = False
        while not stopping:
            first = await self._queue.get()
            if first is None:
                break
            batch = [first]
            if self._queue.empty() and self.window > 0:
                await asyncio.sleep(self.window)
            while len(batch) < self.max_batch:
                try:
                    item = self._queue.get_nowait()
                except asyncio.QueueEmpty:
                    break
                if item is None:
                    stopping = True
                    break
                batch.append(item)
            await self._commit(batch)
        # Anything queued behind the stop marker (a submit racing close) is still written.
        rest: list[_Item] = []
        while not self._queue.empty():
            item = self._queue.get_nowait()
            if item is not None:
                rest.append(item)
        for start in range(0, len(rest), self.max_batch):
            await self._commit(rest[start : start + self.max_batch])

    async def _commit(self, batch: list[_Item]) -> None:
        loop = asyncio.get_running_loop()
        submissions = [item.submission for item in batch]
        try:
            results = await loop.run_in_executor(self._executor, self._write, submissions)
        except Exception as exc:  # noqa: BLE001 - every waiting request gets the error
            log.exception("intake batch of %d failed", len(batch))
            results = [exc] * len(batch)
        self.stats.add(len(batch))
        for item, result in zip(batch, results, strict=True):
            if item.future.done():
                continue
            if isinstance(result, Exception):
                item.future.set_exception(result)
            else:
                item.future.set_result(result)

    def _write(self, submissions: Sequence[Submission]) -> list[SubmitResult | Exception]:
        """On the intake thread: one transaction via `submit_posts`, or one call per item."""
        submit_posts = getattr(self.store, "submit_posts", None)
        if callable(submit_posts):
            results: list[SubmitResult | Exception] = submit_posts(submissions)
            return results
        out: list[SubmitResult | Exception] = []
        for item in submissions:
            try:
                if item.draft:
                    out.append(
                        self.store.submit_post(
                            item.post, source=item.source, revision=item.revision
                        )
                    )
                else:
                    post_id, created = self.store.record_post(
                        item.post, source=item.source, revision=item.revision
                    )
                    out.append(SubmitResult(post_id=post_id, job_id=None, duplicate=not created))
            except Exception as exc:  # noqa: BLE001 - the item's own error, returned to it
                out.append(exc)
        return out
