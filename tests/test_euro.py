"""The euro contribution and registration fee: amounts, notices, payments, reminders with
surcharges, the core group, the year-end fine, postponements, waivers, refunds, and a
run repeated or cut short taking every step once."""
import datetime as dt

import pytest
from click.testing import CliRunner

from db import coordinators, database, euro, ledger, members
from db.models import Account, EuroCharge, EuroStep, Member, OutboundMessage, Transfer
from mailer.runs import euro as euro_mail
from mailer import settings as settings_module
from mailer.cli import main
from tests.conftest import SETTINGS_INI

OLD = dt.date(2025, 5, 1)
ADMIN = "beheer@lets.example"


@pytest.fixture
def settings(settings):
    return settings_module.replace(settings, limits={"newcomer_months": 0}, euro={
        "first_year": 2027, "amount_a": 1800, "amount_b": 2700, "amount_c": 3600, "household_factor": "2/3",
        "late_join_after": "07-01", "late_join_factor": "1/2", "registration": 1000,
        "registration_household_percent": 50, "iban": "NL00 BANK 0123 4567 89", "holder": "LETS Demo",
        "notice_day": 2, "surcharge": 250, "reminder_months": ("3", "6"), "core_group_months": 9, "fine": 20})


@pytest.fixture
def trio(group):
    return [group.member("An de Vries", "an@example.org", language="nl", joined=OLD),
            group.member("Sam Taylor", "sam@example.org", language="en", joined=OLD),
            group.member("Claire Dubois", "claire@example.org", language="fr", joined=OLD)]


def day(settings, on: dt.date, hour: int = 8):
    """The euro run as `lets serve` does it on the morning of `on`."""
    return euro_mail.run(settings, dt.datetime.combine(on, dt.time(hour)), on)


def plain(text: str) -> str:
    # babel writes no-break spaces between the euro sign and the amount.
    return text.replace("\xa0", " ").replace("\u202f", " ")


def lets(settings, *args, env=None):
    env = {"LETS_DATABASE_URL": settings.database.url, "LETS_SECURITY_SECRET": settings.security.secret,
           "LETS_OUTBOUND_MAILDIR": settings.outbound.maildir, "LETS_LIMITS_NEWCOMER_MONTHS": "0", **(env or {})}
    result = CliRunner().invoke(main, ["--settings", str(SETTINGS_INI), *args], env=env)
    database.connect(reuse_if_open=True)
    return result


def balance(member):
    return members.account(member).balance_cents


def assert_books_sound():
    assert ledger.check() == []
    assert ledger.verify()[1] is None


# -- amounts -----------------------------------------------------------------------

def test_the_amount_follows_income_category_household_two_thirds_and_half_after_1_july(group, settings):
    a = group.member("A", "a@example.org", joined=OLD)
    b = group.member("B", "b@example.org", joined=OLD)
    c = group.member("C", "c@example.org", joined=OLD)
    household = group.member("H", "h@example.org", type="household", joined=OLD)
    for member, category in ((b, "B"), (c, "C"), (household, "C")):
        euro.set_category(member, category)
    rules = settings.euro
    assert [euro.contribution_cents(m, 2027, rules) for m in (a, b, c, household)] == [1800, 2700, 3600, 2400]
    july_first = group.member("J1", "j1@example.org", joined=dt.date(2027, 7, 1))
    july_second = group.member("J2", "j2@example.org", joined=dt.date(2027, 7, 2), type="household")
    assert euro.contribution_cents(july_first, 2027, rules) == 1800
    assert euro.contribution_cents(july_second, 2027, rules) == 600          # 1800 × 2/3 × 1/2
    assert euro.contribution_cents(july_second, 2028, rules) == 1200         # a full year after that
    assert euro.registration_cents(july_first, rules) == 1000
    assert euro.registration_cents(july_second, rules) == 500
    with pytest.raises(euro.EuroError):
        euro.set_category(a, "D")


