"""Email over SMTP: one connection for the whole fan-out, one message per recipient address.

The message is rendered once per subscription (renderers.email.build_message) and serialised once;
each recipient's copy is that text with its own To, Message-ID and List-Unsubscribe headers in
front, so ten thousand recipients cost ten thousand SMTP transactions and nothing more. Every value
that reaches a header is checked (addresses) or percent-encoded (URLs), so no user data can add a
header.
"""
from __future__ import annotations

import hashlib
import logging
import re
import smtplib
import socket
import ssl
from dataclasses import dataclass
from datetime import date
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from urllib.parse import quote, urlencode

from tracker.errors import ConfigError

from .base import ChannelError, ChannelPlugin, Delivery, PlanContext, Planned
from .outbox import safe_name, write_file

MAX_EMAIL_BYTES = 10 * 1000 * 1000   # a whole message as sent stays under 10 MB, attachments and all
ATTACHMENT_LABELS = {"pdf": "a PDF", "docx": "a Word file (.docx)"}     # [[subscriptions]] attach, as --dry-run says it
RECIPIENT_HEADERS = 4096              # room kept for each copy's To, Message-ID and List-Unsubscribe
ATTACHMENT_TYPES = {"pdf": ("application", "pdf"),
                    "docx": ("application", "vnd.openxmlformats-officedocument.wordprocessingml.document")}
log = logging.getLogger("obsession.email")

# An address without display name or comments: what a subscription lists, and all a header gets.
_ATOM = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
ADDRESS = re.compile(rf"^{_ATOM}(?:\.{_ATOM})*@{_LABEL}(?:\.{_LABEL})*$")


def check_address(addr: str, where: str) -> str:
    """The address, stripped; ConfigError naming `where` when it is not a plain address."""
    a = addr.strip()
    if len(a) > 254 or not ADDRESS.match(a):
        raise ConfigError(f"{where}: {addr!r} is not an email address (write it plainly, like "
                          f"team@example.gov.uk, one address per entry)")
    return a


def read_email_file(path: str, base_dir: Path) -> list[str]:
    """The addresses in a file: one a line; blank lines and lines starting with # are skipped."""
    p = Path(path)
    if not p.is_absolute():
        p = base_dir / p
    try:
        lines = p.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        raise ConfigError(f"{p}: no such file (named by a subscription's email_file); create it or fix the "
                          f"path, which is relative to the configuration file") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{p}: not UTF-8 text; save the address list as UTF-8") from None
    out = []
    for n, line in enumerate(lines, 1):
        line = line.strip()
        if line and not line.startswith("#"):
            out.append(check_address(line, f"{p}, line {n}"))
    return out


def recipients(addresses: list[str]) -> list[str]:
    """Each address once, ignoring case (a mailing-list address is one recipient)."""
    seen: dict[str, str] = {}
    for a in addresses:
        seen.setdefault(a.lower(), a)
    return list(seen.values())


@dataclass(frozen=True)
class MailTemplate:
    """A subscription's message serialised once, without its per-recipient headers."""

    sender: str              # the envelope sender (MAIL_FROM)
    head: bytes              # header lines, CRLF-terminated, without To / Message-ID / List-Unsubscribe
    body: bytes              # everything after the blank line
    domain: str              # for Message-IDs
    list_key: str            # the subscription, as the unsubscribe link names it
    unsubscribe_mailto: str | None
    unsubscribe_url: str | None   # PUBLIC_BASE_URL + /unsubscribe, for RFC 8058 one-click
    left_out: tuple[str, ...] = ()   # attachments that would have taken the message over MAX_EMAIL_BYTES


def list_id(subscription: str, domain: str) -> str:
    """The List-Id of a subscription: 'city.tracker.example.gov.uk' (RFC 2919)."""
    from renderers.paths import slug

    return f"{slug(subscription)}.tracker.{domain}"


def attachment_name(model, fmt: str) -> str:
    """'tracker-2015-07-20-leeds.pdf': the view, the week and the area (or obsession) of the file."""
    from renderers.paths import slug
    from renderers.views import view_of

    view = view_of(model)
    place = view.place_of(model)
    return f"{view.name}-{model.week.isoformat()}-{slug(place.area) if place.area else place.obsession}.{fmt}"


def render_attachments(model, png: bytes, kinds) -> list[tuple[str, bytes]]:
    """The files a subscription asks to attach ('pdf', 'docx'), named and rendered from the model (pure)."""
    from renderers.views import view_of

    view = view_of(model)
    return [(attachment_name(model, k), view.render(k, model, **({"png": png} if k == "docx" else {})))
            for k in kinds]


