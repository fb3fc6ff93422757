"""End to end through `lets serve`: a payment confirmed the way members answer, by SMTP
on loopback, read back from the outbox Maildir as the member's mail program would."""
import os
import re
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from db import database
from db.models import Transfer
from tests.conftest import free_port, maildir_messages, send_smtp, wait_for

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def serve(settings, db, an, piet, sam, tmp_path):
    port = free_port()
    env = {**os.environ, "LETS_DATABASE_URL": settings.database_url,
           "LETS_OUTBOUND_MAILDIR": str(settings.path(settings.outbound.maildir)),
           "LETS_SECURITY_SECRET": "test", "LETS_INBOUND_PORT": str(port)}
    log = tmp_path / "serve.log"
    with open(log, "wb") as out:
        process = subprocess.Popen([sys.executable, "-m", "mailer.cli", "--settings", str(ROOT / "settings.ini"),
                                    "serve"], env=env, cwd=ROOT, stdout=out, stderr=out)
    try:
        wait_for(lambda: _listening(port), timeout=20)
        yield port
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(15)
    assert process.returncode == 0, log.read_text()


def _listening(port: int) -> bool:
    import socket
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


def _mails_to(settings, address: str) -> list:
    return [m for m in maildir_messages(settings.path(settings.outbound.maildir)) if m["To"] == address]


def _booked() -> int:
    database.connect(reuse_if_open=True)
    try:
        return Transfer.select().where(Transfer.state == "booked").count()
    finally:
        database.close()


def _ask(settings, port, sender: str, line: str):
    """Propose a payment by SMTP; the confirmation request that comes back."""
    send_smtp(port, f"From: {sender}\r\nTo: lets@lets.example\r\nSubject: {line}\r\n"
                    f"Message-ID: <ask-{sender}>\r\n\r\n".encode(), sender, ["lets@lets.example"])
    return wait_for(lambda: _mails_to(settings, sender), timeout=20)[-1]


def test_a_bottom_posted_ja_from_thunderbird_books_the_payment(settings, serve):
    ask = _ask(settings, serve, "an@example.org", "BETAAL 5 aan piet@example.org voor soep")
    assert ask["Subject"].startswith("Bevestig: betaal 5,00 zonnen aan Piet Jansen")
    quoted = "\n".join("> " + line if line else ">" for line in ask.get_body(("plain",)).get_content().splitlines())
    # Thunderbird's default: the attribution and the whole quote first, the answer below.
    body = f"Op 02-12-2026 om 10:00 schreef LETS Demo:\n{quoted}\n\nJA\n\nAn\n"
    raw = (f"From: An de Vries <an@example.org>\r\nTo: {ask['Reply-To']}\r\nSubject: Re: {ask['Subject']}\r\n"
           f"Message-ID: <tb-ja@example.org>\r\nIn-Reply-To: {ask['Message-ID']}\r\n"
           "User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Thunderbird/128.5.0\r\n"
           "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=UTF-8; format=flowed\r\n"
           "Content-Transfer-Encoding: 8bit\r\n\r\n" + body.replace("\n", "\r\n")).encode()
    send_smtp(serve, raw, "an@example.org", [ask["Reply-To"]])
    wait_for(lambda: _booked() == 1, timeout=20)
    receipt = wait_for(lambda: [m for m in _mails_to(settings, "an@example.org") if m["Message-ID"] != ask["Message-ID"]],
                       timeout=20)[-1]
    assert receipt["In-Reply-To"] == "<tb-ja@example.org>"
    assert "5,00" in receipt.get_body(("plain",)).get_content()


def test_ja_graag_top_posted_from_gmail_books_the_payment(settings, serve):
    ask = _ask(settings, serve, "sam@example.org", "PAY 3 zon to piet@example.org for apples")
    assert ask["Subject"].startswith("Confirm: pay 3.00 zonnen to Piet Jansen")
    token = re.search(r"\+t-(\w+)@", ask["Reply-To"]).group(1)
    html = textwrap.dedent(f"""\
        <div dir="ltr">Yes please!<div><br></div><div>Sam</div></div><br><div class="gmail_quote">
        <div dir="ltr" class="gmail_attr">On Wed, 2 Dec 2026 at 10:00, LETS Demo &lt;lets@lets.example&gt; wrote:<br></div>
        <blockquote class="gmail_quote">You asked to pay 3.00 zonnen to Piet Jansen.<br>YES<br></blockquote></div>
        """)
    raw = (f"From: Sam Taylor <sam@example.org>\r\nTo: LETS Demo <lets+t-{token}@lets.example>\r\n"
           f"Subject: Re: {ask['Subject']}\r\nMessage-ID: <gmail-yes@example.org>\r\n"
           f"In-Reply-To: {ask['Message-ID']}\r\nMIME-Version: 1.0\r\n"
           "Content-Type: text/html; charset=UTF-8\r\n\r\n" + html.replace("\n", "\r\n")).encode()
    send_smtp(serve, raw, "sam@example.org", [f"lets+t-{token}@lets.example"])
    wait_for(lambda: _booked() == 1, timeout=20)


def test_ja_graag_in_dutch_books_the_payment(settings, serve):
    ask = _ask(settings, serve, "an@example.org", "BETAAL 2 zon aan Piet voor appels")
    body = ("Ja, graag!\r\n\r\nGroetjes,\r\nAn\r\n\r\nOp wo 2 dec. 2026 om 10:00 schreef LETS Demo "
            "<lets@lets.example>:\r\n> Je vroeg om 2,00 zonnen te betalen\r\n")
    raw = (f"From: An de Vries <an@example.org>\r\nTo: {ask['Reply-To']}\r\nSubject: Re: {ask['Subject']}\r\n"
           f"Message-ID: <ja-graag@example.org>\r\nIn-Reply-To: {ask['Message-ID']}\r\n"
           "Content-Type: text/plain; charset=utf-8\r\n\r\n" + body).encode()
    send_smtp(serve, raw, "an@example.org", [ask["Reply-To"]])
    wait_for(lambda: _booked() == 1, timeout=20)
