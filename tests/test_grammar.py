"""The chat grammar: a table of inputs and what they mean (or why not), against the Leeds demo configuration."""
from __future__ import annotations

import re
from datetime import date

import pytest

from bot.chat.grammar import MAX_CHARS, ParseError, Query, help_text, normalise, parse, safe_echo

SEA = "Seacroft Manston"

# (text, expected Query) — meanings worked out by hand from tracker/demo_config.toml.
MEANINGS = [
    ("", Query()),
    ("   ", Query()),
    ("help", Query(help=True)),
    ("HELP", Query(help=True)),
    ("?", Query(help=True)),
    ("help public", Query(help=True, public=True)),
    ("cla", Query(obsession="cla")),
    ("CLA", Query(obsession="cla")),
    ("lac", Query(obsession="cla")),
    ("looked-after", Query(obsession="cla")),
    ("looked after", Query(obsession="cla")),           # words joined with '-' to find the alias
    ("children looked after", Query(obsession="cla")),
    ("care", Query(obsession="cla")),
    ("neet", Query(obsession="neet")),
    ("NEETs", Query(obsession="neet")),
    ("absence", Query(obsession="absence_primary")),
    ("primary", Query(obsession="absence_primary")),
    ("attendance", Query(obsession="absence_primary")),
    ("secondary", Query(obsession="absence_secondary")),
    ("absence_secondary", Query(obsession="absence_secondary")),
    ("absence-secondary", Query(obsession="absence_secondary")),
    ("neet cluster=Seacroft", Query(obsession="neet", cluster=SEA)),
    ("neet cluster=seacroft", Query(obsession="neet", cluster=SEA)),
    ("cluster=SEACROFT neet", Query(obsession="neet", cluster=SEA)),
    ("neet cluster:Seacroft", Query(obsession="neet", cluster=SEA)),
    ("neet area=Seacroft", Query(obsession="neet", cluster=SEA)),
    ("neet cluster=Seacroft Manston", Query(obsession="neet", cluster=SEA)),
    ('neet cluster="Seacroft Manston"', Query(obsession="neet", cluster=SEA)),
    ("neet cluster=Seacroft Manson", Query(obsession="neet", cluster=SEA)),        # close enough
    ("cluster=Gipton and Harehills", Query(cluster="Gipton and Harehills")),
    ("cluster=gipton", Query(cluster="Gipton and Harehills")),
    ("cluster=Roundhay", Query(cluster="Alwoodley, Roundhay and Moortown")),      # a word of the name
    ("cluster=Beeston and Holbeck cla public", Query(obsession="cla", cluster="Beeston and Holbeck", public=True)),
    ("cluster=Leeds", Query()),                                                  # the city itself
    ("cla clusters", Query(obsession="cla", clusters_breakdown=True)),
    ("clusters neet", Query(obsession="neet", clusters_breakdown=True)),
    ("cla breakdown", Query(obsession="cla", clusters_breakdown=True)),
    ("week=2015-07-20", Query(week=date(2015, 7, 20))),
    ("week=2015-07-22", Query(week=date(2015, 7, 20))),                          # a Wednesday
    ("week=2015-07-26", Query(week=date(2015, 7, 20))),                          # the Sunday
    ("week=last", Query(week="last")),
    ("week=LAST cla", Query(obsession="cla", week="last")),
    ("week=latest", Query()),
    ("public", Query(public=True)),
    ("share neet", Query(obsession="neet", public=True)),
    ("neet cluster=Seacroft week=2015-07-20 public",
     Query(obsession="neet", cluster=SEA, week=date(2015, 7, 20), public=True)),
    ("/obsession neet", Query(obsession="neet")),                                # pasted with the command
    ("neet <@U0123ABC>", Query(obsession="neet")),                               # a Slack mention is dropped
    ("<!channel> cla", Query(obsession="cla")),
    ("neet&nbsp;cluster=Armley", Query(obsession="neet", cluster="Armley")),
    ("cla cla", Query(obsession="cla")),
]


@pytest.mark.parametrize("text,expected", MEANINGS, ids=[repr(t) for t, _ in MEANINGS])
def test_meaning(text, expected, demo_config):
    assert parse(text, demo_config) == expected


# (text, words the reason must contain, the example must parse)
ERRORS = [
    ("neet cla", "one obsession at a time"),
    ("cluster=Armley cluster=Otley", "one cluster at a time"),
    ("week=2015-07-20 week=last", "one week at a time"),
    ("cluster=B", "could be Beeston and Holbeck, Bramley, Brigshaw"),
    ("cluster=Morely", 'did you mean "Morley"'),
    ("cluster=Atlantis", "is not a cluster of Leeds"),
    ("cluster=", "needs a cluster's name"),
    ("nete", 'did you mean "neet"'),
    ("clusters", "Say which obsession"),
    ("cla clusters cluster=Armley", "leave out cluster="),
    ("week=yesterday", "is not a date"),
    ("week=2015-02-30", "is not a real date"),
    ("week=20-07-2015", "is not a date"),
    ("week=", "needs a date"),
    ("pizza", "is not something I know"),
    ("x" * (MAX_CHARS + 1), "too long"),
]


@pytest.mark.parametrize("text,words", ERRORS, ids=[repr(t[:30]) for t, _ in ERRORS])
def test_error(text, words, demo_config):
    with pytest.raises(ParseError) as e:
        parse(text, demo_config)
    assert words in e.value.reason
    assert "\n" not in e.value.reason                    # one line
    example = e.value.example
    assert example.startswith("/obsession")
    parse(example, demo_config)                          # the example given works


def test_table_is_large_enough():
    assert len(MEANINGS) + len(ERRORS) >= 40


HOSTILE = [
    "<!channel>", "<!here|here>", "<@U024BE7LH>", "<https://evil.example|click me>", "@channel",
    "[click](https://evil.example)", "<script>alert(1)</script>", "*bold* _it_ ~s~ `code`",
    "&lt;!channel&gt;", "<at>Someone</at>", "evil.example/path", "\u202eevil",
]


@pytest.mark.parametrize("hostile", HOSTILE)
def test_user_text_is_never_echoed_in_a_dangerous_form(hostile, demo_config):
    for text in (hostile, f"cluster={hostile}", f"week={hostile}", f"neet {hostile}x"):
        try:
            q = parse(text, demo_config)
        except ParseError as e:
            shown = e.reason + " " + e.example
            for bad in ("<", ">", "@", "!", "[", "]", "(http", "://", "*", "`", "~", "&", "\u202e", "evil.example"):
                assert bad not in shown.replace("(also", ""), (text, shown)
        else:
            # Parsed: the Query holds only configured names.
            assert q.cluster in (None, *demo_config.clusters)


def test_safe_echo_keeps_words_and_cuts_length():
    assert safe_echo("Seacroft Manston") == "Seacroft Manston"
    assert safe_echo("<@U1> hi!") == "U1 hi"
    assert len(safe_echo("a" * 500)) == 40
    assert safe_echo("<>!") == "that"


def test_normalise_removes_slack_entities():
    assert normalise("neet &amp; <@U1|bob> <https://x.example|x>") == "neet &"


def test_help_lists_every_obsession_and_alias(demo_config):
    text = help_text(demo_config)
    for o in demo_config.obsessions:
        assert o.key in text
        for a in o.aliases:
            assert re.search(rf"\b{re.escape(a)}\b", text)
    for c in demo_config.clusters:
        assert c in text
