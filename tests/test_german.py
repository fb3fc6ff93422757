"""German as a fourth language: a member with SPRACHE de types German command words, answers
in German under a German mail program's quote, and reads the code's own words (states,
the group's accounts, category names, dates) in German.

The templates' German sentences come from the catalogues (templates/locale/de), the rest
from the code's own tables."""
import datetime as dt

import pytest

from db import categories
from db.categories import DEFAULT, CategoryError
from db.models import Listing, Member, MemberPreference, Transfer
from handlers.answers import answer
from handlers.commands import route
from handlers.dates import parse_date
from handlers.fields import parse as parse_fields
from mailer.message.compose import Composer
from mailer.message.language import detect
from mailer.message.quotes import strip_quotes

from test_trades import balance, confirm


@pytest.fixture
def hans(group):
    return group.member("Hans Müller", "hans@example.de", language="de")


def language_of(sent) -> str:
    return str(sent.message["Content-Language"])


GMAIL_QUOTE = """

Viele Grüße
Hans

Am Mo., 23. Nov. 2026 um 10:05 Uhr schrieb LETS Demo <
lets@lets.example>:
> Bitte bestätige die Zahlung.
> JA oder NEIN
"""


def test_a_german_offer_with_german_fields_is_listed_under_its_category(group, hans):
    group.mail("hans@example.de", "ANGEBOT: Fahrradreparatur",
               "Kategorie: Fahrrad\nNiveau: Profi\nPreis: 10 Zon pro Stunde\nGültig bis: 1. März 2027\n\n"
               "Ich repariere dein Fahrrad, auch Schaltungen.")
    listing = Listing.get()
    assert (listing.kind, listing.title, listing.category, listing.level) == (
        "offer", "Fahrradreparatur", "transport", "V")
    assert (listing.rate_cents, listing.expires) == (1000, dt.date(2027, 3, 1))
    posted = group.last("hans@example.de")
    assert language_of(posted) == "de"
    assert "1. März 2027" in posted.text            # babel's German date


def test_a_request_in_german_names_a_german_category(group, hans):
    group.mail("hans@example.de", "GESUCH: Hilfe im Garten", "Kategorie: Gartenarbeit\n\nWer mäht meinen Rasen?")
    listing = Listing.get()
    assert (listing.kind, listing.category) == ("request", "garden")
    assert "Garten" in group.last("hans@example.de").text


def test_zahle_an_fuer_waits_for_ja_gerne_above_a_german_gmail_quote(group, hans, piet):
    group.mail("hans@example.de", "ZAHLE 3 AN Piet FÜR Suppe")
    transfer = Transfer.get()
    assert (transfer.state, transfer.amount_cents, transfer.description) == ("pending", 300, "Suppe")
    ask = group.last("hans@example.de")
    assert language_of(ask) == "de" and "Piet Jansen" in ask.subject

    confirm(group, "hans@example.de", ask, "Ja, gerne!" + GMAIL_QUOTE)

    assert Transfer.get().state == "booked"
    assert (balance(hans), balance(piet)) == (-300, 300)


def test_the_member_first_order_and_a_thunderbird_nein_danke_below_the_quote(group, hans, piet):
    group.mail("hans@example.de", "", "Zahle Piet 3 Zon für Suppe")
    transfer = Transfer.get()
    assert (transfer.amount_cents, transfer.description) == (300, "Suppe")
    ask = group.last("hans@example.de")
    group.mail("hans@example.de", "Re: " + ask.subject,
               "Am 23.11.26 um 10:05 schrieb LETS Demo:\n> Bitte bestätige die Zahlung.\n\nNein danke\n\nLG Hans\n",
               headers={"In-Reply-To": ask.message["Message-ID"]}, rcpt=[ask.message["Reply-To"]])
    assert Transfer.get().state == "cancelled"
    assert balance(hans) == balance(piet) == 0