def test_a_group_whose_household_table_is_not_one_fraction_sets_each_amount(group, settings):
    """LETS-Nijmegen's table: €7, €12, €22 a person, €5, €9, €18 for a household member."""
    rules = settings_module.replace(settings, euro={
        "amount_a": 700, "amount_b": 1200, "amount_c": 2200,
        "household_a": 500, "household_b": 900, "household_c": 1800}).euro
    people = [group.member(f"H{c}", f"h{c}@example.org", type="household", joined=OLD) for c in "ABC"]
    people += [group.member(f"R{c}", f"r{c}@example.org", joined=OLD) for c in "ABC"]
    for member, category in zip(people, "ABCABC"):
        euro.set_category(member, category)
    assert [euro.contribution_cents(m, 2027, rules) for m in people] == [500, 900, 1800, 700, 1200, 2200]
    late = group.member("L", "l@example.org", type="household", joined=dt.date(2027, 9, 1))
    assert euro.contribution_cents(late, 2027, rules) == 250                 # half, after 1 July


def test_honorary_and_guest_members_pay_nothing_and_get_no_notice(group, settings):
    group.member("Hon", "hon@example.org", type="honorary", joined=OLD)
    group.member("Guest", "guest@example.org", type="guest", joined=dt.date(2027, 3, 1))
    group.member("Gone", "gone@example.org", status="left", joined=OLD)
    day(settings, dt.date(2027, 1, 2))
    day(settings, dt.date(2027, 3, 1))
    assert EuroCharge.select().count() == 0 and group.outbox() == []


# -- the January notice --------------------------------------------------------------

def test_the_january_notice_tells_each_member_amount_bank_account_and_reference_in_their_language(group, trio, settings):
    assert lets(settings, "euro", "category", "2", "b").exit_code == 0
    assert day(settings, dt.date(2027, 1, 1)).notices == 0          # before [euro] notice_day
    outcome = day(settings, dt.date(2027, 1, 2))
    assert outcome.notices == 3
    nl, en, fr = (group.last(m.primary_address) for m in trio)
    assert plain(nl.subject) == "Contributie 2027: € 18,00 (LETS-2027-0001-%02d)" % euro._check(2027, 1)
    assert "contributie 2027: € 18,00" in plain(nl.text) and "NL00 BANK 0123 4567 89" in nl.text
    assert "t.n.v. LETS Demo" in nl.text and "inschrijfgeld" not in nl.text   # joined before 2027
    assert "binnen 3 maanden" in nl.text
    assert plain(en.subject).startswith("Contribution 2027: €27.00 (LETS-2027-0002-")
    assert "income category B" in en.text and "payment reference: LETS-2027-0002-" in en.text
    assert plain(fr.subject).startswith("Cotisation 2027 : 18,00 € (LETS-2027-0003-")
    assert "reste à payer : 18,00 €" in plain(fr.text)
    assert euro.outstanding_cents(trio[1], 2027) == 2700
    assert Transfer.select().count() == 0      # euros never enter the unit ledger


def test_a_new_member_owes_the_registration_fee_once_household_members_half(group, settings):
    newcomer = group.member("Nieuw", "nieuw@example.org", joined=dt.date(2027, 3, 10))
    household = group.member("Huis", "huis@example.org", type="household", joined=dt.date(2027, 9, 1))
    made = euro.register_new_member(newcomer, settings, on=dt.date(2027, 3, 10))
    assert sorted((c.kind, c.amount_cents) for c in made) == [("contribution", 1800), ("registration", 1000)]
    assert euro.register_new_member(newcomer, settings, on=dt.date(2027, 3, 12)) == []
    day(settings, dt.date(2027, 3, 11))
    text = plain(group.last("nieuw@example.org").text)
    assert "inschrijfgeld: € 10,00" in text and "nog te betalen: € 28,00" in text
    # Added without the membership flow: the next daily run charges and tells them.
    day(settings, dt.date(2027, 9, 1))
    assert euro.outstanding_cents(household, 2027) == 500 + 600
    assert "inschrijfgeld: € 5,00" in plain(group.last("huis@example.org").text)
    day(settings, dt.date(2027, 9, 2))
    assert len(group.outbox("huis@example.org")) == 1
    # The next January: the contribution only, the fee was once.
    day(settings, dt.date(2028, 1, 2))
    assert [c.kind for c in EuroCharge.select().where(EuroCharge.member == newcomer, EuroCharge.year == 2028)] \
        == ["contribution"]


