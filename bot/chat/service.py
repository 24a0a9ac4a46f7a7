"""What the web and Socket Mode processes share: live figures, answers off the event loop, cached images.

Figures are read once at start and read again only when the store changes (a cheap fingerprint
query, at most every few seconds). Models are built in threads; PNGs are drawn in worker processes,
because drawing is CPU-bound Python that would otherwise hold the GIL and delay the event loop's
acknowledgements. Each image is drawn once per figures version and kept (LRU), and simultaneous
requests for the same image share one drawing.
"""
from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
import threading
import time
from collections import OrderedDict
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor
from datetime import date

from tracker.config import Config
from tracker.figures import FigureTable

from .answer import Answer, answer, render_image

log = logging.getLogger("obsession.chat")

CHECK_EVERY = 2.0          # seconds between store fingerprint checks
IMAGE_CACHE = 256          # PNGs kept (75-100 KB each)
PAGE_CACHE = 256


class LiveFigures:
    """The store's figures, read once and read again when the store's fingerprint changes."""

    def __init__(self, store, check_every: float = CHECK_EVERY):
        self.store = store
        self.check_every = check_every
        self._lock = threading.Lock()
        self._table: FigureTable | None = None
        self._fingerprint = None
        self._checked = 0.0
        self.version = 0

    def fingerprint(self) -> tuple:
        """How many figures, the newest load time and the newest revision: changes on every write."""
        from sqlalchemy import func, select

        from tracker.store import figures_table, revisions_table

        with self.store.engine.connect() as conn:
            n, newest = conn.execute(select(func.count(), func.max(figures_table.c.loaded_at))).one()
            rev = conn.execute(select(func.max(revisions_table.c.id))).scalar()
        return (n, str(newest), rev)

    def snapshot(self) -> tuple[int, FigureTable]:
        """(version, figures), reading the store again first if it has changed. Blocking: call in a thread."""
        with self._lock:
            now = time.monotonic()
            if self._table is None or now - self._checked >= self.check_every:
                fp = self.fingerprint()
                self._checked = now
                if self._table is None or fp != self._fingerprint:
                    started = time.perf_counter()
                    self._table = self.store.figure_table()
                    self._fingerprint = fp
                    self.version += 1
                    log.info("figures read: %s figures, version %s, %.2f s", fp[0], self.version,
                             time.perf_counter() - started)
            return self.version, self._table


def _draw(kind: str, model) -> bytes:
    """Draw one PNG (runs in a worker process)."""
    if kind == "curve":
        from renderers.curve import render_curve

        return render_curve(model)
    from renderers.png import render_png

    return render_png(model)


def _warm() -> bool:
    """Import the renderers in a worker so the first real drawing is not slowed by imports."""
    import renderers.png  # noqa: F401
    try:
        import renderers.curve  # noqa: F401
    except ImportError:
        pass
    return True


def render_pool(workers: int | None = None) -> Executor:
    """Processes for drawing (spawned: forking a threaded server is unsafe); threads when workers == 0."""
    if workers is None:
        workers = max(1, min(4, os.cpu_count() or 1))
    if workers == 0:
        return ThreadPoolExecutor(max_workers=2, thread_name_prefix="render")
    return ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"))


class ChatService:
    """Answers, images and pages for the chat apps and the archive, with the blocking parts off the loop."""

    def __init__(self, config: Config, live: LiveFigures, pool: Executor | None = None,
                 threads: int = 1):
        self.config = config
        self.live = live
        self.pool = pool
        self._threads = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="answer")
        self._images: OrderedDict = OrderedDict()
        self._pages: OrderedDict = OrderedDict()
        self._inflight: dict = {}

    # -- lifecycle
    async def start(self, warm: bool = True) -> None:
        """Read the figures and start the drawing workers."""
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(self._threads, self.live.snapshot)
        if self.pool is None:
            self.pool = render_pool()
        if warm:
            n = getattr(self.pool, "_max_workers", 1)
            await asyncio.gather(*(loop.run_in_executor(self.pool, _warm) for _ in range(n)))

    def close(self) -> None:
        """Stop the workers."""
        if self.pool is not None:
            self.pool.shutdown(wait=False, cancel_futures=True)
        self._threads.shutdown(wait=False, cancel_futures=True)

    # -- blocking helpers run in threads
    async def in_thread(self, fn, *args):
        """Run a blocking function in the answer threads."""
        return await asyncio.get_running_loop().run_in_executor(self._threads, fn, *args)

    def figures(self) -> tuple[int, FigureTable]:
        """(version, figures), refreshed when the store changed. Blocking."""
        return self.live.snapshot()

    async def ask(self, text: str, then=None):
        """The answer to chat text, built off the event loop; with `then`, (answer, then(answer)) built there too."""
        def work():
            _, figures = self.figures()
            ans = answer(text, self.config, figures)
            return ans if then is None else (ans, then(ans))
        return await self.in_thread(work)

    # -- images
    async def image(self, ans: Answer) -> bytes | None:
        """The answer's PNG, drawn once and cached."""
        if not ans.has_image:
            return None
        kind = "curve" if ans.curve is not None else "png"
        model = ans.curve if ans.curve is not None else ans.model
        return await self.cached_png((ans.image_path(), self.live.version), kind, model)

    async def cached_png(self, key, kind: str, model) -> bytes:
        """The PNG for `key`, from the cache, a drawing already under way, or a new drawing."""
        if key in self._images:
            self._images.move_to_end(key)
            return self._images[key]
        fut = self._inflight.get(key)
        if fut is None:
            loop = asyncio.get_running_loop()
            fut = asyncio.ensure_future(loop.run_in_executor(self.pool, _draw, kind, model))
            self._inflight[key] = fut
            try:
                png = await fut
            finally:
                self._inflight.pop(key, None)
            self._images[key] = png
            while len(self._images) > IMAGE_CACHE:
                self._images.popitem(last=False)
            return png
        return await asyncio.shield(fut)

    def warm(self, ans: Answer) -> None:
        """Start drawing the answer's image now, so it is ready when Slack or Teams fetch it."""
        if ans.has_image:
            task = asyncio.ensure_future(self.image(ans))
            task.add_done_callback(lambda t: t.cancelled() or t.exception() and log.warning(
                "drawing %s failed: %s", ans.image_path(), t.exception()))

    # -- pages
    def cached_page(self, key):
        """A page already built for `key`, or None."""
        page = self._pages.get(key)
        if page is not None:
            self._pages.move_to_end(key)
        return page

    def keep_page(self, key, page: str) -> None:
        """Keep a built page."""
        self._pages[key] = page
        while len(self._pages) > PAGE_CACHE:
            self._pages.popitem(last=False)


def monday(text: str) -> date | None:
    """The date in an archive path ('2015-07-20'), or None when it is not one."""
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None
