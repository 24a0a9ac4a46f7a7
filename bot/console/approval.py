"""Approval of a week before it is sent (`[delivery] approval = "required"`): holds, releases, approvals."""
from __future__ import annotations

from datetime import date


def gate_overrides(store, week: date) -> list[dict]:
    """The week's recorded gate overrides (hold_overrides), read without creating anything."""
    from sqlalchemy import inspect, select

    from bot.ledger import overrides_table as o

    if "hold_overrides" not in inspect(store.engine).get_table_names():
        return []
    with store.engine.connect() as conn:
        return [dict(r) for r in conn.execute(select(o).where(o.c.week_commencing == week).order_by(o.c.id)).mappings()]


def status(decisions) -> str | None:
    """"approved", "held" or None, from the week's decisions in order (the latest approve/hold counts)."""
    state = None
    for d in decisions:
        if d.action == "approve":
            state = "approved"
        elif d.action == "hold":
            state = "held"
        elif d.action == "release":
            state = None
    return state


def week_state(console, week: date) -> dict:
    """What the week page shows of approvals, holds and overrides."""
    decisions = console.db.decisions(week)
    return {"decisions": decisions, "status": status(decisions), "overrides": gate_overrides(console.store, week),
            "required": False, "run": None}
