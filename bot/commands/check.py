"""`obsession check`: the data-quality gate on its own."""
from __future__ import annotations


def run(args, ctx) -> int:
    """Report what is missing, implausible or stale for the week; exit 3 when anything holds the run."""
    from bot.weekly import gate_as_of
    from tracker.arithmetic import resolve_week
    from tracker.quality import check_week

    figures = ctx.figures()
    week = resolve_week(figures, args.week)
    result = check_week(figures, ctx.config, week, gate_as_of(week, args.week))
    for note in result.notes:
        print(f"note: {note}")
    if result.passed:
        print(f"week commencing {week:%Y-%m-%d}: every obsession has a figure; none moved implausibly; none stale")
        return 0
    for p in result.problems:
        kind = "missing" if ": no figure" in p else ("" if p.startswith("stale:") else "implausible")
        print(f"{kind}: {p}" if kind else p)
    print(f"Nothing will be sent for this week until this is fixed, or a run is told to send anyway: "
          f"obsession send --week {week:%Y-%m-%d} --override-hold \"REASON\"")
    return 3
