"""The one answering function of every chat: a Query (or text) in, an Answer out, and the Answer in each format.

The Answer holds the model the core built (Tracker, Breakdown, Curve) or a help/error text; the
formats draw only on it, through the same renderers as the weekly delivery, so suppression flows
through unchanged: a withheld figure is None in the model and "c" in every answer.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date

from tracker.config import Config
from tracker.errors import ObsessionError
from tracker.figures import FigureTable
from tracker.model import Breakdown, Curve, Tracker

from .grammar import LAST, ParseError, Query, help_text, parse

HELP, ERROR, TRACKER, OBSESSION, BREAKDOWN = "help", "error", "tracker", "obsession", "breakdown"
DOCUMENT = "document"          # format=docx|pdf: a link to the tracker's or breakdown's file in the archive
COMPARE = "compare"            # one obsession's benchmark line, with the comparison chart as its picture
DOCUMENT_NAMES = {"docx": "Word document", "pdf": "PDF"}


@dataclass(frozen=True)
class Answer:
    """What the chat says back: a model (with the chart's model for one obsession) or a text."""

    kind: str                                 # help | error | tracker | obsession | breakdown | document
    query: Query | None = None
    model: Tracker | Breakdown | None = None  # for `obsession`: a Tracker holding that one row
    curve: Curve | None = None                # the turn-the-curve chart of an `obsession` answer
    comparison: object = None                 # the comparison chart of a `compare` answer (tracker.model.Comparison)
    message: str = ""                         # help text, or an error's one-line reason
    example: str = ""                         # for an error: a command that works

    @property
    def public(self) -> bool:
        """True when the asker wants it posted in the channel."""
        return bool(self.query and self.query.public)

    @property
    def has_image(self) -> bool:
        """True when there is a picture to go with the answer."""
        return self.kind in (TRACKER, OBSESSION, BREAKDOWN, COMPARE)

    @property
    def picture(self):
        """The model its picture is drawn from: the chart for one obsession, else the model; None for a text."""
        if self.kind == COMPARE:
            return self.comparison
        return self.curve if self.kind == OBSESSION else self.model if self.has_image else None

    def image_path(self) -> str | None:
        """The archive path of this answer's image (tracker, chart or breakdown), or None."""
        from renderers.views import view_of

        pic = self.picture
        return None if pic is None else view_of(pic).image_path(view_of(pic).place_of(pic))

    def document_path(self) -> str | None:
        """The archive path of the Word or PDF file a `document` answer links to, or None."""
        from renderers.views import view_of

        if self.kind != DOCUMENT:
            return None
        view = view_of(self.model)
        return view.path(view.place_of(self.model), "." + self.query.document)

    def document_label(self) -> str:
        """'Word document: Weekly obsessions tracker: Armley, week commencing 20 July 2015'."""
        from renderers.formatting import week_label

        m = self.model
        what = f"{m.title}: {m.area}" if isinstance(m, Tracker) and m.area_kind == "city" else m.title
        return f"{DOCUMENT_NAMES[self.query.document]}: {what}, week commencing {week_label(self.model.week)}"

    def page_path(self) -> str | None:
        """The archive page this answer comes from, or None."""
        from renderers.views import view_of

        if not self.has_image:
            return None
        if self.kind == COMPARE:   # the comparison's own archive page
            view = view_of(self.comparison)
            return view.page_path(view.place_of(self.comparison))
        view = view_of(self.model)
        return view.page_path(view.place_of(self.model))


def _week(query: Query, figures: FigureTable) -> date | None:
    if query.week != LAST:
        return query.week
    weeks = figures.weeks()
    if len(weeks) < 2:
        raise ParseError("There is no week before the latest one yet.", "/obsession")
    return weeks[-2]


def answer_query(query: Query, config: Config, figures: FigureTable) -> Answer:
    """The answer to a parsed question, built by the core from the figures."""
    from tracker.arithmetic import build_breakdown, build_curve, build_tracker

    if query.help:
        return Answer(HELP, query, message=help_text(config))
    try:
        week = _week(query, figures)
        if query.document:
            # The file of the page the answer would come from: the breakdown, or the area's whole tracker.
            model = build_breakdown(figures, config, query.obsession, week) if query.clusters_breakdown \
                else build_tracker(figures, config, week, query.cluster)
            return Answer(DOCUMENT, query, model=model)
        if query.clusters_breakdown:
            return Answer(BREAKDOWN, query, model=build_breakdown(figures, config, query.obsession, week))
        if query.compare:
            from tracker.arithmetic import build_compare

            comparison = build_compare(figures, config, query.obsession, week)
            one = build_tracker(figures, config, week, None, obsessions=(query.obsession,))
            return Answer(COMPARE, query, model=one, comparison=comparison)
        if query.obsession is None:
            return Answer(TRACKER, query, model=build_tracker(figures, config, week, query.cluster))
        # Only the asked obsession's row is built: a quarter of the work of the whole tracker.
        one = build_tracker(figures, config, week, query.cluster, obsessions=(query.obsession,))
        curve = build_curve(figures, config, query.obsession, query.cluster, week)
        return Answer(OBSESSION, query, model=one, curve=curve)
    except ParseError as e:
        return Answer(ERROR, query, message=e.reason, example=e.example)
    except ObsessionError as e:
        # NotFound for a week without figures: the message names only dates and configured names.
        return Answer(ERROR, query, message=str(e), example="/obsession week=last")


def answer(text: str, config: Config, figures: FigureTable) -> Answer:
    """Parse the text and answer it; a question the grammar does not know gets an error Answer."""
    from tracker.benchmarks import known_areas, published_of

    try:
        query = parse(text, config, known_areas(published_of(figures), config))
    except ParseError as e:
        return Answer(ERROR, None, message=e.reason, example=e.example)
    return answer_query(query, config, figures)


def image_spec(ans: Answer) -> tuple | None:
    """The answer's picture as (view name, Place): small enough to send to a drawing process, which
    builds the model from its own figures rather than receive it."""
    from renderers.views import view_of

    pic = ans.picture
    if pic is None:
        return None
    view = view_of(pic)
    return (view.name, view.place_of(pic))


def image_title(ans: Answer) -> str:
    """The title of the answer's picture."""
    if ans.kind == OBSESSION:
        return f"{ans.curve.obsession.label}: {ans.curve.area}"
    if ans.kind == COMPARE:
        return f"How {ans.comparison.city} compares: {ans.comparison.obsession.label}"
    return ans.model.title


def image_alt(ans: Answer) -> str:
    """The alt text of the answer's picture (the model's sentence, as every image of it carries)."""
    from renderers.views import view_of

    if ans.kind == COMPARE:   # the picture is the comparison chart: its own words
        return view_of(ans.comparison).alt_text(ans.comparison)
    return view_of(ans.model).alt_text(ans.model)


def render_image(ans: Answer) -> bytes | None:
    """The PNG of the answer: the tracker or breakdown image, or the turn-the-curve chart."""
    from renderers.views import IMAGE, view_of

    pic = ans.picture
    return None if pic is None else view_of(pic).render(IMAGE, pic)


# ---- formats -------------------------------------------------------------------------------------

def to_text(ans: Answer, image_url: str | None = None) -> str:
    """The answer as plain text (terminals and `obsession ask`)."""
    if ans.kind == HELP:
        return ans.message + "\n"
    if ans.kind == ERROR:
        return f"{ans.message}\nTry: {ans.example}\n"
    if ans.kind == DOCUMENT:
        return f"{ans.document_label()}\n{image_url or ans.document_path()}\n"
    from renderers.views import view_of

    return view_of(ans.model).render("text", ans.model)


def to_dict(ans: Answer) -> dict:
    """The answer as a JSON-ready dict: the model as the contract's JSON, or the text."""
    from renderers.json_tracker import breakdown_dict, tracker_dict

    d: dict = {"answer": ans.kind}
    if ans.query is not None:
        q = ans.query
        d["query"] = {"obsession": q.obsession, "cluster": q.cluster, "clusters": q.clusters_breakdown,
                      "week": q.week.isoformat() if isinstance(q.week, date) else q.week, "public": q.public,
                      "format": q.document, **({"compare": True} if q.compare else {})}
    if ans.kind == HELP:
        d["text"] = ans.message
    elif ans.kind == ERROR:
        d["error"] = ans.message
        d["example"] = ans.example
    elif ans.kind == DOCUMENT:
        d["document"] = ans.document_path()
        d["title"] = ans.document_label()
    elif ans.kind == BREAKDOWN:
        d["breakdown"] = breakdown_dict(ans.model)
    else:
        d["tracker"] = tracker_dict(ans.model)
    if ans.has_image:
        d["image"] = ans.image_path()
        d["page"] = ans.page_path()
    return d


def to_json(ans: Answer) -> str:
    """The answer as indented JSON text."""
    return json.dumps(to_dict(ans), indent=2, ensure_ascii=False) + "\n"


def _slack_escape(text: str) -> str:
    # Slack's three control characters; the rest of our text is ours or already made safe.
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def to_slack(ans: Answer, image_url: str | None = None, image_file_id: str | None = None) -> dict:
    """The answer as a Slack message: {"response_type", "text", "blocks"}."""
    response_type = "in_channel" if ans.public and ans.kind not in (HELP, ERROR) else "ephemeral"
    if ans.kind in (HELP, ERROR):
        body = ans.message if ans.kind == HELP else f"{ans.message}\nTry: {ans.example}"
        # plain_text: nothing in it can mention, link or format, whatever it holds.
        blocks = [{"type": "section", "text": {"type": "plain_text", "text": body[:2990], "emoji": False}}]
        first = body.splitlines()[0] if body else "obsession"
        return {"response_type": response_type, "text": _slack_escape(first), "blocks": blocks}
    if ans.kind == DOCUMENT:
        label = _slack_escape(ans.document_label())
        body = f"<{image_url}|{label}>" if image_url else \
            f"{label}: {ans.document_path()} on the archive (no public address is set: PUBLIC_BASE_URL)"
        return {"response_type": response_type, "text": label,
                "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": body}}]}
    from renderers.slack import render_slack

    msg = render_slack(ans.model, image_url=image_url, image_file_id=image_file_id)
    return {"response_type": response_type, **msg}


