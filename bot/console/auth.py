"""Signing in: local accounts (Argon2 hashes) and OpenID Connect with the council's identity provider (Authlib)."""
from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from dataclasses import dataclass, field

from tracker.errors import ConfigError

log = logging.getLogger("obsession.console")

MAX_PASSWORD = 1024        # longer is refused before hashing (Argon2 would take it, slowly)
MIN_PASSWORD = 12


@dataclass(frozen=True)
class ConsoleSettings:
    """The console's settings: the identity provider, the upload limit and the session key."""

    oidc_issuer: str | None = None
    oidc_client_id: str | None = None
    oidc_client_secret: str | None = field(default=None, repr=False)
    max_upload_mb: int = 50
    session_key: str | None = field(default=None, repr=False)

    @property
    def oidc(self) -> bool:
        """True when an identity provider is configured."""
        return bool(self.oidc_issuer)

    @classmethod
    def from_settings(cls, settings) -> "ConsoleSettings":
        """The console's part of the settings (OIDC_*, CONSOLE_*), checked together."""
        issuer, client_id = settings.oidc_issuer, settings.oidc_client_id
        if issuer and not issuer.startswith(("https://", "http://127.0.0.1", "http://localhost")):
            raise ConfigError(f"setting OIDC_ISSUER={issuer!r} must be an https:// address (the provider's issuer, "
                              "e.g. https://login.microsoftonline.com/TENANT/v2.0)")
        if issuer and not client_id:
            raise ConfigError("setting OIDC_CLIENT_ID is empty; with OIDC_ISSUER set, give the console's client "
                              "(application) id registered with the identity provider")
        mb = settings.console_max_upload_mb
        if not 1 <= mb <= 2000:
            raise ConfigError(f"setting CONSOLE_MAX_UPLOAD_MB={mb} must be from 1 to 2000 (megabytes)")
        return cls(oidc_issuer=issuer, oidc_client_id=client_id, oidc_client_secret=settings.oidc_client_secret,
                   max_upload_mb=mb, session_key=settings.console_session_key)


def session_key(console: ConsoleSettings, url_signing_key: str | None) -> str:
    """The key that signs the console's cookie: its own, else one derived from URL_SIGNING_KEY, else random."""
    if console.session_key:
        return console.session_key
    if url_signing_key:
        return hmac.new(url_signing_key.encode(), b"obsession console session", hashlib.sha256).hexdigest()
    log.warning("console: no CONSOLE_SESSION_KEY or URL_SIGNING_KEY; sessions end when the web process restarts")
    return secrets.token_hex(32)


# -- local accounts --------------------------------------------------------------------------------------

def _hasher():
    from argon2 import PasswordHasher

    return PasswordHasher()      # Argon2id with the library's (RFC 9106 low-memory) parameters


def check_password_text(password: str) -> str:
    """A password fit to keep; ConfigError saying what is wrong otherwise."""
    if len(password) > MAX_PASSWORD:
        raise ConfigError(f"the password is longer than {MAX_PASSWORD} characters; choose a shorter one")
    if len(password) < MIN_PASSWORD:
        raise ConfigError(f"the password is shorter than {MIN_PASSWORD} characters; choose a longer one "
                          "(a few unrelated words is a good password)")
    return password


def hash_password(password: str) -> str:
    """The Argon2 hash to store for a password."""
    return _hasher().hash(check_password_text(password))


_DUMMY = None


def verify_password(stored_hash: str | None, password: str) -> tuple[bool, str | None]:
    """(matches, a new hash to store when the parameters changed); works as long for unknown accounts."""
    from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

    global _DUMMY
    ph = _hasher()
    if len(password) > MAX_PASSWORD:
        return False, None
    if stored_hash is None:
        if _DUMMY is None:
            _DUMMY = ph.hash(secrets.token_hex(16))
        stored_hash, known = _DUMMY, False
    else:
        known = True
    try:
        ph.verify(stored_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False, None
    if not known:
        return False, None
    return True, (ph.hash(password) if ph.check_needs_rehash(stored_hash) else None)


# -- OpenID Connect --------------------------------------------------------------------------------------

def oidc_client(console: ConsoleSettings):
    """Authlib's Starlette client for the provider in OIDC_ISSUER (discovery document, PKCE S256)."""
    from authlib.integrations.starlette_client import OAuth

    oauth = OAuth()
    oauth.register(
        "council",
        client_id=console.oidc_client_id,
        client_secret=console.oidc_client_secret,
        server_metadata_url=console.oidc_issuer + "/.well-known/openid-configuration",
        client_kwargs={"scope": "openid email profile", "code_challenge_method": "S256", "timeout": 15},
    )
    return oauth.council


def identity(userinfo) -> tuple[str | None, list[str], str]:
    """(email, groups, display name) from verified ID token claims; groups include the token's app roles."""
    email = userinfo.get("email") or userinfo.get("preferred_username") or userinfo.get("upn")
    email = email.strip().lower() if isinstance(email, str) and "@" in email else None
    name = userinfo.get("name") if isinstance(userinfo.get("name"), str) else (email or "")
    return email, memberships(userinfo), name


def memberships(userinfo) -> list[str]:
    """The token's group ids (`groups`) and app role values (`roles`), which `[console]` matches alike.

    App roles are Microsoft's answer to groups that do not fit in a token: assign the council's groups
    to the app's roles, and every token carries the roles whatever the number of groups.
    """
    out: list[str] = []
    for claim in ("groups", "roles"):
        values = userinfo.get(claim)
        if isinstance(values, list):
            out += [v for v in values if isinstance(v, str)]
    return out


def groups_overage(userinfo) -> bool:
    """True when the token says the user's groups did not fit in it (Microsoft Entra past 200 groups:
    no `groups`, but `_claim_names` naming it, or `hasgroups`), so a role given by group cannot be seen."""
    names = userinfo.get("_claim_names")
    return (isinstance(names, dict) and "groups" in names) or userinfo.get("hasgroups") is True
