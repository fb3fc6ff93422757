"""SALDO / BALANCE / SOLDE: the answer first; the journal's head below it, short, with how to see it all."""
import re

import pytest

from db import ledger, members
from mailer import settings as settings_module


@pytest.fixture
def settings(settings):
    return settings_module.replace(settings, limits={"newcomer_months": 0})


@pytest.mark.parametrize("sender, command, subject, answer, head, hint", [
    ("an@example.org", "SALDO", "Je saldo: -4,00 zonnen", "Je saldo bij LETS Demo is -4,00 zonnen.",
     "Journaalhash: ", "De hele hash, om de boekhouding te controleren: vraag de kerngroep (lets ledger verify)."),
    ("sam@example.org", "BALANCE", "Your balance: -4.00 zonnen", "Your balance at LETS Demo is -4.00 zonnen.",
     "Journal hash: ", "The whole hash, to check the bookkeeping: ask the core group (lets ledger verify)."),
    ("claire@example.org", "SOLDE", "Votre solde : -4,00 zonnen", "Votre solde chez LETS Demo est de -4,00 zonnen.",
     "Empreinte du journal : ", "L'empreinte entière, pour vérifier la comptabilité : demandez-la au groupe de "
                                "coordination (lets ledger verify)."),
])
def test_balance_shows_the_first_12_digits_of_the_journal_head_below_the_answer_with_a_hint(
        group, settings, an, sam, claire, piet, sender, command, subject, answer, head, hint):
    ledger.transfer_now(members.account(members.by_address(sender)), members.account(piet), 400, "eieren",
                        limits=settings.limits, now=group.clock(), entered_by="admin")
    group.mail(sender, command)
    reply = group.last(sender)
    assert reply.subject == subject
    assert reply.text.startswith(answer + "\n")
    full = ledger.head_hash()
    assert re.fullmatch(r"[0-9a-f]{64}", full)
    lines = reply.text.splitlines()
    at = lines.index(f"{head}{full[:12]}…")
    assert lines[at + 1] == hint
    assert at > lines.index(next(line for line in lines if "eieren" in line))
    assert full not in reply.text and full[:13] not in reply.text
    assert f"{full[:12]}…" in reply.html and full not in reply.html