def test_members_who_joined_before_the_first_year_owe_no_registration_fee(group, settings):
    settings = settings_module.replace(settings, euro={"first_year": 2028})
    joined = group.member("Set up", "setup@example.org", joined=dt.date(2027, 11, 20))
    assert day(settings, dt.date(2027, 11, 21)).notices == 0
    day(settings, dt.date(2028, 1, 2))
    assert [c.kind for c in EuroCharge.select().where(EuroCharge.member == joined)] == ["contribution"]


# -- payments ----------------------------------------------------------------------

def test_a_partial_payment_is_recorded_and_the_member_gets_a_receipt(group, trio, settings):
    day(settings, dt.date(2027, 1, 2))
    result = lets(settings, "euro", "paid", "1", "10,00", "--date", "2027-02-01")
    assert result.exit_code == 0 and "still owed € 8,00" in result.output
    receipt = group.last("an@example.org")
    assert plain(receipt.subject) == "Betaling ontvangen: € 10,00 voor contributie 2027"
    assert "1 februari 2027" in receipt.text and "nog te betalen: € 8,00" in plain(receipt.text)
    # By payment reference, as it stands on the bank statement.
    reference = euro.reference(trio[0], 2027, settings.euro)
    assert lets(settings, "euro", "paid", reference, "8", "--date", "2027-02-10").exit_code == 0
    assert euro.outstanding_cents(trio[0], 2027) == 0
    assert "nog te betalen: € 0,00" in plain(group.last("an@example.org").text)
    assert lets(settings, "euro", "paid", "LETS-2027-0001-00", "8").exit_code == 1     # wrong check digits
    assert lets(settings, "euro", "paid", "1", "0").exit_code == 1
    assert day(settings, dt.date(2027, 4, 2)).reminders == 2      # the other two, not An


# -- reminders, core group, fine -----------------------------------------------------

def test_unpaid_reminders_at_3_and_6_months_core_group_at_9_fine_at_year_end_debt_stays(group, trio, settings):
    an, sam, claire = trio
    day(settings, dt.date(2027, 1, 2))
    lets(settings, "euro", "paid", "2", "18", "--date", "2027-03-01")
    lets(settings, "euro", "paid", "3", "18", "--date", "2027-03-01")
    assert day(settings, dt.date(2027, 4, 1)).reminders == 0
    assert day(settings, dt.date(2027, 4, 2)).steps == ["1 2027 reminder-1"]
    first = group.last("an@example.org")
    assert plain(first.subject) == f"Herinnering 1: contributie 2027, nog € 20,50 ({euro.reference(an, 2027, settings.euro)})"
    assert "€ 2,50 toeslag" in plain(first.text) and "toeslag herinnering: € 2,50" in plain(first.text)
    assert day(settings, dt.date(2027, 7, 2)).steps == ["1 2027 reminder-2"]
    assert "nog te betalen: € 23,00" in plain(group.last("an@example.org").text)
    assert group.outbox(ADMIN) == []
    assert day(settings, dt.date(2027, 10, 2)).steps == ["1 2027 core"]
    core = group.last(ADMIN)
    assert "An de Vries (lid 1)" in core.subject and "9 maanden" in core.subject
    assert "lets euro postpone 1" in core.text and "nog te betalen: € 23,00" in plain(core.text)
    assert day(settings, dt.date(2027, 12, 31)).fines == 0
    association = Account.get(Account.code == "association")
    outcome = day(settings, dt.date(2028, 1, 1))
    assert outcome.steps == ["1 2027 fine"]
    assert balance(an) == -2000 and Account.get_by_id(association.id).balance_cents == 2000
    fined = group.last("an@example.org")
    assert fined.subject == "Boete: contributie 2027 onbetaald, 20,00 zonnen afgeschreven"
    assert "Je nieuwe saldo: -20,00 zonnen" in fined.text and "nog te betalen: € 23,00" in plain(fined.text)
    assert euro.outstanding_cents(an, 2027) == 2300        # the euro debt stays
    assert balance(sam) == 0 and balance(claire) == 0
    assert_books_sound()


