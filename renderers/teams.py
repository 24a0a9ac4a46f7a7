"""The tracker (or a breakdown) as an Adaptive Card 1.5 in the message envelope a Teams Workflows webhook accepts.

The figures are a native card Table, so the card is complete without any hosted image. Every piece
of text that came from outside (area names, titles, the sender) goes in a RichTextBlock's TextRun,
which Teams never reads as markdown, so it cannot make a link; a mention needs an `msteams.entities`
entry, which this card never has.
"""
from __future__ import annotations

import json

from tracker.model import CHANGE_BASELINE, CHANGE_WEEK, LATEST, PERCENT_BASELINE, Breakdown, Tracker

from .formatting import (VERDICT_WORD, alt_text, arrow, breakdown_alt_text, illustrative_notice, number, percent,
                         signed, title_parts, week_label)

CARD_VERSION = "1.5"
MAX_BYTES = 28 * 1024        # Teams refuses larger messages
# Adaptive Card colour names: Accent (blue) and Warning (amber) stay apart for red-green colour
# blindness; the arrow and the word always go with the colour.
CARD_COLOUR = {"better": "Accent", "worse": "Warning", "same": "Default", None: "Default"}


def _run(text: str, **style) -> dict:
    return {"type": "TextRun", "text": text, **style}


def _rich(*runs: dict, **props) -> dict:
    """A RichTextBlock: its TextRuns are plain text (no markdown), which is what makes outside text safe."""
    return {"type": "RichTextBlock", "inlines": list(runs), **props}


def _cell(*items: dict) -> dict:
    return {"type": "TableCell", "items": list(items)}


def _change(value, obsession, withheld: bool, verdict, pct: str = "") -> dict:
    """'▼ -175 (-12.3 %) better' coloured by the verdict; only our own wording, so a TextBlock is safe."""
    if withheld:
        return _text("c")
    if value is None:
        return _text("–")
    pct = f" ({pct} %)" if pct and pct not in ("c", "–", "n/a") else ""
    word = VERDICT_WORD.get(verdict, "")
    return _text(f"{arrow(value, obsession)} {signed(value, obsession, points=True)}{pct} {word}".rstrip(),
                 color=CARD_COLOUR.get(verdict, "Default"), weight="Bolder")


def _text(text: str, **props) -> dict:
    """A TextBlock for figures and fixed wording only (its text is read as markdown)."""
    return {"type": "TextBlock", "text": text, "wrap": True, **props}


def _title(obsession) -> dict:
    before, verb, after = title_parts(obsession)
    runs = [_run(before)] if before else []
    if verb:
        runs.append(_run(verb, weight="Bolder"))
    runs.append(_run(after))
    return _rich(*[r for r in runs if r["text"]])


def _columns(widths: list[int]) -> list[dict]:
    """The first column (names) to the left, the figures to the right."""
    return [{"type": "TableColumnDefinition", "width": w,
             **({"horizontalCellContentAlignment": "Right"} if i else {})} for i, w in enumerate(widths)]


def _header_row(*names: str) -> dict:
    return {"type": "TableRow", "style": "emphasis",
            "cells": [_cell(_rich(_run(n, weight="Bolder"))) for n in names]}


def _heading(title: str, week, notice: str | None) -> list[dict]:
    items = [_rich(_run(title, size="Large", weight="Bolder")),
             {"type": "TextBlock", "text": f"Week commencing {week_label(week)}", "isSubtle": True, "wrap": True,
              "spacing": "None"}]
    if notice:
        items.append({"type": "Container", "style": "warning", "items": [_rich(_run(notice, weight="Bolder"))]})
    return items


def _tracker_body(t: Tracker) -> list[dict]:
    label = t.baseline_label
    body = _heading(t.title, t.week, illustrative_notice(t.city) if t.illustrative else None)
    if t.area_kind == "cluster":
        body.append(_rich(_run(f"{t.area}, a cluster of {t.city}")))
    rows = [_header_row("Obsession", "Latest", "Since last week", f"Since {label}")]
    for r in t.rows:
        o = r.obsession
        pct = percent(r.percent_change_since_baseline, o, PERCENT_BASELINE in r.withheld)
        latest = number(r.latest, o, LATEST in r.withheld, unit=True)
        rows.append({"type": "TableRow", "cells": [
            _cell(_title(o)),
            _cell(_text(latest, weight="Bolder", size="Large")),
            _cell(_change(r.change_since_last_week, o, CHANGE_WEEK in r.withheld, r.verdict_since_last_week)),
            _cell(_change(r.change_since_baseline, o, CHANGE_BASELINE in r.withheld, r.verdict_since_baseline, pct)),
        ]})
    body.append({"type": "Table", "columns": _columns([3, 1, 2, 2]), "rows": rows, "firstRowAsHeader": True})
    for r in t.rows:
        if r.note:
            body.append(_rich(_run(f"{r.obsession.label}: {r.note}", isSubtle=True)))
        if r.forecast:
            body.append(_rich(_run("Turn the curve: ", weight="Bolder"), _run(r.forecast.description)))
    notes = ["▲ up, ▼ down, ► no change; blue is better, amber is worse."]
    if any(r.withheld for r in t.rows):
        notes.append(f"c: withheld to protect small numbers (counts below {t.suppress_below}).")
    body.append(_rich(_run(" ".join(notes), size="Small", isSubtle=True), spacing="Medium"))
    return body


