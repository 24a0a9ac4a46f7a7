"""The tracker (or a breakdown) as an email: HTML that survives Outlook, a plain-text part, and the MIME message.

Pure functions of the model: no I/O. The HTML is laid out with tables and inline styles (css-inline
moves the stylesheet onto the elements) because Outlook for Windows renders with Word and Gmail
drops styles it cannot inline; the one `<style>` block kept is the dark-mode override that clients
which understand it (Apple Mail, Outlook for Mac) apply.
"""
from __future__ import annotations

from datetime import datetime, timezone
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, getaddresses, make_msgid
from functools import lru_cache
from pathlib import Path

from tracker.errors import ConfigError
from tracker.model import BASELINE, CHANGE_BASELINE, CHANGE_WEEK, LATEST, PERCENT_BASELINE, Breakdown, Tracker

from . import palette
from .formatting import (
    VERDICT_WORD,
    alt_text,
    arrow,
    benchmark_line,
    breakdown_alt_text,
    illustrative_notice,
    number,
    percent,
    preheader,
    signed,
    subject,
    title_parts,
    week_label,
)
from .paths import model_path
from .text import render_breakdown_text, render_text

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
IMAGE_NAME = "tracker.png"
COLOUR = palette.VERDICT


@lru_cache(maxsize=1)
def _env():
    from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

    return Environment(loader=FileSystemLoader(str(TEMPLATES)), autoescape=select_autoescape(["html"]),
                       undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)


@lru_cache(maxsize=1)
def _inliner():
    import css_inline

    # Nothing may be fetched while rendering; the dark-mode block is marked data-css-inline="keep".
    return css_inline.CSSInliner(load_remote_stylesheets=False, keep_style_tags=False)


def archive_path(model: Tracker | Breakdown, suffix: str = "") -> str:
    """Where the web archive serves this model: '/trackers/2015-07-20/leeds' ('.png' for its image)."""
    return model_path(model, suffix)


def _change_cell(value, obsession, withheld: bool, verdict, points: bool = False) -> dict:
    """One change as the template shows it: arrow, signed figure, verdict word and colours."""
    if withheld:
        return {"text": "c", "arrow": "", "word": "withheld", "cls": "same", "colour": COLOUR[None]}
    if value is None:
        return {"text": "–", "arrow": "", "word": "", "cls": "same", "colour": COLOUR[None]}
    key = verdict if verdict in COLOUR else None
    return {"text": signed(value, obsession, points=points), "arrow": arrow(value, obsession),
            "word": VERDICT_WORD.get(verdict, ""), "cls": verdict or "same", "colour": COLOUR[key]}


def _forecast_line(r) -> str:
    """The turn-the-curve sentence, naming the obsession when the description does not already."""
    if not r.forecast:
        return ""
    text = r.forecast.description
    if r.obsession.label.lower() in text.lower():
        return text[0].upper() + text[1:]
    return f"{r.obsession.label}: {text}"


def _tracker_rows(t: Tracker) -> list[dict]:
    rows = []
    for r in t.rows:
        o = r.obsession
        before, verb, after = title_parts(o)
        rows.append({
            "before": before, "verb": verb, "after": after, "label": o.label,
            "latest": number(r.latest, o, r.suppressed, unit=True),
            "latest_note": r.note,
            "week": _change_cell(r.change_since_last_week, o, CHANGE_WEEK in r.withheld, r.verdict_since_last_week,
                                 points=True),
            "week_label": "" if r.previous_is_adjacent or r.previous_week is None
            else f"on {week_label(r.previous_week)}",
            "pct": percent(r.percent_change_since_baseline, o, PERCENT_BASELINE in r.withheld),
            "base": _change_cell(r.change_since_baseline, o, CHANGE_BASELINE in r.withheld, r.verdict_since_baseline,
                                 points=True),
            "baseline_value": number(r.baseline_value, o, BASELINE in r.withheld, unit=True),
            "forecast": _forecast_line(r),
            "benchmarks": benchmark_line(r.benchmarks),   # the DfE's published figures (issue 12)
        })
    return rows


