"""Rows read again within one SQLite write transaction come from memory (db/memo.py):
one SELECT for repeated look-ups, each answer an independent copy; a write forgets its
table (a delete also the tables its cascades reach), a rolled-back savepoint forgets
everything, and outside a write transaction nothing is kept. A payment confirmation
gives the same receipts and balances in fewer statements."""
from __future__ import annotations

from contextlib import contextmanager

import pytest

from db import database, is_sqlite, members, memo, write_transaction
from db.models import Account, Address, InboundMessage, Member, Notice, Transfer
from db.prepared import by_id
from mailer import settings as settings_module


@pytest.fixture
def settings(settings):
    # Members in tests joined "today"; the newcomer limit has its own test.
    return settings_module.replace(settings, limits={"newcomer_months": 0})


@pytest.fixture(autouse=True)
def sqlite_only(db):
    if not is_sqlite():
        pytest.skip("the memo acts only within SQLite write transactions")


@contextmanager
def traced():
    """Every statement this thread's connection runs meanwhile, as SQLite saw it."""
    seen = []
    connection = database.connection()
    connection.set_trace_callback(seen.append)
    try:
        yield seen
    finally:
        connection.set_trace_callback(None)


def selects(seen) -> list[str]:
    return [sql for sql in seen if sql.lstrip().upper().startswith("SELECT")]


def association() -> int:
    return Account.get(Account.code == "association").id


def test_a_row_read_twice_in_a_write_transaction_is_selected_once_and_each_answer_is_a_copy(db):
    account_id = association()
    with write_transaction(), traced() as seen:
        first = by_id(Account, account_id)
        first.balance_cents = 999
        second = by_id(Account, account_id)
        second.name = "changed"
        third = by_id(Account, account_id)
    assert len(selects(seen)) == 1
    assert second is not first and third is not second
    assert (second.balance_cents, third.balance_cents, third.name) == (0, 0, "Association")


def test_a_write_to_the_table_is_read_back_and_a_write_elsewhere_keeps_the_rows(db):
    account_id = association()
    with write_transaction():
        assert by_id(Account, account_id).balance_cents == 0
        Account.update(balance_cents=500).where(Account.id == account_id).execute()
        with traced() as seen:
            assert by_id(Account, account_id).balance_cents == 500
            assert by_id(Account, account_id).balance_cents == 500
        assert len(selects(seen)) == 1  # read once after the write, then kept again

        row = by_id(Account, account_id)
        row.balance_cents = 700
        row.save()
        assert by_id(Account, account_id).balance_cents == 700

        with traced() as seen:
            Notice.create(address="an@example.org", kind="test")
            assert by_id(Account, account_id).balance_cents == 700
        assert selects(seen) == []


def test_a_rolled_back_savepoint_forgets_what_was_read_within_it(db):
    account_id = association()
    with write_transaction():
        assert by_id(Account, account_id).balance_cents == 0
        with pytest.raises(RuntimeError):
            with database.atomic():
                Account.update(balance_cents=300).where(Account.id == account_id).execute()
                assert by_id(Account, account_id).balance_cents == 300  # kept within the savepoint
                raise RuntimeError("undo")
        with traced() as seen:
            assert by_id(Account, account_id).balance_cents == 0
            assert by_id(Account, account_id).balance_cents == 0
        assert len(selects(seen)) == 1  # read from the database, then kept again
    assert Account.get_by_id(account_id).balance_cents == 0


def test_a_delete_forgets_the_rows_its_cascades_reach(db):
    # A member without an account, so that it can be deleted.
    member = Member.create(number=99, name="Gone")
    address = Address.create(member=member, email="gone@example.org", primary=True)
    inbound = InboundMessage.create(message_id="<gone@example.org>", raw=b"x", member=member)
    assert {"address", "inbound_message"} <= memo._cascades()["member"]
    with write_transaction():
        assert members.by_address("gone@example.org").id == member.id
        assert by_id(Address, address.id).email == "gone@example.org"   # kept under address only
        assert by_id(InboundMessage, inbound.id).member_id == member.id  # kept under inbound_message only
        Member.delete().where(Member.id == member.id).execute()
        with pytest.raises(Address.DoesNotExist):  # ON DELETE CASCADE
            by_id(Address, address.id)
        assert by_id(InboundMessage, inbound.id).member_id is None  # ON DELETE SET NULL
        assert members.by_address("gone@example.org") is None


def test_nothing_is_kept_outside_a_write_transaction_and_the_memo_ends_with_it(db):
    account_id = association()
    assert not memo.active()
    with traced() as seen:
        by_id(Account, account_id)
        by_id(Account, account_id)
        with database.atomic():  # a transaction, but not one that holds the write lock
            by_id(Account, account_id)
            by_id(Account, account_id)
    assert len(selects(seen)) == 4
    with write_transaction():
        assert memo.active()
    assert not memo.active()
    with pytest.raises(RuntimeError):
        with write_transaction():
            raise RuntimeError("failed")
    assert not memo.active()
    with traced() as seen:
        by_id(Account, account_id)
    assert len(selects(seen)) == 1


def test_an_address_added_in_the_transaction_is_found_by_the_next_lookup(db, an):
    with write_transaction():
        assert members.by_address("an.work@example.org") is None
        members.add_address(an, "an.work@example.org")
        assert members.by_address("an.work@example.org").id == an.id
        assert members.by_address("newcomer@example.org") is None
        newcomer = members.add("Nieuw Lid", "newcomer@example.org")
        assert members.by_address("newcomer@example.org").id == newcomer.id


def test_a_payment_confirmation_books_the_same_in_fewer_than_50_statements(group, an, piet):
    group.mail("an@example.org", "BETAAL 12,50 aan piet@example.org voor fietsherstel")
    ask = group.last("an@example.org")
    counted = []
    process = group.processor.process

    def traced_process(inbound_id):
        with traced() as seen:
            state = process(inbound_id)
        counted.append(len(seen))
        return state

    group.processor.process = traced_process
    group.mail("an@example.org", "Re: " + ask.subject, "Ja\n\n> quoted confirmation\n",
               headers={"In-Reply-To": ask.message["Message-ID"]}, rcpt=[ask.message["Reply-To"]])

    transfer = Transfer.get()
    assert (transfer.state, transfer.number, transfer.amount_cents) == ("booked", 1, 1250)
    assert (members.account(an).balance_cents, members.account(piet).balance_cents) == (-1250, 1250)
    to_an, to_piet = group.last("an@example.org"), group.last("piet@example.org")
    assert to_an.subject == "Bewijs #1: 12,50 zonnen aan Piet Jansen"
    assert "Je nieuwe saldo: -12,50 zonnen" in to_an.text
    assert "Je nieuwe saldo: 12,50 zonnen" in to_piet.text
    assert len(counted) == 1 and counted[0] < 50, counted
