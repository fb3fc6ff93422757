"""Limits by mail in nl, en and fr: refusals, invoices at the payee's risk, open invoices
that expire, pending proposals that expire, and the advice on receipts near a limit."""
import pytest

from db import ledger, members
from db.models import Transfer
from mailer import settings as settings_module
from mailer.runs import trades as trade_mail
from tests.test_ledger import book_now
from tests.test_trades import confirm

LANGUAGES = ("nl", "en", "fr")
YES = {"nl": "JA", "en": "YES", "fr": "OUI"}
PAY = {"nl": "BETAAL {} aan {} voor {}", "en": "PAY {} to {} for {}", "fr": "PAYER {} à {} pour {}"}
INVOICE_OPEN = {"nl": "FACTUUR OPEN {} aan {} voor {}", "en": "INVOICE OPEN {} to {} for {}",
                "fr": "FACTURE OUVERTE {} à {} pour {}"}


@pytest.fixture
def settings(settings):
    return settings_module.replace(settings, limits={"newcomer_months": 0}, trades={"open_days": 30})


def member(group, name, language):
    return group.member(name, f"{name.lower()}@example.org", language=language)


def balance(m):
    return members.account(m).balance_cents


@pytest.mark.parametrize("language, subject, hint", [
    ("nl", "Over de limiet: niet geboekt", "FACTUUR OPEN"),
    ("en", "Over the limit: not booked", "INVOICE OPEN"),
    ("fr", "Limite dépassée : rien n'est inscrit", "FACTURE OUVERTE"),
])
def test_payment_over_the_lower_limit_is_refused_with_an_explanation(group, language, subject, hint):
    payer, payee = member(group, "Payer", language), member(group, "Payee", "nl")
    group.mail("payer@example.org", PAY[language].format(301, "payee", "x"))
    reply = group.last("payer@example.org")
    assert reply.subject == subject
    assert "-300,00" in reply.text or "-300.00" in reply.text
    assert hint in reply.text
    assert Transfer.select().count() == 0


@pytest.mark.parametrize("language, invoice_note, payer_subject, payee_subject", [
    ("nl", "op risico van Payee", "Open factuur: 20,00 zonnen aan Payee", "Open op jouw risico: 20,00 zonnen van Payer"),
    ("en", "at Payee's risk", "Open invoice: 20.00 zonnen to Payee", "Open at your risk: 20.00 zonnen from Payer"),
    ("fr", "aux risques de Payee", "Facture ouverte : 20,00 zonnen à Payee",
     "Ouverte à vos risques : 20,00 zonnen de Payer"),
])
def test_invoice_open_waits_at_the_payees_risk_and_is_booked_when_the_payer_earns(
        group, settings, language, invoice_note, payer_subject, payee_subject):
    payer, payee = member(group, "Payer", language), member(group, "Payee", language)
    third = member(group, "Third", "nl")
    book_now(payer, third, 29500, settings)                       # payer at -295 of -300
    group.mail("payee@example.org", INVOICE_OPEN[language].format(20, "payer", "soep"))
    invoice = group.last("payer@example.org")
    assert invoice_note in invoice.text
    confirm(group, "payer@example.org", invoice, YES[language])
    transfer = Transfer.get(Transfer.description == "soep")
    assert (transfer.state, transfer.payee_risk) == ("open", True)
    assert group.last("payer@example.org").subject == payer_subject
    assert group.last("payee@example.org").subject == payee_subject
    assert balance(payer) == -29500

    # The payer earns 30: -265 leaves room for 20, so the open invoice is booked at once.
    book_now(third, payer, 3000, settings)
    assert Transfer.get_by_id(transfer.id).state == "booked"
    assert (balance(payer), balance(payee)) == (-28500, 2000)
    assert ledger.check() == [] and ledger.verify()[1] is None


