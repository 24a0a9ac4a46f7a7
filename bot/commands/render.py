"""`obsession render`: one tracker, or one obsession by cluster, in one format.

Each format is a pure renderer (see renderers/); this command only builds the model and writes.
"""
from __future__ import annotations

import sys
from pathlib import Path

from tracker.errors import InputError

# --format -> (the format in the views table, the file suffix); "curve-" formats are the chart's.
FORMATS = {"text": ("text", ".txt"), "json": ("json", ".json"), "png": ("png", ".png"), "svg": ("svg", ".svg"),
           "pdf": ("pdf", ".pdf"), "docx": ("docx", ".docx"), "slack": ("slack", ".json"),
           "teams": ("teams", ".json"), "html": ("html", ".html"), "eml": ("png", ".eml")}
CHART = "curve"
COMPARE = "compare"         # the city beside its statistical neighbours, region and England (renderers/compare.py)
PACK = "pack"               # the agenda pack (renderers/pack.py): Word or PDF by the -o file's suffix


def format_choices() -> tuple[str, ...]:
    """Every --format value, from the views table: the tracker's (and breakdown's), each chart's, the pack."""
    from renderers.views import IMAGE, VIEWS

    charts = [c if f == IMAGE else f"{c}-{f}" for c in (CHART, COMPARE) for f in VIEWS[c].formats]
    return (*FORMATS, *charts, PACK)


def _view(args, ctx):
    """The view the command's arguments ask for, and its format and file suffix."""
    from renderers.views import IMAGE, VIEWS

    fmt = args.format
    if fmt == CHART or fmt.startswith(CHART + "-"):
        if not args.obsession:
            raise InputError(f"--format {fmt} charts one obsession: add --obsession KEY (e.g. --obsession cla)")
        name = fmt.removeprefix(CHART).removeprefix("-") or IMAGE
        return VIEWS["curve"], name, "." + name
    if fmt == COMPARE or fmt.startswith(COMPARE + "-"):
        if not args.obsession:
            raise InputError(f"--format {fmt} charts one obsession against its benchmarks: add --obsession KEY")
        name = fmt.removeprefix(COMPARE).removeprefix("-") or IMAGE
        return VIEWS["compare"], name, "." + name
    if fmt not in FORMATS:
        raise InputError(f"unknown format {fmt}")
    if args.obsession:
        from tracker.arithmetic import canonical_area  # imported areas (England...) are known too

        if args.area and canonical_area(ctx.figures(), ctx.config, args.area) != ctx.config.city:
            raise InputError("--obsession breaks one obsession down across every cluster; leave out --area "
                             "(or use --format curve for one obsession in one area)")
        return (VIEWS["breakdown"], *FORMATS[fmt])
    return (VIEWS["tracker"], *FORMATS[fmt])


def render(args, ctx, image_name: str = "tracker.png") -> dict[str, str | bytes]:
    """The files the command writes: {suffix: content}; the first is the main output."""
    import json

    from renderers.views import IMAGE, Place

    if args.format == PACK:
        return _pack(args, ctx)

    view, name, suffix = _view(args, ctx)
    place = Place(args.week, args.area, args.obsession)
    model = view.build_model(ctx.figures(), ctx.config, place)
    if name in ("slack", "teams"):
        return {suffix: json.dumps(view.render(name, model, image_url=None), indent=2) + "\n"}
    if name == "html":          # the page, with its picture beside it
        return {suffix: view.render("html", model, image_src=image_name, view_url=None),
                ".png": view.render(IMAGE, model)}
    if args.format == "eml":
        from renderers.email import build_message

        msg = build_message(model, view.render(IMAGE, model), sender=ctx.settings.mail_from, to=None,
                            public_base_url=ctx.settings.public_base_url, from_name=ctx.config.sender)
        return {suffix: msg.as_bytes()}
    return {suffix: view.render(name, model)}


def _pack(args, ctx) -> dict[str, bytes]:
    """The agenda pack of the week for the city (or --area's), as Word or PDF by -o's suffix."""
    from renderers.pack import build_pack, render_pack_docx, render_pack_pdf

    suffix = Path(args.output).suffix.lower() if args.output else ""
    if suffix not in (".docx", ".pdf"):
        raise InputError("--format pack writes a Word or a PDF agenda pack: give -o pack.docx or -o pack.pdf")
    if args.obsession:
        raise InputError("--format pack holds every obsession; leave out --obsession (use --area for one cluster)")
    pack = build_pack(ctx.figures(), ctx.config, args.week, args.area)
    return {suffix: render_pack_docx(pack) if suffix == ".docx" else render_pack_pdf(pack)}


def run(args, ctx) -> int:
    """Render and write to -o (and files beside it) or standard output."""
    image_name = Path(args.output).with_suffix(".png").name if args.output else "tracker.png"
    files = render(args, ctx, image_name)
    main_suffix, main = next(iter(files.items()))
    if not args.output:
        if isinstance(main, bytes) or len(files) > 1:
            raise InputError(f"--format {args.format} writes a file; give its path with -o PATH")
        sys.stdout.write(main)
        return 0
    path = Path(args.output)
    if path.parent and not path.parent.exists():
        raise InputError(f"-o {path}: the folder {path.parent} does not exist; create it first")
    written = []
    for suffix, content in files.items():
        target = path if suffix == main_suffix else path.with_suffix(suffix)
        if isinstance(content, bytes):
            target.write_bytes(content)
        else:
            target.write_text(content, encoding="utf-8")
        written.append(str(target))
    print("wrote " + ", ".join(written), file=sys.stderr)
    return 0
