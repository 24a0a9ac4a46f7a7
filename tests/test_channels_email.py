"""Email channel: payloads read back and parsed, and the real smtplib client against aiosmtpd on loopback."""
from __future__ import annotations

import ssl
import subprocess
from datetime import date
from urllib.parse import parse_qs, urlsplit

import pytest

from bot.channels.base import ChannelError, Delivery
from bot.channels.email import (
    EmailChannel,
    build_payload,
    build_template,
    check_address,
    message_id,
    parse,
    read_email_file,
    recipients,
    unsubscribe_link,
)
from tests.servers import MailBox, SMTPServer
from tracker.errors import ConfigError
from tracker.settings import Settings

WEEK = date(2015, 7, 20)
PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 64


def template(model, base=None, sub="city"):
    return build_template(model, PNG, subscription=sub, sender="tracker@example.gov.uk",
                          from_name="Performance Team", public_base_url=base,
                          unsubscribe_address="performance@example.gov.uk")


def test_one_recipients_message_has_the_list_headers(figure2_tracker):
    t = template(figure2_tracker)
    mid = message_id(WEEK, "city", "All-Staff@example.gov.uk", 0, t.domain)
    msg = parse(build_payload(t, "All-Staff@example.gov.uk", mid))
    assert msg["To"] == "All-Staff@example.gov.uk"
    assert msg["Message-ID"] == mid and mid.endswith("@example.gov.uk>")
    assert msg["List-Id"] == "Performance Team <city.tracker.example.gov.uk>"
    assert msg["List-Unsubscribe"] == "<mailto:performance@example.gov.uk?subject=Unsubscribe%20city>"
    assert msg["List-Unsubscribe-Post"] is None            # one-click only with PUBLIC_BASE_URL
    assert "Leeds" in msg["Subject"]
    assert len(msg.get_all("To")) == 1 and len(msg.get_all("Message-ID")) == 1
    # the PNG rides inside as the cid image
    pngs = [p for p in msg.walk() if p.get_content_type() == "image/png"]
    assert len(pngs) == 1 and pngs[0].get_content() == PNG


def test_one_click_unsubscribe_with_a_public_address(figure2_tracker):
    t = template(figure2_tracker, base="https://tracker.example.gov.uk")
    link = unsubscribe_link(t, "a+b@example.gov.uk", signer=lambda path: "SIG/" + path[:5])
    msg = parse(build_payload(t, "a+b@example.gov.uk", "<x@example.gov.uk>", link))
    assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    first = msg["List-Unsubscribe"].split(",")[0].strip()
    url = urlsplit(first.strip("<>"))
    assert (url.scheme, url.netloc, url.path) == ("https", "tracker.example.gov.uk", "/unsubscribe")
    q = parse_qs(url.query)
    assert q["list"] == ["city"] and q["address"] == ["a+b@example.gov.uk"] and q["sig"] == ["SIG//unsu"]
    assert "mailto:performance@example.gov.uk" in msg["List-Unsubscribe"]


def test_message_ids_are_stable_per_row_and_new_when_forced():
    a = message_id(WEEK, "city", "x@example.gov.uk", 0, "example.gov.uk")
    assert a == message_id(WEEK, "city", "X@example.gov.uk", 0, "example.gov.uk")
    assert a != message_id(WEEK, "city", "x@example.gov.uk", 1, "example.gov.uk")
    assert a != message_id(WEEK, "other", "x@example.gov.uk", 0, "example.gov.uk")


@pytest.mark.parametrize("bad", ["victim@example.gov.uk\r\nBcc: everyone@example.gov.uk",
                                 "x@example.gov.uk\nSubject: hi", "Name <x@example.gov.uk>", "no-at-sign", ""])
def test_no_header_can_be_injected_through_an_address(figure2_tracker, bad):
    t = template(figure2_tracker)
    with pytest.raises(ConfigError):
        build_payload(t, bad, "<x@example.gov.uk>")


def test_a_subscription_name_cannot_add_headers(figure2_tracker):
    t = template(figure2_tracker, sub="city\r\nBcc: all@example.gov.uk")
    raw = build_payload(t, "x@example.gov.uk", "<x@example.gov.uk>")
    msg = parse(raw)
    assert msg["Bcc"] is None and b"\r\nBcc:" not in raw


def test_address_files_and_duplicates(tmp_path):
    f = tmp_path / "staff.txt"
    f.write_text("# staff list\nA@example.gov.uk\n\n b@example.gov.uk \na@EXAMPLE.gov.uk\n", encoding="utf-8")
    got = read_email_file("staff.txt", tmp_path)
    assert got == ["A@example.gov.uk", "b@example.gov.uk", "a@EXAMPLE.gov.uk"]
    assert recipients(got) == ["A@example.gov.uk", "b@example.gov.uk"]
    f.write_text("ok@example.gov.uk\nnot an address\n", encoding="utf-8")
    with pytest.raises(ConfigError) as e:
        read_email_file(str(f), tmp_path)
    assert "line 2" in e.value.message and "staff.txt" in e.value.message
    assert check_address(" x@example.gov.uk ", "here") == "x@example.gov.uk"


# --- against a real SMTP server ----------------------------------------------------------------------

def settings_for(server, **extra):
    env = {**server.env(), **extra}
    return Settings.from_env(env, dotenv=False)


def send_all(ch, t, addrs):
    for a in addrs:
        ch.send(Delivery(a, a, build_payload(t, a, message_id(WEEK, "city", a, 0, t.domain))))


