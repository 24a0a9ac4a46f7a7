"""The chat service the web and Socket Mode processes hold: live figures, answers and images built off the loop.

The main process does only I/O: it acknowledges, passes the question's text to a worker
(bot/chat/workers.py) and sends the reply on. Building models and drawing are CPU-bound Python that
would otherwise hold the GIL and delay the event loop's acknowledgements.

Jobs reach the workers through one queue (bot/chat/jobs_queue.py), most urgent first: answers before
pictures someone is waiting for, and those before the warm-up, which draws the latest week's pictures
in the background after start and after each reload so that they are cached before anyone asks. Each
image is drawn once per figures version and kept: the warm-up's pictures apart, never evicted (a flood
of requests for other pictures cannot push them out), the rest in an LRU; simultaneous requests for
the same image share one drawing.
"""
from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections import OrderedDict
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date

from tracker.config import Config
from tracker.errors import NotFound
from tracker.figures import FigureTable

from .jobs_queue import Jobs
from .workers import ANSWER, ON_DEMAND, WARM_UP, Links, Problem, Reply, document_job, image_job, render_pool, reply_job
from .workers import warm as warm_worker

log = logging.getLogger("obsession.chat")

CHECK_EVERY = 2.0          # seconds between store fingerprint checks
IMAGE_CACHE = 256          # PNGs kept (75-100 KB each); the warm-up draws about 134


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

    def due(self) -> bool:
        """True when the next snapshot() will ask the store whether it changed."""
        return self._table is None or time.monotonic() - self._checked >= self.check_every

    def snapshot(self) -> tuple[int, FigureTable]:
        """(version, figures), reading the store again first if it has changed. Blocking: call in a thread."""
        with self._lock:
            now = time.monotonic()
            if self._table is None or now - self._checked >= self.check_every:
                fp = self.store.fingerprint()
                self._checked = now
                if self._table is None or fp != self._fingerprint:
                    started = time.perf_counter()
                    self._table = self.store.figure_table()
                    self._fingerprint = fp
                    self.version += 1
                    log.info("figures read: %s figures, version %s, %.2f s", fp[0], self.version,
                             time.perf_counter() - started)
            return self.version, self._table


@dataclass
class WarmUp:
    """How far the background drawing of the latest week's pictures has got (shown on /healthz)."""

    state: str = "off"             # off | waiting | drawing | done
    version: int | None = None
    week: str | None = None
    images: int = 0
    drawn: int = 0
    seconds: float | None = None
    started: float = field(default=0.0, repr=False)

    def as_dict(self) -> dict:
        """The JSON-ready state."""
        return {"state": self.state, "figures_version": self.version, "week": self.week,
                "images": self.images, "drawn": self.drawn, "seconds": self.seconds}


