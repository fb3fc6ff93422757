"""Invoices and members without email: a coordinator's invoice waits for the coordinator's
own tokened JA before the payer sees it, and an invoice to a member without email is
confirmed by that member's coordinator."""
import datetime as dt

import pytest
from click.testing import CliRunner

from db import coordinators, forget, ledger, members
from db.models import ConsentToken, MemberCoordinator, Transfer
from mailer import settings as settings_module
from mailer.runs import trades as trade_mail
from mailer.cli import main
from tests.conftest import SETTINGS_INI
from tests.test_ledger import _env
from tests.test_trades import confirm

INVOICE = {"nl": "VOOR kees\nFACTUUR 7 aan an voor snoeien\n", "en": "FOR kees\nINVOICE 7 to an for pruning\n",
           "fr": "POUR kees\nFACTURE 7 à an pour la taille\n"}
YES = {"nl": "JA", "en": "YES", "fr": "OUI"}


@pytest.fixture
def settings(settings):
    return settings_module.replace(settings, limits={"newcomer_months": 0},
                                   trades={"coordinators": ("coord@example.org", "dora@example.org")})


@pytest.fixture
def kees(group):
    return group.member("Kees Zonder", None)


def coordinator(group, language="nl"):
    return group.member("Cor Dinator", "coord@example.org", language=language)


def balance(member):
    return members.account(member).balance_cents


@pytest.mark.parametrize("language, subject, sent", [
    ("nl", "Bevestig: factuur namens Kees Zonder aan An de Vries: 7,00 zonnen [t-",
     "Factuur verstuurd aan An de Vries: 7,00 zonnen"),
    ("en", "Confirm: invoice on behalf of Kees Zonder to An de Vries: 7.00 zonnen [t-",
     "Invoice sent to An de Vries: 7.00 zonnen"),
    ("fr", "Confirmez : facture au nom de Kees Zonder à An de Vries : 7,00 zonnen [t-",
     "Facture envoyée à An de Vries : 7,00 zonnen"),
])
def test_coordinators_invoice_reaches_the_payer_only_after_the_coordinators_tokened_yes(
        group, an, kees, language, subject, sent):
    coordinator(group, language)
    group.mail("coord@example.org", "", INVOICE[language])
    ask = group.last("coord@example.org")
    assert ask.subject.startswith(subject)
    assert group.outbox("an@example.org") == []
    assert Transfer.get().state == "draft"
    assert [t.address for t in ConsentToken.select()] == ["coord@example.org"]

    confirm(group, "coord@example.org", ask, YES[language])
    invoice = group.last("an@example.org")
    assert invoice.subject.startswith("Factuur van Kees Zonder: 7,00 zonnen [t-")
    assert group.last("coord@example.org").subject == sent
    assert Transfer.get().state == "pending"

    confirm(group, "an@example.org", invoice, "JA")
    assert (balance(an), balance(kees)) == (-700, 700)
    assert group.last("coord@example.org").subject.startswith(("Bewijs #1", "Receipt #1", "Reçu n° 1"))
    assert ledger.check() == [] and ledger.verify() == (1, None)


def test_coordinators_no_drops_the_invoice_and_the_payer_never_hears_of_it(group, an, kees):
    coordinator(group)
    group.mail("coord@example.org", "", INVOICE["nl"])
    confirm(group, "coord@example.org", group.last("coord@example.org"), "NEE")
    assert Transfer.get().state == "cancelled"
    assert group.last("coord@example.org").subject == "Niet geboekt: 7,00 zonnen voor snoeien"
    assert group.outbox("an@example.org") == []


def test_forged_coordinator_invoice_reaches_only_the_real_coordinator(group, an, kees):
    coordinator(group)
    # An forges the coordinator's From to get an invoice "from Kees" in front of Piet.
    piet = group.member("Piet Jansen", "piet@example.org")
    group.mail("coord@example.org", "", "VOOR kees\nFACTUUR 50 aan piet voor niets\n", mail_from="an@example.org")
    ask = group.last("coord@example.org")
    group.mail("coord@example.org", "Re: Bevestig", "JA\n", headers={"In-Reply-To": ask.message["Message-ID"]},
               mail_from="an@example.org")
    assert group.outbox("piet@example.org") == []
    assert Transfer.get().state == "draft"
    # Even with the token, a JA from another address releases nothing.
    confirm(group, "an@example.org", ask, "JA")
    assert group.outbox("piet@example.org") == []
    assert balance(piet) == 0


