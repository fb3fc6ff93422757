"""Trades by mail: propose, confirm by a tokened reply, refuse, expire; forgeries book nothing."""
import re

import pytest

from db import ledger, members
from db.models import Account, Transfer
from mailer import settings as settings_module
from mailer.runs import trades as trade_mail

TOKEN = re.compile(r"lets\+t-([a-z2-7]{24})@lets\.example")


@pytest.fixture
def settings(settings):
    # Members in tests joined "today"; the newcomer limit has its own test.
    return settings_module.replace(settings, limits={"newcomer_months": 0})


def balance(member):
    return members.account(member).balance_cents


def token_of(sent):
    return TOKEN.fullmatch(sent.message["Reply-To"]).group(1)


def confirm(group, sender, sent, answer, **kw):
    """Reply to the confirmation `sent` as a mail program would: to its Reply-To, Re: subject."""
    return group.mail(sender, "Re: " + sent.subject, answer + "\n\n> quoted confirmation\n",
                      headers={"In-Reply-To": sent.message["Message-ID"]},
                      rcpt=[sent.message["Reply-To"]], **kw)


def test_pay_in_dutch_is_booked_only_after_ja_and_both_get_receipts(group, an, piet):
    group.mail("an@example.org", "BETAAL 12,50 aan piet@example.org voor fietsherstel")
    ask = group.last("an@example.org")
    assert ask.subject.startswith("Bevestig: betaal 12,50 zonnen aan Piet Jansen [t-")
    assert token_of(ask) in ask.subject
    assert "JA" in ask.text
    assert balance(an) == balance(piet) == 0
    assert Transfer.get().state == "pending"

    confirm(group, "an@example.org", ask, "Ja")

    transfer = Transfer.get()
    assert (transfer.state, transfer.number, transfer.amount_cents) == ("booked", 1, 1250)
    assert (balance(an), balance(piet)) == (-1250, 1250)
    to_an, to_piet = group.last("an@example.org"), group.last("piet@example.org")
    assert to_an.subject == "Bewijs #1: 12,50 zonnen aan Piet Jansen"
    assert "Je nieuwe saldo: -12,50 zonnen" in to_an.text
    assert "Je nieuwe saldo: 12,50 zonnen" in to_piet.text
    assert transfer.hash in to_piet.text
    assert ledger.check() == [] and ledger.verify() == (1, None)


def test_pay_in_english_by_member_number_and_no_cancels(group, sam, piet):
    group.mail("sam@example.org", "PAY 7 to 2 for lessons")
    ask = group.last("sam@example.org")
    assert ask.subject.startswith("Confirm: pay 7.00 zonnen to Piet Jansen [t-")
    confirm(group, "sam@example.org", ask, "No")
    assert Transfer.get().state == "cancelled"
    assert group.last("sam@example.org").subject == "Not booked: 7.00 zonnen for lessons"
    assert balance(sam) == 0


def test_invoice_in_french_asks_the_payer_and_tells_the_payee(group, claire, sam):
    group.mail("sam@example.org", "INVOICE 20 to Claire for piano lessons")
    invoice = group.last("claire@example.org")
    assert invoice.subject.startswith("Facture de Sam Taylor : 20,00 zonnen [t-")
    assert group.last("sam@example.org").subject == "Invoice sent to Claire Dubois: 20.00 zonnen"
    confirm(group, "claire@example.org", invoice, "OUI")
    assert (balance(claire), balance(sam)) == (-2000, 2000)
    assert group.last("claire@example.org").subject == "Reçu n° 1 : 20,00 zonnen à Sam Taylor"
    assert group.last("sam@example.org").subject == "Receipt #1: 20.00 zonnen from Claire Dubois"


def test_refused_invoice_tells_the_payee_and_books_nothing(group, claire, an):
    group.mail("an@example.org", "FACTUUR 5 aan claire@example.org voor soep")
    confirm(group, "claire@example.org", group.last("claire@example.org"), "Non")
    assert Transfer.get().state == "rejected"
    assert group.last("an@example.org").subject == "Factuur geweigerd door Claire Dubois: 5,00 zonnen"
    assert balance(an) == 0


