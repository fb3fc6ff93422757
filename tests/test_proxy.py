"""VOOR / FOR / POUR: a coordinator trades for a member without email, with their own token."""
import pytest

from db import ledger, members
from db.models import ConsentToken, Transfer
from mailer import settings as settings_module
from tests.test_trades import confirm


@pytest.fixture
def settings(settings):
    return settings_module.replace(settings, limits={"newcomer_months": 0},
                                   trades={"coordinators": ("Coord@example.org",)})


@pytest.fixture
def coordinator(group):
    return group.member("Cor Dinator", "coord@example.org", language="nl")


@pytest.fixture
def kees(group):
    """A member who trades on paper: no address at all."""
    return group.member("Kees Zonder", None)


def balance(member):
    return members.account(member).balance_cents


def test_coordinator_pays_for_member_without_email_after_own_tokened_yes(group, coordinator, kees, an):
    group.mail("coord@example.org", "", "VOOR kees\nBETAAL 12 aan an voor soep\n")
    ask = group.last("coord@example.org")
    assert ask.subject.startswith("Bevestig: betaal 12,00 zonnen aan An de Vries [t-")
    assert "namens Kees Zonder" in ask.text
    assert ConsentToken.get().address == "coord@example.org"
    assert balance(kees) == 0

    confirm(group, "coord@example.org", ask, "JA")

    transfer = Transfer.get()
    assert (transfer.state, transfer.initiator) == ("booked", "proxy")
    assert (balance(kees), balance(an)) == (-1200, 1200)
    # Kees has no mailbox: his receipt goes to the coordinator, and names who entered it.
    receipt = group.last("coord@example.org")
    assert receipt.subject == "Bewijs #1: 12,00 zonnen aan An de Vries"
    assert "ingevoerd door: Cor Dinator <coord@example.org>" in receipt.text
    assert "ingevoerd door: Cor Dinator" in group.last("an@example.org").text


def test_statement_of_the_member_shows_who_entered_it(group, coordinator, kees, an):
    group.mail("coord@example.org", "", "VOOR kees\nBETAAL 4 aan an voor eieren\n")
    confirm(group, "coord@example.org", group.last("coord@example.org"), "JA")
    group.mail("coord@example.org", "VOOR Kees Zonder", "SALDO\n")
    statement = group.last("coord@example.org")
    assert statement.subject == "Saldo van Kees Zonder: -4,00 zonnen"
    assert "An de Vries: eieren (ingevoerd door Cor Dinator <coord@example.org>)" in statement.text


def test_forged_coordinator_address_moves_nothing(group, coordinator, kees, an):
    # Someone forges the coordinator's From: the token still goes to the real coordinator.
    group.mail("coord@example.org", "", "VOOR kees\nBETAAL 50 aan an voor niets\n", mail_from="an@example.org")
    ask = group.last("coord@example.org")
    group.mail("coord@example.org", "Re: Bevestig", "JA\n", headers={"In-Reply-To": ask.message["Message-ID"]},
               mail_from="an@example.org")
    assert Transfer.get().state == "pending"
    assert balance(an) == 0


def test_non_coordinator_gets_a_polite_refusal_in_english(group, sam, kees, an):
    group.mail("sam@example.org", "", "FOR kees\nPAY 12 to an for soup\n")
    reply = group.last("sam@example.org")
    assert reply.subject == "Only coordinators can trade for another member"
    assert "leave out the FOR line" in reply.text
    assert Transfer.select().count() == 0


def test_non_coordinator_gets_a_polite_refusal_in_french(group, claire, kees, an):
    group.mail("claire@example.org", "POUR kees", "PAYER 3 à an pour du pain\n")
    assert group.last("claire@example.org").subject == "Seuls les coordinateurs peuvent échanger pour un autre membre"
    assert Transfer.select().count() == 0


def test_coordinator_cannot_act_for_a_member_who_has_email(group, coordinator, an, piet_member):
    group.mail("coord@example.org", "", "VOOR piet\nBETAAL 5 aan an voor brood\n")
    assert group.last("coord@example.org").subject == "Piet Jansen heeft een eigen e-mailadres"
    assert Transfer.select().count() == 0


def test_a_line_starting_with_for_without_a_trade_is_no_proxy_command(group, sam):
    group.mail("sam@example.org", "", "For what it's worth\nI like this group.\n")
    assert group.last("sam@example.org").subject.startswith("How LETS Demo works")


def test_coordinator_invoices_for_member_and_payer_confirms_with_own_token(group, coordinator, kees, an):
    group.mail("coord@example.org", "", "VOOR kees\nFACTUUR 7 aan an voor snoeien\n")
    assert group.outbox("an@example.org") == []           # the coordinator confirms first
    confirm(group, "coord@example.org", group.last("coord@example.org"), "JA")
    invoice = group.last("an@example.org")
    assert invoice.subject.startswith("Factuur van Kees Zonder: 7,00 zonnen [t-")
    assert "namens Kees Zonder" in group.last("coord@example.org").text
    confirm(group, "an@example.org", invoice, "NEE")
    # Kees is told through the coordinator.
    assert group.last("coord@example.org").subject == "Factuur geweigerd door An de Vries: 7,00 zonnen"
    assert ledger.check() == []


def test_invoice_to_a_member_without_email_is_refused(group, an, kees):
    group.mail("an@example.org", "FACTUUR 5 aan kees voor soep")
    assert group.last("an@example.org").subject == "Kees Zonder heeft geen e-mailadres"
    assert Transfer.select().count() == 0


@pytest.fixture
def piet_member(group):
    return group.member("Piet Jansen", "piet@example.org", language="nl")
