"""What the web and Socket Mode processes share: live figures, answers and images built off the event loop.

The main process does only I/O: it acknowledges, passes the question's text to a worker and sends
the reply on. Answers and pictures are built in worker processes, each holding its own copy of the
figures (read from the store once per figures version), because building models and drawing are
CPU-bound Python that would otherwise hold the GIL and delay the event loop's acknowledgements.
Only small things cross between processes: the text in, the chat message or the PNG out.

Jobs reach the workers through one queue, most urgent first, at most one job per worker at a time:
answers before pictures someone is waiting for, and those before the warm-up, which draws the latest
week's pictures in the background after start and after each reload so that they are cached before
anyone asks. Each image is drawn once per figures version and kept (LRU); simultaneous requests for
the same image share one drawing.
"""
from __future__ import annotations

import asyncio
import itertools
import logging
import multiprocessing
import os
import threading
import time
from collections import OrderedDict
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date

from tracker.config import Config
from tracker.errors import NotFound, ObsessionError
from tracker.figures import FigureTable

log = logging.getLogger("obsession.chat")

CHECK_EVERY = 2.0          # seconds between store fingerprint checks
IMAGE_CACHE = 256          # PNGs kept (75-100 KB each); the warm-up draws about 134
PAGE_CACHE = 256
ANSWER, ON_DEMAND, WARM_UP = 0, 1, 9     # job priorities: lower runs first


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

    def due(self) -> bool:
        """True when the next snapshot() will ask the store whether it changed."""
        return self._table is None or time.monotonic() - self._checked >= self.check_every

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


@dataclass(frozen=True)
class Reply:
    """An answer as a chat sends it, built in a worker: the message, and which picture goes with it."""

    kind: str                      # help | error | tracker | obsession | breakdown
    public: bool
    message: dict                  # the Slack message or the Teams activity
    version: int = 0               # the figures version it was built from
    image_path: str | None = None  # the archive path of its picture
    image: tuple | None = None     # (kind, build function, args): see answer.image_spec
    image_url: str | None = None
    title: str = ""                # the picture's title and alt text, for a Slack file upload
    alt: str = ""

    @property
    def has_image(self) -> bool:
        """True when there is a picture to go with the answer."""
        return self.image is not None


@dataclass(frozen=True)
class Problem:
    """A question the figures cannot answer (NotFound in a worker), as a message: exceptions pickle badly."""

    message: str


# ---- the worker side: these run in the worker processes (or in threads when workers == 0) -----------

_held: dict = {}                   # store URL -> (version, FigureTable): this process's copy of the figures
_held_lock = threading.Lock()


def _figures(source, version: int) -> FigureTable:
    """The figures at `version` (or newer): read from the store at source (a URL), or a LiveFigures in this process."""
    if isinstance(source, LiveFigures):
        return source.snapshot()[1]
    with _held_lock:
        got = _held.get(source)
        # Never go back to an older version: a job queued before a reload may run after it.
        if got is None or got[0] < version:
            from tracker.store import Store

            store = Store(source)
            try:
                table = store.figure_table()
            finally:
                store.engine.dispose()
            _held.clear()          # one copy of the figures per process
            _held[source] = got = (version, table)
        return got[1]


def _draw(kind: str, model) -> bytes:
    """Draw one PNG (runs in a worker process)."""
    if kind == "curve":
        from renderers.curve import render_curve

        return render_curve(model)
    from renderers.png import render_png

    return render_png(model)


def _warm(source=None, version: int = 0) -> bool:
    """Import the renderers and read the figures in a worker, so the first real job is not slowed by either."""
    import renderers.curve  # noqa: F401
    import renderers.png  # noqa: F401
    if source is not None and not isinstance(source, LiveFigures):
        _figures(source, version)
    return True


def _image_job(source, version: int, config: Config, kind: str, build, args: tuple) -> bytes | Problem:
    """Build the model from this process's figures and draw it."""
    figures = _figures(source, version)
    try:
        model = build(figures, config, *args)
    except ObsessionError as e:
        return Problem(str(e))
    return _draw(kind, model)


def _reply_job(source, version: int, config: Config, settings, text: str, fmt: str) -> Reply:
    """Answer chat text and build its Slack message or Teams activity (fmt 'slack' or 'teams')."""
    from bot import urls

    from .answer import answer, image_alt, image_spec, image_title, to_slack, to_teams

    ans = answer(text, config, _figures(source, version))
    path = ans.image_path()
    image_url = urls.public_url(settings, path, sign=True) if path else None
    if fmt == "slack":
        message = to_slack(ans, image_url=image_url)
    elif fmt == "teams":
        message = to_teams(ans, image_url=image_url)
    else:
        raise ValueError(f"unknown chat format {fmt}")
    return Reply(kind=ans.kind, public=ans.public, message=message, version=version, image_path=path,
                 image=image_spec(ans), image_url=image_url,
                 title=image_title(ans) if path else "", alt=image_alt(ans) if path else "")


