"""`lets member export` and `lets member forget`: everything held about a member, then nothing
personal left, while the ledger still balances and its hash chain still verifies."""
import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from db import database, is_sqlite, ledger, members
from db.models import Account, InboundMessage, MemberEvent, OutboundMessage, Transfer
from mailer import settings as settings_module
from mailer.cli import main
from mailer.outbound.outbox import deliver_pending
from tests.conftest import SETTINGS_INI

TOKEN = re.compile(r"lets\+t-[a-z2-7]{24}@lets\.example")
# Everything An wrote or that names An: none of it may survive forgetting.
PERSONAL = ("an@example.org", "An de Vries", "Fietsherstel", "Ooijpolder", "fietsbel", "appeltaart",
            "ik ben er vanaf maandag")


@pytest.fixture
def settings(settings):
    return settings_module.replace(settings, limits={"newcomer_months": 0})


def pay(group, payer, text):
    group.mail(payer, text)
    ask = group.last(payer)
    group.mail(payer, "Re: " + ask.subject, "JA\n", rcpt=[ask.message["Reply-To"]],
               headers={"In-Reply-To": ask.message["Message-ID"]})


@pytest.fixture
def history(group, an, piet):
    """An posts, chooses, trades both ways (balance back to zero), then leaves."""
    group.mail("an@example.org", "AANBOD: Fietsherstel",
               "Categorie: vervoer\nPrijs: 10 zon per uur\n\nIk repareer fietsen in de Ooijpolder.")
    group.mail("an@example.org", "ALLEEN vervoer")
    pay(group, "an@example.org", "BETAAL 12,50 aan piet@example.org voor fietsbel")
    pay(group, "piet@example.org", "BETAAL 12,50 aan an@example.org voor appeltaart van An de Vries")
    group.mail("an@example.org", "Vraagje", "Hallo, ik ben er vanaf maandag weer.")
    group.mail("an@example.org", "BETAAL 3 aan piet@example.org voor een tweede fietsbel")  # never confirmed
    members.add_address(an, "an.work@example.org")
    assert members.account(an).balance_cents == 0
    deliver_pending(group.settings)   # the real clock: rows are due from the moment they were queued
    return an


def cli(settings, *args):
    env = {"LETS_DATABASE_URL": settings.database.url, "LETS_SECURITY_SECRET": "x",
           "LETS_OUTBOUND_MAILDIR": settings.outbound.maildir}
    return CliRunner().invoke(main, ["--settings", str(SETTINGS_INI), *args], env=env, catch_exceptions=False)


def exported(settings, key):
    result = cli(settings, "member", "export", key)
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_export_holds_everything_the_group_keeps_about_the_member(group, history, settings):
    data = exported(settings, "an@example.org")
    assert data["member"]["name"] == "An de Vries" and data["member"]["number"] == 1
    assert [a["email"] for a in data["addresses"]] == ["an@example.org", "an.work@example.org"]
    assert data["preferences"]["categories"] == ["transport"]
    assert data["listings"][0]["title"] == "Fietsherstel"
    assert "Ooijpolder" in data["listings"][0]["description"]
    booked = [t for t in data["transfers"] if t["state"] == "booked"]
    assert [(t["amount_cents"], t["description"]) for t in booked] == [
        (-1250, "fietsbel"), (1250, "appeltaart van An de Vries")]
    assert booked[0]["counterparty"] == {"member": 2, "name": "Piet Jansen", "account": "member:2"}
    assert data["account"]["balance_cents"] == 0
    # Token metadata only: the stored hash is never exported.
    assert data["consent_tokens"] and all("digest" not in t for t in data["consent_tokens"])
    assert data["consent_tokens"][0]["address"] == "an@example.org"
    subjects = [m["subject"] for m in data["mail_received"]]
    assert "AANBOD: Fietsherstel" in subjects and "Vraagje" in subjects
    assert any("ik ben er vanaf maandag" in m["raw"] for m in data["mail_received"])
    assert {m["recipient"] for m in data["mail_sent"]} == {"an@example.org"}
    assert any(m["subject"].startswith("Bewijs #1") for m in data["mail_sent"])
    # Piet's own data is not in An's export.
    assert all("piet@example.org" != m["sender"] for m in data["mail_received"])


def test_export_writes_a_file_readable_only_by_its_owner(group, history, settings, tmp_path):
    target = tmp_path / "an.json"
    assert cli(settings, "member", "export", "1", "--output", str(target)).exit_code == 0
    assert json.loads(target.read_text())["member"]["number"] == 1
    assert target.stat().st_mode & 0o777 == 0o600


