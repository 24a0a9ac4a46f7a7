"""The one chat grammar (`/obsession ...` in Slack, `@Obsession ...` in Teams, `obsession ask`): text in, Query out.

Pure: no I/O, no figures. Whatever the user typed is never put into a reply as it was typed;
`safe_echo` keeps only letters, digits and a few harmless marks, so an echo cannot mention
anyone, make a link or inject markup in Slack, Teams or HTML.
"""
from __future__ import annotations

import difflib
import html
import re
from dataclasses import dataclass
from datetime import date

from tracker.config import Config
from tracker.errors import InputError
from tracker.figures import monday_of

MAX_CHARS = 300          # longer input is refused before it is looked at
ECHO_CHARS = 40          # at most this much of a user's word is ever echoed
CLOSE_ENOUGH = 0.85      # a cluster name this close to the typed one is taken without asking
NEAR = 0.6               # closer than this: "did you mean"
LAST = "last"

EXAMPLE = "/obsession neet cluster=Seacroft"


@dataclass(frozen=True)
class Query:
    """What was asked, in the configuration's own names (never the user's spelling)."""

    obsession: str | None = None        # an obsession key
    cluster: str | None = None          # a configured cluster name; None = the city
    clusters_breakdown: bool = False    # one obsession across every cluster
    week: date | str | None = None      # a Monday, "last" (the week before the latest), None = latest
    public: bool = False                # post in the channel for everyone
    help: bool = False
    document: str | None = None         # "docx" or "pdf": answer with a link to that file in the archive
    compare: bool = False               # the obsession beside its statistical neighbours, region and England


class ParseError(InputError):
    """The text is not a question the grammar knows: a one-line reason and an example that works."""

    def __init__(self, reason: str, example: str = EXAMPLE):
        self.reason = reason
        self.example = example
        super().__init__(f"{reason} Try: {example}")


_KEEP = re.compile(r"[^\w\s\-,']|_", re.UNICODE)


def safe_echo(text: str, limit: int = ECHO_CHARS) -> str:
    """A user's word made harmless to show: letters, digits, spaces, - , ' only; cut to `limit`."""
    cleaned = _KEEP.sub("", text)
    cleaned = re.sub(r"\s+", " ", cleaned).strip()
    if len(cleaned) > limit:
        cleaned = cleaned[: limit - 1].rstrip() + "…"
    return cleaned or "that"


# Slack sends mentions and links as <@U123|name>, <!channel>, <https://x|label>; and escapes &, <, >.
_SLACK_ENTITY = re.compile(r"<[^<>]*>")


def normalise(text: str) -> str:
    """The typed text with chat markup removed: Slack's <...> entities, HTML entities, odd spaces."""
    text = html.unescape(text)
    text = _SLACK_ENTITY.sub(" ", text)
    text = text.replace("\u00a0", " ").replace("“", '"').replace("”", '"')
    return re.sub(r"\s+", " ", text).strip()


def _tokens(text: str) -> list[str]:
    """Words, keeping "quoted phrases" and key="quoted values" together."""
    out = []
    for m in re.finditer(r'(\w[\w-]*[=:])"([^"]*)"|"([^"]*)"|(\S+)', text):
        if m.group(1):
            out.append(m.group(1) + m.group(2))
        elif m.group(3) is not None:
            out.append(m.group(3))
        else:
            out.append(m.group(4))
    return out


_BREAKDOWN = {"clusters", "by-cluster", "breakdown"}
_COMPARE = {"compare", "benchmarks", "neighbours", "neighbors"}
_PUBLIC = {"public", "share"}
_HELP = {"help", "?", "-h", "--help"}
_SETTING = re.compile(r"^(cluster|area|week|format)[=:](.*)$", re.IGNORECASE)
DOCUMENTS = {"docx": "docx", "word": "docx", "pdf": "pdf"}    # format= values: the file for an agenda


