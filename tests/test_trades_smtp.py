"""Two members trade through the real SMTP server; a forged confirmation moves nothing."""
import socket

import pytest

from db import ledger, members
from mailer import settings as settings_module
from mailer.inbound.smtp import controller
from tests.conftest import send_smtp, wait_for


@pytest.fixture
def settings(settings):
    return settings_module.replace(settings, limits={"newcomer_months": 0})


@pytest.fixture
def smtp(settings, db):
    # aiosmtpd's Controller connects to its own port once started, so port 0 cannot be
    # used directly: ask the kernel for a free port first.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    stored = []
    server = controller(settings, on_stored=stored.append, port=port)
    server.start()
    yield port, stored
    server.stop()


def mail(sender, to, subject, body, message_id, extra=""):
    return (f"From: {sender}\r\nTo: {to}\r\nSubject: {subject}\r\nMessage-ID: <{message_id}@example.org>\r\n"
            f"{extra}Content-Type: text/plain; charset=utf-8\r\n\r\n{body}\r\n").encode()


def test_two_members_trade_end_to_end_and_a_forgery_moves_nothing(group, an, sam, smtp):
    port, stored = smtp

    def deliver(raw, sender, rcpt):
        before = len(stored)
        send_smtp(port, raw, sender, [rcpt])
        wait_for(lambda: len(stored) > before)
        group.processor.process_pending()

    deliver(mail("sam@example.org", "lets@lets.example", "PAY 9 to an@example.org for soup", "", "p1"),
            "sam@example.org", "lets@lets.example")
    ask = group.last("sam@example.org")
    reply_to = ask.message["Reply-To"]
    # A forger who knows the proposal but not the token: From: Sam, to the plain address.
    deliver(mail("sam@example.org", "lets@lets.example", "Re: Confirm", "YES", "f1",
                 f"In-Reply-To: {ask.message['Message-ID']}\r\n"), "mallory@example.net", "lets@lets.example")
    assert members.account(an).balance_cents == 0
    deliver(mail("sam@example.org", reply_to, "Re: " + ask.subject, "YES\r\n\r\n> Confirm", "c1"),
            "sam@example.org", reply_to)
    assert members.account(an).balance_cents == 900
    assert "Your new balance: -9.00 zonnen" in group.last("sam@example.org").text
    assert "Je nieuwe saldo: 9,00 zonnen" in group.last("an@example.org").text
    assert ledger.check() == [] and ledger.verify() == (1, None)
