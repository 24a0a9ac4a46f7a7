"""attach = ["pdf"] / ["docx"] in [[subscriptions]]: the file added to the email, and the email kept under 10 MB."""
from __future__ import annotations

import io
import logging
from datetime import date

import pytest
from docx import Document
from pypdf import PdfReader

from bot.channels import email as mail
from bot.cli import main
from renderers.formatting import alt_text
from tests.servers import SMTPServer
from tests.test_weekly_run import email_sub, seed, write_config
from tracker.config import parse_config

WEEK = date(2015, 7, 20)


def config_text(extra: str) -> str:
    from tracker.config import demo_config_text

    return demo_config_text().split("# Subscriptions:")[0] + extra


def config_with(extra: str):
    return parse_config(config_text(extra), "agenda.toml")


def test_attach_is_read_and_checked(demo_config):
    cfg = config_with(email_sub("chairs", ["chair@example.gov.uk"], 'attach = ["pdf", "docx"]'))
    assert cfg.subscriptions[0].attach == ("pdf", "docx")
    assert config_with(email_sub("plain", ["a@example.gov.uk"])).subscriptions[0].attach == ()
    from tracker.errors import ConfigError

    for bad, words in (('attach = ["odt"]', '"odt" is not a file the email can attach'),
                       ('attach = ["pdf", "pdf"]', '"pdf" is listed twice'),
                       ("attach = 3", "must be a list of strings")):
        text = email_sub("chairs", ["chair@example.gov.uk"], bad)
        with pytest.raises(ConfigError) as e:
            config_with(text)
        lines = config_text(text).splitlines()
        # The reader names the line of the subscription's [[subscriptions]] header (as for its other keys).
        line = 1 + next(i for i, ln in enumerate(lines) if ln.startswith("[[subscriptions]]"))
        assert words in str(e.value) and f"agenda.toml, line {line}: subscriptions[0].attach" in str(e.value)


def template(model, png, attachments):
    return mail.build_template(model, png, subscription="chairs", sender="tracker@example.gov.uk",
                               from_name="Performance team", public_base_url=None, unsubscribe_address=None,
                               attachments=attachments)


def test_the_files_are_attached_named_by_view_week_and_area(figure2_tracker):
    from renderers.png import render_png

    png = render_png(figure2_tracker)
    files = mail.render_attachments(figure2_tracker, png, ("pdf", "docx"))
    assert [n for n, _ in files] == ["tracker-2015-07-20-leeds.pdf", "tracker-2015-07-20-leeds.docx"]
    tpl = template(figure2_tracker, png, files)
    msg = mail.parse(mail.build_payload(tpl, "chair@example.gov.uk", "<m@example.gov.uk>"))
    parts = {p.get_filename(): p for p in msg.iter_attachments()}
    assert set(parts) == {"tracker-2015-07-20-leeds.pdf", "tracker-2015-07-20-leeds.docx"}
    assert parts["tracker-2015-07-20-leeds.pdf"].get_content_type() == "application/pdf"
    pdf = PdfReader(io.BytesIO(parts["tracker-2015-07-20-leeds.pdf"].get_content()))
    assert pdf.metadata.subject == alt_text(figure2_tracker)
    doc = Document(io.BytesIO(parts["tracker-2015-07-20-leeds.docx"].get_content()))
    assert doc.tables and doc.paragraphs[0].text == "Weekly obsessions tracker: Leeds"
    # The message itself is still there: the text, the HTML and its inline picture.
    assert msg.get_body(("plain",)) is not None and msg.get_body(("html",)) is not None
    assert tpl.left_out == ()
    assert len(tpl.head) + len(tpl.body) < mail.MAX_EMAIL_BYTES


def test_a_file_that_would_take_the_email_over_the_cap_is_left_out(figure2_tracker, monkeypatch, caplog):
    from renderers.png import render_png

    png = render_png(figure2_tracker)
    files = mail.render_attachments(figure2_tracker, png, ("pdf", "docx"))
    plain = template(figure2_tracker, png, [])
    base = len(plain.head) + len(plain.body) + mail.RECIPIENT_HEADERS
    pdf = len(files[0][1])
    # Room for the PDF only (base64 is 4/3 of its size plus line ends), not for the Word file as well.
    monkeypatch.setattr(mail, "MAX_EMAIL_BYTES", base + pdf * 4 // 3 + 5000)
    tpl = template(figure2_tracker, png, files)
    assert tpl.left_out == ("tracker-2015-07-20-leeds.docx",)
    raw = mail.build_payload(tpl, "chair@example.gov.uk", "<m@example.gov.uk>")
    assert len(raw) < mail.MAX_EMAIL_BYTES
    assert [p.get_filename() for p in mail.parse(raw).iter_attachments()] == ["tracker-2015-07-20-leeds.pdf"]


@pytest.fixture
def smtp(demo_env, monkeypatch, tmp_path):
    from tracker.config import load_config
    from tracker.demo_data import demo_frame

    frame = demo_frame(load_config(None), date(2015, 9, 14))
    seed(demo_env["DATABASE_URL"], frame[frame["area"] == "Leeds"].reset_index(drop=True))
    srv = SMTPServer().start()
    for k, v in srv.env().items():
        monkeypatch.setenv(k, v)
    yield srv
    srv.stop()


def test_the_weekly_run_sends_the_attachment_over_smtp(smtp, tmp_path, monkeypatch, caplog):
    subs = email_sub("chairs", ["chair@example.gov.uk", "vice@example.gov.uk"], 'attach = ["pdf"]') + \
        email_sub("staff", ["staff@example.gov.uk"])
    monkeypatch.setenv("OBSESSION_CONFIG", str(write_config(tmp_path, subs)))
    with caplog.at_level(logging.WARNING, logger="obsession.email"):
        assert main(["send", "--week", "2015-07-20"]) == 0
    by_to = {m["To"]: m for m in smtp.box.parsed()}
    assert set(by_to) == {"chair@example.gov.uk", "vice@example.gov.uk", "staff@example.gov.uk"}
    for to in ("chair@example.gov.uk", "vice@example.gov.uk"):
        (part,) = list(by_to[to].iter_attachments())
        assert part.get_filename() == "tracker-2015-07-20-leeds.pdf"
        assert part.get_content()[:5] == b"%PDF-"
    assert list(by_to["staff@example.gov.uk"].iter_attachments()) == []
    assert all(len(raw) < mail.MAX_EMAIL_BYTES for _, _, raw in smtp.box.messages)
    assert not caplog.records


def test_the_dry_run_says_which_files_each_subscription_attaches(smtp, tmp_path, monkeypatch, capsys):
    subs = email_sub("chairs", ["chair@example.gov.uk"], 'attach = ["pdf", "docx"]') + \
        email_sub("staff", ["staff@example.gov.uk"])
    monkeypatch.setenv("OBSESSION_CONFIG", str(write_config(tmp_path, subs)))
    assert main(["send", "--week", "2015-07-20", "--dry-run"]) == 0
    out = capsys.readouterr().out
    chairs = next(line for line in out.splitlines() if "chair@example.gov.uk" in line)
    staff = next(line for line in out.splitlines() if "staff@example.gov.uk" in line)
    assert "with a PDF and a Word file (.docx) attached" in chairs and "10 MB" in chairs
    assert "attached" not in staff
    assert smtp.box.messages == []
