"""The association's sanctions (article 22, 5.5.3): a warning, termination at year end or
with four months' notice, suspension and expulsion, each mailed with the right to appeal,
the appeal month's suspension, the general meeting's outcome, and the day a termination
takes effect; walked through the calendar with the real commands."""
import datetime as dt

from db import coordinators, members
from db.models import Member, Sanction
from mailer.runs import sanctions, scheduled
from tests.test_euro import OLD, lets, settings  # noqa: F401  (the euro settings)

CORE = "beheer@lets.example"


def status(member) -> str:
    return Member.get_by_id(member.id).status


def ok(result):
    assert result.exit_code == 0, result.output
    return result.output


def test_termination_at_year_end_suspends_for_the_appeal_month_then_ends_on_31_december(group, settings):
    an = group.member("An de Vries", "an@example.org", language="nl", joined=OLD)
    out = ok(lets(settings, "member", "terminate", str(an.number), "--reason", "twee jaar geen ruil en geen antwoord",
                  "--year-end", "--at", "2026-11-20T10:00"))
    assert "suspended; terminate, membership ends 2026-12-31, appeal until 2026-12-20" in out
    assert status(an) == "suspended"
    told = group.last("an@example.org")
    assert told.subject == "LETS Demo beëindigt je lidmaatschap per 31 december 2026"
    assert "twee jaar geen ruil en geen antwoord" in told.text
    assert "tot en met 20 december 2026, in beroep gaan bij de" in told.text
    assert "terminated 2026-11-20, ends 2026-12-31, appeal until 2026-12-20" in ok(lets(settings, "member", "list"))

    # The appeal month has not passed: still suspended.
    scheduled_review = sanctions.review(settings, dt.datetime(2026, 12, 20, 8))
    assert scheduled_review == 0 and status(an) == "suspended"
    # No appeal: after the month An takes part again until 31 December, then has left.
    scheduled.run_due(settings, dt.datetime(2026, 12, 21, 8))
    assert status(an) == "active"
    sanctions.review(settings, dt.datetime(2026, 12, 30, 8))
    assert status(an) == "active"
    sanctions.review(settings, dt.datetime(2026, 12, 31, 8))
    assert status(an) == "left"
    sanctions.review(settings, dt.datetime(2027, 1, 2, 8))
    assert status(an) == "left" and Sanction.get().ended


def test_year_end_with_fewer_than_four_weeks_left_is_refused_unless_for_the_next_year_end(group, settings):
    sam = group.member("Sam Taylor", "sam@example.org", language="en", joined=OLD)
    late = lets(settings, "member", "terminate", str(sam.number), "--reason", "no trades", "--year-end",
                "--at", "2026-12-04T10:00")
    assert late.exit_code == 1 and "fewer than 4 weeks before 2026-12-31" in late.output
    assert "--year 2027" in late.output
    assert status(sam) == "active" and Sanction.select().count() == 0 and not group.outbox("sam@example.org")
    out = ok(lets(settings, "member", "terminate", str(sam.number), "--reason", "no trades", "--year-end",
                  "--year", "2027", "--at", "2026-12-04T10:00"))
    assert "membership ends 2027-12-31" in out
    assert group.last("sam@example.org").subject == "LETS Demo ends your membership on 31 December 2027"
    assert lets(settings, "member", "terminate", str(sam.number), "--reason", "again", "--months", "4",
                "--at", "2026-12-05T10:00").exit_code == 1      # suspended: no second decision
    # Exactly four weeks before 31 December is still in time.
    piet = group.member("Piet Jansen", "piet@example.org", language="nl", joined=OLD)
    assert "membership ends 2026-12-31" in ok(lets(settings, "member", "terminate", str(piet.number), "--reason",
                                                   "x", "--year-end", "--at", "2026-12-03T00:00"))