def parse(text: str, config: Config, known_areas: tuple[str, ...] = ()) -> Query:
    """The Query the text asks, or ParseError with a one-line reason and a working example.

    `known_areas`: areas a benchmark import brought (England, the region, the neighbours), which
    cluster= (or area=) may name exactly, as well as the configured clusters.
    """
    if text is None:
        text = ""
    if len(text) > MAX_CHARS:
        raise ParseError(f"That is too long ({len(text)} characters; at most {MAX_CHARS}).")
    words = _tokens(normalise(text))
    if words and words[0].lower() in ("/obsession", "obsession"):
        words = words[1:]         # pasted with the command itself
    obsession = None
    cluster_words: list[str] | None = None
    cluster_open = False            # further plain words extend the cluster's name
    week = None
    document = None
    public = breakdown = want_help = compare = False
    i = 0
    while i < len(words):
        word = words[i]
        low = word.lower()
        setting = _SETTING.match(word)
        if setting:
            key, value = setting.group(1).lower(), setting.group(2).strip()
            if key in ("cluster", "area"):
                if cluster_words is not None:
                    raise ParseError("Ask about one cluster at a time.", "/obsession cla cluster=Armley")
                cluster_words = [value] if value else []
                cluster_open = True
            elif key == "format":
                if value.lower() not in DOCUMENTS:
                    raise ParseError(f"format= is docx (Word) or pdf, not {safe_echo(value)}.",
                                     "/obsession cluster=Armley format=docx")
                document = DOCUMENTS[value.lower()]
                cluster_open = False
            else:
                if week is not None:
                    raise ParseError("Give one week at a time.", "/obsession week=2015-07-20")
                week = _week(value)
                cluster_open = False
            i += 1
            continue
        if low in _HELP:
            want_help = True
            cluster_open = False
        elif low in _PUBLIC:
            public = True
            cluster_open = False
        elif low in _BREAKDOWN:
            breakdown = True
            cluster_open = False
        elif low in _COMPARE:
            compare = True
            cluster_open = False
        else:
            found, used = _obsession_at(words, i, config)
            if found is not None and not (cluster_open and cluster_words == []):
                if obsession is not None and obsession != found.key:
                    raise ParseError("Ask about one obsession at a time.", "/obsession neet")
                obsession = found.key
                cluster_open = False
                i += used
                continue
            if cluster_open:
                cluster_words.append(word)
            else:
                raise _unknown_word(word, config)
        i += 1

    if want_help:
        return Query(help=True, public=public)
    cluster = None
    if cluster_words is not None:
        name = " ".join(cluster_words).strip()
        if not name:
            raise ParseError("cluster= needs a cluster's name.", EXAMPLE)
        extra = next((a for a in known_areas if _fold(a) == _fold(name)), None)
        cluster = extra if extra is not None else match_cluster(name, config)
    if breakdown:
        if obsession is None:
            raise ParseError("Say which obsession to break down by cluster.",
                             f"/obsession {config.obsessions[0].key} clusters")
        if cluster is not None:
            raise ParseError("\"clusters\" already shows every cluster; leave out cluster=.",
                             f"/obsession {obsession} clusters")
    if compare:
        if obsession is None:
            raise ParseError("Say which obsession to compare with its neighbours and England.",
                             f"/obsession {config.obsessions[0].key} compare")
        if cluster is not None or breakdown or document:
            raise ParseError("\"compare\" is the city beside its neighbours; leave out cluster=, clusters and format=.",
                             f"/obsession {obsession} compare")
    return Query(obsession=obsession, cluster=cluster, clusters_breakdown=breakdown, week=week, public=public,
                 document=document, compare=compare)


def _obsession_at(words: list[str], i: int, config: Config):
    """The obsession named by the words at i (one word, or up to three joined by '-'), and how many."""
    for n in (3, 2, 1):
        if i + n <= len(words):
            joined = "-".join(w.lower() for w in words[i:i + n])
            if len(joined) <= 60:
                found = config.find_obsession(joined)
                if found is not None:
                    return found, n
    return None, 0


def _names(config: Config) -> list[str]:
    names = []
    for o in config.obsessions:
        names += [o.key, *o.aliases]
    return names


def _unknown_word(word: str, config: Config) -> ParseError:
    guess = difflib.get_close_matches(word.lower(), _names(config), n=1, cutoff=NEAR)
    keys = ", ".join(o.key for o in config.obsessions)
    if guess:
        found = config.find_obsession(guess[0])
        return ParseError(f"\"{safe_echo(word)}\" is not something I know; did you mean \"{guess[0]}\"?",
                          f"/obsession {found.key if found else guess[0]}")
    return ParseError(f"\"{safe_echo(word)}\" is not something I know. Obsessions: {keys}; "
                      "or say help.", EXAMPLE)


