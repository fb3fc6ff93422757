"""`lets member forget` on the production path: mail stored through the real SMTP edge
and its spool, taken and answered by the worker, a digest sent, a status set with its
reason; afterwards no file the group writes beside its database holds the member's
address, phone number, name or new town, while `lets serve` still runs and after it
stopped. The Maildir of sent mail is the delivered mail: the README names it."""
from __future__ import annotations

import datetime as dt
import email.policy
import email.utils
import mailbox
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from db import database, is_sqlite, members
from db.models import DigestDelivery, InboundMessage
from mailer import settings as settings_module
from mailer.message.compose import now_utc
from mailer.pipeline import Processor
from mailer.inbound.smtp import controller
from mailer.worker import Worker
from tests.conftest import SETTINGS_INI, send_smtp, wait_for

ROOT = Path(__file__).resolve().parent.parent
GROUP = "lets@lets.example"
ADDRESS = "zwaluw77@postduif.example"
FIRST, LAST = "Fenneke", "Brakkenstein"
PHONE = "06-98765432"
TOWN = "Vergeetmij-stad"
# Each as bytes, compared with every file lower-cased: none may survive forgetting.
SECRETS = (ADDRESS, FIRST, LAST, PHONE, "98765432", TOWN, "Vergeetmij")


@pytest.fixture
def settings(settings):
    return settings_module.replace(settings, limits={"newcomer_months": 0})


@pytest.fixture
def fenneke(group, piet):
    group.member("Jan Smit", "jan@example.org", language="nl")
    return group.member(f"{FIRST} {LAST}", ADDRESS, language="nl")


@pytest.fixture
def serving(settings, group, fenneke):
    """The SMTP edge with its spool, and the worker, as `lets serve` runs them."""
    if not is_sqlite():
        pytest.skip("the spool and the files beside the database are SQLite's")
    later = dt.timedelta(0)
    worker = Worker(settings, Processor(settings, clock=lambda: now_utc() + later), idle=0.1)
    smtp = controller(settings, on_stored=worker.wake, port=0)
    worker.start()
    smtp.start()
    running = [smtp, worker]

    def next_week():
        """The worker's clock a week on, and its schedule looked at now: the weekly digest."""
        nonlocal later
        later = dt.timedelta(days=8)
        worker.next_schedule = 0
        worker.wake()

    yield smtp, running, next_week
    if running:
        stop(running)


def stop(running) -> None:
    smtp, worker = running
    smtp.stop()
    worker.stop()
    worker.join(30)
    assert not worker.is_alive()
    running.clear()


class Mailer:
    """Members' mail through the SMTP edge; each waits until the worker has answered it."""

    def __init__(self, port: int):
        self.port, self.sent = port, 0

    def send(self, sender: str, subject: str, body: str, *, to: str = GROUP, headers: dict | None = None) -> None:
        self.sent += 1
        message_id = f"<forget-{self.sent}@mail.example>"
        lines = [f"From: {sender}", f"To: {to}", f"Subject: {subject}", f"Message-ID: {message_id}",
                 f"Date: {email.utils.formatdate()}", "MIME-Version: 1.0",
                 "Content-Type: text/plain; charset=utf-8"]
        lines += [f"{key}: {value}" for key, value in (headers or {}).items()]
        raw = ("\r\n".join(lines) + "\r\n\r\n" + body.replace("\n", "\r\n")).encode()
        envelope = email.utils.parseaddr(sender)[1]
        assert send_smtp(self.port, raw, envelope, [to]) == {}
        wait_for(lambda: InboundMessage.select().where(InboundMessage.message_id == message_id,
                                                       InboundMessage.state != "received").exists())


def answer_yes(mailer: Mailer, group, payer: str) -> None:
    ask = group.last(email.utils.parseaddr(payer)[1])
    mailer.send(payer, "Re: " + ask.subject, f"JA\n\n> {ask.subject}\n", to=ask.message["Reply-To"],
                headers={"In-Reply-To": ask.message["Message-ID"]})


