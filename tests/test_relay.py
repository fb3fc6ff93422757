"""Outbound through a real submission relay: TLS, login, retries, permanent failures, rate limit, DKIM."""
import base64
import datetime as dt
import email
import ssl

import dkim
import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from db.models import OutboundMessage
from mailer import settings as settings_module
from mailer.outbound.outbox import deliver_pending

from conftest import free_port

USER, PASSWORD = "lets@relay.example", "s3cret-relay"


class Relay:
    """The far side: accepts mail after STARTTLS and AUTH; answers what the test tells it to."""

    def __init__(self):
        self.received = []
        self.logins = []
        self.answer = "250 2.0.0 OK"

    def authenticate(self, server, session, envelope, mechanism, auth_data):
        self.logins.append(mechanism)
        ok = auth_data.login == USER.encode() and auth_data.password == PASSWORD.encode()
        return AuthResult(success=ok, handled=False)  # handled=False: aiosmtpd answers 535 itself

    async def handle_DATA(self, server, session, envelope):
        if self.answer.startswith("250"):
            self.received.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.original_content))
        return self.answer


def server_context(certificate) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(certificate.cert, certificate.key)
    return context


@pytest.fixture(params=["starttls", "implicit"])
def relay(request, tls_certificate):
    """A relay on loopback that demands TLS and a login: STARTTLS (587-style) or TLS from the start (465)."""
    handler = Relay()
    port = free_port()
    common = dict(hostname="127.0.0.1", port=port, authenticator=handler.authenticate,
                  auth_require_tls=request.param == "starttls")  # 465: TLS from the first byte
    if request.param == "starttls":
        controller = Controller(handler, tls_context=server_context(tls_certificate), require_starttls=True,
                                **common)
    else:
        controller = Controller(handler, ssl_context=server_context(tls_certificate), **common)
    controller.start()
    handler.port, handler.mode = port, request.param
    yield handler
    controller.stop()


@pytest.fixture
def relayed(settings, relay, tls_certificate):
    """Settings that send through the relay, trusting its self-signed certificate."""
    return settings_module.replace(settings, outbound={
        "mode": "smtp", "relay_host": "127.0.0.1", "relay_port": relay.port, "relay_user": USER,
        "relay_password": PASSWORD, "starttls": relay.mode == "starttls",
        "implicit_tls": relay.mode == "implicit", "ca_file": str(tls_certificate.cert)})


def ask_help(group, n=1):
    """Sam asks for help n times: n replies queued, due now by the test clock."""
    group.member("Sam Taylor", "sam@example.org", language="en")
    for _ in range(n):
        group.mail("sam@example.org", "HELP")
    # The outbox stamps rows with the real time; start the test clock from there.
    group.clock.now = max(group.clock.now, max(row.next_attempt for row in OutboundMessage.select()))


def test_reply_goes_through_the_relay_over_tls_with_a_login(group, relayed, relay, clock):
    ask_help(group)
    assert deliver_pending(relayed, clock=clock) == 1
    (mail_from, rcpts, raw), = relay.received
    assert rcpts == ["sam@example.org"] and mail_from == relayed.group.address
    assert email.message_from_bytes(raw)["Subject"] == group.last().subject
    assert relay.logins and OutboundMessage.get().state == "sent"


@pytest.mark.parametrize("mechanism", ["PLAIN", "LOGIN"])
def test_relay_login_works_with_plain_and_with_login(group, settings, tls_certificate, clock, mechanism):
    handler, port = Relay(), free_port()
    other = {"PLAIN": "LOGIN", "LOGIN": "PLAIN"}[mechanism]
    controller = Controller(handler, hostname="127.0.0.1", port=port, authenticator=handler.authenticate,
                            auth_require_tls=True, tls_context=server_context(tls_certificate),
                            require_starttls=True, auth_exclude_mechanism=[other])
    controller.start()
    try:
        relayed = settings_module.replace(settings, outbound={
            "mode": "smtp", "relay_host": "127.0.0.1", "relay_port": port, "relay_user": USER,
            "relay_password": PASSWORD, "ca_file": str(tls_certificate.cert)})
        ask_help(group)
        assert deliver_pending(relayed, clock=clock) == 1
        assert handler.logins == [mechanism] and len(handler.received) == 1
    finally:
        controller.stop()


def test_wrong_password_keeps_the_mail_queued_and_records_why(group, relayed, relay, clock):
    ask_help(group, 2)
    wrong = settings_module.replace(relayed, outbound={"relay_password": "wrong"})
    assert deliver_pending(wrong, clock=clock) == 0
    rows = list(OutboundMessage.select().order_by(OutboundMessage.id))
    assert [r.state for r in rows] == ["queued", "queued"]
    assert "535" in rows[0].last_error
    assert rows[1].attempts == 0, "one refused login stops the round; the next mail was not tried"
    assert relay.received == []


