"""OAuth2 logins as Gmail and Microsoft 365 want them: XOAUTH2 with a token from the operator's
command, fresh for every connection; against a real aiosmtpd relay and a real Dovecot."""
import base64
import json
import threading

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult

from db.models import OutboundMessage
from mailer import settings as settings_module
from mailer.inbound.imap import Poller
from mailer.oauth2 import TokenError, token
from mailer.outbound.outbox import deliver_pending

from conftest import free_port, wait_for
from dovecot import PASSWORD, USER, Dovecot
from test_imap import deliver, folders, help_mail
from test_relay import server_context

ACCOUNT = "lets@gmail.example"


class OAuthRelay:
    """A submission server that takes only XOAUTH2 with the token it currently expects."""

    def __init__(self, expected: str):
        self.expected = expected
        self.logins: list[tuple[str, str]] = []   # (user, token) as the client sent them
        self.received = []

    async def auth_XOAUTH2(self, server, args):
        blob = base64.b64decode(args[1]) if len(args) == 2 else await server.challenge_auth("")
        fields = dict(part.split("=", 1) for part in blob.decode().split("\x01") if part)
        user, bearer = fields.get("user", ""), fields.get("auth", "").removeprefix("Bearer ")
        self.logins.append((user, bearer))
        if user == ACCOUNT and bearer == self.expected:
            return AuthResult(success=True, auth_data=user)
        # Google's way: a 334 with the reason, the client's empty answer, then 535.
        await server.challenge_auth(json.dumps({"status": "401", "schemes": "bearer"}))
        return AuthResult(success=False, handled=False)

    async def handle_DATA(self, server, session, envelope):
        if not session.authenticated:
            return "530 5.7.0 Authentication required"
        self.received.append((envelope.mail_from, list(envelope.rcpt_tos)))
        return "250 2.0.0 OK"


@pytest.fixture
def relay(tls_certificate):
    handler = OAuthRelay("token-one")
    handler.port = free_port()
    # As smtp.gmail.com:587: STARTTLS first, then AUTH; XOAUTH2 is the handler's own mechanism.
    controller = Controller(handler, hostname="127.0.0.1", port=handler.port,
                            tls_context=server_context(tls_certificate), require_starttls=True,
                            auth_require_tls=True, auth_exclude_mechanism=["PLAIN", "LOGIN"])
    controller.start()
    yield handler
    controller.stop()


@pytest.fixture
def token_file(tmp_path):
    """What the token command prints; it also counts its runs in a file beside it."""
    path = tmp_path / "token"
    path.write_text("token-one\n")
    return path


def command(token_file) -> str:
    return f"echo run >> {token_file}.runs && cat {token_file}"


def runs(token_file) -> int:
    path = token_file.with_name(token_file.name + ".runs")
    return len(path.read_text().splitlines()) if path.exists() else 0


@pytest.fixture
def relayed(settings, relay, tls_certificate, token_file):
    return settings_module.replace(settings, outbound={
        "mode": "smtp", "relay_host": "127.0.0.1", "relay_port": relay.port, "relay_user": ACCOUNT,
        "auth": "oauth2", "token_command": command(token_file), "starttls": True,
        "ca_file": str(tls_certificate.cert)})


def ask_help(group) -> None:
    group.member("Sam Taylor", "sam@example.org", language="en")
    group.mail("sam@example.org", "HELP")


def test_outbound_logs_in_with_xoauth2_and_a_fresh_token_for_every_connection(relayed, relay, group, token_file):
    ask_help(group)
    assert deliver_pending(relayed) == 1
    assert relay.logins == [(ACCOUNT, "token-one")]
    assert [recipients for _, recipients in relay.received] == [["sam@example.org"]]
    # An hour later the provider wants the refreshed token, which the command now prints.
    relay.expected = "token-two"
    token_file.write_text("token-two\n")
    group.mail("sam@example.org", "HELP")
    assert deliver_pending(relayed) == 1
    assert relay.logins == [(ACCOUNT, "token-one"), (ACCOUNT, "token-two")]
    assert runs(token_file) == 2
    assert OutboundMessage.select().where(OutboundMessage.state == "sent").count() == 2


def test_a_refused_token_keeps_the_mail_queued_with_the_relays_answer(relayed, relay, group, token_file):
    token_file.write_text("expired-token\n")
    ask_help(group)
    assert deliver_pending(relayed) == 0
    row = OutboundMessage.get()
    assert row.state == "queued" and relay.received == []
    assert "the login was refused (535" in row.last_error, row.last_error


@pytest.mark.parametrize("failing, said", [
    ("echo 'invalid_grant: token revoked' >&2; exit 3",
     "failed with status 3: invalid_grant: token revoked"),
    ("echo", "printed no token"),
])
def test_a_token_command_that_fails_keeps_the_mail_queued_with_a_clear_reason(relayed, relay, group, failing, said):
    broken = settings_module.replace(relayed, outbound={"token_command": failing})
    ask_help(group)
    assert deliver_pending(broken) == 0
    row = OutboundMessage.get()
    assert row.state == "queued" and relay.logins == []
    assert f"[outbound] token_command {failing!r} {said}" in row.last_error, row.last_error


