"""Load figures in the console (analysts): upload, check, preview, load, through the importer's own functions.

An upload is checked with `data_sources.importing.load_files` (the problems listed as `obsession
import` lists them), previewed with `preview_load` (nothing written), and loaded with `import_files`
in one transaction, after checking again that neither the files nor the store changed since the
preview. Uploaded files live in a private temporary folder only until they are loaded or abandoned
(record-level files are counted and let go).
"""
from __future__ import annotations

import hashlib
import re
import secrets
import shutil
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from starlette.concurrency import run_in_threadpool
from starlette.responses import RedirectResponse, Response

from tracker.errors import InputError, ObsessionError, ValidationFailed

KEEP = 3600                # seconds an unconfirmed upload is kept
MAX_FILES = 20
ROOT = Path(tempfile.gettempdir()) / "obsession-console-uploads"


@dataclass
class Upload:
    """One upload waiting to be loaded: its folder, files, options and what its preview said."""

    token: str
    owner: str
    folder: Path
    names: list[str]
    options: dict
    digest: str = ""
    made: float = field(default_factory=time.time)
    tracker_png: bytes | None = None

    @property
    def paths(self) -> list[Path]:
        """The saved files."""
        return [self.folder / n for n in self.names]

    def discard(self) -> None:
        """Delete the files."""
        shutil.rmtree(self.folder, ignore_errors=True)


class Uploads:
    """Uploads waiting for their Load, per web process; old ones are deleted."""

    def __init__(self):
        self._lock = threading.Lock()
        self._items: dict[str, Upload] = {}
        # Folders left by a web process that stopped before they were loaded or abandoned.
        if ROOT.is_dir():
            for old in ROOT.glob("u-*"):
                if old.is_dir() and time.time() - old.stat().st_mtime > KEEP:
                    shutil.rmtree(old, ignore_errors=True)

    def add(self, upload: Upload) -> None:
        with self._lock:
            self._sweep()
            self._items[upload.token] = upload

    def get(self, token: str, owner: str) -> Upload | None:
        with self._lock:
            self._sweep()
            u = self._items.get(token)
            return u if u is not None and u.owner == owner else None

    def pop(self, token: str) -> None:
        with self._lock:
            u = self._items.pop(token, None)
        if u:
            u.discard()

    def _sweep(self) -> None:
        now = time.time()
        for t in [t for t, u in self._items.items() if now - u.made > KEEP]:
            self._items.pop(t).discard()


def safe_name(name: str, n: int) -> str:
    """A file name safe to save (the base name, plain characters, the extension kept)."""
    base = re.split(r"[\\/]", name or "")[-1]
    base = re.sub(r"[^A-Za-z0-9._ -]+", "_", base).strip(" .")[:120]
    return base or f"upload-{n}.csv"


def formats() -> tuple[str, ...]:
    """The weekly-figure formats `obsession import` reads (published benchmarks are not weekly figures)."""
    from data_sources.importing import FORMATS

    published = set()
    try:
        from data_sources.benchmark_import import PUBLISHED_FORMATS

        published = set(PUBLISHED_FORMATS)
    except ImportError:
        pass
    return tuple(f for f in FORMATS if f not in published)


def _options(form) -> dict:
    """The import options from the form, as `obsession import` takes them; InputError for a bad one."""
    fmt = str(form.get("format") or "long")
    if fmt not in formats():
        raise InputError(f"format {fmt!r}: not a format the console loads; use one of {', '.join(formats())}")
    out = {"fmt": fmt}
    for key in ("la", "sheet", "obsession"):
        v = str(form.get(key) or "").strip()[:200]
        if v:
            out[key] = v
    for key, label in (("start", "from"), ("as_of", "as_of")):
        v = str(form.get(label) or "").strip()
        if v:
            try:
                out[key] = date.fromisoformat(v)
            except ValueError:
                raise InputError(f"{label.replace('_', ' ')}: {v[:20]!r} is not a date; write it as YYYY-MM-DD") from None
    return out


def _import_kwargs(options: dict) -> dict:
    o = dict(options)
    return {"fmt": o.pop("fmt"), **o}