def _card(body: list[dict]) -> dict:
    return {"type": "message", "attachments": [{
        "contentType": "application/vnd.microsoft.card.adaptive", "contentUrl": None,
        "content": {"$schema": "http://adaptivecards.io/schemas/adaptive-card.json", "type": "AdaptiveCard",
                    "version": "1.5", "body": body}}]}


def to_teams(ans: Answer, image_url: str | None = None) -> dict:
    """The answer as a Teams message with one Adaptive Card 1.5 (the outgoing webhook's reply)."""
    if ans.kind in (HELP, ERROR):
        lines = ans.message.splitlines() if ans.kind == HELP else [ans.message, f"Try: {ans.example}"]
        # In Teams the question is asked by mentioning the webhook, not with a slash command.
        lines = [ln.replace("/obsession", "@Obsession") for ln in lines]
        # TextRuns are never read as markdown: nothing in them can link, mention or format.
        head = "Obsession tracker: help" if ans.kind == HELP else "Sorry"
        body = [{"type": "RichTextBlock", "inlines": [{"type": "TextRun", "text": head, "weight": "Bolder"}]}]
        body += [{"type": "RichTextBlock", "spacing": "Small", "inlines": [{"type": "TextRun", "text": ln}]}
                 for ln in lines if ln.strip()]
        return _card(body)
    if ans.kind == DOCUMENT:
        card = _card([{"type": "RichTextBlock", "inlines": [
            {"type": "TextRun", "text": ans.document_label(), "weight": "Bolder"}]}])
        if image_url:
            card["attachments"][0]["content"]["actions"] = [
                {"type": "Action.OpenUrl", "title": f"Download the {DOCUMENT_NAMES[ans.query.document]}",
                 "url": image_url}]
        else:
            card["attachments"][0]["content"]["body"].append({"type": "RichTextBlock", "inlines": [
                {"type": "TextRun", "text": f"{ans.document_path()} on the archive (PUBLIC_BASE_URL is not set)"}]})
        return card
    from renderers.teams import render_teams

    envelope = render_teams(ans.model, image_url=image_url)
    return {"type": "message", "attachments": [envelope["attachments"][0]]}


MESSAGES = {"slack": to_slack, "teams": to_teams}     # a chat's message (a dict), by chat


def _message_text(to_message):
    return lambda ans, image_url=None: json.dumps(to_message(ans, image_url=image_url), indent=2,
                                                  ensure_ascii=False) + "\n"


FORMATS = {"text": lambda ans, image_url=None: to_text(ans, image_url), "json": lambda ans, image_url=None: to_json(ans),
           **{name: _message_text(fn) for name, fn in MESSAGES.items()}}


def render(ans: Answer, fmt: str, image_url: str | None = None) -> str:
    """The answer in one of FORMATS (text, json, slack, teams), as text to print."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt}")
    return FORMATS[fmt](ans, image_url=image_url)