def test_vielleicht_books_nothing_and_asks_again(group, hans, piet):
    group.mail("hans@example.de", "ZAHLE 3 an Piet für Suppe")
    ask = group.last("hans@example.de")
    confirm(group, "hans@example.de", ask, "Vielleicht, weiß nicht genau.\n\nVon meinem iPhone gesendet")
    assert Transfer.get().state == "pending"
    assert group.last("hans@example.de").subject != ask.subject


def test_rechnung_goes_to_the_payer_in_the_payers_own_language(group, hans, piet):
    group.mail("hans@example.de", "RECHNUNG 5 an Piet für Suppe")
    transfer = Transfer.get()
    assert (transfer.amount_cents, transfer.initiator, transfer.state) == (500, "payee", "pending")
    assert language_of(group.last("piet@example.org")) == "nl"
    assert language_of(group.last("hans@example.de")) == "de"


def test_rechnung_offen_is_an_invoice_at_the_payees_risk(group, hans, piet):
    group.mail("hans@example.de", "RECHNUNG OFFEN 5 AN Piet FÜR Suppe")
    transfer = Transfer.get()
    assert (transfer.amount_cents, transfer.description, transfer.payee_risk) == (500, "Suppe", True)


def test_a_donation_reads_the_groups_own_account_and_the_description_in_german(group, hans):
    group.mail("hans@example.de", "SPENDE 5")
    ask = group.last("hans@example.de")
    assert "Solidaritätsfonds" in ask.subject
    assert "Spende an den Solidaritätsfonds" in ask.text
    confirm(group, "hans@example.de", ask, "JA")
    assert Transfer.get().state == "booked"
    group.mail("hans@example.de", "BÜCHER")
    books = group.last("hans@example.de").text
    assert "Verein" in books and "Solidaritätsfonds" in books


@pytest.mark.parametrize("subject, body", [
    ("SALDO", ""), ("Kontostand", ""), ("", "Wie ist mein Saldo?"), ("", "Wie viel Zon habe ich noch?"),
])
def test_the_balance_in_german_words(group, hans, subject, body):
    group.mail("hans@example.de", subject, body)
    reply = group.last("hans@example.de")
    assert language_of(reply) == "de"
    assert "0,00" in reply.subject


@pytest.mark.parametrize("subject", ["HILFE", "Hilfe bitte"])
def test_hilfe_gets_the_help_mail(group, hans, subject):
    group.mail("hans@example.de", subject)
    assert group.outbox("hans@example.de")
    assert language_of(group.last("hans@example.de")) == "de"


@pytest.mark.parametrize("said", ["SPRACHE de", "TAAL de", "TAAL Duits", "LANGUAGE German", "Sprache: Deutsch"])
def test_a_dutch_member_chooses_german(group, an, said):
    group.mail("an@example.org", said)
    assert Member.get_by_id(an.id).language == "de"
    assert language_of(group.last("an@example.org")) == "de"


@pytest.mark.parametrize("said, choice", [
    ("ÜBERSICHT täglich", "daily"), ("UEBERSICHT wöchentlich", "weekly"), ("Übersicht aus", "off"),
    ("ÜBERSICHT sofort", "instant"),
])
def test_uebersicht_sets_the_digest(group, hans, said, choice):
    group.mail("hans@example.de", said)
    assert Member.get_by_id(hans.id).digest == choice


def test_nur_keeps_the_categories_named_in_german(group, hans):
    group.mail("hans@example.de", "NUR Garten, Kinder")
    assert MemberPreference.get(MemberPreference.member == hans.id).categories == "garden,children"
    assert "Garten" in group.last("hans@example.de").text


def test_zurueckziehen_and_verlaengern_without_umlauts(group, hans):
    group.mail("hans@example.de", "ANGEBOT: Nachhilfe Mathe", "Kategorie: Unterricht")
    listing = Listing.get()
    group.clock.advance(days=1)
    group.mail("hans@example.de", f"VERLAENGERN {listing.id}")
    assert Listing.get_by_id(listing.id).expires > listing.expires
    group.mail("hans@example.de", f"ZURUECKZIEHEN {listing.id}")
    assert Listing.get_by_id(listing.id).status != "active"


