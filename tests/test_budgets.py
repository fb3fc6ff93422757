"""Budgets allocated from the association account, claims by mail approved by the holder's reply."""
import datetime as dt
import re

import pytest
from click.testing import CliRunner

from db import budgets, ledger, members
from db.models import Account, Claim, Transfer
from mailer import settings as settings_module
from mailer.cli import main

LONG_AGO = dt.date(2025, 1, 1)
TOKEN = re.compile(r"lets\+t-([a-z2-7]{24})@lets\.example")


@pytest.fixture
def settings(settings):
    return settings_module.replace(settings, limits={"newcomer_months": 0})


@pytest.fixture
def holder(group):
    return group.member("Piet Jansen", "piet@example.org", joined=LONG_AGO)


@pytest.fixture
def fund(settings, holder, clock):
    budget = budgets.create("ledenadministratie", holder)
    budgets.allocate(budget, 1000, settings=settings, now=clock.now, entered_by="admin")
    return budget


def answer(group, sender, sent, text):
    return group.mail(sender, "Re: " + sent.subject, text + "\n\n> quoted\n", rcpt=[sent.message["Reply-To"]])


def test_a_claim_by_mail_is_paid_from_the_budget_after_the_holders_yes(group, an, holder, fund):
    group.mail("an@example.org", "DECLARATIE 4 voor ledenadministratie ledenlijst bijgewerkt")
    ask = group.last("piet@example.org")
    assert ask.subject.startswith("Declaratie van An de Vries: 4,00 zonnen uit ledenadministratie [t-")
    assert "werk in 2026-11" in ask.text and "2026-11: ledenlijst bijgewerkt" in ask.text
    assert TOKEN.fullmatch(ask.message["Reply-To"])
    assert group.last("an@example.org").subject == "Declaratie ingediend: 4,00 zonnen uit ledenadministratie"
    assert members.account(an).balance_cents == 0
    # The claimant cannot approve it: the token went to the holder's address.
    answer(group, "an@example.org", ask, "JA")
    assert Transfer.get(Transfer.initiator == "claim").state == "pending"
    answer(group, "piet@example.org", ask, "Ja")
    assert members.account(an).balance_cents == 400 and budgets.balance(fund) == 600
    assert group.last("piet@example.org").subject == "Declaratie van An de Vries goedgekeurd"
    assert group.last("an@example.org").subject.startswith("Bewijs #")
    assert ledger.check() == [] and ledger.verify()[1] is None


def test_the_holder_refuses_and_the_claimant_is_told(group, sam, holder, fund):
    group.mail("sam@example.org", "CLAIM 3 for ledenadministratie newsletter")
    answer(group, "piet@example.org", group.last("piet@example.org"), "nee")
    assert Transfer.get(Transfer.initiator == "claim").state == "rejected"
    refused = group.last("sam@example.org")
    assert refused.subject == "Your claim from ledenadministratie was not approved"
    assert budgets.balance(fund) == 1000


def test_over_budget_claims_are_refused_at_once_and_at_approval(group, an, sam, holder, fund, clock):
    group.mail("an@example.org", "DECLARATIE 11 voor ledenadministratie")
    assert group.last("an@example.org").subject == "Declaratie past niet in het budget ledenadministratie"
    assert Claim.select().count() == 0
    group.mail("an@example.org", "DECLARATIE 7 voor ledenadministratie")
    first = group.last("piet@example.org")
    group.mail("sam@example.org", "CLAIM 6 for ledenadministratie")
    second = group.last("piet@example.org")
    answer(group, "piet@example.org", first, "JA")
    answer(group, "piet@example.org", second, "JA")
    assert group.last("piet@example.org").subject == "Niet uitbetaald: het budget ledenadministratie is te klein"
    assert budgets.balance(fund) == 300 and members.account(sam).balance_cents == 0
    # Topped up, the same yes works.
    budgets.allocate(fund, 500, settings=group.settings, now=clock.now, entered_by="admin")
    answer(group, "piet@example.org", second, "JA")
    assert members.account(sam).balance_cents == 600


def test_the_default_budget_the_work_month_and_the_january_grace(group, an, holder, fund, clock, settings):
    group.processor.settings = settings_module.replace(settings, claims={"default_budget": "ledenadministratie"})
    group.mail("an@example.org", "DECLARATIE 2 voor nieuwsbrief 2026-10")
    claim = Claim.get()
    assert (claim.budget.name, claim.work_month) == ("ledenadministratie", "2026-10")
    assert "nieuwsbrief" in claim.transfer.description
    clock.now = dt.datetime(2027, 1, 20, 10)
    group.mail("an@example.org", "DECLARATIE 2 voor ledenadministratie 2026-12")
    assert Claim.select().count() == 2
    group.mail("an@example.org", "DECLARATIE 2 voor ledenadministratie 2026-10")
    assert group.last("an@example.org").subject == "Werk in 2026-10 kun je nu niet declareren"
    clock.now = dt.datetime(2027, 2, 1, 10)
    group.mail("an@example.org", "DECLARATIE 2 voor ledenadministratie 2026-12")
    assert "te laat" in group.last("an@example.org").text
    group.mail("an@example.org", "DECLARATIE 2 voor ledenadministratie 2027-03")
    assert "nog niet geweest" in group.last("an@example.org").text
    assert Claim.select().count() == 2


def test_unknown_budget_own_budget_and_bad_amount(group, an, holder, fund):
    group.mail("an@example.org", "DECLARATIE 2 voor tuingroep")
    unknown = group.last("an@example.org")
    assert unknown.subject == "Uit welk budget wil je declareren?" and "ledenadministratie" in unknown.text
    group.mail("piet@example.org", "DECLARATIE 2 voor ledenadministratie")
    assert group.last("piet@example.org").subject == "Declaratie uit je eigen budget ledenadministratie"
    group.mail("an@example.org", "DECLARATIE veel voor ledenadministratie")
    assert group.last("an@example.org").subject == "Je declaratie begrijpen we niet"
    assert Claim.select().count() == 0


def test_budget_cli_create_allocate_list(settings, db, monkeypatch, group, holder):
    monkeypatch.setenv("LETS_DATABASE_URL", settings.database.url)
    runner = CliRunner()

    def lets(*args):
        return runner.invoke(main, list(args), catch_exceptions=False)
    assert lets("budget", "create", "kerngroep", "--holder", "piet@example.org").output.strip() == \
        "budget kerngroep: holder 1 Piet Jansen"
    assert lets("budget", "create", "kerngroep", "--holder", "1").exit_code != 0
    assert lets("budget", "create", "two words", "--holder", "1").exit_code != 0
    allocated = lets("budget", "allocate", "kerngroep", "250")
    assert allocated.exit_code == 0 and "kerngroep holds 250,00 zonnen" in allocated.output
    assert Account.get(Account.code == "association").balance_cents == -25000
    listed = lets("budget", "list").output
    assert "kerngroep" in listed and "allocated    250.00" in listed and "left    250.00" in listed
