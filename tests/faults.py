"""Helpers for the fault-injection tests: `lets serve` as a process to kill, SMTP clients
that retry like a real MTA, and the record of what each message was answered."""
from __future__ import annotations

import collections
import os
import queue
import re
import signal
import smtplib
import subprocess
import sys
import threading
import time
from pathlib import Path

from conftest import SETTINGS_INI, wait_for

ROOT = Path(__file__).resolve().parent.parent
TOKEN = re.compile(rb"lets\+t-([a-z2-7]{24})@lets\.example")


class Server:
    """`lets serve` in its own process on a fixed port, so clients find it after a restart."""

    def __init__(self, settings, port: int, log: Path, **env):
        self.port, self.log = port, log
        self.env = {**os.environ, "LETS_SETTINGS": str(SETTINGS_INI), "LETS_DATABASE_URL": settings.database_url,
                    "LETS_SECURITY_SECRET": settings.security.secret, "LETS_INBOUND_PORT": str(port),
                    "LETS_OUTBOUND_MAILDIR": str(settings.path(settings.outbound.maildir)),
                    # Thousands of mails from a few members: the flood throttle is not under test.
                    "LETS_INBOUND_MAX_PER_HOUR": "0", **env}
        self.process: subprocess.Popen | None = None
        self.kills = 0
        self.child_kills = 0

    def start(self) -> None:
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen([sys.executable, "-m", "mailer.cli", "serve"], env=self.env, cwd=ROOT,
                                            stdout=log, stderr=log)
        wait_for(self._accepting, timeout=30)

    def _accepting(self) -> bool:
        assert self.process.poll() is None, self.log.read_text()[-3000:]
        try:
            with smtplib.SMTP("127.0.0.1", self.port, timeout=5) as client:
                return client.noop()[0] == 250
        except OSError:
            return False

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(30)
        self.kills += 1

    def child(self, name: str, besides=()) -> int | None:
        """The pid of the child named `name` (lets-worker, lets-deliver), other than `besides`."""
        for pid in children(self.process.pid):
            if pid not in besides and comm(pid) == name:
                return pid
        return None

    def kill_child(self, name: str) -> int:
        """SIGKILL one child alone; return once it is dead (a zombie until `lets serve` looks)."""
        pid = wait_for(lambda: self.child(name), timeout=30)
        os.kill(pid, signal.SIGKILL)
        wait_for(lambda: state(pid) in ("Z", "gone"), timeout=10)
        self.child_kills += 1
        return pid

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        assert self.process.wait(60) == 0, self.log.read_text()[-3000:]

    def lets(self, *args) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "mailer.cli", *args], env=self.env, cwd=ROOT,
                              capture_output=True, text=True, timeout=120)


def children(pid: int) -> list[int]:
    found = []
    try:
        for task in Path(f"/proc/{pid}/task").iterdir():
            found += [int(child) for child in (task / "children").read_text().split()]
    except FileNotFoundError:  # a thread, or the process, ended meanwhile
        pass
    return found


