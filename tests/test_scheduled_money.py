"""`lets serve`'s clock on the money side: the unit contribution's advance notice a week before
the period ends and the debit on its last day, the euro run every day; stepped through
the days with the test clock, each moment run twice, and a run cut short then repeated."""
import datetime as dt

import pytest

from db import contributions, ledger, members
from db.models import EuroStep, Member, OutboundMessage, Transfer
from mailer.runs import contributions as contribution_mail
from mailer import settings as settings_module
from mailer.message.compose import Composer
from mailer.runs.scheduled import run_due

OLD = dt.date(2025, 5, 1)


@pytest.fixture
def settings(settings):
    return settings_module.replace(settings, limits={"newcomer_months": 0},
                                   contributions={"period": "quarterly", "amount": 6, "notice_days": 7,
                                                  "permille": 0, "newcomer_exempt_months": 0},
                                   euro={"first_year": 2027, "notice_day": 2, "amount_a": 1800})


@pytest.fixture
def trio(group):
    trio = [group.member("An de Vries", "an@example.org", language="nl", joined=OLD),
            group.member("Sam Taylor", "sam@example.org", language="en", joined=OLD),
            group.member("Claire Dubois", "claire@example.org", language="fr", joined=OLD)]
    # A year of weekly digests would only slow the walk through the calendar down.
    Member.update(digest="off").execute()
    return trio


def money_mail() -> list[str]:
    return [row.kind for row in OutboundMessage.select().order_by(OutboundMessage.id)
            if row.kind.startswith(("contributions/", "euro/"))]


def step_days(settings, clock, first: dt.date, last: dt.date, hours=(6, 18)) -> dict[dt.date, list[str]]:
    """Run the scheduler at each hour of each day (UTC); the money mail queued per day."""
    per_day, seen, composer = {}, len(money_mail()), Composer(settings)
    on = first
    while on <= last:
        for hour in hours:
            clock.now = dt.datetime.combine(on, dt.time(hour))
            run_due(settings, clock.now, composer)
        sent = money_mail()
        if len(sent) > seen:
            per_day[on] = sent[seen:]
        seen = len(sent)
        on += dt.timedelta(days=1)
    return per_day


def balance(member):
    return members.account(member).balance_cents


def test_notice_a_week_before_the_debit_on_the_last_day_and_the_euro_notice_in_january(group, trio, settings):
    days = step_days(settings, group.clock, dt.date(2026, 12, 15), dt.date(2027, 1, 10))
    assert days == {
        dt.date(2026, 12, 24): ["contributions/notice"] * 3,
        dt.date(2026, 12, 31): ["contributions/charged"] * 3,
        dt.date(2027, 1, 2): ["euro/notice"] * 3,
    }
    assert [balance(m) for m in trio] == [-600] * 3
    assert Transfer.select().where(Transfer.initiator == "levy").count() == 3
    assert ledger.check() == []


def test_euro_reminders_core_group_and_fine_fall_on_their_days(group, trio, settings):
    # Days around each due day (walking all 365 only takes longer): not before, on the day, once.
    days = {}
    for first in (dt.date(2026, 12, 30), dt.date(2027, 3, 28), dt.date(2027, 6, 28), dt.date(2027, 9, 28),
                  dt.date(2027, 12, 28)):
        days.update(step_days(settings, group.clock, first, first + dt.timedelta(days=6), hours=(11, 23)))
    euro_days = {on: [k for k in kinds if k.startswith("euro/")] for on, kinds in days.items()}
    euro_days = {on: kinds for on, kinds in euro_days.items() if kinds}
    # 23:00 UTC is already the next day in Amsterdam: the group's own calendar counts.
    assert euro_days == {
        dt.date(2027, 1, 1): ["euro/notice"] * 3,
        dt.date(2027, 4, 1): ["euro/reminder"] * 3,
        dt.date(2027, 7, 1): ["euro/reminder"] * 3,
        dt.date(2027, 10, 1): ["euro/core-group"] * 3,
        dt.date(2027, 12, 31): ["euro/fined"] * 3,
        dt.date(2028, 1, 1): ["euro/notice"] * 3,
    }
    assert EuroStep.select().where(EuroStep.year == 2027).count() == 15


def test_a_debit_missed_while_the_server_was_down_is_made_late_once(group, trio, settings):
    step_days(settings, group.clock, dt.date(2026, 12, 24), dt.date(2026, 12, 24))
    days = step_days(settings, group.clock, dt.date(2027, 1, 3), dt.date(2027, 1, 4))
    assert days[dt.date(2027, 1, 3)][:3] == ["contributions/charged"] * 3
    assert [balance(m) for m in trio] == [-600] * 3
    assert contributions.settled(trio[0], contributions.parse_period("2026Q4")).created.date() == dt.date(2027, 1, 3)


def test_a_first_start_after_a_period_ended_charges_nothing_for_it(group, trio, settings):
    days = step_days(settings, group.clock, dt.date(2027, 1, 5), dt.date(2027, 1, 6))
    assert all(kind.startswith("euro/") for kinds in days.values() for kind in kinds)
    assert [balance(m) for m in trio] == [0] * 3


def test_a_contribution_run_cut_short_by_a_crash_is_finished_next_minute_once(group, trio, settings, monkeypatch):
    step_days(settings, group.clock, dt.date(2026, 12, 24), dt.date(2026, 12, 30))
    real, calls = contribution_mail.charged_notice, []

    def crash_on_the_second(row, *args, **kw):
        calls.append(row)
        if len(calls) == 2:
            raise RuntimeError("killed")
        return real(row, *args, **kw)

    monkeypatch.setattr(contribution_mail, "charged_notice", crash_on_the_second)
    group.clock.now = dt.datetime(2026, 12, 31, 8)
    with pytest.raises(RuntimeError):
        run_due(settings, group.clock.now)
    assert [balance(m) for m in trio] == [-600, 0, 0]
    group.clock.advance(minutes=1)
    run_due(settings, group.clock.now)
    run_due(settings, group.clock.now)
    assert [balance(m) for m in trio] == [-600] * 3
    assert money_mail().count("contributions/charged") == 3
