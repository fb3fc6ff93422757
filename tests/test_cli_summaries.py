"""What the long runs print: a bar only on a terminal, a last line whose numbers are what
was queued and delivered, and refusals in the coordinator's words (names, amounts in
the unit or in euros, never an internal code)."""
import datetime as dt
import os
import pty
import subprocess
import sys
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller

from db import euro, ledger, members
from db.models import DigestDelivery, OutboundMessage, Transfer
from tests.conftest import free_port
from tests.test_digest import MONDAY_AFTER, post
from tests.test_euro import OLD, day, lets, settings  # noqa: F401  (the euro settings)

ROOT = Path(__file__).resolve().parent.parent


class Collector:
    """A relay on loopback that accepts every mail and keeps its recipients."""

    def __init__(self):
        self.recipients = []

    async def handle_DATA(self, server, session, envelope):
        self.recipients += envelope.rcpt_tos
        return "250 OK"


@pytest.fixture
def relay():
    collector = Collector()
    controller = Controller(collector, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield collector, {"LETS_OUTBOUND_MODE": "smtp", "LETS_OUTBOUND_RELAY_HOST": "127.0.0.1",
                      "LETS_OUTBOUND_RELAY_PORT": str(controller.port), "LETS_OUTBOUND_STARTTLS": "false"}
    controller.stop()


def test_digest_send_counts_the_digests_it_delivered_at_once_and_the_outbox_it_emptied(group, relay):
    collector, env = relay
    for number in range(3):
        group.member(f"Lid {number}", f"lid{number}@example.org", language="nl")
    post(group, "lid0@example.org", "AANBOD: Gras maaien", "Categorie: tuin\n")
    waiting = OutboundMessage.select().where(OutboundMessage.state == "queued").count()   # the offer's receipt
    result = lets(group.settings, "digest", "send", "--at", MONDAY_AFTER.isoformat(), env=env)
    assert result.exit_code == 0, result.output
    digests = DigestDelivery.select().count()
    assert digests == 3 and waiting == 1
    # Before, the digests the parallel sender delivered were not counted: "sent 1 mails".
    assert result.output.strip() == f"queued {digests} digests, sent {digests + waiting} mails"
    assert len(collector.recipients) == digests + waiting


def test_announce_counts_the_mails_it_delivered(group, relay, tmp_path):
    collector, env = relay
    for number in range(4):
        group.member(f"Lid {number}", f"lid{number}@example.org", language="nl")
    text = tmp_path / "a.txt"
    text.write_text("De vergadering is op 12 maart.\n")
    result = lets(group.settings, "announce", "--subject", "Vergadering", "--file", str(text), env=env)
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "queued 4 announcement mails, sent 4 mails"
    assert len(collector.recipients) == 4


def test_piped_or_from_cron_a_long_run_prints_its_summary_and_nothing_else(group, settings):
    sam = group.member("Sam Taylor", "sam@example.org", joined=OLD)
    an = group.member("An de Vries", "an@example.org", joined=OLD)
    ledger.transfer_now(members.account(an), members.account(sam), 500, "soep", limits=settings.limits,
                        now=dt.datetime(2027, 2, 1), entered_by="admin")
    result = lets(settings, "ledger", "verify")
    assert result.exit_code == 0 and result.output.startswith("1 booked transfers verified")
    assert result.output.count("\n") == 1


def _on_a_terminal(settings, *args) -> tuple[str, str]:
    """(stdout, what the terminal showed) of `lets ARGS` with stderr on a pseudo-terminal."""
    terminal, attached = pty.openpty()
    env = {**os.environ, "PYTHONPATH": str(ROOT), "LETS_DATABASE_URL": settings.database.url,
           "LETS_SECURITY_SECRET": settings.security.secret, "LETS_OUTBOUND_MAILDIR": settings.outbound.maildir}
    child = subprocess.Popen([sys.executable, "-m", "mailer.cli", *args], cwd=ROOT, env=env,
                             stdout=subprocess.PIPE, stderr=attached, stdin=subprocess.DEVNULL)
    os.close(attached)
    shown = b""
    while True:
        try:
            chunk = os.read(terminal, 4096)
        except OSError:        # the child closed the terminal's other end
            break
        if not chunk:
            break
        shown += chunk
    out = child.communicate(timeout=60)[0].decode()
    os.close(terminal)
    return out, shown.decode(errors="replace")


def test_on_a_terminal_ledger_verify_and_contributions_run_show_a_bar(group, settings):
    for number in range(3):
        group.member(f"Lid {number}", f"lid{number}@example.org", joined=OLD)
    out, shown = _on_a_terminal(settings, "contributions", "run", "--period", "2026Q4", "--at", "2026-12-31T09:00")
    assert out.strip() == "2026Q4: charged 3, skipped 0"
    assert "2026Q4 members" in shown and "3/3" in shown
    out, shown = _on_a_terminal(settings, "ledger", "verify")
    assert out.startswith("3 booked transfers verified") and "transfers" in shown and "3/3" in shown


def test_on_a_terminal_digest_send_shows_a_count_without_knowing_the_total(group, settings):
    for number in range(3):
        group.member(f"Lid {number}", f"lid{number}@example.org", language="nl")
    post(group, "lid0@example.org", "AANBOD: Gras maaien", "Categorie: tuin\n")
    out, shown = _on_a_terminal(settings, "digest", "send", "--at", MONDAY_AFTER.isoformat())
    assert out.strip() == "queued 3 digests, sent 4 mails"
    assert "digests" in shown and "3" in shown and "Error" not in shown


def test_euro_status_of_a_year_before_the_first_says_nothing_is_due_yet(group, settings):
    group.member("An de Vries", "an@example.org", joined=OLD)
    result = lets(settings, "euro", "status", "--year", "2026")
    assert result.output.strip() == "nothing is due for 2026: the euro contribution starts in 2027 ([euro] first_year)"
    off = lets(settings, "euro", "status", "--year", "2026", env={"LETS_EURO_FIRST_YEAR": "0"})
    assert off.output.strip() == "the euro contribution is off: [euro] first_year is not set"
    assert lets(settings, "euro", "status", "--year", "2027").output.strip() == \
        "nobody has been charged in euros for 2027 yet"


# -- refusals in the coordinator's words ------------------------------------------

def test_a_trade_over_the_lower_limit_names_the_payer_and_the_room_in_the_unit(group, settings):
    group.member("An de Vries", "an@example.org", joined=OLD)
    group.member("Sam Taylor", "sam@example.org", joined=OLD)
    result = lets(settings, "trade", "1", "2", "1000", "tuinwerk")
    assert result.exit_code == 1
    assert result.output.strip() == ("Error: An de Vries (member 1) would go below the lower limit of "
                                     "-300,00 zonnen: the balance is 0,00 zonnen, room for at most 300,00 zonnen")


def test_refusals_say_what_is_wrong_without_internal_codes(group, settings):
    group.member("An de Vries", "an@example.org", joined=OLD)
    unknown = lets(settings, "trade", "1", "nobody@example.org", "5", "soep")
    assert unknown.output.strip() == "Error: no member or account 'nobody@example.org'"
    missing = lets(settings, "ledger", "reverse", "99")
    assert missing.output.strip() == "Error: there is no transfer #99"
    amount = lets(settings, "trade", "1", "solidarity", "12,345", "soep")
    assert amount.output.strip() == "Error: '12,345' is not an amount: at most two decimals"


def test_set_limits_answers_in_the_unit(group, settings):
    group.member("An de Vries", "an@example.org", joined=OLD)
    result = lets(settings, "set-limits", "1", "--lower", "-500", "--upper", "1200")
    assert result.output.strip() == "An de Vries (member 1): -500,00 zonnen to 1.200,00 zonnen"


def test_waiving_more_than_is_owed_is_refused_in_euros(group, settings):
    an = group.member("An de Vries", "an@example.org", joined=OLD)
    day(settings, dt.date(2027, 1, 2))
    result = lets(settings, "euro", "waive", "1", "20", "--year", "2027", "--reason", "ziek")
    owed = euro.outstanding_cents(an, 2027)
    assert owed == 1800
    assert result.output.strip() == "Error: An de Vries (member 1) owes € 18,00 for 2027; € 20,00 cannot be waived"


def test_a_second_waiver_names_the_member(group, settings):
    group.member("An de Vries", "an@example.org", joined=OLD)
    assert lets(settings, "contributions", "waive", "1", "2027Q1", "--reason", "ziek").exit_code == 0
    again = lets(settings, "contributions", "waive", "1", "2027Q1", "--reason", "ziek")
    assert again.output.strip() == "Error: An de Vries (member 1) is already waived for 2027Q1"


def test_a_paper_trade_entered_later_is_booked_on_the_day_it_was_made(group, settings):
    group.member("An de Vries", "an@example.org", joined=OLD)
    group.member("Sam Taylor", "sam@example.org", joined=OLD)
    result = lets(settings, "trade", "1", "2", "12,50", "soep", "--at", "2027-03-14T10:00")
    assert result.exit_code == 0, result.output
    booked = Transfer.get(Transfer.number == 1)
    assert booked.booked == dt.datetime(2027, 3, 14, 10, 0) and booked.amount_cents == 1250
    wrong = lets(settings, "trade", "1", "2", "5", "soep", "--at", "gisteren")
    assert wrong.exit_code == 1 and "--at 'gisteren'" in wrong.output


def test_a_trade_kept_open_at_the_upper_limit_names_the_payee(group, settings):
    group.member("An de Vries", "an@example.org", joined=OLD)
    group.member("Sam Taylor", "sam@example.org", joined=OLD)
    assert lets(settings, "set-limits", "2", "--upper", "10").exit_code == 0
    result = lets(settings, "trade", "1", "2", "20", "soep")
    assert result.exit_code == 0, result.output
    opened = Transfer.get(Transfer.state == "open")
    assert result.output.strip() == ("kept open: Sam Taylor (member 2) would go over the upper limit; it is booked by "
                                     f"itself, oldest first, once there is room (transfer id {opened.id})")
