"""One-click unsubscribe (RFC 8058) for the weekly email: the web routes and the check the weekly run makes.

The email's List-Unsubscribe link is `PUBLIC_BASE_URL/unsubscribe?list=SUB&address=ADDR&sig=...`,
signed with the archive's URL key, so only the recipient's own link works. A mail client's one-click
POST records the address at once; a person who opens the link in a browser gets a page with a button
(a GET never unsubscribes, because link scanners and previews fetch links without anyone asking).
A POST's body is at most 4 KB, refused past it as it arrives (bot/limits.py), before it is read here.
"""
from __future__ import annotations

import html
from urllib.parse import urlencode

from tracker.settings import Settings

PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<meta name="viewport" content="width=device-width"></head>
<body style="font-family:Arial,sans-serif;background:#ffffff;color:#1b1b1b;max-width:36em;margin:3em auto;padding:0 1em">
<h1 style="font-size:1.4em">{title}</h1>{body}</body></html>"""


def link_is_genuine(settings: Settings, subscription: str, address: str, sig: str | None) -> bool:
    """True when `sig` is the signature the weekly run put on this recipient's link."""
    from bot.urls import signing_key, verify

    query = urlencode({"list": subscription, "address": address})
    return verify(signing_key(settings), f"/unsubscribe?{query}", sig)


def without_unsubscribed(emails: list[str], subscription: str, unsubscribed: set[tuple[str, str]]) -> list[str]:
    """The recipients of one subscription less those who unsubscribed from it."""
    return [a for a in emails if (subscription, a.strip().lower()) not in unsubscribed]


def unsubscribe_routes(settings: Settings, config, database_url: str) -> list:
    """GET /unsubscribe (a page with a button) and POST /unsubscribe (one click, or the button)."""
    from starlette.responses import HTMLResponse
    from starlette.routing import Route

    names = {s.name for s in config.subscriptions}

    def page(title: str, body: str, status: int = 200) -> HTMLResponse:
        return HTMLResponse(PAGE.format(title=html.escape(title), body=body), status_code=status,
                            headers={"Cache-Control": "no-store", "Referrer-Policy": "no-referrer",
                                     "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'"})

    def params(request):
        q = request.query_params
        sub, addr, sig = q.get("list", ""), q.get("address", ""), q.get("sig")
        ok = sub in names and addr and link_is_genuine(settings, sub, addr, sig)
        return (sub, addr) if ok else None

    bad = ("This unsubscribe link is not valid (it may have been cut short by your mail program). "
           "Reply to the tracker email and ask to be taken off the list.")

    async def confirm(request):
        found = params(request)
        if found is None:
            return page("Link not valid", f"<p>{html.escape(bad)}</p>", 400)
        sub, addr = found
        action = html.escape(str(request.url.path) + "?" + request.url.query, quote=True)
        return page("Stop getting the weekly tracker?",
                    f"<p>{html.escape(addr)} will no longer get the weekly tracker <strong>{html.escape(sub)}</strong>.</p>"
                    f'<form method="post" action="{action}"><button type="submit" '
                    f'style="font-size:1em;padding:.5em 1em">Unsubscribe</button></form>')

    async def unsubscribe(request):
        found = params(request)
        if found is None:
            return page("Link not valid", f"<p>{html.escape(bad)}</p>", 400)
        sub, addr = found
        from urllib.parse import parse_qs

        form = parse_qs((await request.body())[:1000].decode("utf-8", "replace"))
        via = "one-click" if form.get("List-Unsubscribe") == ["One-Click"] else "page"
        from bot.ledger import Ledger

        def record():
            ledger = Ledger.open(database_url)
            try:
                ledger.unsubscribe(sub, addr, via)
            finally:
                ledger.close()

        from starlette.concurrency import run_in_threadpool

        await run_in_threadpool(record)
        return page("Unsubscribed", f"<p>{html.escape(addr)} will no longer get the weekly tracker "
                                    f"<strong>{html.escape(sub)}</strong>, from next week's on.</p>")

    return [Route("/unsubscribe", confirm, methods=["GET"]), Route("/unsubscribe", unsubscribe, methods=["POST"])]