def comm(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return ""


def state(pid: int) -> str:
    """A process's state letter (R, S, Z …), or "gone"."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return "gone"


class Outcomes:
    """Every answer each message got, by Message-ID; shared by the client threads."""

    def __init__(self):
        self.lock = threading.Lock()
        self.answers: dict[str, list[str]] = collections.defaultdict(list)
        self.accepted = 0

    def record(self, message_id: str, answer: str) -> None:
        with self.lock:
            self.answers[message_id].append(answer)
            self.accepted += answer == "250"

    def accepted_ids(self) -> set[str]:
        return {mid for mid, answers in self.answers.items() if "250" in answers}

    def refused_only(self) -> set[str]:
        """Told 4xx/5xx and never 250: such a message must have left no trace."""
        return {mid for mid, answers in self.answers.items()
                if "250" not in answers and any(a[:1] in "45" for a in answers)}


class Clients:
    """SMTP clients that send from a shared queue over kept-open connections and, like
    an MTA, send a message again (same Message-ID) until it gets 250."""

    def __init__(self, port: int, outcomes: Outcomes, count: int, deadline: float):
        self.port, self.outcomes, self.deadline = port, outcomes, deadline
        self.work: queue.Queue = queue.Queue()
        self.finished = threading.Event()
        self.errors: list[str] = []
        self.threads = [threading.Thread(target=self._run, daemon=True) for _ in range(count)]

    def put(self, message_id: str, sender: str, recipient: str, raw: bytes) -> None:
        self.work.put((message_id, sender, recipient, raw))

    def start(self) -> None:
        for thread in self.threads:
            thread.start()

    def finish(self) -> None:
        """No more work will come: end once the queue is empty."""
        self.finished.set()
        for thread in self.threads:
            thread.join(timeout=max(1.0, self.deadline - time.monotonic()))
        assert not any(t.is_alive() for t in self.threads), "clients did not finish in time"
        assert not self.errors, self.errors[:5]

    def _run(self) -> None:
        connection = None
        while time.monotonic() < self.deadline:
            try:
                item = self.work.get(timeout=0.1)
            except queue.Empty:
                if self.finished.is_set():
                    break
                continue
            while True:
                if time.monotonic() > self.deadline:
                    self.errors.append(f"{item[0]} not accepted before the deadline")
                    break
                try:
                    connection = connection or smtplib.SMTP("127.0.0.1", self.port, timeout=30)
                    connection.sendmail(item[1], [item[2]], item[3])
                    self.outcomes.record(item[0], "250")
                    break
                except smtplib.SMTPResponseException as exc:
                    self.outcomes.record(item[0], f"{exc.smtp_code} {exc.smtp_error!r}")
                except smtplib.SMTPRecipientsRefused as exc:
                    code, text = next(iter(exc.recipients.values()))
                    self.outcomes.record(item[0], f"{code} {text!r}")
                except (smtplib.SMTPException, OSError):
                    # Killed mid-session: the mail may or may not be stored; send it again.
                    self.outcomes.record(item[0], "dropped")
                _close(connection)
                connection = None
                time.sleep(0.05)  # an MTA's retry delay, short: the server is restarting
        _close(connection)


def _close(connection) -> None:
    if connection is not None:
        try:
            connection.close()
        except OSError:
            pass


def offer(n: int, sender: str) -> tuple[str, bytes]:
    message_id = f"<offer-{n}@faults.example>"
    return message_id, (f"From: {sender}\r\nTo: lets@lets.example\r\nSubject: AANBOD: Les {n}\r\n"
                        f"Message-ID: {message_id}\r\nMIME-Version: 1.0\r\n"
                        "Content-Type: text/plain; charset=utf-8\r\n\r\nCategorie: les\r\nIk geef les.\r\n").encode()


def proposal(n: int, payer: str, payee: str) -> tuple[str, bytes]:
    message_id = f"<pay-{n}@faults.example>"
    return message_id, (f"From: {payer}\r\nTo: lets@lets.example\r\nSubject: BETAAL 1 aan {payee} voor les {n}\r\n"
                        f"Message-ID: {message_id}\r\nMIME-Version: 1.0\r\n"
                        "Content-Type: text/plain; charset=utf-8\r\n\r\nDank je.\r\n").encode()


def confirmation(name: str, payer: str, token: str) -> tuple[str, str, bytes]:
    """JA to the token's plus address; (Message-ID, envelope recipient, bytes)."""
    message_id = f"<ja-{name}@faults.example>"
    to = f"lets+t-{token}@lets.example"
    return message_id, to, (f"From: {payer}\r\nTo: {to}\r\nSubject: Re: betaling [t-{token}]\r\n"
                            f"Message-ID: {message_id}\r\nMIME-Version: 1.0\r\n"
                            "Content-Type: text/plain; charset=utf-8\r\n\r\nJA\r\n").encode()
