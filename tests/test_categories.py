"""The group's category list: what members type maps onto a code, each reader sees the name
in their own language, unknown words are explained, old free-text categories are mapped."""
import datetime as dt
import json

import pytest
from click.testing import CliRunner

from db import categories, listings
from db.categories import DEFAULT, CategoryError
from db.migrations import LATEST, current_version, upgrade
from db.models import Listing, MemberPreference
from mailer import settings as settings_module
from mailer.cli import main
from mailer.runs.digest import run_scheduled
from schema_history import downgrade_to
from tests.conftest import SETTINGS_INI, Group

MONDAY_AFTER = dt.datetime(2026, 11, 30, 6, 30)


@pytest.mark.parametrize("typed, code", [
    ("tuin", "garden"), ("Tuinieren", "garden"), ("GARDEN", "garden"), ("jardinage", "garden"),
    ("Jardins", "garden"), ("Vervoer", "transport"), ("odd jobs", "odd-jobs"), ("Odd-Jobs", "odd-jobs"),
    ("klussen", "odd-jobs"), ("klus", "odd-jobs"), ("Bricolage", "odd-jobs"), ("kinderen", "children"),
    ("kind", "children"), ("Enfant", "children"), ("animaux", "pets"), ("katten", "pets"), ("Pet", "pets"),
    ("vêtement", "clothing"), ("VETEMENTS", "clothing"), ("Créatif", "creative"), ("musique", "creative"),
    ("COURS", "lessons"), ("lesson", "lessons"), ("CUISINE", "cooking"), ("eten", "cooking"),
    ("hulp bij de computer", "computer"), ("IT", "computer"), ("Administratief", "paperwork"),
    ("ménage", "household"), ("Divers", "other"), ("overig", "other"), ("Soins", "care"),
])
def test_what_members_type_in_any_language_names_a_category(typed, code):
    assert DEFAULT.find(typed) == code


@pytest.mark.parametrize("typed", ["banaan", "", "  ", "xyz", "it's"])
def test_words_of_no_category_name_none(typed):
    assert DEFAULT.find(typed) is None
    assert DEFAULT.code_for(typed) == "other"


def test_each_category_has_a_name_per_language_in_the_groups_order():
    assert DEFAULT.name("garden", "nl") == "Tuin" and DEFAULT.name("garden", "fr") == "Jardin"
    assert DEFAULT.name("odd-jobs", "en") == "Odd jobs"
    assert DEFAULT.name("gone", "nl") == "Overig"       # a code no longer in the list
    assert DEFAULT.names("fr")[:3] == ["Jardin", "Transport", "Bricolage"]
    assert DEFAULT.codes[-1] == "other" and 12 <= len(DEFAULT.codes) <= 15


def test_settings_ini_holds_the_default_list():
    assert settings_module.load(SETTINGS_INI, environ={}).listings.categories == DEFAULT


@pytest.mark.parametrize("text, problem", [
    ("tuin: Tuin | Garden | Jardin", "needs a category with the code other"),
    ("tuin: Tuin | Garden\nother: Overig | Other | Divers", "Dutch, English and French name"),
    ("Tuin | Garden | Jardin\nother: Overig | Other | Divers", "does not start with a code"),
    ("a: Tuin | Garden | Jardin\nb: Hof | Yard | Jardin\nother: Overig | Other | Divers", "names both a and b"),
    ("a: A | A | A\na: B | B | B\nother: Overig | Other | Divers", "appears twice"),
])
def test_a_list_that_cannot_work_is_a_settings_error_that_says_why(text, problem):
    with pytest.raises(CategoryError, match=problem):
        categories.parse(text)
    with pytest.raises(settings_module.SettingsError, match=problem):
        settings_module.load(SETTINGS_INI, environ={"LETS_LISTINGS_CATEGORIES": text})


def test_an_environment_variable_holds_the_list_separated_by_semicolons():
    loaded = settings_module.load(SETTINGS_INI, environ={
        "LETS_LISTINGS_CATEGORIES": "tuin: Tuin | Garden | Jardin | moestuin; other: Overig | Other | Divers"})
    assert loaded.listings.categories.codes == ("tuin", "other")
    assert loaded.listings.categories.find("moestuinen") == "tuin"


