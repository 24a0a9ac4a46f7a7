"""The `[console]` and `[delivery]` tables and who gets which role (pure)."""
from __future__ import annotations

import pytest

from bot.console.roles import allows, role_for
from tracker.config import ConsoleRoles, demo_config_text, parse_config
from tracker.errors import ConfigError


def _with(extra: str):
    return parse_config(demo_config_text() + "\n" + extra, "council.toml")


def test_console_table_is_read():
    c = _with('[console]\nviewers = ["@leeds.example"]\nanalysts = ["ana@leeds.example"]\n'
              'approvers = ["boss@leeds.example", "8f0c-approvers-group"]\n[delivery]\napproval = "required"\n')
    assert c.console == ConsoleRoles(("@leeds.example",), ("ana@leeds.example",),
                                     ("boss@leeds.example", "8f0c-approvers-group"))
    assert c.delivery.approval == "required"
    assert _with("").delivery.approval == "none" and _with("").console == ConsoleRoles()


@pytest.mark.parametrize("extra, says", [
    ('[console]\nviewer = ["a@b.example"]', 'console.viewer: unknown key; did you mean "viewers"?'),
    ('[console]\nviewers = [1]', "console.viewers: must be a list of strings"),
    ('[console]\napprovers = ["two words@b.example"]', '"two words@b.example" is not an address'),
    ('[console]\nviewers = ["@localhost"]', '"@localhost" is not an address, an "@domain"'),
    ('[delivery]\napproval = "yes"', "delivery.approval: 'yes' is not allowed; use \"required\" or \"none\""),
])
def test_bad_console_and_delivery_tables_name_file_line_and_key(extra, says):
    with pytest.raises(ConfigError) as e:
        _with(extra)
    text = str(e.value)
    assert text.startswith("council.toml, line ") and says in text


def test_roles_by_address_domain_and_group():
    c = ConsoleRoles(viewers=("@leeds.example",), analysts=("ana@leeds.example",),
                     approvers=("boss@other.example", "GROUP-42"))
    assert role_for(c, "someone@leeds.example") == "viewer"
    assert role_for(c, "Ana@Leeds.example") == "analyst"
    assert role_for(c, "boss@other.example") == "approver"
    assert role_for(c, "x@other.example", groups=["group-42"]) == "approver"
    assert role_for(c, "x@other.example") is None
    assert role_for(c, "x@notleeds.example") is None          # a domain is the whole part after the @
    assert role_for(c, "x@sub.leeds.example") is None
    assert role_for(c, None, groups=["GROUP-42"]) is None        # no address, no access
    assert allows("approver", "analyst") and allows("analyst", "viewer") and not allows("analyst", "approver")
    assert not allows(None, "viewer")
