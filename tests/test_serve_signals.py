"""`lets serve` stops on SIGTERM, also when a service manager sends it to every process at
once, several times: the worker and the delivery process only note the request in their
handlers (worker.Stop), so a second signal cannot find a handler inside a lock."""
import os
import signal
import threading
import time

from mailer.worker import Stop

from conftest import free_port, wait_for
from faults import Server, children, state


def test_a_burst_of_sigterm_to_every_process_stops_serve_and_its_children(settings, db, tmp_path):
    server = Server(settings, free_port(), tmp_path / "serve.log")
    server.start()
    pid = server.process.pid
    wait_for(lambda: len(children(pid)) >= 3, timeout=30)  # the worker, the deliverer, the resource tracker
    family = children(pid)
    # Each child hears it from the service manager and again from `lets serve`; here as
    # fast as signals can be sent, so that some arrive while a handler runs.
    deadline = time.monotonic() + 0.5
    while time.monotonic() < deadline:
        for each in family:
            try:
                os.kill(each, signal.SIGTERM)
            except ProcessLookupError:
                pass
    os.kill(pid, signal.SIGTERM)
    assert server.process.wait(25) == 0, server.log.read_text()[-3000:]
    for each in family:
        wait_for(lambda: state(each) in ("Z", "gone"), timeout=10)


def test_a_stop_noted_from_a_signal_handler_takes_no_lock():
    """What the deadlock was: a second SIGTERM handled while the first handler was inside
    Event.set, whose lock that same thread held. `from_signal` must not need that lock."""
    stop = Stop()
    with stop.event._cond:  # the first handler, interrupted inside Event.set
        second = threading.Thread(target=stop.from_signal, name="second-handler")
        second.start()
        second.join(2)
        assert not second.is_alive(), "the second handler waited for a lock"
    assert stop.is_set() and stop.wait(0)
