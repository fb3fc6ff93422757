"""Member mail as members really write it, run through the real pipeline.

Every file under tests/corpus/<language>/ (nl, en, fr, de) is one complete mail, written the way LETS
members write from the mail programs they use: top-posted under a Gmail or Outlook
quote, bottom-posted under Thunderbird's, HTML only, quoted-printable, latin-1, with
greetings, signatures and disclaimers. Its first header line says what it means:

    X-Expect: kind=consent; answer=yes; language=nl

`key=value` pairs separated by `;`; only `kind` is required:

- kind: the `kind` of mailer.pipeline.describe (consent, pay, invoice, offer, …)
- answer: yes, no or unclear, for an answer to a confirmation request
- amount (two decimals), counterparty (the other member's address), description:
  for a payment, invoice or donation
- commands: the kinds of a mail holding several commands, comma separated
- title, category, level, expires (ISO date): the fields of an offer or request
- language: the language of the reply (and of describe's `language`)
- reply: none (nothing may go back), yes (the default, except for automatic mail), or
  the template (or its folder, e.g. help) of a reply that must go back
- text: a piece of describe's `text`, the member's own words once quotes are gone

Descriptions, titles and text are compared without typographic variants (’ and ',
« » and " ", a non-breaking space and a space): they write the same words.

In the mail, `{token}` stands for the token of a payment the sender proposed just
before (5 zonnen to Piet Jansen for soup), `{confirmation_id}` for the Message-ID of
our confirmation request.

Run as a script (`python tests/test_corpus.py`) it prints how many mails are
understood.
"""
from __future__ import annotations

import email
import email.policy
import email.utils
import re
import sys
import unicodedata
from decimal import Decimal, InvalidOperation
from pathlib import Path

import pytest

from db import members
from db.models import OutboundMessage, Transfer
from mailer.message.catalogues import Catalogues
from mailer.message.compose import TEMPLATES
from mailer.pipeline import describe, understand

CORPUS = Path(__file__).resolve().parent / "corpus"
FILES = sorted(CORPUS.rglob("*.eml"))
IDS = [path.relative_to(CORPUS).as_posix() for path in FILES]

KEYS = {"kind", "answer", "amount", "counterparty", "description", "commands", "category",
        "expires", "title", "level", "language", "reply", "text"}
FIELD_KEYS = ("title", "category", "level", "expires")
# Mail the group must never answer; every other kind gets a reply unless X-Expect says so.
# ("list" is LIJST / LIST / LISTE here: a mailing list's mail would say reply=none.)
SILENT_KINDS = {"autoreply", "bounce", "own", "loop", "flood"}
# Typography is not meaning: ’t and 't, « » and " " write the same description.
TYPOGRAPHY = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u2032": "'",
                            "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u00ab": '"', "\u00bb": '"',
                            "\u2013": "-", "\u2014": "-", "\u2026": "...", "\u00a0": " ", "\u202f": " ",
                            "\u2009": " "})
TOKEN = re.compile(r"lets\+t-([a-z2-7]{24})@lets\.example")

# The payment each sender proposes before answering its confirmation request.
PROPOSALS = {
    "nl": "BETAAL 5 aan {payee} voor soep",
    "en": "PAY 5 to {payee} for soup",
    "fr": "PAYER 5 à {payee} pour soupe",
    "de": "ZAHLE 5 an {payee} für Suppe",
}
# Members besides the conftest fixtures (An, Piet, Sam, Claire).
MORE_MEMBERS = (
    ("Jan Smit", "jan@example.org", "nl"),
    ("Ruth Evans", "ruth@example.org", "en"),
    ("Marie Peeters", "marie@example.org", "fr"),
    ("Hans Müller", "hans@example.de", "de"),
)


class Case:
    """One corpus file: what X-Expect says, and the mail without that header."""

    def __init__(self, path: Path):
        self.path = path
        self.name = path.relative_to(CORPUS).as_posix()
        data = path.read_bytes()
        first = re.match(rb"X-Expect:[ \t]*(.*(?:\r?\n[ \t].*)*)\r?\n", data)
        if first is None:
            raise ValueError(f"{self.name}: the first header line must be X-Expect")
        self.raw = data[first.end():]
        self.expect = parse_expect(first.group(1).decode("utf-8"), self.name)
        head = email.message_from_bytes(self.raw, policy=email.policy.compat32)
        self.sender = email.utils.parseaddr(str(head.get("From", "")))[1].lower()
        self.to = str(head.get("To", ""))