def test_payer_in_french_with_accent_connector(group, claire, piet):
    group.mail("claire@example.org", "Paiement", "PAYER 3 à Piet pour du pain\n")
    ask = group.last("claire@example.org")
    assert ask.subject.startswith("Confirmez : paiement de 3,00 zonnen à Piet Jansen [t-")
    confirm(group, "claire@example.org", ask, "oui")
    assert balance(piet) == 300


def test_forged_from_without_the_token_mailbox_books_nothing(group, an, piet):
    group.mail("an@example.org", "BETAAL 12 aan piet voor fietsherstel")
    ask = group.last("an@example.org")
    # Piet forges An's address and answers with In-Reply-To, but never saw the token.
    group.mail("an@example.org", "Re: Bevestig: betaal 12,00 zonnen aan Piet Jansen", "JA\n",
               headers={"In-Reply-To": ask.message["Message-ID"]}, mail_from="piet@example.org")
    assert Transfer.get().state == "pending"
    assert balance(piet) == 0
    assert group.last("an@example.org").subject == "Beantwoord de bevestigingsmail zelf"


def test_forged_pay_never_moves_credit_because_the_real_payer_is_asked(group, an, piet):
    group.mail("an@example.org", "BETAAL 100 aan piet voor niets", mail_from="piet@example.org")
    assert group.last("an@example.org").subject.startswith("Bevestig:")
    assert group.outbox("piet@example.org") == []
    assert balance(an) == 0


def test_replayed_confirmation_books_once(group, an, piet):
    group.mail("an@example.org", "BETAAL 12 aan piet voor fietsherstel")
    ask = group.last("an@example.org")
    confirm(group, "an@example.org", ask, "JA")
    confirm(group, "an@example.org", ask, "JA")
    assert Transfer.select().where(Transfer.state == "booked").count() == 1
    assert balance(piet) == 1200
    assert group.last("an@example.org").subject.startswith("Al beantwoord")


def test_token_used_from_another_address_books_nothing(group, an, piet):
    group.mail("an@example.org", "BETAAL 12 aan piet voor fietsherstel")
    ask = group.last("an@example.org")
    confirm(group, "piet@example.org", ask, "JA")
    assert Transfer.get().state == "pending"
    assert group.last("piet@example.org").subject == "Bevestig vanaf het adres waar we naar schreven"
    confirm(group, "an@example.org", ask, "JA")   # the real payer can still confirm
    assert Transfer.get().state == "booked"


def test_token_in_subject_works_when_reply_to_was_dropped(group, an, piet):
    group.mail("an@example.org", "BETAAL 12 aan piet voor fietsherstel")
    ask = group.last("an@example.org")
    group.mail("an@example.org", "Re: " + ask.subject, "ja\n")
    assert Transfer.get().state == "booked"


def test_vacation_responder_confirms_nothing(group, an, piet):
    group.mail("an@example.org", "BETAAL 12 aan piet voor fietsherstel")
    ask = group.last("an@example.org")
    sent = len(group.outbox())
    group.mail("an@example.org", "Re: " + ask.subject, "JA\n", rcpt=[ask.message["Reply-To"]],
               headers={"Auto-Submitted": "auto-replied"})
    assert Transfer.get().state == "pending"
    assert len(group.outbox()) == sent


def test_unclear_answer_gets_a_clarifying_reply_and_the_token_stays_valid(group, an, piet):
    group.mail("an@example.org", "BETAAL 12 aan piet voor fietsherstel")
    ask = group.last("an@example.org")
    confirm(group, "an@example.org", ask, "misschien morgen")
    assert group.last("an@example.org").subject.startswith("JA of NEE?")
    confirm(group, "an@example.org", ask, "JA")
    assert Transfer.get().state == "booked"


