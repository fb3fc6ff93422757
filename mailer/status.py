"""What `lets status` finds: the processes of `lets serve`, the mail waiting, the last
scheduled run, and the problems among them (for monitoring)."""
from __future__ import annotations

import datetime as dt
import sqlite3

import peewee
from peewee import fn

from db.models import InboundMessage, OutboundMessage, SpoolMark
from db.spool import Spool
from db.spool import path_for as spool_path_for

from . import health

# A process whose last heartbeat is older than this is taken for dead or stuck (they
# write one every few seconds, and at least once per turn of their loop).
FRESH = dt.timedelta(seconds=60)
# Mail accepted but not processed, replies queued but not delivered, scheduled runs not
# made for longer than these: something is stuck, even when no process says so.
UNPROCESSED_AFTER = dt.timedelta(minutes=5)
UNDELIVERED_AFTER = dt.timedelta(minutes=15)
SCHEDULE_AFTER = dt.timedelta(minutes=15)

LABELS = {"serve": "lets serve", "worker": "the worker process", "delivery": "the delivery process"}


def now_utc() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)


def _moment(text: str | None) -> dt.datetime | None:
    return dt.datetime.fromisoformat(text) if text else None


def age(seconds: float) -> str:
    seconds = int(seconds)
    if seconds < 120:
        return f"{seconds} s"
    if seconds < 7200:
        return f"{seconds // 60} min"
    if seconds < 172800:
        return f"{seconds // 3600} h"
    return f"{seconds // 86400} days"


def processes(settings, now: dt.datetime) -> dict[str, dict]:
    """Each role's record with `alive` (running, heartbeat fresh) and the heartbeat's age."""
    found = {}
    records = health.read(settings)
    for role in health.ROLES:
        record = records.get(role)
        if record is None:
            found[role] = {"alive": False, "heartbeat": None}
            continue
        beat = _moment(record.get("heartbeat"))
        seconds = (now - beat).total_seconds() if beat else None
        alive = not record.get("stopped") and seconds is not None and seconds <= FRESH.total_seconds()
        found[role] = {**record, "alive": alive, "heartbeat_age_seconds": seconds}
    return found


def trouble(settings, role: str, now: dt.datetime | None = None) -> str | None:
    """One line on the trouble a running process of `lets serve` is in now, or None."""
    now = now or now_utc()
    record = processes(settings, now)[role]
    if not record["alive"] or not record.get("error"):
        return None
    since = _moment(record.get("error_since"))
    lasting = f" since {record['error_since']} UTC ({age((now - since).total_seconds())})" if since else ""
    return f"{LABELS[role]} is held{lasting}: {record['error']}"


def _spooled(settings) -> tuple[int, dt.datetime | None]:
    """Mails the SMTP edge stored that the worker has not taken: how many, the oldest's arrival."""
    spool = Spool.existing(spool_path_for(settings.database_url))
    if spool is None:
        return 0, None
    try:
        mark = SpoolMark.select(SpoolMark.last_id).where(SpoolMark.spool == spool.identity).scalar() or 0
        count, oldest = spool.db.execute("SELECT count(*), min(received_at) FROM mail WHERE id > ?",
                                         (mark,)).fetchone()
    finally:
        spool.close()
    return count, _moment(oldest)


def _oldest(*moments) -> dt.datetime | None:
    found = [moment for moment in moments if moment is not None]
    return min(found) if found else None


