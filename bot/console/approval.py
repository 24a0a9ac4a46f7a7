"""Approval of a week before it is sent, and the week's holds, releases and gate overrides.

With `[delivery] approval = "required"` the weekly run (clock or `obsession send`) calls
`approval_hold` after the quality gate: a week no approver has approved is held exactly as the gate
holds (nothing sent, the owners told once, exit 3), with the console's link. An analyst's hold holds
a week whatever the setting. Approving a week whose run was held starts that run at once in the
background (`Runs`), and the week page shows its progress.
"""
from __future__ import annotations

import io
import threading
import time
from dataclasses import dataclass, field
from datetime import date, datetime, timezone

APPROVAL_HOLD = "approval-hold"      # the ledger's subscription name for the owners' notice of it
HELD_RUN = "run held"                # the action recorded when a run was held awaiting approval


def gate_overrides(store, week: date) -> list[dict]:
    """The week's recorded gate overrides (hold_overrides), read without creating anything."""
    from sqlalchemy import inspect, select

    from bot.ledger import overrides_table as o

    if "hold_overrides" not in inspect(store.engine).get_table_names():
        return []
    with store.engine.connect() as conn:
        return [dict(r) for r in conn.execute(select(o).where(o.c.week_commencing == week).order_by(o.c.id)).mappings()]


def week_figures(engine, week: date) -> str:
    """A hash of every stored figure of the week (value, numerator, denominator), to tell whether it changed."""
    import hashlib

    from sqlalchemy import select

    from tracker.store import figures_table as t

    q = (select(t.c.obsession, t.c.area, t.c.value, t.c.numerator, t.c.denominator)
         .where(t.c.week_commencing == week).order_by(t.c.obsession, t.c.area))
    h = hashlib.sha256()
    with engine.connect() as conn:
        for row in conn.execute(q):
            h.update(repr(tuple(row)).encode())
    return h.hexdigest()


def status(decisions, figures: str | None = None) -> str | None:
    """"held" (an analyst's hold not yet released), else "approved" (an approver approved these figures),
    "changed" (approved, but the week's figures changed since: approve again), else None."""
    approved = held = False
    approved_figures = None
    for d in decisions:
        if d.action == "approve":
            approved, approved_figures = True, d.figures
        elif d.action == "hold":
            held = True
        elif d.action == "release":
            held = False
    if held:
        return "held"
    if approved and figures is not None and approved_figures is not None and approved_figures != figures:
        return "changed"
    return "approved" if approved else None


@dataclass(frozen=True)
class Hold:
    """Why a week waits: what the owners are told, and the run's message."""

    problems: tuple[str, ...]
    notes: tuple[str, ...] = ()
    key: str = APPROVAL_HOLD

    @property
    def subject_word(self) -> str:
        return "AWAITING APPROVAL" if "approval" in self.problems[0] else "HELD"


def console_link(settings, week: date) -> str:
    """The week's page in the console (absolute with PUBLIC_BASE_URL)."""
    path = f"/console/weeks/{week.isoformat()}"
    return (settings.public_base_url or "") + path


def _decisions_read_only(engine, week: date) -> list:
    """The week's decisions without creating anything (a dry run writes nothing, not even a table)."""
    from sqlalchemy import inspect

    from .store import ConsoleStore

    if "week_approvals" not in inspect(engine).get_table_names():
        return []
    db = ConsoleStore.__new__(ConsoleStore)
    db.engine = engine
    return db.decisions(week)


