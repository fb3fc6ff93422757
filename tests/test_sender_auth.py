"""Money mail whose From domain disowns it by DKIM and DMARC moves no credit; DNS is a stub.

example.org signs its mail (selector `sel`) and publishes p=reject; example.net publishes
no DMARC record; evil.example signs with a key of its own. A JA that example.org signed
books; the same JA with a forged From tells An, at her own address, and books nothing.
"""
import base64
import datetime as dt
import smtplib

import dkim
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from db import budgets, members
from db.models import InboundMessage, Transfer
from mailer import settings as settings_module
from mailer.message.authresults import strip_own
from mailer.message.domains import Suffixes, aligned, organisational
from mailer.message.parse import parse
from mailer.pipeline import describe, understand
from mailer.message.sender_auth import SenderCheck, Verdict, _policy
from mailer.inbound.smtp import controller

from test_trades import token_of

OURS = "mx.lets.example"


def make_key():
    key = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    private = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                                serialization.NoEncryption())
    public = key.public_key().public_bytes(serialization.Encoding.DER,
                                           serialization.PublicFormat.SubjectPublicKeyInfo)
    return private, f"v=DKIM1; k=rsa; p={base64.b64encode(public).decode()}"


@pytest.fixture(scope="module")
def keys():
    return {"example.org": make_key(), "evil.example": make_key()}


class StubDNS:
    """TXT records by name; the names in `timeouts` never answer. Records every question."""

    def __init__(self, records, timeouts=()):
        self.records, self.timeouts, self.asked = dict(records), set(timeouts), []

    def __call__(self, name):
        self.asked.append(name)
        if name in self.timeouts:
            raise TimeoutError(f"no answer for {name}")
        return self.records.get(name, [])


@pytest.fixture
def dns(keys):
    return StubDNS({"_dmarc.example.org": ["v=DMARC1; p=reject; rua=mailto:dmarc@example.org"],
                    "sel._domainkey.example.org": [keys["example.org"][1]],
                    "sel._domainkey.evil.example": [keys["evil.example"][1]],
                    "_dmarc.evil.example": ["v=DMARC1; p=none"]})


@pytest.fixture
def settings(settings):
    return settings_module.replace(settings, limits={"newcomer_months": 0}, trades={"verify_senders": True})


@pytest.fixture
def checked(group, dns):
    """The group, its worker checking senders against the stub DNS."""
    group.processor.senders = SenderCheck(group.settings, txt=dns)
    return group


def write(group, keys, sender, subject, body="", *, signer=None, rcpt=None, headers=()):
    """A mail as `sender`'s provider sends it: signed by `signer` (a domain in `keys`), or not."""
    group.seen += 1
    lines = [*headers, f"From: {sender}", f"To: {rcpt[0] if rcpt else group.settings.group.address}",
             f"Subject: {subject}", f"Message-ID: <auth{group.seen}@mail.example>",
             "Date: Mon, 23 Nov 2026 10:00:00 +0100", "MIME-Version: 1.0",
             "Content-Type: text/plain; charset=utf-8"]
    raw = ("\r\n".join(lines) + "\r\n\r\n" + body.replace("\n", "\r\n")).encode()
    if signer:
        raw = dkim.sign(raw, b"sel", signer.encode(), keys[signer][0],
                        include_headers=[b"from", b"to", b"subject", b"message-id", b"date"]) + raw
    return group.receive(raw, mail_from=sender.rpartition("<")[2].strip(">"), rcpt=rcpt)


def answer(group, keys, ask, text="JA", **kw):
    """The payer's answer to the confirmation `ask`, to its Reply-To."""
    return write(group, keys, "an@example.org", "Re: " + ask.subject, text + "\n\n> quoted\n",
                 rcpt=[str(ask.message["Reply-To"])], **kw)


def balance(member):
    return members.account(member).balance_cents