def test_an_offer_stores_the_code_and_every_reader_sees_their_own_name(group, an, sam, claire):
    group.mail("claire@example.org", "OFFRE: Yoga", "Catégorie : Jardinage\n")
    listing = Listing.get()
    assert listing.category == "garden"
    assert "[1] Yoga (Jardin)" in group.last("claire@example.org").text
    group.mail("an@example.org", "LIJST")
    assert "Yoga (Tuin)" in group.last("an@example.org").text
    group.mail("sam@example.org", "LIST")
    assert "Yoga (Garden)" in group.last("sam@example.org").text


def test_an_unknown_category_is_posted_under_other_and_the_reply_names_the_categories(group, an):
    group.mail("an@example.org", "AANBOD: Fietsherstel", "Categorie: banaan\nIk plak banden.")
    listing = Listing.get()
    assert listing.category == "other" and listing.description == "Ik plak banden."
    reply = group.last("an@example.org")
    assert reply.subject == f"Je aanbod staat erop: Fietsherstel [{listing.id}]"
    assert 'De categorie "banaan" kennen we niet, dus je aanbod staat onder Overig.' in reply.text
    assert "Tuin, Vervoer, Klussen" in reply.text and f"Stuur INTREKKEN {listing.id}" in reply.text


def test_an_offer_without_category_goes_under_other_and_the_reply_says_how_to_choose(group, sam):
    group.mail("sam@example.org", "OFFER: Bread")
    assert Listing.get().category == "other"
    text = group.last("sam@example.org").text
    assert "Without a category your offer is listed under Other." in text and '"Category: Garden"' in text


def test_list_filters_by_a_category_named_in_any_language_and_explains_an_unknown_one(group, an, claire):
    group.mail("claire@example.org", "OFFRE: Yoga", "Catégorie : vélo\n")
    group.mail("claire@example.org", "OFFRE: Piano", "Catégorie : musique\n")
    group.mail("an@example.org", "LIJST fiets")
    mail = group.last("an@example.org")
    assert mail.subject == "Aanbod en vragen in Vervoer bij LETS Demo"
    assert "Yoga (Vervoer)" in mail.text and "Piano" not in mail.text
    group.mail("an@example.org", "LIJST banaan")
    mail = group.last("an@example.org")
    assert mail.subject == 'Welke categorie bedoel je met "banaan"?'
    assert "LIJST Tuin" in mail.text and "Yoga" not in mail.text


@pytest.mark.parametrize("sender, command, names", [
    ("an@example.org", "ALLEEN GARDEN, jardin, Fietsen", "Tuin, Vervoer"),
    ("claire@example.org", "SEULEMENT tuin, vélo", "Jardin, Transport"),
])
def test_only_takes_names_in_any_language_and_stores_codes(group, an, claire, sender, command, names):
    group.mail(sender, command)
    assert MemberPreference.get().categories == "garden,transport"
    assert names in group.last(sender).subject


def test_only_with_an_unknown_category_changes_nothing_and_lists_the_categories(group, sam):
    group.mail("sam@example.org", "ONLY garden")
    group.mail("sam@example.org", "ONLY garden, banana")
    assert MemberPreference.get().categories == "garden"
    mail = group.last("sam@example.org")
    assert mail.subject == "Categories in your digest: which do you mean?"
    assert 'We do not know the category "banana"; your digest is unchanged.' in mail.text
    assert "Garden, Transport, Odd jobs" in mail.text


def test_the_digest_shows_the_chosen_categories_in_the_readers_language_in_the_groups_order(group, an, sam,
                                                                                             claire):
    for subject, body in (("OFFER: Piano", "Category: music"), ("OFFER: Mowing", "Category: tuin"),
                          ("OFFER: Bike", "Category: fiets")):
        group.mail("sam@example.org", subject, body)
    Listing.update(created=group.clock.now).execute()
    group.mail("claire@example.org", "SEULEMENT jardin, créatif")
    group.clock.now = MONDAY_AFTER
    run_scheduled(group.settings, MONDAY_AFTER, group.processor.composer)
    french = group.last("claire@example.org")
    assert "JARDIN" in french.text and "CRÉATIF" in french.text and "Bike" not in french.text
    assert french.text.index("JARDIN") < french.text.index("CRÉATIF")     # the list's order
    assert "Vous ne voyez que les rubriques Jardin, Créatif." in french.text
    dutch = group.last("an@example.org").text
    assert dutch.index("TUIN") < dutch.index("VERVOER") < dutch.index("CREATIEF")


