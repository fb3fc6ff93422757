"""Claiming a row for one worker, so several processes can share a table of work."""
from __future__ import annotations

from contextlib import contextmanager

from . import is_postgres, write_transaction


@contextmanager
def exclusive():
    """A transaction for work that must happen once.

    SQLite: the write lock is taken at the start (`write_transaction`), so a second
    process waits and then sees the new state, instead of failing at its first
    write with SQLITE_BUSY after reading a state that is already stale.
    PostgreSQL: a plain transaction; `claim` locks the row itself.
    """
    with write_transaction():
        yield


def claim(model, row_id):
    """The row, locked until the transaction ends; None when another worker holds it.

    On PostgreSQL `FOR UPDATE SKIP LOCKED` lets a second worker move on to the next
    row at once rather than wait and redo the check.
    """
    query = model.select().where(model.id == row_id)
    if is_postgres():
        query = query.for_update(skip_locked=True)
    return query.first()


def claim_many(model, row_ids) -> dict:
    """`claim` for a batch in one query: {id: row} for the rows this worker now holds."""
    query = model.select().where(model.id.in_(list(row_ids)))
    if is_postgres():
        query = query.for_update(skip_locked=True)
    return {row.id: row for row in query}
