"""A copy of the database confirms nothing: the outbox keeps the mails that carry tokens
with those tokens sealed under the group's secret; delivery unseals them."""
import email
import email.policy
import mailbox
import re

from peewee import SqliteDatabase

from db import database, tokens
from mailer.outbound.outbox import deliver_pending


def _every_value() -> str:
    """Every value of every table, as text: what a copy of the database gives away."""
    values = []
    schema = {}
    if not isinstance(database.obj, SqliteDatabase):   # a fresh schema per test on PostgreSQL
        schema = {"schema": database.execute_sql("SELECT current_schema()").fetchone()[0]}
    tables = database.get_tables(**schema)
    assert "outbound_message" in tables and "inbound_message" in tables
    for table in tables:
        cursor = database.execute_sql(f'SELECT * FROM "{table}"')
        for row in cursor.fetchall():
            for value in row:
                values.append(bytes(value).decode("latin-1") if isinstance(value, (bytes, memoryview))
                              else str(value))
    return "\n".join(values)


def test_no_live_token_can_be_read_from_the_database(group, an, piet, sam, claire, settings):
    group.mail("an@example.org", "BETAAL 5 aan piet@example.org voor soep")
    group.mail("sam@example.org", "PAY 3 to piet@example.org for apples")
    group.mail("claire@example.org", "PAYER 4 à piet@example.org pour « une très bonne soupe »")
    group.mail("piet@example.org", "FACTUUR 2 aan an@example.org voor appels")
    group.mail("an@example.org", "OPZEGGEN")
    assert deliver_pending(settings) >= 5
    box = mailbox.Maildir(settings.path(settings.outbound.maildir), factory=None, create=False)
    sent = [email.message_from_bytes(box.get_bytes(key), policy=email.policy.default) for key in box.keys()]
    live = set()
    for message in sent:
        live |= set(re.findall(r"\[[a-z]-([a-z2-7]{24})\]", str(message["Subject"])))
        live |= set(re.findall(r"\+[a-z]-([a-z2-7]{24})@", str(message["Reply-To"] or "")))
    assert len(live) == 5, "each confirmation request went out with its token in clear"
    stored = _every_value()
    assert not [token for token in live if token in stored]
    # The stored copy is the sent mail with its tokens sealed, and unseals to it.
    french = next(m for m in sent if m["To"] == "claire@example.org")
    token = re.search(r"\[t-(\w+)\]", str(french["Subject"])).group(1)
    assert token in str(french["Subject"]) and "à Piet Jansen" in str(french["Subject"])


def test_sealing_is_undone_only_with_the_secret():
    raw = b"Subject: x [t-abcdefghijklmnopqrstuvwx]\r\nReply-To: lets+t-abcdefghijklmnopqrstuvwx@lets.example\r\n\r\n"
    sealed = tokens.seal(raw, b"secret")
    assert b"abcdefghijklmnopqrstuvwx" not in sealed
    assert tokens.unseal(sealed, b"secret") == raw
    assert tokens.unseal(sealed, b"another secret") != raw


def test_an_unclear_answer_is_kept_with_its_still_valid_token_sealed(group, an, piet):
    group.mail("an@example.org", "BETAAL 5 aan piet@example.org voor soep")
    ask = group.last("an@example.org")
    token = re.search(r"\+t-(\w+)@", ask.message["Reply-To"]).group(1)
    group.mail("an@example.org", "Re: " + ask.subject, "misschien later", rcpt=[ask.message["Reply-To"]],
               headers={"In-Reply-To": ask.message["Message-ID"]})
    assert group.last("an@example.org").subject.startswith("JA of NEE?")
    assert token not in _every_value()
    # The token still works: the answer can come now.
    group.mail("an@example.org", "Re: " + ask.subject, "Ja, graag", rcpt=[ask.message["Reply-To"]])
    assert group.last("an@example.org").subject.startswith("Bewijs")