class ChatService:
    """Answers and images for the chat apps and the archive, with the blocking parts off the loop."""

    def __init__(self, config: Config, live: LiveFigures, pool: Executor | None = None,
                 threads: int = 1, warm_images: bool = False):
        self.config = config
        self.live = live
        self.pool = pool
        self.warm_images = warm_images
        self.warmup = WarmUp(state="waiting" if warm_images else "off")
        self._threads = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="answer")
        self._images: OrderedDict = OrderedDict()     # on-demand pictures, LRU
        self._warmed: dict = {}                       # the warm-up's pictures of this figures version, kept
        self._inflight: dict = {}
        self._jobs: Jobs | None = None
        self._tasks: list[asyncio.Task] = []
        self._warming: asyncio.Task | None = None
        self._workers = 1

    @property
    def in_processes(self) -> bool:
        """True when jobs run in worker processes (which read the figures from the store themselves)."""
        return isinstance(self.pool, ProcessPoolExecutor)

    @property
    def source(self):
        """Where a job finds the figures: the store's URL for a worker process, else the LiveFigures."""
        return self.live.store.url if self.in_processes else self.live

    # -- lifecycle
    async def start(self, warm: bool = True) -> None:
        """Read the figures, start the workers and, when asked, the warm-up of the latest pictures."""
        loop = asyncio.get_running_loop()
        version, _ = await loop.run_in_executor(self._threads, self.live.snapshot)
        if self.pool is None:
            self.pool = render_pool()
        if self.in_processes and _in_memory(self.live.store.url):
            # Another process cannot see an in-memory database: work in threads of this one.
            self.pool.shutdown(wait=False)
            self.pool = render_pool(0)
        slots = getattr(self.pool, "_max_workers", 1)
        # Two jobs per worker: the next is already waiting in the worker's pipe when one finishes,
        # so the hand-over (three thread hops in this process) does not leave the worker idle.
        self._jobs = Jobs(self.pool, 2 * slots)
        self._workers = slots
        self._jobs.start()
        if warm:
            source = self.source if self.in_processes else None
            await asyncio.gather(*(loop.run_in_executor(self.pool, warm_worker, source, version)
                                   for _ in range(slots)))
        if self.warm_images:
            self._tasks.append(asyncio.ensure_future(self._watch()))

    def close(self) -> None:
        """Stop the workers."""
        for t in self._tasks + ([self._warming] if self._warming else []):
            t.cancel()
        if self._jobs is not None:
            self._jobs.stop()
        if self.pool is not None:
            # wait=True: without it the spawned workers outlive the process (seen on Python 3.11).
            self.pool.shutdown(wait=True, cancel_futures=True)
        self._threads.shutdown(wait=False, cancel_futures=True)

    # -- blocking helpers run in threads
    async def in_thread(self, fn, *args):
        """Run a blocking function in this process's thread (pages, store checks)."""
        return await asyncio.get_running_loop().run_in_executor(self._threads, fn, *args)

    def figures(self) -> tuple[int, FigureTable]:
        """(version, figures), refreshed when the store changed. Blocking."""
        return self.live.snapshot()

    async def version(self) -> int:
        """The current figures version, asking the store (in a thread) only when a check is due."""
        if self.live.due():
            version, _ = await self.in_thread(self.figures)
            return version
        return self.live.version

    # -- answers
    async def reply(self, text: str, fmt: str, settings) -> Reply:
        """The answer to chat text as a Slack ('slack') or Teams ('teams') message, built in a worker."""
        from bot import urls

        version = await self.version()
        links = Links(settings.public_base_url, urls.signing_key(settings))
        return await self._jobs.submit(ANSWER, reply_job, self.source, version, self.config, links, text, fmt)

    # -- images
    async def image(self, reply: Reply) -> bytes | None:
        """The reply's picture, drawn once and cached."""
        if not reply.has_image:
            return None
        return await self.png((reply.image_path, reply.version), reply.image)

    def warm(self, reply: Reply) -> None:
        """Start drawing the reply's image now, so it is ready when Slack or Teams fetch it."""
        if reply.has_image and not self.has_png((reply.image_path, reply.version)):
            task = asyncio.ensure_future(self.image(reply))
            task.add_done_callback(lambda t: t.cancelled() or t.exception() and log.warning(
                "drawing %s failed: %s", reply.image_path, t.exception()))

    def cached(self) -> set:
        """The keys (path, version) of every picture kept: the warm-up's and the others'."""
        return set(self._warmed) | set(self._images)

    def has_png(self, key) -> bool:
        """True when the image for `key` is cached."""
        return key in self._warmed or key in self._images

    async def png(self, key, spec: tuple, priority: int = ON_DEMAND) -> bytes:
        """The picture for key (path, version) of spec (view name, Place): from the cache, a drawing under
        way, or a new one. NotFound when there is none."""
        if key in self._warmed:
            return self._warmed[key]
        if key in self._images:
            self._images.move_to_end(key)
            return self._images[key]
        fut = self._inflight.get(key)
        if fut is None:
            fut = asyncio.ensure_future(self._draw_and_keep(key, spec, priority))
            self._inflight[key] = fut
            fut.add_done_callback(lambda _: self._inflight.pop(key, None))
        return await asyncio.shield(fut)

    async def _draw_and_keep(self, key, spec: tuple, priority: int) -> bytes:
        view_name, place = spec
        out = await self._jobs.submit(priority, image_job, self.source, key[1], self.config, view_name, place)
        if isinstance(out, Problem):
            raise NotFound(out.message)
        if key[1] != self.live.version:      # a picture of figures already replaced is not kept
            return out
        if priority == WARM_UP:
            self._warmed[key] = out
        else:
            self._images[key] = out
            while len(self._images) > IMAGE_CACHE:
                self._images.popitem(last=False)
        return out

    async def document(self, key, spec: tuple) -> bytes:
        """A Word or PDF file for key (path, version) of spec (view name or 'pack', Place, 'docx' or 'pdf'),
        built in a worker (the archive keeps the few recent ones). NotFound when there is none."""
        out = await self._jobs.submit(ON_DEMAND, document_job, self.source, key[1], self.config, *spec)
        if isinstance(out, Problem):
            raise NotFound(out.message)
        return out

    # -- warm-up
    def latest_images(self, week: date) -> list[tuple[str, tuple]]:
        """(archive path, image spec) of every warmed view's picture in the week, for the city and each
        cluster and each obsession; the city first."""
        from renderers.views import VIEWS, places

        c = self.config
        obsessions = [o.key for o in c.obsessions]
        out = []
        for area in (c.city, *c.clusters):
            for view in VIEWS.values():
                if view.warm and ("area" in view.fields or area == c.city):
                    out += [(view.image_path(p), (view.name, p)) for p in places(view, week, [area], obsessions)]
        return out

    async def _watch(self) -> None:
        """Check the store every few seconds; on a new figures version, forget old pictures and warm up."""
        every = max(self.live.check_every, 1.0)
        warmed = None
        while True:
            try:
                version, figures = await self.in_thread(self.figures)
                if version != warmed:
                    warmed = version
                    for key in [k for k in self._images if k[1] != version]:
                        del self._images[key]
                    self._warmed = {k: v for k, v in self._warmed.items() if k[1] == version}
                    if self._warming is not None:
                        self._warming.cancel()
                    self._warming = asyncio.ensure_future(self._warm_up(version, figures.latest_week()))
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("checking the store for new figures failed")
            await asyncio.sleep(every)

    async def _warm_up(self, version: int, week: date | None) -> None:
        """Draw the latest week's pictures at the lowest priority, one per worker at a time."""
        w = self.warmup = WarmUp(state="drawing", version=version, week=week.isoformat() if week else None,
                                 started=time.perf_counter())
        images = self.latest_images(week) if week else []
        todo = iter(images)
        w.images = len(images)

        async def lane():
            for path, spec in todo:
                if self.live.version != version:
                    return
                try:
                    await self.png((path, version), spec, WARM_UP)
                    key = (path, version)
                    if key in self._images and version == self.live.version:   # drawn on demand first: kept too
                        self._warmed[key] = self._images.pop(key)
                except NotFound:
                    pass
                except Exception as e:  # noqa: BLE001  (one bad picture does not stop the rest)
                    log.warning("warm-up: drawing %s failed: %s", path, e)
                w.drawn += 1

        # One lane per worker, so that an answer never waits behind more than one drawing.
        await asyncio.gather(*(lane() for _ in range(self._workers)))
        if self.live.version == version:
            w.state, w.seconds = "done", round(time.perf_counter() - w.started, 2)
            log.info("warm-up: %s pictures of the week of %s drawn in %.1f s", w.drawn, w.week, w.seconds)



def _in_memory(url: str) -> bool:
    return url.startswith("sqlite") and (url.rstrip("/") in ("sqlite:", "sqlite+pysqlite:") or ":memory:" in url)