def test_forget_is_refused_while_the_member_has_not_left(group, history, settings):
    result = cli(settings, "member", "forget", "1")
    assert result.exit_code == 1 and "is active" in result.output
    assert members.by_number_or_address("1").name == "An de Vries"


def test_forget_is_refused_while_the_balance_is_not_zero(group, an, piet, settings):
    ledger.transfer_now(members.account(an), members.account(piet), 500, "soep", limits=settings.limits,
                        now=group.clock(), entered_by="admin")
    assert cli(settings, "member", "set-status", "1", "left").exit_code == 0
    event = MemberEvent.select().order_by(MemberEvent.id.desc()).first()
    assert (event.status, event.previous, event.reason) == ("left", "active", "corrected by an administrator")
    result = cli(settings, "member", "forget", "1")
    assert result.exit_code == 1 and "balance of -500" in result.output
    assert cli(settings, "member", "forget", "1", "--force").exit_code == 0
    assert ledger.check() == [] and ledger.verify() == (1, None)


def all_stored_text() -> str:
    """Every value in every table, as one string to search."""
    found = []
    for table in database.get_tables():
        for row in database.execute_sql(f"SELECT * FROM {table}").fetchall():
            for value in row:
                found.append(bytes(value).decode("utf-8", "replace") if isinstance(value, (bytes, memoryview))
                             else str(value))
    return "\n".join(found)


def test_forget_erases_the_personal_data_and_the_ledger_still_verifies(group, history, settings):
    head_before = ledger.head_hash()
    assert cli(settings, "member", "set-status", "an@example.org", "left").exit_code == 0
    result = cli(settings, "member", "forget", "an@example.org")
    assert result.exit_code == 0, result.output
    assert "cancelled: 1, descriptions erased: 3" in result.output   # two booked, one never confirmed

    verify, check = cli(settings, "ledger", "verify"), cli(settings, "ledger", "check")
    assert verify.exit_code == 0 and "2 booked transfers verified" in verify.output
    assert head_before in verify.output
    assert check.exit_code == 0
    assert [t.amount_cents for t in Transfer.select().where(Transfer.state == "booked")] == [1250, 1250]

    data = exported(settings, "1")
    text = json.dumps(data, ensure_ascii=False)
    for personal in PERSONAL:
        assert personal.lower() not in text.lower(), personal
    assert data["member"]["name"] == "Oud-lid #1"
    assert [a["email"] for a in data["addresses"]] == ["former-member-1@forgotten.invalid"]
    assert data["listings"][0]["title"] == "" and data["listings"][0]["status"] == "withdrawn"
    assert all(m["raw"] == "" for m in data["mail_received"])
    assert data["mail_received"] and data["transfers"]

    # Nothing personal anywhere in the database, other members' mail included.
    stored = all_stored_text()
    for personal in PERSONAL:
        assert personal.lower() not in stored.lower(), personal
    assert "piet@example.org" in stored   # Piet is not forgotten

    # Piet's statement names the former member as the group now shows them.
    piet_data = exported(settings, "piet@example.org")
    assert {t["counterparty"]["name"] for t in piet_data["transfers"]} == {"Oud-lid #1"}
    assert Account.get(Account.code == "member:1").name == "Oud-lid #1"


def test_forgotten_data_is_not_left_in_the_sqlite_file(group, history, settings):
    if not is_sqlite():
        pytest.skip("a SQLite file property")
    cli(settings, "member", "set-status", "1", "left")
    assert cli(settings, "member", "forget", "1").exit_code == 0
    path = settings.database.url[len("sqlite:///"):]
    for suffix in ("", "-wal"):
        file = Path(path + suffix)
        if not file.exists():
            continue
        raw = file.read_bytes()
        assert b"an@example.org" not in raw.lower(), suffix
        assert b"Ooijpolder" not in raw, suffix


def test_mail_from_a_forgotten_address_is_treated_as_a_non_member(group, history, settings):
    cli(settings, "member", "set-status", "1", "left")
    cli(settings, "member", "forget", "1")
    group.mail("an@example.org", "SALDO")
    reply = group.last("an@example.org")
    assert reply.subject.endswith("alleen voor leden")
    assert "Oud-lid" not in reply.text and "0,00" not in reply.text