def _week(value: str) -> date | str:
    low = value.lower()
    if low == LAST:
        return LAST
    if low in ("latest", "this", "current", ""):
        if low == "":
            raise ParseError("week= needs a date (YYYY-MM-DD, any day of the week) or last.",
                             "/obsession week=2015-07-20")
        return None
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        raise ParseError(f"\"{safe_echo(value)}\" is not a date; write the week as YYYY-MM-DD (any day of it) "
                         "or week=last.", "/obsession week=2015-07-20")
    try:
        return monday_of(date.fromisoformat(value))
    except ValueError:
        raise ParseError(f"\"{safe_echo(value)}\" is not a real date; write it as YYYY-MM-DD.",
                         "/obsession week=2015-07-20") from None


def _fold(s: str) -> str:
    return re.sub(r"[^a-z0-9]+", " ", s.lower()).strip()


def match_cluster(name: str, config: Config) -> str | None:
    """The configured cluster for a typed name (case, prefix, closeness); None for the city.

    ParseError lists the candidates when the name is ambiguous, or says "did you mean" when unknown.
    """
    wanted = _fold(name)
    if not wanted:
        raise ParseError("cluster= needs a cluster's name.", EXAMPLE)
    if wanted == _fold(config.city):
        return None
    clusters = list(config.clusters)
    folded = {c: _fold(c) for c in clusters}
    exact = [c for c in clusters if folded[c] == wanted]
    if exact:
        return exact[0]
    # Prefix of the whole name, then of any word in it ("Roundhay" finds "Alwoodley, Roundhay and Moortown").
    for test in (lambda f: f.startswith(wanted),
                 lambda f: any(" ".join(f.split()[k:]).startswith(wanted) for k in range(len(f.split())))):
        hits = [c for c in clusters if test(folded[c])]
        if len(hits) == 1:
            return hits[0]
        if len(hits) > 1:
            shown = ", ".join(hits[:8]) + (" ..." if len(hits) > 8 else "")
            raise ParseError(f"\"{safe_echo(name)}\" could be {shown}; say which.",
                             f"/obsession cluster={hits[0]}")
    scored = sorted(((difflib.SequenceMatcher(None, wanted, folded[c]).ratio(), c) for c in clusters),
                    reverse=True)
    if scored and scored[0][0] >= CLOSE_ENOUGH and (len(scored) == 1 or scored[1][0] < scored[0][0] - 0.05):
        return scored[0][1]
    if scored and scored[0][0] >= NEAR:
        guess = scored[0][1]
        raise ParseError(f"\"{safe_echo(name)}\" is not a cluster; did you mean \"{guess}\"?",
                         f"/obsession cluster={guess}")
    raise ParseError(f"\"{safe_echo(name)}\" is not a cluster of {config.city}. Clusters include "
                     f"{', '.join(clusters[:5])} ...; say help for all.", EXAMPLE)


def help_text(config: Config) -> str:
    """What can be asked, with examples, in plain text (each chat renders it its own way)."""
    first = config.obsessions[0]
    cluster = config.clusters[0] if config.clusters else "NAME"
    lines = [
        f"/obsession — the {config.city} tracker for the latest week.",
        "/obsession OBSESSION — one obsession for the city, with its turn-the-curve chart.",
        "/obsession OBSESSION cluster=NAME — the same for one cluster (part of the name is enough).",
        "/obsession cluster=NAME — the whole tracker for one cluster.",
        "/obsession OBSESSION clusters — every cluster ranked, lagging ones flagged.",
        "/obsession OBSESSION compare — the city beside its statistical neighbours, region and England (DfE figures).",
        "Add week=YYYY-MM-DD (any day of the week) or week=last; add public to post it for everyone.",
        "Add format=docx (Word) or format=pdf for a link to the file, for a meeting's agenda.",
        "",
        "Obsessions:",
    ]
    for o in config.obsessions:
        also = f" (also: {', '.join(o.aliases)})" if o.aliases else ""
        lines.append(f"  {o.key}{also}: {o.label}")
    lines += ["", "Clusters: " + ", ".join(config.clusters), "",
              f"Examples: /obsession {first.key} cluster={cluster.split()[0]}  ·  "
              f"/obsession {first.key} clusters week=last  ·  /obsession public  ·  "
              f"/obsession cluster={cluster.split()[0]} format=docx"]
    return "\n".join(lines)
