"""A demo year, replayed with a simulated clock through the real pipeline and `run_due`:
members join by mail and are approved, trade by mail, pay the unit contribution every
quarter; the euro notices go out in January, one member pays and one never does
(reminders with surcharges, the core group, the year-end fine, the debt stays); one
member leaves with a negative balance (monthly reminders, the settlement); a budget is
allocated and a claim paid. Every notice, fine and balance is checked against the
rules, and every scheduled run repeated at the same moments changes nothing."""
from __future__ import annotations

import datetime as dt
import email
import email.policy
from dataclasses import dataclass

from click.testing import CliRunner

from db import database, euro, ledger, members, tokens
from db.models import (Account, Contribution, Departure, EuroCharge, EuroPayment, EuroStep, Member,
                       OutboundMessage, Transfer)
from mailer.cli import budget as cli_budget, members as cli_members
from mailer.message import compose
from mailer.cli import main
from mailer.message.compose import Composer
from mailer.runs.dues import local_date
from mailer.runs.scheduled import run_due
from tests.conftest import SETTINGS_INI

FOUNDED = dt.date(2026, 6, 1)
YEAR = 2027                                       # settings.ini: [euro] first_year
RUN_HOURS = (6, 18)                               # `lets serve` looks twice a day here (UTC)
ADMIN = "beheer@lets.example"


@dataclass(frozen=True)
class Sent:
    day: dt.date              # the group's calendar day it was queued on
    to: str
    kind: str                 # the template
    subject: str


class Year:
    """The group, its clock and the administrators' `lets` command line on that clock."""

    def __init__(self, group, settings, monkeypatch):
        self.group, self.settings, self.clock = group, settings, group.clock
        self.composer = Composer(settings)
        self.moments: list[dt.datetime] = []
        self.log: list[Sent] = []
        self.seen = 0
        for module in (compose, cli_members, cli_budget):
            monkeypatch.setattr(module, "now_utc", lambda: self.clock.now)
        self.env = {"LETS_DATABASE_URL": settings.database.url, "LETS_SECURITY_SECRET": "x",
                    "LETS_OUTBOUND_MAILDIR": settings.outbound.maildir}

    def at(self, day: dt.date, hour: int = 10) -> None:
        self.clock.now = dt.datetime.combine(day, dt.time(hour))

    def collect(self) -> None:
        rows = list(OutboundMessage.select().where(OutboundMessage.id > self.seen).order_by(OutboundMessage.id))
        for row in rows:
            # As it goes out: delivery unseals the tokens the outbox keeps sealed (db/tokens.py).
            raw = tokens.unseal(bytes(row.raw), self.settings.secret())
            message = email.message_from_bytes(raw, policy=email.policy.default)
            self.log.append(Sent(local_date(self.settings, self.clock.now), row.recipient, row.kind,
                                 str(message["Subject"])))
            self.seen = row.id

    def run_until(self, last: dt.date) -> None:
        """`lets serve`'s scheduler at each run hour of each day up to `last`."""
        day = self.clock.now.date() + dt.timedelta(days=1) if self.moments else dt.date(YEAR, 1, 1)
        while day <= last:
            for hour in RUN_HOURS:
                self.clock.now = dt.datetime.combine(day, dt.time(hour))
                self.moments.append(self.clock.now)
                run_due(self.settings, self.clock.now, self.composer)
                self.collect()
            day += dt.timedelta(days=1)

    def mail(self, sender, subject, body=""):
        self.group.mail(sender, subject, body)
        self.collect()

    def confirm(self, sender, ask: Sent, word: str):
        """The member's reply to a tokened mail, from their own mailbox."""
        message = self.group.outbox(ask.to)[-1].message
        assert str(message["Subject"]) == ask.subject
        self.group.mail(sender, "Re: " + ask.subject, word + "\n\n> quoted\n", rcpt=[message["Reply-To"]])
        self.collect()

    def last(self, to: str) -> Sent:
        return [s for s in self.log if s.to == to][-1]

    def lets(self, *args) -> str:
        result = CliRunner().invoke(main, ["--settings", str(SETTINGS_INI), *args], env=self.env)
        database.connect(reuse_if_open=True)
        assert result.exit_code == 0, result.output
        self.collect()
        return result.output


