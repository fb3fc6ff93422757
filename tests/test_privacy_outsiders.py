"""Personal data stays inside the group: non-members never receive members' names, addresses
or balances, and members see each other's addresses only where the group allows it."""
import datetime as dt

import pytest

from db import ledger, members
from db.models import Listing, OutboundMessage
from mailer import settings as settings_module
from mailer.runs.digest import run_scheduled

MONDAY_AFTER = dt.datetime(2026, 11, 30, 6, 30)
# What no outsider may ever read: names, addresses, and An's balance in any notation.
SECRETS = ("An de Vries", "an@example.org", "Sam Taylor", "sam@example.org", "-12,50", "12,50", "12.50")


@pytest.fixture
def settings(settings):
    return settings_module.replace(settings, limits={"newcomer_months": 0})


@pytest.fixture
def trading(group, an, sam, settings):
    """An has an offer and owes Sam 12,50."""
    group.mail("an@example.org", "AANBOD: Fietsherstel", "Categorie: vervoer\n\nIk repareer fietsen.")
    Listing.update(created=group.clock.now).execute()
    ledger.transfer_now(members.account(an), members.account(sam), 1250, "soep", limits=settings.limits,
                        now=group.clock(), entered_by="admin")
    return Listing.get()


def all_mail_to(group, address) -> str:
    return "\n".join(m.message.as_string() for m in group.outbox(address))


@pytest.mark.parametrize("subject, body", [
    ("SALDO", ""), ("LIJST", ""), ("MIJN", ""), ("HULP", ""), ("REAGEER {id} Ik wil graag", ""),
    ("BETAAL 5 aan an@example.org voor soep", ""), ("FACTUUR 5 aan an@example.org voor soep", ""),
    ("Re: LETS Demo: je overzicht", "REAGEER {id} graag\n\n> An de Vries (lid 1)"),
])
def test_a_non_member_never_receives_a_members_name_address_or_balance(group, trading, subject, body):
    before = OutboundMessage.select().count()
    group.mail("stranger@example.com", subject.format(id=trading.id), body.format(id=trading.id))
    to_stranger = all_mail_to(group, "stranger@example.com")
    assert "alleen voor leden" in to_stranger
    for secret in SECRETS:
        assert secret not in to_stranger
    # Nothing was relayed, proposed or invoiced to a member on the stranger's behalf.
    assert OutboundMessage.select().count() == before + 1


def test_a_non_member_replying_to_a_digest_gets_no_member_data_and_nothing_is_relayed(group, trading):
    group.clock.now = MONDAY_AFTER
    run_scheduled(group.settings, MONDAY_AFTER, group.processor.composer)
    digest = group.last("sam@example.org")
    assert "Fietsherstel" in digest.text
    before = len(group.outbox("an@example.org"))
    # Sam forwarded the digest; the stranger answers it, quoting it.
    group.mail("stranger@example.com", "Re: " + digest.subject, f"REAGEER {trading.id} Mag ik ook?\n\n> "
               + digest.text.replace("\n", "\n> "), headers={"In-Reply-To": digest.message["Message-ID"]})
    to_stranger = all_mail_to(group, "stranger@example.com")
    for secret in SECRETS:
        assert secret not in to_stranger
    assert len(group.outbox("an@example.org")) == before


def test_a_forged_from_with_a_reply_to_never_sends_a_members_data_to_the_reply_to(group, trading):
    group.mail("an@example.org", "SALDO", headers={"Reply-To": "thief@evil.example"})
    assert group.outbox("thief@evil.example") == []
    assert "-12,50" in group.last("an@example.org").text


def test_a_member_who_left_is_told_their_status_and_sees_no_listings_or_balances(group, trading, claire):
    claire.status = "left"
    claire.save()
    for word in ("LISTE", "SOLDE"):
        group.mail("claire@example.org", word)
    text = all_mail_to(group, "claire@example.org")
    assert "Fietsherstel" not in text and "An de Vries" not in text and "12,50" not in text


@pytest.fixture
def private(group):
    group.settings = settings_module.replace(group.settings, privacy={"show_addresses": False})
    group.processor.settings = group.settings
    group.processor.composer.settings = group.settings
    return group


def test_digests_and_lists_show_no_addresses_when_the_group_keeps_them_private(private, trading, claire):
    group = private
    group.clock.now = MONDAY_AFTER
    run_scheduled(group.settings, MONDAY_AFTER, group.processor.composer)
    digest = group.last("claire@example.org")
    assert "Fietsherstel" in digest.text and "An de Vries" in digest.text
    assert "an@example.org" not in digest.message.as_string()
    assert f"mailto:lets@lets.example?subject=R%C3%89PONDRE%20{trading.id}" in digest.text
    group.mail("claire@example.org", "LISTE")
    listed = group.last("claire@example.org")
    assert "Fietsherstel" in listed.text and "an@example.org" not in listed.message.as_string()


def test_digests_show_addresses_when_the_group_allows_it(group, trading, claire):
    group.clock.now = MONDAY_AFTER
    run_scheduled(group.settings, MONDAY_AFTER, group.processor.composer)
    assert "mailto:an@example.org?subject=" in group.last("claire@example.org").text


def test_respond_keeps_the_posters_address_from_the_responder_too(private, trading, claire):
    private.mail("claire@example.org", f"RÉPONDRE {trading.id} Je peux venir samedi")
    relayed, sent = private.last("an@example.org"), private.last("claire@example.org")
    assert "Je peux venir samedi" in relayed.text
    assert "claire@example.org" not in relayed.message.as_string()
    assert "an@example.org" not in sent.message.as_string()
    assert "An de Vries" in sent.text