def test_the_fine_ignores_the_lower_limit(group, settings):
    low = group.member("Low", "low@example.org", language="en", joined=OLD)
    solidarity = Account.get(Account.code == "solidarity")
    ledger.transfer_now(members.account(low), solidarity, 29900, "repairs", limits=settings.limits,
                        now=dt.datetime(2027, 1, 5), entered_by="admin")
    for on in (dt.date(2027, 1, 2), dt.date(2027, 4, 2), dt.date(2027, 7, 2), dt.date(2027, 10, 2),
               dt.date(2028, 1, 1)):
        day(settings, on)
    assert balance(low) == -29900 - 2000
    assert "Your new balance: -319.00" in group.last("low@example.org").text
    assert_books_sound()


def test_a_postponement_shifts_the_reminders_core_group_and_fine(group, trio, settings):
    an = trio[0]
    day(settings, dt.date(2027, 1, 2))
    for member in trio[1:]:
        euro.record_payment(member, 1800, on=dt.date(2027, 1, 10), entered_by="t")
    result = lets(settings, "euro", "postpone", "1", "--until", "2027-05-01", "--reason", "werkloos")
    assert result.exit_code == 0 and "2027 postponed until 2027-05-01" in result.output
    assert day(settings, dt.date(2027, 4, 2)).reminders == 0
    assert day(settings, dt.date(2027, 8, 1)).steps == ["1 2027 reminder-1"]
    assert day(settings, dt.date(2027, 11, 1)).steps == ["1 2027 reminder-2"]
    assert day(settings, dt.date(2028, 1, 1)).steps == ["1 2027 fine"]
    assert day(settings, dt.date(2028, 2, 1)).steps[-1:] == ["1 2027 core"]
    status = lets(settings, "euro", "status", "--year", "2027")
    assert "postponed until 2027-05-01" in status.output
    assert balance(an) == -2000


def test_a_late_run_takes_missed_reminders_together_in_one_mail(group, trio, settings):
    day(settings, dt.date(2027, 1, 2))
    outcome = day(settings, dt.date(2027, 7, 20))
    assert outcome.reminders == 3 and all(s.endswith("reminder-2") for s in outcome.steps)
    text = plain(group.last("sam@example.org").text)
    assert "surcharge of €5.00" in text and "still to pay: €23.00" in text
    assert len(group.outbox("sam@example.org")) == 2      # the notice and one reminder


def test_a_payment_of_more_than_is_owed_is_recorded_and_the_surplus_is_named(group, trio, settings):
    day(settings, dt.date(2027, 1, 2))
    # The settings write € 18 as 1800 (cents); here it is euros.
    result = lets(settings, "euro", "paid", "1", "1800", "--date", "2027-02-01")
    assert result.exit_code == 0, result.output
    assert result.output.strip() == ("An de Vries (member 1): paid € 1.800,00 for 2027; still owed € 0,00; "
                                     "€ 1.782,00 more than owed: AMOUNT is in euros, e.g. 18,00")


