"""`obsession settings`: every setting with its current value, default and help (secrets only as set / not set)."""
from __future__ import annotations

import sys

from tracker.settings import SETTINGS, env_example, shown


def run(args, ctx) -> int:
    """Print each declared setting: NAME, current value, default, help; or, with --env-example, .env.example."""
    out = sys.stdout
    if args.env_example:
        out.write(env_example())
        return 0
    rows = [(s.name, shown(s, getattr(ctx.settings, s.attr)), "" if s.default in (None, ()) else shown(s, s.default),
             s.help) for s in SETTINGS]
    widths = [max(len(r[i]) for r in (("NAME", "VALUE", "DEFAULT", ""), *rows)) for i in range(3)]
    for name, value, default, help_ in (("NAME", "VALUE", "DEFAULT", "HELP"), *rows):
        out.write(f"{name:<{widths[0]}}  {value:<{widths[1]}}  {default:<{widths[2]}}  {help_}\n")
    return 0