def test_forget_twice_changes_nothing_more(group, history, settings):
    cli(settings, "member", "set-status", "1", "left")
    assert cli(settings, "member", "forget", "1").exit_code == 0
    first = exported(settings, "1")
    result = cli(settings, "member", "forget", "1")
    assert result.exit_code == 0 and "descriptions erased: 0" in result.output
    assert exported(settings, "1") == first
    assert ledger.verify()[1] is None


def test_queued_mail_to_the_forgotten_member_is_never_sent(group, history, settings):
    group.mail("an@example.org", "SALDO")
    queued = OutboundMessage.select().where(OutboundMessage.recipient == "an@example.org",
                                            OutboundMessage.state == "queued").count()
    assert queued
    cli(settings, "member", "set-status", "1", "left")
    cli(settings, "member", "forget", "1")
    deliver_pending(settings)
    assert not OutboundMessage.select().where(OutboundMessage.recipient.contains("an@example")).exists()
    assert OutboundMessage.select().where(OutboundMessage.last_error == "recipient forgotten").count() == queued
    assert InboundMessage.select().where(InboundMessage.sender == "an@example.org").count() == 0


def test_a_changed_description_breaks_verify_but_an_erased_one_does_not(group, an, piet, settings):
    for text in ("soep", "brood"):
        ledger.transfer_now(members.account(an), members.account(piet), 100, text, limits=settings.limits,
                            now=group.clock(), entered_by="admin")
    database.execute_sql("UPDATE transfer SET description = 'taart' WHERE number = 2")
    checked, broken = ledger.verify()
    assert checked == 1 and "transfer #2" in broken and "description does not match" in broken
    database.execute_sql("UPDATE transfer SET description = '' WHERE number = 2")
    assert ledger.verify() == (2, None)


def test_descriptions_booked_before_the_hash_format_are_kept_and_still_verify(group, an, piet, settings):
    booking = ledger.transfer_now(members.account(an), members.account(piet), 100, "soep",
                                  limits=settings.limits, now=group.clock(), entered_by="admin")
    row = Transfer.get_by_id(booking.transfer.id)
    # A row as the first format booked it: the chain hashed the text itself.
    legacy = ledger.chain_hash(row.number, row.booked, "member:1", "member:2", row.amount_cents, row.description,
                               None, row.prev_hash)
    Transfer.update(description_hash=None, hash=legacy).where(Transfer.id == row.id).execute()
    assert ledger.verify() == (1, None)
    ledger.transfer_now(members.account(piet), members.account(an), 100, "terug", limits=settings.limits,
                        now=group.clock(), entered_by="admin")
    cli(settings, "member", "set-status", "1", "left")
    result = cli(settings, "member", "forget", "1")
    assert "descriptions erased: 1" in result.output and "descriptions kept: 1" in result.output
    assert Transfer.get_by_id(row.id).description == "soep"
    assert ledger.verify() == (2, None)


@pytest.fixture
def fenneke(group, piet):
    group.member("Jan Smit", "jan@example.org", language="nl")
    return group.member("Fenneke Brakkenstein", "zwaluw77@postduif.example", language="nl")


def test_what_others_wrote_naming_the_member_loses_her_name_address_and_phone(group, fenneke, settings):
    group.mail("zwaluw77@postduif.example", "AANBOD: Fietsles", "Categorie: vervoer\n\nBel me: 06-98765432.")
    group.mail("piet@example.org", "Vraag",
               "Weet Jan of fenneke nog les geeft? Bel +31 (0)6 987 654 32 of 0698765432.\n"
               "Afspraak op 01-12-2026 10:00 bij Jan.")
    ledger.transfer_now(members.account(group.member("Bas Vos", "bas@example.org")), members.account(
        members.by_number_or_address("piet@example.org")), 100, "taart voor Fenneke", limits=settings.limits,
        now=group.clock(), entered_by="admin")
    assert cli(settings, "member", "set-status", "zwaluw77@postduif.example", "left",
               "--reason", "verhuisd naar Vergeetmij-stad").exit_code == 0
    assert cli(settings, "member", "set-status", "jan@example.org", "suspended",
               "--reason", "ruzie met Fenneke Brakkenstein").exit_code == 0
    result = cli(settings, "member", "forget", "zwaluw77@postduif.example")
    assert result.exit_code == 0, result.output
    assert "reasons erased: 1" in result.output and "descriptions naming erased: 1" in result.output

    stored = all_stored_text()
    for personal in ("zwaluw77", "Fenneke", "Brakkenstein", "98765432", "987 654 32", "Vergeetmij"):
        assert personal.lower() not in stored.lower(), personal
    piet_mail = bytes(InboundMessage.select().where(InboundMessage.sender == "piet@example.org").get().raw).decode()
    # Jan, who is someone else, and a date that looks like a number stay.
    assert "Weet Jan of Oud-lid #3 nog les geeft? Bel [...] of [...]." in piet_mail
    assert "Afspraak op 01-12-2026 10:00 bij Jan." in piet_mail
    assert MemberEvent.select().where(MemberEvent.reason == "ruzie met Oud-lid #3").exists()
    assert ledger.verify()[1] is None


