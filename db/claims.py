"""Claiming a row for one worker, so several processes can share a table of work."""
from __future__ import annotations

from . import is_postgres


def claim_many(model, row_ids) -> dict:
    """{id: row} for the rows of `row_ids` this worker now holds, locked until the
    transaction ends. On PostgreSQL `FOR UPDATE SKIP LOCKED` lets a second worker move
    on at once rather than wait and redo the check; on SQLite the write transaction
    around it already holds every row."""
    query = model.select().where(model.id.in_(list(row_ids)))
    if is_postgres():
        query = query.for_update(skip_locked=True)
    return {row.id: row for row in query}
