"""Mail loops: two lets-mail groups mailing each other, and members' auto-responders, stop
after at most one exchange."""
import contextlib
import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from db.models import InboundMessage, OutboundMessage, Transfer
from mailer import settings as settings_module
from mailer.message.compose import Composer
from tests.conftest import SETTINGS_INI, free_port, send_smtp, wait_for

ROOT = Path(__file__).resolve().parent.parent


class Instance:
    """A whole `lets serve` of its own: settings, SQLite file, SMTP port, relay to the other."""

    def __init__(self, root: Path, name: str, address: str, port: int, relay_port: int):
        self.root, self.address, self.port = root, address, port
        self.db = root / f"{name}.db"
        self.env = {**os.environ, "LETS_GROUP_NAME": f"LETS {name}", "LETS_GROUP_ADDRESS": address,
                    "LETS_DATABASE_URL": f"sqlite:///{self.db}", "LETS_SECURITY_SECRET": f"secret-{name}",
                    "LETS_DKIM_KEY_FILE": str(root / f"{name}-dkim.pem"),
                    "LETS_INBOUND_HOST": "127.0.0.1", "LETS_INBOUND_PORT": str(port),
                    "LETS_OUTBOUND_MODE": "smtp", "LETS_OUTBOUND_RELAY_HOST": "127.0.0.1",
                    "LETS_OUTBOUND_RELAY_PORT": str(relay_port), "LETS_OUTBOUND_STARTTLS": "false",
                    "LETS_DIGEST_SCHEDULE": "weekly monday 07:00"}
        self.log = root / f"{name}.log"
        self.process = None

    def lets(self, *args):
        subprocess.run([sys.executable, "-m", "mailer.cli", "--settings", str(SETTINGS_INI), *args],
                       env=self.env, cwd=ROOT, check=True, capture_output=True)

    def start(self):
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen([sys.executable, "-m", "mailer.cli", "--settings", str(SETTINGS_INI),
                                             "serve"], env=self.env, cwd=ROOT, stdout=log, stderr=log)

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            self.process.wait(15)

    def rows(self, sql: str):
        if not self.db.exists():
            return []
        with contextlib.closing(sqlite3.connect(f"file:{self.db}?mode=ro", uri=True, timeout=10)) as connection:
            return connection.execute(sql).fetchall()


@pytest.fixture
def two_groups(tmp_path):
    """Group A has group B's address as a member and the other way round; each relays its
    outgoing mail into the other's SMTP server on loopback."""
    port_a, port_b = free_port(), free_port()
    a = Instance(tmp_path, "a", "lets@a.example", port_a, port_b)
    b = Instance(tmp_path, "b", "lets@b.example", port_b, port_a)
    for mine, other in ((a, b), (b, a)):
        mine.lets("init")
        mine.lets("member", "add", f"Group {other.address}", other.address)
    for instance in (a, b):
        instance.start()
    try:
        for instance in (a, b):
            wait_for(lambda: _listening(instance.port), timeout=20)
        yield a, b
    finally:
        for instance in (a, b):
            instance.stop()


def _listening(port: int) -> bool:
    import socket
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


def test_two_groups_mailing_each_other_stop_after_one_exchange(two_groups):
    a, b = two_groups
    # Something makes A write to B: here a mail that claims to come from B's address.
    send_smtp(a.port, b"From: lets@b.example\r\nTo: lets@a.example\r\nSubject: HULP\r\n"
                      b"Message-ID: <start@b.example>\r\n\r\nHULP\r\n", "lets@b.example", ["lets@a.example"])
    # A answers; the answer travels by SMTP into B, which records it and stays silent.
    wait_for(lambda: b.rows("SELECT state FROM inbound_message") == [("ignored",)], timeout=30)
    (kind, reason), = b.rows("SELECT kind, reason FROM inbound_message")
    assert kind == "autoreply" and reason == "Auto-Submitted: auto-replied"
    assert b.rows("SELECT count(*) FROM outbound_message") == [(0,)]
    wait_for(lambda: a.rows("SELECT state FROM outbound_message") == [("sent",)], timeout=30)
    # Nothing is queued on either side, so nothing more can travel: one exchange.
    assert a.rows("SELECT count(*) FROM inbound_message") == [(1,)]
    assert b.rows("SELECT count(*) FROM inbound_message") == [(1,)]


@pytest.fixture
def other_group(settings):
    """How another lets-mail group writes: its own Composer and address."""
    return Composer(settings_module.replace(settings, group={"address": "lets@b.example", "name": "LETS B"}))