def _encoded_size(data: bytes) -> int:
    """Bytes an attachment takes in the message: base64 in 76-character lines, and its part's headers."""
    return -(-len(data) // 57) * 78 + 512


def build_template(model, png: bytes, *, subscription: str, sender: str, from_name: str,
                   public_base_url: str | None, unsubscribe_address: str | None,
                   attachments: list[tuple[str, bytes]] = ()) -> MailTemplate:
    """Render one subscription's message once (pure), with the attachments that keep it under MAX_EMAIL_BYTES."""
    from renderers.email import build_message

    check_address(sender, "MAIL_FROM")
    domain = sender.rpartition("@")[2]
    msg = build_message(model, png, sender=sender, to=None, public_base_url=public_base_url, from_name=from_name,
                        list_id=list_id(subscription, domain), unsubscribe_mailto=unsubscribe_address,
                        message_id_domain=domain)
    for h in ("To", "Message-ID", "List-Unsubscribe", "List-Unsubscribe-Post"):
        del msg[h]
    size = len(msg.as_bytes(policy=policy.SMTP)) + RECIPIENT_HEADERS
    left_out = []
    for name, data in attachments:
        if size + _encoded_size(data) > MAX_EMAIL_BYTES:
            left_out.append(name)
            continue
        size += _encoded_size(data)
        maintype, subtype = ATTACHMENT_TYPES[name.rpartition(".")[2]]
        msg.add_attachment(data, maintype=maintype, subtype=subtype, filename=name)
    raw = msg.as_bytes(policy=policy.SMTP)
    head, sep, body = raw.partition(b"\r\n\r\n")
    return MailTemplate(sender=sender, head=head + b"\r\n", body=body, domain=domain, list_key=subscription,
                        unsubscribe_mailto=unsubscribe_address,
                        unsubscribe_url=(public_base_url.rstrip("/") + "/unsubscribe") if public_base_url else None,
                        left_out=tuple(left_out))


def build_notice_template(subject: str, text: str, *, key: str, sender: str, from_name: str) -> MailTemplate:
    """A plain-text notice (e.g. to the owners, about a held week) as a template (pure)."""
    from email.headerregistry import Address
    from email.utils import formatdate

    check_address(sender, "MAIL_FROM")
    for value in (subject, from_name):
        if any(c in value for c in "\r\n\0"):
            raise ConfigError(f"{value!r} contains a line break; write it on one line")
    msg = EmailMessage()
    msg["Subject"] = subject
    local, _, host = sender.rpartition("@")
    msg["From"] = Address(display_name=from_name, username=local, domain=host)
    msg["Date"] = formatdate(localtime=False, usegmt=True)
    msg["Auto-Submitted"] = "auto-generated"
    msg.set_content(text)
    head, _, body = msg.as_bytes(policy=policy.SMTP).partition(b"\r\n\r\n")
    return MailTemplate(sender=sender, head=head + b"\r\n", body=body, domain=host, list_key=key,
                        unsubscribe_mailto=None, unsubscribe_url=None)


def message_id(week: date, subscription: str, recipient: str, generation: int, domain: str) -> str:
    """A Message-ID that is the same every time this row is sent, so that a message sent again after a
    crash is recognised as the same message; --force (a new generation) makes a new one."""
    h = hashlib.sha256(f"{subscription}\0{recipient.lower()}".encode()).hexdigest()[:20]
    return f"<tracker.{week.isoformat()}.{h}.{generation}@{domain}>"


def unsubscribe_link(t: MailTemplate, recipient: str, signer=None) -> str | None:
    """The signed one-click unsubscribe URL for one recipient; None without a public address or a
    signing key, since an unsigned link would let anyone unsubscribe anyone."""
    if not t.unsubscribe_url or signer is None:
        return None
    query = urlencode({"list": t.list_key, "address": recipient})
    query += "&sig=" + quote(signer(f"/unsubscribe?{query}"), safe="")
    return f"{t.unsubscribe_url}?{query}"


def build_payload(t: MailTemplate, recipient: str, msg_id: str, one_click_url: str | None = None) -> bytes:
    """One recipient's message as sent (pure): the template with To, Message-ID and List-Unsubscribe."""
    check_address(recipient, "recipient")
    lines = [f"To: {recipient}", f"Message-ID: {msg_id}"]
    links = []
    if one_click_url:
        if any(c in one_click_url for c in "\r\n <>"):
            raise ConfigError("PUBLIC_BASE_URL: contains a space or line break; write the address alone")
        links.append(f"<{one_click_url}>")
    if t.unsubscribe_mailto:
        subject = quote(f"Unsubscribe {t.list_key}", safe="")
        links.append(f"<mailto:{t.unsubscribe_mailto}?subject={subject}>")
    if links:
        lines.append("List-Unsubscribe: " + ",\r\n ".join(links))
    if one_click_url:
        lines.append("List-Unsubscribe-Post: List-Unsubscribe=One-Click")   # RFC 8058
    return "\r\n".join(lines).encode("ascii") + b"\r\n" + t.head + b"\r\n" + t.body


def parse(raw: bytes) -> EmailMessage:
    """A sent message read back (for the outbox and tests)."""
    return BytesParser(policy=policy.default).parsebytes(raw)


class EmailChannel:
    """SMTP with STARTTLS, implicit TLS or neither, and login when SMTP_USER is set."""

    name = "email"

    def __init__(self, settings, *, timeout: float = 60, ssl_context: ssl.SSLContext | None = None):
        self.host = settings.smtp_host
        self.ssl = settings.smtp_ssl
        self.starttls = settings.smtp_starttls
        self.port = settings.smtp_port or (465 if self.ssl else 587 if self.starttls else 25)
        self.user, self.password = settings.smtp_user, settings.smtp_password
        self.sender = settings.mail_from
        self.timeout = timeout
        self.context = ssl_context
        self.conn: smtplib.SMTP | None = None

    def _where(self) -> str:
        return f"{self.host}:{self.port}"

    def open(self) -> None:
        """Connect, upgrade to TLS as configured, and log in."""
        if not self.host:
            raise ChannelError("SMTP_HOST is not set; set it (and SMTP_PORT) to send email", fatal=True)
        ctx = self.context or ssl.create_default_context()
        try:
            if self.ssl:
                conn = smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout, context=ctx)
            else:
                conn = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
            conn.ehlo()
            if self.starttls:
                if not conn.has_extn("starttls"):
                    conn.close()
                    raise ChannelError(f"the mail server {self._where()} does not offer STARTTLS; set SMTP_STARTTLS=0, "
                                       f"or SMTP_SSL=1 if it expects TLS from the start (usually port 465)", fatal=True)
                conn.starttls(context=ctx)
                conn.ehlo()
            if self.user:
                conn.login(self.user, self.password or "")
        except smtplib.SMTPAuthenticationError as e:
            raise ChannelError(f"the mail server {self._where()} refused SMTP_USER/SMTP_PASSWORD ({e.smtp_code}); "
                               f"check them", fatal=True) from None
        except smtplib.SMTPNotSupportedError:
            raise ChannelError(f"the mail server {self._where()} does not accept a login here; leave SMTP_USER empty "
                               f"or turn on SMTP_STARTTLS/SMTP_SSL", fatal=True) from None
        except ssl.SSLError as e:
            raise ChannelError(f"TLS with {self._where()} failed ({e.reason}); check SMTP_SSL / SMTP_STARTTLS and "
                               f"the port", fatal=True) from None
        except (OSError, smtplib.SMTPException) as e:
            raise ChannelError(f"cannot reach the mail server {self._where()} ({e.__class__.__name__}: {e}); "
                               f"check SMTP_HOST and SMTP_PORT", fatal=True) from None
        self.conn = conn

    def send(self, delivery: Delivery) -> None:
        """Send one recipient's message; reconnect once if the connection was dropped."""
        if self.conn is None:
            self.open()
        try:
            self._send(delivery)
        except (smtplib.SMTPServerDisconnected, ConnectionError, socket.timeout, BrokenPipeError):
            self.close()
            self.open()          # raises a fatal ChannelError when the server is gone
            try:
                self._send(delivery)
            except (smtplib.SMTPServerDisconnected, OSError) as e:
                self.close()
                raise ChannelError(f"the mail server {self._where()} dropped the connection again ({e}); "
                                   f"try again later", fatal=True) from None

    def _send(self, delivery: Delivery) -> None:
        """One SMTP transaction; a 421 (the server closing the connection) becomes a disconnect."""
        to = delivery.recipient
        try:
            refused = self.conn.sendmail(self.sender, [to], delivery.payload)
        except smtplib.SMTPRecipientsRefused as e:
            code, text = next(iter(e.recipients.values()))
            if code == 421:
                raise smtplib.SMTPServerDisconnected(text.decode(errors="replace")) from None
            raise ChannelError(f"{to} was refused by the mail server: {code} {text.decode(errors='replace')}") from None
        except smtplib.SMTPResponseException as e:
            text = e.smtp_error.decode(errors="replace") if isinstance(e.smtp_error, bytes) else str(e.smtp_error)
            if e.smtp_code == 421:
                raise smtplib.SMTPServerDisconnected(text) from None
            if isinstance(e, smtplib.SMTPSenderRefused):
                raise ChannelError(f"the mail server refused the sender MAIL_FROM={self.sender}: {e.smtp_code} "
                                   f"{text}", fatal=True) from None
            raise ChannelError(f"the mail server refused the message for {to}: {e.smtp_code} {text}") from None
        if refused:
            raise ChannelError(f"{to} was refused by the mail server: {refused}")

    def close(self) -> None:
        """Say QUIT (politely; a dead connection is simply dropped)."""
        if self.conn is not None:
            try:
                self.conn.quit()
            except (smtplib.SMTPException, OSError):
                try:
                    self.conn.close()
                except OSError:
                    pass
            self.conn = None


