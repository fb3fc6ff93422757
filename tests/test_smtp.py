"""Through real sockets: the aiosmtpd server, the worker, and the outbox Maildir."""
import email
import email.policy
import mailbox
import os
import signal
import smtplib
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from db.models import InboundMessage, Listing, OutboundMessage
from mailer.inbound.smtp import controller
from mailer.worker import Worker

from conftest import send_smtp, wait_for

OFFER = textwrap.dedent("""\
    From: An de Vries <an@example.org>
    To: lets@lets.example
    Subject: AANBOD: Fietsherstel
    Message-ID: <smtp-offer@example.org>

    Categorie: vervoer
    Ik repareer fietsen.
    """).encode()


@pytest.fixture
def server(settings, db, an):
    worker = Worker(settings, idle=0.2)
    smtp = controller(settings, on_stored=worker.wake, port=0)
    worker.start()
    smtp.start()
    yield smtp
    smtp.stop()
    worker.stop()
    worker.join(5)


def outbox_messages(settings):
    path = settings.path(settings.outbound.maildir)
    if not (path / "cur").exists():
        return []
    box = mailbox.Maildir(path, factory=None, create=False)
    return [email.message_from_bytes(box.get_bytes(key), policy=email.policy.default) for key in box.keys()]


def test_offer_by_smtp_is_confirmed_in_the_outbox_maildir(settings, server):
    assert send_smtp(server.port, OFFER, "an@example.org", ["lets@lets.example"]) == {}
    messages = wait_for(lambda: outbox_messages(settings))
    reply = messages[0]
    assert reply["To"] == "an@example.org"
    assert reply["Subject"].startswith("Je aanbod staat erop: Fietsherstel")
    assert reply["In-Reply-To"] == "<smtp-offer@example.org>"
    assert "INTREKKEN" in reply.get_body(("plain",)).get_content()
    assert Listing.select().count() == 1
    # The file is written first, the row marked sent after it (a crash in between
    # rewrites nothing: the delivery finds its file).
    wait_for(lambda: OutboundMessage.get().state == "sent")


def test_mail_for_other_domains_is_refused_at_rcpt(server):
    with smtplib.SMTP("127.0.0.1", server.port) as client:
        client.ehlo()
        client.mail("an@example.org")
        code, message = client.rcpt("someone@elsewhere.example")
        assert code == 550
        assert client.rcpt("lets+anything@lets.example")[0] == 250


def test_mail_over_the_size_limit_gets_552_and_is_not_stored(settings, db, an):
    from mailer import settings as settings_module
    small = settings_module.replace(settings, inbound={"max_size": 2000})
    smtp = controller(small, port=0)
    smtp.start()
    try:
        big = OFFER + b"x" * 3000 + b"\r\n"
        with pytest.raises(smtplib.SMTPException) as raised:
            send_smtp(smtp.port, big, "an@example.org", ["lets@lets.example"])
        assert "552" in str(raised.value)
    finally:
        smtp.stop()
    assert InboundMessage.select().count() == 0


def test_the_same_message_id_twice_by_smtp_is_processed_once(settings, server):
    send_smtp(server.port, OFFER, "an@example.org", ["lets@lets.example"])
    send_smtp(server.port, OFFER, "an@example.org", ["lets@lets.example"])
    wait_for(lambda: OutboundMessage.select().where(OutboundMessage.state == "sent").count() == 1)
    assert InboundMessage.select().count() == 1
    assert Listing.select().count() == 1


def test_a_stored_but_unprocessed_mail_is_processed_after_a_restart(settings, db, an, tmp_path):
    """Kill `lets serve` between the 250 and the processing; the restart finishes the job."""
    env = {**os.environ, "LETS_DATABASE_URL": settings.database_url,
           "LETS_OUTBOUND_MAILDIR": str(settings.path(settings.outbound.maildir)),
           "LETS_SECURITY_SECRET": "test", "LETS_INBOUND_PORT": "0"}
    # Store as the SMTP handler would, without a worker running: the state a crash leaves.
    from mailer.pipeline import store
    inbound_id = store(OFFER, "an@example.org", ["lets@lets.example"])
    assert InboundMessage.get_by_id(inbound_id).state == "received"
    root = Path(__file__).resolve().parent.parent
    with open(tmp_path / "serve.log", "wb") as log:
        serve = subprocess.Popen([sys.executable, "-m", "mailer.cli", "--settings", str(root / "settings.ini"),
                                  "serve"], env=env, cwd=root, stdout=log, stderr=log)
        try:
            wait_for(lambda: InboundMessage.get_by_id(inbound_id).state == "processed", timeout=20)
            wait_for(lambda: outbox_messages(settings), timeout=20)
        finally:
            serve.send_signal(signal.SIGTERM)
            serve.wait(10)
    assert serve.returncode == 0, (tmp_path / "serve.log").read_text()
    assert Listing.select().count() == 1
    assert len(outbox_messages(settings)) == 1
