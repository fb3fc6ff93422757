"""Rows read again inside one SQLite write transaction, answered from memory.

Booking a payment and writing its two receipts read the same two members, their limits
and their addresses up to five times each, from places that do not know of each other
(the guard, the ledger, the limits, the receipts). Inside a SQLite write transaction
only this connection can change a row: the write lock is ours. So a row read once stays
true until this connection writes to its table, and every write statement forgets what
was read from the tables it can change (a delete also those its cascades reach); a
rollback to a savepoint forgets everything. Outside a write transaction, and on
PostgreSQL, where other transactions commit between our statements, nothing is kept.
"""
from __future__ import annotations

import functools
import re
import threading

import peewee

_local = threading.local()

# UPDATE "t" / INSERT INTO "t" change only t; DELETE FROM "t" also what cascades from t.
_WRITE = re.compile(r'\s*(UPDATE|INSERT\s+INTO|DELETE\s+FROM)\s+"?(\w+)"?', re.I)
_HARMLESS = ("SELECT", "SAVEPOINT", "RELEASE")


def start() -> None:
    _local.tables = {}


def stop() -> None:
    _local.tables = None


def active() -> bool:
    return getattr(_local, "tables", None) is not None


def get(tables: tuple, key):
    """What was kept for `key`, read from `tables`, or None."""
    kept_tables = getattr(_local, "tables", None)
    if not kept_tables:
        return None
    value = None
    for table in tables:  # kept under each table it read, forgotten with any of them
        kept = kept_tables.get(table)
        if kept is None or key not in kept:
            return None
        value = kept[key]
    return value


def put(tables: tuple, key, value) -> None:
    kept_tables = getattr(_local, "tables", None)
    if kept_tables is not None:
        for table in tables:
            kept_tables.setdefault(table, {})[key] = value


def executing(sql: str) -> None:
    """Called with every statement this connection runs, before it runs."""
    tables = getattr(_local, "tables", None)
    if not tables or sql.startswith(_HARMLESS):
        return
    changed = _changes(sql)
    if changed is None:
        tables.clear()
    else:
        for table in changed:
            tables.pop(table, None)


@functools.lru_cache(maxsize=512)
def _changes(sql: str) -> frozenset | None:
    """The tables a statement can change, or None when that is not known (forget all)."""
    found = _WRITE.match(sql)
    if found is None:
        return None
    verb, table = found.group(1).upper(), found.group(2).lower()
    if not verb.startswith("DELETE"):
        return frozenset([table])
    return _cascades().get(table)


@functools.lru_cache(maxsize=1)
def _cascades() -> dict[str, frozenset]:
    """For each table, the tables a delete from it can change: its own, and through
    ON DELETE CASCADE / SET NULL those that refer to it, transitively. The models are
    found as peewee's subclasses, so that this module needs none of ours (models.py reads
    through prepared.py, which uses this memo); every model is defined before the first
    statement runs."""
    models, stack = [], [peewee.Model]
    while stack:
        for sub in stack.pop().__subclasses__():
            models.append(sub)
            stack.append(sub)
    referrers: dict[str, set] = {}
    for model in models:
        for field in model._meta.refs:  # foreign keys of this model → the model they refer to
            if (field.on_delete or "").upper() in ("CASCADE", "SET NULL"):
                referrers.setdefault(field.rel_model._meta.table_name, set()).add(model._meta.table_name)
    reach = {}
    for model in models:
        seen, todo = set(), [model._meta.table_name]
        while todo:
            table = todo.pop()
            if table not in seen:
                seen.add(table)
                todo.extend(referrers.get(table, ()))
        reach[model._meta.table_name] = frozenset(seen)
    return reach
