"""The chat's format=docx (and pdf): a link to the file in the archive, signed like the images."""
from __future__ import annotations

import io
import re
from datetime import date

import httpx
import pytest
from docx import Document

from bot.chat.answer import DOCUMENT, answer, to_dict, to_slack, to_teams, to_text
from bot.chat.grammar import ParseError, help_text, parse

WEEK = date(2015, 7, 20)


def test_grammar_reads_format(demo_config):
    q = parse("cluster=Armley format=docx", demo_config)
    assert (q.cluster, q.document, q.obsession) == ("Armley", "docx", None)
    assert parse("cla clusters format=PDF", demo_config).document == "pdf"
    assert parse("format=word", demo_config).document == "docx"
    assert parse("cla", demo_config).document is None
    with pytest.raises(ParseError) as e:
        parse("format=odt<script>", demo_config)
    assert "docx (Word) or pdf" in e.value.reason and "<" not in e.value.reason


def test_help_mentions_format_docx(demo_config):
    text = help_text(demo_config)
    assert "format=docx" in text and "format=pdf" in text


def test_answer_links_the_trackers_or_breakdowns_file(demo_config, demo_figures):
    ans = answer("cluster=armley format=docx week=2015-07-20", demo_config, demo_figures)
    assert ans.kind == DOCUMENT and not ans.has_image
    assert ans.document_path() == "/trackers/2015-07-20/armley.docx"
    assert ans.document_label() == "Word document: Weekly obsessions tracker: Armley, week commencing 20 July 2015"
    city = answer("format=pdf week=2015-07-20", demo_config, demo_figures)
    assert city.document_path() == "/trackers/2015-07-20/leeds.pdf"
    assert city.document_label().startswith("PDF: Weekly obsessions tracker: Leeds,")
    b = answer("cla clusters format=docx week=2015-07-20", demo_config, demo_figures)
    assert b.document_path() == "/breakdowns/2015-07-20/cla.docx"
    assert to_dict(b)["document"] == "/breakdowns/2015-07-20/cla.docx"
    assert to_text(b).splitlines()[1] == "/breakdowns/2015-07-20/cla.docx"
    url = "https://tracker.example/breakdowns/2015-07-20/cla.docx?sig=abc"
    slack = to_slack(b, image_url=url)
    assert slack["blocks"][0]["text"]["text"] == f"<{url}|{b.document_label()}>"
    card = to_teams(b, image_url=url)["attachments"][0]["content"]
    assert card["actions"] == [{"type": "Action.OpenUrl", "title": "Download the Word document", "url": url}]


def test_the_answers_signed_link_opens_the_file_in_the_archive(app, live_server, demo_config):
    from bot import urls
    from bot.chat.workers import Links, reply_job

    web = app()
    base = live_server(web)
    # The worker's reply, built as the web process's workers build it: from the store, with the signing key.
    reply = reply_job(web.state.database_url, 0, demo_config, Links(base, urls.signing_key(web.state.settings)),
                      "cluster=Armley format=docx week=2015-07-20", "slack")
    text = reply.message["blocks"][0]["text"]["text"]
    link = re.match(r"<([^|>]+)\|", text).group(1)
    assert link.startswith(f"{base}/trackers/2015-07-20/armley.docx?sig=")
    assert reply.image_url == link and not reply.has_image
    r = httpx.get(link, timeout=120)
    assert r.status_code == 200
    assert Document(io.BytesIO(r.content)).paragraphs[0].text == "Weekly obsessions tracker: Armley"


def test_teams_document_cards_are_valid_adaptive_cards(demo_config, demo_figures):
    import json
    from pathlib import Path

    import jsonschema

    schema = json.loads((Path(__file__).parent / "fixtures" / "adaptive-card-1.5.json").read_text())
    validator = jsonschema.Draft6Validator(schema)
    ans = answer("cluster=armley format=docx week=2015-07-20", demo_config, demo_figures)
    for url in ("https://tracker.example/trackers/2015-07-20/armley.docx?sig=abc", None):
        card = to_teams(ans, image_url=url)["attachments"][0]["content"]
        errors = sorted(validator.iter_errors(card), key=str)
        assert not errors, errors[0].message
        words = json.dumps(card)
        assert ("Download the Word document" in words) == (url is not None)
        assert url is not None or "/trackers/2015-07-20/armley.docx" in words