def test_waive_forgives_part_of_the_debt_with_a_reason(group, trio, settings):
    day(settings, dt.date(2027, 1, 2))
    day(settings, dt.date(2027, 4, 2))
    result = lets(settings, "euro", "waive", "2", "2,50", "--reason", "bank delay")
    assert result.exit_code == 0 and "still owed € 18,00" in result.output
    assert lets(settings, "euro", "waive", "2", "50", "--reason", "too much").exit_code == 1
    assert lets(settings, "euro", "waive", "2", "1").exit_code == 2       # --reason is required
    euro.record_payment(trio[1], 1800, on=dt.date(2027, 5, 1), entered_by="t")
    assert euro.outstanding_cents(trio[1], 2027) == 0
    assert day(settings, dt.date(2027, 7, 2)).steps == ["1 2027 reminder-2", "3 2027 reminder-2"]


# -- refund on cancelling ----------------------------------------------------------

def test_refund_gives_back_the_contribution_but_not_the_registration_fee(group, settings):
    quick = group.member("Quick", "quick@example.org", joined=dt.date(2027, 3, 10))
    euro.register_new_member(quick, settings, on=dt.date(2027, 3, 10))
    euro.record_payment(quick, 2800, on=dt.date(2027, 3, 15), entered_by="t")
    refund = euro.refund_contributions(quick, 2027, "cancelled within a month")
    assert (refund.cancelled_cents, refund.repay_cents) == (1800, 1800)
    assert euro.outstanding_cents(quick, 2027) == 0
    assert euro.refund_contributions(quick, 2027, "again") == euro.Refund(0, 0)
    unpaid = group.member("Unpaid", "unpaid@example.org", joined=dt.date(2027, 4, 1))
    euro.register_new_member(unpaid, settings, on=dt.date(2027, 4, 1))
    assert euro.refund_contributions(unpaid, 2027, "cancelled").repay_cents == 0
    assert euro.outstanding_cents(unpaid, 2027) == 1000      # the fee is still owed


# -- once, whatever happens --------------------------------------------------------

def test_every_step_run_twice_happens_once(group, trio, settings):
    for on in (dt.date(2027, 1, 2), dt.date(2027, 4, 2), dt.date(2027, 7, 2), dt.date(2027, 10, 2),
               dt.date(2028, 1, 1)):
        first, again = day(settings, on), day(settings, on, hour=20)
        assert first.mails > 0 and again.mails == 0 and again.steps == []
    assert EuroStep.select().count() == 3 * 5
    assert EuroCharge.select().where(EuroCharge.kind == "surcharge").count() == 6
    assert Transfer.select().where(Transfer.entered_by == "euro").count() == 3
    assert [balance(m) for m in trio] == [-2000] * 3
    assert [euro.outstanding_cents(m, 2027) for m in trio] == [2300] * 3
    assert_books_sound()


@pytest.mark.parametrize("on", [dt.date(2027, 1, 2), dt.date(2027, 4, 2), dt.date(2027, 10, 2), dt.date(2028, 1, 1)])
def test_a_run_cut_short_then_repeated_takes_every_step_once(group, trio, settings, monkeypatch, on):
    for earlier in (dt.date(2027, 1, 2), dt.date(2027, 4, 2), dt.date(2027, 7, 2), dt.date(2027, 10, 2)):
        if earlier < on:
            day(settings, earlier)
    before = OutboundMessage.select().count()
    real, calls = euro_mail.queue, []

    def crash_on_the_second(replies, *args, **kw):
        calls.append(replies)
        if len(calls) == 2:
            raise RuntimeError("power cut")
        return real(replies, *args, **kw)

    monkeypatch.setattr(euro_mail, "queue", crash_on_the_second)
    with pytest.raises(RuntimeError):
        day(settings, on)
    assert OutboundMessage.select().count() == before + 1       # the first member's step only
    monkeypatch.setattr(euro_mail, "queue", real)
    day(settings, on, hour=9)
    assert OutboundMessage.select().count() == before + 3
    steps = [(s.member_id, s.step) for s in EuroStep.select()]
    assert len(steps) == len(set(steps))
    if on.year == 2028:
        assert [balance(m) for m in trio] == [-2000] * 3
        assert Transfer.select().where(Transfer.entered_by == "euro").count() == 3
    assert_books_sound()


