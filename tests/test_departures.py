"""Cancelling in the first month, leaving at once or with a negative balance, the 1 December
deadline, monthly reminders, the administrators' settlement."""
import datetime as dt

import pytest
from click.testing import CliRunner

from db import coordinators, database, departures, euro, ledger, members, report
from db.models import (Account, Contribution, Departure, EuroCharge, EuroPayment, Listing, Member,
                       OutboundMessage, Transfer)
from mailer.cli import members as cli_members
from mailer.message import compose
from mailer.runs import membership
from mailer import settings as settings_module
from mailer.cli import main
from mailer.runs.scheduled import run_due
from tests.conftest import SETTINGS_INI

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


def plain(text: str) -> str:
    # babel writes no-break spaces between the euro sign and the amount.
    return text.replace("\xa0", " ").replace("\u202f", " ")


@pytest.fixture
def lets(settings, clock, monkeypatch):
    """The administrators' command line, on the test's clock."""
    for module in (compose, cli_members):
        monkeypatch.setattr(module, "now_utc", lambda: clock.now)
    env = {"LETS_DATABASE_URL": settings.database.url, "LETS_SECURITY_SECRET": settings.security.secret,
           "LETS_OUTBOUND_MAILDIR": settings.outbound.maildir, "LETS_LIMITS_NEWCOMER_MONTHS": "0"}

    def invoke(*args, coordinators=""):
        result = CliRunner().invoke(main, ["--settings", str(SETTINGS_INI), *args],
                                    env={**env, "LETS_TRADES_COORDINATORS": coordinators})
        database.connect(reuse_if_open=True)
        return result
    return invoke


def mails(group, to: str, since: int = 0) -> list[str]:
    """The subjects of the mail queued for `to` (digests aside) after outbox row `since`."""
    return [str(sent.message["Subject"]) for sent, row in zip(group.outbox(), OutboundMessage.select()
                                                             .order_by(OutboundMessage.id))
            if sent.recipient == to and row.id > since and row.kind != "digest"]


def last_row() -> int:
    return OutboundMessage.select().order_by(OutboundMessage.id.desc()).first().id


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

    # Notice given before 1 December: nothing is owed for 2027 (article 5.5.2), so the
    # balance back at zero is all it takes.
    assert EuroCharge.select().where(EuroCharge.member == an).count() == 0
    pay(settings, piet, an, 5000, dt.datetime(2027, 2, 20))
    run_due(settings, dt.datetime(2027, 2, 21, 9))
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
    departure = membership.settle(settings, an, keep=False, now=dt.datetime(2027, 3, 26), entered_by="admin")
    # 123.45 units at 10 euro cents a unit, rounded down; the member leaves once it is paid.
    assert EuroCharge.get(EuroCharge.kind == "settlement").amount_cents == 1234
    assert balance(an) == 0 and status(an) == "leaving" and departure.state == "settling"
    assert Account.get(Account.code == "association").balance_cents == association - 12345
    settling = group.last("an@example.org")
    assert "€ 12,34" in plain(settling.text) and "-123,45" in settling.text
    euro.record_payment(an, 1234, on=dt.date(2027, 3, 30), entered_by="treasurer")
    run_due(settings, dt.datetime(2027, 3, 31, 9))
    assert status(an) == "left" and Departure.get().state == "settled"
    assert group.last("an@example.org").subject == "Je lidmaatschap van LETS Demo is afgewikkeld"
    assert ledger.check() == [] and ledger.verify()[1] is None


def test_settle_keep_makes_the_member_active_again(group, clock, settings):
    an = group.member("An de Vries", "an@example.org", joined=LONG_AGO)
    pay(settings, an, group.member("Piet", "piet@example.org", joined=LONG_AGO), 100, clock.now)
    membership.cancel(settings, an, now=clock.now, entered_by="admin")
    assert membership.settle(settings, an, keep=True, now=clock.now, entered_by="admin").state == "kept"
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


# -- article 5.4: cancelling within a month of signing up ------------------------------

