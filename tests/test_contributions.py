"""The contribution in the unit: amounts, exemptions, pro rata, once per period, notices."""
import datetime as dt

import pytest
from click.testing import CliRunner

from db import contributions, coordinators, database, ledger, members
from db.models import Account, Contribution, Transfer
from mailer.runs import contributions as contribution_mail
from mailer import settings as settings_module
from mailer.cli import main
from tests.conftest import SETTINGS_INI

Q4 = contributions.parse_period("2026Q4")
RUN_AT = dt.datetime(2026, 12, 31, 9, 0)
LONG_AGO = dt.date(2025, 1, 1)


@pytest.fixture
def settings(settings):
    return settings_module.replace(settings, limits={"newcomer_months": 0},
                                   contributions={"amount": 6, "permille": 0, "newcomer_exempt_months": 0,
                                                  "prorata": True, "period": "quarterly"})


@pytest.fixture
def trio(group):
    return [group.member("An de Vries", "an@example.org", language="nl", joined=LONG_AGO),
            group.member("Sam Taylor", "sam@example.org", language="en", joined=LONG_AGO),
            group.member("Claire Dubois", "claire@example.org", language="fr", joined=LONG_AGO)]


def balance(member):
    return members.account(member).balance_cents


def association():
    return Account.get(Account.code == "association").balance_cents


def run(settings, period=Q4, now=RUN_AT):
    return contribution_mail.run(settings, period, now=now)


def assert_books_sound():
    assert ledger.check() == []
    assert ledger.verify()[1] is None


def test_periods_are_named_and_bounded():
    assert (Q4.start, Q4.end, Q4.last_day) == (dt.date(2026, 10, 1), dt.date(2027, 1, 1), dt.date(2026, 12, 31))
    assert contributions.parse_period("2026-2").label == "2026-02"
    assert contributions.parse_period("2026").days == 365
    assert contributions.period_of(dt.date(2026, 11, 23), "monthly").label == "2026-11"
    assert contributions.period_of(dt.date(2026, 11, 23), "yearly").label == "2026"
    with pytest.raises(contributions.ContributionError):
        contributions.parse_period("2026Q5")


def test_the_run_debits_each_member_to_the_association_and_tells_them_in_their_language(group, trio, settings):
    outcome = run(settings)
    assert len(outcome.charged) == 3
    assert [balance(m) for m in trio] == [-600, -600, -600] and association() == 1800
    transfers = list(Transfer.select().where(Transfer.initiator == "levy"))
    assert len(transfers) == 3 and all(t.state == "booked" for t in transfers)
    assert "De contributie voor 2026Q4, 6,00 zonnen" in group.last("an@example.org").text
    assert "Je nieuwe saldo: -6,00" in group.last("an@example.org").text
    assert group.last("sam@example.org").subject.startswith("Contribution 2026Q4")
    assert "Your new balance: -6.00" in group.last("sam@example.org").text
    assert group.last("claire@example.org").subject.startswith("Cotisation 2026Q4")
    assert "lower limit" not in group.last("sam@example.org").text
    assert_books_sound()


def test_honorary_guest_former_and_expelled_members_pay_nothing_but_suspended_members_do(group, settings):
    group.member("Hon", "hon@example.org", type="honorary", joined=LONG_AGO)
    group.member("Guest", "guest@example.org", type="guest", joined=LONG_AGO)
    group.member("Gone", "gone@example.org", status="left", joined=LONG_AGO)
    group.member("Out", "out@example.org", status="expelled", joined=LONG_AGO)
    # Suspension is no exemption (articles 8.1, 22): only the core group's waiver is.
    suspended = group.member("Susp", "susp@example.org", status="suspended", joined=LONG_AGO)
    leaving = group.member("Leaving", "leaving@example.org", status="leaving", joined=LONG_AGO)
    outcome = run(settings)
    assert outcome.charged == [f"{suspended.number}: 600", f"{leaving.number}: 600"]
    assert [s.recipient for s in group.outbox()] == ["susp@example.org", "leaving@example.org"]


