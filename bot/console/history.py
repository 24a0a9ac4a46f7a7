"""The console's history pages: loads, revisions of figures, unsubscribes and the audit log (read only)."""
from __future__ import annotations

from datetime import date

from starlette.concurrency import run_in_threadpool

LIMIT = 1000


def revisions(store, week: date | None, area: str | None, obsession: str | None) -> list[dict]:
    """Revisions of figures, newest first, filtered; each with the file it came from."""
    from sqlalchemy import select

    from tracker.store import revisions_table as t

    q = select(t).order_by(t.c.id.desc()).limit(LIMIT)
    if week:
        q = q.where(t.c.week_commencing == week)
    if area:
        q = q.where(t.c.area == area)
    if obsession:
        q = q.where(t.c.obsession == obsession)
    with store.engine.connect() as conn:
        return [dict(r) for r in conn.execute(q).mappings()]


def unsubscribes(store) -> list[dict]:
    """Everyone who unsubscribed, by subscription (read without creating anything)."""
    from sqlalchemy import inspect, select

    from bot.ledger import unsubscribes_table as u

    if "unsubscribes" not in inspect(store.engine).get_table_names():
        return []
    with store.engine.connect() as conn:
        return [dict(r) for r in conn.execute(select(u).order_by(u.c.subscription, u.c.unsubscribed_at)).mappings()]


class History:
    """The read-only pages."""

    def __init__(self, console):
        self.c = console

    async def loads(self, request, user):
        rows = await run_in_threadpool(self.c.db.loads)
        loaded = request.query_params.get("loaded", "")
        parts = loaded.split("-")
        said = (f"{parts[0]} new, {parts[1]} revised, {parts[2]} unchanged"
                if len(parts) == 3 and all(p.isdigit() for p in parts) else None)
        return self.c.respond(request, "loads.html", user=user, title="Loads", loads=rows, loaded=said)

    async def revisions(self, request, user):
        c = self.c
        q = request.query_params
        week = None
        if q.get("week"):
            try:
                week = date.fromisoformat(q["week"])
            except ValueError:
                week = None
        area = q.get("area") if q.get("area") in c.config.areas else None
        keys = [o.key for o in c.config.obsessions]
        obsession = q.get("obsession") if q.get("obsession") in keys else None

        def work():
            rows = revisions(c.store, week, area, obsession)
            by = {}
            for load in c.db.loads(limit=5000):
                for f in load["files"]:
                    if isinstance(f, dict):
                        by[f["source"]] = (f["name"], load["loaded_by"])
            for r in rows:
                name, who = by.get(r["new_source"], (None, None))
                r["file"] = name or r["new_source"]
                r["by"] = who
            return rows
        rows = await run_in_threadpool(work)
        return c.respond(request, "revisions.html", user=user, title="Revisions of figures", rows=rows,
                         week=week, area=area, obsession=obsession, areas=c.config.areas, obsessions=c.config.obsessions,
                         limit=LIMIT)

    async def unsubscribes(self, request, user):
        rows = await run_in_threadpool(unsubscribes, self.c.store)
        counts = {}
        for r in rows:
            counts[r["subscription"]] = counts.get(r["subscription"], 0) + 1
        return self.c.respond(request, "unsubscribes.html", user=user, title="Unsubscribes", rows=rows,
                              counts=counts, subscriptions=[s.name for s in self.c.config.subscriptions])

    async def deliveries(self, request, user):
        """Every ledger row of a week, with counts by channel and status."""
        from bot.ledger import Ledger

        c = self.c
        try:
            week = date.fromisoformat(request.path_params["week"])
        except ValueError:
            return c.refuse(request, user, 404, "No such week", "The address needs a week, YYYY-MM-DD.")

        def work():
            from sqlalchemy import inspect

            if "deliveries" not in inspect(c.store.engine).get_table_names():
                return []
            ledger = Ledger.read_only(c.store.engine)
            try:
                return ledger.rows(week)
            finally:
                ledger.close()
        rows = sorted(await run_in_threadpool(work), key=lambda r: (r.subscription, r.channel, r.recipient))
        statuses = ("sent", "failed", "pending", "sending")
        counts: dict = {}
        for r in rows:
            counts.setdefault(r.channel, {}).setdefault(r.status, 0)
            counts[r.channel][r.status] += 1
        failed = sum(1 for r in rows if r.status == "failed")
        return c.respond(request, "deliveries.html", user=user, title="Deliveries", week=week, rows=rows,
                         counts=counts, statuses=statuses, failed=failed, run=c.runs.get(week) if c.runs else None)

    async def audit(self, request, user):
        rows = await run_in_threadpool(self.c.db.audit_log)
        return self.c.respond(request, "audit.html", user=user, title="Audit log", rows=rows)


def routes(console) -> list:
    """The history routes (the audit log for approvers)."""
    from starlette.routing import Route

    h = History(console)
    return [
        Route("/loads", console.guard("viewer", h.loads)),
        Route("/revisions", console.guard("viewer", h.revisions)),
        Route("/unsubscribes", console.guard("viewer", h.unsubscribes)),
        Route("/audit", console.guard("approver", h.audit)),
        Route("/weeks/{week}/deliveries", console.guard("viewer", h.deliveries)),
    ]
