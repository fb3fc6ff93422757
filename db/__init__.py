"""The database: one peewee proxy, bound by `connect(url)` at the composition root."""
from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path

from peewee import DatabaseProxy, PostgresqlDatabase, SqliteDatabase
from playhouse.db_url import connect as connect_url
from playhouse.db_url import parse as parse_url

from . import memo
from .writelock import WriteLock

database = DatabaseProxy()

# WAL lets the SMTP thread store mail while the worker processes; synchronous=FULL
# because a mail we answered 250 for must survive a power cut, not only a crash.
SQLITE_PRAGMAS = {
    "journal_mode": "wal",
    "synchronous": "full",
    "foreign_keys": 1,
    "busy_timeout": 30000,
}


def connect(url: str):
    """Bind the models to the database at `url` and return it."""
    if url.startswith("sqlite:///") and ":memory:" not in url:
        Path(url[len("sqlite:///"):]).parent.mkdir(parents=True, exist_ok=True)
    if url.startswith("sqlite:"):
        db = _SqliteDatabase(**parse_url(url), pragmas=SQLITE_PRAGMAS)
        if db.database != ":memory:":
            db.write_lock = WriteLock(db.database, SQLITE_PRAGMAS["busy_timeout"] / 1000)
    else:
        db = connect_url(url)
    database.initialize(db)
    return db


class _SqliteDatabase(SqliteDatabase):
    """Tells the memo of each statement before it runs, so a write forgets what it changes."""

    def execute_sql(self, sql, params=None):
        memo.executing(sql)
        return super().execute_sql(sql, params)


def is_sqlite() -> bool:
    return isinstance(database.obj, SqliteDatabase)


def is_postgres() -> bool:
    return isinstance(database.obj, PostgresqlDatabase)


def write_transaction():
    """A transaction that will write. On SQLite it takes the write lock at BEGIN
    (IMMEDIATE): a deferred transaction that reads first and writes later fails with
    SQLITE_BUSY when another connection wrote in between, whatever busy_timeout says."""
    if is_sqlite() and database.transaction_depth() == 0:
        lock = getattr(database.obj, "write_lock", None)
        return _locked(lock) if lock is not None else database.atomic("IMMEDIATE")
    return database.atomic()


def writers_waiting() -> bool:
    """Whether another writer waits for the one we hold (SQLite only: elsewhere writers
    do not wait for each other's transactions as a whole)."""
    lock = getattr(database.obj, "write_lock", None)
    return lock is not None and lock.wanted()


@contextmanager
def _locked(lock):
    with lock.held(), database.atomic("IMMEDIATE"):
        memo.start()
        try:
            yield
        finally:
            memo.stop()
