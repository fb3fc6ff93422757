"""The words of the one template tree: every message translated, in every catalogue, and
the catalogues up to date with the templates (what `pybabel extract` would find)."""
import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from mailer.message.compose import TEMPLATES, Composer

LOCALE = TEMPLATES / "locale"
LANGUAGES = sorted(path.name for path in LOCALE.iterdir() if (path / "LC_MESSAGES" / "messages.po").exists())
OPTIONS = {"extensions": "jinja2.ext.i18n", "trim_blocks": "True", "lstrip_blocks": "True"}


def extracted() -> set:
    """The msgids in the templates now, read as babel.cfg says."""
    method_map = [("locale/**", "ignore"),
                  ("**.txt", "jinja2"), ("**.html", "jinja2")]
    found = extract_from_dir(str(TEMPLATES), method_map, options_map={"**.txt": OPTIONS, "**.html": OPTIONS})
    return {message if isinstance(message, str) else tuple(message) for _, _, message, _, _ in found}


def catalogue(language: str):
    with (LOCALE / language / "LC_MESSAGES" / "messages.po").open("rb") as po:
        return read_po(po, locale=language)


def test_there_is_a_catalogue_for_each_language_members_can_choose():
    assert LANGUAGES == ["de", "en", "fr", "nl"]


def test_the_template_of_the_catalogues_holds_every_message_of_the_templates():
    with (LOCALE / "messages.pot").open("rb") as pot:
        listed = {message.id for message in read_po(pot) if message.id}
    assert listed == extracted(), "run: pybabel extract (README, Translating)"


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_message_is_translated_and_none_is_fuzzy_or_misformatted(language):
    found = catalogue(language)
    ids = {message.id for message in found if message.id}
    assert ids == extracted(), "run: pybabel update (README, Translating)"
    for message in found:
        if not message.id:
            continue
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        assert all(strings), f"{language}: no translation of {message.id!r}"
        assert not message.fuzzy, f"{language}: fuzzy {message.id!r}"
    # babel's checks: the same %(name)s placeholders in the translation as in the message
    assert [(message.id, errors) for message, errors in found.check()] == []


def test_a_template_of_the_one_tree_speaks_the_readers_language(settings):
    composer = Composer(settings)
    context = {"name": "An"}
    assert composer.render("cancel/withdrawn", "nl", context)[0] == "Je blijft lid van LETS Demo"
    assert composer.render("cancel/withdrawn", "fr", context)[0] == "Vous restez membre de LETS Demo"
    assert composer.render("cancel/withdrawn", "de", context)[0] == "Du bleibst Mitglied von LETS Demo"
    subject, text, html = composer.render("cancel/withdrawn", "en", context)
    assert subject == "You remain a member of LETS Demo" and "Send HELP for all commands." in text
    assert ">You answered NO: no notice was given" in html and "Send HELP for all commands.</p>" in html
