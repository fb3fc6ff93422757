"""Outbound SMTP to a relay that offers PIPELINING (RFC 2920): MAIL, RCPT and DATA in one write,
refusals mapped as without it, and the connection still usable after one."""
import pytest
from aiosmtpd.controller import Controller

from db.models import OutboundMessage
from mailer import settings as settings_module
from mailer.outbound.outbox import PermanentFailure, SmtpTransport, TemporaryFailure

from conftest import free_port


class PipeliningRelay:
    """Offers PIPELINING; refuses nobody@ for good and later@ for now; records what it accepts."""

    def __init__(self):
        self.received = []

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        session.host_name = hostname
        return responses[:-1] + ["250-PIPELINING", responses[-1]]

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.startswith("nobody@"):
            return "550 5.1.1 no such user"
        if address.startswith("later@"):
            return "451 4.3.0 try later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.received.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.original_content))
        return "250 2.0.0 OK"


@pytest.fixture
def relay():
    handler = PipeliningRelay()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield controller, handler
    controller.stop()


def message(recipient, raw):
    return OutboundMessage(key="k", message_id="<m@lets.example>", mail_from="lets+b-1@lets.example",
                           recipient=recipient, raw=raw, kind="digest")


def test_a_pipelined_send_delivers_dot_stuffed_content_and_maps_refusals_keeping_the_connection(settings, relay):
    controller, handler = relay
    settings = settings_module.replace(settings, outbound={"mode": "smtp", "relay_host": "127.0.0.1",
                                                           "relay_port": controller.port, "starttls": False})
    transport = SmtpTransport(settings)
    raw = b"Subject: test\r\n\r\nline one\r\n.a line that starts with a dot\r\n"
    try:
        transport.send(message("an@example.org", raw))
        assert transport.connection.has_extn("pipelining")
        with pytest.raises(PermanentFailure, match="550"):
            transport.send(message("nobody@example.org", raw))
        with pytest.raises(TemporaryFailure, match="451"):
            transport.send(message("later@example.org", raw))
        transport.send(message("sam@example.org", raw))
    finally:
        transport.close()
    assert [(sender, to) for sender, to, _ in handler.received] == [
        ("lets+b-1@lets.example", ["an@example.org"]), ("lets+b-1@lets.example", ["sam@example.org"])]
    assert handler.received[0][2] == raw