def test_lets_euro_run_sends_what_is_due_on_the_day_once(group, trio, settings):
    first = lets(settings, "euro", "run", "--date", "2027-01-02")
    assert first.exit_code == 0 and "notices 3, reminders 0" in first.output
    again = lets(settings, "euro", "run", "--date", "2027-01-02")
    assert "notices 0, reminders 0, core group 0, fines 0" in again.output
    assert len(group.outbox()) == 3
    assert lets(settings, "euro", "run", "--date", "2027-13-01").exit_code == 1
    # A run for a missed day is recorded as taken on that day, not on the day it was typed.
    assert {step.created.date() for step in EuroStep.select()} == {dt.date(2027, 1, 2)}


def test_a_step_another_worker_took_first_is_skipped_not_an_error(group, trio, settings, monkeypatch):
    day(settings, dt.date(2027, 1, 2))
    from db import euro_schedule

    real_take = euro_schedule.take

    def raced(debt, step, *, now, transfer=None):
        # The unique key refuses our row, as when another worker took the step first.
        if step == "reminder-1" and debt.member.number == 2:
            EuroStep.create(member=debt.member, year=debt.year, step=step, created=now)
        return real_take(debt, step, now=now, transfer=transfer)

    monkeypatch.setattr(euro_schedule, "take", lambda debt, step, **kw: raced(debt, step, **kw))
    monkeypatch.setattr(euro_schedule.EuroStep, "get_or_none", classmethod(lambda cls, *a: None))
    outcome = day(settings, dt.date(2027, 4, 2))
    assert outcome.steps == ["1 2027 reminder-1", "3 2027 reminder-1"]
    assert euro.outstanding_cents(trio[1], 2027) == 1800       # no surcharge without its step


def test_a_charge_made_after_the_year_was_paid_counts_its_reminders_from_its_own_day(group, trio, settings):
    an = trio[0]
    day(settings, dt.date(2027, 1, 2))
    euro.record_payment(an, 1800, on=dt.date(2027, 1, 20), entered_by="treasurer")
    # The euro value of a balance settled on leaving, charged in September.
    euro.charge(an, 2027, "settlement", 820, "settlement:test", on=dt.date(2027, 9, 13))
    def ans(on):
        return [step for step in day(settings, on).steps if step.startswith(f"{an.number} ")]

    for on in (dt.date(2027, 9, 14), dt.date(2027, 10, 2), dt.date(2027, 12, 12)):
        assert ans(on) == []
    assert ans(dt.date(2027, 12, 13)) == [f"{an.number} 2027 reminder-1"]
    assert euro.outstanding_cents(an, 2027) == 820 + settings.euro.surcharge


def test_an_unpaid_surcharge_keeps_the_debts_first_day(group, trio, settings):
    an = trio[0]
    day(settings, dt.date(2027, 1, 2))
    day(settings, dt.date(2027, 4, 2))
    euro.record_payment(an, 1800, on=dt.date(2027, 4, 10), entered_by="treasurer", year=2027)
    assert euro.outstanding_cents(an, 2027) == settings.euro.surcharge
    assert f"{an.number} 2027 reminder-2" in day(settings, dt.date(2027, 7, 2)).steps


def test_a_member_who_has_left_is_not_fined_and_the_euro_debt_stays(group, trio, settings):
    an, sam = trio[0], trio[1]
    day(settings, dt.date(2027, 1, 2))
    Member.update(status="left").where(Member.id == sam.id).execute()
    fined = day(settings, dt.date(2028, 1, 1)).steps
    assert f"{an.number} 2027 fine" in fined and f"{sam.number} 2027 fine" not in fined
    assert balance(sam) == 0 and euro.outstanding_cents(sam, 2027) == 1800 + 2 * settings.euro.surcharge
    assert_books_sound()