def _as_received(outgoing, drop=()) -> bytes:
    head, _, body = outgoing.raw.partition(b"\n\n")
    lines = [line for line in head.split(b"\n") if not any(line.startswith(h.encode() + b":") for h in drop)]
    return b"\n".join(lines) + b"\n\n" + body


@pytest.mark.parametrize("drop, reason", [
    ((), "Auto-Submitted: auto-replied"),
    (("Auto-Submitted",), "X-Loop: lets@b.example: sent by a mail system that answers mail"),
])
def test_a_reply_from_another_lets_group_is_recognised_and_not_answered(group, other_group, drop, reason):
    group.member("Group B", "lets@b.example")
    outgoing = other_group.compose("nonmember/explain", "nl", {}, to="lets@lets.example",
                                   reply_to_message=("<x@lets.example>", ()))
    row = group.inbound(group.receive(_as_received(outgoing, drop), mail_from="lets@b.example"))
    assert (row.state, row.reason) == ("ignored", reason)
    assert OutboundMessage.select().count() == 0


def test_another_groups_mail_stripped_of_every_automatic_header_is_answered_once_a_day(group, other_group):
    """A relay that drops Auto-Submitted and X-Loop: the mail answers ours, so help goes once."""
    group.member("Group B", "lets@b.example")
    group.mail("lets@b.example", "HULP")
    ours = group.last("lets@b.example").message["Message-ID"]
    for _ in range(4):
        outgoing = other_group.compose("nonmember/explain", "nl", {}, to="lets@lets.example", reply_to_message=(ours, ()))
        group.receive(_as_received(outgoing, ("Auto-Submitted", "X-Loop")), mail_from="lets@b.example")
        ours = group.last("lets@b.example").message["Message-ID"]
    assert len(group.outbox("lets@b.example")) == 2          # the help asked for, and one answer
    assert InboundMessage.select().where(InboundMessage.kind == "loop").count() == 3


@pytest.mark.parametrize("headers", [
    {"Auto-Submitted": "auto-replied"}, {"X-Autoreply": "yes"}, {"Precedence": "auto_reply"},
    {"X-Auto-Response-Suppress": "OOF"}])
def test_a_members_auto_responder_with_automatic_headers_gets_no_reply(group, an, headers):
    group.mail("an@example.org", "AANBOD: Soep koken")
    posted = group.last("an@example.org")
    sent = len(group.outbox())
    inbound = group.mail("an@example.org", "Re: " + posted.subject, "Ik ben afwezig tot maandag.",
                         headers={"In-Reply-To": posted.message["Message-ID"], **headers})
    assert group.inbound(inbound).state == "ignored" and group.inbound(inbound).reason
    assert len(group.outbox()) == sent


def test_a_vacation_reply_without_any_automatic_header_gets_help_once_then_silence(group, an, clock):
    group.mail("an@example.org", "AANBOD: Soep koken")
    for _ in range(5):
        ours = group.last("an@example.org")
        group.mail("an@example.org", "Re: " + ours.subject, "Ik ben afwezig tot maandag.\n\n> " + ours.text,
                   headers={"In-Reply-To": ours.message["Message-ID"]})
    subjects = [m.subject for m in group.outbox("an@example.org")]
    assert len(subjects) == 2 and subjects[1] == "Zo werkt LETS Demo per mail"
    ignored = InboundMessage.select().where(InboundMessage.kind == "loop")
    assert ignored.count() == 4 and "auto-responder" in ignored.first().reason
    # A new day: the person behind the address may need help again.
    clock.advance(hours=25)
    group.mail("an@example.org", "Re: " + subjects[1], "Hoe werkt het?",
               headers={"In-Reply-To": group.last("an@example.org").message["Message-ID"]})
    assert len(group.outbox("an@example.org")) == 3


def test_a_vacation_reply_to_a_confirmation_books_nothing_and_is_answered_once(group, an, piet, settings):
    group.mail("an@example.org", "BETAAL 5 aan piet@example.org voor soep")
    ask = group.last("an@example.org")
    for _ in range(4):
        group.mail("an@example.org", "Re: " + ask.subject, "Ik ben afwezig tot maandag.",
                   rcpt=[ask.message["Reply-To"]], headers={"In-Reply-To": ask.message["Message-ID"]})
    assert [m.subject.split("?")[0] for m in group.outbox("an@example.org")][1:] == ["JA of NEE"]
    assert Transfer.get().state == "pending"


def test_a_person_writing_a_new_mail_in_their_own_words_always_gets_help(group, an):
    for _ in range(3):
        group.mail("an@example.org", "Vraagje", "Hoe werkt dit?")
    assert len(group.outbox("an@example.org")) == 3
