"""`lets report`: the year's accounts in the unit and in euros, as text and CSV."""
import csv
import datetime as dt
import io

import pytest

from db import euro, ledger, members, report
from db.models import Account
from mailer.runs import contributions as contribution_mail
from db.contributions import parse_period
from tests.test_euro import OLD, day, lets, settings  # noqa: F401  (the euro settings)


@pytest.fixture
def year(group, settings):
    """A small 2027: three members trade, pay the unit contribution, one never pays in euros."""
    an, sam, claire = (group.member("An de Vries", "an@example.org", joined=OLD),
                       group.member("Sam Taylor", "sam@example.org", language="en", joined=OLD),
                       group.member("Claire Dubois", "claire@example.org", language="fr", joined=OLD))
    solidarity = Account.get(Account.code == "solidarity")
    ledger.transfer_now(members.account(an), members.account(sam), 1250, "fietsherstel", limits=settings.limits,
                        now=dt.datetime(2026, 12, 1), entered_by="admin")      # last year: not in the volume
    ledger.transfer_now(members.account(an), members.account(sam), 2000, "les", limits=settings.limits,
                        now=dt.datetime(2027, 3, 1), entered_by="admin")
    ledger.transfer_now(members.account(claire), members.account(an), 500, "taart", limits=settings.limits,
                        now=dt.datetime(2027, 5, 1), entered_by="admin")
    ledger.transfer_now(solidarity, members.account(claire), 700, "gift", limits=settings.limits,
                        now=dt.datetime(2027, 5, 2), entered_by="admin")       # not member to member
    contribution_mail.run(settings, parse_period("2027Q1"), now=dt.datetime(2027, 3, 31, 8))
    day(settings, dt.date(2027, 1, 2))
    euro.record_payment(sam, 1800, on=dt.date(2027, 2, 1), entered_by="t")
    euro.record_payment(claire, 1000, on=dt.date(2027, 2, 1), entered_by="t")
    day(settings, dt.date(2027, 4, 2))
    day(settings, dt.date(2027, 7, 2))
    euro.waive(claire, 1300, "hardship", on=dt.date(2027, 8, 1), entered_by="t", year=2027)
    day(settings, dt.date(2028, 1, 1))
    return an, sam, claire


def rows(section):
    return {row.label: row.value for row in section.rows}


def test_the_report_adds_up_the_year_in_the_unit_and_in_euros(year):
    sections = {section.name: section for section in report.build(2027)}
    assert rows(sections["contributions"]) == {"members charged": 3, "received": 1800, "refunded": 0}
    assert rows(sections["fines"]) == {"fines": 1, "received": 2000}     # booked on 1 January 2028, for 2027
    assert rows(sections["volume"]) == {"transfers": 2, "volume": 2500}
    balances = rows(sections["balances"])
    assert balances["1 An de Vries"] == -1250 - 2000 + 500 - 600
    assert balances["association"] == 1800 and balances["total"] == 0
    assert rows(sections["euro"]) == {
        "contributions due": 5400, "registration fees due": 0, "surcharges": 1000, "refunded": 0,
        "balances settled on leaving": 0, "paid": 2800, "paid back": 0, "waived": 1300, "overdue": 2300,
        "members overdue": 1}
    assert rows(sections["euro-overdue"]) == {"1 An de Vries": 2300}
    fined = {section.name: section for section in report.build(2028)}
    assert rows(fined["fines"]) == {"fines": 0, "received": 0}


def test_a_fine_booked_on_1_january_shows_in_the_report_of_the_year_it_punishes(year, settings):
    # Another member trades on 1 January 2028 too: that transfer is 2028's, only the fine moves.
    an, sam, _ = year
    ledger.transfer_now(members.account(sam), members.account(an), 300, "soep", limits=settings.limits,
                        now=dt.datetime(2028, 1, 1, 9), entered_by="admin")
    last_year = lets(settings, "report", "--year", "2027", "--csv")
    assert last_year.exit_code == 0, last_year.output
    table = list(csv.DictReader(io.StringIO(last_year.output)))
    assert {"section": "fines", "label": "fines", "value": "1", "kind": "count"} in table
    assert {"section": "fines", "label": "received", "value": "2000", "kind": "unit"} in table
    assert {"section": "volume", "label": "transfers", "value": "2", "kind": "count"} in table
    this_year = list(csv.DictReader(io.StringIO(lets(settings, "report", "--year", "2028", "--csv").output)))
    assert {"section": "fines", "label": "received", "value": "0", "kind": "unit"} in this_year
    assert {"section": "volume", "label": "transfers", "value": "1", "kind": "count"} in this_year
    text = lets(settings, "report", "--year", "2027").output
    assert "Fines for euro contributions of 2027 left unpaid (unit)" in text


