"""Every setting the code reads from the environment is listed (with a comment) in .env.example."""
from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PRODUCT = ("tracker", "bot", "renderers", "data_sources")
# env.get("X"), env["X"], os.environ.get("X"), os.environ["X"], os.getenv("X"), extra.get("X"), _flag(env, "X"),
# and the declarations tracker/settings.py reads them all from: Setting("X", ...)
READS = [re.compile(r"""(?:\benviron|\bgetenv|\benv|\bextra)\s*(?:\.get\(|\[|\()\s*["']([A-Z][A-Z0-9_]{2,})["']"""),
         re.compile(r"""\b_\w+\(\s*env\s*,\s*["']([A-Z][A-Z0-9_]{2,})["']"""),
         re.compile(r"""\bSetting\(\s*(?:name\s*=\s*)?["']([A-Z][A-Z0-9_]{2,})["']""")]


def settings_read() -> dict[str, str]:
    """Setting name -> the first file that reads it."""
    found: dict[str, str] = {}
    for pkg in PRODUCT:
        for path in sorted((ROOT / pkg).rglob("*.py")):
            text = path.read_text(encoding="utf-8")
            for rx in READS:
                for name in rx.findall(text):
                    found.setdefault(name, str(path.relative_to(ROOT)))
    return found


def listed() -> set[str]:
    names = set()
    for line in (ROOT / ".env.example").read_text(encoding="utf-8").splitlines():
        m = re.match(r"\s*#?\s*([A-Z][A-Z0-9_]{2,})=", line)
        if m:
            names.add(m.group(1))
    return names


def test_the_scan_finds_the_core_settings():
    # guards the scanner itself: if it found nothing, the next test would pass vacuously
    found = settings_read()
    assert {"DATABASE_URL", "SMTP_HOST", "SMTP_STARTTLS", "SLACK_API_URL", "PUBLIC_BASE_URL"} <= set(found)


def test_every_setting_read_is_in_env_example():
    missing = {name: where for name, where in settings_read().items() if name not in listed()}
    assert not missing, f"add these to .env.example (with a comment): {missing}"


def test_every_listed_setting_has_a_comment():
    lines = (ROOT / ".env.example").read_text(encoding="utf-8").splitlines()
    for i, line in enumerate(lines):
        if re.match(r"[A-Z][A-Z0-9_]{2,}=", line):
            block = lines[:i]
            # the nearest non-setting line above is a comment
            above = next((ln for ln in reversed(block) if not re.match(r"[A-Z][A-Z0-9_]{2,}=", ln)), "")
            assert above.startswith("#"), f".env.example line {i + 1} ({line}) has no comment above it"


def test_env_example_is_generated_from_the_declarations():
    from tracker.settings import env_example

    committed = (ROOT / ".env.example").read_text(encoding="utf-8")
    assert committed == env_example(), "regenerate it: obsession settings --env-example > .env.example"


def test_every_declaration_is_in_env_example_with_its_help_above():
    # checked field by field against the declarations, independently of env_example()
    from tracker.settings import SETTINGS

    lines = (ROOT / ".env.example").read_text(encoding="utf-8").splitlines()
    for s in SETTINGS:
        at = next((i for i, ln in enumerate(lines) if ln.startswith(f"{s.name}=")), None)
        assert at is not None, f"{s.name} is declared but not in .env.example"
        assert lines[at - 1] == f"# {s.help}"
        value = lines[at].split("=", 1)[1]
        if s.secret:
            assert value == "", f"{s.name} is a secret: .env.example must not carry a value"
    names = [ln.split("=", 1)[0] for ln in lines if re.match(r"[A-Z][A-Z0-9_]{2,}=", ln)]
    assert sorted(names) == sorted(s.name for s in SETTINGS), "a setting in .env.example is not declared"
