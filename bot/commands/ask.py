"""`obsession ask "TEXT"`: prints the answer the chat command `/obsession TEXT` would give."""
from __future__ import annotations

import sys


def run(args, ctx) -> int:
    """Answer TEXT in the chosen format; exit 2 when the grammar does not know the question."""
    from bot import urls
    from bot.chat.answer import ERROR, answer, render

    ans = answer(args.text or "", ctx.config, ctx.figures())
    path = ans.image_path() or ans.document_path()
    image_url = urls.public_url(ctx.settings, path, sign=True) if path else None
    sys.stdout.write(render(ans, args.format, image_url=image_url))
    return 2 if ans.kind == ERROR else 0
