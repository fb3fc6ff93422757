"""The ledger: limits, open invoices, admin entry, check and verify, invariants under load."""
import datetime as dt
import threading

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings as hsettings, strategies as st

from db import database, ledger, limits, members
from db.models import Account, Transfer
from mailer import settings as settings_module
from mailer.cli import main
from tests.conftest import SETTINGS_INI

NOW = dt.datetime(2026, 11, 23, 10, 0)


@pytest.fixture
def settings(settings):
    return settings_module.replace(settings, limits={"newcomer_months": 0})


def acct(member):
    return members.account(member)


def pay(group, payer_address, text):
    """Propose by mail and confirm from the payer's mailbox."""
    group.mail(payer_address, text)
    ask = group.last(payer_address)
    group.mail(payer_address, "Re: " + ask.subject, "JA\n", rcpt=[ask.message["Reply-To"]])


def book_now(payer, payee, cents, settings):
    return ledger.transfer_now(acct(payer) if hasattr(payer, "number") else payer,
                               acct(payee) if hasattr(payee, "number") else payee,
                               cents, "test", limits=settings.limits, now=NOW, entered_by="admin")


def test_pay_over_lower_limit_is_refused_and_nothing_is_booked(group, an, piet):
    group.mail("an@example.org", "BETAAL 301 aan piet voor verbouwing")
    reply = group.last("an@example.org")
    assert reply.subject == "Over de limiet: niet geboekt"
    assert "-300,00" in reply.text
    assert Transfer.select().count() == 0


def test_guest_may_go_only_twenty_below_zero(group, sam, piet):
    sam.type = "guest"
    sam.save()
    group.mail("sam@example.org", "PAY 21 to piet for bread")
    assert group.last("sam@example.org").subject == "Over the limit: not booked"
    group.mail("sam@example.org", "PAY 20 to piet for bread")
    assert group.last("sam@example.org").subject.startswith("Confirm: pay 20.00")


def test_newcomer_limit_applies_in_the_first_months(group, an, settings):
    strict = settings_module.replace(settings, limits={"newcomer_months": 6})
    an.joined = dt.date(2026, 10, 1)
    an.save()
    assert limits.for_member(an, strict.limits, dt.date(2026, 11, 23))[0] == -15000
    assert limits.for_member(an, strict.limits, dt.date(2027, 4, 1))[0] == -30000
    limits.set_own(an, -50000, None)
    assert limits.for_member(an, strict.limits, dt.date(2026, 11, 23)) == (-50000, 30000)


def test_earnings_over_the_upper_limit_wait_as_open_invoice_and_settle_oldest_first(group, an, piet, sam, settings):
    book_now(an, piet, 29000, settings)
    pay(group, "sam@example.org", "PAY 20 to piet for a lift")
    held = Transfer.get(Transfer.description == "a lift")
    assert held.state == "open"
    assert acct(piet).balance_cents == 29000
    to_piet = group.last("piet@example.org")
    assert to_piet.subject == "Open gehouden: 20,00 zonnen van Sam Taylor"
    assert "SCHENK 10" in to_piet.text
    assert group.last("sam@example.org").subject == "Waiting: 20.00 zonnen to Piet Jansen"
    # Piet donates 15 to the fund: room appears and the open invoice is booked.
    pay(group, "piet@example.org", "SCHENK 15")
    assert Transfer.get_by_id(held.id).state == "booked"
    assert acct(piet).balance_cents == 29000 - 1500 + 2000
    assert Account.get(Account.code == "solidarity").balance_cents == 1500
    assert group.last("sam@example.org").subject.startswith("Receipt #")
    assert ledger.check() == [] and ledger.verify()[1] is None


def test_receipt_warns_once_near_a_limit(group, an, piet, settings):
    book_now(an, piet, 26000, settings)
    pay(group, "an@example.org", "BETAAL 15 aan piet voor koffie")
    first = group.last("an@example.org").text
    assert "Let op: je staat op -275,00 van -300,00 zonnen, dicht bij je ondergrens" in first
    pay(group, "an@example.org", "BETAAL 1 aan piet voor thee")
    assert "Let op" not in group.last("an@example.org").text


