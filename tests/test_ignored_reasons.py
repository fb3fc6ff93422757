"""Every mail we stay silent about carries its reason, and administrators see it in `lets inbox`."""
import pytest
from click.testing import CliRunner

from db.models import InboundMessage, OutboundMessage
from mailer.message import guard
from mailer.cli import main
from tests.conftest import SETTINGS_INI


def reply_twice_without_a_command(group):
    group.mail("an@example.org", "SALDO")
    for _ in range(2):
        ours = group.last("an@example.org")
        last = group.mail("an@example.org", "Re: " + ours.subject, "Ik ben er niet.",
                          headers={"In-Reply-To": ours.message["Message-ID"]})
    return last


def flood(group):
    for _ in range(group.settings.inbound.max_per_hour + 2):
        last = group.mail("an@example.org", "MIJN")
    return last


# (guard rule or pipeline step, how to send such a mail, the kind recorded, part of the reason)
CASES = {
    "bounce": (lambda g: g.mail("an@example.org", "SALDO", mail_from=""), "bounce", "null return path"),
    "own": (lambda g: g.mail("lets@lets.example", "HULP"), "own", "group's own address"),
    "automatic": (lambda g: g.mail("an@example.org", "SALDO", headers={"Auto-Submitted": "auto-replied"}),
                  "autoreply", "Auto-Submitted: auto-replied"),
    "list": (lambda g: g.mail("an@example.org", "SALDO", headers={"List-Id": "<club.example.org>"}),
             "list", "mailing-list mail (List-Id)"),
    "sender": (lambda g: g.mail("", "SALDO", mail_from="somebody@example.org"), "unknown", "no usable From"),
    "loop": (lambda g: g.mail("an@example.org", "SALDO", headers={"X-Loop": "tickets@example.net"}),
             "autoreply", "X-Loop: tickets@example.net"),
    "flood": (flood, "flood", "throttled"),
    "auto-responder": (reply_twice_without_a_command, "loop", "auto-responder"),
    "forged-token": (lambda g: g.mail("an@example.org", "stop", rcpt=["lets+u-1-aaaaaaaaaaaaaaaa@lets.example"]),
                     "forged-token", "bad or unknown token"),
}


def test_every_guard_rule_has_a_case_here():
    assert {name for name, _ in guard.RULES} <= set(CASES)


@pytest.mark.parametrize("name", sorted(CASES))
def test_an_ignored_mail_is_silent_and_its_reason_shows_in_lets_inbox(group, an, settings, name):
    send, kind, reason = CASES[name]
    inbound_id = send(group)
    row = InboundMessage.get_by_id(inbound_id)
    assert (row.state, row.kind) == ("ignored", kind)
    assert reason in row.reason
    assert OutboundMessage.select().where(OutboundMessage.inbound == row).count() == 0
    env = {"LETS_DATABASE_URL": settings.database.url, "LETS_SECURITY_SECRET": "x"}
    shown = CliRunner().invoke(main, ["--settings", str(SETTINGS_INI), "inbox", "--state", "ignored"], env=env)
    assert shown.exit_code == 0
    line = next(line for line in shown.output.splitlines() if line.split()[0] == str(inbound_id))
    assert "ignored" in line and kind in line and row.reason in line