async def read_upload_form(console, request, user):
    """The multipart form of an upload, read only when its declared size is within the limit."""
    if request.headers.get("content-length") is None:
        return console.refuse(request, user, 411, "Upload refused",
                              "The upload did not say how large it is, so it was not read; upload it again "
                              "from the form.")
    return await request.form(max_files=MAX_FILES, max_fields=50, max_part_size=64 * 1024)


def _hash_files(paths) -> str:
    h = hashlib.sha256()
    for p in paths:
        h.update(p.name.encode() + b"\0" + hashlib.sha256(p.read_bytes()).digest())
    return h.hexdigest()


def _digest(upload: Upload, preview) -> str:
    """What the preview depended on: the files' bytes and what loading them would change."""
    s = preview.summary
    h = hashlib.sha256(_hash_files(upload.paths).encode())
    h.update(f"{s.new}/{s.revised}/{s.unchanged}".encode())
    for r in preview.revisions:
        h.update(f"{r['week']}|{r['obsession']}|{r['area']}|{r['old']!r}|{r['new']!r}".encode())
    return h.hexdigest()


def _shown(upload: Upload, text: str) -> str:
    """A message with the private folder left out, so it names the file as uploaded."""
    return text.replace(str(upload.folder.resolve()) + "/", "").replace(str(upload.folder) + "/", "")


def check_and_preview(console, upload: Upload):
    """(problems, notes, preview): the importer's check, then its preview (nothing written)."""
    from data_sources.importing import load_files, preview_load

    try:
        loaded = load_files(upload.paths, console.config, **_import_kwargs(upload.options))
    except ValidationFailed as e:
        return [_shown(upload, line) for line in str(e).splitlines()], [], None
    except ObsessionError as e:
        return [_shown(upload, str(e))], [], None
    preview = preview_load(console.store, loaded)
    upload.tracker_png = _tracker_after(console, loaded)
    return [], [_shown(upload, n) for n in loaded.notes], preview


def _tracker_after(console, loaded) -> bytes | None:
    """The city tracker of the upload's newest week, as it would look once loaded."""
    import pandas as pd

    from renderers.png import render_png
    from tracker.arithmetic import build_tracker
    from tracker.figures import COLUMNS, FigureTable

    _, live = console.figures()
    keys = ["week_commencing", "obsession", "area"]
    new = loaded.frame[COLUMNS].copy()
    new["week_commencing"] = pd.to_datetime(new["week_commencing"]).dt.normalize()
    city = console.config.city          # the city's tracker needs only the city's series
    merged = pd.concat([live.frame[COLUMNS][live.frame["area"] == city], new[new["area"] == city]],
                       ignore_index=True).drop_duplicates(keys, keep="last")
    table = FigureTable(merged)
    if hasattr(live, "published"):
        table.published = live.published
    week = max(new["week_commencing"]).date()
    try:
        return render_png(build_tracker(table, console.config, week, None))
    except ObsessionError:
        return None


