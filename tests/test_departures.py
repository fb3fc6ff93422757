"""Cancelling in the first month, leaving at once or with a negative balance, the 1 December
deadline, monthly reminders, the administrators' settlement."""
import datetime as dt

import pytest

from db import departures, euro, ledger, members
from db.models import Account, Departure, EuroCharge, Listing, Member
from mailer import membership
from mailer import settings as settings_module
from mailer.scheduled import run_due

LONG_AGO = dt.date(2025, 1, 1)


@pytest.fixture
def settings(settings):
    return settings_module.replace(settings, limits={"newcomer_months": 0},
                                   membership={"offer_reminder_days": 0})


def balance(member):
    return members.account(member).balance_cents


def pay(settings, payer, payee, cents, now):
    ledger.transfer_now(members.account(payer), members.account(payee), cents, "work", limits=settings.limits,
                        now=now, entered_by="admin")


def status(member):
    return Member.get_by_id(member.id).status


def give_notice(group, address, word):
    """OPZEGGEN / CANCEL / RÉSILIER and the member's confirming reply to the tokened mail."""
    group.mail(address, word)
    ask = group.last(address)
    assert "[c-" in ask.subject
    group.mail(address, "Re: " + ask.subject, "ja\n\n> quoted\n", rcpt=[ask.message["Reply-To"]])


def test_cancel_within_a_month_of_joining_ends_the_membership_at_once(group, clock):
    jo = group.member("Jo Smith", "jo@example.org", language="en", joined=dt.date(2026, 11, 1))
    group.mail("jo@example.org", "OFFER: Soup")
    give_notice(group, "jo@example.org", "CANCEL")
    assert status(jo) == "left"
    assert Departure.get().kind == "cancel" and Departure.get().state == "left"
    assert Listing.get().status == "withdrawn"
    told = group.last("jo@example.org")
    assert told.subject == "Your membership of LETS Demo has ended"
    assert "within a month of joining" in told.text


def test_a_positive_member_who_gives_notice_before_1_december_leaves_at_once(group, clock, settings, sam):
    clock.now = dt.datetime(2026, 11, 30, 12)
    Member.update(joined=LONG_AGO).execute()
    pay(settings, members.by_address("sam@example.org"), group.member("An", "an@example.org", joined=LONG_AGO),
        100, clock.now)
    give_notice(group, "an@example.org", "OPZEGGEN")
    an = members.by_address("an@example.org")
    assert status(an) == "left" and Departure.get().kind == "notice"
    assert group.last("an@example.org").subject == "Je lidmaatschap van LETS Demo is beëindigd"
    assert "Je eindsaldo is 1,00 zonnen" in group.last("an@example.org").text


def test_a_notice_after_1_december_takes_effect_at_the_end_of_next_year(group, clock, settings):
    claire = group.member("Claire", "claire@example.org", language="fr", joined=LONG_AGO)
    clock.now = dt.datetime(2026, 12, 2, 9)
    give_notice(group, "claire@example.org", "RÉSILIER")
    departure = Departure.get()
    assert (departure.state, departure.effective) == ("waiting", dt.date(2027, 12, 31))
    assert status(claire) == "active"
    told = group.last("claire@example.org")
    assert told.subject == "Votre résiliation à LETS Demo prend effet le 31 décembre 2027"
    group.mail("claire@example.org", "RÉSILIER")
    assert group.last("claire@example.org").subject == "Votre résiliation à LETS Demo est déjà en cours"
    assert Departure.select().count() == 1
    run_due(settings, dt.datetime(2027, 12, 30, 9))
    assert status(claire) == "active"
    # The membership ran through 2027, so that year's euro contribution is owed and paid.
    owed = euro.outstanding_cents(claire, 2027)
    assert owed == settings.euro.amount_a
    euro.record_payment(claire, owed, on=dt.date(2027, 12, 30), entered_by="treasurer")
    run_due(settings, dt.datetime(2027, 12, 31, 9))
    assert status(claire) == "left"
    assert group.last("claire@example.org").subject == "Votre adhésion à LETS Demo a pris fin"


def test_a_negative_member_is_leaving_may_trade_is_reminded_monthly_and_leaves_at_zero(group, clock, settings):
    an = group.member("An de Vries", "an@example.org", joined=LONG_AGO)
    piet = group.member("Piet", "piet@example.org", joined=LONG_AGO)
    pay(settings, an, piet, 5000, clock.now)
    give_notice(group, "an@example.org", "OPZEGGEN")
    departure = Departure.get()
    assert status(an) == "leaving" and departure.deadline == dt.date(2027, 3, 23)
    told = group.last("an@example.org")
    assert told.subject == "Je opzegging bij LETS Demo: wat er nog moet vóór 23 maart 2027"
    assert "-50,00" in told.text
    # Leaving members may still be paid, but receive no new proposals from others.
    group.mail("piet@example.org", "FACTUUR 5 aan an@example.org voor soep")
    assert group.last("piet@example.org").subject == "An de Vries kan nu geen voorstellen ontvangen"
    group.mail("an@example.org", "FACTUUR 20 aan piet@example.org voor tuinwerk")
    assert "[t-" in group.last("piet@example.org").subject

    sent = len(group.outbox("an@example.org"))
    run_due(settings, dt.datetime(2026, 11, 30, 9))            # same month as the notice: no reminder
    assert len(group.outbox("an@example.org")) == sent
    run_due(settings, dt.datetime(2026, 12, 1, 9))
    run_due(settings, dt.datetime(2026, 12, 1, 9, 1))          # run twice
    run_due(settings, dt.datetime(2026, 12, 20, 9))            # later the same month
    reminders = [s for s in group.outbox("an@example.org") if s.subject.startswith("Herinnering")]
    assert len(reminders) == 1 and "-50,00" in reminders[0].text
    run_due(settings, dt.datetime(2027, 2, 14, 9))             # late: January was missed, one for February
    assert len([s for s in group.outbox("an@example.org") if s.subject.startswith("Herinnering")]) == 2

    pay(settings, piet, an, 5000, dt.datetime(2027, 2, 20))
    run_due(settings, dt.datetime(2027, 2, 21, 9))
    assert status(an) == "leaving"          # the balance is zero, the 2027 euro contribution is not paid
    euro.record_payment(an, euro.outstanding_cents(an, 2027), on=dt.date(2027, 2, 21), entered_by="treasurer")
    run_due(settings, dt.datetime(2027, 2, 22, 9))
    assert status(an) == "left" and Departure.get().state == "left"
    assert group.last("an@example.org").subject == "Je lidmaatschap van LETS Demo is beëindigd"


