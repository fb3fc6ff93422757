"""Offers and requests by mail: post, withdraw, renew, list, in the three languages."""
import datetime as dt

import pytest

from db.models import Listing


def test_offer_in_dutch_is_listed_and_confirmed_with_its_reference(group, an):
    inbound = group.mail("An de Vries <an@example.org>", "AANBOD: Fietsherstel",
                         "Categorie: Vervoer\nNiveau: S\nPrijs: 10 zon per uur\n\nIk plak ook banden.\n",
                         message_id="<offer-1@example.org>")
    listing = Listing.get()
    assert (listing.kind, listing.title, listing.category, listing.level, listing.rate_cents) == (
        "offer", "Fietsherstel", "transport", "S", 1000)
    assert listing.description == "Ik plak ook banden."
    assert listing.expires == dt.date(2026, 11, 23) + dt.timedelta(days=90)
    assert group.inbound(inbound).state == "processed"
    reply = group.last("an@example.org")
    assert reply.subject == f"Je aanbod staat erop: Fietsherstel [{listing.id}]"
    assert f"INTREKKEN {listing.id}" in reply.text
    assert "21 februari 2027" in reply.text
    assert f"[{listing.id}] Fietsherstel (Vervoer) · niveau S" in reply.text
    assert "Fietsherstel" in reply.html
    assert reply.message["In-Reply-To"] == "<offer-1@example.org>"
    assert reply.message["References"] == "<offer-1@example.org>"
    assert reply.message["Auto-Submitted"] == "auto-replied"
    assert reply.message["From"].addresses[0].addr_spec == "lets@lets.example"
    assert reply.message.get_content_type() == "multipart/alternative"


@pytest.mark.parametrize("sender, subject, body, kind, title, category, reply_start", [
    ("sam@example.org", "REQUEST: Help moving house", "Category: transport\n", "request",
     "Help moving house", "transport", "Your request is listed: Help moving house"),
    ("sam@example.org", "WANTED: A ladder", "", "request", "A ladder", "other", "Your request is listed"),
    ("sam@example.org", "offer: Dutch lessons", "Level: professional\nRate: 12.50 per hour", "offer",
     "Dutch lessons", "other", "Your offer is listed: Dutch lessons"),
    ("claire@example.org", "DEMANDE: Cours de piano", "Catégorie: Musique\nNiveau: V\n", "request",
     "Cours de piano", "creative", "Votre demande est publiée : Cours de piano"),
    ("claire@example.org", "OFFRE: Confitures maison", "Prix: 3 zon le pot", "offer",
     "Confitures maison", "other", "Votre offre est publiée : Confitures maison"),
    ("an@example.org", "vraag: Oppas voor de kat", "Geldig tot: 01-02-2027", "request",
     "Oppas voor de kat", "other", "Je vraag staat erop: Oppas voor de kat"),
])
def test_offers_and_requests_in_three_languages(group, an, sam, claire, sender, subject, body, kind,
                                                title, category, reply_start):
    group.mail(sender, subject, body)
    listing = Listing.get()
    assert (listing.kind, listing.title, listing.category) == (kind, title, category)
    assert group.last(sender).subject.startswith(reply_start)


def test_command_in_the_first_body_line_when_the_subject_is_empty(group, an):
    group.mail("an@example.org", "", "AANBOD: Appeltaart\nCategorie: eten\nVers gebakken.")
    listing = Listing.get()
    assert (listing.title, listing.category, listing.description) == ("Appeltaart", "cooking", "Vers gebakken.")


def test_title_may_stand_on_the_first_body_line(group, sam):
    group.mail("sam@example.org", "OFFER:", "Garden work\nCategory: garden\nMowing and weeding.")
    listing = Listing.get()
    assert (listing.title, listing.category, listing.description) == ("Garden work", "garden", "Mowing and weeding.")


def test_offer_without_title_gets_an_example_and_lists_nothing(group, sam):
    group.mail("sam@example.org", "OFFER", "")
    assert Listing.select().count() == 0
    reply = group.last("sam@example.org")
    assert reply.subject == "What would you like to offer?"
    assert "OFFER: Bicycle repair" in reply.text


def test_invalid_fields_are_explained_and_nothing_is_listed(group, an):
    group.mail("an@example.org", "AANBOD: Snoeien", "Niveau: meesterlijk\nGeldig tot: morgen\n")
    assert Listing.select().count() == 0
    reply = group.last("an@example.org")
    assert reply.subject == "Je aanbod is nog niet geplaatst"
    assert 'Niveau "meesterlijk"' in reply.text
    assert 'Geldig tot "morgen"' in reply.text