class Loader:
    """The load pages and actions."""

    def __init__(self, console):
        self.c = console
        self.uploads = Uploads()

    async def form(self, request, user):
        return self.c.respond(request, "load.html", user=user, title="Load figures", formats=formats(),
                              stage="form", problems=[], notes=[], preview=None, upload=None,
                              limit=self.c.cs.max_upload_mb, message=None)

    async def upload(self, request, user, form):
        """POST /load: save the files privately, check them, and preview what loading would do."""
        c = self.c
        files = [f for f in form.getlist("files") if hasattr(f, "read") and getattr(f, "filename", "")]
        page = dict(user=user, title="Load figures", formats=formats(), limit=c.cs.max_upload_mb, message=None)
        try:
            options = _options(form)
            if not files:
                raise InputError("no file was chosen; choose one or more files to check")
        except InputError as e:
            return c.respond(request, "load.html", status=422, stage="form", problems=[str(e)], notes=[],
                             preview=None, upload=None, **page)
        ROOT.mkdir(parents=True, exist_ok=True)
        token = secrets.token_urlsafe(16)
        folder = Path(tempfile.mkdtemp(prefix="u-", dir=ROOT))
        names = []
        for n, f in enumerate(files, 1):
            name = safe_name(f.filename, n)
            while name in names:
                name = f"{n}-{name}"
            with open(folder / name, "wb") as out:
                shutil.copyfileobj(f.file, out, 1024 * 1024)
            names.append(name)
        up = Upload(token, user.email, folder, names, options)
        problems, notes, preview = await run_in_threadpool(check_and_preview, c, up)
        if problems:
            up.discard()
            return c.respond(request, "load.html", status=422, stage="problems", problems=problems, notes=notes,
                             preview=None, upload=up, **page)
        up.digest = await run_in_threadpool(_digest, up, preview)
        self.uploads.add(up)
        return c.respond(request, "load.html", stage="preview", problems=[], notes=notes, preview=preview,
                         upload=up, **page)

    async def confirm(self, request, user, form):
        """POST /load/confirm: check again; load in one transaction only if nothing changed since the preview."""
        from data_sources.importing import import_files

        c = self.c
        up = self.uploads.get(str(form.get("upload", "")), user.email)
        page = dict(user=user, title="Load figures", formats=formats(), limit=c.cs.max_upload_mb)
        if up is None:
            return c.respond(request, "load.html", status=410, stage="form", upload=None, preview=None, notes=[],
                             problems=["That upload is no longer here (loaded already, or older than an hour); "
                                       "upload the files again."], message=None, **page)
        problems, notes, preview = await run_in_threadpool(check_and_preview, c, up)
        if problems:
            self.uploads.pop(up.token)
            return c.respond(request, "load.html", status=422, stage="problems", problems=problems, notes=notes,
                             preview=None, upload=up, message="The files changed since the preview and now fail "
                                                               "the check; nothing was written.", **page)
        digest = await run_in_threadpool(_digest, up, preview)
        if digest != up.digest:
            up.digest = digest
            return c.respond(request, "load.html", status=409, stage="preview", problems=[], notes=notes,
                             preview=preview, upload=up, message="The files or the stored figures changed since "
                             "the preview, so they were checked again: this is what loading would do now. "
                             "Nothing was written.", **page)

        def load():
            summary, _ = import_files(c.store, up.paths, c.config, **_import_kwargs(up.options))
            files = [{"name": n, "source": s} for n, s in zip(up.names, _sources(up))]
            load_id = c.db.record_load(user.email, files, up.options["fmt"], _sources(up)[0], summary)
            c.audit(request, user.email, "load", f"load {load_id}: {', '.join(up.names)}: {summary.describe()}")
            return summary
        try:
            summary = await run_in_threadpool(load)
        except ObsessionError as e:
            self.uploads.pop(up.token)
            return c.respond(request, "load.html", status=422, stage="problems", problems=[_shown(up, str(e))],
                             notes=[], preview=None, upload=up, message="Nothing was written.", **page)
        self.uploads.pop(up.token)
        return RedirectResponse(f"{c.prefix_url('/loads')}?loaded={summary.new}-{summary.revised}-{summary.unchanged}",
                                status_code=303)

    async def tracker_png(self, request, user):
        """The city tracker as it would look once the upload is loaded."""
        from .pages import security_headers

        up = self.uploads.get(request.path_params["token"], user.email)
        if up is None or up.tracker_png is None:
            return Response("not found", status_code=404, headers=security_headers())
        return Response(up.tracker_png, media_type="image/png", headers=security_headers())


def _sources(up: Upload) -> list[str]:
    """The source each file's figures are recorded with (as the importer labels them)."""
    from data_sources.importing import source_label

    kind = "import" if up.options["fmt"] == "long" else up.options["fmt"]
    return [source_label(kind, [p]) for p in up.paths]


def routes(console) -> list:
    """The load routes."""
    from starlette.routing import Route

    loader = Loader(console)
    console.loader = loader
    return [
        Route("/load", console.guard("analyst", loader.form), methods=["GET"]),
        Route("/load", console.guard("analyst", loader.upload, form=True), methods=["POST"]),
        Route("/load/confirm", console.guard("analyst", loader.confirm), methods=["POST"]),
        Route("/load/{token}/tracker.png", console.guard("analyst", loader.tracker_png), methods=["GET"]),
    ]