def _breakdown_rows(b: Breakdown) -> tuple[dict, list[dict]]:
    o = b.obsession

    def row(r, rank: str) -> dict:
        return {
            "rank": rank, "area": r.area, "lagging": r.lagging,
            "latest": number(r.latest, o, LATEST in r.withheld, unit=True),
            "week": _change_cell(r.change_since_last_week, o, CHANGE_WEEK in r.withheld, r.verdict_since_last_week,
                                 points=True),
            "pct": percent(r.percent_change_since_baseline, o, PERCENT_BASELINE in r.withheld),
            "base": _change_cell(r.change_since_baseline, o, CHANGE_BASELINE in r.withheld, r.verdict_since_baseline,
                                 points=True),
        }

    return row(b.city, "City"), [row(r, str(r.rank) if r.rank else "–") for r in b.rows]


def _context(model: Tracker | Breakdown, image_src: str, view_url: str | None,
             unsubscribe_mailto: str | None, as_email: bool = True) -> dict:
    breakdown = isinstance(model, Breakdown)
    city = model.city.area if breakdown else model.city
    sender = model.sender or f"{city} performance team"
    ctx = {
        "subject": subject(model), "preheader": preheader(model), "week": week_label(model.week),
        "image_src": image_src, "view_url": view_url, "unsubscribe_mailto": unsubscribe_mailto,
        "as_email": as_email,
        "sender": sender, "baseline_label": model.baseline_label,
        "notice": illustrative_notice(city) if model.illustrative else "",
        "suppress_below": model.suppress_below, "dark": palette.DARK_VERDICT, "colour": COLOUR,
        "p": palette.css_vars(),
    }
    if breakdown:
        before, verb, after = title_parts(model.obsession)
        city_row, rows = _breakdown_rows(model)
        ctx.update(title=model.title, heading_area=city, before=before, verb=verb, after=after,
                   alt=breakdown_alt_text(model), city_row=city_row, rows=rows,
                   city_benchmarks=benchmark_line(model.benchmarks),
                   withheld=any(r.withheld for r in model.rows), lagging_rule=model.lagging_rule,
                   notes=list(model.notes), is_rate=model.obsession.is_rate, what=f"{model.title} in {city}")
    else:
        ctx.update(title=model.title, heading_area=model.area, area_kind=model.area_kind, city=city,
                   alt=alt_text(model), rows=_tracker_rows(model), withheld=any(r.withheld for r in model.rows),
                   forecast=any(r.forecast for r in model.rows),
                   what="the weekly obsessions tracker for " + _area_phrase(model.area, model.area_kind, city))
    return ctx


def _area_phrase(area: str, kind: str, city: str) -> str:
    # As the page's heading says it: a comparator (or an area a benchmark import brought) is no cluster.
    return {"city": area, "cluster": f"{area}, a cluster of {city}"}.get(kind, f"{area} (comparator)")


def render_html(model: Tracker | Breakdown, image_src: str, view_url: str | None = None, *,
                unsubscribe_mailto: str | None = None, as_email: bool = True) -> str:
    """The HTML body, styles inlined; `image_src` is 'cid:…' in a message or a file name beside the page.

    With `as_email=False` (an archive page) the footer says what this is but not how to stop getting it.
    """
    name = "email_breakdown.html" if isinstance(model, Breakdown) else "email_tracker.html"
    html = _env().get_template(name).render(**_context(model, image_src, view_url, unsubscribe_mailto, as_email))
    return _inliner().inline(html)


def render_plain(model: Tracker | Breakdown, view_url: str | None = None,
                 unsubscribe_mailto: str | None = None) -> str:
    """The plain-text alternative: the text tracker with a heading and the same footer as the HTML."""
    breakdown = isinstance(model, Breakdown)
    body = render_breakdown_text(model) if breakdown else render_text(model)
    ctx = _context(model, "", view_url, unsubscribe_mailto)
    lines = []
    if view_url:
        lines += [f"View in a browser: {view_url}", ""]
    lines.append(body.rstrip())
    lines += ["", "-- ", _footer_text(ctx)]
    return "\n".join(lines) + "\n"