def approval_hold(ctx, week: date, record: bool = True) -> Hold | None:
    """For the weekly run: why the week must wait (an analyst's hold, or approval required and not given), or None.

    A run held here is recorded (action "run held"), so that approving the week starts it at once;
    `record=False` (the dry run) reads only.
    """
    from .store import ConsoleStore

    db = ConsoleStore(ctx.store.engine) if record else None
    decisions = db.decisions(week) if record else _decisions_read_only(ctx.store.engine, week)
    state = status(decisions, week_figures(ctx.store.engine, week))
    link = console_link(ctx.settings, week)
    if state == "held":
        last = [d for d in decisions if d.action == "hold"][-1]
        why = (f"held: {last.by} held the week commencing {week:%Y-%m-%d} in the console on {last.at:%d %b %Y %H:%M} "
               f"UTC ({last.reason}); an analyst releases it at {link}",)
    elif ctx.config.delivery.approval == "required" and state == "changed":
        last = [d for d in decisions if d.action == "approve"][-1]
        why = (f"awaiting approval: the figures of the week commencing {week:%Y-%m-%d} changed after {last.by} "
               f"approved them on {last.at:%d %b %Y %H:%M} UTC; an approver approves them again at {link} "
               f"or at the terminal: obsession approve --week {week:%Y-%m-%d}",)
    elif ctx.config.delivery.approval == "required" and state != "approved":
        why = (f"awaiting approval: [delivery] approval = \"required\" and no approver has approved the week "
               f"commencing {week:%Y-%m-%d}; approve it in the console at {link} "
               f"or at the terminal: obsession approve --week {week:%Y-%m-%d}",)
    else:
        return None
    if record:
        db.decide(week, HELD_RUN, "weekly run", why[0])
    return Hold(problems=why)


def hold_text(week: date, hold: Hold) -> str:
    """The owners' notice of a week held for approval or by an analyst."""
    lines = [f"The obsessions tracker for the week commencing {week:%d %B %Y} has NOT been sent to anyone:", ""]
    lines += [f"  - {p}" for p in hold.problems]
    lines += ["", "Once it is approved (or released), the run starts again by itself when approved in the console, "
                  f"or run: obsession send --week {week:%Y-%m-%d}"]
    return "\n".join(lines) + "\n"


# -- the background run ----------------------------------------------------------------------------------

@dataclass
class RunState:
    """One weekly run started from the console: its output so far and how it ended."""

    week: date
    why: str
    started: datetime = field(default_factory=lambda: datetime.now(timezone.utc))
    finished: datetime | None = None
    code: int | None = None
    output: io.StringIO = field(default_factory=io.StringIO)

    @property
    def running(self) -> bool:
        return self.finished is None

    def lines(self) -> list[str]:
        """The run's output, the last 200 lines (progress bars' carriage returns folded)."""
        text = self.output.getvalue().replace("\r", "\n")
        return [ln for ln in text.splitlines() if ln.strip()][-200:]

    def describe(self) -> str:
        if self.running:
            return f"running since {self.started:%H:%M:%S} UTC ({self.why})"
        word = {0: "finished: everything delivered", 1: "finished: some deliveries failed",
                3: "held again"}.get(self.code, f"stopped (exit {self.code})")
        return f"{word} at {self.finished:%H:%M:%S} UTC ({self.why})"


