"""Shared test fixtures: a real database per test, the real pipeline, a real SMTP server.

The database is a SQLite file per test, or, when LETS_TEST_DATABASE names a PostgreSQL
URL, a fresh schema per test in that database (dropped afterwards).
"""
from __future__ import annotations

import datetime as dt
import email
import email.policy
import mailbox
import os
import smtplib
import socket
import subprocess
import sys
import threading
import uuid
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from db import connect, database, members, tokens
from db.migrations import upgrade
from db.models import InboundMessage, OutboundMessage
from mailer import settings as settings_module
from mailer.outbound.outbox import deliver_pending
from mailer.pipeline import Processor, store

SETTINGS_INI = Path(__file__).resolve().parent.parent / "settings.ini"
# Read before the settings fixture clears LETS_* variables.
TEST_DATABASE = os.environ.get("LETS_TEST_DATABASE", "")


class Clock:
    """A clock the tests move by hand."""

    def __init__(self, start=dt.datetime(2026, 11, 23, 10, 0, 0)):
        self.now = start

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **delta):
        self.now += dt.timedelta(**delta)


@pytest.fixture
def database_url(tmp_path):
    """A clean database for one test: a SQLite file, or a new PostgreSQL schema."""
    if not TEST_DATABASE.startswith("postgres"):
        yield f"sqlite:///{tmp_path / 'lets.db'}"
        return
    import psycopg2
    from urllib.parse import quote

    schema = f"t_{uuid.uuid4().hex[:16]}"
    admin = psycopg2.connect(TEST_DATABASE)
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute(f"CREATE SCHEMA {schema}")
    separator = "&" if "?" in TEST_DATABASE else "?"
    yield f"{TEST_DATABASE}{separator}options={quote(f'-c search_path={schema}')}"
    if not database.is_closed():
        database.close()
    with admin.cursor() as cursor:
        cursor.execute(f"DROP SCHEMA {schema} CASCADE")
    admin.close()


@pytest.fixture
def settings(tmp_path, monkeypatch, database_url):
    for name in list(__import__("os").environ):
        if name.startswith("LETS_"):
            monkeypatch.delenv(name)
    base = settings_module.load(SETTINGS_INI)
    return settings_module.replace(
        base,
        database={"url": database_url},
        outbound={"mode": "maildir", "maildir": str(tmp_path / "outbox")},
        security={"secret": "test-secret-not-for-production"},
        inbound={"port": 0},
        # No test asks real DNS: those of the sender check give it a stub resolver.
        trades={"verify_senders": False},
    )


@pytest.fixture
def db(settings):
    connect(settings.database_url)
    upgrade()
    members.ensure_system_accounts()
    yield database
    database.close()


@pytest.fixture
def clock():
    return Clock()


@dataclass
class Sent:
    """One message from the outbox, parsed as a member's mail program would."""
    recipient: str
    message: email.message.EmailMessage

    @property
    def subject(self) -> str:
        return str(self.message["Subject"])

    @property
    def text(self) -> str:
        return self.message.get_body(("plain",)).get_content()

    @property
    def html(self) -> str:
        return self.message.get_body(("html",)).get_content()


