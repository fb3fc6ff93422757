"""The guide and the circle news on paper (article 8.2.2): who gets it (`lets member
set-paper`, `lets member list`), what it adds to the yearly euro contribution, and the
printable document (`lets guide print`)."""
import datetime as dt
import json
import os
import stat

import pytest
from click.testing import CliRunner

from db import database, members
from db.models import Announcement, EuroCharge
from mailer.runs import euro as euro_mail
from mailer.cli import main
from tests.conftest import SETTINGS_INI

from test_templates_words import english_words

OLD = dt.date(2025, 5, 1)
DAY = "2026-11-25"          # the guide's day: the listings below are current then


def lets(settings, *args, env=None):
    env = {"LETS_DATABASE_URL": settings.database.url, "LETS_SECURITY_SECRET": settings.security.secret,
           "LETS_OUTBOUND_MAILDIR": settings.outbound.maildir, **(env or {})}
    result = CliRunner().invoke(main, ["--settings", str(SETTINGS_INI), *args], env=env)
    database.connect(reuse_if_open=True)
    return result


@pytest.fixture
def posted(group, an, sam, clock):
    """Offers and requests in three categories, by mail; Kees has no email; a circle news item."""
    kees = members.add("Kees Bakker", None, joined=OLD)
    group.mail("an@example.org", "AANBOD: Fietsherstel", "Categorie: vervoer\nNiveau: S\n\nBanden, remmen.\nOok op zaterdag.")
    group.mail("an@example.org", "AANBOD: Appeltaart", "Categorie: koken\nPrijs: 6 zon per taart\n")
    group.mail("sam@example.org", "REQUEST: Help moving a piano", "Category: transport\n")
    group.mail("sam@example.org", "OFFER: Lawn mowing", "Category: garden\n")
    Announcement.create(subject="Ruilmarkt 12 december", body="In het buurthuis, van 10 tot 13 uur.",
                        created=clock.now, mode="digest")
    Announcement.create(subject="Oude ledenvergadering", body="Lang geleden.", created=dt.datetime(2026, 1, 5))
    return kees


def test_set_paper_marks_a_member_and_member_list_shows_it(group, settings, an, sam):
    kees = members.add("Kees Bakker", None)
    on = lets(settings, "member", "set-paper", str(kees.number), "on")
    assert on.exit_code == 0, on.output
    assert on.output == f"{kees.number} Kees Bakker: paper on\n"
    assert lets(settings, "member", "set-paper", str(kees.number), "on").output.endswith("paper on (already)\n")
    listed = lets(settings, "member", "list").output.splitlines()
    assert listed[2].endswith("  paper") and not listed[0].endswith("paper")
    records = [json.loads(line) for line in lets(settings, "member", "list", "--json").output.splitlines()]
    assert [r["paper"] for r in records] == [False, False, True]
    assert lets(settings, "member", "set-paper", "sam@example.org", "on").exit_code == 0
    assert lets(settings, "member", "set-paper", str(kees.number), "off").output == \
        f"{kees.number} Kees Bakker: paper off\n"
    records = [json.loads(line) for line in lets(settings, "member", "list", "--json").output.splitlines()]
    assert [r["paper"] for r in records] == [False, True, False]
    missing = lets(settings, "member", "set-paper", "99", "on")
    assert missing.exit_code != 0 and "no member 99" in missing.output


def test_the_paper_amount_is_added_to_that_members_yearly_euro_contribution(group, settings):
    an = group.member("An de Vries", "an@example.org", joined=OLD)
    piet = group.member("Piet Jansen", "piet@example.org", joined=OLD)
    assert lets(settings, "member", "set-paper", "piet@example.org", "on").exit_code == 0
    assert settings.euro.paper_amount == 500 and settings.euro.amount_a == 1800
    euro_mail.run(settings, dt.datetime(2027, 1, 4, 8), dt.date(2027, 1, 4))
    charged = {row.member_id: row.amount_cents for row in EuroCharge.select().where(EuroCharge.kind == "contribution")}
    assert charged == {an.id: 1800, piet.id: 2300}
    notice = group.last("piet@example.org")
    assert notice.subject.startswith("Contributie 2027: € 23,00".replace(" ", "\xa0")) or \
        notice.subject.replace("\xa0", " ").startswith("Contributie 2027: € 23,00")
    assert "€ 18,00" in group.last("an@example.org").subject.replace("\xa0", " ")


