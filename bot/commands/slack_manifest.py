"""`obsession slack-manifest [--socket] [--url https://HOST]`: print the Slack app manifest (YAML) to paste."""
from __future__ import annotations

import sys


def run(args, ctx) -> int:
    """Print the manifest for "Create an app > From a manifest"; --url defaults to PUBLIC_BASE_URL."""
    from bot.slack_manifest import build_manifest, to_yaml

    url = args.url or (None if args.socket else getattr(ctx.settings, "public_base_url", None))
    sys.stdout.write(to_yaml(build_manifest(ctx.config.city, socket=args.socket, url=url)) + "\n")
    return 0
