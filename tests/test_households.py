"""Households: members sharing an address, each with an account; the sender's name says who wrote."""
import datetime as dt

import pytest
from click.testing import CliRunner

from db import ledger, members
from db.migrations import STEPS, upgrade
from db.models import Member
from db.positive import not_positive
from mailer import settings as settings_module
from mailer.cli import main
from mailer.runs.membership import remind_offers
from mailer.runs.scheduled import run_due

LONG_AGO = dt.date(2023, 1, 1)


@pytest.fixture
def settings(settings):
    return settings_module.replace(settings, limits={"newcomer_months": 0})


@pytest.fixture
def household(group):
    an = group.member("An de Vries", "thuis@example.org", joined=LONG_AGO)
    bo = members.add("Bo de Vries", None, type="household", language="en", household_of=an, joined=LONG_AGO)
    return an, bo


def test_the_display_name_says_which_household_member_writes(group, household):
    an, bo = household
    group.mail("Bo de Vries <thuis@example.org>", "BALANCE")
    assert group.inbound(1).member_id == bo.id
    assert group.last("thuis@example.org").subject.startswith("Your balance")
    group.mail("An <thuis@example.org>", "SALDO")
    assert group.inbound(2).member_id == an.id


def test_an_unknown_name_at_a_shared_address_is_asked_which_member_and_nothing_is_done(group, household):
    group.mail("De Vries thuis <thuis@example.org>", "AANBOD: Soep")
    which = group.last("thuis@example.org")
    assert which.subject == "Wie van jullie schrijft er?"
    assert "An de Vries" in which.text and "Bo de Vries" in which.text
    from db.models import Listing
    assert Listing.select().count() == 0


def test_household_members_have_their_own_accounts_and_pay_by_name_not_by_shared_address(group, household, sam):
    an, bo = household
    group.mail("sam@example.org", "PAY 5 to thuis@example.org for soup")
    assert group.last("sam@example.org").subject == 'Which "thuis@example.org" do you mean?'
    group.mail("sam@example.org", "PAY 5 to Bo de Vries for soup")
    ask = group.last("sam@example.org")
    group.mail("sam@example.org", "Re: " + ask.subject, "Yes\n", rcpt=[ask.message["Reply-To"]])
    assert members.account(bo).balance_cents == 500 and members.account(an).balance_cents == 0


def test_cli_adds_a_household_member_at_the_same_address(settings, db, monkeypatch, group):
    monkeypatch.setenv("LETS_DATABASE_URL", settings.database.url)
    runner = CliRunner()
    first = runner.invoke(main, ["member", "add", "An de Vries", "thuis@example.org"], catch_exceptions=False)
    added = runner.invoke(main, ["member", "add", "Bo de Vries", "--household-of", first.output.strip()],
                          catch_exceptions=False)
    assert added.exit_code == 0, added.output
    bo = Member.get(Member.number == int(added.output))
    assert (bo.type, bo.primary_address) == ("household", "thuis@example.org")
    stranger = runner.invoke(main, ["member", "add", "Cas", "thuis@example.org"], catch_exceptions=False)
    assert stranger.exit_code != 0 and "already belongs" in stranger.output


def test_offer_reminders_go_to_members_without_an_offer_at_most_once_per_period(group, settings, clock):
    settings = settings_module.replace(settings, membership={"offer_reminder_days": 30})
    an = group.member("An de Vries", "an@example.org", joined=LONG_AGO)
    group.member("Piet", "piet@example.org", joined=LONG_AGO)
    group.member("New", "new@example.org", joined=clock.now.date())
    group.mail("piet@example.org", "AANBOD: Fietsherstel")
    assert remind_offers(settings, clock.now) == 1
    assert remind_offers(settings, clock.now) == 0                       # run twice
    reminder = group.last("an@example.org")
    assert reminder.subject == "Wat kun jij aanbieden in LETS Demo?" and "AANBOD: Soep koken" in reminder.text
    assert remind_offers(settings, clock.now + dt.timedelta(days=29)) == 0
    assert remind_offers(settings, clock.now + dt.timedelta(days=45)) == 2  # late: once, and the newcomer too
    assert len(group.outbox("an@example.org")) == 2
    assert members.by_address("an@example.org").id == an.id


def test_the_schedule_runs_offer_reminders(group, settings, clock):
    settings = settings_module.replace(settings, membership={"offer_reminder_days": 30},
                                       digest={"schedule": "weekly monday 07:00"})
    group.member("An de Vries", "an@example.org", joined=LONG_AGO)
    run_due(settings, clock.now)
    run_due(settings, clock.now)
    assert len([s for s in group.outbox("an@example.org") if "aanbieden" in s.subject]) == 1


def test_not_positive_lists_members_below_zero_all_the_last_two_years(group, settings):
    never = group.member("Never", "never@example.org", joined=LONG_AGO)
    once = group.member("Once", "once@example.org", joined=LONG_AGO)
    old = group.member("Old", "old@example.org", joined=LONG_AGO)
    fresh = group.member("Fresh", "fresh@example.org", joined=dt.date(2026, 1, 1))
    rich = group.member("Rich", "rich@example.org", joined=LONG_AGO)

    def pay(payer, payee, cents, day):
        ledger.transfer_now(members.account(payer), members.account(payee), cents, "x", limits=settings.limits,
                            now=dt.datetime.combine(day, dt.time(12)), entered_by="admin")
    pay(never, rich, 5000, dt.date(2024, 6, 1))                 # negative since before the window
    pay(once, rich, 5000, dt.date(2025, 3, 1))                  # negative, then zero once, then negative
    pay(rich, once, 5000, dt.date(2025, 8, 1))
    pay(once, rich, 1000, dt.date(2025, 9, 1))
    pay(old, rich, 100, dt.date(2023, 6, 1))
    pay(rich, old, 200, dt.date(2024, 1, 1))                    # positive only before the window
    pay(old, rich, 300, dt.date(2024, 6, 1))
    pay(fresh, rich, 100, dt.date(2026, 3, 1))                  # joined in the window at zero
    rows = not_positive(dt.date(2026, 11, 23), 2)
    assert [(r.member.name, r.balance, r.highest) for r in rows] == [("Never", -5000, -5000), ("Old", -200, -200)]
    monkey = CliRunner().invoke(main, ["member", "not-positive"], env={"LETS_DATABASE_URL": settings.database.url},
                                catch_exceptions=False)
    assert "Never" in monkey.output and "Once" not in monkey.output


def test_a_version_1_database_is_upgraded_to_shared_addresses(db):
    from db.models import Address, Budget
    from schema_history import downgrade_to
    downgrade_to(1)
    assert upgrade() == [f"{number}: {description}" for number, description, _ in STEPS[1:]]
    an = members.add("An", "thuis@example.org")
    members.add("Bo", None, household_of=an)
    assert len(members.at_address("thuis@example.org")) == 2
    assert Address.select().count() == 2 and Budget.select().count() == 0