def test_the_coordinators_token_never_pays_the_released_invoice(group, an, kees):
    coordinator(group)
    group.mail("coord@example.org", "", INVOICE["nl"])
    ask = group.last("coord@example.org")
    confirm(group, "coord@example.org", ask, "JA")
    confirm(group, "coord@example.org", ask, "JA")          # a replay of the coordinator's JA
    assert group.last("coord@example.org").subject.startswith("Al beantwoord")
    assert Transfer.get().state == "pending"
    assert len(group.outbox("an@example.org")) == 1
    assert balance(an) == 0


def test_unconfirmed_draft_expires_and_only_the_coordinator_is_told(group, an, kees, clock, settings):
    coordinator(group)
    group.mail("coord@example.org", "", INVOICE["nl"])
    ask = group.last("coord@example.org")
    clock.advance(days=settings.trades.reminder_days)
    assert trade_mail.expire(settings, clock()) == (0, 0)    # a draft is not reminded
    clock.advance(days=settings.trades.confirm_days)
    assert trade_mail.expire(settings, clock()) == (0, 1)
    assert Transfer.get().state == "expired"
    assert group.last("coord@example.org").subject == "Verlopen: factuur namens Kees Zonder aan An de Vries: 7,00 zonnen"
    assert group.outbox("an@example.org") == []
    confirm(group, "coord@example.org", ask, "JA")
    assert group.last("coord@example.org").subject.startswith("Al beantwoord")
    assert group.outbox("an@example.org") == []


def test_released_invoice_gives_the_payer_a_full_window_and_reminds_the_payer(group, an, kees, clock, settings):
    coordinator(group)
    group.mail("coord@example.org", "", INVOICE["nl"])
    clock.advance(days=settings.trades.confirm_days - 1)
    confirm(group, "coord@example.org", group.last("coord@example.org"), "JA")
    assert Transfer.get().expires == clock() + dt.timedelta(days=settings.trades.confirm_days)
    clock.advance(days=2)
    assert trade_mail.expire(settings, clock()) == (1, 0)
    assert group.last("an@example.org").subject.startswith("Herinnering: bevestig 7,00 zonnen aan Kees Zonder [t-")
    confirm(group, "an@example.org", group.last("an@example.org"), "JA")
    assert balance(kees) == 700


# -- invoices to a member without email ----------------------------------------------

@pytest.mark.parametrize("language, line", [
    ("nl", "jouw JA\nbetaalt namens Kees Zonder"),
    ("en", "your YES\npays on behalf of Kees Zonder"),
    ("fr", "votre OUI paie au nom de Kees Zonder"),
])
def test_invoice_to_a_member_without_email_goes_to_the_coordinator_who_last_acted(
        group, an, kees, language, line):
    coordinator(group, language)
    group.mail("coord@example.org", "", "VOOR kees\nBETAAL 2 aan an voor brood\n")
    confirm(group, "coord@example.org", group.last("coord@example.org"), "JA")

    group.mail("an@example.org", "FACTUUR 5 aan kees voor soep")
    invoice = group.last("coord@example.org")
    assert invoice.subject.startswith(("Factuur van An de Vries", "Invoice from An de Vries",
                                       "Facture de An de Vries"))
    assert line in invoice.text
    assert group.last("an@example.org").subject == "Factuur verstuurd aan Kees Zonder: 5,00 zonnen"
    confirm(group, "coord@example.org", invoice, YES[language])
    transfer = Transfer.get(Transfer.description == "soep")
    assert (transfer.state, transfer.confirmed_by) == ("booked", "Cor Dinator <coord@example.org>")
    assert (balance(kees), balance(an)) == (-700, 700)
    # Kees's statement, asked for by the coordinator, shows who confirmed it.
    group.mail("coord@example.org", "VOOR Kees Zonder", {"nl": "SALDO", "en": "BALANCE", "fr": "SOLDE"}[language])
    statement = group.last("coord@example.org").text
    confirmed = {"nl": "bevestigd door", "en": "confirmed by", "fr": "confirmé par"}[language]
    assert f"soep ({confirmed} Cor Dinator <coord@example.org>)" in statement
    assert "bevestigd door: Cor Dinator <coord@example.org>" in group.last("an@example.org").text