def test_a_german_out_of_office_reply_gets_no_answer(group, hans):
    before = len(group.outbox("hans@example.de"))
    group.mail("hans@example.de", "Abwesenheitsnotiz: Re: Bestätige die Zahlung", "Ich bin bis 3. Januar im Urlaub.")
    assert len(group.outbox("hans@example.de")) == before


def test_a_german_stranger_is_answered_in_german(group):
    group.mail("fremd@example.de", "Mitmachen?", "Hallo, ich möchte gerne Mitglied werden. Wie geht das?")
    assert language_of(group.last("fremd@example.de")) == "de"


# -- the pieces, without the pipeline

@pytest.mark.parametrize("line, kind", [
    ("ANGEBOT Gartenarbeit", "offer"), ("GESUCH Umzugshilfe", "request"), ("ZURÜCKZIEHEN 7", "withdraw"),
    ("zurueckziehen 7", "withdraw"), ("VERLÄNGERN 7", "renew"), ("LISTE", "list"), ("MEINE", "mine"),
    ("SALDO", "balance"), ("BÜCHER", "books"), ("BUECHER", "books"), ("HILFE", "help"),
    ("ZAHLE 5 AN Piet FÜR Suppe", "pay"), ("BEZAHLE 5 an Piet", "pay"), ("zahlen 5 an Piet", "pay"),
    ("RECHNUNG 5 AN Piet FÜR Suppe", "invoice"), ("SPENDE 5", "donate"), ("SPENDEN 5", "donate"),
    ("NEIN", "consent"), ("ÜBERSICHT täglich", "digest"), ("SPRACHE de", "language"), ("NUR Garten", "only"),
    ("ANTWORTEN 9 Gerne!", "respond"), ("EINSPRUCH zu hoch", "objection"), ("ANMELDEN Hans Müller", "join"),
    ("KÜNDIGEN", "cancel"), ("KUENDIGEN", "cancel"), ("Kündigung", "cancel"), ("ABRECHNUNG 5 Porto", "claim"),
    ("TAGESORDNUNGSPUNKT: Neue Kerngruppe", "agenda"),
])
def test_every_german_command_word_is_understood(line, kind):
    assert route(line, "").kind == kind


def test_a_word_two_languages_share_keeps_the_first_language():
    # SALDO, LISTE and JA are Dutch, French and Dutch first: a stranger's mail is
    # answered as before; a member's language decides for a member.
    assert (route("SALDO", "").language, route("LISTE", "").language) == ("nl", "fr")
    assert route("ZAHLE 5 an Piet", "").language == "de"


@pytest.mark.parametrize("text, meant", [
    ("Ja, gerne!", "yes"), ("ja klar", "yes"), ("Passt.", "yes"), ("In Ordnung", "yes"), ("Ja, aber gerne!", "yes"),
    ("Natürlich, bitte buchen", "yes"), ("Nein danke", "no"), ("lieber nicht", "no"), ("Stimmt nicht", "no"),
    ("Vielleicht", None), ("Weiß nicht", None), ("Bin mir nicht sicher", None), ("Ja, aber erst morgen", None),
])
def test_how_germans_say_yes_and_no(text, meant):
    assert answer(text) == meant


