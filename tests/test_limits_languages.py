"""Limit mails in nl, en and fr where the other tests cover one language only: the
upper-limit open invoice with its donation hint, and the advice line on receipts near a
limit when no listing fits (warned once, then the plain line)."""
import pytest

from db.models import Transfer
from mailer import settings as settings_module
from tests.test_ledger import book_now
from tests.test_limits_mail import PAY, YES, member
from tests.test_trades import confirm


@pytest.fixture
def settings(settings):
    return settings_module.replace(settings, limits={"newcomer_months": 0})


@pytest.mark.parametrize("language, payee_subject, hint, payer_subject", [
    ("nl", "Open gehouden: 20,00 zonnen van Payer", "SCHENK 10", "Wacht: 20,00 zonnen aan Payee"),
    ("en", "Kept open: 20.00 zonnen from Payer", "DONATE 10", "Waiting: 20.00 zonnen to Payee"),
    ("fr", "En attente : 20,00 zonnen de Payer", "DONNER 10", "En attente : 20,00 zonnen à Payee"),
])
def test_earnings_over_the_upper_limit_are_kept_open_and_the_payee_is_offered_a_donation(
        group, settings, language, payee_subject, hint, payer_subject):
    payer, payee = member(group, "Payer", language), member(group, "Payee", language)
    book_now(member(group, "Third", "nl"), payee, 29000, settings)
    group.mail("payer@example.org", PAY[language].format(20, "payee", "soep"))
    confirm(group, "payer@example.org", group.last("payer@example.org"), YES[language])
    assert Transfer.get(Transfer.description == "soep").state == "open"
    to_payee = group.last("payee@example.org")
    assert to_payee.subject == payee_subject
    assert hint in to_payee.text and "290" in to_payee.text
    assert group.last("payer@example.org").subject == payer_subject


@pytest.mark.parametrize("language, first, later", [
    ("nl", "Let op: je staat op -280,00 van -300,00 zonnen, dicht bij je ondergrens; je diensten aanbieden maakt ruimte.",
     "Je staat op -281,00 van -300,00 zonnen; je diensten aanbieden maakt ruimte."),
    ("en", "Note: you are at -280.00 of -300.00 zonnen, close to your lower limit; offering your services makes room.",
     "You are at -281.00 of -300.00 zonnen; offering your services makes room."),
    ("fr", "Attention : vous êtes à -280,00 sur -300,00 zonnen, près de votre limite basse ; proposer vos services donne de la marge.",
     "Vous êtes à -281,00 sur -300,00 zonnen ; proposer vos services donne de la marge."),
])
def test_receipt_near_the_lower_limit_without_matching_requests_warns_once(group, settings, language, first, later):
    payer, payee = member(group, "Payer", language), member(group, "Payee", "nl")
    book_now(payer, payee, 27000, settings)
    texts = []
    for amount in (10, 1):
        group.mail("payer@example.org", PAY[language].format(amount, "payee", "x"))
        confirm(group, "payer@example.org", group.last("payer@example.org"), YES[language])
        texts.append(group.last("payer@example.org").text)
    assert first in texts[0]
    assert later in texts[1] and first.split(":")[0] + ":" not in texts[1].replace(later, "")


@pytest.mark.parametrize("language, first, later", [
    ("nl", "Let op: je staat op 280,00 van 300,00 zonnen, dicht bij je bovengrens; uitgeven of SCHENK aan het solidariteitsfonds maakt ruimte.",
     "Je staat op 281,00 van 300,00 zonnen; uitgeven of SCHENK aan het solidariteitsfonds maakt ruimte."),
    ("en", "Note: you are at 280.00 of 300.00 zonnen, close to your upper limit; spending or a DONATE to the solidarity fund makes room.",
     "You are at 281.00 of 300.00 zonnen; spending or a DONATE to the solidarity fund makes room."),
    ("fr", "Attention : vous êtes à 280,00 sur 300,00 zonnen, près de votre limite haute ; dépenser ou DONNER au fonds de solidarité donne de la marge.",
     "Vous êtes à 281,00 sur 300,00 zonnen ; dépenser ou DONNER au fonds de solidarité donne de la marge."),
])
def test_receipt_near_the_upper_limit_without_matching_offers_warns_once(group, settings, language, first, later):
    payer, payee = member(group, "Payer", "nl"), member(group, "Payee", language)
    book_now(member(group, "Third", "nl"), payee, 27000, settings)
    texts = []
    for amount in (10, 1):
        group.mail("payer@example.org", PAY["nl"].format(amount, "payee", "x"))
        confirm(group, "payer@example.org", group.last("payer@example.org"), "JA")
        texts.append(group.last("payee@example.org").text)
    assert first in texts[0]
    assert later in texts[1] and first.split(":")[0] + ":" not in texts[1].replace(later, "")
