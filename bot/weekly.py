"""The weekly run: pull, check (the quality gate), render once per area, deliver to every recipient once.

Deliveries over real channels go through the ledger (bot.ledger), so a rerun sends only what is not
sent yet and two runs at once never send a row twice; channels without credentials write into the
outbox instead. One recipient or channel failing never stops the others; the run ends with a
summary and returns 1 when anything failed.
"""
from __future__ import annotations

import getpass
import sys
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

from tracker.errors import ConfigError, HeldByQualityGate

from .channels import CHANNELS, by_kind
from .channels.base import ChannelError, ChannelPlugin, Delivery, PlanContext
from .ledger import FAILED, SENDING, SENT, Key
from .recipients import Target, drop_unsubscribed, select_subscriptions, targets

HOLD = "quality-hold"        # the ledger's subscription name for the owners' notice of a held week
OWNERS = "owners"            # the summary's line for that notice, which goes by email
CLAIM_CHUNK = 200


def gate_as_of(week: date, requested: date | None) -> date:
    """The date staleness is judged on: today for the latest week, else the Monday after the week asked for."""
    return date.today() if requested is None else week + timedelta(days=7)


@dataclass
class Summary:
    """What a run did, per channel."""

    week: date
    sent: Counter = field(default_factory=Counter)
    already: Counter = field(default_factory=Counter)
    failed: Counter = field(default_factory=Counter)
    elsewhere: Counter = field(default_factory=Counter)
    outbox: Counter = field(default_factory=Counter)
    errors: dict = field(default_factory=lambda: defaultdict(list))     # message -> [labels]
    folders: list = field(default_factory=list)

    @property
    def any_failed(self) -> bool:
        """True when anything was not delivered."""
        return sum(self.failed.values()) > 0

    def lines(self) -> list[str]:
        """The summary for the operator."""
        out = [f"Week commencing {self.week:%Y-%m-%d}:"]
        for kind in [p.kind for p in CHANNELS] + [OWNERS]:
            parts = []
            for word, c in (("sent", self.sent), ("already sent", self.already), ("failed", self.failed),
                            ("being sent by another run", self.elsewhere), ("written to the outbox", self.outbox)):
                if c[kind]:
                    parts.append(f"{c[kind]} {word}")
            if parts:
                out.append(f"  {kind}: " + ", ".join(parts))
        if len(out) == 1:
            out.append("  nothing to deliver (no subscriptions with recipients)")
        for message, labels in self.errors.items():
            more = f" (and {len(labels) - 3} more)" if len(labels) > 3 else ""
            out.append(f"  FAILED {', '.join(labels[:3])}{more}: {message}")
        return out


def _log(out, text: str) -> None:
    print(text, file=out, flush=True)


def pull_sources(ctx, out) -> None:
    """Run the configured data sources (data_sources.pull), when there are any."""
    if not ctx.config.sources:
        return
    from data_sources.pull import pull_all

    for result in pull_all(ctx):
        _log(out, f"pull: {result.describe()}")