def parse_expect(value: str, name: str) -> dict[str, str]:
    expect = {}
    for pair in re.sub(r"\s*\n\s*", " ", value).split(";"):
        if not pair.strip():
            continue
        key, sep, item = pair.partition("=")
        key = key.strip()
        if not sep or key not in KEYS:
            raise ValueError(f"{name}: X-Expect has {pair.strip()!r}")
        expect[key] = item.strip()
    if "kind" not in expect:
        raise ValueError(f"{name}: X-Expect has no kind")
    return expect


def test_the_corpus_is_large_and_well_formed():
    cases = [Case(path) for path in FILES]
    per_language = {lang: sum(case.name.startswith(lang + "/") for case in cases) for lang in ("nl", "en", "fr", "de")}
    assert sum(per_language.values()) == len(cases) >= 180, per_language
    # German came later: fewer mails, from the same mail programs.
    assert min(per_language["nl"], per_language["en"], per_language["fr"]) >= 50, per_language
    assert per_language["de"] >= 20, per_language
    ids = [email.message_from_bytes(case.raw)["Message-ID"] for case in cases]
    assert all(ids) and len(set(ids)) == len(ids), "every corpus mail needs its own Message-ID"


@pytest.fixture
def people(group, an, piet, sam, claire):
    for name, address, language in MORE_MEMBERS:
        group.member(name, address, language=language)
    return group


def propose(group, sender: str) -> tuple[Transfer, str, str]:
    """The sender proposes 5 zonnen to Piet (to An when Piet writes), the real way; the
    payment, the token of the confirmation request and its Message-ID."""
    member = members.by_address(sender)
    assert member is not None, f"{sender} answers a confirmation but is no member"
    payee = "an@example.org" if sender == "piet@example.org" else "piet@example.org"
    group.mail(sender, PROPOSALS[member.language].format(payee=payee))
    ask = group.last(sender)
    found = TOKEN.fullmatch(str(ask.message["Reply-To"] or ""))
    assert found, f"no confirmation request went to {sender}: {ask.subject}"
    return Transfer.select().order_by(Transfer.id.desc()).get(), found.group(1), str(ask.message["Message-ID"])


def normal_amount(value) -> str | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        return f"{Decimal(str(value).replace(',', '.')):.2f}"
    except InvalidOperation:
        return str(value)


def normal_counterparty(value) -> str | None:
    if isinstance(value, dict):
        value = value.get("address") or value.get("email")
    return str(value).strip().lower() if value else None


def normal_commands(value) -> list[str] | None:
    if value is None:
        return None
    return [item.get("kind") if isinstance(item, dict) else getattr(item, "kind", item) for item in value]


def plain(text) -> str:
    """`text` without typographic variants, in one form, with single spaces."""
    return " ".join(unicodedata.normalize("NFKC", str(text or "")).translate(TYPOGRAPHY).split())


def compare(expect: dict[str, str], understood: dict) -> list[str]:
    """What describe says differently from X-Expect, one line per key."""
    wrong = []

    def differ(key, wanted, got):
        wrong.append(f"{key}: expected {wanted!r}, understood {got!r}")

    if understood.get("kind") != expect["kind"]:
        differ("kind", expect["kind"], understood.get("kind"))
    if "answer" in expect and understood.get("answer") != expect["answer"]:
        differ("answer", expect["answer"], understood.get("answer", "<missing>"))
    if "amount" in expect and normal_amount(understood.get("amount")) != normal_amount(expect["amount"]):
        differ("amount", expect["amount"], understood.get("amount", "<missing>"))
    if "counterparty" in expect and normal_counterparty(understood.get("counterparty")) != expect["counterparty"].lower():
        differ("counterparty", expect["counterparty"], understood.get("counterparty", "<missing>"))
    if "description" in expect and plain(understood.get("description")) != plain(expect["description"]):
        differ("description", expect["description"], understood.get("description", "<missing>"))
    if "commands" in expect:
        wanted = [kind.strip() for kind in expect["commands"].split(",")]
        if normal_commands(understood.get("commands")) != wanted:
            differ("commands", wanted, understood.get("commands", "<missing>"))
    fields = understood.get("fields") or {}
    for key in FIELD_KEYS:
        if key in expect and plain(fields.get(key)) != plain(expect[key]):
            differ(key, expect[key], fields.get(key))
    if "language" in expect and understood.get("language") != expect["language"]:
        differ("language", expect["language"], understood.get("language"))
    if "text" in expect and plain(expect["text"]) not in plain(understood.get("text")):
        differ("text", f"…{expect['text']}…", understood.get("text"))
    return wrong


def unclear_subject(language: str) -> str:
    """The fixed start of the subject of consent/unclear ("JA of NEE? ")."""
    subject = Catalogues(TEMPLATES / "locale").translations(language).gettext(
        "YES or NO? %(amount)s %(units)s for %(description)s")
    return subject.split("%(", 1)[0].strip()