def test_the_printed_guide_groups_offers_and_requests_by_category_with_number_name_and_address(
        group, settings, posted, tmp_path):
    out = tmp_path / "guide.html"
    result = lets(settings, "guide", "print", "--output", str(out), "--date", DAY)
    assert result.exit_code == 0, result.output
    page = out.read_text()
    assert "<title>LETS Demo: aanbod en vragen, 25 november 2026</title>" in page
    offers, requests = page.split("<h2>Aanbod</h2>")[1].split("<h2>Vragen</h2>")
    # The group's order of categories: garden, transport, ..., cooking.
    assert offers.index("<h3>Tuin</h3>") < offers.index("<h3>Vervoer</h3>") < offers.index("<h3>Koken</h3>")
    assert "Fietsherstel <span class=\"ref\">[1]</span>" in offers
    assert "Banden, remmen.\nOok op zaterdag." in offers
    assert "niveau S · richtprijs: 10 zon per uur · geldig tot 21 februari 2027" in offers
    assert "6 zon per taart · geldig tot" in offers
    assert "An de Vries (lid 1) · an@example.org" in offers
    assert "Sam Taylor (lid 2) · sam@example.org" in requests and "Help moving a piano" in requests
    assert "richtprijs" not in requests
    news = requests.split("<h2>Kringnieuws</h2>")[1]
    assert "Ruilmarkt 12 december" in news and "Oude ledenvergadering" not in news
    assert "Richtprijs bij LETS Demo: 10 zon per uur, voor aanbod zonder eigen prijs." in page
    body = page.split("<body>")[1].replace("Help moving a piano", "").replace("Lawn mowing", "")
    assert not english_words(body)


def test_without_shown_addresses_the_guide_says_how_to_answer_through_the_group(group, settings, posted):
    result = lets(settings, "guide", "print", "--date", DAY, "--language", "fr",
                  env={"LETS_PRIVACY_SHOW_ADDRESSES": "false"})
    assert result.exit_code == 0, result.output
    page = result.stdout
    assert page.startswith("<!DOCTYPE html>") and "<html lang=\"fr\">" in page
    assert "@example.org" not in page
    assert "An de Vries (membre 1) · RÉPONDRE 1 à lets@lets.example" in page
    assert "prix indicatif : 10 zon de l&#39;heure" in page and "<h2>Nouvelles du cercle</h2>" in page
    assert result.stderr == "0 members get it on paper\n"


def test_the_guide_counts_who_gets_it_on_paper(group, settings, posted):
    lets(settings, "member", "set-paper", str(posted.number), "on")
    result = lets(settings, "guide", "print", "--date", DAY)
    assert result.stderr == f"1 members get it on paper: {posted.number}\n"


def test_a_pdf_without_a_converter_is_refused_with_a_clear_message(group, settings, posted, tmp_path):
    empty = tmp_path / "bin"
    empty.mkdir()
    result = lets(settings, "guide", "print", "--date", DAY, "--format", "pdf", "--output",
                  str(tmp_path / "guide.pdf"), env={"PATH": str(empty)})
    assert result.exit_code == 1
    assert "no PDF converter found: install one of chromium" in result.output
    assert not (tmp_path / "guide.pdf").exists()
    no_file = lets(settings, "guide", "print", "--format", "pdf")
    assert no_file.exit_code != 0 and "--format pdf needs --output FILE" in no_file.output


def test_a_pdf_is_printed_by_a_headless_chromium_on_the_path(group, settings, posted, tmp_path):
    folder = tmp_path / "bin"
    folder.mkdir()
    log = tmp_path / "args"
    browser = folder / "chromium"
    # A stand-in that prints the way Chromium does: the page given last, to --print-to-pdf.
    browser.write_text("#!/bin/sh\n"
                       f"printf '%s\\n' \"$@\" > '{log}'\n"
                       "for a in \"$@\"; do case \"$a\" in --print-to-pdf=*) out=\"${a#--print-to-pdf=}\";; "
                       "file://*) page=\"${a#file://}\";; esac; done\n"
                       "{ printf '%%PDF-1.4\\n'; cat \"$page\"; } > \"$out\"\n")
    browser.chmod(browser.stat().st_mode | stat.S_IXUSR)
    result = lets(settings, "guide", "print", "--date", DAY, "--format", "pdf", "--output",
                  str(tmp_path / "guide.pdf"), env={"PATH": f"{folder}{os.pathsep}{os.environ['PATH']}"})
    assert result.exit_code == 0, result.output
    made = (tmp_path / "guide.pdf").read_bytes()
    assert made.startswith(b"%PDF-1.4\n<!DOCTYPE html>") and "Fietsherstel".encode() in made
    args = log.read_text().splitlines()
    assert "--headless" in args and any(a.startswith("--print-to-pdf=") for a in args)
    assert args[-1].startswith("file://") and args[-1].endswith("/guide.html")