def test_demo_year(group, settings, monkeypatch):
    year = Year(group, settings, monkeypatch)
    an = group.member("An de Vries", "an@example.org", language="nl", joined=FOUNDED)
    piet = group.member("Piet Jansen", "piet@example.org", language="nl", joined=FOUNDED)
    claire = group.member("Claire Dubois", "claire@example.org", language="fr", joined=FOUNDED)
    sam = group.member("Sam Taylor", "sam@example.org", language="en", joined=FOUNDED)

    year.run_until(dt.date(YEAR, 1, 4))
    year.at(dt.date(YEAR, 1, 4))
    year.lets("budget", "create", "tuin", "--holder", "piet@example.org")
    year.run_until(dt.date(YEAR, 1, 11))
    year.at(dt.date(YEAR, 1, 11))
    year.mail("an@example.org", "AANBOD: Fietsherstel", "Geldig tot: 2028-01-10\n\nIk repareer fietsen.")
    year.mail("piet@example.org", "AANBOD: Tuinwerk", "Geldig tot: 2028-01-10\n\nSnoeien en wieden.")
    year.mail("claire@example.org", "OFFRE: Cours de français", "Valable jusqu'au: 2028-01-10\n\nConversation.")
    year.mail("sam@example.org", "OFFER: English lessons", "Valid until: 2028-01-10\n\nGrammar and talk.")
    year.run_until(dt.date(YEAR, 1, 12))
    year.at(dt.date(YEAR, 1, 12))
    year.mail("an@example.org", "BETAAL 25 aan piet@example.org voor fietsherstel")
    year.confirm("an@example.org", year.last("an@example.org"), "JA")

    year.run_until(dt.date(YEAR, 1, 15))
    year.lets("euro", "paid", "sam@example.org", "18,00")
    year.run_until(dt.date(YEAR, 1, 20))
    year.lets("euro", "paid", "LETS-2027-0002-71", "18,00")          # by the payment reference
    year.run_until(dt.date(YEAR, 2, 3))
    year.lets("euro", "paid", "1", "18,00", "--date", "2027-02-02")
    year.run_until(dt.date(YEAR, 2, 5))
    year.at(dt.date(YEAR, 2, 5))
    year.mail("claire@example.org", "FACTURE 40 à sam@example.org pour cours de français")
    year.confirm("sam@example.org", year.last("sam@example.org"), "Yes")

    # Jo applies by mail and is approved: the registration fee and the full year's contribution.
    year.run_until(dt.date(YEAR, 3, 1))
    year.at(dt.date(YEAR, 3, 1))
    year.mail("jo@example.net", "JOIN Jo Smith")
    year.run_until(dt.date(YEAR, 3, 2))
    year.at(dt.date(YEAR, 3, 2))
    year.lets("member", "approve", "jo@example.net")
    jo = members.by_address("jo@example.net")
    year.run_until(dt.date(YEAR, 4, 5))
    year.lets("euro", "paid", "jo@example.net", "28,00")
    year.lets("budget", "allocate", "tuin", "20")
    year.run_until(dt.date(YEAR, 4, 20))
    year.at(dt.date(YEAR, 4, 20))
    year.mail("sam@example.org", "PAY 30 to an@example.org for gardening")
    year.confirm("sam@example.org", year.last("sam@example.org"), "YES")

    # Sam gives notice with a negative balance: leaving, reminded monthly, settled in euros.
    year.run_until(dt.date(YEAR, 5, 10))
    year.at(dt.date(YEAR, 5, 10))
    year.mail("sam@example.org", "CANCEL")
    year.confirm("sam@example.org", year.last("sam@example.org"), "Yes")

    year.run_until(dt.date(YEAR, 6, 15))
    year.at(dt.date(YEAR, 6, 15))
    year.mail("jo@example.net", "CLAIM 10 for tuin weeding the community garden")
    year.confirm("piet@example.org", year.last("piet@example.org"), "ja")

    # Lou applies after 1 July: half the year's contribution, and the registration fee.
    year.run_until(dt.date(YEAR, 8, 15))
    year.at(dt.date(YEAR, 8, 15))
    year.mail("lou@example.fr", "ADHÉRER Lou Martin")
    year.run_until(dt.date(YEAR, 8, 16))
    year.at(dt.date(YEAR, 8, 16))
    year.lets("member", "approve", "lou@example.fr")
    lou = members.by_address("lou@example.fr")
    year.run_until(dt.date(YEAR, 8, 17))
    year.at(dt.date(YEAR, 8, 17))
    year.mail("lou@example.fr", "OFFRE: Pain au levain", "Valable jusqu'au: 2028-01-10\n\nLe samedi.")
    year.run_until(dt.date(YEAR, 9, 1))
    year.lets("euro", "paid", "lou@example.fr", "19,00")
    year.run_until(dt.date(YEAR, 9, 13))
    year.lets("member", "settle", "sam@example.org", "--euro")
    year.run_until(dt.date(YEAR, 9, 20))
    year.lets("euro", "paid", "sam@example.org", "8,20")
    year.run_until(dt.date(YEAR + 1, 1, 1))

    check_the_year(year, an, piet, claire, sam, jo, lou)
    check_every_run_again_changes_nothing(year)


