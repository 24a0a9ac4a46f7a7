"""`obsession serve`: the web process (Slack HTTP endpoint, Teams endpoint, tracker archive) under uvicorn."""
from __future__ import annotations

import logging
import sys


def run(args, ctx) -> int:
    """Serve until stopped; settings problems stop it at once with exit 2."""
    import uvicorn

    from bot.web import create_app

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    app = create_app(ctx.settings, ctx.config, ctx.store)
    print(f"obsession serve: http://{args.host}:{args.port}/ (archive), /slack/events, /teams/messages, /healthz",
          file=sys.stderr)
    # One process: the figures, the image cache and the per-user rate limit live in it.
    uvicorn.run(app, host=args.host, port=args.port, log_level="info", access_log=False,
                proxy_headers=True, forwarded_allow_ips="127.0.0.1")
    return 0
