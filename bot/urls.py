"""Addresses of the web archive: pages and images, and the signatures that keep image URLs fetchable.

The archive's pages can be closed (ARCHIVE_TOKEN or ARCHIVE_BASIC_AUTH), but Slack and Teams fetch
images with no credentials; so an image URL carries `?sig=`, an HMAC of its path, which opens that
one image and nothing else. Pure functions: no I/O.
"""
from __future__ import annotations

import base64
import hashlib
import hmac

from tracker.settings import Settings

SIG_PARAM = "sig"
_DERIVE = b"obsession-tracker archive image URLs v1"


def signing_key(settings: Settings) -> bytes | None:
    """The key image URLs are signed with: URL_SIGNING_KEY, else derived from a secret setting; None when none is set."""
    if settings.url_signing_key:
        return settings.url_signing_key.encode("utf-8")
    for secret in (settings.archive_token, settings.archive_basic_auth,
                   settings.slack_signing_secret, settings.teams_outgoing_webhook_secret):
        if secret:
            # Derived, so the signing key never equals (and never reveals) the secret it comes from.
            return hmac.new(secret.encode("utf-8"), _DERIVE, hashlib.sha256).digest()
    return None


def signature(key: bytes, path: str) -> str:
    """The signature of one path (22 URL-safe characters, 132 bits)."""
    mac = hmac.new(key, path.encode("utf-8"), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).decode("ascii")[:22]


def verify(key: bytes | None, path: str, sig: str | None) -> bool:
    """True when `sig` is the signature of `path` (compared in constant time)."""
    if not key or not sig:
        return False
    return hmac.compare_digest(signature(key, path), sig)


def signed_path(settings: Settings, path: str) -> str:
    """The path with its signature when a signing key is set."""
    return _signed(signing_key(settings), path)


def _signed(key: bytes | None, path: str) -> str:
    return f"{path}?{SIG_PARAM}={signature(key, path)}" if key else path


def public_url(settings: Settings, path: str, sign: bool = False) -> str | None:
    """PUBLIC_BASE_URL + path (signed when `sign`), or None when PUBLIC_BASE_URL is not set."""
    return absolute_url(settings.public_base_url, signing_key(settings) if sign else None, path)


def absolute_url(base_url: str | None, key: bytes | None, path: str) -> str | None:
    """base_url + path, signed with `key` when there is one; None without a base URL (what a chat worker is given)."""
    if not base_url:
        return None
    return base_url + _signed(key, path)