WHO = {"an@example.org": "an", "piet@example.org": "piet", "claire@example.org": "claire",
       "sam@example.org": "sam", "jo@example.net": "jo", "lou@example.fr": "lou", ADMIN: "admin"}
D = dt.date

# Every mail of the year but the weekly digests: (the group's day, to whom, template).
EXPECTED = [
    (D(2027, 1, 1), "an", "offers/reminder"), (D(2027, 1, 1), "piet", "offers/reminder"),
    (D(2027, 1, 1), "claire", "offers/reminder"), (D(2027, 1, 1), "sam", "offers/reminder"),
    (D(2027, 1, 2), "an", "euro/notice"), (D(2027, 1, 2), "piet", "euro/notice"),
    (D(2027, 1, 2), "claire", "euro/notice"), (D(2027, 1, 2), "sam", "euro/notice"),
    (D(2027, 1, 11), "an", "listing/posted"), (D(2027, 1, 11), "piet", "listing/posted"),
    (D(2027, 1, 11), "claire", "listing/posted"), (D(2027, 1, 11), "sam", "listing/posted"),
    (D(2027, 1, 12), "an", "trade/confirm"), (D(2027, 1, 12), "an", "receipt/booked"),
    (D(2027, 1, 12), "piet", "receipt/booked"),
    (D(2027, 1, 15), "sam", "euro/receipt"), (D(2027, 1, 20), "piet", "euro/receipt"),
    (D(2027, 2, 3), "an", "euro/receipt"),
    (D(2027, 2, 5), "sam", "trade/invoice"), (D(2027, 2, 5), "claire", "trade/invoice-sent"),
    (D(2027, 2, 5), "sam", "receipt/booked"), (D(2027, 2, 5), "claire", "receipt/booked"),
    (D(2027, 3, 1), "jo", "join/received"), (D(2027, 3, 1), "admin", "join/admin"),
    (D(2027, 3, 2), "jo", "member/welcome"),
    (D(2027, 3, 3), "jo", "euro/notice"),                 # with the next day's euro run
    *[(D(2027, 3, 24), who, "contributions/notice") for who in ("an", "piet", "claire", "sam", "jo")],
    *[(D(2027, 3, 31), who, "contributions/charged") for who in ("an", "piet", "claire", "sam", "jo")],
    (D(2027, 4, 2), "claire", "euro/reminder"),
    (D(2027, 4, 5), "jo", "euro/receipt"),
    (D(2027, 4, 20), "sam", "trade/confirm"), (D(2027, 4, 20), "sam", "receipt/booked"),
    (D(2027, 4, 20), "an", "receipt/booked"),
    (D(2027, 5, 1), "jo", "offers/reminder"),             # 60 days after joining, no offer
    (D(2027, 5, 10), "sam", "cancel/confirm"), (D(2027, 5, 10), "sam", "cancel/leaving"),
    (D(2027, 6, 1), "sam", "leaving/reminder"),
    (D(2027, 6, 15), "piet", "claim/ask"), (D(2027, 6, 15), "jo", "claim/sent"),
    (D(2027, 6, 15), "piet", "claim/decided"), (D(2027, 6, 15), "jo", "receipt/booked"),
    *[(D(2027, 6, 23), who, "contributions/notice") for who in ("an", "piet", "claire", "sam", "jo")],
    (D(2027, 6, 30), "jo", "offers/reminder"),
    *[(D(2027, 6, 30), who, "contributions/charged") for who in ("an", "piet", "claire", "sam", "jo")],
    (D(2027, 7, 1), "sam", "leaving/reminder"),
    (D(2027, 7, 2), "claire", "euro/reminder"),
    (D(2027, 8, 1), "sam", "leaving/reminder"),
    (D(2027, 8, 15), "lou", "join/received"), (D(2027, 8, 15), "admin", "join/admin"),
    (D(2027, 8, 16), "lou", "member/welcome"),
    (D(2027, 8, 17), "lou", "euro/notice"), (D(2027, 8, 17), "lou", "listing/posted"),
    (D(2027, 8, 29), "jo", "offers/reminder"),
    (D(2027, 9, 1), "sam", "leaving/reminder"), (D(2027, 9, 1), "lou", "euro/receipt"),
    (D(2027, 9, 11), "admin", "leaving/due"),             # the day after the four months
    (D(2027, 9, 13), "sam", "leaving/settling"),         # settled in euros: leaves once paid
    (D(2027, 9, 20), "sam", "euro/receipt"), (D(2027, 9, 20), "sam", "leaving/settled"),
    *[(D(2027, 9, 23), who, "contributions/notice") for who in ("an", "piet", "claire", "jo", "lou")],
    *[(D(2027, 9, 30), who, "contributions/charged") for who in ("an", "piet", "claire", "jo", "lou")],
    (D(2027, 10, 2), "admin", "euro/core-group"),
    (D(2027, 10, 28), "jo", "offers/reminder"),
    *[(D(2027, 12, 24), who, "contributions/notice") for who in ("an", "piet", "claire", "jo", "lou")],
    (D(2027, 12, 27), "jo", "offers/reminder"),
    *[(D(2027, 12, 31), who, "contributions/charged") for who in ("an", "piet", "claire", "jo", "lou")],
    (D(2028, 1, 1), "claire", "euro/fined"),
]