def test_mail_that_names_the_member_inside_an_encoding_is_redacted_there(group, fenneke, settings):
    import base64
    import email
    import email.policy

    body = base64.encodebytes("Groeten aan Fenneke, 06 98 76 54 32!\n".encode()).decode()
    inbound = group.receive("From: piet@example.org\r\nTo: lets@lets.example\r\n"
                            "Subject: =?utf-8?b?" + base64.b64encode("Fietsles bij Fenneke".encode()).decode()
                            + "?=\r\nMessage-ID: <b64@example.org>\r\nMIME-Version: 1.0\r\n"
                            "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n"
                            + body)
    group.mail("zwaluw77@postduif.example", "Vraagje", "Groet, Fenneke\nTel 06-98765432")
    cli(settings, "member", "set-status", "3", "left")
    assert cli(settings, "member", "forget", "3").exit_code == 0
    stored = email.message_from_bytes(bytes(InboundMessage.get_by_id(inbound).raw), policy=email.policy.default)
    assert stored["Subject"] == "Fietsles bij Oud-lid #3"
    assert stored.get_content() == "Groeten aan Oud-lid #3, [...]!\n"


def test_phone_numbers_are_found_in_the_members_own_words_not_in_dates_or_quotes():
    from db.redact import phones_in

    text = ("Bel 06-98765432 of +32 470 12 34 56, vast (020) 123 4567.\n"
            "Tot 01-12-2026 10:00, 2026-12-01 of ref 12345678.\n> Piet: mijn nummer is 06-11111111\n")
    assert phones_in(text) == {"0698765432", "+32470123456", "0201234567"}


# Text columns that hold no free text anyone wrote about a member, or that forgetting
# handles by name: codes, states, hashes, message ids, and the member's own name, addresses
# and mail (erased or replaced whole).
NOT_WRITTEN = {
    "member": {"name", "type", "status", "language", "digest", "income_category"},
    "address": {"email"}, "account": {"code", "name"},
    "inbound_message": {"message_id", "mail_from", "rcpt_tos", "state", "kind", "sender"},
    "outbound_message": {"key", "message_id", "mail_from", "recipient", "kind", "state"},
    "listing": {"kind", "category", "level", "status"}, "notice": {"kind"}, "mailbox_state": {"mailbox"},
    "spool_mark": {"spool"},
    "transfer": {"description", "state", "initiator", "entered_by", "hash", "prev_hash", "description_hash",
                 "confirmed_by", "sender_auth"},
    "consent_token": {"digest"}, "member_preference": {"categories"}, "digest_run": {"period"},
    "digest_delivery": {"period", "outbound_key", "state", "message_id"}, "contribution": {"period", "state"},
    "announcement": {"mode"}, "member_event": {"status", "previous"}, "departure": {"kind", "state"},
    "budget": {"name"}, "claim": {"work_month"}, "listing_mail": {"message_id"}, "euro_charge": {"kind", "key"},
    "euro_payment": {"kind"}, "euro_step": {"step"}, "announcement_draft": {"digest", "language", "mode"},
    "announcement_delivery": {"outbound_key"}, "confirm_token": {"digest", "action"},
    "sanction": {"kind", "previous", "outcome"}, "donor": {"name", "language", "every"},
    "activity": {"payee", "state", "language", "code", "preview_digest", "rule"}, "signup": {"state"},
}


def test_every_text_column_is_redacted_by_forget_or_known_to_hold_no_free_text():
    from peewee import CharField, TextField

    from db.forget import WRITTEN
    from db.models import MODELS

    unaccounted = [f"{model._meta.table_name}.{field.name}" for model in MODELS
                   for field in model._meta.sorted_fields if isinstance(field, (CharField, TextField))
                   and field.name not in WRITTEN and field.name not in NOT_WRITTEN.get(model._meta.table_name, ())]
    assert unaccounted == [], "add them to db/forget.py WRITTEN, or here when nobody writes free text there"
