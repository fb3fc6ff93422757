"""What `lets serve` makes sure of before it answers mail: the database opens, no other
server runs on it, the port is free; each failure said in one line with what to do.

A service manager restarts a failed service and shows its last lines: a traceback there
hides the one line that matters (found when a second `lets serve` was started by hand
beside the systemd one, and when port 25 was taken by the system's Postfix).
"""
from __future__ import annotations

import errno
import fcntl
import hashlib
import os
from pathlib import Path

import peewee
from playhouse.db_url import parse as parse_url

from db import connect, database

from . import health


class StartupError(Exception):
    """One line for the administrator: what is wrong and what to do."""


def open_database(url: str) -> None:
    """Bind and open the database at `url` now, rather than at the first query."""
    sqlite_file = parse_url(url)["database"] if url.startswith("sqlite:") and ":memory:" not in url else None
    try:
        connect(url)
        database.connect(reuse_if_open=True)
    except peewee.ImproperlyConfigured as exc:   # a database without its driver
        if url.startswith("postgres"):
            raise StartupError("[database] url names a PostgreSQL database, whose driver (psycopg2) is not "
                               "installed: install lets-mail with its postgres extra "
                               "(pip install 'lets-mail[postgres]'), or use SQLite") from exc
        raise StartupError(f"{exc}; check [database] url (LETS_DATABASE_URL)") from exc
    except (OSError, peewee.OperationalError) as exc:
        if sqlite_file is None:
            said = " ".join(str(exc).split())  # PostgreSQL's messages span lines
            raise StartupError(f"the database did not answer: {said}; check that it runs and that "
                               "[database] url (LETS_DATABASE_URL) names it, then try again later") from exc
        raise StartupError(f"cannot open the database {sqlite_file}: {_folder_problem(Path(sqlite_file), exc)}; "
                           "fix that, or set [database] url (LETS_DATABASE_URL) to a folder "
                           "this user may write") from exc


def _folder_problem(path: Path, exc: Exception) -> str:
    # SQLite says "unable to open database file" whatever the cause: look for ourselves.
    folder = path.parent
    if folder.exists() and not folder.is_dir():
        return f"{folder} is a file, not a folder"
    if not folder.is_dir():
        return f"its folder {folder} does not exist and cannot be made ({getattr(exc, 'strerror', None) or exc})"
    if not os.access(folder, os.W_OK | os.X_OK):
        return f"its folder {folder} may not be written by this user"
    if path.exists() and not os.access(path, os.R_OK | os.W_OK):
        return "the file may not be read and written by this user"
    return " ".join(str(exc).split())


class ServeLock:
    """An flock that one `lets serve` per database holds while it runs. Two servers on
    one SQLite file would share its spool and its health records, and each would start a
    worker of its own; the kernel drops the lock with the process, even one killed."""

    def __init__(self, settings):
        url = settings.database_url
        # Beside a SQLite file its folder of records is its own; another database's is
        # var/health of the settings' folder, which may serve more than one database.
        name = "serve.lock" if url.startswith("sqlite:") else f"serve-{hashlib.sha256(url.encode()).hexdigest()[:12]}.lock"
        self.path = health.folder(settings) / name
        self.fd: int | None = None

    def take(self) -> None:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        except OSError as exc:
            raise StartupError(f"cannot write {self.path}: {exc.strerror or exc}; the folder beside "
                               "the database must be writable by this user") from exc
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "unknown"
            os.close(fd)
            raise StartupError(f"another `lets serve` (pid {holder}) is running on this database; "
                               "stop it first (systemctl stop lets-serve), or give this one its own "
                               "[database] url") from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        self.fd = fd

    def release(self) -> None:
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None


def cannot_listen(host: str, port: int, exc: OSError) -> StartupError:
    """The line for an SMTP (or web) port that could not be bound."""
    where = f"{host}:{port}"
    if exc.errno == errno.EADDRINUSE:
        return StartupError(f"cannot listen on {where}: another program uses that port; stop it "
                            "(`ss -ltnp` names it), or choose another port with --port or [inbound] port")
    if exc.errno == errno.EACCES:
        return StartupError(f"cannot listen on {where}: ports below 1024 need root or the capability "
                            "CAP_NET_BIND_SERVICE (the systemd unit grants it), or use a port above 1024")
    if exc.errno == errno.EADDRNOTAVAIL:
        return StartupError(f"cannot listen on {where}: this machine has no such address; "
                            "set [inbound] host to one of its own (or 0.0.0.0)")
    return StartupError(f"cannot listen on {where}: {exc.strerror or exc}")