# -- who owes: suspended members, members on paper ----------------------------------

def test_a_suspended_member_owes_both_contributions_like_every_member(group, trio, settings):
    # Articles 8.1 and 22: suspension is no exemption; only the core group's waiver is.
    an, sam, claire = trio
    suspended = lets(settings, "member", "suspend", "2", "--reason", "unpaid debts, see our letter")
    assert suspended.exit_code == 0 and Member.get_by_id(sam.id).status == "suspended"
    assert lets(settings, "contributions", "waive", "3", "2026Q4", "--reason", "in hospital").exit_code == 0
    notified = lets(settings, "contributions", "notify", "--period", "2026Q4", "--at", "2026-12-24T09:00")
    assert notified.output.strip() == "2026Q4: notified 2"
    charged = lets(settings, "contributions", "run", "--period", "2026Q4", "--at", "2026-12-31T09:00")
    assert charged.exit_code == 0 and "charged 2, skipped 1" in charged.output
    assert [balance(m) for m in trio] == [-600, -600, 0]
    assert group.last("sam@example.org").subject == "Contribution 2026Q4: 6.00 zonnen"
    assert lets(settings, "euro", "run", "--date", "2027-01-02").output.startswith("notices 3,")
    assert plain(group.last("sam@example.org").subject).startswith("Contribution 2027: €18.00")
    assert lets(settings, "euro", "run", "--date", "2027-04-02").output.startswith("notices 0, reminders 3")
    assert euro.outstanding_cents(sam, 2027) == 1800 + settings.euro.surcharge
    assert lets(settings, "ledger", "check").exit_code == 0


def test_members_on_paper_go_through_every_money_run_once_and_their_coordinator_is_told(group, settings):
    """The euro run's notices, reminders, core group and fines, a receipt and a digest run,
    for a member on paper with a coordinator and one without: each run completes, takes
    every member's step once, and mails what can be read; repeated, it changes nothing."""
    an = group.member("An de Vries", "an@example.org", language="nl", joined=OLD)
    kees = group.member("Kees Zonder", None, language="nl", joined=OLD)
    mia = group.member("Mia Papier", None, language="fr", joined=OLD)
    cor = group.member("Cor Dinator", "cor@example.org", language="en", joined=OLD)
    coordinators.name(kees, "cor@example.org")
    env = {"LETS_TRADES_COORDINATORS": "cor@example.org"}
    everyone = (an, kees, mia, cor)

    def run(on: str) -> str:
        result = lets(settings, "euro", "run", "--date", on, env=env)
        assert result.exit_code == 0, result.output
        again = lets(settings, "euro", "run", "--date", on, env=env)
        assert again.output.strip() == "notices 0, reminders 0, core group 0, fines 0"
        return result.output.strip()

    assert run("2027-01-02") == "notices 3, reminders 0, core group 0, fines 0"     # Mia's: nobody to read it
    assert EuroStep.select().where(EuroStep.step == "notice").count() == 4
    assert run("2027-01-03") == "notices 0, reminders 0, core group 0, fines 0"
    assert run("2027-04-02") == "notices 0, reminders 4, core group 0, fines 0"
    paid = lets(settings, "euro", "paid", str(kees.number), "20,50", "--date", "2027-04-10", env=env)
    assert paid.exit_code == 0 and "still owed € 0,00" in paid.output
    assert run("2027-07-02") == "notices 0, reminders 3, core group 0, fines 0"
    assert run("2027-10-02") == "notices 0, reminders 0, core group 3, fines 0"
    assert run("2028-01-01") == "notices 0, reminders 0, core group 0, fines 3"
    assert [balance(m) for m in everyone] == [-2000, 0, -2000, -2000]
    assert [euro.outstanding_cents(m, 2027) for m in everyone] == [2300, 0, 2300, 2300]

    for_kees = [plain(s.subject) for s in group.outbox("cor@example.org") if "Kees" in s.subject]
    assert for_kees == [
        f"For Kees Zonder (member {kees.number}): Contributie 2027: € 18,00 ({euro.reference(kees, 2027, settings.euro)})",
        f"For Kees Zonder (member {kees.number}): Herinnering 1: contributie 2027, nog € 20,50 "
        f"({euro.reference(kees, 2027, settings.euro)})",
        f"For Kees Zonder (member {kees.number}): Betaling ontvangen: € 20,50 voor contributie 2027"]
    assert "Beste Kees Zonder" in group.outbox("cor@example.org")[0].text
    core = [s for s in group.outbox(ADMIN) if "Mia Papier" in s.subject]
    assert len(core) == 1 and "9 maanden" in core[0].subject
    assert {s.recipient for s in group.outbox()} == {"an@example.org", "cor@example.org", ADMIN}

    digest = lets(settings, "digest", "send", "--at", "2028-01-03T06:30", "--no-deliver", env=env)
    assert digest.exit_code == 0, digest.output
    assert lets(settings, "ledger", "check").exit_code == 0 and lets(settings, "ledger", "verify").exit_code == 0