def test_certificate_is_checked_unless_trusted(group, relayed, relay, clock):
    ask_help(group)
    untrusted = settings_module.replace(relayed, outbound={"ca_file": ""})
    assert deliver_pending(untrusted, clock=clock) == 0
    assert "its TLS certificate is not trusted (self-signed certificate)" in OutboundMessage.get().last_error
    unchecked = settings_module.replace(relayed, outbound={"ca_file": "", "verify_tls": False})
    clock.advance(minutes=1)
    assert deliver_pending(unchecked, clock=clock) == 1


def test_temporary_refusal_is_retried_after_a_growing_delay(group, relayed, relay, clock):
    ask_help(group)
    relay.answer = "451 4.7.1 Slow down"
    deliver_pending(relayed, clock=clock)
    row = OutboundMessage.get()
    assert (row.state, row.attempts, row.next_attempt - clock()) == ("queued", 1, dt.timedelta(minutes=1))
    assert "451" in row.last_error
    clock.advance(seconds=30)
    assert deliver_pending(relayed, clock=clock) == 0, "not due yet"
    clock.advance(seconds=30)
    deliver_pending(relayed, clock=clock)
    row = OutboundMessage.get()
    assert (row.attempts, row.next_attempt - clock()) == (2, dt.timedelta(minutes=2))
    relay.answer = "250 2.0.0 OK"
    clock.advance(minutes=2)
    assert deliver_pending(relayed, clock=clock) == 1
    assert OutboundMessage.get().state == "sent" and len(relay.received) == 1


def test_permanent_refusal_is_recorded_and_not_retried(group, relayed, relay, clock):
    ask_help(group)
    relay.answer = "550 5.7.1 Message rejected as spam"
    deliver_pending(relayed, clock=clock)
    row = OutboundMessage.get()
    assert row.state == "failed" and "550" in row.last_error
    clock.advance(days=1)
    relay.answer = "250 2.0.0 OK"
    assert deliver_pending(relayed, clock=clock) == 0 and relay.received == []


def test_rate_limit_per_minute_holds_the_rest_back(group, relayed, relay, clock):
    ask_help(group, 5)
    limited = settings_module.replace(relayed, outbound={"rate_per_minute": 2})
    assert deliver_pending(limited, clock=clock) == 2
    assert deliver_pending(limited, clock=clock) == 0
    clock.advance(seconds=61)
    assert deliver_pending(limited, clock=clock) == 2
    clock.advance(seconds=61)
    assert deliver_pending(limited, clock=clock) == 1
    assert len(relay.received) == 5


def test_a_row_claimed_by_one_worker_is_not_sent_by_another(group, settings, clock):
    from mailer.outbound.outbox import claim

    ask_help(group)
    row = OutboundMessage.get()
    assert claim(row, clock()) is True
    assert claim(row, clock()) is False
    assert deliver_pending(settings, clock=clock) == 0, "the lease is still running"
    clock.advance(minutes=11)
    assert deliver_pending(settings, clock=clock) == 1, "a lease that ran out is taken over"


@pytest.fixture
def dkim_key(tmp_path):
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    path = tmp_path / "dkim.pem"
    path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                                       serialization.NoEncryption()))
    public = key.public_key().public_bytes(serialization.Encoding.DER,
                                           serialization.PublicFormat.SubjectPublicKeyInfo)
    record = b"v=DKIM1; k=rsa; p=" + base64.b64encode(public)
    return path, record


def test_outgoing_mail_is_dkim_signed_and_verifies_against_the_published_key(group, settings, clock, dkim_key):
    path, record = dkim_key
    signing = settings_module.replace(settings, dkim={"selector": "lets2026", "key_file": str(path)})
    ask_help(group)
    assert deliver_pending(signing, clock=clock) == 1
    (delivered,) = (settings.path(settings.outbound.maildir) / "new").iterdir()
    raw = delivered.read_bytes()
    lookups = []

    def dns(name, timeout=5):
        lookups.append(name)
        return record if name == b"lets2026._domainkey.lets.example." else None

    assert b"d=lets.example" in raw and b"s=lets2026" in raw
    assert dkim.verify(raw, dnsfunc=dns)
    assert lookups == [b"lets2026._domainkey.lets.example."]
    assert not dkim.verify(raw.replace(b"Subject: ", b"Subject: Re: ", 1), dnsfunc=dns), "a changed subject fails"


def test_without_a_key_mail_is_not_signed(group, settings, clock):
    ask_help(group)
    deliver_pending(settings, clock=clock)
    (delivered,) = (settings.path(settings.outbound.maildir) / "new").iterdir()
    assert b"DKIM-Signature" not in delivered.read_bytes()
