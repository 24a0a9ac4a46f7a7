"""The one settings object, read from the environment (and a .env file) at start-up.

Every setting is declared once, in SETTINGS below: its name, kind, default, one line of help and
whether it is a secret. From that one list come the `Settings` dataclass (one field per setting,
named in lower case: SMTP_HOST -> settings.smtp_host), `.env.example` (`obsession settings
--env-example > .env.example`; tests/test_env_example.py checks the committed file equals it) and
the `obsession settings` command. To add a setting (FORWARDED_ALLOW_IPS, OIDC_*, CONSOLE_MAX_UPLOAD_MB,
...), add one `Setting(...)` line to its group below, regenerate `.env.example`, and read it as
`settings.<name>`; nothing else reads the environment for settings.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass, field, make_dataclass
from pathlib import Path
from typing import Any, Callable

from .errors import ConfigError

DEFAULT_DATABASE_URL = "sqlite:///data/obsessions.db"


# Kinds: each turns the raw text of a set (non-empty) variable into its value, or raises ConfigError
# naming the setting and the fix. An unset or empty variable takes the declared default instead.

def _text(name: str, raw: str) -> str:
    return raw


def _whole(name: str, raw: str) -> int:
    try:
        return int(raw)
    except ValueError:
        raise ConfigError(f"setting {name}={raw!r} is not a whole number") from None


def _flag(name: str, raw: str) -> bool:
    low = raw.strip().lower()
    if low in ("1", "true", "yes", "on"):
        return True
    if low in ("0", "false", "no", "off"):
        return False
    raise ConfigError(f"setting {name}={raw!r} is not true or false; use 1/0, true/false or yes/no")


def _web_address(name: str, raw: str) -> str | None:
    base = raw.strip().rstrip("/") or None
    if base and not base.startswith(("http://", "https://")):
        raise ConfigError(f"setting {name}={base!r} must start with https:// (or http://)")
    return base


def _names(name: str, raw: str) -> tuple[str, ...]:
    return tuple(t.strip() for t in raw.split(",") if t.strip())


def _user_password(name: str, raw: str) -> str:
    user, _, password = raw.partition(":")
    if not user or not password:
        raise ConfigError(f"setting {name} must be user:password (both parts non-empty)")
    return raw


@dataclass(frozen=True)
class Kind:
    """How a setting's text becomes a value, the value's type, and how it is written back."""

    parse: Callable[[str, str], Any]
    type: Any
    example: Callable[[Any], str] = lambda v: "" if v is None else str(v)


TEXT = Kind(_text, str | None)
WHOLE = Kind(_whole, int | None)
FLAG = Kind(_flag, bool, lambda v: "1" if v else "0")
WEB_ADDRESS = Kind(_web_address, str | None)        # https://..., trailing / dropped
NAMES = Kind(_names, tuple[str, ...], lambda v: ",".join(v))
USER_PASSWORD = Kind(_user_password, str | None)


@dataclass(frozen=True)
class Setting:
    """One environment setting: its name, kind, default, one line of help, and whether it is secret."""

    name: str
    kind: Kind
    default: Any
    help: str
    secret: bool = False
    group: str = ""

    @property
    def attr(self) -> str:
        """The field of Settings that holds it."""
        return _ATTRS.get(self.name, self.name.lower())


# Fields whose name is not simply the setting's name in lower case.
_ATTRS = {"OBSESSION_CONFIG": "config_path"}

# Group name -> the comment above that group in .env.example.
GROUPS = {
    "store": "",
    "mail": "Mail delivery.",
    "slack": "Slack.",
    "teams": "Microsoft Teams.",
    "archive": "The web archive (obsession serve). Leave ARCHIVE_TOKEN and ARCHIVE_BASIC_AUTH empty for an open archive.",
    "web": "The web process's limits (obsession serve): they hold before any request is authenticated.",
    "console": "The analyst's console (/console/ of the web process). Without OIDC_ISSUER: local accounts only "
               "(obsession console-user add).",
}


def _declare(group: str, *settings: Setting) -> list[Setting]:
    return [Setting(s.name, s.kind, s.default, s.help, s.secret, group) for s in settings]


SETTINGS: tuple[Setting, ...] = tuple([
    *_declare(
        "store",
        Setting("DATABASE_URL", TEXT, DEFAULT_DATABASE_URL,
                "SQLAlchemy URL of the store (postgresql://user@host/db uses psycopg 3)."),
        Setting("OBSESSION_CONFIG", TEXT, None,
                "Path of the TOML configuration; default obsession.toml when present, else the built-in Leeds demo."),
        Setting("OUTBOX_DIR", TEXT, "outbox", "Where deliveries go for channels with no credentials."),
        Setting("PUBLIC_BASE_URL", WEB_ADDRESS, None,
                'Public address of the web process (https://...): hosted images and "view in browser" links.'),
    ),
    *_declare(
        "mail",
        Setting("SMTP_HOST", TEXT, None, "Mail server; empty writes mail to the outbox instead."),
        Setting("SMTP_PORT", WHOLE, None, "Mail server port; default 465 with SMTP_SSL, 587 with SMTP_STARTTLS, else 25."),
        Setting("SMTP_USER", TEXT, None, "User name to log in to the mail server; empty sends without logging in."),
        Setting("SMTP_PASSWORD", TEXT, None, "Password for SMTP_USER.", secret=True),
        Setting("SMTP_STARTTLS", FLAG, False, "1 to upgrade the connection with STARTTLS."),
        Setting("SMTP_SSL", FLAG, False, "1 for implicit TLS (usually port 465)."),
        Setting("MAIL_FROM", TEXT, "tracker@localhost", "The From address of the weekly mail."),
    ),
    *_declare(
        "slack",
        Setting("SLACK_BOT_TOKEN", TEXT, None, "Bot token (xoxb-...) that posts the tracker.", secret=True),
        Setting("SLACK_SIGNING_SECRET", TEXT, None,
                "Signing secret that proves a slash command came from Slack.", secret=True),
        Setting("SLACK_APP_TOKEN", TEXT, None, "App-level token (xapp-...) for Socket Mode.", secret=True),
        Setting("SLACK_API_URL", TEXT, None,
                "API base; default Slack's own (https://slack.com/api/). GovSlack and tests set another."),
        Setting("SLACK_ALLOWED_TEAM_IDS", NAMES, (),
                "Comma-separated workspace (team) IDs allowed to use the slash command; empty allows any."),
    ),
    *_declare(
        "teams",
        Setting("TEAMS_OUTGOING_WEBHOOK_SECRET", TEXT, None,
                "The security token Teams shows when an outgoing webhook is created.", secret=True),
    ),
    *_declare(
        "archive",
        Setting("ARCHIVE_TOKEN", TEXT, None,
                'Closes the pages to anyone without it (sent as "Authorization: Bearer TOKEN", or ?token=TOKEN once).',
                secret=True),
        Setting("ARCHIVE_BASIC_AUTH", USER_PASSWORD, None,
                "user:password closes the pages behind the browser's log-in box.", secret=True),
        Setting("URL_SIGNING_KEY", TEXT, None,
                "Signs image URLs (?sig=) so Slack and Teams can fetch images of a closed archive; "
                "default derived from a secret above.", secret=True),
    ),
    *_declare(
        "web",
        Setting("FORWARDED_ALLOW_IPS", NAMES, ("127.0.0.1",),
                "Comma-separated addresses of the proxies trusted to say the client's address and scheme "
                "(X-Forwarded-For/-Proto); * trusts any (only behind a platform router that sets them)."),
        Setting("REQUEST_READ_TIMEOUT", WHOLE, 10,
                "Seconds a request's headers may take to arrive, and the longest pause within its body; "
                "slower ones get 408 and are closed."),
        Setting("KEEP_ALIVE_TIMEOUT", WHOLE, 5, "Seconds an idle kept-alive connection is held open."),
        Setting("MAX_HEADER_BYTES", WHOLE, 16384, "The most bytes of request line and headers read for one request."),
        Setting("MAX_CONNECTIONS", WHOLE, 200,
                "Concurrent connections and requests; past it new requests get 503."),
        Setting("SHUTDOWN_TIMEOUT", WHOLE, 10,
                "Seconds a stopping process (SIGTERM) gives acknowledged answers and open requests to finish."),
    ),
    *_declare(
        "console",
        Setting("OIDC_ISSUER", WEB_ADDRESS, None,
                "The identity provider's issuer (its discovery document is ISSUER/.well-known/openid-configuration), "
                "e.g. https://login.microsoftonline.com/TENANT/v2.0."),
        Setting("OIDC_CLIENT_ID", TEXT, None, "The console's client (application) id at the identity provider."),
        Setting("OIDC_CLIENT_SECRET", TEXT, None, "The console's client secret at the identity provider.", secret=True),
        Setting("CONSOLE_MAX_UPLOAD_MB", WHOLE, 50, "Uploads larger than this many megabytes are refused unread."),
        Setting("CONSOLE_SESSION_KEY", TEXT, None,
                "Signs the console's session cookie; default derived from URL_SIGNING_KEY, else random "
                "(sessions then end when the web process restarts).", secret=True),
    ),
])

_BY_NAME = {s.name: s for s in SETTINGS}


def _from_env(cls, env: dict | None = None, dotenv: bool = True):
    """Settings from `env` (default: os.environ, after reading .env when present)."""
    if env is None:
        if dotenv and Path(".env").is_file():
            from dotenv import load_dotenv

            load_dotenv(".env", override=False)
        env = dict(os.environ)
    values = {}
    for s in SETTINGS:
        raw = env.get(s.name)
        values[s.attr] = s.kind.parse(s.name, raw) if raw else s.default
    if values["config_path"] is None and Path("obsession.toml").is_file():
        values["config_path"] = "obsession.toml"
    return cls(**values)


Settings = make_dataclass(
    "Settings",
    [(s.attr, s.kind.type, field(default=s.default, repr=not s.secret)) for s in SETTINGS],
    frozen=True,
    namespace={"from_env": classmethod(_from_env),
               "__module__": __name__,
               "__doc__": "Every setting the product reads (one field per SETTINGS entry); secrets kept out of repr()."},
)


_PASSWORD_IN_URL = re.compile(r"(://[^:/@\s]*:)[^@/\s]+@")


def mask_url(text: str) -> str:
    """`text` with the password of every URL in it masked: postgresql://u:***@host/db. Used wherever a URL is printed."""
    return _PASSWORD_IN_URL.sub(r"\1***@", text)


