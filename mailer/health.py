"""What `lets serve`'s processes say about themselves (a heartbeat, the trouble they are
in), and the trouble itself: logged once, retried with a capped back-off.

An operator's mistake (the outbox Maildir replaced by a file, the database made
read-only, a full disk) used to end the delivery process or leave the worker logging
a traceback every round, and nothing said from outside that work had stopped. Each
process now writes a small JSON file beside the database (`lets.db.health/<role>.json`,
written whole and renamed into place), which `lets status` reads without asking the
processes: a file, not a table, because the database may be the very thing that cannot
be written.
"""
from __future__ import annotations

import datetime as dt
import json
import logging
import os
import time
from pathlib import Path

from playhouse.db_url import parse as parse_url

# Seconds between heartbeats a process writes while all is well (a change of trouble is
# written at once).
HEARTBEAT_EVERY = 2.0
# After a failure the same work is tried again after FIRST_RETRY seconds, twice as long
# after each failure that follows, at most LAST_RETRY: a fixed mistake is noticed within
# seconds, and a lasting one costs a try every few seconds.
FIRST_RETRY = 0.5
LAST_RETRY = 4.0

ROLES = ("serve", "worker", "delivery")


def folder(settings) -> Path:
    """Where the processes of this group keep their records: beside a SQLite file, or in
    var/ for another database."""
    url = settings.database_url
    if url.startswith("sqlite:") and ":memory:" not in url:
        return Path(parse_url(url)["database"] + ".health")
    return settings.path("var/health")


def stamp(moment: dt.datetime | None = None) -> str:
    """A moment as the records keep it: naive UTC in ISO form, as the database does."""
    moment = moment or dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
    return moment.isoformat(" ", "seconds")


class Record:
    """One process's record, written when something changed or every HEARTBEAT_EVERY seconds."""

    def __init__(self, settings, role: str):
        self.path = folder(settings) / f"{role}.json"
        self.data = {"role": role, "pid": os.getpid(), "started": stamp(), "heartbeat": None,
                     "stopped": None, "error": None, "error_since": None, "last_scheduled": None}
        self.written = 0.0

    def beat(self, force: bool = False) -> None:
        if force or time.monotonic() - self.written >= HEARTBEAT_EVERY:
            self.data["heartbeat"] = stamp()
            self._write()

    def update(self, **values) -> None:
        self.data.update(values)
        self.beat(force=True)

    def stop(self) -> None:
        self.update(stopped=stamp())

    def _write(self) -> None:
        self.written = time.monotonic()
        temporary = self.path.with_name(f".{self.path.name}.{os.getpid()}")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            temporary.write_text(json.dumps(self.data))
            os.replace(temporary, self.path)
        except OSError as exc:
            # A full disk or a read-only folder: the record goes stale, which `lets status`
            # reports as a process that does not answer; never a reason to stop working.
            logging.getLogger(__name__).debug("health record %s not written: %s", self.path, exc)


def read(settings) -> dict[str, dict]:
    """The records there are, by role."""
    found = {}
    for role in ROLES:
        try:
            found[role] = json.loads((folder(settings) / f"{role}.json").read_text())
        except (OSError, ValueError):
            continue
    return found


class Trouble:
    """The trouble a loop is in: said once in the log when it starts (with what to do) and
    once when it ends, kept in the process's record, and waited out with a back-off."""

    def __init__(self, log: logging.Logger, record: Record | None = None):
        self.log, self.record = log, record
        self.current: str | None = None
        self.delay = FIRST_RETRY

    def failed(self, error: str, advice: str = "") -> float:
        """Note a failure; the seconds to wait before trying again."""
        if error != self.current:
            self.log.error("%s%s; retrying every few seconds", error, f" ({advice})" if advice else "")
            self.current, self.delay = error, FIRST_RETRY
            if self.record is not None:
                self.record.update(error=f"{error} ({advice})" if advice else error, error_since=stamp())
        wait = self.delay
        self.delay = min(self.delay * 2, LAST_RETRY)
        if self.record is not None:
            self.record.beat()
        return wait

    def cleared(self) -> None:
        if self.current is not None:
            self.log.warning("working again after: %s", self.current)
            self.current, self.delay = None, FIRST_RETRY
            if self.record is not None:
                self.record.update(error=None, error_since=None)


def database_advice(error: str, settings=None) -> str:
    """What an administrator can do about a database error, when it is theirs."""
    where = ""
    if settings is not None and settings.database_url.startswith("sqlite:"):
        where = f" {parse_url(settings.database_url)['database']}"
    text = error.lower()
    if "readonly" in text or "read-only" in text:
        return (f"the database file{where} cannot be written: check its owner, permissions and "
                "immutable flag, those of its folder, and that the file system is not mounted read-only; "
                "mail waits in the spool meanwhile")
    if "unable to open" in text:
        return (f"the database file{where} cannot be opened: check that it and its folder exist and "
                "may be read and written by this user; mail waits in the spool meanwhile")
    if "disk" in text and "full" in text:
        return "the disk holding the database is full: make room; mail waits in the spool meanwhile"
    return ""


def reopen_on(error: str) -> bool:
    """Whether the connection must be opened again to see a fix: SQLite keeps a file it
    could only open read-only (or not at all) so for the life of the connection."""
    text = error.lower()
    return "readonly" in text or "read-only" in text or "unable to open" in text