def test_instant_mail_follows_the_members_categories(group, an, sam):
    group.mail("an@example.org", "DIGEST DIRECT")
    group.mail("an@example.org", "ALLEEN tuin")
    group.mail("sam@example.org", "OFFER: Bike", "Category: transport")
    group.mail("sam@example.org", "OFFER: Mowing", "Category: gardening")
    instant = [m for m in group.outbox("an@example.org") if m.message["List-Id"]]
    assert [m.subject for m in instant] == [f"Nieuw aanbod: Mowing [{Listing.get(Listing.title == 'Mowing').id}]"]
    assert "Mowing (Tuin)" in instant[0].text


def test_a_group_may_keep_its_own_list(settings, db, clock):
    own = categories.parse("moestuin: Moestuin | Vegetable garden | Potager | groenten\n"
                           "other: Overig | Other | Divers")
    group = Group(settings_module.replace(settings, listings={"categories": own}), clock)
    group.member("An de Vries", "an@example.org")
    group.mail("an@example.org", "AANBOD: Sla", "Categorie: groenten")
    assert Listing.get().category == "moestuin"
    assert "Sla (Moestuin)" in group.last("an@example.org").text


def test_upgrading_maps_free_text_categories_onto_codes(db):
    from db import members
    # The member first, while the model and the schema agree; the rest as before step 12.
    an = members.add("An de Vries", "an@example.org")
    downgrade_to(11)
    for typed in ("Tuinieren", "COURS", "banaan", "", "garden"):
        Listing.create(member=an, kind="offer", title="Yoga", category=typed, expires=dt.date(2027, 1, 1))
    MemberPreference.create(member=an, categories="tuin,muziek,banaan")
    assert any(line.startswith("12: listing categories") for line in upgrade(categories=DEFAULT))
    assert current_version() == LATEST
    assert [row.category for row in Listing.select().order_by(Listing.id)] == [
        "garden", "lessons", "other", "other", "garden"]
    assert MemberPreference.get().categories == "garden,creative"


def test_lets_init_moves_listings_whose_code_left_the_list(runner_env, db):
    from db import members
    an = members.add("An de Vries", "an@example.org")
    Listing.create(member=an, kind="offer", title="Yoga", category="pets", expires=dt.date(2027, 1, 1))
    Listing.create(member=an, kind="offer", title="Piano", category="garden", expires=dt.date(2027, 1, 1))
    without_pets = "\n".join(line for line in categories.DEFAULT_TEXT.splitlines() if not line.startswith("pets:"))
    result = CliRunner().invoke(main, ["--settings", str(SETTINGS_INI), "init"],
                                env={**runner_env, "LETS_LISTINGS_CATEGORIES": without_pets})
    assert result.exit_code == 0, result.output
    assert "1 listings moved onto the category list" in result.output
    assert [row.category for row in Listing.select().order_by(Listing.id)] == ["other", "garden"]
    assert listings.recode(DEFAULT) == 0


@pytest.fixture
def runner_env(settings, tmp_path):
    return {"LETS_DATABASE_URL": settings.database.url, "LETS_SECURITY_SECRET": "x",
            "LETS_OUTBOUND_MAILDIR": settings.outbound.maildir, "LETS_DKIM_KEY_FILE": str(tmp_path / "dkim.pem")}


def test_check_mail_prints_the_code_and_what_was_written(runner_env, db, tmp_path):
    mail = tmp_path / "offer.eml"
    mail.write_bytes("From: an@example.org\r\nSubject: OFFRE: Yoga\r\n\r\nCatégorie : Jardinage\r\n".encode())
    result = CliRunner().invoke(main, ["--settings", str(SETTINGS_INI), "check-mail", str(mail)], env=runner_env)
    fields = json.loads(result.output)["fields"]
    assert (fields["category"], fields["category_given"]) == ("garden", "jardinage")