def test_a_ja_its_domain_signed_books_and_the_transfer_keeps_the_verdict(checked, keys, an, piet):
    write(checked, keys, "an@example.org", "BETAAL 12 aan piet voor soep", signer="example.org")
    ask = checked.last("an@example.org")
    assert ask.subject.startswith("Bevestig: betaal 12,00 zonnen")   # a token round trip as ever
    assert Transfer.get().sender_auth == "dmarc=pass p=reject dkim=pass d=example.org"
    answer(checked, keys, ask, signer="example.org")
    assert balance(piet) == 1200
    assert Transfer.get().state == "booked"
    assert Transfer.get().sender_auth == "dmarc=pass p=reject dkim=pass d=example.org"


def test_a_forged_ja_books_nothing_and_tells_the_member_at_her_own_address(checked, keys, an, piet):
    write(checked, keys, "an@example.org", "BETAAL 12 aan piet voor soep", signer="example.org")
    ask = checked.last("an@example.org")
    # The confirmation was forwarded, or read over a shoulder: someone answers it in An's name.
    forged = answer(checked, keys, ask)
    assert balance(piet) == 0 and Transfer.get().state == "pending"
    told = checked.last("an@example.org")
    assert told.recipient == "an@example.org"
    assert told.subject == "Niet geboekt: een JA in jouw naam die niet van jou kwam"
    assert "Er is niets geboekt" in told.text and token_of(ask) not in told.text + told.subject
    assert checked.inbound(forged).reason == "refused: consent/unauthenticated"
    # Signed, but by another domain: not aligned with An's, so no better.
    answer(checked, keys, ask, signer="evil.example")
    assert balance(piet) == 0
    assert checked.last("an@example.org").subject.startswith("Niet geboekt")
    assert not checked.outbox("piet@example.org")
    # An's own answer still books: the forgeries did not spend her token.
    answer(checked, keys, ask, signer="example.org")
    assert balance(piet) == 1200
    assert checked.last("an@example.org").subject.startswith("Bewijs #1")


def test_a_forged_payment_proposes_nothing_and_the_member_is_told(checked, keys, an, piet, sam):
    write(checked, keys, "an@example.org", "BETAAL 12 aan piet voor soep")
    assert Transfer.select().count() == 0
    told = checked.last("an@example.org")
    assert told.subject == "Niet uitgevoerd: een bericht in jouw naam dat niet van jou kwam"
    assert "niets voorgesteld en niets geboekt" in told.text and "soep" not in told.text
    assert not checked.outbox("piet@example.org")
    # An invoice in An's name reaches no payer either.
    write(checked, keys, "an@example.org", "FACTUUR 5 aan sam voor soep")
    assert Transfer.select().count() == 0 and not checked.outbox("sam@example.org")
    # Each member is told in their own language.
    write(checked, keys, "sam@example.org", "PAY 5 to piet for soup")
    assert checked.last("sam@example.org").subject == "Not done: a message in your name that did not come from you"


def test_a_forged_claim_reaches_no_budget_holder(checked, keys, an, piet):
    budgets.create("Eco", piet)
    write(checked, keys, "an@example.org", "DECLARATIE 4 voor Eco ledenlijst")
    assert Transfer.select().count() == 0 and not checked.outbox("piet@example.org")
    assert checked.last("an@example.org").subject.startswith("Niet uitgevoerd")


def test_a_domain_without_dmarc_goes_through_the_token_round_trip_as_before(checked, keys, dns, piet):
    bo = checked.member("Bo Smit", "bo@example.net", language="en")
    write(checked, keys, "bo@example.net", "PAY 3 to piet for soup")
    ask = checked.last("bo@example.net")
    assert ask.subject.startswith("Confirm:")
    write(checked, keys, "bo@example.net", "Re: " + ask.subject, "YES\n", rcpt=[str(ask.message["Reply-To"])])
    assert balance(piet) == 300 and balance(bo) == -300
    assert Transfer.get().sender_auth == "dmarc=none dkim=none"
    assert "_dmarc.example.net" in dns.asked


def test_a_dns_timeout_changes_nothing_the_token_decides(checked, keys, dns, an, piet):
    dns.timeouts.add("_dmarc.example.org")
    # Unsigned, so under p=reject it would be refused; with DNS away it is asked again by token.
    write(checked, keys, "an@example.org", "BETAAL 12 aan piet voor soep")
    ask = checked.last("an@example.org")
    assert ask.subject.startswith("Bevestig:")
    answer(checked, keys, ask)
    assert balance(piet) == 1200
    assert Transfer.get().sender_auth == "dmarc=temperror"


