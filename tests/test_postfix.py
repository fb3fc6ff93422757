"""A real Postfix in front of us and behind us: the group's provider relays mail into our inbound
server, and our outbox submits through it to the members' mail servers."""
import email
import email.policy
import os

import pytest
from aiosmtpd.controller import Controller

from db.models import InboundMessage, Listing, OutboundMessage
from mailer import settings as settings_module
from mailer.inbound.smtp import controller
from mailer.worker import Worker

from conftest import free_port, send_smtp, wait_for
from postfix import Postfix

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="Postfix's master must start as root")

OFFER = b"""\
From: An de Vries <an@example.org>
To: lets@lets.example
Subject: AANBOD: Soep koken
Message-ID: <postfix-offer@example.org>

Categorie: eten
Ik kook soep voor vier.
"""


class Mailboxes:
    """The members' mail server: keeps what it is given."""

    def __init__(self):
        self.received = []

    async def handle_DATA(self, server, session, envelope):
        self.received.append((envelope.mail_from, list(envelope.rcpt_tos),
                              email.message_from_bytes(envelope.original_content, policy=email.policy.default)))
        return "250 2.0.0 Delivered"


@pytest.fixture
def mailboxes():
    handler = Mailboxes()
    handler.port = free_port()
    sink = Controller(handler, hostname="127.0.0.1", port=handler.port)
    sink.start()
    yield handler
    sink.stop()


@pytest.fixture
def running(settings, db, an, mailboxes):
    """Our inbound server and worker, with the provider's Postfix on both sides of them."""
    smtp = controller(settings, port=0)
    smtp.start()
    postfix = Postfix({"lets.example": smtp.port, "example.org": mailboxes.port})
    try:
        postfix.start()
        relayed = settings_module.replace(settings, outbound={
            "mode": "smtp", "relay_host": "127.0.0.1", "relay_port": postfix.port, "relay_user": "",
            "starttls": False, "implicit_tls": False})
        worker = Worker(relayed, idle=0.2)
        smtp.handler.on_stored = worker.wake
        worker.start()
        yield postfix
        worker.stop()
        worker.join(5)
    finally:
        postfix.cleanup()
        smtp.stop()


def test_a_members_offer_goes_through_the_provider_both_ways(running, mailboxes):
    assert send_smtp(running.port, OFFER, "an@example.org", ["lets@lets.example"]) == {}

    delivered = wait_for(lambda: mailboxes.received, timeout=30)
    mail_from, rcpt_tos, reply = delivered[0]
    assert rcpt_tos == ["an@example.org"]
    assert reply["In-Reply-To"] == "<postfix-offer@example.org>"
    assert reply["Subject"].startswith("Je aanbod staat erop: Soep koken")
    # Postfix's trace headers prove both legs went through the provider, not around it.
    stored = InboundMessage.get(InboundMessage.message_id == "<postfix-offer@example.org>")
    assert b"mx.provider.test" in bytes(stored.raw)
    assert "mx.provider.test" in str(reply["Received"])
    assert stored.state == "processed"
    assert Listing.get().title == "Soep koken"
    assert wait_for(lambda: OutboundMessage.get().state == "sent")
    assert "Mail queue is empty" in running.queue() or not running.queue().strip()


def test_mail_to_an_address_we_refuse_is_bounced_by_the_provider_not_lost(running, mailboxes):
    stray = OFFER.replace(b"lets@lets.example", b"nobody@lets.example").replace(b"postfix-offer", b"stray")
    # The provider accepts it first; our 550 at RCPT then makes it return the mail to its sender.
    assert send_smtp(running.port, stray, "an@example.org", ["nobody@lets.example"]) == {}

    delivered = wait_for(lambda: mailboxes.received, timeout=30)
    mail_from, rcpt_tos, bounce = delivered[0]
    assert (mail_from, rcpt_tos) == ("<>", ["an@example.org"])
    assert bounce.get_content_type() == "multipart/report"
    assert "550" in bounce.as_string()
    assert InboundMessage.select().count() == 0
