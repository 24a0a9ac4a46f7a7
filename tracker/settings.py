"""The one settings object, read from the environment (and a .env file) at start-up."""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from .errors import ConfigError

DEFAULT_DATABASE_URL = "sqlite:///data/obsessions.db"


def _flag(env, name: str, default: bool = False) -> bool:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    low = raw.strip().lower()
    if low in ("1", "true", "yes", "on"):
        return True
    if low in ("0", "false", "no", "off"):
        return False
    raise ConfigError(f"setting {name}={raw!r} is not true or false; use 1/0, true/false or yes/no")


def _int(env, name: str, default: int | None) -> int | None:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ConfigError(f"setting {name}={raw!r} is not a whole number") from None


def _user_password(env, name: str) -> str | None:
    raw = env.get(name) or None
    if raw is not None and (":" not in raw or not raw.split(":", 1)[0] or not raw.split(":", 1)[1]):
        raise ConfigError(f"setting {name} must be user:password (both parts non-empty)")
    return raw


@dataclass(frozen=True)
class Settings:
    """Every setting the product reads; secrets are kept out of repr() and logs."""

    database_url: str = DEFAULT_DATABASE_URL
    config_path: str | None = None
    outbox_dir: str = "outbox"
    public_base_url: str | None = None
    smtp_host: str | None = None
    smtp_port: int | None = None
    smtp_user: str | None = None
    smtp_password: str | None = field(default=None, repr=False)
    smtp_starttls: bool = False
    smtp_ssl: bool = False
    mail_from: str = "tracker@localhost"
    slack_bot_token: str | None = field(default=None, repr=False)
    slack_signing_secret: str | None = field(default=None, repr=False)
    slack_app_token: str | None = field(default=None, repr=False)
    slack_api_url: str | None = None
    slack_allowed_team_ids: tuple[str, ...] = ()
    teams_outgoing_webhook_secret: str | None = field(default=None, repr=False)
    archive_token: str | None = field(default=None, repr=False)
    archive_basic_auth: str | None = field(default=None, repr=False)
    url_signing_key: str | None = field(default=None, repr=False)
    extra: dict = field(default_factory=dict, repr=False)

    @classmethod
    def from_env(cls, env: dict | None = None, dotenv: bool = True) -> "Settings":
        """Settings from `env` (default: os.environ, after reading .env when present)."""
        if env is None:
            if dotenv and Path(".env").is_file():
                from dotenv import load_dotenv

                load_dotenv(".env", override=False)
            env = dict(os.environ)
        config_path = env.get("OBSESSION_CONFIG") or ("obsession.toml" if Path("obsession.toml").is_file() else None)
        teams = [t.strip() for t in env.get("SLACK_ALLOWED_TEAM_IDS", "").split(",") if t.strip()]
        base = (env.get("PUBLIC_BASE_URL") or "").strip().rstrip("/") or None
        if base and not base.startswith(("http://", "https://")):
            raise ConfigError(f"setting PUBLIC_BASE_URL={base!r} must start with https:// (or http://)")
        return cls(
            database_url=env.get("DATABASE_URL") or DEFAULT_DATABASE_URL,
            config_path=config_path,
            outbox_dir=env.get("OUTBOX_DIR") or "outbox",
            public_base_url=base,
            smtp_host=env.get("SMTP_HOST") or None,
            smtp_port=_int(env, "SMTP_PORT", None),
            smtp_user=env.get("SMTP_USER") or None,
            smtp_password=env.get("SMTP_PASSWORD") or None,
            smtp_starttls=_flag(env, "SMTP_STARTTLS"),
            smtp_ssl=_flag(env, "SMTP_SSL"),
            mail_from=env.get("MAIL_FROM") or "tracker@localhost",
            slack_bot_token=env.get("SLACK_BOT_TOKEN") or None,
            slack_signing_secret=env.get("SLACK_SIGNING_SECRET") or None,
            slack_app_token=env.get("SLACK_APP_TOKEN") or None,
            slack_api_url=env.get("SLACK_API_URL") or None,
            slack_allowed_team_ids=tuple(teams),
            teams_outgoing_webhook_secret=env.get("TEAMS_OUTGOING_WEBHOOK_SECRET") or None,
            archive_token=env.get("ARCHIVE_TOKEN") or None,
            archive_basic_auth=_user_password(env, "ARCHIVE_BASIC_AUTH"),
            url_signing_key=env.get("URL_SIGNING_KEY") or None,
            extra={k: v for k, v in env.items() if k.startswith(("OBSESSION_", "ARCHIVE_", "SMTP_", "SLACK_", "TEAMS_"))},
        )