@pytest.mark.parametrize("text", [
    "Ja, gerne!" + GMAIL_QUOTE,
    "Hallo zusammen,\n\nJa, gerne!\n\nMit freundlichen Grüßen\nHans Müller\n\n-----Ursprüngliche Nachricht-----\n"
    "Von: LETS Demo <lets@lets.example>\nGesendet: Montag, 23. November 2026 10:05\nAn: hans@example.de\n"
    "Betreff: Bestätige\n\nBitte bestätige die Zahlung.\n",
    "Am 23.11.2026 um 10:05 schrieb LETS Demo <lets@lets.example>:\n> Bitte bestätige.\n\nJa, gerne!\n\nLG Hans\n",
    "Liebe Leute,\nJa, gerne!\nGesendet von meinem Samsung Galaxy Smartphone.\n",
])
def test_german_mail_programs_quotes_and_closings_are_not_the_members_words(text):
    assert strip_quotes(text) == "Ja, gerne!"


def test_a_german_closing_is_no_command_line():
    assert strip_quotes("LG-Fernseher zu verschenken\n\nLG Hans") == "LG-Fernseher zu verschenken"


def test_german_listing_fields_and_dates():
    fields = parse_fields("Yoga", "Rubrik: Pflege\nStufe: Laie\nläuft ab: 15. Jan. 2027\n\nSanftes Yoga.",
                          today=dt.date(2026, 11, 23))
    assert (fields.category, fields.level, fields.expires) == ("pflege", "A", dt.date(2027, 1, 15))
    assert fields.description == "Sanftes Yoga."
    assert parse_date("bis zum 1. Maerz", dt.date(2026, 11, 23)) == dt.date(2027, 3, 1)


def test_german_strangers_are_told_apart_from_dutch_ones():
    assert detect("Guten Tag, wie kann ich bei eurem Tauschring mitmachen? Viele Grüße") == "de"
    assert detect("Hoe word ik lid van jullie ruilkring?") == "nl"


def test_category_names_in_german_and_the_old_four_part_line():
    assert DEFAULT.name("garden", "de") == "Garten" and DEFAULT.find("Haustiere") == "pets"
    old = categories.parse("tuin: Tuin | Garden | Jardin | moestuin\nother: Overig | Other | Divers")
    assert old.name("tuin", "de") == "Garden"        # no German name: the English one
    assert old.find("moestuin") == "tuin"
    new = categories.parse("tuin: Tuin | Garden | Jardin | Garten | moestuin\nother: Overig | Other | Divers | |")
    assert (new.name("tuin", "de"), new.name("other", "de")) == ("Garten", "Other")
    with pytest.raises(CategoryError, match="German name"):
        categories.parse("tuin: Tuin | Garden | Jardin | Garten | a | b\nother: Overig | Other | Divers")


def test_dates_and_amounts_in_german_mail_are_written_the_german_way(settings, tmp_path):
    (tmp_path / "thing").mkdir(parents=True)
    (tmp_path / "thing" / "done.txt").write_text("Subject: {{ day|date }}, {{ cents|money }}\n\nOK.\n")
    (tmp_path / "layout.html").write_text("{{ subject }}{% for p in paragraphs %}{{ p }}{% endfor %}")
    composer = Composer(settings, templates=tmp_path)
    subject, text, _ = composer.render("thing/done", "de", {"day": dt.date(2027, 3, 1), "cents": 123450})
    assert (subject, text) == ("1. März 2027, 1.234,50", "OK.\n")


def test_a_german_member_gets_the_digest_with_german_category_names(group, hans, an):
    from mailer.runs.digest import run_scheduled
    group.mail("an@example.org", "AANBOD: Moestuin spitten", "Categorie: tuin\n")
    # Posted during the week before the digest, on the test's clock (as tests/test_digest.py does).
    Listing.update(created=group.clock.now).execute()
    monday = dt.datetime(2026, 11, 30, 6, 30)
    group.clock.now = monday
    run_scheduled(group.settings, monday, group.processor.composer)
    digest = [m for m in group.outbox("hans@example.de") if m.message["List-Id"]]
    assert len(digest) == 1 and language_of(digest[0]) == "de"
    text = digest[0].text
    assert "Moestuin spitten" in text and "GARTEN" in text.upper() and "TUIN" not in text


