"""The tracker (or a breakdown) as a Slack Block Kit message, built with slack_sdk's block models.

The models check Slack's limits (field counts, text lengths) when the message is serialised, so a
message that Slack would refuse fails here instead. Text that came from outside (area names, titles,
the sender) is escaped so that it cannot mention anyone or make a link.
"""
from __future__ import annotations

import re

from slack_sdk.models.blocks import (
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    ImageBlock,
    MarkdownTextObject,
    PlainTextObject,
    SectionBlock,
)

from tracker.model import CHANGE_BASELINE, CHANGE_WEEK, LATEST, PERCENT_BASELINE, Breakdown, Tracker

from .formatting import (
    VERDICT_WORD,
    arrow,
    benchmark_line,
    illustrative_notice,
    number,
    percent,
    signed,
    title_parts,
    week_label,
)

MAX_BLOCKS = 50
FIELDS_PER_SECTION = 10      # Slack's limit for a section's fields
ALT_TEXT_MAX = 2000          # Slack's limit for an image's alt text
HEADER_MAX = 150
# Colour-blind-safe dots that go with the arrow and the word (Okabe-Ito blue and orange).
DOT = {"better": ":large_blue_circle:", "worse": ":large_orange_circle:", "same": ":white_circle:"}
_BROADCAST = re.compile(r"@(channel|here|everyone)\b", re.IGNORECASE)
# mrkdwn has no escape for its formatting marks, so outside text gets look-alikes that Slack does not
# read as bold, italic, strike or code: ∗ (asterisk operator), ˍ (modifier low macron), ∼ (tilde
# operator), ˋ (modifier grave).
_INERT_MARKS = str.maketrans({"*": "\u2217", "_": "\u02cd", "~": "\u223c", "`": "\u02cb"})


def escape(text: str) -> str:
    """Outside text made inert for mrkdwn: &, < and > as entities, *, _, ~ and ` as look-alikes that do
    not format, and @channel/@here/@everyone broken."""
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").translate(_INERT_MARKS)
    # A word joiner after the @ keeps the text readable but stops it being read as a broadcast.
    return _BROADCAST.sub(lambda m: "@\u2060" + m.group(1), text)


def _md(text: str) -> MarkdownTextObject:
    # verbatim: Slack must not turn bare URLs or #channel names in the text into links.
    return MarkdownTextObject(text=text, verbatim=True)