def test_named_coordinator_comes_before_the_last_one_and_a_payers_no_tells_the_payee(group, an, kees, settings):
    coordinator(group)
    group.member("Dora Hulp", "dora@example.org")
    group.mail("coord@example.org", "", "VOOR kees\nBETAAL 2 aan an voor brood\n")
    runner, env = CliRunner(), {**_env(settings), "LETS_TRADES_COORDINATORS": "coord@example.org,dora@example.org"}
    args = ["--settings", str(SETTINGS_INI), "member", "set-coordinator", str(kees.number)]
    refused = runner.invoke(main, [*args, "an@example.org"], env=env)
    assert refused.exit_code == 1 and "not in [trades] coordinators" in refused.output
    named = runner.invoke(main, [*args, "Dora@Example.org"], env=env)
    assert named.exit_code == 0, named.output
    assert "invoices go to dora@example.org" in named.output

    group.mail("an@example.org", "FACTUUR 5 aan kees voor soep")
    invoice = group.last("dora@example.org")
    assert ConsentToken.select().order_by(ConsentToken.id.desc()).first().address == "dora@example.org"
    confirm(group, "coord@example.org", invoice, "JA")       # the other coordinator's JA counts for nothing
    assert Transfer.get(Transfer.description == "soep").state == "pending"
    confirm(group, "dora@example.org", invoice, "NEE")
    assert group.last("an@example.org").subject == "Factuur geweigerd door Kees Zonder: 5,00 zonnen"

    assert runner.invoke(main, [*args, "--clear"], env=env).exit_code == 0
    group.mail("an@example.org", "FACTUUR 6 aan kees voor thee")
    assert group.last("coord@example.org").subject.startswith("Factuur van An de Vries: 6,00 zonnen [t-")


def test_invoice_to_a_member_without_email_is_refused_when_no_coordinator_is_known(group, an, kees, settings):
    group.mail("an@example.org", "FACTUUR 5 aan kees voor soep")
    reply = group.last("an@example.org")
    assert reply.subject == "Kees Zonder heeft geen e-mailadres"
    assert "lets member set-coordinator" in reply.text
    # A coordinator who acted for Kees but left the [trades] coordinators no longer counts.
    coordinator(group)
    group.mail("coord@example.org", "", "VOOR kees\nBETAAL 2 aan an voor brood\n")
    group.processor.settings = settings_module.replace(settings, trades={"coordinators": ()})
    group.mail("an@example.org", "FACTUUR 5 aan kees voor soep")
    assert group.last("an@example.org").subject == "Kees Zonder heeft geen e-mailadres"
    assert Transfer.select().where(Transfer.description == "soep").count() == 0


def test_forgetting_a_coordinator_hides_them_in_entries_confirmations_and_named_coordinators(
        group, an, kees, clock, settings):
    cor = coordinator(group)
    group.mail("coord@example.org", "", "VOOR kees\nBETAAL 2 aan an voor brood\n")
    confirm(group, "coord@example.org", group.last("coord@example.org"), "JA")
    group.mail("an@example.org", "FACTUUR 2 aan kees voor soep")
    confirm(group, "coord@example.org", group.last("coord@example.org"), "JA")
    coordinators.name(kees, "coord@example.org")
    cor.status = "left"
    cor.save()
    forget.forget(cor, now=clock(), group_language="nl")
    rows = list(Transfer.select().order_by(Transfer.id))
    assert all("coord@example.org" not in t.entered_by + t.confirmed_by for t in rows)
    assert all("Cor Dinator" not in t.entered_by + t.confirmed_by for t in rows)
    assert rows[0].entered_by and rows[1].confirmed_by            # still marked as entered or confirmed for Kees
    assert MemberCoordinator.select().count() == 0
    assert ledger.check() == [] and ledger.verify() == (2, None)
