"""`obsession render`: one tracker, or one obsession by cluster, in one format.

Each format is a pure renderer (see renderers/); this command only builds the model and writes.
"""
from __future__ import annotations

import sys
from pathlib import Path

from tracker.errors import InputError

# Vector images (renderers/vector.py): the tracker or breakdown, or with "curve-" the turn-the-curve chart.
VECTOR = ("svg", "pdf", "curve-svg", "curve-pdf")


def _model(args, ctx):
    from tracker.arithmetic import build_breakdown, build_curve, build_tracker

    figures = ctx.figures()
    if args.format.startswith("curve"):
        if not args.obsession:
            raise InputError(f"--format {args.format} charts one obsession: add --obsession KEY (e.g. --obsession cla)")
        return build_curve(figures, ctx.config, args.obsession, args.area, args.week)
    if args.obsession:
        if args.area and ctx.config.canonical_area(args.area) != ctx.config.city:
            raise InputError("--obsession breaks one obsession down across every cluster; leave out --area "
                             "(or use --format curve for one obsession in one area)")
        return build_breakdown(figures, ctx.config, args.obsession, args.week)
    return build_tracker(figures, ctx.config, args.week, args.area)


def render(args, ctx, image_name: str = "tracker.png") -> dict[str, str | bytes]:
    """The files the command writes: {suffix: content}; the first is the main output."""
    import json

    from tracker.model import Breakdown

    model = _model(args, ctx)
    fmt = args.format
    if fmt == "text":
        from renderers.text import render_breakdown_text, render_text

        return {".txt": render_breakdown_text(model) if isinstance(model, Breakdown) else render_text(model)}
    if fmt == "json":
        from renderers.json_tracker import render_json

        return {".json": render_json(model)}
    if fmt == "curve":
        from renderers.curve import render_curve

        return {".png": render_curve(model)}
    if fmt in VECTOR:
        from renderers import vector

        kind = fmt.removeprefix("curve-")
        return {"." + kind: vector.render_svg(model) if kind == "svg" else vector.render_pdf(model)}
    if fmt in ("docx", "curve-docx"):
        from renderers.docx import render_docx

        return {".docx": render_docx(model)}
    if fmt == "slack":
        from renderers.slack import render_slack

        return {".json": json.dumps(render_slack(model, image_url=None), indent=2) + "\n"}
    if fmt == "teams":
        from renderers.teams import render_teams

        return {".json": json.dumps(render_teams(model, image_url=None), indent=2) + "\n"}
    from renderers.png import render_png

    png = render_png(model)
    if fmt == "png":
        return {".png": png}
    if fmt == "html":
        from renderers.email import render_html

        return {".html": render_html(model, image_src=image_name, view_url=None), ".png": png}
    if fmt == "eml":
        from renderers.email import build_message

        msg = build_message(model, png, sender=ctx.settings.mail_from, to=None,
                            public_base_url=ctx.settings.public_base_url, from_name=ctx.config.sender)
        return {".eml": msg.as_bytes()}
    raise InputError(f"unknown format {fmt}")


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