# The scheduled notices' subjects, in each reader's language.
SUBJECTS = {
    ("euro/notice", "an"): "Contributie 2027: €\xa018,00 (LETS-2027-0001-74)",
    ("euro/notice", "claire"): "Cotisation 2027 : 18,00\xa0€ (LETS-2027-0003-68)",
    ("euro/notice", "sam"): "Contribution 2027: €18.00 (LETS-2027-0004-65)",
    ("euro/notice", "jo"): "Contribution 2027: €28.00 (LETS-2027-0005-62)",        # fee 10 + 18
    ("euro/notice", "lou"): "Cotisation 2027 : 19,00\xa0€ (LETS-2027-0006-59)",   # fee 10 + half of 18
    ("euro/reminder", "claire"): ["Rappel 1 : cotisation 2027, reste 20,50\xa0€ (LETS-2027-0003-68)",
                                  "Rappel 2 : cotisation 2027, reste 23,00\xa0€ (LETS-2027-0003-68)"],
    ("euro/core-group", "admin"): "Contributie 2027 van Claire Dubois (lid 3) na 9 maanden onbetaald",
    ("euro/fined", "claire"): "Amende : cotisation 2027 impayée, 20,00 zonnen débités",
    ("leaving/due", "admin"): "Af te wikkelen: Sam Taylor (lid 4), saldo -82,00",
    ("leaving/settling", "sam"): "Leaving LETS Demo: €8.20 still to pay",
    ("leaving/settled", "sam"): "Your membership of LETS Demo has been settled",
    ("leaving/reminder", "sam"): ["Reminder: complete your notice by 10 September 2027"] * 4,
    ("cancel/leaving", "sam"): "Your notice to LETS Demo: what is left to do by 10 September 2027",
    ("member/welcome", "jo"): "Welcome to LETS Demo, Jo Smith!",
    ("member/welcome", "lou"): "Bienvenue à LETS Demo, Lou Martin !",
    ("contributions/notice", "jo"): ["Contribution 2027Q1 coming: 2.00 zonnen on 31 March 2027",   # from 2 March
                                     "Contribution 2027Q2 coming: 6.00 zonnen on 30 June 2027",
                                     "Contribution 2027Q3 coming: 6.00 zonnen on 30 September 2027",
                                     "Contribution 2027Q4 coming: 6.00 zonnen on 31 December 2027"],
    ("contributions/charged", "an"): [f"Contributie 2027Q{q}: 6,00 zonnen" for q in (1, 2, 3, 4)],
    ("contributions/charged", "sam"): [f"Contribution 2027Q{q}: 6.00 zonnen" for q in (1, 2)],
    ("contributions/charged", "lou"): ["Cotisation 2027Q3 : 3,00 zonnen", "Cotisation 2027Q4 : 6,00 zonnen"],
    ("claim/ask", "piet"): "Declaratie van Jo Smith: 10,00 zonnen uit tuin [t-",
}