# -- article 22.1: two years unpaid ------------------------------------------------------

def test_two_unpaid_years_the_core_group_notice_names_both_years_and_proposes_termination(group, trio, settings):
    an, sam, claire = trio
    Member.update(digest="off").execute()

    def run(on: str) -> str:
        result = lets(settings, "euro", "run", "--date", on)
        assert result.exit_code == 0, result.output
        return result.output.strip()

    for on in ("2027-01-02", "2027-04-02", "2027-07-02"):
        run(on)
    assert lets(settings, "euro", "paid", "2", "23,00", "--date", "2027-08-01").exit_code == 0
    assert run("2027-10-02") == "notices 0, reminders 0, core group 2, fines 0"
    first_year = [plain(s.subject) for s in group.outbox(ADMIN)]
    assert first_year == ["Contributie 2027 van An de Vries (lid 1) na 9 maanden onbetaald",
                          "Contributie 2027 van Claire Dubois (lid 3) na 9 maanden onbetaald"]
    assert "beëindig" not in group.last(ADMIN).text
    run("2028-01-01")
    # Claire pays 2027 in the new year; An pays nothing, Sam nothing for 2028.
    assert lets(settings, "euro", "paid", "3", "23,00", "--date", "2028-01-10", "--year", "2027").exit_code == 0
    for on in ("2028-01-02", "2028-04-02", "2028-07-02"):
        run(on)
    since = len(group.outbox(ADMIN))
    assert run("2028-10-02") == "notices 0, reminders 0, core group 3, fines 0"
    told = {s.subject.split(" van ")[1].split(" (")[0]: s for s in group.outbox(ADMIN)[since:]}
    assert plain(told["Sam Taylor"].subject) == "Contributie 2028 van Sam Taylor (lid 2) na 9 maanden onbetaald"
    assert plain(told["Claire Dubois"].subject) == \
        "Contributie 2028 van Claire Dubois (lid 3) na 9 maanden onbetaald"
    two = told["An de Vries"]
    assert plain(two.subject) == \
        "Contributie 2027 en 2028 van An de Vries (lid 1) onbetaald: voorstel tot beëindiging"
    text = plain(two.text)
    assert "- contributie 2027: nog € 23,00" in text and "- contributie 2028: nog € 23,00" in text
    assert "samen nog te betalen: € 46,00" in text and "artikel 22.1" in text
    assert 'lets member terminate 1 --months 4 --reason "contributie 2027 en 2028 niet betaald (artikel 22.1)"' in text
    assert run("2028-10-03") == "notices 0, reminders 0, core group 0, fines 0"
    assert status_of(an) == "active"          # a proposal: the decision stays the core group's
    assert_books_sound()


def status_of(member):
    return Member.get_by_id(member.id).status