class Run:
    """One weekly run over the given targets (built by run_weekly)."""

    def __init__(self, ctx, week: date, out, err):
        self.ctx, self.settings, self.config = ctx, ctx.settings, ctx.config
        self.week, self.out, self.err = week, out, err
        self.summary = Summary(week)
        self.channels: dict[str, object] = {}
        self.dead: dict[str, str] = {}          # summary kind -> fatal error of this run

    # -- channels -------------------------------------------------------------------------------------
    @staticmethod
    def plugin(kind: str) -> ChannelPlugin:
        """The plugin behind a summary kind (the owners' notice goes by email)."""
        return by_kind("email" if kind == OWNERS else kind)

    def channel(self, kind: str):
        """The one open channel of a kind for the whole run."""
        plugin = self.plugin(kind)
        if plugin.kind not in self.channels:
            ch = self.channels[plugin.kind] = plugin.channel(self.settings, self.ctx)
            ch.open()
        return self.channels[plugin.kind]

    def _arrived(self, kind: str, delivery: Delivery) -> bool:
        """Whether a delivery a dead run was sending has arrived, for channels that can tell (Slack); else False."""
        arrived = getattr(self.channel(kind), "arrived", None)
        return bool(arrived and arrived(delivery))

    def close(self) -> None:
        """Close every channel opened."""
        for ch in self.channels.values():
            ch.close()

    # -- delivering -----------------------------------------------------------------------------------
    def fail(self, kind: str, label: str, message: str) -> None:
        self.summary.failed[kind] += 1
        self.summary.errors[message].append(label)

    def deliver(self, ledger, items: list[tuple[str, Key, callable]], progress) -> None:
        """Send each (kind, key, make: generation -> Delivery) through the ledger: claim, send, mark."""
        rows = {(r.subscription, r.channel, r.recipient): r for r in ledger.rows(self.week)}
        todo = []
        for kind, key, make in items:
            row = rows[(key.subscription, key.channel, key.recipient)]
            if row.status == SENT:
                self.summary.already[kind] += 1
                progress.step()
            else:
                todo.append((kind, row, make))
        for i in range(0, len(todo), CLAIM_CHUNK):
            chunk = todo[i:i + CLAIM_CHUNK]
            live = [(k, r, m) for k, r, m in chunk if k not in self.dead]
            for k, r, _ in chunk:
                if k in self.dead:
                    self.fail(k, r.recipient, self.dead[k])
                    progress.step(False)
            won = {r.id for r in ledger.claim([r for _, r, _ in live])}
            pending = [(k, r, m) for k, r, m in live if r.id in won]
            for k, r, _ in live:
                if r.id not in won:
                    self.summary.elsewhere[k] += 1
                    progress.step()
            n = -1
            try:
                for n, (kind, row, make) in enumerate(pending):  # noqa: B007  (n is read by the except below)
                    if kind in self.dead:
                        ledger.mark_failed(row.id, self.dead[kind])
                        self.fail(kind, row.recipient, self.dead[kind])
                        progress.step(False)
                        continue
                    delivery = None
                    try:
                        delivery = make(row.generation)
                        if row.status in (SENDING, FAILED) and self._arrived(kind, delivery):
                            # Tried before (a dead run's, or one that failed after perhaps reaching the
                            # channel) and the channel finds it arrived: marked sent, not sent twice.
                            ledger.mark_sent(row.id)
                            self.summary.already[kind] += 1
                            progress.step()
                            continue
                        self.channel(kind).send(delivery)
                    except ChannelError as e:
                        if e.fatal:
                            self.dead[kind] = e.message
                        ledger.mark_failed(row.id, e.message)
                        self.fail(kind, delivery.label if delivery else row.recipient, e.message)
                        progress.step(False)
                        continue
                    except ConfigError as e:        # a value refused while building the payload
                        ledger.mark_failed(row.id, e.message)
                        self.fail(kind, row.recipient, e.message)
                        progress.step(False)
                        continue
                    ledger.mark_sent(row.id)
                    self.summary.sent[kind] += 1
                    progress.step()
            except BaseException:
                # Interrupted: hand back what this run claimed and did not get to. The row being sent
                # stays claimed: whether it arrived is unknown, so the next run takes it over.
                ledger.release([r.id for _, r, _ in pending[n + 1:]])
                raise

    def to_outbox(self, folder: Path, kind: str, deliveries: list[Delivery], progress) -> None:
        """Write deliveries of one kind into a subscription's outbox folder."""
        from .channels.outbox import OutboxChannel

        ch = OutboxChannel(self.plugin(kind), folder)
        ch.open()
        for d in deliveries:
            ch.send(d)
            self.summary.outbox[kind] += 1
            progress.step()
        if folder not in self.summary.folders:
            self.summary.folders.append(folder)


def _models(ctx, figures, week, areas, out):
    """The tracker and its PNG for each area, rendered once."""
    from renderers.png import render_png
    from tracker.arithmetic import build_tracker

    models = {}
    for area in dict.fromkeys(areas):
        model = build_tracker(figures, ctx.config, week, area)
        models[area] = (model, render_png(model))
    return models


def _hold_text(config, week, result, reason_hint: str) -> str:
    lines = [f"The obsessions tracker for the week commencing {week:%d %B %Y} has NOT been sent to anyone:",
             "the data-quality gate held it.", "", "What failed:"]
    lines += [f"  - {p}" for p in result.problems]
    if result.notes:
        lines += ["", "Notes:"] + [f"  - {n}" for n in result.notes]
    lines += ["", "To fix it, load the right figures (obsession import FILE, or obsession pull) and run",
              f"  obsession send --week {week:%Y-%m-%d}",
              "", "If the figures are right after all, send anyway (your user name and the reason are recorded):",
              f'  obsession send --week {week:%Y-%m-%d} --override-hold "{reason_hint}"',
              "", f"Check again at any time with: obsession check --week {week:%Y-%m-%d}"]
    return "\n".join(lines) + "\n"