def test_the_command_line_takes_german_for_a_member_and_the_printed_guide(group, settings, tmp_path):
    from click.testing import CliRunner

    from mailer.cli import main
    from tests.conftest import SETTINGS_INI
    env = {"LETS_DATABASE_URL": settings.database.url, "LETS_SECURITY_SECRET": settings.security.secret,
           "LETS_OUTBOUND_MAILDIR": settings.outbound.maildir}
    added = CliRunner().invoke(main, ["--settings", str(SETTINGS_INI), "member", "add", "Greta Schulz",
                                      "greta@example.de", "--language", "de"], env=env)
    assert added.exit_code == 0, added.output
    assert Member.get(Member.name == "Greta Schulz").language == "de"
    group.mail("greta@example.de", "ANGEBOT: Stricken lernen", "Kategorie: Kleidung\n")
    out = tmp_path / "guide.html"
    printed = CliRunner().invoke(main, ["--settings", str(SETTINGS_INI), "guide", "print", "--language", "de",
                                        "--output", str(out), "--date", "2026-11-25"], env=env)
    assert printed.exit_code == 0, printed.output
    page = out.read_text()
    assert "Stricken lernen" in page and "Kleidung" in page and "25. November 2026" in page


def test_every_table_of_words_the_code_keeps_per_language_has_german():
    from db.forget import FORMER
    from db.import_values import LANGUAGES as IMPORTED
    from db.models import LANGUAGES
    from handlers.answers import SAY_NO, SAY_YES
    from handlers.commands import WORDS
    from mailer.message import terms
    from mailer.runs.digest import RESPOND
    assert "de" in LANGUAGES and all("de" in words for words in WORDS.values())
    for table in (RESPOND, FORMER, IMPORTED, SAY_YES, SAY_NO):
        assert set(LANGUAGES) <= set(table)
    for table in (terms.TRANSFER_STATES, terms.MEMBER_STATUSES, terms.ACCOUNTS, terms.ENTERED_BY,
                  terms.AMOUNT_PROBLEMS, dict(enumerate(words for _, words in terms.DESCRIPTIONS))):
        assert all(set(LANGUAGES) <= set(words) for words in table.values())


def test_a_german_member_offers_pays_confirms_and_reads_the_digest_all_in_german(group, hans, piet, an):
    """The whole round in German words, as a German member reads it."""
    from mailer.runs.digest import run_scheduled
    group.mail("hans@example.de", "ANGEBOT: Brot backen", "Kategorie: Essen\n\nIch backe Dinkelbrot.")
    posted = group.last("hans@example.de")
    assert posted.subject == "Dein Angebot ist eingestellt: Brot backen [1]" and "Dein Angebot steht" in posted.text
    assert "Sende HILFE für alle Befehle." in posted.text
    group.mail("hans@example.de", "ZAHLE 4 AN Piet FÜR Eier")
    ask = group.last("hans@example.de")
    assert ask.subject.startswith("Bestätige") and "JA" in ask.text and "YES" not in ask.text
    confirm(group, "hans@example.de", ask, "JA" + GMAIL_QUOTE)
    receipt = group.last("hans@example.de")
    assert Transfer.get().state == "booked" and (balance(hans), balance(piet)) == (-400, 400)
    assert "Eier" in receipt.text and "-4,00" in receipt.text and "saldo" in receipt.text.lower()
    group.mail("an@example.org", "AANBOD: Moestuin spitten", "Categorie: tuin\n")
    Listing.update(created=group.clock.now).execute()
    monday = dt.datetime(2026, 11, 30, 6, 30)
    group.clock.now = monday
    run_scheduled(group.settings, monday, group.processor.composer)
    digest, = [m for m in group.outbox("hans@example.de") if m.message["List-Id"]]
    text = digest.text
    assert language_of(digest) == "de" and "Moestuin spitten" in text and "ANGEBOTE" in text.upper()
    for english in ("Offers", "Requests", "Send HELP", "Reply", "Dear"):
        assert english not in text, english