def balance(member) -> int:
    return members.account(member).balance_cents


def check_the_year(year: Year, an, piet, claire, sam, jo, lou) -> None:
    mail = [s for s in year.log if s.kind != "digest"]
    assert [(s.day, WHO[s.to], s.kind) for s in mail] == EXPECTED
    for (kind, who), expected in SUBJECTS.items():
        subjects = [s.subject for s in mail if s.kind == kind and WHO[s.to] == who]
        if isinstance(expected, list):
            assert subjects == expected
        else:
            assert len(subjects) == 1 and subjects[0].startswith(expected), (kind, who, subjects)

    # Weekly digests reach members only while they are members.
    digests = [s for s in year.log if s.kind == "digest"]
    assert {WHO[s.to] for s in digests} == {"an", "piet", "claire", "sam", "jo", "lou"}
    assert max(s.day for s in digests if s.to == "sam@example.org") <= D(2027, 9, 20)   # paid up at 10:00
    assert min(s.day for s in digests if s.to == "jo@example.net") > D(2027, 3, 2)
    assert min(s.day for s in digests if s.to == "lou@example.fr") > D(2027, 8, 16)

    # Balances: trades, quarterly contributions of 6 (pro rata for newcomers), the claim,
    # the settlement, Claire's fine.
    assert balance(an) == -2500 + 3000 - 4 * 600
    assert balance(piet) == 2500 - 4 * 600
    assert balance(claire) == 4000 - 4 * 600 - 2000
    assert balance(sam) == -4000 - 3000 - 2 * 600 + 8200 == 0
    assert balance(jo) == -200 - 3 * 600 + 1000
    assert balance(lou) == -300 - 600
    association = Account.get(Account.code == "association").balance_cents
    contributions_received = (5 * 600 - 400) + 5 * 600 + (4 * 600 + 300) + 5 * 600
    assert association == contributions_received + 2000 - 2000 - 8200
    assert Account.get(Account.code == "budget:tuin").balance_cents == 2000 - 1000
    assert sum(a.balance_cents for a in Account.select()) == 0
    assert Contribution.select().count() == 5 + 5 + 5 + 5
    fines = Transfer.select().where(Transfer.entered_by == "euro")
    assert [(t.payer.member_id, t.amount_cents) for t in fines] == [(claire.id, 2000)]

    # The euro side: Claire's debt stays, with two surcharges; everyone else paid.
    assert {m.name: euro_owed(m) for m in (an, piet, claire, sam, jo, lou)} == {
        "An de Vries": 0, "Piet Jansen": 0, "Claire Dubois": 1800 + 250 + 250, "Sam Taylor": 0,
        "Jo Smith": 0, "Lou Martin": 0}
    assert [Member.get_by_id(m.id).status for m in (an, piet, claire, sam, jo, lou)] == \
        ["active", "active", "active", "left", "active", "active"]
    assert Departure.get().state == "settled"

    assert ledger.check() == [] and ledger.verify()[1] is None
    year.lets("ledger", "check")
    year.lets("ledger", "verify")


def euro_owed(member) -> int:
    return euro.outstanding_cents(member, YEAR)


def check_every_run_again_changes_nothing(year: Year) -> None:
    counts = {model: model.select().count()
              for model in (OutboundMessage, Transfer, Contribution, EuroCharge, EuroPayment, EuroStep)}
    balances = {a.code: a.balance_cents for a in Account.select()}
    for moment in year.moments:
        year.clock.now = moment
        run_due(year.settings, moment, year.composer)
    for quarter in (1, 2, 3, 4):
        year.lets("contributions", "notify", "--period", f"{YEAR}Q{quarter}")
        year.lets("contributions", "run", "--period", f"{YEAR}Q{quarter}")
    # Every day a euro step fell on, and the day after (up to the last day replayed: on
    # 2 January 2028 the next year's notices are due, which is new work, not a repeat).
    last = year.moments[-1].date()
    for day in sorted({s.day + dt.timedelta(days=extra) for s in year.log if s.kind.startswith("euro/")
                       for extra in (0, 1)}):
        if day <= last:
            year.lets("euro", "run", "--date", day.isoformat())
    assert {model: model.select().count() for model in counts} == counts
    assert {a.code: a.balance_cents for a in Account.select()} == balances