def test_one_connection_for_the_whole_fan_out(figure2_tracker):
    box = MailBox()
    sessions = []
    box.before_data = lambda count, server: sessions.append(id(server)) and None
    srv = SMTPServer(box).start()
    try:
        ch = EmailChannel(settings_for(srv))
        ch.open()
        addrs = [f"p{i}@example.gov.uk" for i in range(5)]
        send_all(ch, template(figure2_tracker), addrs)
        ch.close()
    finally:
        srv.stop()
    assert box.recipients() == addrs
    assert len(set(sessions)) == 1                                 # one SMTP session carried all five
    assert [m["To"] for m in box.parsed()] == addrs
    assert len({m["Message-ID"] for m in box.parsed()}) == 5


def test_a_dropped_connection_is_reopened_and_the_message_sent(figure2_tracker):
    box = MailBox()

    def drop_second(count, server):
        if count == 1 and not getattr(box, "dropped", False):
            box.dropped = True
            server.transport.close()          # the connection dies before the reply
            return "451 dropped"
    box.before_data = drop_second
    srv = SMTPServer(box).start()
    try:
        ch = EmailChannel(settings_for(srv))
        ch.open()
        send_all(ch, template(figure2_tracker), ["a@example.gov.uk", "b@example.gov.uk", "c@example.gov.uk"])
        ch.close()
    finally:
        srv.stop()
    assert box.recipients() == ["a@example.gov.uk", "b@example.gov.uk", "c@example.gov.uk"]


def test_refused_recipient_is_not_fatal(figure2_tracker):
    box = MailBox()
    box.refuse.add("gone@example.gov.uk")
    srv = SMTPServer(box).start()
    try:
        ch = EmailChannel(settings_for(srv))
        ch.open()
        t = template(figure2_tracker)
        with pytest.raises(ChannelError) as e:
            send_all(ch, t, ["gone@example.gov.uk"])
        assert not e.value.fatal and "550" in e.value.message
        send_all(ch, t, ["here@example.gov.uk"])
        ch.close()
    finally:
        srv.stop()
    assert box.recipients() == ["here@example.gov.uk"]


def test_no_server_is_fatal_and_names_the_setting():
    s = Settings.from_env({"SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(_closed_port())}, dotenv=False)
    with pytest.raises(ChannelError) as e:
        EmailChannel(s, timeout=2).open()
    assert e.value.fatal and "SMTP_HOST" in e.value.message


def _closed_port():
    from tests.servers import free_port
    return free_port()


def test_login_is_used_and_a_wrong_password_is_fatal(figure2_tracker):
    from aiosmtpd.smtp import AuthResult

    def auth(server, session, envelope, mechanism, data):
        ok = data.login == b"tracker" and data.password == b"s3cret"
        return AuthResult(success=ok, handled=False)

    box = MailBox()
    srv = SMTPServer(box, authenticator=auth, auth_require_tls=False).start()
    try:
        ch = EmailChannel(settings_for(srv, SMTP_USER="tracker", SMTP_PASSWORD="s3cret"))
        ch.open()
        send_all(ch, template(figure2_tracker), ["a@example.gov.uk"])
        ch.close()
        with pytest.raises(ChannelError) as e:
            EmailChannel(settings_for(srv, SMTP_USER="tracker", SMTP_PASSWORD="wrong")).open()
        assert e.value.fatal and "SMTP_USER/SMTP_PASSWORD" in e.value.message and "wrong" not in e.value.message
    finally:
        srv.stop()
    assert box.recipients() == ["a@example.gov.uk"]


@pytest.fixture(scope="module")
def cert(tmp_path_factory):
    d = tmp_path_factory.mktemp("tls")
    key, crt = d / "key.pem", d / "cert.pem"
    try:
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out",
                        str(crt), "-days", "1", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
                       check=True, capture_output=True)
    except (FileNotFoundError, subprocess.CalledProcessError):
        pytest.skip("openssl is needed to make a test certificate")
    return key, crt


def _contexts(cert):
    key, crt = cert
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_ctx.load_cert_chain(crt, key)
    client_ctx = ssl.create_default_context(cafile=str(crt))
    return server_ctx, client_ctx


def test_starttls_then_login(figure2_tracker, cert):
    from aiosmtpd.smtp import AuthResult

    server_ctx, client_ctx = _contexts(cert)
    seen = []

    def auth(server, session, envelope, mechanism, data):
        seen.append(session.ssl is not None)
        return AuthResult(success=data.password == b"pw", handled=False)

    box = MailBox()
    srv = SMTPServer(box, tls_context=server_ctx, require_starttls=True, authenticator=auth).start()
    try:
        ch = EmailChannel(settings_for(srv, SMTP_STARTTLS="1", SMTP_USER="u", SMTP_PASSWORD="pw"),
                          ssl_context=client_ctx)
        ch.open()
        send_all(ch, template(figure2_tracker), ["a@example.gov.uk"])
        ch.close()
        with pytest.raises(ChannelError):           # the same server without STARTTLS refuses mail
            plain = EmailChannel(settings_for(srv))
            plain.open()
            send_all(plain, template(figure2_tracker), ["b@example.gov.uk"])
    finally:
        srv.stop()
    assert seen == [True] and box.recipients() == ["a@example.gov.uk"]


def test_implicit_tls(figure2_tracker, cert):
    server_ctx, client_ctx = _contexts(cert)
    box = MailBox()
    srv = SMTPServer(box, ssl_context=server_ctx).start()
    try:
        ch = EmailChannel(settings_for(srv, SMTP_SSL="1"), ssl_context=client_ctx)
        ch.open()
        send_all(ch, template(figure2_tracker), ["a@example.gov.uk"])
        ch.close()
    finally:
        srv.stop()
    assert box.recipients() == ["a@example.gov.uk"]
