"""An operator's mistake stops no process and no mail for longer than it lasts: `lets serve`
says once what is wrong and what to do, `lets status` exits non-zero and `lets outbox` /
`lets inbox` show why mail waits, and the work resumes by itself within seconds of the fix.

Through a real `lets serve` on a free port, with real files: the outbox Maildir replaced
by a file, and the database file made immutable (`chattr +i`: these tests run as root,
whom a chmod does not stop; the test is skipped where the file system has no such flag).

At start, a mistake stops `lets serve` with one line that says what and what to do: a
second server on the same database, a port in use, a database that cannot be opened.
"""
import shutil
import socket
import subprocess
import time

import pytest

from db import members
from db.models import InboundMessage, OutboundMessage

from conftest import free_port, send_smtp, wait_for
from faults import Server, offer

AN = "an@example.org"


def delivered(settings) -> list[str]:
    folder = settings.path(settings.outbound.maildir) / "new"
    return sorted(path.name for path in folder.iterdir()) if folder.is_dir() else []


def send(server: Server, n: int) -> None:
    _, raw = offer(n, AN)
    assert send_smtp(server.port, raw, AN, ["lets@lets.example"]) == {}


def errors(server: Server, text: str) -> int:
    return sum(text in line and "ERROR" in line for line in server.log.read_text().splitlines())


def test_a_maildir_replaced_by_a_file_holds_replies_until_it_is_fixed_then_they_go_out_without_a_restart(
        settings, db, tmp_path):
    members.add("An de Vries", AN)
    maildir = settings.path(settings.outbound.maildir)
    if maildir.exists():
        shutil.rmtree(maildir)
    maildir.parent.mkdir(parents=True, exist_ok=True)
    maildir.write_text("not a folder\n")
    server = Server(settings, free_port(), tmp_path / "serve.log")
    server.start()
    try:
        send(server, 1)
        wait_for(lambda: "cannot be written" in server.lets("outbox").stdout, timeout=20)
        outbox = server.lets("outbox").stdout
        assert "queued" in outbox and "Not a directory" in outbox, outbox
        assert "the delivery process is held since" in outbox, outbox
        status = server.lets("status")
        assert status.returncode == 2, status.stdout + status.stderr
        assert "problem: the delivery process is held" in status.stdout, status.stdout

        # More rounds fail the same way: the log says so once, and the process lives on.
        send(server, 2)
        wait_for(lambda: OutboundMessage.select().where(OutboundMessage.last_error.contains("cannot be written"))
                 .count() == 2, timeout=20)
        assert errors(server, "cannot be written") == 1, server.log.read_text()[-3000:]
        assert "died" not in server.log.read_text()

        maildir.unlink()  # fixed: the deliverer makes the folder again
        fixed = time.monotonic()
        wait_for(lambda: len(delivered(settings)) == 2, timeout=15)
        assert time.monotonic() - fixed < 10
        wait_for(lambda: server.lets("status").returncode == 0, timeout=15)
        assert "working again after: the outbox Maildir" in server.log.read_text()
    finally:
        server.stop()
    assert [row.state for row in OutboundMessage.select()] == ["sent", "sent"]


def immutable(path, on: bool) -> subprocess.CompletedProcess:
    return subprocess.run(["chattr", "+i" if on else "-i", str(path)], capture_output=True, text=True)


def test_a_read_only_database_keeps_mail_in_the_spool_and_processing_resumes_within_seconds_of_the_fix(
        settings, db, tmp_path):
    members.add("An de Vries", AN)
    database_file = tmp_path / "lets.db"
    if shutil.which("chattr") is None or immutable(database_file, True).returncode != 0:
        pytest.skip("no immutable flag on this file system: a read-only database cannot be made for root")
    try:
        with pytest.raises(OSError):  # the file cannot be written, even by root
            open(database_file, "r+b").close()
        server = Server(settings, free_port(), tmp_path / "serve.log")
        server.start()  # a server started again on a database it may not write
        try:
            send(server, 1)  # the SMTP edge answers 250: the mail is in the spool
            send(server, 2)
            wait_for(lambda: server.lets("status").returncode == 2, timeout=20)
            status = server.lets("status").stdout
            assert "problem: the worker process is held" in status and "readonly" in status, status
            inbox = server.lets("inbox").stdout
            assert "2 accepted by SMTP, not yet taken from the spool" in inbox, inbox
            assert "the worker process is held since" in inbox, inbox
            assert errors(server, "attempt to write a readonly database") == 1, server.log.read_text()[-3000:]

            assert immutable(database_file, False).returncode == 0
            fixed = time.monotonic()
            wait_for(lambda: len(delivered(settings)) == 2, timeout=15)
            assert time.monotonic() - fixed < 10
            wait_for(lambda: server.lets("status").returncode == 0, timeout=15)
            assert "working again after: the database cannot be used" in server.log.read_text()
        finally:
            server.stop()
    finally:
        immutable(database_file, False)
    assert [row.state for row in InboundMessage.select()] == ["processed", "processed"]


