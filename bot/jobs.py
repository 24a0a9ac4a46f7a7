"""The main job: render this week's city tracker and every cluster's into the outbox."""
from __future__ import annotations

import sys

from .outbox import outbox_folder, write_file


def render_all_to_outbox(ctx, week=None) -> list:
    """Write text and JSON of the city's and each cluster's tracker; return the folders written."""
    from renderers.json_tracker import render_json
    from renderers.text import render_text
    from tracker.arithmetic import build_tracker, resolve_week

    figures = ctx.figures()
    week = resolve_week(figures, week)
    folders = []
    for area in (ctx.config.city, *ctx.config.clusters):
        tracker = build_tracker(figures, ctx.config, week, area)
        folder = outbox_folder(ctx.settings.outbox_dir, week, area)
        write_file(folder, "tracker.txt", render_text(tracker))
        write_file(folder, "tracker.json", render_json(tracker))
        folders.append(folder)
    return folders


def weekly_job(ctx, week=None, out=sys.stdout) -> int:
    """Run the weekly job and say where everything went."""
    folders = render_all_to_outbox(ctx, week)
    if folders:
        print(f"Wrote {len(folders)} trackers (text and JSON) under {folders[0].parent}/:", file=out)
        print(f"  city:     {folders[0]}/tracker.txt", file=out)
        print(f"  clusters: {folders[1].parent}/<cluster>/tracker.txt (and tracker.json)", file=out)
    return 0
