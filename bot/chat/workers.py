"""What runs in the chat's worker processes: answers and pictures built from the worker's own figures.

Each worker holds its own copy of the figures (read from the store once per figures version), so
only small things cross between processes: the question's text, or a view's name and Place, in; the
chat message or the picture's bytes out. Workers are given only what they need (the store's URL, the
public base URL and the URL signing key), never the settings. When workers == 0 the same functions
run in threads of the main process, reading a LiveFigures there.
"""
from __future__ import annotations

import multiprocessing
import os
import threading
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass

from tracker.config import Config
from tracker.errors import ObsessionError
from tracker.figures import FigureTable

ANSWER, ON_DEMAND, WARM_UP = 0, 1, 9     # job priorities: lower runs first
WORKER_NICENESS = 10


@dataclass(frozen=True)
class Reply:
    """An answer as a chat sends it, built in a worker: the message, and which picture goes with it."""

    kind: str                      # help | error | tracker | obsession | breakdown
    public: bool
    message: dict                  # the Slack message or the Teams activity
    version: int = 0               # the figures version it was built from
    image_path: str | None = None  # the archive path of its picture
    image: tuple | None = None     # (view name, Place): see answer.image_spec
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


@dataclass(frozen=True)
class Links:
    """What a worker needs to write an image's public URL: PUBLIC_BASE_URL and the URL signing key."""

    base_url: str | None = None
    key: bytes | None = None


_held: dict = {}                   # store URL -> (version, FigureTable): this process's copy of the figures
_held_lock = threading.Lock()


def _figures(source, version: int) -> FigureTable:
    """The figures at `version` (or newer): read from the store at source (a URL), or a LiveFigures in this process."""
    if not isinstance(source, str):
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


def _draw(renderer: str, model) -> bytes:
    """Draw one picture with the renderer a view names ('png', 'curve'; runs in a worker process)."""
    from renderers.views import resolve

    return resolve(renderer)(model)


def warm(source=None, version: int = 0) -> bool:
    """Import the renderers and read the figures in a worker, so the first real job is not slowed by either."""
    import renderers.curve  # noqa: F401
    import renderers.png  # noqa: F401
    if isinstance(source, str):
        _figures(source, version)
    if multiprocessing.parent_process() is not None:      # a worker process, not a thread of the caller's
        settle_heap()
    return True


def settle_heap() -> None:
    """Move everything alive now (modules, settings, the figures) out of the garbage collector's full passes.

    A full pass walks every object the process holds; in the web process, where the libraries make
    that heap large, one pass took 40-60 ms and, landing among acknowledgements, tripled the Slack
    acknowledgement p99 in bench/bench_chat.py (about 23 -> 60-95 ms). After gc.freeze() a pass walks
    only what was made since, so it costs a few milliseconds. Called by each long-running process once its start-up is done.
    """
    import gc

    gc.collect()
    gc.freeze()


def image_job(source, version: int, config: Config, view_name: str, place) -> bytes | Problem:
    """Build a view's model from this process's figures and draw its picture."""
    from renderers.views import IMAGE, VIEWS

    view = VIEWS[view_name]
    try:
        model = view.build_model(_figures(source, version), config, place)
    except ObsessionError as e:
        return Problem(str(e))
    return _draw(view.renderer(IMAGE), model)


def document_job(source, version: int, config: Config, what: str, place, fmt: str) -> bytes | Problem:
    """A Word ('docx') or PDF file: one view's, or with `what` 'pack' the agenda pack of the place's week and area."""
    from renderers.views import VIEWS

    try:
        figures = _figures(source, version)
        if what == "pack":
            from renderers.pack import build_pack, render_pack_docx, render_pack_pdf

            pack = build_pack(figures, config, place.week, place.area)
            return render_pack_docx(pack) if fmt == "docx" else render_pack_pdf(pack)
        view = VIEWS[what]
        model = view.build_model(figures, config, place)
    except ObsessionError as e:
        return Problem(str(e))
    return view.render(fmt, model)


def reply_job(source, version: int, config: Config, links: Links, text: str, fmt: str) -> Reply:
    """Answer chat text and build its message in one chat's format ('slack' or 'teams')."""
    from bot import urls

    from .answer import MESSAGES, answer, image_alt, image_spec, image_title

    if fmt not in MESSAGES:
        raise ValueError(f"unknown chat format {fmt}")
    ans = answer(text, config, _figures(source, version))
    path = ans.image_path() or ans.document_path()
    image_url = urls.absolute_url(links.base_url, links.key, path) if path else None
    return Reply(kind=ans.kind, public=ans.public, message=MESSAGES[fmt](ans, image_url=image_url), version=version,
                 image_path=path, image=image_spec(ans), image_url=image_url,
                 title=image_title(ans) if path else "", alt=image_alt(ans) if path else "")


def render_pool(workers: int | None = None) -> Executor:
    """Processes for answers and drawing (spawned: forking a threaded server is unsafe); threads when workers == 0."""
    if workers is None:
        workers = max(1, min(2, os.cpu_count() or 1))
    if workers == 0:
        return ThreadPoolExecutor(max_workers=2, thread_name_prefix="render")
    return ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"),
                               initializer=_lower_priority)


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
    exit_with_parent()


PARENT_CHECK = 1.0        # seconds between checks that the parent is alive, where prctl is not to be had


def exit_with_parent(every: float = PARENT_CHECK) -> None:
    """Exit this process when its parent dies (SIGKILLed, it has no chance to stop its workers).

    Linux: prctl(PR_SET_PDEATHSIG, SIGKILL). That signal follows the thread that started the worker;
    the pool starts its workers from the thread that submits (the event loop's, which lives as long
    as the process). Elsewhere a thread polls the parent's id: the fallback, as it wakes every worker
    once a second for nothing.
    """
    import signal

    started_by = multiprocessing.parent_process()
    parent = started_by.pid if started_by is not None and started_by.pid else os.getppid()
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(1, int(signal.SIGKILL), 0, 0, 0) != 0:       # 1: PR_SET_PDEATHSIG
            raise OSError(ctypes.get_errno(), "prctl")
    except (OSError, AttributeError):
        def watch():
            import time

            while True:
                time.sleep(every)
                if os.getppid() != parent:
                    os._exit(0)

        threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()
        return
    if os.getppid() != parent:          # it died before the signal was asked for
        os._exit(0)
