"""The configuration refuses, at start, what would break later: two areas with one address, header values with
line or paragraph separators (U+2028 in a sender name crashed `send` at the List-Id header)."""
from __future__ import annotations

import pytest

from tests.conftest import SMALL_CONFIG
from tracker.config import parse_config
from tracker.errors import ConfigError


def test_two_areas_with_the_same_slug_are_refused():
    text = SMALL_CONFIG.replace('clusters = ["North", "South", "East"]', 'clusters = ["Cross Gates", "Cross-Gates"]')
    with pytest.raises(ConfigError) as e:
        parse_config(text, "obsession.toml")
    msg = str(e.value)
    assert msg.startswith("obsession.toml, line ") and "Cross Gates" in msg and "Cross-Gates" in msg
    assert '"cross-gates"' in msg
    city = SMALL_CONFIG.replace('clusters = ["North", "South", "East"]', 'clusters = ["TESTVILLE!"]')
    with pytest.raises(ConfigError, match="same address"):
        parse_config(city, "obsession.toml")


@pytest.mark.parametrize("name", ["Cross Gates", "Seacroft & Manston", "  Ünïcode  ", "---", "A1 b2"])
def test_the_core_slug_rule_is_the_renderers(name):
    from renderers.paths import slug
    from tracker.toml_config import area_slug

    assert area_slug(name) == slug(name)


@pytest.mark.parametrize("where,old,new", [
    ("tracker.sender", 'suppress_below = 5', 'suppress_below = 5\nsender = "Testville\u2028Bcc: everyone@example.org"'),
    ("tracker.city", 'city = "Testville"', 'city = "Test\u2029ville"'),
    ("areas.clusters", '"North"', '"North\\r\\nX-Evil: 1"'),
    ("obsessions.cla.title", 'title = "Safely reduce the number of children looked after"', 'title = "Safely\u0085reduce"'),
])
def test_header_values_with_line_separators_are_refused_at_start(where, old, new):
    assert old in SMALL_CONFIG
    with pytest.raises(ConfigError) as e:
        parse_config(SMALL_CONFIG.replace(old, new, 1), "obsession.toml")
    assert where in str(e.value) and "one line" in str(e.value)


def test_a_plain_configuration_still_parses():
    assert parse_config(SMALL_CONFIG, "small.toml").clusters == ("North", "South", "East")
