"""The console's pages: jinja2 templates in templates/console/, the archive's security headers, small helpers."""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"


def security_headers() -> dict[str, str]:
    """The archive's security headers, with forms allowed back to the console itself."""
    from bot.archive import SECURITY_HEADERS

    csp = SECURITY_HEADERS["Content-Security-Policy"].replace("form-action 'none'", "form-action 'self'")
    return {**SECURITY_HEADERS, "Content-Security-Policy": csp, "Cache-Control": "no-store",
            "X-Frame-Options": "DENY"}


@lru_cache(maxsize=1)
def env():
    """The jinja2 environment (autoescaped, strict)."""
    from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

    e = Environment(loader=FileSystemLoader(str(TEMPLATES)), autoescape=select_autoescape(["html"]),
                    undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    e.filters["when"] = lambda d: d.strftime("%d %b %Y %H:%M UTC") if d else ""
    e.filters["day"] = lambda d: d.strftime("%d %b %Y") if d else ""
    e.filters["num"] = lambda v: "" if v is None else (f"{v:,.0f}" if float(v).is_integer() else f"{v:,.1f}")
    return e


def render(name: str, **context) -> str:
    """One console template rendered."""
    return env().get_template(f"console/{name}").render(**context)