class EmailPlugin(ChannelPlugin):
    """Email: a subscription's `email` addresses and `email_file` list, sent over SMTP_HOST."""

    kind = "email"
    outbox_files = ("email (.eml)", "*.eml")
    outbox_hint = "Open an .eml in a mail client"
    unsubscribable = True

    def recipients_of(self, sub, where: str, base_dir: Path) -> list[str]:
        """The subscription's addresses and those in its email_file, checked, each once ignoring case."""
        emails = [check_address(a, f"{where}: email") for a in sub.email]
        if sub.email_file:
            emails += read_email_file(sub.email_file, base_dir)
        return recipients(emails)

    def configured(self, settings) -> bool:
        """Sent by SMTP when SMTP_HOST is set."""
        return bool(settings.smtp_host)

    def channel(self, settings, ctx) -> EmailChannel:
        """One SMTP connection for the run."""
        return EmailChannel(settings)

    def plan(self, pc: PlanContext, sub, addresses: list[str], model, png: bytes) -> list[Planned]:
        """The subscription's message rendered once, then one copy per address."""
        settings, config = pc.settings, pc.config
        owners = config.quality.owners_email
        tpl = build_template(model, png, subscription=sub.name, sender=settings.mail_from, from_name=config.sender,
                             public_base_url=settings.public_base_url,
                             unsubscribe_address=owners[0] if owners else settings.mail_from,
                             attachments=render_attachments(model, png, getattr(sub, "attach", ())))
        for name in tpl.left_out:
            log.warning("subscription %s: %s left out of the email, which would have gone over %d MB; the archive "
                        "has it", sub.name, name, MAX_EMAIL_BYTES // 1_000_000)

        def make(addr: str):
            def build(generation: int) -> Delivery:
                mid = message_id(pc.week, sub.name, addr, generation, tpl.domain)
                return Delivery(addr, addr, build_payload(tpl, addr, mid, unsubscribe_link(tpl, addr, pc.signer)))
            return build

        return self.copies(pc, addresses, make)

    def plan_notice(self, pc: PlanContext, key: str, subject: str, text: str, addresses: list[str]) -> list[Planned]:
        """A plain-text notice (e.g. to the owners, about a held week), ledgered under the name `key`."""
        tpl = build_notice_template(subject, text, key=key, sender=pc.settings.mail_from, from_name=pc.config.sender)

        def make(addr: str):
            return lambda generation: Delivery(addr, addr, build_payload(
                tpl, addr, message_id(pc.week, key, addr, generation, tpl.domain)))

        return self.copies(pc, addresses, make)

    def copies(self, pc: PlanContext, addresses: list[str], make) -> list[Planned]:
        """One Planned per address: sent to the address as the ledger keeps it (lower case), or, without
        SMTP_HOST, written to the outbox as listed."""
        if self.configured(pc.settings):
            return [Planned(a.lower(), make(a.lower())) for a in addresses]
        return [Planned(a.lower(), make(a), outbox=True) for a in addresses]

    def dry_run_lines(self, settings, sub, addresses: list[str], sent: set) -> list[str]:
        """One line: how, how many, the first three addresses, the files attached, and how many were already sent."""
        if not addresses:
            return []
        how = (f"by SMTP via {settings.smtp_host}" if settings.smtp_host
               else f"into {settings.outbox_dir}/ (no SMTP_HOST)")
        done = sum(1 for a in addresses if (sub.name, self.kind, a.lower()) in sent)
        shown = ", ".join(addresses[:3]) + (f" and {len(addresses) - 3} more" if len(addresses) > 3 else "")
        files = " and ".join(ATTACHMENT_LABELS.get(k, k) for k in getattr(sub, "attach", ()))
        return [f"email {how}: {len(addresses)} recipient(s): {shown}"
                + (f", with {files} attached (each only if the message stays under "
                   f"{MAX_EMAIL_BYTES // 1_000_000} MB)" if files else "")
                + (f" ({done} already sent)" if done else "")]

    def outbox_write(self, folder: Path, delivery: Delivery) -> Path:
        """<address>.eml, the message as it would have been sent."""
        return write_file(folder, f"{safe_name(delivery.recipient)}.eml", delivery.payload)


EMAIL = EmailPlugin()
