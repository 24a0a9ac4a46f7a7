"""`obsession check`: the data-quality gate on its own."""
from __future__ import annotations


def run(args, ctx) -> int:
    """Report what is missing for the week; exit 3 when anything holds the run."""
    from tracker.arithmetic import resolve_week
    from tracker.quality import missing_figures

    figures = ctx.figures()
    week = resolve_week(figures, args.week) if args.week else figures.latest_week()
    if week is None:
        resolve_week(figures, None)  # raises the "no figures yet" message
    result = missing_figures(figures, ctx.config, week)
    for note in result.notes:
        print(f"note: {note}")
    if result.passed:
        print(f"week commencing {week:%Y-%m-%d}: every obsession has a figure")
        return 0
    for p in result.problems:
        print(f"missing: {p}")
    return 3