def test_a_dns_timeout_is_not_asked_again_for_every_mail(checked, keys, dns, an, piet):
    dns.timeouts.add("_dmarc.example.org")
    write(checked, keys, "an@example.org", "BETAAL 1 aan piet voor soep")
    write(checked, keys, "an@example.org", "BETAAL 2 aan piet voor soep")
    assert dns.asked.count("_dmarc.example.org") == 1


def test_answers_are_kept_and_mail_that_moves_no_credit_asks_no_dns(checked, keys, dns, an, piet):
    write(checked, keys, "an@example.org", "SALDO")
    write(checked, keys, "an@example.org", "AANBOD: Soep", "Categorie: koken\n")
    # A non-member's payment is refused anyway: its domain's DNS is never waited for.
    write(checked, keys, "someone@slow.example.net", "BETAAL 1 aan piet voor soep")
    assert dns.asked == []
    write(checked, keys, "an@example.org", "BETAAL 1 aan piet voor soep", signer="example.org")
    write(checked, keys, "an@example.org", "BETAAL 2 aan piet voor soep", signer="example.org")
    assert dns.asked == ["_dmarc.example.org", "sel._domainkey.example.org"]


def test_verify_dkim_books_a_payment_its_domain_signed_at_once(checked, keys, an, piet):
    checked.processor.settings = settings_module.replace(checked.settings, trades={"verify_dkim": True})
    write(checked, keys, "an@example.org", "BETAAL 12 aan piet voor soep", signer="example.org")
    assert balance(piet) == 1200
    assert checked.last("an@example.org").subject.startswith("Bewijs #1")


def test_verify_dkim_never_books_at_once_a_signature_that_leaves_out_the_message_id(checked, keys, an, piet):
    checked.processor.settings = settings_module.replace(checked.settings, trades={"verify_dkim": True})
    mail = (b"From: an@example.org\r\nTo: lets@lets.example\r\nSubject: BETAAL 12 aan piet voor soep\r\n"
            b"Message-ID: <replay@mail.example>\r\n\r\n")
    signed = dkim.sign(mail, b"sel", b"example.org", keys["example.org"][0],
                       include_headers=[b"from", b"to", b"subject"]) + mail
    checked.receive(signed, mail_from="an@example.org")
    assert balance(piet) == 0 and checked.last("an@example.org").subject.startswith("Bevestig:")


def test_verify_dkim_never_books_at_once_without_a_dmarc_pass(checked, keys, dns, an, piet):
    checked.processor.settings = settings_module.replace(checked.settings, trades={"verify_dkim": True})
    dns.records["_dmarc.example.org"] = []     # signed, but the domain publishes no policy
    write(checked, keys, "an@example.org", "BETAAL 12 aan piet voor soep", signer="example.org")
    assert balance(piet) == 0 and checked.last("an@example.org").subject.startswith("Bevestig:")
    dns.timeouts.add("sel._domainkey.example.org")
    dns.records["_dmarc.example.org"] = ["v=DMARC1; p=reject"]
    checked.processor.senders = SenderCheck(checked.processor.settings, txt=dns)
    write(checked, keys, "an@example.org", "BETAAL 3 aan piet voor soep", signer="example.org")
    assert balance(piet) == 0 and checked.last("an@example.org").subject.startswith("Bevestig:")
    assert Transfer.select().order_by(Transfer.id.desc()).get().sender_auth == "dmarc=temperror p=reject dkim=temperror"


def test_quarantine_also_refuses_and_a_partial_policy_counts_one_step_milder(checked, keys, dns, an, piet):
    dns.records["_dmarc.example.org"] = ["v=DMARC1; p=quarantine"]
    write(checked, keys, "an@example.org", "BETAAL 1 aan piet voor soep")
    assert Transfer.select().count() == 0
    assert _policy({"p": "reject", "pct": "50"}, False) == "quarantine"
    assert _policy({"p": "quarantine", "t": "y"}, False) == "none"
    assert _policy({"p": "none", "sp": "reject"}, True) == "reject"
    assert _policy({"p": "bogus"}, False) == "none"