def test_cancelling_within_a_month_of_signing_up_refunds_both_contributions_and_ends_every_charge(
        group, clock, settings, lets):
    clock.now = dt.datetime(2027, 3, 1, 10)
    group.mail("jo@example.net", "JOIN Jo Smith")
    clock.now = dt.datetime(2027, 3, 10, 10)
    assert lets("member", "approve", "jo@example.net").exit_code == 0
    jo = members.by_address("jo@example.net")
    paid = lets("euro", "paid", "jo@example.net", "28,00", "--date", "2027-03-12")
    assert paid.exit_code == 0 and "still owed € 0,00" in paid.output
    clock.now = dt.datetime(2027, 3, 31, 9)
    run = lets("contributions", "run", "--period", "2027Q1", "--at", "2027-03-31T09:00")
    assert run.exit_code == 0 and "charged 1" in run.output
    assert balance(jo) == -(600 * 22 // 90)          # from 10 March: 22 of 90 days
    association = Account.get(Account.code == "association").balance_cents

    # The last day of the first month after the application (1 March): a cancellation.
    clock.now = dt.datetime(2027, 3, 31, 12)
    give_notice(group, "jo@example.net", "CANCEL")
    departure = Departure.get()
    assert (departure.kind, departure.state, status(jo)) == ("cancel", "left", "left")
    assert balance(jo) == 0 and Account.get(Account.code == "association").balance_cents == association - 146
    refund = Transfer.get(Transfer.reverses.is_null(False))
    assert (refund.payee.member_id, refund.amount_cents) == (jo.id, 146)
    assert Contribution.get(Contribution.member == jo).state == "refunded"
    # The euro contribution is paid back, the registration fee is not.
    assert euro.outstanding_cents(jo, 2027) == 0
    assert EuroPayment.get(EuroPayment.kind == "repayment").amount_cents == -1800
    told = group.last("jo@example.net")
    assert told.subject == "Your membership of LETS Demo has ended"
    assert "within a month of joining" in told.text and "are refunded" in told.text
    assert "Your final balance is 0.00 zonnen" in told.text

    # Nothing more is charged: not the next quarter, not next year's euro contribution.
    since = last_row()
    clock.now = dt.datetime(2027, 6, 30, 9)
    assert "charged 0" in lets("contributions", "run", "--period", "2027Q2", "--at", "2027-06-30T09:00").output
    clock.now = dt.datetime(2028, 1, 2, 9)
    assert lets("euro", "run", "--date", "2028-01-02").exit_code == 0
    assert balance(jo) == 0 and EuroCharge.select().where(EuroCharge.year == 2028).count() == 0
    assert mails(group, "jo@example.net", since) == []
    assert lets("ledger", "check").exit_code == 0
    assert {row.label: row.value for row in report.unit_contributions(2027).rows} == {
        "members charged": 1, "received": 146, "refunded": 146}


def test_the_first_month_counts_from_the_application_not_from_the_approval(group, clock, settings, lets):
    clock.now = dt.datetime(2027, 3, 1, 10)
    group.mail("jo@example.net", "JOIN Jo Smith")
    group.mail("bo@example.net", "JOIN Bo Peeters")
    clock.now = dt.datetime(2027, 3, 20, 10)
    assert lets("member", "approve", "jo@example.net").exit_code == 0
    assert lets("member", "approve", "bo@example.net").exit_code == 0
    jo, bo = members.by_address("jo@example.net"), members.by_address("bo@example.net")
    within = lets("member", "cancel", "bo@example.net", "--at", "2027-03-31T23:00")
    assert within.exit_code == 0 and "cancel, left" in within.output
    # Sixteen days after the approval, but more than a month after the application: a notice.
    clock.now = dt.datetime(2027, 4, 5, 10)
    after = lets("member", "cancel", "jo@example.net", "--at", "2027-04-05T10:00")
    assert after.exit_code == 0 and "notice, leaving" in after.output, after.output
    assert euro.outstanding_cents(jo, 2027) == 1000 + 1800          # nothing refunded
    assert euro.outstanding_cents(bo, 2027) == 1000                 # the fee stays owed
    assert status(bo) == "left" and status(jo) == "leaving"


# -- article 5.5.2: a notice given in time, a settlement in euros -------------------------

def test_a_notice_given_before_1_december_carries_nothing_into_the_next_year(group, clock, settings, lets):
    an = group.member("An de Vries", "an@example.org", joined=LONG_AGO)
    piet = group.member("Piet Jansen", "piet@example.org", joined=LONG_AGO)
    claire = group.member("Claire Dubois", "claire@example.org", language="fr", joined=LONG_AGO)
    Member.update(digest="off").execute()
    pay(settings, an, piet, 5000, dt.datetime(2026, 11, 20, 10))
    pay(settings, claire, piet, 1000, dt.datetime(2026, 11, 20, 10))
    clock.now = dt.datetime(2026, 11, 28, 10)
    given = lets("member", "cancel", "1", "--at", "2026-11-28T10:00")
    assert given.exit_code == 0 and "notice, leaving, effective 2026-11-28" in given.output
    assert "balance to zero by 2027-03-28" in given.output
    # Claire's notice comes after 1 December: her membership runs through 2027.
    clock.now = dt.datetime(2026, 12, 2, 10)
    assert "effective 2027-12-31" in lets("member", "cancel", "3", "--at", "2026-12-02T10:00").output

    for day in (dt.date(2026, 12, 24), dt.date(2026, 12, 31), dt.date(2027, 1, 2), dt.date(2027, 2, 1)):
        run_due(settings, dt.datetime.combine(day, dt.time(9)))
    # 2026 is still An's year: its last quarter is charged. 2027 is not: no euro notice.
    assert balance(an) == -5000 - 600
    assert EuroCharge.select().where(EuroCharge.member == an).count() == 0
    assert [s for s in mails(group, "an@example.org") if "Contributie 2027" in s] == []
    assert euro.outstanding_cents(claire, 2027) == settings.euro.amount_a
    assert euro.outstanding_cents(piet, 2027) == settings.euro.amount_a
    reminder = group.last("an@example.org")
    assert reminder.subject == "Herinnering: rond je opzegging af vóór 28 maart 2027"
    assert "contributie" not in reminder.text

    pay(settings, piet, an, 5600, dt.datetime(2027, 2, 10, 10))
    run_due(settings, dt.datetime(2027, 2, 11, 9))
    assert status(an) == "left" and Departure.get(Departure.member == an).state == "left"
    assert group.last("an@example.org").subject == "Je lidmaatschap van LETS Demo is beëindigd"
    run_due(settings, dt.datetime(2027, 3, 31, 9))
    assert balance(an) == 0 and balance(claire) == -1000 - 600 - 600
    assert lets("ledger", "check").exit_code == 0


def test_settle_in_euros_ends_the_membership_only_once_the_euros_are_paid(group, clock, settings, lets):
    an = group.member("An de Vries", "an@example.org", joined=LONG_AGO)
    piet = group.member("Piet Jansen", "piet@example.org", joined=LONG_AGO)
    Member.update(digest="off").execute()
    clock.now = dt.datetime(2027, 1, 2, 9)
    assert lets("euro", "run", "--date", "2027-01-02").exit_code == 0
    pay(settings, an, piet, 8200, dt.datetime(2027, 2, 1, 10))
    clock.now = dt.datetime(2027, 3, 1, 10)
    group.mail("an@example.org", "AANBOD: Fietsherstel", "Geldig tot: 2027-12-31\n")
    give_notice(group, "an@example.org", "OPZEGGEN")
    assert status(an) == "leaving" and Departure.get().deadline == dt.date(2027, 7, 1)
    for day in (dt.date(2027, 3, 31), dt.date(2027, 4, 2), dt.date(2027, 7, 2)):
        clock.now = dt.datetime.combine(day, dt.time(9))
        run_due(settings, clock.now)
    assert Departure.get().state == "due"
    due = group.last("beheer@lets.example")
    assert due.subject == "Af te wikkelen: An de Vries (lid 1), saldo -88,00"
    assert "Nog niet betaalde contributie 2027: € 20,50" in plain(due.text)

    clock.now = dt.datetime(2027, 7, 5, 10)
    settled = lets("member", "settle", "1", "--euro", "--at", "2027-07-05T10:00")
    assert settled.exit_code == 0, settled.output
    assert settled.output.strip() == "1 An de Vries: settling; owes EUR 31.80, then leaves"
    assert balance(an) == 0 and status(an) == "leaving" and Departure.get().state == "settling"
    mail = group.last("an@example.org")
    assert plain(mail.subject) == "Je vertrek uit LETS Demo: nog € 31,80 te betalen"
    text = plain(mail.text)
    assert "Je saldo van -88,00 zonnen is op nul gezet" in text
    assert "negatief saldo bij vertrek, in euro afgerekend: € 8,80" in text
    assert "contributie 2027: € 18,00" in text and "nog te betalen: € 31,80" in text
    assert "terugbetaald" not in text and euro.reference(an, 2027, settings.euro) in text
    listed = lets("member", "departures")
    assert listed.exit_code == 0 and "settling  until the euros are paid" in listed.output
    assert "EUR owed 31.80" in listed.output
    assert "already settling" in lets("member", "settle", "1", "--euro").output
    group.mail("an@example.org", "OPZEGGEN")
    assert "Je lidmaatschap eindigt zodra alles betaald is: nog € 31,80." in plain(group.last("an@example.org").text)

    for hour in (9, 15):      # once a month, however often the scheduler looks
        clock.now = dt.datetime(2027, 8, 1, hour)
        run_due(settings, clock.now)
    reminders = [s for s in mails(group, "an@example.org") if s.startswith("Herinnering: je vertrek")]
    assert [plain(s) for s in reminders] == ["Herinnering: je vertrek uit LETS Demo: nog € 31,80 te betalen"]

    clock.now = dt.datetime(2027, 8, 10, 10)
    part = lets("euro", "paid", "1", "8,80", "--date", "2027-08-10")
    assert part.exit_code == 0 and "still owed € 23,00" in part.output and "ended" not in part.output
    receipt = plain(group.last("an@example.org").text)
    assert "negatief saldo bij vertrek, in euro afgerekend: € 8,80" in receipt and "terugbetaald" not in receipt
    assert status(an) == "leaving" and Departure.get().state == "settling"
    clock.now = dt.datetime(2027, 8, 20, 10)
    rest = lets("euro", "paid", "1", "23,00", "--date", "2027-08-20")
    assert rest.exit_code == 0 and "still owed € 0,00; the membership has ended" in rest.output
    assert status(an) == "left" and Departure.get().state == "settled"
    assert Listing.get().status == "withdrawn"
    assert mails(group, "an@example.org")[-2:] == ["Betaling ontvangen: €\xa023,00 voor contributie 2027",
                                                  "Je lidmaatschap van LETS Demo is afgewikkeld"]
    assert "€ 8,80" in plain(group.last("an@example.org").text)
    run_due(settings, dt.datetime(2027, 9, 30, 9))
    assert balance(an) == 0
    euro_year = {row.label: row.value for row in report.euro_summary(2027).rows}
    assert euro_year["balances settled on leaving"] == 880 and euro.outstanding_cents(an, 2027) == 0
    assert lets("ledger", "check").exit_code == 0 and lets("ledger", "verify").exit_code == 0


def test_a_settling_member_is_reminded_not_fined_in_the_unit_and_charged_nothing_new(group, clock, settings, lets):
    an = group.member("An de Vries", "an@example.org", joined=LONG_AGO)
    piet = group.member("Piet Jansen", "piet@example.org", joined=LONG_AGO)
    Member.update(digest="off").execute()
    clock.now = dt.datetime(2027, 1, 2, 9)
    run_due(settings, clock.now)
    pay(settings, an, piet, 3000, dt.datetime(2027, 5, 1, 10))
    clock.now = dt.datetime(2027, 5, 2, 10)
    assert lets("member", "cancel", "1", "--at", "2027-05-02T10:00").exit_code == 0
    clock.now = dt.datetime(2027, 5, 3, 10)
    assert "owes EUR 21.00" in lets("member", "settle", "1", "--euro", "--at", "2027-05-03T10:00").output
    for day in (dt.date(2027, 6, 30), dt.date(2027, 8, 3), dt.date(2027, 11, 3), dt.date(2028, 1, 1),
                dt.date(2028, 1, 2)):
        clock.now = dt.datetime.combine(day, dt.time(9))
        run_due(settings, clock.now)
    # No contribution in the unit after the settlement, no fine, no euro contribution for
    # 2028; the debt in euros stays, and is reminded with its surcharges.
    assert balance(an) == 0 and Departure.get().state == "settling" and status(an) == "leaving"
    assert EuroCharge.select().where(EuroCharge.member == an, EuroCharge.year == 2028).count() == 0
    assert euro.outstanding_cents(an, 2027) == 300 + 1800 + 2 * settings.euro.surcharge
    subjects = [plain(s) for s in mails(group, "an@example.org")]
    assert "Herinnering 2: contributie 2027, nog € 26,00 (LETS-2027-0001-74)" in subjects
    assert "Herinnering: je vertrek uit LETS Demo: nog € 26,00 te betalen" in subjects
    assert not any(s.startswith("Boete") for s in subjects)
    # Piet pays as always: the quarter whose notice went out, and the year-end fine.
    assert balance(piet) == 3000 - 600 - 2000
    assert lets("ledger", "check").exit_code == 0


def test_a_member_on_paper_leaves_through_the_coordinator_and_one_without_a_coordinator_silently(
        group, clock, settings, lets):
    kees = group.member("Kees Zonder", None, joined=LONG_AGO)
    mia = group.member("Mia Papier", None, language="fr", joined=LONG_AGO)
    group.member("Cor Dinator", "cor@example.org", joined=LONG_AGO)
    coordinators.name(kees, "cor@example.org")
    cor = "cor@example.org"
    for member in (kees, mia):
        ledger.transfer_now(members.account(member), Account.get(Account.code == "solidarity"), 2000, "soep",
                            limits=settings.limits, now=dt.datetime(2027, 5, 1), entered_by="admin")
    clock.now = dt.datetime(2027, 5, 2, 10)
    for number in (kees.number, mia.number):
        assert lets("member", "cancel", str(number), "--at", "2027-05-02T10:00", coordinators=cor).exit_code == 0
    clock.now = dt.datetime(2027, 5, 3, 10)
    for number in (kees.number, mia.number):
        result = lets("member", "settle", str(number), "--euro", "--at", "2027-05-03T10:00", coordinators=cor)
        assert result.exit_code == 0 and "settling; owes EUR 2.00" in result.output
    clock.now = dt.datetime(2027, 5, 4, 10)
    for number in (kees.number, mia.number):
        assert "the membership has ended" in lets("euro", "paid", str(number), "2,00", coordinators=cor).output
    assert status(kees) == status(mia) == "left"
    for_kees = [s for s in mails(group, cor) if "Kees Zonder" in s]
    assert [plain(s) for s in for_kees] == [
        f"Voor Kees Zonder (lid {kees.number}): Je opzegging bij LETS Demo: wat er nog moet vóór 2 september 2027",
        f"Voor Kees Zonder (lid {kees.number}): Je vertrek uit LETS Demo: nog € 2,00 te betalen",
        f"Voor Kees Zonder (lid {kees.number}): Betaling ontvangen: € 2,00 voor contributie 2027",
        f"Voor Kees Zonder (lid {kees.number}): Je lidmaatschap van LETS Demo is afgewikkeld"]
    assert not [s for s in mails(group, cor) if "Mia" in s]
    assert lets("ledger", "check").exit_code == 0


# -- article 5.5.2: others pay a leaving member; unsettled, the membership goes on --------

def confirm_pay(group, address):
    ask = group.last(address)
    assert "[t-" in ask.subject, ask.subject
    group.mail(address, "Re: " + ask.subject, "ja\n", rcpt=[ask.message["Reply-To"]])


def test_others_pay_a_leaving_member_and_unsettled_the_membership_goes_on_as_a_regular_one(
        group, clock, settings, lets):
    an = group.member("An de Vries", "an@example.org", joined=LONG_AGO)
    piet = group.member("Piet Jansen", "piet@example.org", joined=LONG_AGO)
    sam = group.member("Sam Taylor", "sam@example.org", language="en", joined=LONG_AGO)
    Member.update(digest="off").execute()
    pay(settings, an, piet, 3000, dt.datetime(2027, 4, 1, 10))
    pay(settings, sam, piet, 4000, dt.datetime(2027, 4, 1, 10))
    clock.now = dt.datetime(2027, 4, 10, 10)
    assert "balance to zero by 2027-08-10" in lets("member", "cancel", "1", "--at", "2027-04-10T10:00").output
    assert "balance to zero by 2027-08-10" in lets("member", "cancel", "3", "--at", "2027-04-10T10:00").output

    # Piet pays An by mail: that is how a leaving member gets back to zero.
    clock.now = dt.datetime(2027, 5, 3, 10)
    group.mail("piet@example.org", "BETAAL 30 aan an@example.org voor kinderoppas")
    confirm_pay(group, "piet@example.org")
    assert balance(an) == 0
    assert group.last("an@example.org").subject.startswith("Bewijs #")
    # An invoice to a leaving member is still refused: they take on no new debts from others.
    group.mail("piet@example.org", "FACTUUR 5 aan sam@example.org voor soep")
    assert group.last("piet@example.org").subject == "Sam Taylor kan nu geen voorstellen ontvangen"
    clock.now = dt.datetime(2027, 5, 4, 9)
    run_due(settings, clock.now)
    assert status(an) == "left" and group.last("an@example.org").subject == \
        "Je lidmaatschap van LETS Demo is beëindigd"

    # Sam does not reach zero by 10 August: the administrators are told, with the day the
    # membership goes on, and nobody settles.
    since = last_row()
    for day in (dt.date(2027, 8, 10), dt.date(2027, 8, 11), dt.date(2027, 8, 20)):
        clock.now = dt.datetime.combine(day, dt.time(9))
        run_due(settings, clock.now)
    assert status(sam) == "leaving" and Departure.get(Departure.member == sam).state == "due"
    due = group.last("beheer@lets.example")
    assert due.subject == f"Af te wikkelen: Sam Taylor (lid {sam.number}), saldo -40,00"
    assert "vanaf 25 augustus 2027 weer gewoon lid" in " ".join(due.text.split())
    assert "due       deadline 2027-08-10 passed; a regular member again from 2027-08-25" in \
        lets("member", "departures").output
    for hour in (9, 15):
        clock.now = dt.datetime(2027, 8, 25, hour)
        run_due(settings, clock.now)
    assert status(sam) == "active" and Departure.get(Departure.member == sam).state == "continued"
    told = [s for s in mails(group, "sam@example.org", since) if "continues" in s]
    assert told == ["Your membership of LETS Demo continues"]
    text = " ".join(group.last("sam@example.org").text.split())
    assert "-40.00" in text and "article 5.5.2" in text and "send CANCEL again" in text
    assert "Sam Taylor" not in lets("member", "departures").output
    assert "is active, not leaving" in lets("member", "settle", "3", "--euro").output
    # A regular member again: trades both ways, owes the contributions, may give notice anew.
    group.mail("piet@example.org", "FACTUUR 5 aan sam@example.org voor soep")
    assert "[t-" in group.last("sam@example.org").subject
    clock.now = dt.datetime(2027, 9, 30, 9)
    assert "charged 2" in lets("contributions", "run", "--period", "2027Q3", "--at", "2027-09-30T09:00").output
    again = lets("member", "cancel", "3", "--at", "2027-09-30T09:00")
    assert again.exit_code == 0 and "balance to zero by 2028-01-30" in again.output
    assert lets("ledger", "check").exit_code == 0