def test_after_the_deadline_the_admins_are_told_once_and_settle_in_euros(group, clock, settings):
    an = group.member("An de Vries", "an@example.org", joined=LONG_AGO)
    piet = group.member("Piet", "piet@example.org", joined=LONG_AGO)
    pay(settings, an, piet, 12345, clock.now)
    membership.cancel(settings, an, now=clock.now, entered_by="admin")
    run_due(settings, dt.datetime(2027, 3, 24, 9))
    run_due(settings, dt.datetime(2027, 3, 25, 9))
    told = group.outbox("beheer@lets.example")
    assert len(told) == 1 and told[0].subject == f"Af te wikkelen: An de Vries (lid {an.number}), saldo -123,45"
    assert Departure.get().state == "due"
    association = Account.get(Account.code == "association").balance_cents
    euro_cents = membership.settle(settings, an, keep=False, now=dt.datetime(2027, 3, 26), entered_by="admin")
    assert euro_cents == 1234          # 123.45 units at 10 euro cents a unit, rounded down
    assert balance(an) == 0 and status(an) == "left" and Departure.get().state == "settled"
    assert Account.get(Account.code == "association").balance_cents == association - 12345
    settled = group.last("an@example.org")
    assert "€ 12,34" in settled.text and "-123,45" in settled.text
    assert ledger.check() == [] and ledger.verify()[1] is None


def test_settle_keep_makes_the_member_active_again(group, clock, settings):
    an = group.member("An de Vries", "an@example.org", joined=LONG_AGO)
    pay(settings, an, group.member("Piet", "piet@example.org", joined=LONG_AGO), 100, clock.now)
    membership.cancel(settings, an, now=clock.now, entered_by="admin")
    assert membership.settle(settings, an, keep=True, now=clock.now, entered_by="admin") == 0
    assert status(an) == "active" and Departure.get().state == "kept"
    assert group.last("an@example.org").subject == "Je blijft lid van LETS Demo"
    with pytest.raises(departures.DepartureError):
        membership.settle(settings, an, keep=True, now=clock.now, entered_by="admin")


def test_leaving_waits_for_the_years_euro_contribution_and_ends_once_it_is_paid(group, clock, settings):
    bo = group.member("Bo Peeters", "bo@example.org", language="en", joined=LONG_AGO)
    clock.now = dt.datetime(2027, 3, 1, 9)
    run_due(settings, clock.now)                 # the year's notice: 18.00 owed
    give_notice(group, "bo@example.org", "CANCEL")
    assert status(bo) == "leaving"
    told = group.last("bo@example.org")
    assert told.subject == "Your notice to LETS Demo: what is left to do by 1 July 2027"
    assert "You still owe €18.00 of the 2027 contribution" in told.text
    assert "below zero" not in told.text

    euro.record_payment(bo, 1800, on=dt.date(2027, 3, 5), entered_by="treasurer")
    run_due(settings, dt.datetime(2027, 4, 1, 9))
    assert status(bo) == "left"


def test_approval_in_a_euro_year_charges_the_fee_and_cancelling_refunds_only_the_contribution(group, clock, settings):
    clock.now = dt.datetime(2027, 9, 1, 10)
    group.mail("jo@example.net", "JOIN Jo Smith")
    jo = members.by_address("jo@example.net")
    membership.decide(settings, jo, "approve", now=clock.now, entered_by="admin")
    kinds = {c.kind: c.amount_cents for c in EuroCharge.select().where(EuroCharge.member == jo)}
    # Joined after 1 July: half the year's contribution, and the registration fee.
    assert kinds == {"registration": settings.euro.registration, "contribution": settings.euro.amount_a // 2}

    clock.now = dt.datetime(2027, 9, 10, 10)
    give_notice(group, "jo@example.net", "CANCEL")
    assert status(jo) == "left"
    assert euro.outstanding_cents(jo, 2027) == settings.euro.registration


def test_approval_before_the_groups_first_euro_year_charges_nothing(group, clock, settings):
    group.mail("jo@example.net", "JOIN Jo Smith")
    jo = members.by_address("jo@example.net")
    membership.decide(settings, jo, "approve", now=clock.now, entered_by="admin")
    assert clock.now.year < settings.euro.first_year
    assert EuroCharge.select().count() == 0