def lets(settings, *args) -> str:
    """The command line in a process of its own, as an administrator runs it."""
    env = {**os.environ, "LETS_DATABASE_URL": settings.database_url, "LETS_SECURITY_SECRET": settings.security.secret,
           "LETS_OUTBOUND_MAILDIR": str(settings.path(settings.outbound.maildir))}
    done = subprocess.run([str(Path(sys.executable).parent / "lets"), "--settings", str(SETTINGS_INI), *args],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def delivered(settings, to: str) -> list[str]:
    """The text of every message the Maildir holds for `to`."""
    box = mailbox.Maildir(settings.path(settings.outbound.maildir), factory=None, create=False)
    found = []
    for key in box.keys():
        message = email.message_from_bytes(box.get_bytes(key), policy=email.policy.default)
        if message["To"] == to:
            found.append(message.get_body(("plain",)).get_content())
    return found


def group_files(settings) -> dict[str, bytes]:
    """Every file the group writes beside its database (the database, its -wal and -shm,
    the spool and its -wal and -shm, the lock file), the outbox Maildir excepted."""
    folder = Path(settings.database_url[len("sqlite:///"):]).parent
    outbox = settings.path(settings.outbound.maildir)
    return {str(path.relative_to(folder)): path.read_bytes() for path in sorted(folder.rglob("*"))
            if path.is_file() and outbox not in path.parents}


def found(files: dict[str, bytes]) -> list[tuple[str, str]]:
    return [(name, secret) for name, raw in files.items() for secret in SECRETS
            if secret.lower().encode() in raw.lower()]


def test_forget_leaves_nothing_of_the_member_in_any_file_beside_the_database(settings, group, fenneke, serving):
    smtp, running, next_week = serving
    mailer = Mailer(smtp.port)
    me = f"{FIRST} {LAST} <{ADDRESS}>"
    signature = f"\n\nGroet,\n{FIRST} {LAST}\nTel. {PHONE}\n"

    mailer.send(me, "AANBOD: Fietsles", "Categorie: vervoer\nPrijs: 5 zon per uur\n\n"
                f"Fietsles voor volwassenen. Bel {PHONE}." + signature)
    mailer.send(me, "Vraagje", "Kan ik ook in de winter lessen geven?" + signature)
    mailer.send("Piet Jansen <piet@example.org>", f"BETAAL 5 aan {ADDRESS} voor fietsles van {FIRST}", "")
    answer_yes(mailer, group, "Piet Jansen <piet@example.org>")
    mailer.send(me, "BETAAL 5 aan piet@example.org voor terugbetaling", signature)
    answer_yes(mailer, group, me)
    assert members.account(fenneke).balance_cents == 0
    mailer.send("Jan Smit <jan@example.org>", "Fietsles",
                f"Weet iemand of {FIRST} nog fietsles geeft? Haar nummer was {PHONE}.\n")
    next_week()
    wait_for(lambda: DigestDelivery.select().where(DigestDelivery.state == "sent").count() >= 2)
    # Her listing in Jan's digest, with her name and address.
    assert any(f"{FIRST} {LAST}" in text and ADDRESS in text for text in delivered(settings, "jan@example.org"))
    lets(settings, "member", "set-status", ADDRESS, "left", "--reason", f"verhuisd naar {TOWN}")

    before = found(group_files(settings))
    assert {secret for _, secret in before} == set(SECRETS), before
    assert any(name.startswith("lets.db.spool") for name, _ in before), before

    assert "files emptied: yes" in lets(settings, "member", "forget", ADDRESS)
    files = group_files(settings)
    assert {"lets.db", "lets.db.spool", "lets.db.lock"} <= set(files)
    assert not (left := found(files)), left

    # The server goes on after the files were rebuilt under it.
    mailer.send("Piet Jansen <piet@example.org>", "SALDO", "")
    assert group.last("piet@example.org").subject == "Je saldo: 0,00 zonnen"

    # Stopped: every connection closed, whatever SQLite writes back on closing.
    stop(running)
    database.close()
    assert not (left := found(group_files(settings))), left

    # The Maildir of sent mail is the delivered mail: it still holds it, and the README says so.
    outbox = settings.path(settings.outbound.maildir)
    assert any(ADDRESS.encode() in path.read_bytes() for path in outbox.rglob("*") if path.is_file())
    privacy = re.search(r"### Privacy.*?(?=\n### )", (ROOT / "README.md").read_text(), re.S).group(0)
    assert "`[outbound] maildir`" in privacy and "backups" in privacy
