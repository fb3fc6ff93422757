"""`lets serve` as the group's MX offers STARTTLS with [inbound] cert_file and key_file, and only then."""
import os
import signal
import smtplib
import ssl
import subprocess
import sys
from pathlib import Path

from db import members
from db.models import InboundMessage
from mailer.inbound.smtp import controller

from conftest import SETTINGS_INI, free_port, wait_for
from test_smtp import OFFER, outbox_messages

ROOT = Path(__file__).resolve().parent.parent


def test_serve_with_a_certificate_offers_starttls_and_mail_sent_over_it_is_answered(settings, db, tls_certificate,
                                                                                   tmp_path):
    members.add("An de Vries", "an@example.org")
    port = free_port()
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("LETS_")},
           "LETS_SETTINGS": str(SETTINGS_INI), "LETS_DATABASE_URL": settings.database_url,
           "LETS_SECURITY_SECRET": settings.security.secret, "LETS_INBOUND_PORT": str(port),
           "LETS_OUTBOUND_MAILDIR": str(settings.path(settings.outbound.maildir)),
           "LETS_TRADES_VERIFY_SENDERS": "false",
           "LETS_INBOUND_CERT_FILE": str(tls_certificate.cert), "LETS_INBOUND_KEY_FILE": str(tls_certificate.key)}
    log = tmp_path / "serve.log"
    with open(log, "wb") as out:
        serve = subprocess.Popen([sys.executable, "-m", "mailer.cli", "serve"], env=env, cwd=ROOT,
                                 stdout=out, stderr=out)
    try:
        wait_for(lambda: "listening" in log.read_text() or serve.poll() is not None, timeout=30)
        assert serve.poll() is None, log.read_text()
        assert f"listening on 127.0.0.1:{port} (STARTTLS offered);" in log.read_text()
        trusting = ssl.create_default_context(cafile=str(tls_certificate.cert))
        with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
            client.ehlo("mx.example.org")
            assert client.has_extn("starttls")
            client.starttls(context=trusting)
            assert client.sock.version().startswith("TLSv1.")
            client.ehlo("mx.example.org")
            assert not client.has_extn("starttls")  # offered once, before the upgrade
            assert client.sendmail("an@example.org", ["lets@lets.example"], OFFER) == {}
        messages = wait_for(lambda: outbox_messages(settings), timeout=20)
        assert messages[0]["To"] == "an@example.org"
        assert messages[0]["Subject"].startswith("Je aanbod staat erop: Fietsherstel")
        assert InboundMessage.get().state == "processed"
        # Offered, not required: a server that does not upgrade still delivers.
        with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
            plain = OFFER.replace(b"<smtp-offer@example.org>", b"<smtp-offer-2@example.org>")
            assert client.sendmail("an@example.org", ["lets@lets.example"], plain) == {}
        wait_for(lambda: InboundMessage.select().where(InboundMessage.state == "processed").count() == 2,
                 timeout=20)
    finally:
        serve.send_signal(signal.SIGTERM)
        serve.wait(30)
    assert serve.returncode == 0, log.read_text()


def test_without_a_certificate_starttls_is_not_offered(settings, db):
    assert not settings.inbound.cert_file
    server = controller(settings, port=0)
    server.start()
    try:
        with smtplib.SMTP("127.0.0.1", server.port, timeout=10) as client:
            code, _ = client.ehlo("mx.example.org")
            assert code == 250 and client.has_extn("size")  # the EHLO answer is there, without STARTTLS
            assert not client.has_extn("starttls")
            assert client.docmd("STARTTLS")[0] == 454  # TLS not available (RFC 3207)
    finally:
        server.stop()
