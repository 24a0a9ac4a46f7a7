"""Channels as plugins: a channel added to bot.channels.CHANNELS (one module, one line) goes through the
weekly run, its ledger, summary, dry run, outbox and the demo job's outbox count with nothing else
changed; and the ledger's read-only view that the dry run uses."""
from __future__ import annotations

import io
from datetime import date
from pathlib import Path

import pytest

from bot.channels import CHANNELS, by_kind
from bot.channels.base import ChannelPlugin, Delivery, Planned
from bot.channels.outbox import safe_name, write_file
from bot.cli import main
from tests.servers import SMTPServer
from tests.test_weekly_run import addresses, city_frame, email_sub, seed, write_config  # noqa: F401 (fixture)

WEEK = date(2015, 7, 20)


class NotesChannel:
    """A channel that keeps what it was given (the test's stand-in for a service)."""

    name = "notes"

    def __init__(self, inbox: list):
        self.inbox = inbox

    def open(self) -> None:
        """Nothing to open."""

    def send(self, delivery: Delivery) -> None:
        """Keep the delivery."""
        self.inbox.append(delivery)

    def close(self) -> None:
        """Nothing to close."""


class NotesPlugin(ChannelPlugin):
    """A fourth channel: one note per subscription, named after it, holding the model's heading."""

    kind = "notes"
    outbox_files = ("notes (.note)", "*.note")
    outbox_hint = "read a .note with cat"

    def __init__(self, configured: bool):
        self.is_configured = configured
        self.inbox: list[Delivery] = []

    def recipients_of(self, sub, where, base_dir):
        return [f"note-{sub.name}"]

    def configured(self, settings):
        return self.is_configured

    def channel(self, settings, ctx):
        return NotesChannel(self.inbox)

    def plan(self, pc, sub, recipients, model, png):
        from renderers.formatting import subject

        text = f"{subject(model)} for {sub.name}, generation "
        return [Planned(r, lambda generation, r=r: Delivery(r, f"note {r}", text + str(generation)),
                        outbox=not self.is_configured) for r in recipients]

    def dry_run_lines(self, settings, sub, recipients, sent):
        return [f"notes to {r}" + (" (already sent)" if (sub.name, self.kind, r) in sent else "")
                for r in recipients]

    def outbox_write(self, folder, delivery):
        return write_file(folder, f"{safe_name(delivery.recipient)}.note", delivery.payload)


@pytest.fixture
def notes():
    """Register a NotesPlugin (as a new channel module's one registry line would) for one test."""
    made = []

    def register(configured: bool) -> NotesPlugin:
        plugin = NotesPlugin(configured)
        CHANNELS.append(plugin)
        made.append(plugin)
        return plugin
    yield register
    for p in made:
        CHANNELS.remove(p)


@pytest.fixture
def configured_env(demo_env, monkeypatch, tmp_path, city_frame):  # noqa: F811 (the fixture imported above)
    seed(demo_env["DATABASE_URL"], city_frame)
    path = write_config(tmp_path, email_sub("city", addresses(2)) + email_sub("board", addresses(1, "board")))
    monkeypatch.setenv("OBSESSION_CONFIG", str(path))
    return demo_env


def test_the_registry_holds_every_channel_once():
    kinds = [p.kind for p in CHANNELS]
    assert kinds == ["email", "slack", "teams"]
    assert all(by_kind(k).kind == k for k in kinds)
    assert {p.outbox_files[1] for p in CHANNELS} == {"*.eml", "slack-*.json", "teams-*.json"}


def test_a_registered_channel_is_sent_once_through_the_ledger(configured_env, notes, monkeypatch, capsys):
    plugin = notes(configured=True)
    srv = SMTPServer().start()
    try:
        for k, v in srv.env().items():
            monkeypatch.setenv(k, v)
        assert main(["send", "--week", "2015-07-20"]) == 0
        out = capsys.readouterr().out
        assert sorted(d.recipient for d in plugin.inbox) == ["note-board", "note-city"]
        city = next(d for d in plugin.inbox if d.recipient == "note-city")
        assert "Leeds" in city.payload and "20 July 2015" in city.payload and city.payload.endswith("generation 0")
        assert "notes: 2 sent" in out and "email: 3 sent" in out
        assert len(srv.box.messages) == 3

        assert main(["send", "--week", "2015-07-20"]) == 0
        assert "notes: 2 already sent" in capsys.readouterr().out
        assert len(plugin.inbox) == 2                       # the ledger kept the second run from sending again

        assert main(["send", "--week", "2015-07-20", "--dry-run"]) == 0
        dry = capsys.readouterr().out
        assert "  notes to note-city (already sent)" in dry and "  notes to note-board (already sent)" in dry

        assert main(["send", "--week", "2015-07-20", "--force", "--subscription", "city"]) == 0
        assert plugin.inbox[-1].recipient == "note-city" and plugin.inbox[-1].payload.endswith("generation 1")
    finally:
        srv.stop()

    from bot.ledger import Ledger

    led = Ledger.open(configured_env["DATABASE_URL"])
    try:
        rows = {(r.subscription, r.recipient): r.status for r in led.rows(WEEK) if r.channel == "notes"}
    finally:
        led.close()
    assert rows == {("city", "note-city"): "sent", ("board", "note-board"): "sent"}


def test_a_registered_channel_without_credentials_writes_the_outbox(configured_env, notes):
    from bot.context import Context
    from bot.jobs import weekly_job

    plugin = notes(configured=False)
    buf = io.StringIO()
    assert weekly_job(Context.from_env(), week=WEEK, out=buf) == 0
    out = buf.getvalue()
    assert plugin.inbox == []
    week = Path(configured_env["OUTBOX_DIR"]) / "2015-07-20"
    notes_written = sorted(p.relative_to(week).as_posix() for p in week.glob("*/*.note"))
    assert notes_written == ["board/note-board.note", "city/note-city.note"]
    assert (week / "city" / "note-city.note").read_text(encoding="utf-8").endswith("for city, generation 0")
    assert "notes: 2 written to the outbox" in out
    assert f"{len(notes_written)} notes (.note)" in out and "3 email (.eml)" in out
    assert "read a .note with cat." in out


def test_the_read_only_ledger_creates_nothing_and_reads_what_was_sent(database_url):
    from sqlalchemy import inspect

    from bot.ledger import Key, Ledger
    from tracker.store import engine_for

    engine = engine_for(database_url)
    try:
        peek = Ledger.read_only(engine)
        assert peek.sent_keys(WEEK) == set() and peek.unsubscribed() == set()
        peek.close()
        assert "deliveries" not in inspect(engine).get_table_names()
        assert "unsubscribes" not in inspect(engine).get_table_names()

        led = Ledger.open(database_url)
        try:
            keys = [Key("city", "email", "a@example.gov.uk"), Key("city", "slack", "C0CITY")]
            led.ensure(WEEK, keys)
            (first,) = led.claim([r for r in led.rows(WEEK) if r.channel == "email"])
            led.mark_sent(first.id)
            led.unsubscribe("board", "B@example.gov.uk", "page")
        finally:
            led.close()

        peek = Ledger.read_only(engine)
        assert peek.sent_keys(WEEK) == {("city", "email", "a@example.gov.uk")}      # the slack row is pending
        assert peek.sent_keys(date(2015, 7, 27)) == set()
        assert peek.unsubscribed() == {("board", "b@example.gov.uk")}
        peek.close()
        with engine.connect():            # close() left the engine, which is not the ledger's, usable
            pass
    finally:
        engine.dispose()
