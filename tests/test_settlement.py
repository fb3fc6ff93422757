"""Open invoices booked by the daily pass when room came without a booking: an older
invoice ahead in the queue expired, or an administrator raised a limit."""
import pytest

from db import ledger, limits, members
from db.models import Transfer
from mailer import settings as settings_module
from mailer.runs import trades as trade_mail
from tests.test_ledger import book_now
from tests.test_trades import confirm


@pytest.fixture
def settings(settings):
    return settings_module.replace(settings, limits={"newcomer_months": 0}, trades={"open_days": 30})


def pay(group, sender, text, answer="JA"):
    group.mail(sender, text)
    confirm(group, sender, group.last(sender), answer)


def test_a_younger_open_invoice_is_booked_when_the_older_one_ahead_of_it_expires(group, settings, clock):
    payee = group.member("Payee", "payee@example.org", language="en")
    first, second = group.member("First", "first@example.org"), group.member("Second", "second@example.org")
    book_now(group.member("Bank", "bank@example.org"), payee, 29500, settings)    # payee at 295 of 300
    pay(group, "first@example.org", "BETAAL 20 aan payee voor oud")
    clock.advance(days=1)
    pay(group, "second@example.org", "BETAAL 10 aan payee voor jong")
    older, younger = Transfer.get(Transfer.description == "oud"), Transfer.get(Transfer.description == "jong")
    assert older.state == younger.state == "open"
    # The payee spends 8: room for the 10, but the older 20 is first in the queue.
    ledger.transfer_now(members.account(payee), members.account(first), 800, "x", limits=settings.limits,
                        now=clock(), entered_by="admin")
    assert Transfer.get_by_id(younger.id).state == "open"

    clock.advance(days=29)
    assert trade_mail.expire(settings, clock()) == (0, 1)
    assert Transfer.get_by_id(older.id).state == "expired"
    assert Transfer.get_by_id(younger.id).state == "booked"
    assert members.account(payee).balance_cents == 29500 - 800 + 1000
    assert group.last("second@example.org").subject.startswith("Bewijs #")
    assert group.last("payee@example.org").subject.startswith("Receipt #3: 10.00 zonnen from Second [r-")
    assert ledger.check() == [] and ledger.verify()[1] is None


def test_an_open_invoice_is_booked_by_the_daily_pass_after_a_limit_is_raised(group, settings, clock):
    payee, payer = group.member("Payee", "payee@example.org"), group.member("Payer", "payer@example.org")
    book_now(group.member("Bank", "bank@example.org"), payee, 29500, settings)
    pay(group, "payer@example.org", "BETAAL 20 aan payee voor soep")
    held = Transfer.get(Transfer.description == "soep")
    assert held.state == "open"
    limits.set_own(payee, None, 40000)
    assert Transfer.get_by_id(held.id).state == "open"          # nothing booked, nothing settled yet
    trade_mail.expire(settings, clock())
    assert Transfer.get_by_id(held.id).state == "booked"
    assert members.account(payee).balance_cents == 31500


def test_a_younger_open_invoice_does_not_jump_the_queue_when_its_payer_earns(group, settings, clock):
    payee = group.member("Payee", "payee@example.org")
    first, second = group.member("First", "first@example.org"), group.member("Second", "second@example.org")
    bank = group.member("Bank", "bank@example.org")
    book_now(bank, payee, 29500, settings)
    pay(group, "first@example.org", "BETAAL 20 aan payee voor oud")
    clock.advance(days=1)
    pay(group, "second@example.org", "BETAAL 10 aan payee voor jong")
    ledger.transfer_now(members.account(payee), members.account(bank), 800, "x", limits=settings.limits,
                        now=clock(), entered_by="admin")
    # Second earns: its balance moving is no reason to book its 10 before First's 20.
    ledger.transfer_now(members.account(bank), members.account(second), 500, "y", limits=settings.limits,
                        now=clock(), entered_by="admin")
    assert [t.state for t in Transfer.select().where(Transfer.description.in_(["oud", "jong"]))
            .order_by(Transfer.id)] == ["open", "open"]
    # The payee spends 7 more: 280 + 20 fits, the oldest goes first, then there is no room for the 10.
    ledger.transfer_now(members.account(payee), members.account(bank), 700, "z", limits=settings.limits,
                        now=clock(), entered_by="admin")
    assert [t.state for t in Transfer.select().where(Transfer.description.in_(["oud", "jong"]))
            .order_by(Transfer.id)] == ["booked", "open"]
    assert ledger.check() == [] and ledger.verify()[1] is None
