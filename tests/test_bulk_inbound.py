"""Mail to the group's signed plus addresses, and preferences and replies by mail."""
from db import members
from db.models import Address, Bounce, InboundMessage, Listing, Member, MemberPreference, OutboundMessage
from mailer.message.subaddress import plus_address

DSN = """From: MAILER-DAEMON@mx.example.org
To: {verp}
Subject: Undelivered Mail Returned to Sender
Message-ID: <bounce-{n}@mx.example.org>
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="b"

--b
Content-Type: text/plain

Your message could not be delivered.

--b
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.example.org

Final-Recipient: rfc822; an@example.org
Action: failed
Status: 5.1.1
Diagnostic-Code: smtp; 550 5.1.1 user unknown

--b--
"""


def address_id(email):
    return Address.get(Address.email == email).id


def test_mail_to_the_signed_unsubscribe_address_stops_the_digest_without_a_reply(group, an):
    target = plus_address(group.settings, "u", address_id("an@example.org"))
    inbound = group.mail("an@example.org", "unsubscribe", "", rcpt=[target])
    assert Member.get_by_id(an.id).digest == "off"
    assert group.inbound(inbound).kind == "unsubscribe"
    assert group.outbox() == []


def test_a_forged_unsubscribe_token_changes_nothing(group, an):
    target = plus_address(group.settings, "u", address_id("an@example.org"))
    forged = target.replace(target.split("-")[2][:4], "aaaa")
    inbound = group.mail("mallory@example.net", "unsubscribe", "", rcpt=[forged])
    assert Member.get_by_id(an.id).digest == "weekly"
    assert group.inbound(inbound).kind == "forged-token"


def test_hard_bounces_to_the_verp_address_mark_it_failing_and_tell_the_admins(group, an):
    verp = plus_address(group.settings, "b", address_id("an@example.org"))
    limit = group.settings.digest.bounce_limit
    for n in range(limit):
        raw = DSN.format(verp=verp, n=n).replace("\n", "\r\n")
        group.receive(raw, mail_from="", rcpt=[verp])
    assert Bounce.select().count() == limit
    assert Address.get(Address.email == "an@example.org").failing
    notice = group.last("beheer@lets.example")
    assert notice.subject == "Adres werkt niet: an@example.org (lid 1)"
    assert "3 keer terug" in notice.text
    assert [r.recipient for r in OutboundMessage.select()] == ["beheer@lets.example"]


def test_digest_preferences_by_mail_in_three_languages(group, an, sam, claire):
    group.mail("an@example.org", "DIGEST DAGELIJKS")
    group.mail("sam@example.org", "DIGEST OFF")
    group.mail("claire@example.org", "", "RÉSUMÉ IMMÉDIAT\n")
    assert [m.digest for m in Member.select().order_by(Member.id)] == ["daily", "off", "instant"]
    assert group.last("an@example.org").subject == "Overzicht: dagelijks"
    assert group.last("claire@example.org").subject == "Résumé : immédiat"
    group.mail("an@example.org", "DIGEST SOMS")
    assert group.last("an@example.org").subject == "Overzicht: welke keuze?"


def test_language_is_changed_and_confirmed_in_the_new_language(group, an):
    group.mail("an@example.org", "TAAL fr")
    assert Member.get_by_id(an.id).language == "fr"
    assert group.last("an@example.org").subject == "Langue : français"


def test_instant_members_get_each_new_listing_with_list_headers(group, an, sam, claire):
    group.mail("claire@example.org", "", "RÉSUMÉ IMMÉDIAT\n")
    group.mail("sam@example.org", "OFFER: Bike repair", "Category: transport\n")
    mail = group.last("claire@example.org")
    assert mail.subject.startswith("Nouvelle offre : Bike repair")
    assert mail.message["List-Id"] and mail.message["Precedence"] == "bulk"
    row = OutboundMessage.select().where(OutboundMessage.recipient == "claire@example.org").order_by(
        OutboundMessage.id.desc()).first()
    assert row.mail_from.startswith("lets+b-")
    # Queued with the listing, by the same inbound mail.
    assert row.inbound_id == Listing.get().source_id
    assert group.outbox("an@example.org") == []     # weekly readers wait for the digest


def test_only_filters_categories_for_instant_mail(group, an, sam):
    group.mail("an@example.org", "DIGEST DIRECT")
    group.mail("an@example.org", "ALLEEN Tuin, vervoer")
    assert MemberPreference.get().categories == "garden,transport"
    before = len(group.outbox("an@example.org"))
    group.mail("sam@example.org", "OFFER: Piano lessons", "Category: muziek\n")
    group.mail("sam@example.org", "OFFER: Weeding", "Category: tuin\n")
    titles = [m.subject for m in group.outbox("an@example.org")[before:]]
    assert titles == [f"Nieuw aanbod: Weeding [{Listing.get(Listing.title == 'Weeding').id}]"]


def test_several_commands_in_one_reply_each_take_effect(group, an, sam):
    group.mail("an@example.org", "AANBOD: Soep koken")
    group.mail("an@example.org", "AANBOD: Brood bakken")
    group.mail("sam@example.org", "REQUEST: Help moving")
    soup, bread, moving = Listing.select().order_by(Listing.id)
    group.mail("an@example.org", "Re: LETS Demo: je overzicht van 30 november",
               f"VERLENG {soup.id}\nINTREKKEN {bread.id}\nREAGEER {moving.id} Ik heb een bakfiets!\n\n"
               "> quoted digest text\n",
               headers={"In-Reply-To": "<digest-1@lets.example>"})
    assert Listing.get_by_id(bread.id).status == "withdrawn"
    relayed = group.last("sam@example.org")
    assert relayed.subject == f"Reply to your request: Help moving [{moving.id}]"
    assert "Ik heb een bakfiets!" in relayed.text
    assert relayed.message["Reply-To"] == "an@example.org"
    subjects = [m.subject for m in group.outbox("an@example.org")[-3:]]
    assert subjects[0].startswith("Verlengd: Soep koken")
    assert subjects[2].startswith("Doorgestuurd naar Sam Taylor")
    assert InboundMessage.select().order_by(InboundMessage.id.desc()).first().reason == "handled; handled; handled"


def test_respond_keeps_addresses_private_when_the_group_says_so(group, an, sam):
    from mailer import settings as settings_module
    group.processor.settings = settings_module.replace(group.settings, privacy={"show_addresses": False})
    group.mail("sam@example.org", "REQUEST: Help moving")
    moving = Listing.get()
    group.mail("an@example.org", f"REAGEER {moving.id} Ik kan helpen")
    relayed = group.last("sam@example.org")
    assert relayed.message["Reply-To"] is None
    assert "an@example.org" not in relayed.message.as_string()
    assert "An de Vries (member 1)" in relayed.text