def render_pool(workers: int | None = None) -> Executor:
    """Processes for answers and drawing (spawned: forking a threaded server is unsafe); threads when workers == 0."""
    if workers is None:
        workers = max(1, min(2, os.cpu_count() or 1))
    if workers == 0:
        return ThreadPoolExecutor(max_workers=2, thread_name_prefix="render")
    return ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"),
                               initializer=_lower_priority)


WORKER_NICENESS = 10


def _lower_priority() -> None:
    """Make a worker yield the CPU to the main process, whose acknowledgements must not wait behind drawing.

    Workers also ignore Ctrl-C: the main process stops them in order (a terminal's SIGINT reaches the
    whole process group, and each worker would otherwise print its own KeyboardInterrupt traceback).
    """
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        os.nice(WORKER_NICENESS)
    except (AttributeError, OSError):      # not on this platform, or not allowed: run at normal priority
        pass


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
    """Answers, images and pages for the chat apps and the archive, with the blocking parts off the loop."""

    def __init__(self, config: Config, live: LiveFigures, pool: Executor | None = None,
                 threads: int = 1, warm_images: bool = False):
        self.config = config
        self.live = live
        self.pool = pool
        self.warm_images = warm_images
        self.warmup = WarmUp(state="waiting" if warm_images else "off")
        self._threads = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="answer")
        self._images: OrderedDict = OrderedDict()
        self._pages: OrderedDict = OrderedDict()
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
            await asyncio.gather(*(loop.run_in_executor(self.pool, _warm, source, version) for _ in range(slots)))
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
        version = await self.version()
        return await self._jobs.submit(ANSWER, _reply_job, self.source, version, self.config, settings, text, fmt)

    # -- images
    async def image(self, reply: Reply) -> bytes | None:
        """The reply's PNG, drawn once and cached."""
        if not reply.has_image:
            return None
        return await self.png((reply.image_path, reply.version), reply.image)

    def warm(self, reply: Reply) -> None:
        """Start drawing the reply's image now, so it is ready when Slack or Teams fetch it."""
        if reply.has_image and (reply.image_path, reply.version) not in self._images:
            task = asyncio.ensure_future(self.image(reply))
            task.add_done_callback(lambda t: t.cancelled() or t.exception() and log.warning(
                "drawing %s failed: %s", reply.image_path, t.exception()))

    def has_png(self, key) -> bool:
        """True when the image for `key` is cached."""
        return key in self._images

    async def png(self, key, spec: tuple, priority: int = ON_DEMAND) -> bytes:
        """The PNG for key (path, version): from the cache, a drawing under way, or a new one. NotFound when there is none."""
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
        kind, build, args = spec
        out = await self._jobs.submit(priority, _image_job, self.source, key[1], self.config, kind, build, args)
        if isinstance(out, Problem):
            raise NotFound(out.message)
        if key[1] == self.live.version:      # a picture of figures already replaced is not kept
            self._images[key] = out
            while len(self._images) > IMAGE_CACHE:
                self._images.popitem(last=False)
        return out

    # -- warm-up
    def latest_images(self, week: date) -> list[tuple[str, tuple]]:
        """(archive path, image spec) of the week's pictures: the city's and each cluster's tracker and
        turn-the-curve charts, and each obsession's breakdown; the city first."""
        from bot import urls
        from tracker.arithmetic import build_breakdown, build_curve, build_tracker

        c = self.config
        out = []
        for area in (c.city, *c.clusters):
            out.append((urls.tracker_path(week, area, ".png"), ("png", build_tracker, (week, area))))
            out += [(urls.curve_path(week, area, o.key), ("curve", build_curve, (o.key, area, week)))
                    for o in c.obsessions]
            if area == c.city:
                out += [(urls.breakdown_path(week, o.key, ".png"), ("png", build_breakdown, (o.key, week)))
                        for o in c.obsessions]
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
                    self._forget_other_versions(version)
                    if self._warming is not None:
                        self._warming.cancel()
                    self._warming = asyncio.ensure_future(self._warm_up(version, figures.latest_week()))
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("checking the store for new figures failed")
            await asyncio.sleep(every)

    def _forget_other_versions(self, version: int) -> None:
        for cache in (self._images, self._pages):
            for key in [k for k in cache if k[1] != version]:
                del cache[key]

    async def _warm_up(self, version: int, week: date | None) -> None:
        """Draw the latest week's pictures at the lowest priority, one per worker at a time."""
        w = self.warmup = WarmUp(state="drawing", version=version, week=week.isoformat() if week else None,
                                 started=time.perf_counter())
        todo = iter(self.latest_images(week) if week else [])
        w.images = len(self.latest_images(week)) if week else 0

        async def lane():
            for path, spec in todo:
                if self.live.version != version:
                    return
                try:
                    await self.png((path, version), spec, WARM_UP)
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


def _in_memory(url: str) -> bool:
    return url.startswith("sqlite") and (url.rstrip("/") in ("sqlite:", "sqlite+pysqlite:") or ":memory:" in url)


def monday(text: str) -> date | None:
    """The date in an archive path ('2015-07-20'), or None when it is not one."""
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None
