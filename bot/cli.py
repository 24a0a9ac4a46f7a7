"""The `obsession` command: parses arguments and hands each command to its module.

Heavy libraries (pandas, matplotlib, SQLAlchemy, Slack) are imported by the command that uses
them, so `obsession --help` stays fast.
"""
from __future__ import annotations

import argparse
import importlib
import sys
from datetime import date

# command -> module in bot.commands with a run(args, ctx) function
COMMANDS = {
    "demo": "demo", "import": "import_", "pull": "pull", "render": "render", "ask": "ask",
    "send": "send", "check": "check", "clock": "clock", "serve": "serve", "socket": "socket",
    "console-user": "console_user", "approve": "approve",
    "settings": "settings",
    "slack-manifest": "slack_manifest",
}

# The record-level import formats (data_sources/importing.py RECORD_FORMATS; no pandas here).
RECORD_FORMATS = ("ssda903", "nccis", "school-sessions")



# The published-benchmark import formats (data_sources/benchmark_import.py declares them; no pandas here).
PUBLISHED_FORMATS = ("ons-population", "dfe-cla", "dfe-neet", "dfe-sn", "events")


def render_formats() -> tuple[str, ...]:
    """The render command's formats, read from the views table (a light module: no matplotlib here)."""
    from bot.commands.render import format_choices

    return format_choices()


def _week(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date; write it as YYYY-MM-DD, e.g. 2015-07-20") from None


def build_parser() -> argparse.ArgumentParser:
    """The argument parser for every command."""
    p = argparse.ArgumentParser(prog="obsession", description="The weekly obsessions tracker ('Thing of Beauty').")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")

    s = sub.add_parser("demo", help="seed the demo figures and run this week's job into the outbox")

    s = sub.add_parser("import", help="validate and load figures from files (all or nothing)")
    s.add_argument("files", nargs="+", metavar="FILE")
    s.add_argument("--format", choices=("long", "dfe-attendance", *PUBLISHED_FORMATS, *RECORD_FORMATS), default="long")
    s.add_argument("--la", help="local authority name or code (dfe-attendance, dfe-cla, dfe-neet, dfe-sn, ons-population)")
    s.add_argument("--sheet", help="sheet name of an XLSX file (default: the first)")
    s.add_argument("--dry-run", action="store_true", help="check and show what loading would change; write nothing")
    s.add_argument("--obsession", help="the obsession the counts go to (ssda903: default cla; nccis: default neet)")
    s.add_argument("--from", dest="from_date", type=_week, metavar="DATE",
                   help="ssda903: count from this Monday (default: the earliest DECOM)")
    s.add_argument("--as-of", dest="as_of", type=_week, metavar="DATE",
                   help="ssda903: count to this day (default: the latest date in the file); nccis: the snapshot date")

    s = sub.add_parser("pull", help="run every configured data source now")

    s = sub.add_parser("render", help="render one tracker, or one obsession by cluster")
    s.add_argument("--week", type=_week, help="the week (any day of it); default: the latest")
    s.add_argument("--area", help="the city (default) or a cluster")
    s.add_argument("--obsession", help="break one obsession down by cluster (or, with curve, chart it)")
    s.add_argument("--format", choices=render_formats(), default="text")
    s.add_argument("-o", "--output", help="file to write (default: standard output, or a file for images)")

    s = sub.add_parser("ask", help="answer TEXT as the chat command /obsession TEXT would")
    s.add_argument("text", nargs="?", default="")
    s.add_argument("--format", choices=("text", "json", "slack", "teams"), default="text")

    s = sub.add_parser("send", help="one weekly run now: pull, check, render, deliver")
    s.add_argument("--week", type=_week)
    s.add_argument("--subscription", help="only this subscription")
    s.add_argument("--dry-run", action="store_true", help="report what would be sent; send nothing")
    s.add_argument("--force", action="store_true", help="send again what was already sent")
    s.add_argument("--override-hold", metavar="REASON", help="send despite the data-quality gate")

    s = sub.add_parser("check", help="the data-quality gate: what is missing or implausible")
    s.add_argument("--week", type=_week)

    sub.add_parser("clock", help="the scheduler process")

    s = sub.add_parser("serve", help="the web process: Slack, Teams and the tracker archive")
    s.add_argument("--host", default="127.0.0.1")
    s.add_argument("--port", type=int, default=8000)

    sub.add_parser("socket", help="Slack in Socket Mode (no public address needed)")
    s = sub.add_parser("console-user", help="the console's local accounts: add EMAIL --role ROLE, list, remove EMAIL")
    s.add_argument("action", choices=("add", "list", "remove"))
    s.add_argument("email", nargs="?")
    s.add_argument("--role", choices=("viewer", "analyst", "approver"))
    s.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    s = sub.add_parser("approve", help="approve a week for sending ([delivery] approval = \"required\")")
    s.add_argument("--week", type=_week, required=True)
    s.add_argument("--reason", help="a note recorded with the approval")
    sub.add_parser("settings", help="every setting: current value, default and help").add_argument(
        "--env-example", action="store_true", help="print .env.example, generated from the declarations")
    s = sub.add_parser("slack-manifest", help="print the Slack app manifest (YAML) to paste into Create an app")
    s.add_argument("--socket", action="store_true", help="Socket Mode (no public address; no request URL)")
    s.add_argument("--url", help="the public https address of `obsession serve` (default: PUBLIC_BASE_URL)")
    return p


def main(argv: list[str] | None = None) -> int:
    """Run one command; return its exit code (0 done, 1 failure, 2 bad input, 3 held)."""
    args = build_parser().parse_args(argv)
    if not args.command:
        build_parser().print_help()
        return 2
    from tracker.errors import ObsessionError

    try:
        module = importlib.import_module(f"bot.commands.{COMMANDS[args.command]}")
        from bot.context import Context

        ctx = Context.from_env()
        return int(module.run(args, ctx) or 0)
    except ObsessionError as e:
        print(f"obsession {args.command}: {e}", file=sys.stderr)
        return e.exit_code
    except Exception as e:
        if type(e).__module__.split(".")[0] != "sqlalchemy":
            raise
        print(f"obsession {args.command}: {database_error(e)}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


def database_error(e: Exception) -> str:
    """One line for a database error: what failed, the store's URL with its password masked, and what to check."""
    import os

    from tracker.settings import DEFAULT_DATABASE_URL, mask_url

    url = os.environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL
    cause = getattr(e, "orig", None) or e
    first = next((ln.strip() for ln in str(cause).splitlines() if ln.strip()), type(cause).__name__)
    return (f"the database cannot be used ({type(cause).__name__}: {mask_url(first)[:300]}); DATABASE_URL is "
            f"{mask_url(url)}: check that the database is running and reachable and the user and password are right")


if __name__ == "__main__":
    raise SystemExit(main())
