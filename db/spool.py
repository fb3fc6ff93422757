"""The inbound spool: where `lets serve`'s SMTP edge keeps each mail before it answers 250.

SQLite lets one connection write at a time, and the worker holds that turn while it
books a payment and writes its receipts. A client waiting for its 250 should not wait
for that. So, next to a SQLite database `lets.db`, the edge writes into a SQLite file
of its own, `lets.db.spool` (WAL, synchronous=FULL: a mail is on disk when its commit
returns, as it would be in the database), and the worker moves the mails into
`inbound_message` in a transaction that also records how far it has read
(`spool_mark`). A mail is taken once whatever crashes when: before that commit it is
still in the spool and past the mark, after it the mark says it was taken. Mails
below the mark are deleted later, when convenient; forgetting a member (db/forget.py)
deletes them at once and rebuilds the file, so that no copy stays in its free pages or WAL.

The spool's ids never repeat (AUTOINCREMENT), and the mark is kept per spool identity:
a spool file deleted and made again starts a new count rather than hiding behind the
old mark. On PostgreSQL writers do not wait for each other's transactions as a whole,
and the edge stores straight into `inbound_message`.
"""
from __future__ import annotations

import datetime as dt
import os
import sqlite3
import uuid
from pathlib import Path

from playhouse.db_url import parse as parse_url

from .writelock import mode_of_database

BUSY_TIMEOUT = 30.0
SUFFIX = ".spool"


def path_for(database_url: str) -> Path | None:
    """The spool of a SQLite database file; None for other databases."""
    if not database_url.startswith("sqlite:") or ":memory:" in database_url:
        return None
    return beside(parse_url(database_url)["database"])


def beside(database_file: str) -> Path:
    """The spool of the SQLite database file `database_file`."""
    return Path(database_file + SUFFIX)


def _create(path: Path) -> None:
    """An empty spool file with the database file's permissions (an administrator who
    may write the database, for `lets process`, may write the spool too)."""
    mode = mode_of_database(str(path)[:-len(SUFFIX)]) if str(path).endswith(SUFFIX) else 0o600
    try:
        os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, mode))
    except FileExistsError:
        return
    os.chmod(path, mode)  # whatever the umask took away


class Spool:
    def __init__(self, path: Path):
        self.path = Path(path)
        if not self.path.exists():
            _create(self.path)
        # One connection, used by one thread at a time (the edge's store thread, or the worker).
        self.db = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT, isolation_level=None, check_same_thread=False)
        self.db.execute("PRAGMA journal_mode=wal")
        self.db.execute("PRAGMA synchronous=full")
        self.db.execute("BEGIN IMMEDIATE")
        try:
            self.db.execute("CREATE TABLE IF NOT EXISTS mail (id INTEGER PRIMARY KEY AUTOINCREMENT, "
                            "raw BLOB NOT NULL, mail_from TEXT, rcpt_tos TEXT NOT NULL, received_at TEXT NOT NULL)")
            self.db.execute("CREATE TABLE IF NOT EXISTS identity (name TEXT NOT NULL)")
            found = self.db.execute("SELECT name FROM identity").fetchone()
            if found is None:
                self.db.execute("INSERT INTO identity (name) VALUES (?)", (uuid.uuid4().hex,))
            self.db.execute("COMMIT")
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.identity = found[0] if found else self.db.execute("SELECT name FROM identity").fetchone()[0]

    @classmethod
    def existing(cls, path: Path | None) -> Spool | None:
        return cls(path) if path is not None and path.exists() else None

    def store_many(self, mails) -> list[int]:
        """Store (raw, mail_from, rcpt_tos) mails in one transaction (one fsync); their ids.
        Raises when the commit fails: then none is stored."""
        now = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None).isoformat(" ")
        ids = []
        self.db.execute("BEGIN IMMEDIATE")
        try:
            for raw, mail_from, rcpt_tos in mails:
                cursor = self.db.execute("INSERT INTO mail (raw, mail_from, rcpt_tos, received_at) VALUES (?, ?, ?, ?)",
                                         (raw, mail_from, " ".join(rcpt_tos), now))
                ids.append(cursor.lastrowid)
            self.db.execute("COMMIT")
        except BaseException:
            if self.db.in_transaction:  # SQLITE_FULL may have rolled back already
                self.db.execute("ROLLBACK")
            raise
        return ids

    def after(self, last_id: int, limit: int) -> list[tuple]:
        """Up to `limit` mails past `last_id`: (id, raw, mail_from, rcpt_tos, received_at)."""
        return self.db.execute("SELECT id, raw, mail_from, rcpt_tos, received_at FROM mail WHERE id > ? "
                               "ORDER BY id LIMIT ?", (last_id, limit)).fetchall()

    def forget(self, through_id: int) -> None:
        """Delete the mails up to `through_id`: the database has them."""
        self.db.execute("DELETE FROM mail WHERE id <= ?", (through_id,))

    def clear(self, through_id: int) -> tuple[int, bool]:
        """Delete the mails up to `through_id` and leave no copy of them in the spool's
        files (a member was forgotten): freed pages overwritten, the WAL emptied, the file
        rebuilt. (How many were deleted, whether the WAL was emptied: not while another
        connection still reads from it.)"""
        self.db.execute("PRAGMA secure_delete = ON")
        deleted = self.db.execute("DELETE FROM mail WHERE id <= ?", (through_id,)).rowcount
        self.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        self.db.execute("VACUUM")
        busy, _, _ = self.db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        return deleted, busy == 0

    def count_after(self, last_id: int) -> int:
        return self.db.execute("SELECT count(*) FROM mail WHERE id > ?", (last_id,)).fetchone()[0]

    def close(self) -> None:
        self.db.close()