def test_four_months_notice_appealed_and_overturned_restores_the_member_and_a_member_on_paper_hears_through_the_coordinator(group, settings):
    kees = group.member("Kees Zonder", None, language="nl", joined=OLD)
    group.member("Cor Dinator", "cor@example.org", language="en", joined=OLD)
    coordinators.name(kees, "cor@example.org")
    env = {"LETS_TRADES_COORDINATORS": "cor@example.org"}
    too_short = lets(settings, "member", "terminate", str(kees.number), "--reason", "x", "--months", "3", env=env)
    assert too_short.exit_code == 1 and "at least 4 months" in too_short.output
    assert lets(settings, "member", "terminate", str(kees.number), "--reason", "x", env=env).exit_code == 1
    out = ok(lets(settings, "member", "terminate", str(kees.number), "--reason", "herhaald niet nagekomen afspraken",
                  "--months", "4", "--at", "2027-03-31T09:00", env=env))
    assert "membership ends 2027-07-31, appeal until 2027-04-30" in out
    passed_on = group.last("cor@example.org")
    assert "Kees Zonder" in passed_on.subject and "per 31 juli 2027" in passed_on.subject
    assert "herhaald niet nagekomen afspraken" in passed_on.text and "in beroep" in passed_on.text

    # Kees appeals within the month: suspended past it, until the general meeting.
    assert "terminate lodged" in ok(lets(settings, "member", "appeal", str(kees.number), "--outcome", "lodged",
                                         "--at", "2027-04-20T10:00", env=env))
    sanctions.review(settings, dt.datetime(2027, 5, 15, 8))
    assert status(kees) == "suspended"
    ok(lets(settings, "member", "appeal", str(kees.number), "--outcome", "overturned", "--by", "ALV 2027-06-01",
            "--at", "2027-06-01T20:00", env=env))
    assert status(kees) == "active"
    assert "vernietigd" in group.last("cor@example.org").text
    sanctions.review(settings, dt.datetime(2027, 8, 1, 8))
    assert status(kees) == "active"
    assert "terminated" not in ok(lets(settings, "member", "list"))


def test_an_upheld_termination_lets_the_member_trade_until_it_takes_effect(group, settings):
    an = group.member("An de Vries", "an@example.org", language="nl", joined=OLD)
    ok(lets(settings, "member", "terminate", "an@example.org", "--reason", "r", "--months", "4",
            "--at", "2027-01-31T09:00"))
    ok(lets(settings, "member", "appeal", "an@example.org", "--outcome", "lodged", "--at", "2027-02-10T09:00"))
    ok(lets(settings, "member", "appeal", "an@example.org", "--outcome", "upheld", "--at", "2027-03-10T09:00"))
    assert status(an) == "active"
    assert "per 31 mei 2027" in group.last("an@example.org").text and "bevestigd" in group.last("an@example.org").text
    sanctions.review(settings, dt.datetime(2027, 5, 31, 6))
    assert status(an) == "left"


def test_a_warning_is_recorded_and_mailed_with_the_right_to_appeal_and_the_member_keeps_trading(group, settings):
    claire = group.member("Claire Dubois", "claire@example.org", language="fr", joined=OLD)
    out = ok(lets(settings, "member", "warn", "claire@example.org", "--reason", "offres jamais honorées",
                  "--at", "2027-02-10T10:00"))
    assert "active; warning" in out and status(claire) == "active"
    mail = group.last("claire@example.org")
    assert mail.subject == "Un avertissement de LETS Demo"
    assert "offres jamais honorées" in mail.text and "jusqu'au 10 mars 2027" in " ".join(mail.text.split())
    assert "warned 2027-02-10" in ok(lets(settings, "member", "list"))
    assert lets(settings, "member", "warn", "claire@example.org", "--reason", " ").exit_code == 1
    ok(lets(settings, "member", "appeal", "claire@example.org", "--outcome", "overturned", "--at", "2027-03-01T20:00"))
    assert status(claire) == "active" and "annulé" in group.last("claire@example.org").text
    assert "warned" not in ok(lets(settings, "member", "list"))
    assert lets(settings, "member", "appeal", "claire@example.org", "--outcome", "upheld").exit_code == 1


def test_expulsion_and_suspension_tell_the_right_to_appeal_and_an_overturned_expulsion_restores_the_member(group, settings):
    sam = group.member("Sam Taylor", "sam@example.org", language="en", joined=OLD)
    ok(lets(settings, "member", "expel", "sam@example.org", "--reason", "fraud"))
    assert "appeal to the general meeting within one month" in group.last("sam@example.org").text
    ok(lets(settings, "member", "appeal", "sam@example.org", "--outcome", "overturned"))
    assert status(sam) == "active"
    assert "overturned" in group.last("sam@example.org").text
    ok(lets(settings, "member", "suspend", "sam@example.org", "--reason", "unpaid"))
    assert "within one month of this decision" in group.last("sam@example.org").text
    ok(lets(settings, "member", "appeal", "sam@example.org", "--outcome", "upheld"))
    assert status(sam) == "suspended" and "upheld" in group.last("sam@example.org").text
    assert members.by_address("sam@example.org").status == "suspended"
