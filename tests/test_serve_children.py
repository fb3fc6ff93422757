"""`lets serve` watches its two children, the worker and the deliverer. One that dies
(here by SIGKILL, alone) is noticed within a second and started again after a back-off,
while the SMTP edge goes on storing mail and answering; mail accepted meanwhile is
answered once after the restart. A child that keeps dying makes `lets serve` exit
non-zero, so that its service manager restarts the whole service. SIGTERM stops it
promptly through all this, and leaves no process behind."""
import os
import signal
import subprocess
import time

import pytest

from db import members
from db.models import InboundMessage, OutboundMessage

from conftest import free_port, send_smtp, wait_for
from faults import Server, children, offer, state

CHILDREN = [("lets-worker", "worker"), ("lets-deliver", "delivery")]
AN = "an@example.org"


def delivered(settings) -> list[str]:
    folder = settings.path(settings.outbound.maildir) / "new"
    return sorted(path.name for path in folder.iterdir()) if folder.exists() else []


def send(server: Server, n: int) -> str:
    """An offer from An by SMTP; its Message-ID once it got 250, which must come at once."""
    message_id, raw = offer(n, AN)
    started = time.monotonic()
    assert send_smtp(server.port, raw, AN, ["lets@lets.example"]) == {}
    assert time.monotonic() - started < 5, "the SMTP edge waited for a child"
    return message_id


def stop_and_leave_nothing_behind(server: Server, family: set[int]) -> None:
    family |= set(children(server.process.pid))
    server.process.send_signal(signal.SIGTERM)
    try:
        code = server.process.wait(15)
    except subprocess.TimeoutExpired:
        server.process.kill()
        server.process.wait()
        raise AssertionError(f"SIGTERM did not stop lets serve: {server.log.read_text()[-3000:]}")
    assert code == 0, server.log.read_text()[-3000:]
    for pid in family:
        wait_for(lambda: state(pid) in ("Z", "gone"), timeout=10)


@pytest.mark.parametrize("name, label", CHILDREN)
def test_a_killed_child_is_started_again_and_mail_accepted_meanwhile_is_answered_once(
        settings, db, tmp_path, name, label):
    members.add("An de Vries", AN)
    server = Server(settings, free_port(), tmp_path / "serve.log")
    server.start()
    family = set(children(server.process.pid))
    try:
        sent = [send(server, 0)]
        # Answered: both children are now idle, waiting to be woken, as they mostly are.
        wait_for(lambda: len(delivered(settings)) == 1, timeout=20)
        killed = server.kill_child(name)
        sent.append(send(server, 1))  # the child is dead: the edge stores it in the spool and answers
        wait_for(lambda: f"the {label} process died (killed by signal 9, SIGKILL); restarting it in 1 s"
                 in server.log.read_text(), timeout=3)
        wait_for(lambda: len(delivered(settings)) == 2, timeout=20)
        assert server.child(name, besides={killed}) is not None
        sent.append(send(server, 2))  # and after the restart, all goes on as before
        wait_for(lambda: len(delivered(settings)) == 3, timeout=10)
    finally:
        stop_and_leave_nothing_behind(server, family)
    rows = InboundMessage.select().order_by(InboundMessage.id)
    assert [(row.message_id, row.state) for row in rows] == [(mid, "processed") for mid in sent]
    assert [row.kind for row in OutboundMessage.select()] == ["listing/posted"] * 3
    assert delivered(settings) == sorted(f"{row.key}.lets" for row in OutboundMessage.select())


def test_a_child_that_keeps_dying_makes_serve_exit_non_zero_with_a_clear_line(settings, db, tmp_path):
    server = Server(settings, free_port(), tmp_path / "serve.log")
    server.start()
    family, killed = set(), set()
    try:
        for _ in range(5):  # as soon as each new worker shows up
            pid = wait_for(lambda: server.child("lets-worker", besides=killed), timeout=30)
            family |= set(children(server.process.pid))
            os.kill(pid, signal.SIGKILL)
            killed.add(pid)
        code = server.process.wait(15)
    finally:
        if server.process.poll() is None:
            server.process.kill()
            server.process.wait()
    log = server.log.read_text()
    assert code == 1, log[-3000:]
    assert ("the worker process died 5 times in 5 minutes (last: killed by signal 9, SIGKILL); "
            "stopping lets serve, for its service manager to start it again") in log, log[-3000:]
    for delay in (1, 2, 4, 8):
        assert f"the worker process died (killed by signal 9, SIGKILL); restarting it in {delay} s" in log
    for pid in family:
        wait_for(lambda: state(pid) in ("Z", "gone"), timeout=10)


def test_sigterm_while_a_child_waits_to_be_started_again_stops_serve_at_once(settings, db, tmp_path):
    server = Server(settings, free_port(), tmp_path / "serve.log")
    server.start()
    family = set(children(server.process.pid))
    try:
        first = server.kill_child("lets-deliver")
        wait_for(lambda: server.child("lets-deliver", besides={first}), timeout=30)
        family |= set(children(server.process.pid))
        server.kill_child("lets-deliver")
        wait_for(lambda: "restarting it in 2 s" in server.log.read_text(), timeout=3)
        started = time.monotonic()
    finally:
        stop_and_leave_nothing_behind(server, family)
    assert time.monotonic() - started < 5