def test_newcomers_are_exempt_for_the_set_months_then_pay_pro_rata(group, settings):
    settings = settings_module.replace(settings, contributions={"newcomer_exempt_months": 3})
    fresh = group.member("Fresh", "fresh@example.org", joined=dt.date(2026, 10, 1))
    # exempt until 2026-12-01: charged for December only, 31 of 92 days
    half = group.member("Half", "half@example.org", joined=dt.date(2026, 9, 1))
    old = group.member("Old", "old@example.org", joined=dt.date(2026, 7, 1))
    run(settings)
    assert balance(fresh) == 0
    assert balance(half) == -(600 * 31 // 92)
    assert balance(old) == -600


def test_a_member_who_joined_during_the_period_pays_pro_rata_or_nothing(group, settings):
    joined = group.member("Joined", "joined@example.org", joined=dt.date(2026, 11, 16))   # 46 of 92 days
    run(settings)
    assert balance(joined) == -300
    other = group.member("Other", "other@example.org", joined=dt.date(2026, 11, 16))
    run(settings_module.replace(settings, contributions={"prorata": False}))
    assert balance(other) == 0
    assert Contribution.get_or_none(Contribution.member == other) is None


def test_the_permille_fee_is_charged_on_the_average_positive_balance(group, settings):
    settings = settings_module.replace(settings, contributions={"permille": 10})
    rich = group.member("Rich", "rich@example.org", joined=LONG_AGO)
    poor = group.member("Poor", "poor@example.org", joined=LONG_AGO)
    solidarity = Account.get(Account.code == "solidarity")
    ledger.transfer_now(solidarity, members.account(rich), 10000, "gift", limits=settings.limits,
                        now=dt.datetime(2026, 9, 1), entered_by="admin")
    # 200 more from the middle of the quarter on (2026-11-16: 46 of 92 days): average 200 units
    ledger.transfer_now(solidarity, members.account(rich), 20000, "gift", limits=settings.limits,
                        now=dt.datetime(2026, 11, 16, 12), entered_by="admin")
    ledger.transfer_now(members.account(poor), solidarity, 5000, "debt", limits=settings.limits,
                        now=dt.datetime(2026, 9, 1), entered_by="admin")
    run(settings)
    assert balance(rich) == 30000 - 600 - 200        # 10 per mille of 200 units
    assert balance(poor) == -5000 - 600               # a negative average pays no fee
    assert_books_sound()


def test_a_run_repeated_charges_each_member_once(group, trio, settings):
    run(settings)
    again = run(settings, now=RUN_AT + dt.timedelta(days=10))
    assert again.charged == [] and again.skipped == 3
    assert [balance(m) for m in trio] == [-600, -600, -600]
    assert Contribution.select().count() == 3
    assert len(group.outbox()) == 3
    assert_books_sound()


def test_a_run_interrupted_midway_then_rerun_charges_each_member_exactly_once(group, trio, settings, monkeypatch):
    real = contribution_mail.charged_notice
    calls = []

    def failing_on_the_second(row, *args, **kw):
        calls.append(row.member.number)
        if len(calls) == 2:
            raise RuntimeError("power cut")
        return real(row, *args, **kw)

    monkeypatch.setattr(contribution_mail, "charged_notice", failing_on_the_second)
    with pytest.raises(RuntimeError):
        run(settings)
    # The first member's debit and notice are committed; the second's rolled back together.
    assert [balance(m) for m in trio] == [-600, 0, 0]
    assert [s.recipient for s in group.outbox()] == ["an@example.org"]
    monkeypatch.setattr(contribution_mail, "charged_notice", real)
    rerun = run(settings, now=RUN_AT + dt.timedelta(days=3))   # late, too
    assert rerun.skipped == 1 and len(rerun.charged) == 2
    assert [balance(m) for m in trio] == [-600, -600, -600]
    assert Transfer.select().where(Transfer.initiator == "levy").count() == 3
    assert sorted(s.recipient for s in group.outbox()) == sorted(
        ["an@example.org", "sam@example.org", "claire@example.org"])
    assert_books_sound()


def test_the_debit_ignores_the_lower_limit_and_the_notice_says_so(group, settings):
    low = group.member("Low", "low@example.org", language="en", joined=LONG_AGO)
    solidarity = Account.get(Account.code == "solidarity")
    ledger.transfer_now(members.account(low), solidarity, 29800, "repairs", limits=settings.limits,
                        now=dt.datetime(2026, 10, 5), entered_by="admin")
    run(settings)
    assert balance(low) == -30400
    text = group.last("low@example.org").text
    assert "below your lower limit of -300.00" in text
    assert_books_sound()


def test_a_waived_member_is_skipped_and_a_waiver_is_given_once(group, trio, settings):
    an, sam, claire = trio
    contributions.waive(sam, Q4, "abroad all quarter", now=RUN_AT, entered_by="beheer")
    with pytest.raises(contributions.ContributionError):
        contributions.waive(sam, Q4, "again", now=RUN_AT, entered_by="beheer")
    with pytest.raises(contributions.ContributionError):
        contributions.waive(an, Q4, "  ", now=RUN_AT, entered_by="beheer")
    run(settings)
    assert [balance(m) for m in trio] == [-600, 0, -600]
    assert group.outbox("sam@example.org") == []
    with pytest.raises(contributions.ContributionError):
        contributions.waive(an, Q4, "too late", now=RUN_AT, entered_by="beheer")


def lets(settings, *args, coordinators=""):
    env = {"LETS_DATABASE_URL": settings.database.url, "LETS_SECURITY_SECRET": settings.security.secret,
           "LETS_OUTBOUND_MAILDIR": settings.outbound.maildir, "LETS_LIMITS_NEWCOMER_MONTHS": "0",
           "LETS_TRADES_COORDINATORS": coordinators}
    result = CliRunner().invoke(main, ["--settings", str(SETTINGS_INI), *args], env=env)
    database.connect(reuse_if_open=True)
    return result


def test_the_cli_waives_then_runs(group, trio, settings):
    at = ["--at", "2026-12-31T09:00"]
    waived = lets(settings, "contributions", "waive", "2", "2026Q4", "--reason", "abroad")
    assert waived.exit_code == 0, waived.output
    bad = lets(settings, "contributions", "run", "--period", "2026Q9", *at)
    assert bad.exit_code == 1 and "not a period" in bad.output
    first = lets(settings, "contributions", "run", "--period", "2026Q4", *at)
    assert first.exit_code == 0 and "charged 2, skipped 1" in first.output
    second = lets(settings, "contributions", "run", "--period", "2026q4", *at)
    assert "charged 0, skipped 3" in second.output
    assert [balance(m) for m in trio] == [-600, 0, -600]


def test_a_period_is_charged_on_its_last_day_and_before_it_only_with_early(group, trio, settings):
    # Article 8.3.2: at the end of the quarter. In December, next year's first quarter is refused.
    december = ["--at", "2026-12-02T10:00"]
    refused = lets(settings, "contributions", "run", "--period", "2027Q1", *december)
    assert refused.exit_code == 1
    assert refused.output.strip().splitlines() == [
        "Error: 2027Q1 has not ended: it is charged on its last day, 2027-03-31 (article 8.3.2); "
        "add --early to charge it now"]
    # Without --period: the quarter containing today, which has not ended either.
    assert "2026Q4 has not ended" in lets(settings, "contributions", "run", *december).output
    assert [balance(m) for m in trio] == [0, 0, 0] and Contribution.select().count() == 0
    assert group.outbox() == []
    # The last day is the group's own: 22:30 UTC on 30 December is still the 30th in
    # Amsterdam, 23:30 UTC is already the 31st there.
    assert lets(settings, "contributions", "run", "--period", "2026Q4", "--at", "2026-12-30T22:30").exit_code == 1
    on_the_day = lets(settings, "contributions", "run", "--at", "2026-12-30T23:30")
    assert on_the_day.exit_code == 0 and "2026Q4: charged 3" in on_the_day.output
    early = lets(settings, "contributions", "run", "--period", "2027Q1", "--early", *december)
    assert early.exit_code == 0 and "2027Q1: charged 3, skipped 0" in early.output
    assert [balance(m) for m in trio] == [-1200] * 3
    assert lets(settings, "ledger", "check").exit_code == 0


def test_a_member_on_paper_is_charged_once_like_everyone_and_the_coordinator_is_told(group, trio, settings):
    """The quarterly run with members without email: one with a coordinator, one without.
    Everyone is charged exactly once, the books balance, a rerun changes nothing."""
    kees = group.member("Kees Zonder", None, language="nl", joined=LONG_AGO)
    mia = group.member("Mia Papier", None, language="fr", joined=LONG_AGO)
    group.member("Cor Dinator", "cor@example.org", language="nl", joined=LONG_AGO)
    coordinators.name(kees, "cor@example.org")
    at, cor = ["--at", "2026-12-31T09:00"], "cor@example.org"
    notified = lets(settings, "contributions", "notify", "--period", "2026Q4", "--at", "2026-12-24T09:00",
                    coordinators=cor)
    assert notified.exit_code == 0 and notified.output.strip() == (
        f"2026Q4: notified 5; 1 without an address or a coordinator to tell: Mia Papier (member {mia.number}) "
        "(lets member set-coordinator)")
    first = lets(settings, "contributions", "run", "--period", "2026Q4", *at, coordinators=cor)
    assert first.exit_code == 0, first.output
    assert "2026Q4: charged 6, skipped 0" in first.output
    everyone = [*trio, kees, mia, members.by_address(cor)]
    assert [balance(m) for m in everyone] == [-600] * 6 and association() == 3600
    assert lets(settings, "ledger", "check").exit_code == 0

    # Kees's notice and debit went to his coordinator, in Kees's words, to pass on; Mia's nowhere.
    for_kees = [s for s in group.outbox(cor) if "Kees Zonder" in s.subject]
    assert [s.subject for s in for_kees] == [
        f"Voor Kees Zonder (lid {kees.number}): Aankondiging contributie 2026Q4: 6,00 zonnen op 31 december 2026",
        f"Voor Kees Zonder (lid {kees.number}): Contributie 2026Q4: 6,00 zonnen"]
    assert "Beste Kees Zonder" in for_kees[1].text and "Je nieuwe saldo: -6,00" in for_kees[1].text
    assert "geen e-mail" in for_kees[1].text
    assert len(group.outbox()) == 2 * 5

    sent, transfers = len(group.outbox()), Transfer.select().count()
    again = lets(settings, "contributions", "run", "--period", "2026Q4", "--at", "2027-01-03T09:00", coordinators=cor)
    assert again.exit_code == 0 and "charged 0, skipped 6" in again.output
    assert lets(settings, "contributions", "notify", "--period", "2026Q4", "--at", "2026-12-25T09:00",
                coordinators=cor).output.strip() == "2026Q4: notified 0"
    assert (len(group.outbox()), Transfer.select().count()) == (sent, transfers)
    assert [balance(m) for m in everyone] == [-600] * 6
    assert lets(settings, "ledger", "check").exit_code == 0 and lets(settings, "ledger", "verify").exit_code == 0


def test_a_run_cut_short_next_to_members_on_paper_finishes_the_rest_on_the_rerun(group, settings, monkeypatch):
    an = group.member("An de Vries", "an@example.org", joined=LONG_AGO)
    kees = group.member("Kees Zonder", None, joined=LONG_AGO)
    sam = group.member("Sam Taylor", "sam@example.org", language="en", joined=LONG_AGO)
    real = contribution_mail.charged_notice

    def killed_at_sam(row, *args, **kw):
        if row.member.number == sam.number:
            raise RuntimeError("power cut")
        return real(row, *args, **kw)

    monkeypatch.setattr(contribution_mail, "charged_notice", killed_at_sam)
    with pytest.raises(RuntimeError):
        run(settings)
    assert [balance(m) for m in (an, kees, sam)] == [-600, -600, 0]
    monkeypatch.setattr(contribution_mail, "charged_notice", real)
    rerun = run(settings, now=RUN_AT + dt.timedelta(hours=1))
    assert rerun.charged == [f"{sam.number}: 600"] and rerun.skipped == 2
    assert [balance(m) for m in (an, kees, sam)] == [-600] * 3
    assert [s.recipient for s in group.outbox()] == ["an@example.org", "sam@example.org"]
    assert_books_sound()


def test_the_advance_notice_goes_once_to_members_who_will_be_charged(group, trio, settings):
    group.member("Guest", "guest@example.org", type="guest", joined=LONG_AGO)
    contributions.waive(trio[2], Q4, "hardship", now=RUN_AT, entered_by="beheer")
    at = dt.datetime(2026, 12, 24, 9, 0)
    assert contribution_mail.notify(settings, Q4, now=at) == 2
    assert contribution_mail.notify(settings, Q4, now=at) == 0
    assert sorted(s.recipient for s in group.outbox()) == ["an@example.org", "sam@example.org"]
    nl = group.last("an@example.org").text
    assert "31 december 2026" in nl and "6,00 zonnen" in nl and "BEZWAAR" in nl
    assert "OBJECT <your reason>" in group.last("sam@example.org").text
    assert balance(trio[0]) == 0   # a notice debits nothing


def test_an_objection_reaches_the_administrators_and_is_confirmed(group, trio, settings):
    contribution_mail.notify(settings, Q4, now=group.clock())
    group.mail("an@example.org", "Re: Aankondiging contributie", "BEZWAAR ik was het hele kwartaal weg\n\n> quoted")
    admin = group.last("beheer@lets.example")
    assert "An de Vries" in admin.subject and "ik was het hele kwartaal weg" in admin.text
    assert "quoted" not in admin.text
    assert "lets contributions waive 1 2026Q4" in admin.text
    assert "doorgestuurd" in group.last("an@example.org").text
    group.mail("claire@example.org", "OBJECTION je n'ai pas pu échanger")
    assert "transmise" in group.last("claire@example.org").subject
    assert "je n'ai pas pu échanger" in group.last("beheer@lets.example").text


def test_an_objection_without_a_reason_asks_for_one(group, trio, settings):
    contribution_mail.notify(settings, Q4, now=group.clock())
    group.mail("sam@example.org", "OBJECT")
    assert "reason" in group.last("sam@example.org").subject
    assert group.outbox("beheer@lets.example") == []


def test_object_lost_from_a_member_without_this_periods_notice_gets_help_not_the_administrators(group, trio, settings):
    group.mail("sam@example.org", "Object lost", "I lost my umbrella at the market.")
    assert group.outbox("beheer@lets.example") == []
    reply = group.last("sam@example.org")
    assert reply.subject.startswith("How LETS Demo works") and "did not recognise a command" in reply.text


def test_last_periods_notice_does_not_make_this_periods_subject_an_objection(group, trio, settings):
    contribution_mail.notify(settings, contributions.parse_period("2026Q3"), now=dt.datetime(2026, 9, 23))
    group.mail("an@example.org", "Bezwaar tegen lawaai", "De buren maken herrie.")
    assert group.outbox("beheer@lets.example") == []
    assert "HULP" in group.last("an@example.org").text


def test_after_the_notice_the_same_subject_is_an_objection(group, trio, settings):
    contribution_mail.notify(settings, Q4, now=group.clock())
    group.mail("sam@example.org", "Object lost", "")
    assert "lost" in group.last("beheer@lets.example").text
    assert group.last("sam@example.org").subject == "Your objection has been forwarded"


# -- articles 8.2.4 and 8.3.3: a year's waiver and a postponement ------------------------

def test_a_year_waived_and_a_postponement_are_respected_by_every_run_and_the_members_are_told(
        group, trio, settings):
    an, sam, claire = trio

    def charge(label: str, at: str) -> str:
        result = lets(settings, "contributions", "run", "--period", label, "--at", at)
        assert result.exit_code == 0, result.output
        return result.output.strip()

    def subjects(member) -> list[str]:
        return [s.subject for s in group.outbox(member.primary_address)]

    waived = lets(settings, "contributions", "waive", "2", "--year", "2027", "--reason", "long illness",
                  "--at", "2027-01-10T10:00")
    assert waived.exit_code == 0 and waived.output.strip() == "Sam Taylor: waived for 2027"
    assert subjects(sam) == ["Contribution 2027 waived"]
    assert "for the whole of 2027" in group.last("sam@example.org").text
    assert "Reason: long illness" in group.last("sam@example.org").text
    assert "already waived for 2027" in lets(settings, "contributions", "waive", "2", "2027Q2", "--reason", "x").output
    assert lets(settings, "contributions", "waive", "2", "--reason", "x").exit_code == 1

    postponed = lets(settings, "contributions", "postpone", "3", "--until", "2027-08-15", "--reason",
                     "en attente de ses allocations", "--at", "2027-02-01T10:00")
    assert postponed.exit_code == 0 and "postponed until 2027-08-15" in postponed.output
    told = group.last("claire@example.org")
    assert told.subject == "Cotisation reportée jusqu'au 15 août 2027"
    assert "Motif : en attente de ses allocations" in told.text
    assert lets(settings, "contributions", "postpone", "3", "--until", "2027-01-01", "--reason", "x",
                "--at", "2027-02-01T10:00").exit_code == 1

    # Q1 and Q2: only An pays; the advance notice skips the waived and the postponed member.
    notified = lets(settings, "contributions", "notify", "--period", "2027Q1", "--at", "2027-03-24T09:00")
    assert notified.output.strip() == "2027Q1: notified 1"
    assert charge("2027Q1", "2027-03-31T09:00") == "2027Q1: charged 1, skipped 2"
    assert charge("2027Q2", "2027-06-30T09:00") == "2027Q2: charged 1, skipped 2"
    assert charge("2027Q2", "2027-07-01T09:00") == "2027Q2: charged 0, skipped 3"
    assert (balance(an), balance(sam), balance(claire)) == (-1200, 0, 0)
    # From 15 August the first run charges what was postponed, then the quarter itself.
    assert charge("2027Q3", "2027-09-30T09:00") == "2027Q3: charged 4, skipped 1"
    assert (balance(an), balance(sam), balance(claire)) == (-1800, 0, -1800)
    assert [s for s in subjects(claire) if s.startswith("Cotisation 2027Q")] == [
        "Cotisation 2027Q1 : 6,00 zonnen", "Cotisation 2027Q2 : 6,00 zonnen", "Cotisation 2027Q3 : 6,00 zonnen"]
    assert charge("2027Q3", "2027-10-01T09:00") == "2027Q3: charged 0, skipped 3"
    # The year's waiver ends with the year.
    assert charge("2027Q4", "2027-12-31T09:00") == "2027Q4: charged 2, skipped 1"
    assert charge("2028Q1", "2028-03-31T09:00") == "2028Q1: charged 3, skipped 0"
    assert balance(sam) == -600
    assert {row.period: row.state for row in Contribution.select().where(Contribution.member == sam)} == {
        "2027": "waived", "2028Q1": "charged"}
    assert_books_sound()