def test_ambiguous_name_lists_the_candidates(group, an, piet):
    group.member("Piet de Boer", "pdb@example.org")
    group.mail("an@example.org", "BETAAL 5 aan Piet voor brood")
    reply = group.last("an@example.org")
    assert reply.subject == 'Welke "Piet" bedoel je?'
    assert "Piet Jansen" in reply.text and "Piet de Boer" in reply.text
    assert Transfer.select().count() == 0


def test_unknown_member_is_explained(group, sam):
    group.mail("sam@example.org", "PAY 5 to nobody@example.org for bread")
    assert group.last("sam@example.org").subject == 'No member "nobody@example.org"'


def test_suspended_member_cannot_receive_proposals(group, an, piet):
    piet.status = "suspended"
    piet.save()
    group.mail("an@example.org", "BETAAL 5 aan piet voor brood")
    assert group.last("an@example.org").subject == "Piet Jansen kan nu geen voorstellen ontvangen"
    assert Transfer.select().count() == 0


def test_donation_goes_to_the_solidarity_fund_after_confirmation(group, sam):
    group.mail("sam@example.org", "DONATE 5")
    ask = group.last("sam@example.org")
    assert ask.subject.startswith("Confirm: donate 5.00 zonnen to Solidarity fund [t-")
    confirm(group, "sam@example.org", ask, "yes")
    assert Account.get(Account.code == "solidarity").balance_cents == 500
    assert balance(sam) == -500
    assert "Your new balance: -5.00 zonnen" in group.last("sam@example.org").text


def test_schenk_and_donner(group, an, claire):
    group.mail("an@example.org", "SCHENK 2")
    confirm(group, "an@example.org", group.last("an@example.org"), "JA")
    group.mail("claire@example.org", "DONNER 3")
    confirm(group, "claire@example.org", group.last("claire@example.org"), "OUI")
    assert Account.get(Account.code == "solidarity").balance_cents == 500


def test_pending_proposal_is_reminded_once_then_expires(group, clock, an, piet, settings):
    group.mail("an@example.org", "BETAAL 12 aan piet voor fietsherstel")
    first = group.last("an@example.org")
    clock.advance(days=settings.trades.reminder_days)
    assert trade_mail.expire(settings, clock()) == (1, 0)
    reminder = group.last("an@example.org")
    assert reminder.subject.startswith("Herinnering: bevestig 12,00 zonnen aan Piet Jansen [t-")
    assert token_of(reminder) != token_of(first)
    assert trade_mail.expire(settings, clock()) == (0, 0)
    clock.advance(days=settings.trades.confirm_days)
    assert trade_mail.expire(settings, clock()) == (0, 1)
    assert Transfer.get().state == "expired"
    assert group.last("an@example.org").subject.startswith("Verlopen:")
    confirm(group, "an@example.org", reminder, "JA")
    assert balance(piet) == 0
    assert group.last("an@example.org").subject.startswith("Al beantwoord")


def test_balance_shows_last_transfers_and_head_hash(group, an, piet):
    group.mail("an@example.org", "BETAAL 4 aan piet voor eieren")
    confirm(group, "an@example.org", group.last("an@example.org"), "JA")
    group.mail("piet@example.org", "SALDO")
    reply = group.last("piet@example.org")
    assert reply.subject == "Je saldo: 4,00 zonnen"
    assert "An de Vries: eieren" in reply.text
    assert f"Journaalhash: {ledger.head_hash()[:12]}…\n" in reply.text


@pytest.mark.parametrize("sender, subject, answer", [
    ("an@example.org", "FACTUUR 1e9 aan piet voor soep", "Je FACTUUR was niet te lezen"),
    ("claire@example.org", "PAYER NaN à piet pour soupe", "Votre PAYER est illisible"),
    ("sam@example.org", "DONATE -5", "Could not read your DONATE"),
])
def test_an_unreadable_amount_is_answered_with_the_command_word_the_member_wrote(
        group, an, piet, claire, sam, sender, subject, answer):
    group.mail(sender, subject)
    assert group.last(sender).subject == answer
    assert Transfer.select().count() == 0