class Group:
    """A test group: members, and a way to feed it mail and read what it sends back."""

    def __init__(self, settings, clock):
        self.settings = settings
        self.clock = clock
        self.processor = Processor(settings, clock=clock)
        self.seen = 0

    def member(self, name, address, **kw):
        return members.add(name, address, **kw)

    def receive(self, raw: bytes | str, mail_from: str | None = None, rcpt=None) -> int | None:
        """Store and process one mail as the SMTP server would; the inbound id."""
        if isinstance(raw, str):
            raw = raw.encode("utf-8")
        if mail_from is None:
            parsed = email.message_from_bytes(raw)
            mail_from = email.utils.parseaddr(parsed.get("From", ""))[1]
        inbound_id = store(raw, mail_from, rcpt or [self.settings.group.address])
        if inbound_id is not None:
            self.processor.process(inbound_id)
        return inbound_id

    def mail(self, sender: str, subject: str, body: str = "", *, headers: dict | None = None,
             message_id: str | None = None, mail_from: str | None = None, rcpt=None) -> int | None:
        self.seen += 1
        lines = [f"From: {sender}", f"To: {self.settings.group.address}", f"Subject: {subject}",
                 f"Message-ID: {message_id or f'<t{self.seen}.{time.monotonic_ns()}@example.org>'}",
                 "Date: Mon, 23 Nov 2026 10:00:00 +0100", "MIME-Version: 1.0",
                 "Content-Type: text/plain; charset=utf-8"]
        lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
        raw = "\r\n".join(lines) + "\r\n\r\n" + body.replace("\n", "\r\n")
        return self.receive(raw, mail_from=mail_from, rcpt=rcpt)

    def outbox(self, to: str | None = None) -> list[Sent]:
        """Queued and sent messages, oldest first."""
        query = OutboundMessage.select().order_by(OutboundMessage.id)
        if to:
            query = query.where(OutboundMessage.recipient == to)
        # As it goes out: delivery unseals the tokens the outbox keeps sealed (db/tokens.py).
        secret = self.settings.secret()
        return [Sent(row.recipient, email.message_from_bytes(tokens.unseal(bytes(row.raw), secret),
                                                             policy=email.policy.default))
                for row in query]

    def last(self, to: str | None = None) -> Sent:
        sent = self.outbox(to)
        assert sent, f"nothing was sent to {to or 'anyone'}"
        return sent[-1]

    def inbound(self, inbound_id: int) -> InboundMessage:
        return InboundMessage.get_by_id(inbound_id)

    def deliver(self) -> int:
        return deliver_pending(self.settings, clock=self.clock)


@pytest.fixture
def group(settings, db, clock):
    return Group(settings, clock)


@pytest.fixture
def an(group):
    return group.member("An de Vries", "an@example.org", language="nl")


@pytest.fixture
def sam(group):
    return group.member("Sam Taylor", "sam@example.org", language="en")


@pytest.fixture
def claire(group):
    return group.member("Claire Dubois", "claire@example.org", language="fr")


def wait_for(condition, timeout: float = 10.0, interval: float = 0.02):
    """Wait until `condition()` is truthy; fail after `timeout` seconds. No bare sleeps."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"condition not met within {timeout}s")


def send_smtp(port: int, raw: bytes, sender: str, recipients) -> dict:
    with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
        return client.sendmail(sender, recipients, raw)


def maildir_messages(folder: Path) -> list[email.message.EmailMessage]:
    """The mail delivered into a Maildir (the outbox of `lets serve`), parsed as a member's
    mail program would, oldest Date first."""
    if not (folder / "new").exists() and not (folder / "cur").exists():
        return []
    box = mailbox.Maildir(folder, factory=None, create=False)
    found = [email.message_from_bytes(box.get_bytes(key), policy=email.policy.default) for key in box.keys()]
    return sorted(found, key=lambda m: m["Date"].datetime)


def free_port() -> int:
    """A loopback TCP port nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class Certificate:
    cert: Path   # PEM certificate, also usable as the CA file that trusts it
    key: Path


@pytest.fixture(scope="session")
def tls_certificate(tmp_path_factory) -> Certificate:
    """A self-signed certificate for 127.0.0.1 and localhost, made for this test run."""
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = dt.datetime.now(dt.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=2))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost"),
                                                        x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    folder = tmp_path_factory.mktemp("tls")
    paths = Certificate(folder / "cert.pem", folder / "key.pem")
    paths.cert.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    paths.key.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                            serialization.NoEncryption()))
    paths.key.chmod(0o600)
    return paths


@pytest.fixture
def piet(group):
    return group.member("Piet Jansen", "piet@example.org", language="nl")



@pytest.fixture(autouse=True)
def no_thread_outlives_its_test():
    """A worker, store or delivery thread left running would go on writing into the next
    test's database (the models' database is one global proxy)."""
    before = set(threading.enumerate())
    yield
    left = [t for t in threading.enumerate() if t not in before and t.name.startswith("lets-")]
    for thread in left:
        thread.join(5)
    assert not [t.name for t in left if t.is_alive()], "threads left running by this test"


@contextmanager
def write_lock_held_elsewhere(database_path: str):
    """Another process holds the SQLite file's write lock (db/writelock.py) meanwhile."""
    holder = subprocess.Popen([sys.executable, "-c", (
        "import fcntl, os, sys\n"
        f"fd = os.open({database_path + '.lock'!r}, os.O_RDWR | os.O_CREAT)\n"
        "fcntl.flock(fd, fcntl.LOCK_EX)\n"
        "print('held', flush=True)\n"
        "sys.stdin.readline()\n")], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        yield
    finally:
        holder.communicate("\n", timeout=10)
