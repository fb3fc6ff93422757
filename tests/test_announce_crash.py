"""`lets announce --now` killed midway (SIGKILL) and finished with --resume: every member exactly one copy."""
import os
import signal
import subprocess
import sys
from pathlib import Path

from db.models import Announcement, AnnouncementDelivery, OutboundMessage

from conftest import SETTINGS_INI, wait_for
from test_digest_crash import MEMBERS, add_members


def lets(settings, *args):
    env = {**os.environ, "LETS_SETTINGS": str(SETTINGS_INI), "LETS_DATABASE_URL": settings.database_url,
           "LETS_SECURITY_SECRET": settings.security.secret, "LETS_OUTBOUND_MAILDIR": settings.outbound.maildir,
           "LETS_DIGEST_BATCH": "1"}
    command = [str(Path(sys.executable).parent / "lets"), "announce", "--no-deliver", *args]
    return subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def test_an_announcement_run_killed_midway_and_resumed_sends_each_member_exactly_one_copy(settings, db, tmp_path):
    add_members(MEMBERS)
    body = tmp_path / "body.txt"
    body.write_text("Algemene ledenvergadering op 12 maart.\n", encoding="utf-8")
    run = lets(settings, "--subject", "Ledenvergadering", "--file", str(body), "--now")
    try:
        wait_for(lambda: AnnouncementDelivery.select().count() >= 20 or run.poll() is not None, timeout=60)
    finally:
        run.send_signal(signal.SIGKILL)
        run.communicate()
    done_before = AnnouncementDelivery.select().count()
    assert run.returncode == -signal.SIGKILL
    assert 0 < done_before < MEMBERS, "the run should have been killed midway"
    assert OutboundMessage.select().where(OutboundMessage.kind == "announcement").count() == done_before
    assert Announcement.get().sent is None

    again = lets(settings, "--resume")
    out, err = again.communicate(timeout=120)
    assert again.returncode == 0, err.decode()
    assert f"queued {MEMBERS - done_before} announcement mails".encode() in out
    recipients = [r.recipient for r in OutboundMessage.select().where(OutboundMessage.kind == "announcement")]
    assert len(recipients) == MEMBERS and len(set(recipients)) == MEMBERS
    assert Announcement.select().count() == 1 and Announcement.get().sent is not None
