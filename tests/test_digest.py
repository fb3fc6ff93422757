"""The digest: content per member and language, the mailing-list headers, exactly once a period."""
import datetime as dt

from db import members
from db.models import Account, Address, DigestDelivery, Listing, OutboundMessage
from mailer.runs.digest import preview, run_scheduled
from mailer.message.subaddress import plus_address

MONDAY_AFTER = dt.datetime(2026, 11, 30, 6, 30)   # 07:30 in Amsterdam: the weekly slot has passed


def post(group, sender, subject, body=""):
    group.mail(sender, subject, body)
    listing = Listing.select().order_by(Listing.id.desc()).first()
    # Posted during the week before the digest, on the test's clock.
    Listing.update(created=group.clock.now).where(Listing.id == listing.id).execute()
    return listing


def set_balance(member, cents):
    Account.update(balance_cents=cents).where(Account.member == member).execute()


def digests(group, to=None):
    return [m for m in group.outbox(to) if m.message["List-Id"]]


def test_each_member_gets_one_digest_in_their_language_with_listings_grouped_by_category(group, an, sam, claire):
    offer = post(group, "sam@example.org", "OFFER: Mowing lawns", "Category: tuin\nLevel: S\nRate: 10 zon/hour\n")
    request = post(group, "claire@example.org", "DEMANDE: Cours de piano", "Catégorie: musique\n")
    set_balance(an, -123450)
    group.clock.now = MONDAY_AFTER
    queued = run_scheduled(group.settings, MONDAY_AFTER, group.processor.composer)
    assert queued == 3
    dutch = digests(group, "an@example.org")
    assert len(dutch) == 1
    mail = dutch[0]
    assert mail.subject == "LETS Demo: je overzicht van 30 november"
    text = mail.text
    assert "Hallo An de Vries" in text
    # Categories as the reader calls them, whatever the poster wrote ("tuin", "musique").
    assert "NIEUW AANBOD" in text and "TUIN" in text and "CREATIEF" in text and "MUSIQUE" not in text
    assert f"[{offer.id}] Mowing lawns · niveau S · 10 zon/hour" in text
    assert "Sam Taylor (lid 2)" in text
    assert "mailto:sam@example.org?subject=Re%3A%20Mowing%20lawns%20%5B" in text
    assert "JE SALDO: -1.234,50 zonnen" in text
    # Negative balance and no offer: the alert box comes first.
    assert text.index("ACTIE GEVRAAGD") < text.index("NIEUW AANBOD")
    assert "DE GROEP: 3 leden; hoogste saldo 0,00, laagste -1.234,50." in text
    assert "Mowing lawns" in mail.html and 'href="mailto:sam@example.org?subject=' in mail.html
    assert "viewport" in mail.html
    english = digests(group, "sam@example.org")[0]
    assert english.subject == "LETS Demo: your digest of 30 November"
    assert f"[{request.id}] Cours de piano" in english.text and "ACTION NEEDED" not in english.text
    assert "GARDEN" in english.text and "CREATIVE" in english.text and "TUIN" not in english.text
    french = digests(group, "claire@example.org")[0]
    assert "VOTRE SOLDE : 0,00 zonnen" in french.text
    assert "JARDIN" in french.text and "CRÉATIF" in french.text and "Créatif" in french.html


def test_digest_carries_list_headers_and_a_verp_return_path(group, an):
    group.clock.now = MONDAY_AFTER
    run_scheduled(group.settings, MONDAY_AFTER, group.processor.composer)
    mail = digests(group, "an@example.org")[0].message
    address_id = members.by_address("an@example.org").addresses[0].id
    assert mail["List-Id"] == "LETS Demo <lets.lets.example>"
    unsubscribe = plus_address(group.settings, "u", address_id)
    assert mail["List-Unsubscribe"].strip() == f"<mailto:{unsubscribe}?subject=unsubscribe>"
    assert mail["List-Unsubscribe-Post"] is None      # no public URL configured
    assert mail["Precedence"] == "bulk" and mail["Auto-Submitted"] == "auto-generated"
    row = OutboundMessage.get(OutboundMessage.kind == "digest")
    assert row.mail_from == plus_address(group.settings, "b", address_id)
    assert row.mail_from.startswith("lets+b-") and row.mail_from == row.mail_from.lower()


def test_a_second_run_in_the_same_period_sends_nothing_and_the_next_period_only_news(group, an, sam):
    post(group, "sam@example.org", "OFFER: Old news")
    group.clock.now = MONDAY_AFTER
    assert run_scheduled(group.settings, MONDAY_AFTER, group.processor.composer) == 2
    assert run_scheduled(group.settings, MONDAY_AFTER + dt.timedelta(hours=3), group.processor.composer) == 0
    group.clock.now = MONDAY_AFTER + dt.timedelta(days=2)
    post(group, "sam@example.org", "OFFER: Fresh news")
    next_week = MONDAY_AFTER + dt.timedelta(days=7)
    assert run_scheduled(group.settings, next_week, group.processor.composer) == 2
    latest = digests(group, "an@example.org")[-1].text
    assert "Fresh news" in latest and "Old news" not in latest
    assert DigestDelivery.select().count() == 4


def test_blocks_setting_chooses_and_orders_the_blocks(group, an, sam):
    from mailer import settings as settings_module
    post(group, "sam@example.org", "OFFER: Bread")
    group.settings = settings_module.replace(group.settings, digest={"blocks": ("balance", "offers")})
    outgoing = preview(group.settings, an, MONDAY_AFTER, group.processor.composer)
    text = outgoing.raw.decode()
    assert text.index("JE SALDO") < text.index("NIEUW AANBOD")
    assert "DE GROEP" not in text


def test_off_and_failing_members_get_no_digest(group, an, sam, claire):
    an.digest = "off"
    an.save()
    Address.update(failing=True).where(Address.member == claire).execute()
    assert run_scheduled(group.settings, MONDAY_AFTER, group.processor.composer) == 1
    assert [m.recipient for m in digests(group)] == ["sam@example.org"]


def test_the_serve_schedule_starts_at_the_next_slot_instead_of_mailing_everyone_at_once(group, an, sam):
    from mailer.runs.scheduled import run_due
    assert run_due(group.settings, MONDAY_AFTER, group.processor.composer) == 0
    assert digests(group) == []
    next_week = MONDAY_AFTER + dt.timedelta(days=7)
    assert run_due(group.settings, next_week, group.processor.composer) >= 2
    assert len(digests(group, "an@example.org")) == 1


def test_the_digest_shows_the_members_transfers_of_the_period_signed_from_their_side(group, an, sam):
    from db import ledger, members
    group.clock.now = MONDAY_AFTER - dt.timedelta(days=2)
    ledger.transfer_now(members.account(an), members.account(sam), 1250, "Fietsherstel",
                        limits=group.settings.limits, now=group.clock.now, entered_by="test")
    group.clock.now = MONDAY_AFTER
    run_scheduled(group.settings, MONDAY_AFTER, group.processor.composer)
    dutch = digests(group, "an@example.org")[0].text
    english = digests(group, "sam@example.org")[0].text
    assert "JE LAATSTE TRANSACTIES" in dutch and "-12,50  Fietsherstel" in dutch
    assert "12.50  Fietsherstel" in english and "-12.50  Fietsherstel" not in english
