"""flag.Flag, the wake-up between `lets serve`'s processes: unlike multiprocessing.Event,
a process killed while it waits leaves nothing that makes the next set() wait."""
import multiprocessing
import os
import signal
import threading

from mailer.flag import Flag


def _wait(flag: Flag, ready: Flag) -> None:
    ready.set()
    flag.wait(None)


def test_a_process_killed_while_it_waits_leaves_the_flag_free_for_the_next():
    context = multiprocessing.get_context("spawn")  # as `lets serve` starts its children
    flag, ready = Flag(), Flag()
    try:
        waiter = context.Process(target=_wait, args=(flag, ready))
        waiter.start()
        assert ready.wait(30)
        os.kill(waiter.pid, signal.SIGKILL)
        waiter.join(10)
        setter = threading.Thread(target=flag.set, name="flag-setter", daemon=True)
        setter.start()
        setter.join(5)
        assert not setter.is_alive(), "set() waited for the dead process"
        # Its successor finds the flag raised and goes on at once.
        successor = context.Process(target=_wait, args=(flag, ready))
        successor.start()
        successor.join(30)
        assert successor.exitcode == 0
    finally:
        flag.close()
        ready.close()


def test_a_flag_raised_past_the_pipes_capacity_does_not_block_and_one_clear_lowers_it():
    flag = Flag()
    try:
        assert not flag.is_set() and not flag.wait(0.05)
        for _ in range(100_000):  # a pipe holds 64 KiB: the rest finds it full, and returns
            flag.set()
        assert flag.is_set() and flag.wait(None)
        flag.clear()
        assert not flag.is_set()
        flag.set()
        assert flag.wait(0)
    finally:
        flag.close()