def test_admin_trade_is_booked_at_once_and_mailed_to_both(group, an, piet, settings, tmp_path):
    result = CliRunner().invoke(main, ["--settings", str(SETTINGS_INI), "trade", "1", "piet@example.org",
                                       "12,50", "tuinwerk"], env=_env(settings))
    assert result.exit_code == 0, result.output
    assert "booked #1" in result.output
    assert acct(piet).balance_cents == 1250
    receipt = group.last("piet@example.org")
    assert receipt.subject.startswith("Bewijs #1: 12,50 zonnen van An de Vries [r-")   # the payee may refuse it
    assert "ingevoerd door: de beheerders" in receipt.text     # --by admin, in the reader's words
    assert group.last("an@example.org").subject == "Bewijs #1: 12,50 zonnen aan Piet Jansen"


def _env(settings):
    return {"LETS_DATABASE_URL": settings.database.url, "LETS_SECURITY_SECRET": "x",
            "LETS_OUTBOUND_MAILDIR": settings.outbound.maildir}


def test_ledger_check_and_verify_catch_a_row_changed_behind_the_applications_back(group, an, piet, settings):
    for cents in (500, 700, 900):
        book_now(an, piet, cents, settings)
    runner, env = CliRunner(), _env(settings)
    assert runner.invoke(main, ["--settings", str(SETTINGS_INI), "ledger", "check"], env=env).exit_code == 0
    ok = runner.invoke(main, ["--settings", str(SETTINGS_INI), "ledger", "verify"], env=env)
    assert ok.exit_code == 0 and "3 booked transfers verified" in ok.output
    database.execute_sql("UPDATE transfer SET amount_cents = 70000 WHERE number = 2")
    check = runner.invoke(main, ["--settings", str(SETTINGS_INI), "ledger", "check"], env=env)
    assert check.exit_code == 1
    assert "sum to" in check.output
    verify = runner.invoke(main, ["--settings", str(SETTINGS_INI), "ledger", "verify"], env=env)
    assert verify.exit_code == 1
    assert "transfer #2" in verify.output and "content does not match" in verify.output


def test_a_changed_balance_alone_is_caught_by_check(group, an, piet, settings):
    book_now(an, piet, 500, settings)
    database.execute_sql("UPDATE account SET balance_cents = balance_cents + 1 WHERE code = 'member:2'")
    problems = ledger.check()
    assert any("member:2" in p for p in problems) and any("sum to 1, not 0" in p for p in problems)


def test_reversal_is_a_new_transfer_and_the_original_stays(group, an, piet, settings):
    book_now(an, piet, 500, settings)
    ledger.reverse(1, now=NOW, entered_by="admin", limits=settings.limits)
    assert [t.state for t in Transfer.select().order_by(Transfer.id)] == ["booked", "booked"]
    assert acct(an).balance_cents == acct(piet).balance_cents == 0
    assert ledger.verify() == (2, None)


def test_concurrent_bookings_keep_the_sum_zero(group, settings):
    people = [members.add(f"Lid {i}", f"lid{i}@example.org") for i in range(4)]
    accounts = [acct(p) for p in people]
    errors = []

    def trade(offset):
        try:
            for i in range(15):
                payer, payee = accounts[(offset + i) % 4], accounts[(offset + i + 1) % 4]
                ledger.transfer_now(payer, payee, 100 + i, "rush", limits=settings.limits, now=NOW,
                                    entered_by="t")
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            database.close()

    threads = [threading.Thread(target=trade, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert Transfer.select().where(Transfer.state == "booked").count() == 60
    assert ledger.check() == []
    assert ledger.verify() == (60, None)


trades = st.lists(st.tuples(st.integers(0, 3), st.integers(0, 3), st.integers(1, 40000)), max_size=25)


@hsettings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(trades)
def test_random_trades_keep_every_invariant(group, settings, sequence):
    with database.atomic() as txn:
        people = [members.add(f"P {i}", f"p{i}-{id(sequence)}@example.org") for i in range(4)]
        accounts = [acct(p) for p in people]
        for payer, payee, cents in sequence:
            try:
                ledger.transfer_now(accounts[payer], accounts[payee], cents, "h", limits=settings.limits,
                                    now=NOW, entered_by="t")
            except ledger.LedgerError:
                pass
            assert ledger.check() == []
            assert ledger.verify()[1] is None
        for account in accounts:
            low, high = limits.for_account(Account.get_by_id(account.id), settings.limits, NOW.date())
            assert low <= Account.get_by_id(account.id).balance_cents <= high
        txn.rollback()
