"""`obsession approve --week W`: approve a week for sending at the terminal (as an approver does in the console)."""
from __future__ import annotations

import getpass


def run(args, ctx) -> int:
    """Record the approval (who and why, as in the console); say what happens next."""
    from bot.console.approval import HELD_RUN, status, week_figures
    from bot.console.store import ConsoleStore
    from tracker.arithmetic import resolve_week

    week = resolve_week(ctx.figures(), args.week)
    db = ConsoleStore(ctx.store.engine)
    who = f"{getpass.getuser()} (terminal)"
    reason = (args.reason or "approved at the terminal").strip()[:2000]
    db.decide(week, "approve", who, reason, week_figures(ctx.store.engine, week))
    db.audit(who, "approve", f"week {week}: {reason}", "terminal")
    decisions = db.decisions(week)
    if ctx.config.delivery.approval != "required":
        print("note: [delivery] approval is not \"required\" in the configuration, so runs do not wait for it.")
    if status(decisions) != "approved":
        print(f"note: the week commencing {week:%Y-%m-%d} is still held by an analyst; release it in the console.")
    print(f"Approved the week commencing {week:%Y-%m-%d} for sending ({who}: {reason}).")
    if any(d.action == HELD_RUN for d in decisions):
        print(f"Its run was held awaiting approval: send it now with  obsession send --week {week:%Y-%m-%d}")
    return 0
