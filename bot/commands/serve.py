"""`obsession serve`: the web process (Slack HTTP endpoint, Teams endpoint, tracker archive) under uvicorn."""
from __future__ import annotations

import logging
import sys


def run(args, ctx) -> int:
    """Serve until stopped; settings problems stop it at once with exit 2."""
    import uvicorn

    from bot.limits import uvicorn_config
    from bot.logs import setup
    from bot.web import create_app

    setup(logging.INFO)
    app = create_app(ctx.settings, ctx.config, ctx.store, settle=True)
    print(f"obsession serve: http://{args.host}:{args.port}/ (archive), /slack/events, /teams/messages, /healthz",
          file=sys.stderr)
    # One process: the figures, the image cache and the per-user rate limit live in it.
    # Its limits (bot/limits.py): read timeout, keep-alive, header size, connections, graceful stop, proxies.
    uvicorn.Server(uvicorn_config(app, ctx.settings, args.host, args.port, log_level="info")).run()
    return 0
