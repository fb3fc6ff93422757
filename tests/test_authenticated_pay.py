"""The optional fast path: a BETAAL our own receiving server authenticated is booked at once."""
import pytest

from db import members
from db.models import Transfer
from mailer import settings as settings_module

OURS = "mx.lets.example"


@pytest.fixture
def settings(settings):
    return settings_module.replace(settings, limits={"newcomer_months": 0},
                                   trades={"trusted_authserv_id": OURS})


def pay_with(group, *results, sender="an@example.org"):
    """BETAAL with Authentication-Results headers, topmost first."""
    group.seen += 1
    lines = [f"Authentication-Results: {r}" for r in results]
    lines += [f"From: {sender}", "To: lets@lets.example", "Subject: BETAAL 12 aan piet voor fietsherstel",
              f"Message-ID: <ar{group.seen}@example.org>", "Content-Type: text/plain; charset=utf-8"]
    group.receive("\r\n".join(lines) + "\r\n\r\n\r\n", mail_from=sender)


def booked(piet):
    return members.account(piet).balance_cents == 1200


def test_dmarc_pass_from_our_server_books_without_round_trip(group, an, piet):
    pay_with(group, f"{OURS}; spf=pass smtp.mailfrom=example.org; dkim=pass header.d=example.org; "
                    "dmarc=pass (p=reject) header.from=example.org")
    assert booked(piet)
    assert group.last("an@example.org").subject == "Bewijs #1: 12,00 zonnen aan Piet Jansen"
    assert group.last("piet@example.org").subject.startswith("Bewijs #1: 12,00 zonnen van An de Vries [r-")


def test_aligned_dkim_pass_is_enough(group, an, piet):
    pay_with(group, f"{OURS}; dkim=pass header.i=@mail.example.org header.d=example.org",
             sender="an@example.org")
    assert booked(piet)


def test_dkim_pass_for_another_domain_is_not_aligned(group, an, piet):
    pay_with(group, f"{OURS}; dkim=pass header.d=mallory.example.net")
    assert not booked(piet)
    assert group.last("an@example.org").subject.startswith("Bevestig: betaal 12,00 zonnen")


def test_forged_header_from_another_authserv_id_books_nothing_at_once(group, an, piet):
    pay_with(group, "mx.mallory.example; dmarc=pass header.from=example.org")
    assert not booked(piet)
    assert Transfer.get().state == "pending"
    assert group.last("an@example.org").subject.startswith("Bevestig:")


def test_our_authserv_id_lower_down_is_ignored(group, an, piet):
    # The sender put a "pass" with our id into the mail; our server's own verdict is on top.
    pay_with(group, f"{OURS}; dmarc=none header.from=example.org",
             f"{OURS}; dmarc=pass header.from=example.org")
    assert not booked(piet)
    assert group.last("an@example.org").subject.startswith("Bevestig:")


def test_fail_results_fall_back_to_the_token_round_trip(group, an, piet):
    pay_with(group, f"{OURS}; dkim=fail header.d=example.org; dmarc=fail header.from=example.org")
    ask = group.last("an@example.org")
    assert ask.subject.startswith("Bevestig:") and not booked(piet)
    group.mail("an@example.org", "Re: " + ask.subject, "JA\n", rcpt=[ask.message["Reply-To"]])
    assert booked(piet)


def test_off_by_default(group, an, piet, settings):
    group.processor.settings = settings_module.replace(settings, trades={"trusted_authserv_id": ""})
    pay_with(group, f"{OURS}; dmarc=pass header.from=example.org")
    assert not booked(piet)


def test_unparsable_header_falls_back(group, an, piet):
    pay_with(group, f"{OURS}; ;;; dmarc=")
    assert not booked(piet)
    assert group.last("an@example.org").subject.startswith("Bevestig:")


def test_an_encoded_word_that_looks_like_an_address_is_never_the_sender(group, an, piet, eve_domain="evil.example"):
    """`=?utf-8?q?an=40example.org?= <eve@evil.example>` is eve's mail with a name that
    looks like An's address: the pipeline and the authenticated path read the same From."""
    from mailer.message.parse import parse
    forged = "=?utf-8?q?an=40example.org?= <eve@evil.example>"
    assert parse(f"From: {forged}\r\nSubject: SALDO\r\n\r\n".encode()).sender == "eve@evil.example"
    pay_with(group, f"{OURS}; dkim=pass header.d=evil.example; dmarc=pass header.from=evil.example",
             sender=forged)
    assert not booked(piet) and Transfer.select().count() == 0
    assert not group.outbox("an@example.org")