def _breakdown_body(b: Breakdown, compact: bool = False) -> list[dict]:
    o = b.obsession
    body = _heading(b.title, b.week, illustrative_notice(b.city.area) if b.illustrative else None)
    body.append(_title(o))
    heads = ["Area", "Latest", "Since last week", f"Since {b.baseline_label}"]
    widths = [3, 1, 2, 3]
    if compact:  # many clusters: the week's change goes, so the card stays under Teams' size limit
        del heads[2], widths[2]
    rows = [_header_row(*heads)]

    def line(r, name: str) -> dict:
        pct = percent(r.percent_change_since_baseline, o, PERCENT_BASELINE in r.withheld)
        area = [_run(name, weight="Bolder" if r is b.city else "Default")]
        if r.lagging:
            area.append(_run(" lagging", color="Warning", weight="Bolder"))
        row = {"type": "TableRow", "cells": [
            _cell(_rich(*area)),
            _cell(_text(number(r.latest, o, LATEST in r.withheld, unit=True), weight="Bolder")),
            _cell(_change(r.change_since_last_week, o, CHANGE_WEEK in r.withheld, r.verdict_since_last_week)),
            _cell(_change(r.change_since_baseline, o, CHANGE_BASELINE in r.withheld, r.verdict_since_baseline, pct)),
        ]}
        if compact:
            del row["cells"][2]
        if r is b.city:
            row["style"] = "accent"
        elif r.lagging:
            row["style"] = "warning"
        return row

    rows.append(line(b.city, f"{b.city.area} (city)"))
    rows += [line(r, f"{r.rank}. {r.area}" if r.rank else r.area) for r in b.rows]
    body.append({"type": "Table", "columns": _columns(widths), "rows": rows, "firstRowAsHeader": True})
    notes = [b.lagging_rule[0].upper() + b.lagging_rule[1:] + "."] + list(b.notes)
    body.append(_rich(_run(" ".join(notes), size="Small", isSubtle=True), spacing="Medium"))
    return body


def render_card(model: Tracker | Breakdown, image_url: str | None = None, compact: bool = False) -> dict:
    """The Adaptive Card alone (version 1.5)."""
    breakdown = isinstance(model, Breakdown)
    body = _breakdown_body(model, compact) if breakdown else _tracker_body(model)
    alt = breakdown_alt_text(model) if breakdown else alt_text(model)
    if image_url:
        body.append({"type": "Image", "url": image_url, "altText": alt, "size": "Stretch"})
    if model.sender:
        body.append(_rich(_run(f"From {model.sender}", size="Small", isSubtle=True)))
    from .email import preheader, subject

    return {"type": "AdaptiveCard", "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
            "version": CARD_VERSION, "fallbackText": f"{subject(model)}. {preheader(model)}",
            "speak": subject(model), "body": body}


def card_size(message: dict) -> int:
    """Bytes on the wire, counted as a JSON client sends them (non-ASCII escaped, the larger form)."""
    return len(json.dumps(message, separators=(",", ":")).encode())


def render_teams(model: Tracker | Breakdown, image_url: str | None = None) -> dict:
    """The message a Teams Workflows webhook accepts: one Adaptive Card attachment."""
    def wrap(card: dict) -> dict:
        return {"type": "message", "attachments": [{
            "contentType": "application/vnd.microsoft.card.adaptive", "contentUrl": None, "content": card}]}

    message = wrap(render_card(model, image_url))
    if card_size(message) > MAX_BYTES and isinstance(model, Breakdown):
        message = wrap(render_card(model, image_url, compact=True))
    size = card_size(message)
    if size > MAX_BYTES:
        raise ValueError(f"the Teams card is {size} bytes; Teams accepts at most {MAX_BYTES}")
    return message