def test_open_invoices_at_the_payees_risk_are_booked_oldest_first(group, settings):
    payer, payee, third = member(group, "Payer", "nl"), member(group, "Payee", "nl"), member(group, "Third", "nl")
    book_now(payer, third, 30000, settings)                       # payer at the limit
    for amount, what in ((20, "eerste"), (5, "tweede")):
        group.mail("payee@example.org", INVOICE_OPEN["nl"].format(amount, "payer", what))
        confirm(group, "payer@example.org", group.last("payer@example.org"), "JA")
    # 10 of room: the younger, smaller invoice does not jump the queue.
    ledger.transfer_now(members.account(third), members.account(payer), 1000, "x", limits=settings.limits,
                        now=group.clock(), entered_by="admin")
    assert [t.state for t in Transfer.select().where(Transfer.payee_risk).order_by(Transfer.id)] == ["open", "open"]
    ledger.transfer_now(members.account(third), members.account(payer), 1500, "y", limits=settings.limits,
                        now=group.clock(), entered_by="admin")
    assert [t.state for t in Transfer.select().where(Transfer.payee_risk).order_by(Transfer.id)] == ["booked", "booked"]
    assert balance(payer) == -30000 + 2500 - 2500


def test_invoice_without_open_over_the_lower_limit_is_refused_and_suggests_open(group, settings):
    payer, payee, third = member(group, "Payer", "nl"), member(group, "Payee", "nl"), member(group, "Third", "nl")
    book_now(payer, third, 29500, settings)
    group.mail("payee@example.org", "FACTUUR 20 aan payer voor soep")
    reply = group.last("payee@example.org")
    assert reply.subject == "Over de limiet: niet geboekt"
    assert "FACTUUR OPEN 12 aan" in reply.text
    assert Transfer.select().where(Transfer.description == "soep").count() == 0


@pytest.mark.parametrize("language, subject, payee_line", [
    ("nl", "Open factuur verlopen: 20,00 zonnen van Payer aan Payee", "stuur dan een nieuwe FACTUUR"),
    ("en", "Open invoice expired: 20.00 zonnen from Payer to Payee", "send a new INVOICE"),
    ("fr", "Facture ouverte expirée : 20,00 zonnen de Payer à Payee", "envoyez une nouvelle FACTURE"),
])
def test_open_invoice_that_never_finds_room_expires_and_both_are_told(group, settings, clock, language, subject,
                                                                      payee_line):
    payer, payee, third = member(group, "Payer", language), member(group, "Payee", language), member(group, "Third", "nl")
    book_now(third, payee, 29000, settings)                       # payee at 290 of 300
    group.mail("payer@example.org", PAY[language].format(20, "payee", "soep"))
    confirm(group, "payer@example.org", group.last("payer@example.org"), YES[language])
    held = Transfer.get(Transfer.description == "soep")
    assert held.state == "open"
    clock.advance(days=29)
    assert trade_mail.expire(settings, clock()) == (0, 0)
    clock.advance(days=1)
    assert trade_mail.expire(settings, clock()) == (0, 1)
    assert Transfer.get_by_id(held.id).state == "expired"
    to_payer, to_payee = group.last("payer@example.org"), group.last("payee@example.org")
    assert to_payer.subject == to_payee.subject == subject
    assert "30" in to_payer.text and payee_line in to_payee.text
    # Room appears later: the expired invoice is not booked.
    ledger.transfer_now(members.account(payee), members.account(third), 5000, "x", limits=settings.limits,
                        now=clock(), entered_by="admin")
    assert Transfer.get_by_id(held.id).state == "expired" and balance(payer) == 0


def test_open_days_zero_keeps_open_invoices(group, settings, clock):
    payer, payee, third = member(group, "Payer", "nl"), member(group, "Payee", "nl"), member(group, "Third", "nl")
    book_now(third, payee, 29000, settings)
    group.mail("payer@example.org", "BETAAL 20 aan payee voor soep")
    confirm(group, "payer@example.org", group.last("payer@example.org"), "JA")
    clock.advance(days=400)
    assert trade_mail.expire(settings_module.replace(settings, trades={"open_days": 0}), clock()) == (0, 0)
    assert Transfer.get(Transfer.description == "soep").state == "open"


@pytest.mark.parametrize("language, payer_subject, payee_subject", [
    ("nl", "Verlopen: 7,00 zonnen van Payer aan Payee", "Verlopen: 7,00 zonnen van Payer aan Payee"),
    ("en", "Expired: 7.00 zonnen from Payer to Payee", "Expired: 7.00 zonnen from Payer to Payee"),
    ("fr", "Expiré : 7,00 zonnen de Payer à Payee", "Expiré : 7,00 zonnen de Payer à Payee"),
])
def test_unanswered_invoice_expires_and_both_are_told_in_their_language(group, settings, clock, language,
                                                                         payer_subject, payee_subject):
    member(group, "Payer", language), member(group, "Payee", language)
    group.mail("payee@example.org", ("FACTUUR 7 aan payer voor x", "INVOICE 7 to payer for x",
                                     "FACTURE 7 à payer pour x")[LANGUAGES.index(language)])
    clock.advance(days=settings.trades.confirm_days)
    assert trade_mail.expire(settings, clock())[1] == 1
    assert group.last("payer@example.org").subject == payer_subject
    assert group.last("payee@example.org").subject == payee_subject