def test_expiry_in_the_past_is_refused(group, an):
    group.mail("an@example.org", "AANBOD: Snoeien", "Geldig tot: 2020-01-01")
    assert Listing.select().count() == 0
    assert "al voorbij" in group.last("an@example.org").text


def test_expiry_is_capped_at_the_longest_validity(group, sam):
    group.mail("sam@example.org", "OFFER: Bread", "Valid until: 2030-01-01")
    assert Listing.get().expires == dt.date(2026, 11, 23) + dt.timedelta(days=365)
    assert "the longest allowed" in group.last("sam@example.org").text


@pytest.mark.parametrize("word, subject_start", [
    ("INTREKKEN", "Ingetrokken: Fietsherstel"), ("WITHDRAW", "Ingetrokken"), ("retirer", "Ingetrokken")])
def test_withdraw_in_any_language_answers_in_the_members_language(group, an, word, subject_start):
    group.mail("an@example.org", "AANBOD: Fietsherstel")
    listing = Listing.get()
    group.mail("an@example.org", f"{word} {listing.id}")
    assert Listing.get_by_id(listing.id).status == "withdrawn"
    assert group.last("an@example.org").subject.startswith(subject_start)


def test_withdrawing_twice_says_it_was_already_withdrawn(group, sam):
    group.mail("sam@example.org", "OFFER: Bread")
    ref = Listing.get().id
    group.mail("sam@example.org", f"WITHDRAW #{ref}")
    group.mail("sam@example.org", f"WITHDRAW {ref}")
    assert "was already withdrawn" in group.last("sam@example.org").text


def test_nobody_can_withdraw_someone_elses_listing(group, an, sam):
    group.mail("an@example.org", "AANBOD: Fietsherstel")
    ref = Listing.get().id
    group.mail("sam@example.org", f"WITHDRAW {ref}")
    assert Listing.get_by_id(ref).status == "active"
    assert group.last("sam@example.org").subject == f"Not found: {ref}"


def test_withdraw_without_reference_explains(group, claire):
    group.mail("claire@example.org", "RETIRER")
    assert group.last("claire@example.org").subject == "Laquelle faut-il retirer ?"


def test_renew_extends_an_expired_listing(group, claire, clock):
    group.mail("claire@example.org", "OFFRE: Confitures")
    ref = Listing.get().id
    clock.advance(days=100)
    group.mail("claire@example.org", "MES")
    assert "EXPIRÉES" in group.last("claire@example.org").text
    group.mail("claire@example.org", f"PROLONGER {ref}")
    assert Listing.get_by_id(ref).expires == clock.now.date() + dt.timedelta(days=90)
    assert group.last("claire@example.org").subject == f"Prolongé : Confitures [{ref}]"


def test_list_shows_current_offers_and_requests_with_poster_and_category_filter(group, an, sam):
    group.mail("an@example.org", "AANBOD: Fietsherstel", "Categorie: vervoer")
    group.mail("sam@example.org", "REQUEST: Ladder", "Category: tuin")
    group.mail("sam@example.org", "OFFER: Old offer")
    old = Listing.get(Listing.title == "Old offer")
    group.mail("sam@example.org", f"WITHDRAW {old.id}")
    group.mail("an@example.org", "LIJST")
    text = group.last("an@example.org").text
    assert "AANBOD" in text and "Fietsherstel (Vervoer)" in text
    assert "VRAGEN" in text and "Ladder (Tuin)" in text and "Sam Taylor (lid 2)" in text
    assert "Old offer" not in text
    for word in ("tuin", "Garden", "JARDIN"):
        group.mail("an@example.org", f"LIJST {word}")
        mail = group.last("an@example.org")
        assert mail.subject == "Aanbod en vragen in Tuin bij LETS Demo"
        assert "Ladder" in mail.text and "Fietsherstel" not in mail.text


def test_mine_lists_only_the_members_own(group, an, sam):
    group.mail("an@example.org", "AANBOD: Fietsherstel")
    group.mail("sam@example.org", "OFFER: Bread")
    group.mail("sam@example.org", "MINE")
    text = group.last("sam@example.org").text
    assert "Bread" in text and "Fietsherstel" not in text


def test_a_sentence_starting_with_a_command_word_is_not_that_command(group, an):
    group.mail("an@example.org", "", "Mijn fiets is kapot, wie kan helpen?")
    assert group.last("an@example.org").subject == "Zo werkt LETS Demo per mail"
    assert "herkenden geen opdracht" in group.last("an@example.org").text
