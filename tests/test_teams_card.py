"""Teams Adaptive Cards: every card the product makes validates against the 1.5 schema, fits, and is safe."""
from __future__ import annotations

import dataclasses
import json
from datetime import date
from pathlib import Path

import jsonschema
import pandas as pd
import pytest

from renderers.formatting import alt_text, breakdown_alt_text
from renderers.teams import render_teams
from tracker.config import parse_config
from tracker.figures import COLUMNS, FigureTable

SCHEMA = json.loads((Path(__file__).parent / "fixtures" / "adaptive-card-1.5.json").read_text())
EVIL = "<at>everyone</at> [click](http://evil.example) **loud**"


@pytest.fixture(scope="module")
def validator():
    return jsonschema.Draft6Validator(SCHEMA)


@pytest.fixture(scope="module")
def absence_breakdown(demo_figures, demo_config):
    from tracker.arithmetic import build_breakdown

    return build_breakdown(demo_figures, demo_config, "absence_primary", date(2015, 7, 20))


@pytest.fixture(scope="module")
def evil_models():
    from tracker.arithmetic import build_breakdown, build_tracker

    cfg = parse_config(f"""
[tracker]
city = "Testville"
sender = "[Team](http://evil.example) <at>all</at>"
[obsessions.cla]
title = "Safely reduce the number of children looked after"
label = "Children looked after"
direction = "reduce"
unit = "count"
baseline_week = "2020-01-06"
[areas]
clusters = ["{EVIL}", "North"]
""", "evil.toml")
    rows = []
    for week, a, b in [(date(2020, 1, 6), 40, 30), (date(2020, 1, 13), 38, 31)]:
        rows += [(week, "cla", "Testville", a + b, None, None), (week, "cla", EVIL, a, None, None),
                 (week, "cla", "North", b, None, None)]
    figures = FigureTable(pd.DataFrame(rows, columns=COLUMNS))
    return build_tracker(figures, cfg, date(2020, 1, 13), EVIL), build_breakdown(figures, cfg, "cla", date(2020, 1, 13))


def _card(message: dict) -> dict:
    assert message["type"] == "message" and len(message["attachments"]) == 1
    att = message["attachments"][0]
    assert att["contentType"] == "application/vnd.microsoft.card.adaptive" and att["contentUrl"] is None
    return att["content"]


def _walk(node, kind: str):
    if isinstance(node, dict):
        if node.get("type") == kind:
            yield node
        for v in node.values():
            yield from _walk(v, kind)
    elif isinstance(node, list):
        for v in node:
            yield from _walk(v, kind)


def _cell_text(cell: dict) -> str:
    parts = []
    for item in cell["items"]:
        if item["type"] == "TextBlock":
            parts.append(item["text"])
        else:
            parts.append("".join(r["text"] for r in item["inlines"]))
    return "".join(parts)


def _table(card: dict) -> list[list[str]]:
    table = next(_walk(card, "Table"))
    return [[_cell_text(c) for c in row["cells"]] for row in table["rows"]]


MODELS = ["figure2_tracker", "cluster_tracker", "small_cluster_tracker", "cla_breakdown", "absence_breakdown"]


@pytest.mark.parametrize("name", MODELS)
@pytest.mark.parametrize("image_url", [None, "https://tracker.example.gov.uk/trackers/2015-07-20/leeds.png"])
def test_every_card_is_valid_and_small(request, validator, name, image_url):
    model = request.getfixturevalue(name)
    message = render_teams(model, image_url=image_url)
    card = _card(message)
    errors = sorted(validator.iter_errors(card), key=lambda e: list(e.path))
    assert not errors, [f"{list(e.path)}: {e.message[:200]}" for e in errors[:3]]
    assert card["version"] == "1.5" and card["type"] == "AdaptiveCard"
    # Counted as sent: compact JSON with non-ASCII escaped (the larger form), and as stored (UTF-8).
    assert len(json.dumps(message, separators=(",", ":")).encode()) < 28 * 1024
    assert len(json.dumps(message, ensure_ascii=False).encode("utf-8")) < 28 * 1024
    images = list(_walk(card, "Image"))
    if image_url:
        alt = breakdown_alt_text(model) if "breakdown" in name else alt_text(model)
        assert images == [{"type": "Image", "url": image_url, "altText": alt, "size": "Stretch"}]
    else:
        assert images == []


def test_the_schema_catches_a_broken_card(validator, figure2_tracker):
    card = _card(render_teams(figure2_tracker))
    broken = json.loads(json.dumps(card))
    next(_walk(broken, "Table"))["rows"][1]["cells"][0]["items"][0]["colour"] = "Accent"
    assert list(validator.iter_errors(broken))


