"""Random sequences of proposals, JA/NEE, invoices at the payee's risk, upper-limit open
invoices, expiry, limit changes and reversals keep every invariant of the ledger."""
import datetime as dt

from hypothesis import HealthCheck, example, given, settings as hsettings, strategies as st

from db import database, ledger, limits, members
from db.models import Account, Transfer
from tests.test_ledger import NOW, acct, settings  # noqa: F401  (newcomer limit off)

PEOPLE = 3
OPEN_DAYS = 30

# Amounts that bring balances to the limits of -300 / +300 in a few steps, and any other.
cents = st.sampled_from([500, 5000, 10000, 15000, 25000]) | st.integers(1, 40000)
propose = st.tuples(st.just("propose"), st.integers(0, PEOPLE - 1), st.integers(0, PEOPLE),
                    cents, st.sampled_from(["pay", "invoice", "invoice-open"]))
answer = st.tuples(st.just("answer"), st.integers(0, 50), st.sampled_from([True, True, True, False]))
passing = st.tuples(st.just("pass"), st.sampled_from([0, 1, 15, OPEN_DAYS]) | st.integers(0, 40))
reverse = st.tuples(st.just("reverse"), st.integers(0, 50))
admin = st.tuples(st.just("admin"), st.integers(0, PEOPLE - 1), st.integers(0, PEOPLE - 1), cents)
raise_limit = st.tuples(st.just("limit"), st.integers(0, PEOPLE - 1), st.integers(-60000, -10000),
                        st.integers(10000, 60000))
# Answers are drawn more often than the rest: most proposals should be decided.
steps = st.lists(st.one_of(propose, answer, propose, answer, passing, reverse, admin, raise_limit),
                 min_size=10, max_size=60)


def blocked_ahead(transfer: Transfer, open_rows: list[Transfer], limit_rules, today) -> bool:
    """An older open invoice that does not fit holds `transfer` back at the payee's upper
    limit or at the payer's lower limit (oldest first at each limit)."""
    older = [u for u in open_rows if (u.decided, u.id) < (transfer.decided, transfer.id)]
    at_upper = any(u.payee_id == transfer.payee_id and ledger._over_upper(
        Account.get_by_id(u.payee_id), u.amount_cents, limit_rules, today) for u in older)
    at_lower = any(u.payer_id == transfer.payer_id and not ledger._payer_has_room(u, limit_rules, today)
                   for u in older)
    return at_upper or at_lower


def assert_invariants(settled_now: dt.datetime | None, limit_rules) -> None:
    """`settled_now`: now, or None while a changed limit awaits the settlement pass (a
    booking settles only the two accounts it moved)."""
    assert ledger.check() == []                     # balances = booked transfers, sum zero
    assert ledger.verify()[1] is None               # hash chain
    for row in Transfer.select().where(Transfer.state == "open"):
        assert row.decided is not None and row.number is None
    if settled_now is not None:
        today = settled_now.date()
        open_rows = list(Transfer.select().where(Transfer.state == "open"))
        for row in open_rows:
            if ledger._fits(row, limit_rules, today):
                assert blocked_ahead(row, open_rows, limit_rules, today), f"open invoice {row.id} fits"


# Interleavings random search reaches only now and then, always run: the payee spends
# and the open invoice to it is booked at once; room that comes without a booking (an older invoice ahead expires, a limit is raised) for an invoice
# waiting at the payee's upper limit, and for one at the payer's lower limit (FACTUUR OPEN).
YOUNGER_BEHIND_EXPIRED = [("admin", 0, 1, 29500), ("propose", 2, 1, 2000, "pay"), ("answer", 0, True),
                          ("pass", 1), ("propose", 2, 1, 1000, "pay"), ("answer", 0, True),
                          ("admin", 1, 0, 800), ("pass", OPEN_DAYS - 1)]
SPENDING_MAKES_ROOM = [("admin", 0, 1, 29500), ("propose", 2, 1, 2000, "pay"), ("answer", 0, True),
                      ("admin", 1, 0, 2000)]
UPPER_RAISED = [("admin", 0, 1, 29500), ("propose", 2, 1, 2000, "pay"), ("answer", 0, True),
                ("limit", 1, -30000, 40000), ("pass", 0)]
LOWER_RAISED = [("admin", 0, 1, 29500), ("propose", 2, 0, 2000, "invoice-open"), ("answer", 0, True),
                ("limit", 0, -60000, 30000), ("pass", 0)]


@hsettings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps)
@example(YOUNGER_BEHIND_EXPIRED)
@example(SPENDING_MAKES_ROOM)
@example(UPPER_RAISED)
@example(LOWER_RAISED)
def test_random_trades_invoices_expiry_and_reversals_keep_every_invariant(group, settings, sequence):  # noqa: F811
    rules, now = settings.limits, NOW
    with database.atomic() as txn:
        people = [members.add(f"P {i}", f"p{i}-{id(sequence)}@example.org") for i in range(PEOPLE)]
        accounts = [acct(p) for p in people] + [Account.get(Account.code == "solidarity")]
        forced, unsettled = False, False
        for step in sequence:
            try:
                if step[0] == "propose":
                    _, payer, payee, cents, kind = step
                    payer_account, payee_account = accounts[payer], accounts[payee]
                    if kind != "pay" and payee < PEOPLE:
                        payer_account, payee_account = payee_account, payer_account
                    ledger.propose(payer_account, payee_account, cents, "h", limits=rules, now=now,
                                   initiator="payer" if kind == "pay" else "payee",
                                   payee_risk=kind == "invoice-open")
                elif step[0] == "answer":
                    pending = list(Transfer.select().where(Transfer.state == "pending").order_by(Transfer.id))
                    if pending:
                        chosen = pending[step[1] % len(pending)]
                        if step[2]:
                            ledger.book(chosen, limits=rules, now=now)
                        else:
                            ledger.decline(chosen, "rejected", now)
                elif step[0] == "pass":
                    now += dt.timedelta(days=step[1])
                    ledger.expire_pending(now)
                    ledger.expire_open(now, OPEN_DAYS)
                    ledger.settle_waiting(limits=rules, now=now)
                    unsettled = False
                elif step[0] == "reverse":
                    booked = [n for (n,) in Transfer.select(Transfer.number).where(
                        Transfer.number.is_null(False)).order_by(Transfer.number).tuples()]
                    if booked:
                        forced = True
                        ledger.reverse(booked[step[1] % len(booked)], now=now, entered_by="t", limits=rules)
                elif step[0] == "admin":
                    ledger.transfer_now(accounts[step[1]], accounts[step[2]], step[3], "a", limits=rules,
                                        now=now, entered_by="t")
                else:
                    forced, unsettled = True, True
                    limits.set_own(people[step[1]], step[2], step[3])
            except ledger.LedgerError:
                pass
            assert_invariants(None if unsettled else now, rules)
        if not forced:
            # Without reversals (which ignore limits) or changed limits, nobody left their limits.
            for person, account in zip(people, accounts):
                low, high = limits.for_member(person, rules, now.date())
                assert low <= Account.get_by_id(account.id).balance_cents <= high
        txn.rollback()