def test_a_token_command_that_hangs_is_stopped_after_its_timeout(tmp_path):
    with pytest.raises(TokenError, match=r"\[imap\] token_command 'sleep 30' did not finish within 0.5 s"):
        token("sleep 30", "[imap] token_command", cwd=tmp_path, timeout=0.5)


def test_the_token_command_runs_from_the_settings_folder_and_its_first_line_is_the_token(tmp_path):
    (tmp_path / "get-token").write_text("#!/bin/sh\necho '  ya29.a0-token  '\necho 'expires in 3599 s'\n")
    (tmp_path / "get-token").chmod(0o755)
    assert token("./get-token", "[outbound] token_command", cwd=tmp_path) == "ya29.a0-token"


@pytest.fixture
def dovecot(tls_certificate):
    server = Dovecot(tls_certificate, mechanisms="plain login xoauth2")
    server.start()
    yield server
    server.cleanup()


@pytest.fixture
def mailbox(settings, dovecot, tls_certificate, token_file):
    token_file.write_text(PASSWORD + "\n")  # the test Dovecot checks a bearer token as a password
    return settings_module.replace(settings, imap={
        "host": "127.0.0.1", "port": dovecot.port, "user": USER, "auth": "oauth2",
        "token_command": command(token_file), "ssl": True, "ca_file": str(tls_certificate.cert),
        "idle_seconds": 5, "max_backoff_seconds": 1})


@pytest.fixture
def polling(mailbox, db):
    poller = Poller(mailbox, first_backoff=0.1)
    thread = threading.Thread(target=poller.run, daemon=True)
    yield poller, thread
    poller.stop()
    thread.join(10)
    assert not thread.is_alive()


def test_poll_logs_in_to_dovecot_with_xoauth2_and_answers_the_mail(mailbox, dovecot, group, sam, polling):
    poller, thread = polling
    deliver(mailbox, help_mail(1))
    thread.start()
    wait_for(lambda: folders(mailbox)["Processed"] == 1, timeout=20)
    assert group.last("sam@example.org").subject
    assert f"Login: user=<{USER}>, method=XOAUTH2" in dovecot.log()


def test_a_refused_imap_token_is_tried_again_with_a_fresh_one(mailbox, dovecot, group, sam, polling, token_file):
    poller, thread = polling
    token_file.write_text("expired-token\n")
    deliver(mailbox, help_mail(2))
    thread.start()
    wait_for(lambda: "method=XOAUTH2" in dovecot.log() and "auth failed" in dovecot.log(), timeout=20)
    assert folders(mailbox)["INBOX"] == 1
    token_file.write_text(PASSWORD + "\n")  # the command refreshed it
    wait_for(lambda: folders(mailbox)["Processed"] == 1, timeout=20)
    assert runs(token_file) >= 2 and poller.connections == 1
    assert f"Login: user=<{USER}>, method=XOAUTH2" in dovecot.log()


def test_check_config_connect_logs_in_at_the_relay_and_the_mailbox_and_names_what_fails(
        relay, relayed, mailbox, token_file):
    from click.testing import CliRunner

    from conftest import SETTINGS_INI
    from mailer.cli import main

    out, imap = relayed.outbound, mailbox.imap
    env = {"LETS_SETTINGS": str(SETTINGS_INI), "LETS_DATABASE_URL": relayed.database_url,
           "LETS_SECURITY_SECRET": relayed.security.secret, "LETS_OUTBOUND_MODE": "smtp",
           "LETS_OUTBOUND_RELAY_HOST": out.relay_host, "LETS_OUTBOUND_RELAY_PORT": str(out.relay_port),
           "LETS_OUTBOUND_RELAY_USER": out.relay_user, "LETS_OUTBOUND_AUTH": "oauth2",
           "LETS_OUTBOUND_TOKEN_COMMAND": out.token_command, "LETS_OUTBOUND_CA_FILE": out.ca_file,
           "LETS_IMAP_HOST": imap.host, "LETS_IMAP_PORT": str(imap.port), "LETS_IMAP_USER": imap.user,
           "LETS_IMAP_AUTH": "oauth2", "LETS_IMAP_TOKEN_COMMAND": imap.token_command, "LETS_IMAP_CA_FILE": imap.ca_file}
    relay.expected = PASSWORD  # one token for both, as one Google account has
    result = CliRunner().invoke(main, ["check-config", "--connect"], env=env)
    assert result.exit_code == 0, result.output
    assert f"  relay: 127.0.0.1:{relay.port} took an OAuth2 token for {ACCOUNT}" in result.output
    assert (f"  mailbox: 127.0.0.1:{mailbox.imap.port} took an OAuth2 token for {USER}; "
            "INBOX holds 0 messages") in result.output
    assert relay.received == [] and runs(token_file) == 2

    token_file.write_text("expired-token\n")
    result = CliRunner().invoke(main, ["check-config", "--connect"], env=env)
    assert result.exit_code == 1
    assert f"  relay: 127.0.0.1:{relay.port}: the login was refused (535" in result.output
    assert f"  mailbox: 127.0.0.1:{mailbox.imap.port}: the login was refused (" in result.output
    assert "Error" not in result.output.replace("Error:", ""), result.output
