"""Through the real SMTP server: a coordinator pays for a member without email, linked to
the listing it replies to; an authenticated BETAAL is booked on arrival."""
import pytest

from db import ledger, members
from db.models import Listing, Transfer
from mailer import settings as settings_module
from tests.conftest import send_smtp, wait_for
from tests.test_trades_smtp import mail, smtp  # noqa: F401  (the SMTP server fixture)


@pytest.fixture
def settings(settings):
    return settings_module.replace(settings, limits={"newcomer_months": 0},
                                   trades={"coordinators": ("coord@example.org",),
                                           "trusted_authserv_id": "mx.lets.example"})


def test_coordinator_pays_for_kees_by_smtp_linked_to_the_listing(group, an, smtp):  # noqa: F811
    port, stored = smtp
    group.member("Cor Dinator", "coord@example.org")
    kees = group.member("Kees Zonder", None)

    def deliver(raw, sender, rcpt):
        before = len(stored)
        send_smtp(port, raw, sender, [rcpt])
        wait_for(lambda: len(stored) > before)
        group.processor.process_pending()

    deliver(mail("an@example.org", "lets@lets.example", "AANBOD: Soep", "Categorie: eten", "l1"),
            "an@example.org", "lets@lets.example")
    posted = group.last("an@example.org")
    offer = Listing.get()
    # The coordinator got An's offer forwarded and answers it for Kees.
    deliver(mail("coord@example.org", "lets@lets.example", "Re: " + posted.subject,
                 "VOOR kees\r\nBETAAL 6 aan an voor soep\r\n", "p1",
                 f"In-Reply-To: {posted.message['Message-ID']}\r\n"), "coord@example.org", "lets@lets.example")
    ask = group.last("coord@example.org")
    reply_to = ask.message["Reply-To"]
    deliver(mail("coord@example.org", reply_to, "Re: " + ask.subject, "JA\r\n\r\n> Bevestig", "c1"),
            "coord@example.org", reply_to)
    transfer = Transfer.get()
    assert (transfer.state, transfer.listing_id, transfer.entered_by) == (
        "booked", offer.id, "Cor Dinator <coord@example.org>")
    assert members.account(kees).balance_cents == -600
    assert "ingevoerd door: Cor Dinator" in group.last("coord@example.org").text
    assert ledger.check() == [] and ledger.verify() == (1, None)


def test_authenticated_pay_by_smtp_is_booked_on_arrival(group, an, sam, smtp):  # noqa: F811
    port, stored = smtp
    header = "Authentication-Results: mx.lets.example; dkim=pass header.d=example.org; dmarc=pass header.from=example.org\r\n"
    raw = header.encode() + mail("sam@example.org", "lets@lets.example", "PAY 9 to an for soup", "", "a1")
    send_smtp(port, raw, "sam@example.org", ["lets@lets.example"])
    wait_for(lambda: stored)
    group.processor.process_pending()
    assert members.account(an).balance_cents == 900
    assert group.last("sam@example.org").subject == "Receipt #1: 9.00 zonnen to An de Vries"