def _notify_owners(run: Run, ledger, result, progress_stream, hold=None) -> None:
    """Tell the [quality] owners what held the week (once per week and owner, through the ledger).

    `hold` (bot.console.approval.Hold): the week awaits approval or an analyst held it, not the gate.
    """
    from .channels.email import EMAIL, check_address
    from .channels.outbox import outbox_folder
    from .progress import Progress

    config, settings, week = run.config, run.settings, run.week
    owners = [check_address(a, f"{config.path}: [quality] owners_email") for a in config.quality.owners_email]
    if not owners:
        _log(run.err, "nobody was told: [quality] owners_email is empty; add the performance team's address")
        return
    pc = PlanContext(week, settings, config, image_url=lambda area: None, signer=None)   # a notice needs neither
    key, subject, text = HOLD, (f"HELD: obsessions tracker, week commencing {week:%d %B %Y} "
                                f"({len(result.problems)} problem{'s' if len(result.problems) != 1 else ''})"), None
    if hold is not None:
        from .console.approval import hold_text

        key, text = hold.key, hold_text(week, hold)
        subject = f"{hold.subject_word}: obsessions tracker, week commencing {week:%d %B %Y}"
    planned = EMAIL.plan_notice(pc, key, subject,
                                text or _hold_text(config, week, result, "figures checked by hand: <why>"), owners)
    progress = Progress(len(owners), "telling the owners", progress_stream)
    if EMAIL.configured(settings):
        keys = [Key(key, EMAIL.kind, p.recipient) for p in planned]
        ledger.ensure(week, keys)
        run.deliver(ledger, [(OWNERS, k, p.make) for k, p in zip(keys, planned)], progress)
    else:
        run.to_outbox(outbox_folder(settings.outbox_dir, week, key), OWNERS, [p.make(0) for p in planned], progress)
    progress.close()


def run_weekly(ctx, *, week: date | None = None, subscription: str | None = None, dry_run: bool = False,
               force: bool = False, override_hold: str | None = None, pull: bool = True,
               out=None, err=None, overridden_by: str | None = None) -> int:
    """The weekly run; returns 0 (done), 1 (something failed) or raises HeldByQualityGate (exit 3)."""
    from tracker.arithmetic import resolve_week
    from tracker.quality import check_week

    out = out or sys.stdout
    err = err or sys.stderr
    if pull and not dry_run:
        pull_sources(ctx, err)
    figures = ctx.figures(refresh=True)
    requested = week
    week = resolve_week(figures, week)
    config = ctx.config
    subs = select_subscriptions(config, subscription)
    plan = targets(config, subs)
    if override_hold is not None and not override_hold.strip():
        raise ConfigError("--override-hold needs a reason, e.g. --override-hold \"NEET spike checked with the "
                          "tracking team\"")
    result = check_week(figures, config, week, gate_as_of(week, requested))
    for note in result.notes:
        _log(err, f"note: {note}")
    run = Run(ctx, week, out, err)

    from .ledger import Ledger

    if dry_run:
        peek = Ledger.read_only(ctx.store.engine)
        return _dry_run(run, drop_unsubscribed(plan, peek.unsubscribed(), out), result, figures, override_hold, peek)

    ledger = Ledger.open(ctx.settings.database_url)
    try:
        plan = drop_unsubscribed(plan, ledger.unsubscribed(), err)
        if not result.passed:
            if override_hold is None:
                _notify_owners(run, ledger, result, err)
                run.close()
                for line in run.summary.lines()[1:]:
                    _log(out, line)
                raise HeldByQualityGate(
                    f"the week commencing {week:%Y-%m-%d} is held by the data-quality gate; nothing was sent "
                    f"except a notice to the owners ({', '.join(config.quality.owners_email) or 'none configured'}).\n"
                    + "\n".join(f"  - {p}" for p in result.problems)
                    + f"\nFix the figures and run again, or send anyway: obsession send --week {week:%Y-%m-%d} "
                      f"--override-hold \"REASON\"")
            user = overridden_by or getpass.getuser()
            ledger.record_override(week, user, override_hold, list(result.problems))
            _log(err, f"held by the gate, sent anyway on the word of {user}: {override_hold}")
        from .console.approval import approval_hold  # [delivery] approval = "required", or an analyst's hold

        waiting = approval_hold(ctx, week)
        if waiting is not None:
            _notify_owners(run, ledger, waiting, err, hold=waiting)
            run.close()
            for line in run.summary.lines()[1:]:
                _log(out, line)
            raise HeldByQualityGate(f"the week commencing {week:%Y-%m-%d} is held; nothing was sent except a notice "
                                    f"to the owners.\n" + "\n".join(f"  - {p}" for p in waiting.problems))
        _deliver_all(run, ledger, plan, figures, force)
    finally:
        run.close()
        ledger.close()
    for line in run.summary.lines():
        _log(out, line)
    return 1 if run.summary.any_failed else 0