def test_sections_are_a_list_the_report_can_grow_by(year):
    def members_count(year):
        return report.Section("members", "Members", [report.Row("members", 3, report.COUNT)])

    report.SECTIONS.append(members_count)
    try:
        assert report.build(2027)[-1].rows == [report.Row("members", 3, report.COUNT)]
    finally:
        report.SECTIONS.remove(members_count)


def test_lets_report_prints_text_and_csv(year, settings):
    text = lets(settings, "report", "--year", "2027")
    assert text.exit_code == 0, text.output
    assert "Volume traded between members" in text.output and "25.00 zonnen" in text.output
    assert "overdue" in text.output and "23.00 EUR" in text.output and "28.00 EUR" in text.output
    exported = lets(settings, "report", "--year", "2027", "--csv")
    table = list(csv.DictReader(io.StringIO(exported.output)))
    assert {"section": "balances", "label": "total", "value": "0", "kind": "unit"} in table
    assert {"section": "euro", "label": "paid", "value": "2800", "kind": "EUR"} in table


def test_lets_euro_status_lists_who_owes_what(year, settings):
    exported = lets(settings, "euro", "status", "--year", "2027", "--csv")
    table = {row["number"]: row for row in csv.DictReader(io.StringIO(exported.output))}
    assert table["1"]["owed"] == "2300" and table["1"]["step"] == "fine"
    assert table["2"]["owed"] == "0" and table["2"]["paid"] == "1800" and table["2"]["step"] == "notice"
    assert table["3"]["owed"] == "0" and table["3"]["waived"] == "1300"
    text = lets(settings, "euro", "status", "--year", "2027").output
    assert "An de Vries" in text and "owed    23.00  fine" in text


def test_the_report_shows_budgets_allocated_and_spent_in_the_year(year, settings):
    from db import budgets

    an, sam, _ = year
    tuin = budgets.create("tuin", an)
    budgets.allocate(tuin, 1000, settings=settings, now=dt.datetime(2027, 4, 1), entered_by="admin")
    claim = budgets.propose_claim(sam, tuin, 400, "wieden", year=2027, month=4, settings=settings,
                                  now=dt.datetime(2027, 4, 10))
    ledger.book(claim.transfer, limits=settings.limits, now=dt.datetime(2027, 4, 11))
    sections = {section.name: section for section in report.build(2027)}
    assert rows(sections["budgets"]) == {"tuin allocated": 1000, "tuin spent": 400, "tuin left": 600,
                                         "allocated": 1000, "spent": 400}
    assert rows({s.name: s for s in report.build(2026)}["budgets"])["allocated"] == 0
    exported = lets(settings, "report", "--year", "2027", "--csv")
    table = list(csv.DictReader(io.StringIO(exported.output)))
    assert {"section": "budgets", "label": "tuin spent", "value": "400", "kind": "unit"} in table
    assert "Budgets allocated and spent in 2027" in lets(settings, "report", "--year", "2027").output


def test_the_report_lists_members_not_positive_in_the_last_two_years(group, settings):
    long_ago = dt.date(2023, 1, 1)
    bo = group.member("Bo Peeters", "bo@example.org", joined=long_ago)
    kim = group.member("Kim Claes", "kim@example.org", joined=long_ago)
    ria = group.member("Ria Smit", "ria@example.org", joined=long_ago)
    nel = group.member("Nel Nieuw", "nel@example.org", joined=dt.date(2026, 1, 1))
    for payer, payee, cents, on in ((bo, kim, 3000, dt.datetime(2023, 6, 1)),
                                    (ria, bo, 1200, dt.datetime(2023, 7, 1)),
                                    (kim, bo, 9000, dt.datetime(2025, 6, 1)),
                                    (nel, kim, 500, dt.datetime(2026, 2, 1))):
        ledger.transfer_now(members.account(payer), members.account(payee), cents, "work",
                            limits=settings.limits, now=on, entered_by="admin")
    # From August 2025 on Kim was at -60.00, then -55.00; Ria at -12.00 all along; Bo is
    # positive, and Nel has not been a member for two years.
    section = report.members_not_positive(2027, today=dt.date(2027, 8, 1))
    assert rows(section) == {f"{kim.number} Kim Claes": -5500, f"{ria.number} Ria Smit": -1200}
    assert section.title == "Members not positive in the 2 years up to 2027-08-01"
    exported = lets(settings, "report", "--csv")
    table = list(csv.DictReader(io.StringIO(exported.output)))
    assert {"section": "not-positive", "label": f"{ria.number} Ria Smit", "value": "-1200", "kind": "unit"} in table
