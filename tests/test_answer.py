"""The one answering function: the right model for each question, in text, JSON, Slack and Teams."""
from __future__ import annotations

import dataclasses
import json
import shutil
from datetime import date
from pathlib import Path

import jsonschema
import pytest

from bot.chat.answer import (
    BREAKDOWN,
    ERROR,
    HELP,
    OBSESSION,
    TRACKER,
    answer,
    render,
    render_image,
    to_dict,
    to_slack,
    to_teams,
    to_text,
)
from bot.chat.grammar import Query

FIGURE2 = date(2015, 7, 20)
SCHEMA = json.loads((Path(__file__).parent / "fixtures" / "adaptive-card-1.5.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def card_validator():
    return jsonschema.Draft6Validator(SCHEMA)


def ask(text, demo_config, demo_figures):
    return answer(text, demo_config, demo_figures)


def raw(frame, obsession, area, week):
    """The stored figure, read straight from the demo frame (not through the model)."""
    hit = frame[(frame.obsession == obsession) & (frame.area == area)
                & (frame.week_commencing.astype(str) == week.isoformat())]
    assert len(hit) == 1
    return float(hit.value.iloc[0])


def test_bare_command_is_the_city_tracker_for_the_latest_week(demo_config, demo_figures, demo_frame):
    a = ask("", demo_config, demo_figures)
    assert a.kind == TRACKER
    latest = max(demo_frame.week_commencing.astype(str))
    assert a.model.week.isoformat() == latest
    assert a.model.area == "Leeds"
    assert [r.obsession.key for r in a.model.rows] == ["cla", "neet", "absence_primary", "absence_secondary"]
    assert a.image_path() == f"/trackers/{latest}/leeds.png"


def test_figure2_week_in_every_format(demo_config, demo_figures):
    a = ask("week=2015-07-22", demo_config, demo_figures)
    text = to_text(a)
    assert "Latest position this week:   1,247" in text          # the published tracker
    d = to_dict(a)
    cla = d["tracker"]["rows"][0]
    assert (cla["latest"], cla["change_since_last_week"], cla["change_since_baseline"]) == (1247, -5, -175)
    assert d["query"]["week"] == "2015-07-20"
    assert "1,247" in json.dumps(to_slack(a))
    assert "1,247" in json.dumps(to_teams(a))


def test_one_obsession_is_its_row_and_its_curve(demo_config, demo_figures):
    a = ask("neet cluster=Seacroft week=2015-07-20", demo_config, demo_figures)
    assert a.kind == OBSESSION
    assert [r.obsession.key for r in a.model.rows] == ["neet"]
    assert a.model.area == "Seacroft Manston" and a.model.week == FIGURE2
    assert a.curve.obsession.key == "neet" and a.curve.area == "Seacroft Manston"
    assert a.curve.history[-1].week <= FIGURE2
    assert a.image_path() == "/trackers/2015-07-20/seacroft-manston/neet.png"
    assert a.page_path() == "/trackers/2015-07-20/seacroft-manston"
    assert "young people not in employment" in to_text(a)


def test_breakdown_is_ranked_with_laggards(demo_config, demo_figures):
    a = ask("cla clusters week=2015-07-20", demo_config, demo_figures)
    assert a.kind == BREAKDOWN
    ranks = [r.rank for r in a.model.rows if r.rank is not None]
    assert ranks == list(range(1, len(ranks) + 1))
    assert any(r.lagging for r in a.model.rows)
    assert len(a.model.rows) == len(demo_config.clusters)
    assert a.image_path() == "/breakdowns/2015-07-20/cla.png"
    assert "lagging" in to_text(a)


def test_week_last_is_the_week_before_the_latest(demo_config, demo_figures, demo_frame):
    weeks = sorted(set(demo_frame.week_commencing.astype(str)))
    a = ask("week=last", demo_config, demo_figures)
    assert a.model.week.isoformat() == weeks[-2]


def test_a_week_without_figures_is_an_error_naming_the_range(demo_config, demo_figures):
    a = ask("week=1999-01-04", demo_config, demo_figures)
    assert a.kind == ERROR
    assert "1999-01-04" in a.message and "2009-04-06" in a.message
    assert "Traceback" not in to_text(a)


def test_unknown_question_is_one_line_and_an_example(demo_config, demo_figures):
    a = ask("what is the meaning of life", demo_config, demo_figures)
    assert a.kind == ERROR
    lines = to_text(a).strip().splitlines()
    assert len(lines) == 2 and lines[1].startswith("Try: /obsession")


def test_help(demo_config, demo_figures):
    a = ask("help", demo_config, demo_figures)
    assert a.kind == HELP and not a.has_image
    assert "week=last" in to_text(a)


def test_withheld_counts_stay_withheld_in_every_format(demo_config, demo_figures, demo_frame):
    hidden = raw(demo_frame, "cla", "Headingley", FIGURE2)
    assert 1 <= hidden < demo_config.suppress_below          # the fixture's premise: a small count
    a = ask("cla cluster=Headingley week=2015-07-20", demo_config, demo_figures)
    row = to_dict(a)["tracker"]["rows"][0]
    assert row["latest"] is None and row["suppressed"] is True
    assert row["change_since_last_week"] is None and row["change_since_baseline"] is None
    assert "Latest position this week:   c\n" in to_text(a)
    fields = [f["text"] for b in to_slack(a)["blocks"] for f in b.get("fields", [])]
    assert "*Latest*\nc" in fields
    assert not any(f.endswith(f"\n{hidden:g}") for f in fields)
    cells = _card_cells(to_teams(a))
    assert cells[1][1] == "c"
    # The chart's history has the week as a gap, never the count.
    point = [p for p in a.curve.history if p.week == FIGURE2]
    assert point and point[0].value is None


def test_withheld_counts_stay_withheld_in_the_breakdown(demo_config, demo_figures, demo_frame):
    hidden = raw(demo_frame, "cla", "Headingley", FIGURE2)
    a = ask("cla clusters week=2015-07-20", demo_config, demo_figures)
    row = [c for c in to_dict(a)["breakdown"]["clusters"] if c["area"] == "Headingley"][0]
    assert row["latest"] is None and row["rank"] is None
    line = [ln for ln in to_text(a).splitlines() if "Headingley" in ln][0]
    assert line.split()[2] == "c"
    assert f" {hidden:g} " not in line


def _card_cells(message):
    """The texts of each table row's cells in the card."""
    card = message["attachments"][0]["content"]
    rows = []
    for item in card["body"]:
        if item.get("type") == "Table":
            for r in item["rows"]:
                texts = []
                for cell in r["cells"]:
                    t = ""
                    for it in cell["items"]:
                        t += it.get("text", "") + "".join(i.get("text", "") for i in it.get("inlines", []))
                    texts.append(t)
                rows.append(texts)
    return rows


@pytest.mark.parametrize("text", ["", "help", "pizza", "neet", "cla cluster=Headingley week=2015-07-20",
                                  "cla clusters", "absence cluster=Wetherby", "week=1999-01-04"])
def test_every_teams_answer_is_a_valid_adaptive_card(text, demo_config, demo_figures, card_validator):
    msg = to_teams(ask(text, demo_config, demo_figures), image_url="https://tracker.example/x.png?sig=abc")
    assert msg["type"] == "message"
    att = msg["attachments"][0]
    assert att["contentType"] == "application/vnd.microsoft.card.adaptive"
    card_validator.validate(att["content"])
    assert att["content"]["version"] == "1.5"


def test_slack_visibility_follows_public(demo_config, demo_figures):
    assert to_slack(ask("neet", demo_config, demo_figures))["response_type"] == "ephemeral"
    assert to_slack(ask("neet public", demo_config, demo_figures))["response_type"] == "in_channel"
    # An error is only ever shown to the asker, even with public.
    assert to_slack(ask("pizza public", demo_config, demo_figures))["response_type"] == "ephemeral"


def test_slack_image_by_url(demo_config, demo_figures):
    url = "https://tracker.example/trackers/2015-07-20/leeds.png?sig=abc"
    msg = to_slack(ask("week=2015-07-20", demo_config, demo_figures), image_url=url)
    images = [b for b in msg["blocks"] if b["type"] == "image"]
    assert images and images[0]["image_url"] == url and images[0]["alt_text"]


def test_help_and_errors_are_plain_text_in_slack(demo_config, demo_figures):
    for text in ("help", "cluster=<!channel>", "zzz <@U123>"):
        msg = to_slack(ask(text, demo_config, demo_figures))
        assert msg["blocks"][0]["text"]["type"] == "plain_text"
        assert "<!" not in json.dumps(msg) and "<@" not in json.dumps(msg)


def test_json_format_is_json(demo_config, demo_figures):
    for text in ("", "neet cluster=Seacroft", "cla clusters", "help", "pizza"):
        d = json.loads(render(ask(text, demo_config, demo_figures), "json"))
        assert d["answer"] in (TRACKER, OBSESSION, BREAKDOWN, HELP, ERROR)


def test_images_are_pngs(demo_config, demo_figures):
    for text in ("cla cluster=Seacroft week=2015-07-20", "week=2015-07-20", "cla clusters week=2015-07-20"):
        png = render_image(ask(text, demo_config, demo_figures))
        assert png[:8] == b"\x89PNG\r\n\x1a\n"
    assert render_image(ask("help", demo_config, demo_figures)) is None


def test_query_object_is_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        Query().public = True


# ---- `obsession ask` --------------------------------------------------------------------------------

@pytest.fixture
def seeded_env(demo_env, seeded_db, tmp_path):
    shutil.copy(seeded_db, tmp_path / "obsessions.db")
    return demo_env


def test_ask_command_prints_the_chat_answer(seeded_env, capsys):
    from bot.cli import main

    assert main(["ask", "neet cluster=Seacroft week=2015-07-20", "--format", "json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["answer"] == "obsession" and d["tracker"]["area"] == "Seacroft Manston"
    assert main(["ask", "cla", "--format", "text"]) == 0
    assert "children looked after" in capsys.readouterr().out.lower()


@pytest.mark.parametrize("fmt", ["slack", "teams"])
def test_ask_command_chat_formats(seeded_env, capsys, fmt):
    from bot.cli import main

    assert main(["ask", "cla clusters", "--format", fmt]) == 0
    out = json.loads(capsys.readouterr().out)
    assert ("blocks" in out) if fmt == "slack" else (out["type"] == "message")


def test_ask_command_unknown_question_exits_2(seeded_env, capsys):
    from bot.cli import main

    assert main(["ask", "pizza"]) == 2
    out = capsys.readouterr().out
    assert "Try: /obsession" in out and "Traceback" not in out


def test_ask_command_signs_image_urls_with_public_base_url(seeded_env, monkeypatch, capsys):
    from bot import urls
    from bot.cli import main
    from tracker.settings import Settings

    monkeypatch.setenv("PUBLIC_BASE_URL", "https://tracker.example")
    monkeypatch.setenv("URL_SIGNING_KEY", "k1")
    assert main(["ask", "week=2015-07-20", "--format", "slack"]) == 0
    msg = json.loads(capsys.readouterr().out)
    url = [b for b in msg["blocks"] if b["type"] == "image"][0]["image_url"]
    path, _, query = url.removeprefix("https://tracker.example").partition("?sig=")
    assert path == "/trackers/2015-07-20/leeds.png"
    key = urls.signing_key(Settings.from_env({"URL_SIGNING_KEY": "k1"}, dotenv=False))
    assert urls.verify(key, path, query)
    assert not urls.verify(key, "/trackers/2015-07-20/armley.png", query)
