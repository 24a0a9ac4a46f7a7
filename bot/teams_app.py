"""The Teams outgoing webhook: `@Obsession neet cluster=Seacroft` in a channel, answered with an Adaptive Card.

Teams signs each request: `Authorization: HMAC <base64>`, the base64 HMAC-SHA256 of the raw body
keyed with the base64-decoded security token shown when the webhook was created
(TEAMS_OUTGOING_WEBHOOK_SECRET). Anything that does not verify is refused with 401. The reply must
come within 5 seconds, in the response body: {"type": "message", "attachments": [card]}.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import html
import json
import logging
import re
import time

from bot.chat.service import ChatService
from tracker.errors import ConfigError
from tracker.settings import Settings

log = logging.getLogger("obsession.teams")

MAX_BODY = 64 * 1024
_AT = re.compile(r"<at\b[^>]*>.*?</at>", re.IGNORECASE | re.DOTALL)
_TAG = re.compile(r"<[^>]*>")


def secret_key(settings: Settings) -> bytes | None:
    """The HMAC key: the base64-decoded security token; ConfigError when the token is not base64."""
    token = settings.teams_outgoing_webhook_secret
    if not token:
        return None
    try:
        return base64.b64decode(token.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise ConfigError("setting TEAMS_OUTGOING_WEBHOOK_SECRET is not the base64 security token Teams "
                          "showed when the outgoing webhook was created; copy it again") from None


def sign(key: bytes, body: bytes) -> str:
    """The Authorization header value Teams sends for this body."""
    return "HMAC " + base64.b64encode(hmac.new(key, body, hashlib.sha256).digest()).decode("ascii")


def verify(key: bytes | None, body: bytes, authorization: str | None) -> bool:
    """True when the Authorization header is the HMAC of the body (compared in constant time)."""
    if not key or not authorization:
        return False
    return hmac.compare_digest(sign(key, body).encode("ascii"), authorization.strip().encode("utf-8", "replace"))


def question(text: str) -> str:
    """The message text with the @mentions and HTML Teams adds taken out."""
    text = _AT.sub(" ", text or "")
    text = _TAG.sub(" ", text)
    return re.sub(r"\s+", " ", html.unescape(text)).strip()


def teams_endpoint(settings: Settings, service: ChatService):
    """The Starlette endpoint for POST /teams/messages."""
    from starlette.responses import JSONResponse, PlainTextResponse

    key = secret_key(settings)

    async def endpoint(request):
        started = time.perf_counter()
        if key is None:
            log.warning("refused a Teams request: TEAMS_OUTGOING_WEBHOOK_SECRET is not set")
            return PlainTextResponse("not configured", status_code=401)
        body = await request.body()          # bounded as it is received (bot/limits.py, 64 KB)
        if len(body) > MAX_BODY:
            return PlainTextResponse("too large", status_code=413)
        if not verify(key, body, request.headers.get("authorization")):
            log.warning("refused a Teams request whose HMAC did not verify")
            return PlainTextResponse("unauthorized", status_code=401)
        try:
            activity = json.loads(body)
            text = activity.get("text") if isinstance(activity, dict) else None
            if not isinstance(text, str):
                raise ValueError("no text")
        except (ValueError, RecursionError):         # RecursionError: JSON nested thousands deep
            return PlainTextResponse("not a message", status_code=400)
        try:
            # Answered and the card built in a worker process: this process only checks and sends.
            answered = await service.reply(question(text), "teams", settings)
            if answered.image_url:
                service.warm(answered)
            reply = answered.message
        except Exception:
            log.exception("could not answer a Teams message")
            reply = {"type": "message", "text": "Sorry, that question could not be answered just now."}
        log.info("answered Teams in %.0f ms", 1000 * (time.perf_counter() - started))
        return JSONResponse(reply)

    return endpoint