@pytest.mark.parametrize("language, first, later", [
    ("nl", "Let op: je staat op -280,00 van -300,00 zonnen, dicht bij je ondergrens; 2 vragen in de groep passen bij je aanbod.",
     "Je staat op -281,00 van -300,00 zonnen; 2 vragen in de groep passen bij je aanbod."),
    ("en", "Note: you are at -280.00 of -300.00 zonnen, close to your lower limit; 2 requests in the group match your offers.",
     "You are at -281.00 of -300.00 zonnen; 2 requests in the group match your offers."),
    ("fr", "Attention : vous êtes à -280,00 sur -300,00 zonnen, près de votre limite basse ; 2 demandes du groupe correspondent à vos offres.",
     "Vous êtes à -281,00 sur -300,00 zonnen ; 2 demandes du groupe correspondent à vos offres."),
])
def test_receipt_near_the_lower_limit_counts_requests_that_match_the_members_offers(
        group, settings, language, first, later):
    payer, payee, other = member(group, "Payer", language), member(group, "Payee", "nl"), member(group, "Other", "nl")
    group.mail("payer@example.org", "AANBOD: Fietsherstel", "Categorie: vervoer\n")
    group.mail("payer@example.org", "AANBOD: Taart", "Categorie: eten\n")
    for title, category in (("Fiets kapot", "vervoer"), ("Verjaardagstaart", "eten"), ("Gras maaien", "tuin")):
        group.mail("other@example.org", f"VRAAG: {title}", f"Categorie: {category}\n")
    group.mail("payer@example.org", "VRAAG: Soep", "Categorie: eten\n")     # own request: not counted
    book_now(payer, payee, 27000, settings)
    for amount, expected in ((10, first), (1, later)):
        group.mail("payer@example.org", PAY[language].format(amount, "payee", "x"))
        confirm(group, "payer@example.org", group.last("payer@example.org"), YES[language])
        assert expected in group.last("payer@example.org").text


@pytest.mark.parametrize("language, line", [
    ("nl", "Let op: je staat op 290,00 van 300,00 zonnen, dicht bij je bovengrens; 1 aanbod in de groep past bij je vragen, en SCHENK aan het solidariteitsfonds maakt ruimte."),
    ("en", "Note: you are at 290.00 of 300.00 zonnen, close to your upper limit; 1 offer in the group matches your requests, and a DONATE to the solidarity fund makes room."),
    ("fr", "Attention : vous êtes à 290,00 sur 300,00 zonnen, près de votre limite haute ; 1 offre du groupe correspond à vos demandes, et DONNER au fonds de solidarité donne de la marge."),
])
def test_receipt_near_the_upper_limit_counts_offers_and_suggests_a_donation(group, settings, language, line):
    payer, payee, other = member(group, "Payer", "nl"), member(group, "Payee", language), member(group, "Other", "nl")
    group.mail("payee@example.org", "VRAAG: Bijles", "Categorie: les\n")
    group.mail("other@example.org", "AANBOD: Bijles Frans", "Categorie: les\n")
    group.mail("other@example.org", "AANBOD: Fietsherstel", "Categorie: vervoer\n")
    book_now(other, payee, 28000, settings)
    group.mail("payer@example.org", "BETAAL 10 aan payee voor x")
    confirm(group, "payer@example.org", group.last("payer@example.org"), "JA")
    assert line in group.last("payee@example.org").text


def test_receipt_away_from_the_limits_carries_no_advice(group, settings):
    payer, payee = member(group, "Payer", "en"), member(group, "Payee", "en")
    group.mail("payer@example.org", "PAY 10 to payee for x")
    confirm(group, "payer@example.org", group.last("payer@example.org"), "YES")
    text = group.last("payer@example.org").text
    assert "You are at" not in text and "Note:" not in text