class Runs:
    """Weekly runs started from the console, one at a time per week, each in a thread."""

    def __init__(self, console):
        self.c = console
        self._lock = threading.Lock()
        self._runs: dict[date, RunState] = {}

    def get(self, week: date) -> RunState | None:
        return self._runs.get(week)

    def start(self, week: date, why: str, **options) -> RunState:
        """Start run_weekly for the week in the background (unless one is running); its state."""
        with self._lock:
            current = self._runs.get(week)
            if current is not None and current.running:
                return current
            state = RunState(week, why)
            self._runs[week] = state
        threading.Thread(target=self._run, args=(state, options), name=f"console-run-{week}", daemon=True).start()
        return state

    def _run(self, state: RunState, options: dict) -> None:
        from bot.context import Context
        from bot.weekly import run_weekly
        from tracker.errors import ObsessionError

        out = state.output
        try:
            ctx = Context(settings=self.c.settings, config=self.c.config)
            state.code = run_weekly(ctx, week=state.week, out=out, err=out, **options)
        except ObsessionError as e:
            print(str(e), file=out)
            state.code = e.exit_code
        except Exception as e:   # the web process must survive; the page says what happened
            print(f"the run crashed: {type(e).__name__}: {e}", file=out)
            state.code = 1
        state.finished = datetime.now(timezone.utc)

    def wait(self, week: date, timeout: float = 300) -> RunState | None:
        """For tests and the bench: wait until the week's run has finished."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            s = self._runs.get(week)
            if s is None or not s.running:
                return s
            time.sleep(0.1)
        return self._runs.get(week)


# -- the console's pages and actions ---------------------------------------------------------------------

def week_state(console, week: date) -> dict:
    """What the week page shows of approvals, holds, overrides and the run."""
    decisions = console.db.decisions(week)
    run = console.runs.get(week) if console.runs else None
    return {"decisions": [d for d in decisions], "status": status(decisions, week_figures(console.store.engine, week)),
            "overrides": gate_overrides(console.store, week), "required": console.config.delivery.approval == "required",
            "run": run, "was_held": any(d.action == HELD_RUN for d in decisions)}


class Approvals:
    """Approve (approvers), hold and release (analysts), override the gate (approvers)."""

    def __init__(self, console):
        self.c = console
        console.runs = Runs(console)

    def _week(self, request):
        try:
            return date.fromisoformat(request.path_params["week"])
        except ValueError:
            return None

    def _reason(self, form, default: str | None = None) -> str | None:
        text = str(form.get("reason") or "").strip()[:2000]
        return text or default

    async def decide(self, request, user, form, action: str):
        from starlette.concurrency import run_in_threadpool
        from starlette.responses import RedirectResponse

        c = self.c
        week = self._week(request)
        if week is None or week.weekday():
            return c.refuse(request, user, 404, "No such week", "The address needs the Monday of a week, YYYY-MM-DD.")
        reason = self._reason(form, "approved in the console" if action == "approve" else None)
        if reason is None:
            return c.refuse(request, user, 422, "A reason is needed", f"Say why you {action} the week; nothing was "
                                                                      "changed. Go back and fill in the reason.")

        def work():
            was_held = any(d.action == HELD_RUN for d in c.db.decisions(week))
            figures = week_figures(c.store.engine, week) if action == "approve" else None
            c.db.decide(week, action, user.email, reason, figures)
            c.audit(request, user.email, action, f"week {week}: {reason}")
            if action in ("approve", "release") and was_held and status(c.db.decisions(week)) != "held":
                c.runs.start(week, f"{action}d by {user.email}")
        await run_in_threadpool(work)
        return RedirectResponse(f"/console/weeks/{week.isoformat()}", status_code=303)

    async def approve(self, request, user, form):
        return await self.decide(request, user, form, "approve")

    async def hold(self, request, user, form):
        return await self.decide(request, user, form, "hold")

    async def release(self, request, user, form):
        return await self.decide(request, user, form, "release")

    async def override(self, request, user, form):
        """Send a week the quality gate holds, recording who and why (hold_overrides), in the background."""
        from starlette.responses import RedirectResponse

        c = self.c
        week = self._week(request)
        reason = self._reason(form)
        if week is None or week.weekday() or reason is None:
            return c.refuse(request, user, 422, "A reason is needed", "Overriding the gate needs the week and a "
                                                                      "reason; nothing was changed.")
        c.audit(request, user.email, "override gate", f"week {week}: {reason}")
        c.runs.start(week, f"gate overridden by {user.email}", override_hold=reason, overridden_by=user.email)
        return RedirectResponse(f"/console/weeks/{week.isoformat()}/run", status_code=303)

    async def retry(self, request, user, form):
        """Run exactly what `obsession send --week W` would: the ledger sends only what is not sent yet."""
        from starlette.responses import RedirectResponse

        c = self.c
        week = self._week(request)
        if week is None or week.weekday():
            return c.refuse(request, user, 404, "No such week", "The address needs the Monday of a week.")
        c.audit(request, user.email, "retry", f"week {week}: run again to retry what failed")
        c.runs.start(week, f"retry started by {user.email}")
        return RedirectResponse(f"/console/weeks/{week.isoformat()}/run", status_code=303)

    async def run_page(self, request, user):
        c = self.c
        week = self._week(request)
        run = c.runs.get(week) if week else None
        return c.respond(request, "run.html", user=user, title="The weekly run", week=week, run=run)


def routes(console) -> list:
    """The approval routes."""
    from starlette.routing import Route

    a = Approvals(console)
    g = console.guard
    return [
        Route("/weeks/{week}/approve", g("approver", a.approve), methods=["POST"]),
        Route("/weeks/{week}/override", g("approver", a.override), methods=["POST"]),
        Route("/weeks/{week}/hold", g("analyst", a.hold), methods=["POST"]),
        Route("/weeks/{week}/release", g("analyst", a.release), methods=["POST"]),
        Route("/weeks/{week}/retry", g("analyst", a.retry), methods=["POST"]),
        Route("/weeks/{week}/run", g("viewer", a.run_page)),
    ]