def shown(setting: Setting, value: Any) -> str:
    """A value as it may be printed: secrets only as set / not set, passwords in URLs masked."""
    if setting.secret:
        return "set" if value else "not set"
    if value is None or value == ():
        return "not set"
    return mask_url(setting.kind.example(value))


ENV_EXAMPLE_HEAD = "# Every setting the product reads. Copy to .env and fill in what you use; leave the rest empty."
ENV_EXAMPLE_TAIL = """\
# Data sources ([[sources]] in the configuration): a kind = "sql" source names, in url_env, the
# variable that holds its SQLAlchemy URL, so the URL and its password stay out of the file. E.g.:
# WAREHOUSE_URL=mssql+pyodbc://tracker:PASSWORD@dwh.example.gov.uk/Performance?driver=ODBC+Driver+18+for+SQL+Server
"""


def env_example() -> str:
    """The text of .env.example, generated from SETTINGS: each setting under its help line, with its default."""
    out = [ENV_EXAMPLE_HEAD]
    group = None
    for s in SETTINGS:
        if s.group != group:
            group = s.group
            out.append("")
            if GROUPS[group]:
                out.append(f"# {GROUPS[group]}")
        out.append(f"# {s.help}")
        out.append(f"{s.name}={'' if s.secret else s.kind.example(s.default)}")
    out.append("")
    return "\n".join(out) + "\n" + ENV_EXAMPLE_TAIL
