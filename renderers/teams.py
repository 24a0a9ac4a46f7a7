"""The tracker (or a breakdown) as an Adaptive Card 1.5 in the message envelope a Teams Workflows webhook accepts.

The figures are native card Tables, so the card is complete without any hosted image. Laid out for
the widths Teams gives a card (320 px on a phone, 450-500 px on a desktop), checked with Microsoft's
renderer in tests/test_teams_renderer.py: a tracker is one small three-column table per obsession,
a breakdown one three-column table, and figures keep their sign, digits and unit on one line (no-break
spaces). Teams picks the colours: only `Default` passes 4.5:1 on every container style in both the
light and the dark Teams themes, so better and worse show as arrow and word in bold, not as colour. Every piece
of text that came from outside (area names, titles, the sender) goes in a RichTextBlock's TextRun,
which Teams never reads as markdown, so it cannot make a link; a mention needs an `msteams.entities`
entry, which this card never has.
"""
from __future__ import annotations

import json

from tracker.model import CHANGE_BASELINE, CHANGE_WEEK, LATEST, PERCENT_BASELINE, Breakdown, Tracker

from .formatting import (
    VERDICT_WORD,
    arrow,
    benchmark_line,
    illustrative_notice,
    number,
    percent,
    preheader,
    signed,
    subject,
    title_parts,
    week_label,
)

CARD_VERSION = "1.5"
MAX_BYTES = 28 * 1024        # Teams refuses larger messages
NBSP = "\u00a0"              # keeps "-12.3 %", "4.4 %", "+0.6 pts" and "▼ -5" whole at any width
LEGEND = "▲ up, ▼ down, ► no change; each change says whether it is better or worse."


def ssml_text(text: str) -> str:
    """Plain text made safe inside SSML (the card's `speak`): &, <, >, quotes as entities."""
    return (text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace('"', "&quot;").replace("'", "&apos;"))


def _run(text: str, **style) -> dict:
    return {"type": "TextRun", "text": text, **style}


def _rich(*runs: dict, **props) -> dict:
    """A RichTextBlock: its TextRuns are plain text (no markdown), which is what makes outside text safe."""
    return {"type": "RichTextBlock", "inlines": list(runs), **props}


def _cell(*items: dict) -> dict:
    return {"type": "TableCell", "items": list(items)}


def _whole(text: str) -> str:
    """A figure with its unit kept on one line: '4.4 %' and '+0.6 pts' with a no-break space."""
    return text.replace(" %", NBSP + "%").replace(" pts", NBSP + "pts")


def _change(value, obsession, withheld: bool, verdict, pct: str = "", **props) -> dict:
    """'▼ -175 (-12.3 %) better', in bold; only our own wording, so a TextBlock is safe."""
    if withheld:
        return _text("c", **props)
    if value is None:
        return _text("–", **props)
    pct = f" ({pct}{NBSP}%)" if pct and pct not in ("c", "–", "n/a") else ""
    figure = f"{arrow(value, obsession)}{NBSP}{_whole(signed(value, obsession, points=True))}{pct}"
    return _text(f"{figure} {VERDICT_WORD.get(verdict, '')}".rstrip(), **{"weight": "Bolder", **props})


def _text(text: str, **props) -> dict:
    """A TextBlock for figures and fixed wording only (its text is read as markdown)."""
    return {"type": "TextBlock", "text": text, "wrap": True, **props}


def _title(obsession, **props) -> dict:
    before, verb, after = title_parts(obsession)
    runs = [_run(before)] if before else []
    if verb:
        runs.append(_run(verb, weight="Bolder"))
    runs.append(_run(after))
    return _rich(*[r for r in runs if r["text"]], **props)