def _clip(text: str, limit: int) -> str:
    """Shorten to Slack's limit at a sentence end where possible (the full figures are in the message)."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    stop = cut.rfind(". ")
    return (cut[: stop + 1] if stop > limit // 2 else cut) + "…"


def _change(value, obsession, withheld: bool, verdict, pct: str = "") -> str:
    """'🔵 ▼ -175 (-12.3 %) better': dot, arrow, figure and word, so colour is never the only cue."""
    if withheld:
        return "c"
    if value is None:
        return "–"
    pct = f" ({pct} %)" if pct and pct not in ("c", "–", "n/a") else ""
    return f"{DOT.get(verdict, '')} {arrow(value, obsession)} {signed(value, obsession, points=True)}{pct} " \
           f"{VERDICT_WORD.get(verdict, '')}".strip()


def _title_md(obsession) -> str:
    before, verb, after = title_parts(obsession)
    return f"{escape(before)}*{escape(verb)}*{escape(after)}" if verb else escape(after)


def _tracker_blocks(t: Tracker, image) -> list:
    where = "" if t.area_kind == "city" else (f" · cluster of {t.city}" if t.area_kind == "cluster" else " · comparator")
    context = [f"Week commencing *{week_label(t.week)}*{escape(where)}"]
    if t.illustrative:
        context.append(f"_{escape(illustrative_notice(t.city))}_")
    blocks = [HeaderBlock(text=PlainTextObject(text=_clip(escape(t.title), HEADER_MAX))),
              ContextBlock(elements=[_md(" · ".join(context))])]
    label = escape(t.baseline_label)
    for r in t.rows:
        o = r.obsession
        since = "last week" if r.previous_is_adjacent else f"w/c {week_label(r.previous_week)}"
        pct = percent(r.percent_change_since_baseline, o, PERCENT_BASELINE in r.withheld)
        base = _change(r.change_since_baseline, o, CHANGE_BASELINE in r.withheld, r.verdict_since_baseline, pct)
        fields = [_md(f"*Latest*\n{number(r.latest, o, LATEST in r.withheld, unit=True)}"
                      + (f" _({escape(r.note)})_" if r.note else "")),
                  _md(f"*Since {since}*\n{_change(r.change_since_last_week, o, CHANGE_WEEK in r.withheld, r.verdict_since_last_week)}"),
                  _md(f"*Since {label}*\n{base}")]
        blocks.append(SectionBlock(text=_md(_title_md(o)), fields=fields))
        if r.forecast:
            blocks.append(ContextBlock(elements=[_md(f"Turn the curve: {escape(r.forecast.description)}")]))
        if r.benchmarks:   # the DfE's published figures beside this row (issue 12)
            blocks.append(ContextBlock(elements=[_md(escape(benchmark_line(r.benchmarks)))]))
    blocks.append(DividerBlock())
    if image is not None:
        blocks.append(image)
    notes = []
    if any(r.withheld for r in t.rows):
        notes.append(f"c: withheld to protect small numbers (counts below {t.suppress_below})")
    notes.append(f"▲ up ▼ down ► no change; {DOT['better']} better {DOT['worse']} worse")
    if t.sender:
        notes.append(f"from {escape(t.sender)}")
    blocks.append(ContextBlock(elements=[_md(" · ".join(notes))]))
    return blocks


def _breakdown_line(r, o, label: str) -> str:
    rank = f"{r.rank}. " if r.rank else ""
    latest = number(r.latest, o, LATEST in r.withheld, unit=True)
    pct = percent(r.percent_change_since_baseline, o, PERCENT_BASELINE in r.withheld)
    week = _change(r.change_since_last_week, o, CHANGE_WEEK in r.withheld, r.verdict_since_last_week)
    base = _change(r.change_since_baseline, o, CHANGE_BASELINE in r.withheld, r.verdict_since_baseline, pct)
    lag = " · *lagging*" if r.lagging else ""
    return f"*{rank}{escape(r.area)}*{lag}\n{latest} · on last week: {week} · since {label}: {base}"


def _breakdown_blocks(b: Breakdown, image) -> list:
    o = b.obsession
    label = escape(b.baseline_label)
    context = [f"Week commencing *{week_label(b.week)}*"]
    if b.illustrative:
        context.append(f"_{escape(illustrative_notice(b.city.area))}_")
    blocks = [HeaderBlock(text=PlainTextObject(text=_clip(escape(b.title), HEADER_MAX))),
              ContextBlock(elements=[_md(" · ".join(context))]),
              SectionBlock(text=_md(f"{_title_md(o)}\n*{escape(b.city.area)}* (city): "
                                    + _breakdown_line(b.city, o, label).split("\n", 1)[1]))]
    if b.benchmarks:   # under the city's row: the DfE's published figures
        blocks.append(ContextBlock(elements=[_md(escape(benchmark_line(b.benchmarks)))]))
    lines = [_breakdown_line(r, o, label) for r in b.rows]
    for i in range(0, len(lines), FIELDS_PER_SECTION):
        blocks.append(SectionBlock(fields=[_md(x) for x in lines[i:i + FIELDS_PER_SECTION]]))
    blocks.append(DividerBlock())
    if image is not None:
        blocks.append(image)
    notes = [escape(b.lagging_rule[0].upper() + b.lagging_rule[1:])] + [escape(n) for n in b.notes]
    if b.sender:
        notes.append(f"from {escape(b.sender)}")
    blocks.append(ContextBlock(elements=[_md(" · ".join(notes))]))
    return blocks


def fallback_text(model: Tracker | Breakdown) -> str:
    """The plain `text` Slack shows in notifications and to clients that cannot draw blocks."""
    from .formatting import preheader, subject

    return escape(f"{subject(model)}. {preheader(model)}")


def render_slack(model: Tracker | Breakdown, image_url: str | None = None,
                 image_file_id: str | None = None) -> dict:
    """{"text": fallback, "blocks": [...]} for chat.postMessage; the image by URL or uploaded file id."""
    from .views import alt_text_of

    alt = _clip(escape(alt_text_of(model)), ALT_TEXT_MAX)
    image = None
    if image_url:
        image = ImageBlock(image_url=image_url, alt_text=alt)
    elif image_file_id:
        image = ImageBlock(slack_file={"id": image_file_id}, alt_text=alt)
    blocks = (_breakdown_blocks if isinstance(model, Breakdown) else _tracker_blocks)(model, image)
    if len(blocks) > MAX_BLOCKS:
        raise ValueError(f"the Slack message would have {len(blocks)} blocks; Slack allows {MAX_BLOCKS}")
    # to_dict() runs slack_sdk's validators (lengths, field counts) and raises SlackObjectFormationError.
    return {"text": fallback_text(model), "blocks": [blk.to_dict() for blk in blocks]}