def test_a_subdomain_falls_back_to_the_organisations_record(checked, keys, dns, piet):
    checked.member("Jo Peeters", "jo@post.example.org", language="nl")
    write(checked, keys, "jo@post.example.org", "BETAAL 1 aan piet voor soep")
    assert dns.asked[:2] == ["_dmarc.post.example.org", "_dmarc.example.org"]
    assert Transfer.select().count() == 0       # p=reject holds for its subdomains too


def test_a_forged_authentication_results_in_our_name_books_nothing_at_once(checked, keys, an, piet):
    """lets serve is the receiving server: a header with its id that came with the mail is the sender's."""
    checked.processor.settings = settings_module.replace(
        checked.settings, inbound={"authserv_id": OURS}, trades={"trusted_authserv_id": OURS})
    write(checked, keys, "an@example.org", "BETAAL 12 aan piet voor soep", signer="example.org",
          headers=[f"Authentication-Results: {OURS}; dkim=pass header.d=example.org; dmarc=pass "
                   "header.from=example.org"])
    assert balance(piet) == 0
    assert checked.last("an@example.org").subject.startswith("Bevestig:")


def test_the_smtp_edge_removes_authentication_results_in_our_name(checked, keys, an, piet):
    settings = settings_module.replace(checked.settings, inbound={"authserv_id": OURS},
                                       trades={"trusted_authserv_id": OURS})
    checked.processor.settings = settings
    mail = (b"From: an@example.org\r\nTo: lets@lets.example\r\nSubject: BETAAL 12 aan piet voor soep\r\n"
            b"Message-ID: <edge@mail.example>\r\n\r\nsoep\r\n")
    raw = (f"Authentication-Results: {OURS};\r\n dmarc=pass header.from=example.org\r\n"
           "Authentication-Results: mx.provider.example; dmarc=pass header.from=example.org\r\n").encode() \
        + dkim.sign(mail, b"sel", b"example.org", keys["example.org"][0]) + mail
    smtp = controller(settings, port=0)
    smtp.start()
    try:
        with smtplib.SMTP("127.0.0.1", smtp.port, timeout=10) as client:
            client.sendmail("an@example.org", ["lets@lets.example"], raw)
    finally:
        smtp.stop()
    checked.processor.process_pending()
    stored = bytes(InboundMessage.get().raw)
    assert OURS.encode() not in stored and b"mx.provider.example; dmarc=pass" in stored
    assert balance(piet) == 0 and Transfer.get().state == "pending"
    assert checked.last("an@example.org").subject.startswith("Bevestig:")


def test_check_mail_shows_the_verdict(settings, keys, dns):
    raw = (b"From: an@example.org\r\nTo: lets@lets.example\r\nSubject: BETAAL 12 aan piet\r\n"
           b"Message-ID: <cm@mail.example>\r\n\r\n")
    record = describe(understand(raw, settings, lookup=lambda address: None, senders=SenderCheck(settings, txt=dns)))
    assert record["sender_auth"] == "dmarc=fail p=reject dkim=none"
    off = settings_module.replace(settings, trades={"verify_senders": False})
    assert "sender_auth" not in describe(understand(raw, off, lookup=lambda address: None))


def test_stripping_keeps_every_other_byte_so_signatures_still_verify(keys):
    body = b"From: an@example.org\r\nTo: lets@lets.example\r\nSubject: BETAAL 1 aan piet\r\n\r\nsoep\r\n"
    signed = dkim.sign(body, b"sel", b"example.org", keys["example.org"][0]) + body
    forged = (b"Authentication-Results: (ours) MX.lets.example 1; dmarc=pass\r\n"
              b"Authentication-Results: \"mx.lets.example\"; dkim=pass\r\n" + signed)
    assert strip_own(forged, OURS) == signed
    assert strip_own(signed, OURS) is signed
    dnsfunc = lambda name, timeout=5: keys["example.org"][1].encode()  # noqa: E731
    assert dkim.verify(strip_own(forged, OURS), dnsfunc=dnsfunc)
    other = b"Authentication-Results: mx.lets.example.evil; dmarc=pass\r\n" + body
    assert strip_own(other, OURS) == other


