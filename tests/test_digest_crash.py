"""A digest run killed midway (SIGKILL) and started again: every member exactly one digest."""
import os
import signal
import subprocess
import sys
from pathlib import Path

from db.models import Account, Address, DigestDelivery, Member, OutboundMessage

from conftest import SETTINGS_INI, wait_for

MEMBERS = 300


def add_members(count):
    Member.insert_many([{"number": n, "name": f"Member {n}", "language": "nlenfr"[(n % 3) * 2:][:2]}
                        for n in range(1, count + 1)]).execute()
    ids = [m.id for m in Member.select(Member.id).order_by(Member.id)]
    Address.insert_many([{"member": i, "email": f"m{i}@example.org", "primary": True} for i in ids]).execute()
    Account.insert_many([{"member": i, "code": f"member:{i}", "name": f"Member {i}"} for i in ids]).execute()


def lets(settings, *args):
    env = {**os.environ, "LETS_SETTINGS": str(SETTINGS_INI), "LETS_DATABASE_URL": settings.database_url,
           "LETS_SECURITY_SECRET": settings.security.secret, "LETS_OUTBOUND_MAILDIR": settings.outbound.maildir,
           "LETS_DIGEST_BATCH": "1"}
    command = [str(Path(sys.executable).parent / "lets"), "digest", "send", "--at", "2026-11-30T06:30",
               "--no-deliver", *args]
    return subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def test_a_run_killed_midway_and_restarted_sends_each_member_exactly_one_digest(settings, db):
    add_members(MEMBERS)
    run = lets(settings)
    try:
        wait_for(lambda: DigestDelivery.select().count() >= 20 or run.poll() is not None, timeout=60)
    finally:
        run.send_signal(signal.SIGKILL)
        run.communicate()
    done_before = DigestDelivery.select().count()
    assert run.returncode == -signal.SIGKILL
    assert 0 < done_before < MEMBERS, "the run should have been killed midway"
    # Every delivery row has its message in the outbox: they commit together.
    assert OutboundMessage.select().where(OutboundMessage.kind == "digest").count() == done_before

    again = lets(settings)
    out, err = again.communicate(timeout=120)
    assert again.returncode == 0, err.decode()
    assert f"queued {MEMBERS - done_before} digests".encode() in out
    recipients = [r.recipient for r in OutboundMessage.select().where(OutboundMessage.kind == "digest")]
    assert len(recipients) == MEMBERS and len(set(recipients)) == MEMBERS
    assert DigestDelivery.select().count() == MEMBERS


def delivered(settings):
    """(recipient, Message-ID) of every digest the Maildir transport wrote."""
    found = []
    for path in (Path(settings.outbound.maildir) / "new").glob("*.lets"):
        head = path.read_bytes().split(b"\r\n\r\n", 1)[0].decode()
        fields = dict(line.split(": ", 1) for line in head.split("\r\n") if ": " in line)
        found.append((fields["Delivered-To"], fields["Message-ID"]))
    return found


def sending(settings, at):
    env = {**os.environ, "LETS_SETTINGS": str(SETTINGS_INI), "LETS_DATABASE_URL": settings.database_url,
           "LETS_SECURITY_SECRET": settings.security.secret, "LETS_OUTBOUND_MAILDIR": settings.outbound.maildir,
           "LETS_DIGEST_BATCH": "1"}
    command = [str(Path(sys.executable).parent / "lets"), "digest", "send", "--at", at]
    return subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def test_a_run_sending_at_once_killed_midway_sends_each_member_one_digest_the_batch_in_flight_at_most_twice(
        settings, db):
    add_members(MEMBERS)
    run = sending(settings, "2026-11-30T06:30")
    try:
        wait_for(lambda: DigestDelivery.select().count() >= 20 or run.poll() is not None, timeout=60)
    finally:
        run.send_signal(signal.SIGKILL)
        run.communicate()
    assert run.returncode == -signal.SIGKILL
    assert 0 < DigestDelivery.select().count() < MEMBERS, "the run should have been killed midway"
    # Only the batch in flight (one member here) can be claimed and not recorded.
    assert DigestDelivery.select().where(DigestDelivery.state == "sending").count() <= 1
    assert not OutboundMessage.select().where(OutboundMessage.kind == "digest").exists()

    # Restarted after the dead run's lease ran out: the rest, and the claimed one rebuilt.
    again = sending(settings, "2026-11-30T06:45")
    out, err = again.communicate(timeout=120)
    assert again.returncode == 0, err.decode()
    assert DigestDelivery.select().count() == MEMBERS
    assert {row.state for row in DigestDelivery.select()} == {"sent"}
    mails = delivered(settings)
    recipients = {to for to, _ in mails}
    assert len(recipients) == MEMBERS
    assert len(mails) - MEMBERS <= 1
    # A second copy is the same digest: the same Message-ID, so it can be recognised.
    assert len({message_id for _, message_id in mails}) == MEMBERS
