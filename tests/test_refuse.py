"""Article 17.1: the payee of a payment may refuse it by answering NEE / NO / NON to its
receipt within [trades] refuse_days; the ledger books it back and both are told."""
import re

import pytest

from db import ledger, members
from db.models import ConfirmToken, OutboundMessage, Transfer
from mailer import settings as settings_module
from mailer.runs import trades as trade_mail
from tests.test_trades import confirm

REFUSE = re.compile(r"lets\+r-([a-z2-7]{24})@lets\.example")


@pytest.fixture
def settings(settings):
    return settings_module.replace(settings, limits={"newcomer_months": 0})


def balance(member):
    return members.account(member).balance_cents


def paid(group, payer_address, payee_address, amount="12", what="fietsherstel"):
    """A payment proposed by mail and confirmed with JA: the payee's receipt."""
    group.mail(payer_address, f"BETAAL {amount} aan {payee_address} voor {what}")
    confirm(group, payer_address, group.last(payer_address), "Ja")
    return group.last(payee_address)


def test_the_payee_refuses_with_a_natural_no_and_the_payment_is_booked_back(group, an, sam):
    receipt = paid(group, "an@example.org", "sam@example.org", "12,50", "bike repair")
    token = REFUSE.fullmatch(receipt.message["Reply-To"]).group(1)
    assert receipt.subject == f"Receipt #1: 12.50 zonnen from An de Vries [r-{token}]"
    assert "reply to this mail with NO on the first line by\n30 Nov 2026" in receipt.text
    assert "article 17.1" in receipt.text
    to_payer = group.last("an@example.org")
    assert "r-" not in to_payer.subject and to_payer.message["Reply-To"] is None
    # Stored sealed, like every token in the outbox.
    assert all(token.encode() not in bytes(row.raw) for row in OutboundMessage.select())
    assert ConfirmToken.get().action == f"refuse:{Transfer.get(Transfer.number == 1).id}"

    confirm(group, "sam@example.org", receipt, "No thanks, I never did this job.")

    reversal = Transfer.get(Transfer.number == 2)
    assert (reversal.reverses.number, reversal.amount_cents, reversal.entered_by) == (1, 1250, "sam@example.org")
    assert balance(an) == balance(sam) == 0
    told_payee, told_payer = group.last("sam@example.org"), group.last("an@example.org")
    assert told_payee.subject == "Refused: payment #1 of 12.50 zonnen from An de Vries booked back"
    assert "booked back\nas transfer #2" in told_payee.text and "Your new balance: 0.00 zonnen" in told_payee.text
    assert told_payee.message["In-Reply-To"] is not None
    assert told_payer.subject == "Sam Taylor weigerde je betaling #1: 12,50 zonnen teruggeboekt"
    assert "ieder lid mag een\nruil weigeren (artikel 17.1 van het reglement)" in told_payer.text
    assert "Je nieuwe saldo: 0,00 zonnen" in told_payer.text
    assert ledger.check() == [] and ledger.verify() == (2, None)

    # The same answer again reverses nothing twice.
    confirm(group, "sam@example.org", receipt, "No")
    assert group.last("sam@example.org").subject == "Payment #1 was booked back already"
    assert Transfer.select().where(Transfer.number.is_null(False)).count() == 2


def test_a_yes_or_anything_else_keeps_the_payment_and_a_later_no_still_refuses(group, an, claire):
    receipt = paid(group, "an@example.org", "claire@example.org")
    assert receipt.subject.startswith("Reçu n° 1 : 12,00 zonnen de An de Vries [r-")
    assert "répondez à cet e-mail par NON sur la première ligne" in receipt.text
    for answer in ("Oui, merci !", "C'est quoi ce paiement ?"):
        confirm(group, "claire@example.org", receipt, answer)
        kept = group.last("claire@example.org")
        assert kept.subject == "Le paiement n° 1 reste inscrit"
        assert "il reste donc inscrit tel quel" in kept.text
    assert balance(claire) == 1200 and Transfer.select().count() == 1
    confirm(group, "claire@example.org", receipt, "Non, je refuse.")
    assert group.last("claire@example.org").subject.startswith("Refusé : paiement n° 1 de 12,00 zonnen")
    assert group.last("an@example.org").subject == "Claire Dubois weigerde je betaling #1: 12,00 zonnen teruggeboekt"
    assert balance(claire) == 0


def test_after_refuse_days_a_no_is_too_late_and_points_to_the_core_group(group, an, piet, clock):
    receipt = paid(group, "an@example.org", "piet@example.org")
    assert "antwoord op deze mail met NEE op de eerste regel" in receipt.text
    clock.advance(days=7, seconds=1)
    confirm(group, "piet@example.org", receipt, "Nee, dit klopt niet")
    late = group.last("piet@example.org")
    assert late.subject == "Te laat om betaling #1 te weigeren"
    assert "neem dan contact op met de kerngroep (beheer@lets.example)" in late.text
    assert balance(piet) == 1200 and Transfer.select().count() == 1


def test_only_the_address_the_receipt_went_to_may_refuse(group, an, piet, sam):
    receipt = paid(group, "an@example.org", "piet@example.org")
    confirm(group, "sam@example.org", receipt, "No")
    assert group.last("sam@example.org").subject == "We could not match your answer to a receipt"
    assert balance(piet) == 1200


def test_invoices_claims_and_administrators_reversals_offer_no_refusal(group, an, sam, settings):
    group.mail("sam@example.org", "INVOICE 5 to an@example.org for soup")
    confirm(group, "an@example.org", group.last("an@example.org"), "Ja")
    assert group.last("sam@example.org").subject == "Receipt #1: 5.00 zonnen from An de Vries"
    assert group.last("sam@example.org").message["Reply-To"] is None
    trade_mail.reverse(settings, 1, now=group.clock.now, entered_by="admin")
    assert "[r-" not in group.last("an@example.org").subject
    assert ConfirmToken.select().count() == 0


def test_an_administrators_entry_may_be_refused_and_refuse_days_0_offers_nothing(group, an, piet, settings):
    trade_mail.enter(settings, "an@example.org", "piet@example.org", 300, "soep", now=group.clock.now,
                     entered_by="admin")
    assert "[r-" in group.last("piet@example.org").subject
    off = settings_module.replace(settings, trades={"refuse_days": 0})
    trade_mail.enter(off, "an@example.org", "piet@example.org", 300, "soep", now=group.clock.now,
                     entered_by="admin")
    assert "[r-" not in group.last("piet@example.org").subject
    assert "NEE" not in group.last("piet@example.org").text