def _deliver_all(run: Run, ledger, plan: list[Target], figures, force: bool) -> None:
    """Render once per area, then deliver every target's recipients on every channel (bot.channels.CHANNELS)."""
    from .channels.outbox import IMAGE, outbox_folder, write_file
    from .progress import Progress

    settings, week = run.settings, run.week
    models = _models(run.ctx, figures, week, [t.subscription.area for t in plan], run.err)
    pc = PlanContext(week, settings, run.config, _image_url_for(settings, week), _signer(settings))

    ledgered: list[tuple[str, Key, callable]] = []
    outboxed: list[tuple[Path, str, list[Delivery]]] = []
    images: dict[Path, bytes] = {}      # outbox folder -> the PNG written beside its files
    for t in plan:
        sub = t.subscription
        model, png = models[sub.area]
        for plugin in CHANNELS:
            recipients = t.recipients[plugin.kind]
            planned = plugin.plan(pc, sub, recipients, model, png) if recipients else []
            ledgered += [(plugin.kind, Key(sub.name, plugin.kind, p.recipient), p.make) for p in planned if not p.outbox]
            boxed = [p.make(0) for p in planned if p.outbox]
            if boxed:
                folder = outbox_folder(settings.outbox_dir, week, sub.name)
                images[folder] = png
                outboxed.append((folder, plugin.kind, boxed))
    for folder, png in images.items():
        write_file(folder, IMAGE, png)

    total = len(ledgered) + sum(len(d) for _, _, d in outboxed)
    progress = Progress(total, "delivering", run.err)
    try:
        for folder, kind, deliveries in outboxed:
            run.to_outbox(folder, kind, deliveries, progress)
        if ledgered:
            keys = [k for _, k, _ in ledgered]
            ledger.ensure(week, keys)
            if force:
                n = ledger.reopen(week, keys)
                _log(run.err, f"--force: {n} deliveries already made will be made again")
            run.deliver(ledger, ledgered, progress)
    finally:
        progress.close()


def _image_url_for(settings, week):
    """area -> the archive's (signed) image URL, when PUBLIC_BASE_URL is set."""
    if not settings.public_base_url:
        return lambda area: None
    from renderers.paths import tracker_path

    from .urls import public_url

    return lambda area: public_url(settings, tracker_path(week, area, ".png"), sign=True)


def _signer(settings):
    from .urls import signature, signing_key

    key = signing_key(settings)
    return (lambda path: signature(key, path)) if key else None


def _dry_run(run: Run, plan: list[Target], result, figures, override_hold, ledger) -> int:
    """Render everything and say what would be sent to whom; send nothing, change no ledger."""
    out, week, settings = run.out, run.week, run.settings
    models = _models(run.ctx, figures, week, [t.subscription.area for t in plan], run.err)
    _log(out, f"Dry run for the week commencing {week:%Y-%m-%d}: nothing is sent, the ledger is untouched, "
              f"and no data source is pulled.")
    _log(out, f"Rendered {len(models)} tracker{'s' if len(models) != 1 else ''} "
              f"({', '.join(models) if len(models) <= 4 else f'{len(models)} areas'}).")
    if not result.passed:
        _log(out, "The data-quality gate HOLDS this week:")
        for p in result.problems:
            _log(out, f"  - {p}")
        if override_hold is None:
            owners = ", ".join(run.config.quality.owners_email) or "nobody ([quality] owners_email is empty)"
            _log(out, f"A real run would send nothing except a notice to {owners}, and exit 3.")
            return 3
        _log(out, f"--override-hold given ({override_hold!r}): a real run would send anyway.")
    from .console.approval import approval_hold

    waiting = approval_hold(run.ctx, week, record=False)
    if waiting is not None:
        _log(out, "The week is HELD:\n" + "\n".join(f"  - {p}" for p in waiting.problems))
        _log(out, "A real run would send nothing except a notice to the owners, and exit 3.")
        return 3
    sent = ledger.sent_keys(week)
    for t in plan:
        sub = t.subscription
        _log(out, f"{sub.name} ({sub.area}):")
        for plugin in CHANNELS:
            for line in plugin.dry_run_lines(settings, sub, t.recipients[plugin.kind], sent):
                _log(out, f"  {line}")
        if not any(t.recipients.values()):
            _log(out, "  no recipients")
    return 0