def _footer_text(ctx: dict) -> str:
    stop = (f"To stop getting it, email {ctx['unsubscribe_mailto'].removeprefix('mailto:')}"
            if ctx["unsubscribe_mailto"] else f"To stop getting it, reply to this email or ask {ctx['sender']}")
    return (f"This is {ctx['what']}, for the week commencing {ctx['week']}, sent every week by {ctx['sender']}. "
            f"{stop}.")


def _one_line(value: str | None, setting: str) -> str | None:
    """A header value from configuration or a user, refused if it could start a new header."""
    if value is None:
        return None
    if any(ch in value for ch in "\r\n\0") or any(ord(ch) < 32 and ch != "\t" for ch in value):
        raise ConfigError(f"{setting}: {value!r} contains a line break or control character, which would let it "
                          "add mail headers; write it on one line")
    return value


def _address(addr: str, setting: str) -> str:
    _one_line(addr, setting)
    pairs = getaddresses([addr])
    if not pairs or any("@" not in a or not a.strip() for _, a in pairs):
        raise ConfigError(f"{setting}: {addr!r} is not an email address; use e.g. tracker@example.gov.uk")
    return addr


def build_message(model: Tracker | Breakdown, png: bytes, *, sender: str, to: str | None,
                  public_base_url: str | None, from_name: str, list_id: str | None = None,
                  unsubscribe_mailto: str | None = None, message_id_domain: str | None = None,
                  now: datetime | None = None) -> EmailMessage:
    """The complete message: multipart/alternative of text/plain and multipart/related(text/html + image/png)."""
    _address(sender, "MAIL_FROM")
    if to is not None:
        _address(to, "subscriptions.email")
    _one_line(from_name, "tracker.sender")
    _one_line(list_id, "list id")
    _one_line(message_id_domain, "message id domain")
    if unsubscribe_mailto is not None:
        _address(unsubscribe_mailto.removeprefix("mailto:"), "unsubscribe address")
    title = _one_line(subject(model), "area or obsession name")
    if public_base_url is not None:
        _one_line(public_base_url, "PUBLIC_BASE_URL")
    view_url = public_base_url.rstrip("/") + archive_path(model) if public_base_url else None
    domain = message_id_domain or sender.rpartition("@")[2] or None

    msg = EmailMessage()
    msg["Subject"] = title
    local, _, host = sender.rpartition("@")
    msg["From"] = Address(display_name=from_name, username=local, domain=host)
    if to:
        msg["To"] = to
    msg["Date"] = format_datetime(now or datetime.now(timezone.utc))
    msg["Message-ID"] = make_msgid(idstring="tracker", domain=domain)
    msg["Auto-Submitted"] = "auto-generated"  # RFC 3834: out-of-office robots should not answer
    if list_id:
        msg["List-Id"] = f"{from_name} <{list_id}>"
    if unsubscribe_mailto:
        msg["List-Unsubscribe"] = f"<mailto:{unsubscribe_mailto.removeprefix('mailto:')}>"

    cid = make_msgid(idstring="tracker-image", domain=domain)
    html = render_html(model, image_src="cid:" + cid[1:-1], view_url=view_url,
                       unsubscribe_mailto=unsubscribe_mailto)
    msg.set_content(render_plain(model, view_url, unsubscribe_mailto), subtype="plain", cte="quoted-printable")
    msg.add_alternative(html, subtype="html", cte="quoted-printable")
    html_part = msg.get_payload()[1]
    filename = f"{archive_path(model, '.png').rsplit('/', 1)[1]}"
    html_part.add_related(png, maintype="image", subtype="png", cid=cid, filename=filename, disposition="inline")
    return msg
