"""End to end: a group with only an IMAP mailbox and a submission account, run by `lets poll`."""
import os
import signal
import subprocess
import sys

from aiosmtpd.controller import Controller

from conftest import free_port, wait_for
from dovecot import PASSWORD as IMAP_PASSWORD
from dovecot import USER as IMAP_USER
from test_imap import deliver, dovecot, folders, help_mail, mailbox  # noqa: F401 (fixtures)
from test_relay import PASSWORD as RELAY_PASSWORD
from test_relay import USER as RELAY_USER
from test_relay import Relay, server_context


def lets(settings_file, *args, **kw):
    env = {k: v for k, v in os.environ.items() if not k.startswith("LETS_") or "PASSWORD" in k}
    env["LETS_SETTINGS"] = str(settings_file)
    return subprocess.Popen([sys.executable, "-c", "from mailer.cli import main; main()", *args],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, **kw)


def test_lets_poll_answers_mailbox_mail_through_the_relay(tmp_path, settings, mailbox, tls_certificate,
                                                          monkeypatch):
    relay = Relay()
    relay_port = free_port()
    controller = Controller(relay, hostname="127.0.0.1", port=relay_port, authenticator=relay.authenticate,
                            auth_require_tls=True, tls_context=server_context(tls_certificate),
                            require_starttls=True)
    controller.start()
    ini = tmp_path / "group.ini"
    ini.write_text(f"""
[group]
address = lets@lets.example
language = en
[database]
url = {settings.database_url}
[security]
secret = end-to-end-secret
[outbound]
mode = smtp
relay_host = 127.0.0.1
relay_port = {relay_port}
relay_user = {RELAY_USER}
starttls = true
ca_file = {tls_certificate.cert}
[imap]
host = 127.0.0.1
port = {mailbox.imap.port}
user = {IMAP_USER}
ssl = true
ca_file = {tls_certificate.cert}
idle_seconds = 5
""")
    monkeypatch.setenv("LETS_OUTBOUND_RELAY_PASSWORD", RELAY_PASSWORD)  # secrets from the environment
    monkeypatch.setenv("LETS_IMAP_PASSWORD", IMAP_PASSWORD)
    try:
        for command in (["init"], ["member", "add", "Sam Taylor", "sam@example.org", "--language", "en"]):
            done = lets(ini, *command)
            out, err = done.communicate(timeout=60)
            assert done.returncode == 0, err.decode()
        poller = lets(ini, "poll")
        try:
            deliver(mailbox, help_mail(1))
            wait_for(lambda: relay.received, timeout=30)
        finally:
            poller.send_signal(signal.SIGTERM)
            out, err = poller.communicate(timeout=30)
        assert poller.returncode == 0, err.decode()
        (mail_from, rcpts, raw), = relay.received
        assert rcpts == ["sam@example.org"] and b"Subject:" in raw
        assert folders(mailbox)["Processed"] == 1 and folders(mailbox)["INBOX"] == 0
    finally:
        controller.stop()