# Mistakes at start: `lets serve` says what and what to do in one line, exits non-zero,
# and leaves nothing running (a service manager then shows that line).

def serve_once(settings, *args, **env) -> subprocess.CompletedProcess:
    """`lets serve` that is expected to stop by itself at once."""
    server = Server(settings, free_port(), None, **env)
    return server.lets("serve", *args)


def one_line(result: subprocess.CompletedProcess) -> str:
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Traceback" not in result.stderr and result.stdout == "", result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.stderr
    return lines[0]


def test_a_second_serve_on_the_same_database_says_which_process_runs_and_the_first_keeps_answering(
        settings, db, tmp_path):
    members.add("An de Vries", AN)
    first = Server(settings, free_port(), tmp_path / "serve.log")
    first.start()
    try:
        second = serve_once(settings, "--port", str(free_port()))
        line = one_line(second)
        assert f"another `lets serve` (pid {first.process.pid}) is running on this database" in line, line
        assert "stop it first" in line
        send(first, 1)
        wait_for(lambda: len(delivered(settings)) == 1, timeout=20)
    finally:
        first.stop()
    # Stopped, the first lets the next one start.
    again = Server(settings, free_port(), tmp_path / "again.log")
    again.start()
    again.stop()


def test_a_port_in_use_is_named_with_what_to_do_and_no_worker_is_left_behind(settings, db, tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        line = one_line(serve_once(settings, "--port", str(port)))
    assert f"cannot listen on 127.0.0.1:{port}: another program uses that port" in line, line
    assert "--port or [inbound] port" in line
    # Nothing of it is left: the next server starts on the same database.
    server = Server(settings, free_port(), tmp_path / "serve.log")
    server.start()
    server.stop()


def test_a_database_folder_that_cannot_be_made_is_named_with_what_to_do(settings, tmp_path):
    (tmp_path / "data").write_text("a file where the folder should be\n")
    line = one_line(serve_once(settings, LETS_DATABASE_URL=f"sqlite:///{tmp_path / 'data' / 'lets.db'}"))
    assert f"cannot open the database {tmp_path / 'data' / 'lets.db'}: {tmp_path / 'data'} is a file, not a folder" \
        in line, line
    assert "[database] url (LETS_DATABASE_URL)" in line


def test_a_misspelt_database_path_is_refused_rather_than_served_as_an_empty_group(settings, tmp_path):
    """An empty new file would answer every member as a stranger: serve asks for lets init."""
    for missing in (tmp_path / "lets2.db", tmp_path / "dat" / "lets.db"):
        line = one_line(serve_once(settings, LETS_DATABASE_URL=f"sqlite:///{missing}"))
        assert f"there is no database at {missing}" in line and "run `lets init`" in line, line
        assert not missing.exists()


def test_a_database_folder_that_may_not_be_written_is_named_with_what_to_do(settings, tmp_path):
    folder = tmp_path / "data"
    folder.mkdir()
    if shutil.which("chattr") is None or immutable(folder, True).returncode != 0:
        pytest.skip("no immutable flag on this file system: a read-only folder cannot be made for root")
    try:
        line = one_line(serve_once(settings, LETS_DATABASE_URL=f"sqlite:///{folder / 'lets.db'}"))
    finally:
        immutable(folder, False)
    assert f"its folder {folder} may not be written by this user" in line, line


def test_an_unreachable_postgresql_is_one_line_that_names_the_setting(settings):
    with socket.socket() as closed:   # a port nobody listens on
        closed.bind(("127.0.0.1", 0))
        url = f"postgresql://postgres@127.0.0.1:{closed.getsockname()[1]}/lets"
    line = one_line(serve_once(settings, LETS_DATABASE_URL=url))
    assert "the database did not answer:" in line and "Connection refused" in line, line
    assert "[database] url (LETS_DATABASE_URL)" in line