def check(settings, now: dt.datetime | None = None) -> dict:
    """Everything `lets status` shows; `problems` is empty when all is well."""
    now = now or now_utc()
    problems = []
    running = processes(settings, now)
    report = {"now": health.stamp(now), "processes": running}
    waiting = queued = 0
    try:
        spooled, spooled_since = _spooled(settings)
        received, received_since = (InboundMessage.select(fn.COUNT(InboundMessage.id), fn.MIN(InboundMessage.received_at))
                                    .where(InboundMessage.state == "received").scalar(as_tuple=True))
        queued, queued_since = (OutboundMessage.select(fn.COUNT(OutboundMessage.id), fn.MIN(OutboundMessage.created))
                                .where(OutboundMessage.state.in_(("queued", "sending"))).scalar(as_tuple=True))
    except (peewee.PeeweeException, sqlite3.Error) as exc:
        problems.append(f"the database or the spool cannot be read: {' '.join(str(exc).split())}")
        spooled = received = queued = 0
        spooled_since = received_since = queued_since = None
    received_since, queued_since = _parsed(received_since), _parsed(queued_since)
    waiting = spooled + received
    unprocessed = _oldest(spooled_since, received_since)
    report["unprocessed"] = {"count": waiting, "in_spool": spooled, "received": received,
                             "oldest": health.stamp(unprocessed) if unprocessed else None,
                             "age_seconds": (now - unprocessed).total_seconds() if unprocessed else None}
    report["undelivered"] = {"count": queued, "oldest": health.stamp(queued_since) if queued_since else None,
                             "age_seconds": (now - queued_since).total_seconds() if queued_since else None}
    scheduled = _moment(running["worker"].get("last_scheduled"))
    report["last_scheduled"] = health.stamp(scheduled) if scheduled else None

    serve = running["serve"]
    if not serve["alive"] and (waiting or queued):
        last = f"last heartbeat {age(serve['heartbeat_age_seconds'])} ago" if serve.get("heartbeat") else "no heartbeat"
        problems.append(f"lets serve is not running ({last}) while {waiting} mails and {queued} replies wait")
    if serve["alive"]:
        for role in ("worker", "delivery"):
            child = running[role]
            if not child["alive"]:
                last = (f"for {age(child['heartbeat_age_seconds'])}" if child.get("heartbeat_age_seconds") is not None
                        else "at all")
                problems.append(f"{LABELS[role]} has not reported {last}")
        worker = running["worker"]
        started = _moment(worker.get("started"))
        if worker["alive"] and started and now - started > SCHEDULE_AFTER and (
                scheduled is None or now - scheduled > SCHEDULE_AFTER):
            problems.append(f"no scheduled run for {age((now - (scheduled or started)).total_seconds())}")
    for role in health.ROLES:
        said = trouble(settings, role, now)
        if said:
            problems.append(said)
    if unprocessed and now - unprocessed > UNPROCESSED_AFTER:
        problems.append(f"{waiting} mails unprocessed, the oldest for {age((now - unprocessed).total_seconds())}")
    if queued_since and now - queued_since > UNDELIVERED_AFTER:
        problems.append(f"{queued} replies undelivered, the oldest for {age((now - queued_since).total_seconds())}")
    report["problems"] = problems
    return report


def _parsed(value) -> dt.datetime | None:
    """A MIN() of a datetime column: SQLite answers with its text."""
    if value is None or isinstance(value, dt.datetime):
        return value
    return dt.datetime.fromisoformat(str(value))


def lines(report: dict) -> list[str]:
    """The report as `lets status` prints it: one line per process and queue, then one
    per problem."""
    said = []
    for role, record in report["processes"].items():
        if record["alive"]:
            said.append(f"{LABELS[role]}: running, pid {record['pid']} since {record['started']} UTC, "
                        f"heartbeat {age(record['heartbeat_age_seconds'])} ago")
        elif record.get("stopped"):
            said.append(f"{LABELS[role]}: stopped at {record['stopped']} UTC")
        elif record.get("heartbeat"):
            said.append(f"{LABELS[role]}: not reporting, last heartbeat {age(record['heartbeat_age_seconds'])} ago")
        else:
            said.append(f"{LABELS[role]}: no record")
    unprocessed, undelivered = report["unprocessed"], report["undelivered"]
    said.append(f"unprocessed mail: {unprocessed['count']} ({unprocessed['in_spool']} in the spool)"
                + (f", the oldest {age(unprocessed['age_seconds'])} old" if unprocessed["oldest"] else ""))
    said.append(f"undelivered replies: {undelivered['count']}"
                + (f", the oldest {age(undelivered['age_seconds'])} old" if undelivered["oldest"] else ""))
    said.append(f"last scheduled run: {report['last_scheduled'] + ' UTC' if report['last_scheduled'] else 'none yet'}")
    said += [f"problem: {problem}" for problem in report["problems"]]
    return said