def test_organisational_domains_and_alignment():
    suffixes = Suffixes("// comment\nuk\nco.uk\n*.ck\n!www.ck\norg\n")
    assert organisational("mail.example.co.uk", suffixes) == "example.co.uk"
    assert organisational("a.b.ck", suffixes) == "a.b.ck" and organisational("www.ck", suffixes) == "www.ck"
    assert aligned("mail.example.org", "example.org", suffixes=suffixes)
    assert aligned("example.org", "news.example.org", suffixes=suffixes)
    assert not aligned("evil.co.uk", "example.co.uk", suffixes=suffixes)
    assert not aligned("co.uk", "example.co.uk", suffixes=suffixes)
    assert not aligned("mail.example.org", "example.org", strict=True, suffixes=suffixes)
    # Without the list: one must be the other or its parent, never two strangers under co.uk.
    assert organisational("mail.example.co.uk", None) == "co.uk"
    assert not aligned("evil.co.uk", "example.co.uk", suffixes=None)
    assert aligned("example.co.uk", "mail.example.co.uk", suffixes=None)
    assert not aligned("uk", "example.uk", suffixes=None)


def test_the_verdict_reads_as_it_is_kept():
    assert str(Verdict("pass", "reject", "pass", "example.org")) == "dmarc=pass p=reject dkim=pass d=example.org"
    assert str(Verdict("none")) == "dmarc=none dkim=none"
    assert Verdict("fail", "quarantine").blocks and not Verdict("fail", "none").blocks
    assert Verdict("pass", "reject", "pass", "example.org", signed_id=True).vouches
    assert not Verdict("pass", "reject", "pass", "example.org", single_from=False, signed_id=True).vouches
    assert not Verdict("pass", "reject", "pass", "example.org").vouches    # replayable under a new Message-ID
    assert parse(b"From: a@b.example\r\n\r\n").sender_auth is None


def test_a_forged_call_off_or_move_of_an_activity_changes_nothing(checked, keys, an, piet):
    from db.models import Activity, Signup

    write(checked, keys, "an@example.org", "ACTIVITEIT: Repaircafé", "Datum: 5 december 2026\nTijd: 14:00",
          signer="example.org")
    preview = checked.last("an@example.org")
    answer(checked, keys, preview, signer="example.org")
    published = checked.last("an@example.org")
    address = str(published.message["Reply-To"])
    assert published.subject == "Je activiteit is gepubliceerd: Repaircafé" and "+e-" in address
    for words in ("AFLASSEN", "VERPLAATSEN NAAR 12 december 15:00"):
        forged = write(checked, keys, "an@example.org", "Re: Repaircafé", words, rcpt=[address])
        told = checked.last("an@example.org")
        assert "dus we weten niet zeker\nof jij hem stuurde. Er is niets veranderd." in told.text, told.text
        assert checked.inbound(forged).reason == "refused: activity/refused"
    # Nor a sign-up in Piet's name from a domain that disowns it, nor a forged JA.
    forged = write(checked, keys, "piet@example.org", "Re: Repaircafé", "IK KOM", rcpt=[address])
    assert checked.inbound(forged).reason == "refused: activity/refused" and not Signup.select().exists()
    activity = Activity.get()
    assert activity.state == "published" and activity.start == dt.datetime(2026, 12, 5, 13, 0)
    # Signed by An's own provider, the same words are hers: the call-off is asked again, and
    # only her signed JA does it.
    write(checked, keys, "an@example.org", "Re: Repaircafé", "AFLASSEN", rcpt=[address], signer="example.org")
    ask = checked.last("an@example.org")
    assert ask.subject.startswith("Je activiteit aflassen? Repaircafé")
    answer(checked, keys, ask)
    assert Activity.get().state == "published"
    answer(checked, keys, ask, signer="example.org")
    assert Activity.get().state == "cancelled"