def _table(widths: list[int], heads: list[str], rows: list[dict], **props) -> dict:
    """A table whose first column (names) is to the left and the figures to the right."""
    columns = [{"type": "TableColumnDefinition", "width": w,
                **({"horizontalCellContentAlignment": "Right"} if i else {})} for i, w in enumerate(widths)]
    head = {"type": "TableRow", "style": "emphasis", "cells": [_cell(_rich(_run(n, weight="Bolder"))) for n in heads]}
    return {"type": "Table", "columns": columns, "rows": [head, *rows], "firstRowAsHeader": True, **props}


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
    for r in t.rows:
        o = r.obsession
        pct = percent(r.percent_change_since_baseline, o, PERCENT_BASELINE in r.withheld)
        latest = _whole(number(r.latest, o, LATEST in r.withheld, unit=True))
        since = "last week" if r.previous_is_adjacent or r.previous_week is None else week_label(r.previous_week)
        body.append(_title(o, spacing="Large", separator=True))
        if r.note:
            body.append(_rich(_run(r.note[0].upper() + r.note[1:], isSubtle=True), spacing="None"))
        figures = {"type": "TableRow", "cells": [
            _cell(_text(latest, weight="Bolder", size="Large")),
            _cell(_change(r.change_since_last_week, o, CHANGE_WEEK in r.withheld, r.verdict_since_last_week)),
            _cell(_change(r.change_since_baseline, o, CHANGE_BASELINE in r.withheld, r.verdict_since_baseline, pct)),
        ]}
        body.append(_table([1, 1, 1], ["Latest", f"Since {since}", f"Since {label}"], [figures], spacing="Small"))
        if r.forecast:
            body.append(_rich(_run("Turn the curve: ", weight="Bolder"), _run(r.forecast.description)))
        if r.benchmarks:   # the DfE's published figures beside this row (issue 12)
            body.append(_rich(_run(benchmark_line(r.benchmarks)), spacing="Small"))
    notes = [LEGEND]
    if any(r.withheld for r in t.rows):
        notes.append(f"c: withheld to protect small numbers (counts below {t.suppress_below}).")
    body.append(_rich(_run(" ".join(notes), size="Small", isSubtle=True), spacing="Medium"))
    return body


def _breakdown_body(b: Breakdown, compact: bool = False) -> list[dict]:
    o = b.obsession
    body = _heading(b.title, b.week, illustrative_notice(b.city.area) if b.illustrative else None)
    body.append(_title(o))
    # Three columns fit a phone: the latest figure and the week's change share one (many clusters:
    # the week's change goes, so the card stays under Teams' size limit).
    heads = ["Area", "Latest" if compact else "Latest, on last week", f"Since {b.baseline_label}"]

    def line(r, name: str) -> dict:
        pct = percent(r.percent_change_since_baseline, o, PERCENT_BASELINE in r.withheld)
        area = [_run(name, weight="Bolder") if r is b.city else _run(name)]
        if r.lagging:
            area.append(_run(" (lagging)", weight="Bolder"))
        latest = [_text(_whole(number(r.latest, o, LATEST in r.withheld, unit=True)), weight="Bolder")]
        if not compact:
            latest.append(_change(r.change_since_last_week, o, CHANGE_WEEK in r.withheld, r.verdict_since_last_week,
                                  weight="Default", spacing="None"))
        row = {"type": "TableRow", "cells": [
            _cell(_rich(*area)), _cell(*latest),
            _cell(_change(r.change_since_baseline, o, CHANGE_BASELINE in r.withheld, r.verdict_since_baseline, pct)),
        ]}
        if r is b.city:
            row["style"] = "accent"
        elif r.lagging:
            row["style"] = "warning"
        return row

    rows = [line(b.city, f"{b.city.area} (city)")]
    rows += [line(r, f"{r.rank}. {r.area}" if r.rank else r.area) for r in b.rows]
    body.append(_table([4, 3, 3], heads, rows))
    if b.benchmarks:   # the city's published figures (the city's row is the table's first)
        body.append(_rich(_run(f"{b.city.area}: {benchmark_line(b.benchmarks)}"), spacing="Small"))
    notes = [LEGEND, b.lagging_rule[0].upper() + b.lagging_rule[1:] + "."] + list(b.notes)
    body.append(_rich(_run(" ".join(notes), size="Small", isSubtle=True), spacing="Medium"))
    return body


def render_card(model: Tracker | Breakdown, image_url: str | None = None, compact: bool = False) -> dict:
    """The Adaptive Card alone (version 1.5); `speak` reads every figure (the images' alt text)."""
    from .views import alt_text_of

    body = _breakdown_body(model, compact) if isinstance(model, Breakdown) else _tracker_body(model)
    alt = alt_text_of(model)
    if image_url:
        body.append({"type": "Image", "url": image_url, "altText": alt, "size": "Stretch"})
    if model.sender:
        body.append(_rich(_run(f"From {model.sender}", size="Small", isSubtle=True)))
    return {"type": "AdaptiveCard", "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
            "version": CARD_VERSION, "fallbackText": f"{subject(model)}. {preheader(model)}",
            "speak": ssml_text(alt), "body": body}


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
    if card_size(message) > MAX_BYTES and isinstance(model, Breakdown) and image_url:
        # Still too big with the image: the image keeps the full sentence as its alt text, and
        # `speak` reads the headline (subject and preheader) rather than the same sentence twice.
        message["attachments"][0]["content"]["speak"] = ssml_text(f"{subject(model)}. {preheader(model)}")
    size = card_size(message)
    if size > MAX_BYTES:
        raise ValueError(f"the Teams card is {size} bytes; Teams accepts at most {MAX_BYTES}")
    return message
