"""Offers and requests by mail, in the three languages."""
from db.models import Listing


def test_offer_in_dutch_is_listed_and_confirmed_with_its_reference(group, an):
    inbound = group.mail("An de Vries <an@example.org>", "AANBOD: Fietsherstel",
                         "Categorie: Vervoer\nNiveau: S\nPrijs: 10 zon per uur\n\nIk plak ook banden.\n",
                         message_id="<offer-1@example.org>")
    listing = Listing.get()
    assert (listing.kind, listing.title, listing.category, listing.level, listing.rate_cents) == (
        "offer", "Fietsherstel", "vervoer", "S", 1000)
    assert listing.description == "Ik plak ook banden."
    assert group.inbound(inbound).state == "processed"
    reply = group.last("an@example.org")
    assert reply.subject == f"Je aanbod staat erop: Fietsherstel [{listing.id}]"
    assert f"INTREKKEN {listing.id}" in reply.text
    assert "Fietsherstel" in reply.html
    assert reply.message["In-Reply-To"] == "<offer-1@example.org>"
    assert reply.message["Auto-Submitted"] == "auto-replied"


def test_request_in_english_and_french(group, sam, claire):
    group.mail("sam@example.org", "REQUEST: Help moving house", "Category: transport\n")
    group.mail("claire@example.org", "DEMANDE: Cours de piano", "Catégorie: musique\nNiveau: V\n")
    assert [(l.kind, l.title, l.category) for l in Listing.select().order_by(Listing.id)] == [
        ("request", "Help moving house", "transport"), ("request", "Cours de piano", "musique")]
    assert group.last("sam@example.org").subject.startswith("Your request is listed: Help moving house")
    assert group.last("claire@example.org").subject.startswith("Votre demande est publiée : Cours de piano")