def outcome(case: Case, inbound_id, proposed: Transfer | None) -> list[str]:
    """What processing the mail did differently from X-Expect."""
    expect, sender = case.expect, case.sender
    wrong = []
    replies = [] if inbound_id is None else list(
        OutboundMessage.select().where(OutboundMessage.inbound == inbound_id,
                                       OutboundMessage.recipient == sender).order_by(OutboundMessage.id))
    kinds = [row.kind for row in replies]
    rule = expect.get("reply", "none" if expect["kind"] in SILENT_KINDS else "yes")
    if rule == "none" and replies:
        wrong.append(f"reply: expected none, sent {kinds}")
    elif rule == "yes" and not replies:
        wrong.append("reply: expected a reply, none was sent")
    elif rule not in ("none", "yes") and not any(kind == rule or kind.startswith(rule + "/") for kind in kinds):
        wrong.append(f"reply: expected {rule}, sent {kinds}")
    if "language" in expect and rule != "none":
        for row in replies:
            message = email.message_from_bytes(bytes(row.raw))
            if message["Content-Language"] != expect["language"]:
                wrong.append(f"reply language: expected {expect['language']}, "
                             f"{row.kind} is in {message['Content-Language']}")
    if proposed is not None:
        transfer = Transfer.get_by_id(proposed.id)
        answer = expect.get("answer") if expect["kind"] == "consent" else None
        if answer == "yes":
            if transfer.state != "booked":
                wrong.append(f"answer yes: the payment is {transfer.state}, not booked")
            if "receipt/booked" not in kinds:
                wrong.append(f"answer yes: no receipt went to {sender} (sent {kinds})")
        elif answer == "no":
            if transfer.state != "cancelled":
                wrong.append(f"answer no: the payment is {transfer.state}, not cancelled")
        else:
            if transfer.state != "pending":
                wrong.append(f"the payment is {transfer.state}: it must still wait for an answer")
            if answer == "unclear":
                asked = unclear_subject(members.by_address(sender).language)
                subjects = [str(email.message_from_bytes(bytes(row.raw), policy=email.policy.default)["Subject"])
                            for row in replies]
                if not any(subject.startswith(asked) for subject in subjects):
                    wrong.append(f"answer unclear: {sender} was not asked again ({asked!r}), sent {subjects}")
    return wrong


@pytest.mark.parametrize("path", FILES, ids=IDS)
def test_mail_means_what_its_writer_meant(path, people):
    group = people
    case = Case(path)
    raw, proposed, token = case.raw, None, None
    if b"{token}" in raw or b"{confirmation_id}" in raw:
        proposed, token, confirmation_id = propose(group, case.sender)
        raw = raw.replace(b"{token}", token.encode()).replace(b"{confirmation_id}", confirmation_id.encode())
    plus = f"lets+t-{token}@lets.example" if token else None
    rcpt = [plus] if plus and plus in case.to.replace("{token}", token) else [group.settings.group.address]
    understood = describe(understand(raw, group.settings, mail_from=case.sender, rcpt_tos=rcpt,
                                     today=group.clock.now.date()))
    wrong = compare(case.expect, understood)
    inbound_id = group.receive(raw, mail_from=case.sender, rcpt=rcpt)
    wrong += outcome(case, inbound_id, proposed)
    assert not wrong, f"{case.name} ({case.sender}, subject {understood.get('subject')!r}):\n  " + "\n  ".join(
        wrong) + f"\n  understood text: {understood.get('text')!r}"


class _Count:
    """Counts the corpus mails that passed, for the script's one-line summary."""

    def __init__(self):
        self.passed, self.failed = 0, []

    def pytest_runtest_logreport(self, report):
        if report.when == "call" and "test_mail_means_what_its_writer_meant" in report.nodeid:
            if report.passed:
                self.passed += 1
            else:
                self.failed.append(report.nodeid.split("[", 1)[-1].rstrip("]"))
        elif report.when == "setup" and report.failed:
            self.failed.append(report.nodeid)


def main(argv: list[str]) -> int:
    """Run the corpus; print the failing files and "N of M understood"."""
    count = _Count()
    pytest.main([__file__, "-q", "-p", "no:cacheprovider", "--no-header", "--tb=no", "-rN",
                 "-k", "test_mail_means_what_its_writer_meant", *argv], plugins=[count])
    for name in count.failed:
        print("not understood:", name)
    print(f"{count.passed} of {len(FILES)} understood")
    return 0 if count.passed == len(FILES) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
