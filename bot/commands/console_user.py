"""`obsession console-user add|list|remove`: the console's local accounts (for councils without an identity provider)."""
from __future__ import annotations

import getpass
import sys

from tracker.errors import InputError


def _password(args) -> str:
    if args.password_stdin:
        text = sys.stdin.read(2048)
        lines = text.splitlines()
        if not lines or not lines[0]:
            raise InputError("--password-stdin: standard input held no password; pipe the password in, one line")
        return lines[0]
    if not sys.stdin.isatty():
        raise InputError("no terminal to ask for the password; use --password-stdin to read it from standard input")
    first = getpass.getpass("Password: ")
    if getpass.getpass("Password again: ") != first:
        raise InputError("the two passwords differ; nothing was changed, run the command again")
    return first


def run(args, ctx) -> int:
    """Add (or replace), list or remove a local console account."""
    from bot.channels.email import check_address
    from bot.console.auth import hash_password
    from bot.console.roles import ROLES
    from bot.console.store import ConsoleStore

    db = ConsoleStore(ctx.store.engine)
    who = f"{getpass.getuser()} (terminal)"
    if args.action == "list":
        users = db.users()
        if not users:
            print("No console accounts. Add one: obsession console-user add EMAIL --role viewer|analyst|approver")
        for u in users:
            print(f"{u['email']}\t{u['role']}\tadded {u['created_at']:%Y-%m-%d} by {u['created_by']}")
        return 0
    if not args.email:
        raise InputError(f"console-user {args.action} needs an email address, e.g. console-user {args.action} ana@leeds.gov.uk")
    email = check_address(args.email, "EMAIL").strip().lower()
    if args.action == "remove":
        if not db.remove_user(email):
            raise InputError(f"{email}: there is no such console account; `obsession console-user list` shows them")
        db.audit(who, "console-user remove", email, "terminal")
        print(f"Removed the console account {email}; its sessions end at their next request.")
        return 0
    if args.role not in ROLES:
        raise InputError(f"--role: give one of {', '.join(ROLES)}, e.g. --role analyst")
    new = db.add_user(email, args.role, hash_password(_password(args)), who)
    db.audit(who, "console-user add", f"{email} as {args.role}", "terminal")
    print(f"{'Added' if new else 'Replaced'} the console account {email} ({args.role}). "
          "Sign in at /console/ of the web process (obsession serve).")
    return 0
