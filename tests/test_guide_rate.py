"""The group's guide price per hour (article 17.4): offers without a price of their own show
it in the confirmation, LIJST and the digest, and the digest says what it is."""
import datetime as dt

import pytest

from db.models import Listing
from mailer import settings as settings_module
from mailer.runs.digest import run_scheduled
from mailer.settings import SettingsError
from tests.conftest import SETTINGS_INI, Group

DIGEST_MOMENT = dt.datetime(2026, 11, 30, 6, 30)    # Monday 07:30 in Amsterdam: the weekly run


def with_rate(settings, clock, rate: str) -> Group:
    return Group(settings_module.replace(settings, listings={"guide_rate": rate}), clock)


def digest_for(group, clock, address):
    """The digest `address` gets in the weekly run, as (text, html) with plain line ends."""
    if clock.now < DIGEST_MOMENT:
        Listing.update(created=clock.now).execute()
        clock.now = DIGEST_MOMENT
        run_scheduled(group.settings, clock.now, group.processor.composer)
    mail = [m for m in group.outbox(address) if m.message["Auto-Submitted"] == "auto-generated"][-1]
    return mail.text.replace("\r\n", "\n"), mail.html.replace("\r\n", "\n")


@pytest.mark.parametrize("sender, word, shown", [
    ("an@example.org", "AANBOD", "[1] Fietsherstel (Vervoer) · richtprijs: 10 zon per uur\n"),
    ("sam@example.org", "OFFER", "[1] Fietsherstel (Transport) · guide price: 10 zon an hour\n"),
    ("claire@example.org", "OFFRE", "[1] Fietsherstel (Transport) · prix indicatif : 10 zon de l'heure\n"),
])
def test_an_offer_without_a_price_is_confirmed_with_the_groups_guide_price(group, an, sam, claire,
                                                                            sender, word, shown):
    assert group.settings.listings.guide_rate_cents == 1000      # settings.ini: 10 an hour
    group.mail(sender, f"{word}: Fietsherstel", "Categorie: vervoer\n")
    mail = group.last(sender)
    assert shown in mail.text
    assert shown.strip().split(" · ", 1)[1].replace("'", "&#39;") in mail.html


def test_an_offer_with_its_own_price_and_a_request_show_no_guide_price(group, an):
    group.mail("an@example.org", "AANBOD: Bijles wiskunde", "Categorie: lessen\nPrijs: 8 zon per uur\n")
    assert "[1] Bijles wiskunde (Lessen) · 8 zon per uur\n" in group.last("an@example.org").text
    group.mail("an@example.org", "VRAAG: Hulp bij verhuizen", "Categorie: vervoer\n")
    assert "richtprijs" not in group.last("an@example.org").text


def test_the_list_shows_the_guide_price_with_offers_that_name_none(group, an, piet):
    group.mail("an@example.org", "AANBOD: Fietsherstel", "Categorie: vervoer\n")
    group.mail("an@example.org", "AANBOD: Bijles", "Categorie: lessen\nPrijs: 8 zon per uur\n")
    group.mail("an@example.org", "VRAAG: Verhuizen", "Categorie: vervoer\n")
    group.mail("piet@example.org", "LIJST")
    text = group.last("piet@example.org").text
    assert "[1] Fietsherstel (Vervoer) · richtprijs: 10 zon per uur\n" in text
    assert "[2] Bijles (Lessen) · 8 zon per uur\n" in text
    assert "[3] Verhuizen (Vervoer)\n" in text


def test_the_digest_marks_offers_without_a_price_and_says_what_the_guide_price_is(group, an, piet, claire, clock):
    group.mail("an@example.org", "AANBOD: Fietsherstel", "Categorie: vervoer\n")
    group.mail("an@example.org", "AANBOD: Bijles", "Categorie: lessen\nPrijs: 8 zon per uur\n")
    text, html = digest_for(group, clock, "piet@example.org")
    assert "[1] Fietsherstel · richtprijs: 10 zon per uur\n" in text
    assert "[2] Bijles · 8 zon per uur\n" in text
    assert "Richtprijs bij LETS Demo: 10 zon per uur, voor aanbod zonder eigen prijs.\n" in text
    assert "richtprijs: 10 zon per uur · An de Vries" in html
    assert "Richtprijs bij LETS Demo: 10 zon per uur, voor aanbod zonder eigen prijs." in html
    french, _ = digest_for(group, clock, "claire@example.org")
    assert "[1] Fietsherstel · prix indicatif : 10 zon de l'heure\n" in french
    assert "Prix indicatif chez LETS Demo : 10 zon de l'heure, pour les offres qui n'indiquent pas de prix." \
        in french


def test_without_a_guide_price_nothing_is_said_of_one(settings, clock, db):
    group = with_rate(settings, clock, "")
    group.member("An de Vries", "an@example.org")
    group.member("Piet Jansen", "piet@example.org")
    group.mail("an@example.org", "AANBOD: Fietsherstel", "Categorie: vervoer\n")
    assert "[1] Fietsherstel (Vervoer)\n" in group.last("an@example.org").text
    group.mail("piet@example.org", "LIJST")
    assert "richtprijs" not in group.last("piet@example.org").text.lower()
    text, html = digest_for(group, clock, "piet@example.org")
    assert "[1] Fietsherstel\n" in text
    assert "richtprijs" not in text.lower() and "richtprijs" not in html.lower()


def test_a_guide_price_in_cents_is_written_as_an_amount(settings, clock, db):
    group = with_rate(settings, clock, "12,50")
    group.member("Sam Taylor", "sam@example.org", language="en")
    group.mail("sam@example.org", "OFFER: Piano lessons", "Category: lessons\n")
    assert "[1] Piano lessons (Lessons) · guide price: 12.50 zon an hour\n" in group.last("sam@example.org").text


def test_a_guide_price_that_is_no_amount_is_refused_on_loading(tmp_path):
    path = tmp_path / "settings.ini"
    path.write_text(SETTINGS_INI.read_text().replace("guide_rate = 10", "guide_rate = tien"))
    with pytest.raises(SettingsError, match=r"\[listings\] guide_rate: 'tien' is not an amount"):
        settings_module.load(path, environ={})
    assert settings_module.load(path, environ={"LETS_LISTINGS_GUIDE_RATE": "0"}).listings.guide_rate_cents == 0