def test_figure2_table(figure2_tracker):
    # One small table per obsession (it fits a phone), under the obsession's title (issue 10).
    card = _card(render_teams(figure2_tracker))
    body = card["body"]
    tables = [(i, b) for i, b in enumerate(body) if b["type"] == "Table"]
    got = []
    for i, table in tables:
        title = "".join(r["text"] for r in body[i - 1]["inlines"])
        got.append([title] + [[_cell_text(c).replace("\u00a0", " ") for c in row["cells"]] for row in table["rows"]])
    # By hand from the published tracker.
    head = ["Latest", "Since last week", "Since CYPP start"]
    assert got == [
        ["Safely reduce the number of children looked after", head, ["1,247", "▼ -5 better", "▼ -175 (-12.3 %) better"]],
        ["Reduce the number of young people not in employment, education or training (NEET)", head,
         ["1,595", "▲ +7 worse", "▼ -479 (-23.1 %) better"]],
        ["Reduce school absence: primary", head, ["4.4 %", "▲ +0.6 pts worse", "▼ -1.9 pts better"]],
        ["Reduce school absence: secondary", head, ["7.2 %", "▼ -3.3 pts better", "▼ -2.5 pts better"]],
    ]
    assert all(t["firstRowAsHeader"] is True for _, t in tables)
    verb = body[tables[0][0] - 1]["inlines"][1]
    assert verb == {"type": "TextRun", "text": "reduce", "weight": "Bolder"}
    # Teams picks the colours: only Default passes 4.5:1 on every container in both themes
    # (tests/test_teams_renderer.py), so no verdict is told by colour alone, or at all.
    assert all(b.get("color", "Default") == "Default" for b in _walk(card, "TextBlock"))
    assert all(r.get("color", "Default") == "Default" for r in _walk(card, "TextRun"))


def test_withheld_cluster_shows_c(small_cluster_tracker):
    rows = _table(_card(render_teams(small_cluster_tracker)))
    assert rows[1] == ["c", "c", "c"]


def test_breakdown_has_every_cluster(cla_breakdown, demo_config):
    rows = _table(_card(render_teams(cla_breakdown)))
    assert rows[0][1] == "Latest, on last week"
    assert rows[1][0] == "Leeds (city)" and rows[1][1].startswith("1,247")
    names = [r[0].removesuffix(" (lagging)").split(". ", 1)[-1] for r in rows[2:]]
    assert sorted(names) == sorted(demo_config.clusters)
    assert sum(r[0].endswith(" (lagging)") for r in rows) == 6


def test_many_clusters_still_fit(validator, cla_breakdown):
    rows = tuple(dataclasses.replace(r, area=f"{r.area} {i}") for i in range(2) for r in cla_breakdown.rows)
    big = dataclasses.replace(cla_breakdown, rows=rows)   # 50 clusters
    message = render_teams(big, image_url="https://t.example/b.png")
    assert len(json.dumps(message, separators=(",", ":")).encode()) < 28 * 1024
    assert not list(validator.iter_errors(_card(message)))
    assert len(_table(_card(message))) == 52


def test_outside_text_never_reaches_markdown(validator, evil_models):
    for model in evil_models:
        card = _card(render_teams(model, image_url="https://t.example/a.png"))
        assert not list(validator.iter_errors(card))
        # Outside text only in TextRuns (never parsed as markdown); TextBlocks hold only our own wording.
        for block in _walk(card, "TextBlock"):
            assert "evil" not in block["text"] and "<at>" not in block["text"] and "[" not in block["text"]
        runs = " ".join(r["text"] for r in _walk(card, "TextRun"))
        assert EVIL in runs
        assert "msteams" not in card   # no mention entities, so <at> cannot mention anyone


def test_render_command_prints_slack_and_teams_json(demo_env, capsys, validator):
    from bot.cli import main
    from tracker.config import load_config
    from tracker.demo_data import demo_frame
    from tracker.store import Store

    s = Store(demo_env["DATABASE_URL"])
    s.create()
    s.save_figures(demo_frame(load_config(None), date(2015, 9, 14)), "demo")
    assert main(["render", "--week", "2015-07-20", "--format", "teams"]) == 0
    card = _card(json.loads(capsys.readouterr().out))
    assert not list(validator.iter_errors(card)) and _table(card)[1][0] == "1,247"
    assert main(["render", "--week", "2015-07-20", "--area", "Headingley", "--format", "slack"]) == 0
    slack = json.loads(capsys.readouterr().out)
    assert slack["blocks"][0]["text"]["text"] == "Weekly obsessions tracker: Headingley"
