"""`lets import`: a group moving from eLAS/eLAND, Cyclos, CES or a spreadsheet, all or nothing."""
from __future__ import annotations

import datetime as dt
import os
import pty
import select
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from db import books, import_values as values
from db.importing import DESCRIPTION, OPENING
from db.models import Account, Address, Listing, Member, MemberEvent, PaperGuide, Transfer
from mailer.cli import main

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples" / "import"
AT = "2026-11-23T10:00"


@pytest.fixture
def lets(tmp_path, monkeypatch, database_url):
    """`lets …` through click on the test's own database (SQLite file or PostgreSQL schema)."""
    for name in [name for name in __import__("os").environ if name.startswith("LETS_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("LETS_SETTINGS", str(ROOT / "settings.ini"))
    monkeypatch.setenv("LETS_DATABASE_URL", database_url)
    monkeypatch.setenv("LETS_SECURITY_SECRET_FILE", str(tmp_path / "secret.key"))
    runner = CliRunner()

    def run(*args, code=0):
        result = runner.invoke(main, [str(arg) for arg in args], catch_exceptions=False)
        assert result.exit_code == code, result.output
        return result.output

    run("init")
    return run


def write(path: Path, lines, encoding="utf-8") -> Path:
    path.write_bytes(("\n".join(lines) + "\n").encode(encoding))
    return path


def test_200_members_and_their_balances_book_one_opening_entry_each_and_the_ledger_verifies(lets, tmp_path):
    members = write(tmp_path / "leden.csv", ["Lidnummer;Naam;E-mail;Taal"] + [
        f"{n};Lid {n};lid{n}@example.org;{('nl', 'en', 'fr')[n % 3]}" for n in range(1, 201)])
    # Balances as a spreadsheet writes them: decimal comma, thousands with a point; they
    # sum to 12,34 above zero, as a former system's rounding may leave them.
    amounts = {n: (n * 7919) % 250000 - 125000 for n in range(1, 200)}
    amounts[200] = 1234 - sum(amounts.values())
    cells = {n: f"{'-' if cents < 0 else ''}{abs(cents) // 100:,},{abs(cents) % 100:02d}".replace(",", ".", 1)
             if abs(cents) >= 100000 else f"{cents / 100:.2f}".replace(".", ",") for n, cents in amounts.items()}
    balances = write(tmp_path / "saldi.csv", ["Lidnummer;Saldo"] + [f"{n};{cells[n]}" for n in range(1, 201)])
    assert any("." in cell and "," in cell for cell in cells.values())

    said = lets("import", "members", members, "--at", AT)
    assert "imported 200 members, 0 skipped" in said
    said = lets("import", "balances", balances, "--at", AT)
    assert "imported 200 opening balances, 0 skipped" in said
    assert "balances together 12.34; the opening account takes -12.34 (the file's balances do not sum" in said

    by_number = {m.number: m for m in Member.select()}
    assert sorted(by_number) == list(range(1, 201))
    for number, cents in amounts.items():
        account = Account.get(Account.member == by_number[number])
        assert account.balance_cents == cents, number
        entries = list(Transfer.select().where((Transfer.payer == account) | (Transfer.payee == account)))
        assert len(entries) == 1 and entries[0].initiator == "opening" and entries[0].description == DESCRIPTION
    assert Account.get(Account.code == OPENING[0]).balance_cents == -1234
    assert {str(t.booked) for t in Transfer.select()} == {"2026-11-23 10:00:00"}
    assert ("Opening balances", -1234) in books.build("all", dt.date(2026, 11, 23)).accounts
    assert sum(a.balance_cents for a in Account.select()) == 0
    assert "200 booked transfers verified" in lets("ledger", "verify")
    assert "sum to zero" in lets("ledger", "check")


SCENARIOS = {
    "eland": [("members", "eland-members.csv", "--contacts", EXAMPLES / "eland-contacts.csv"),
              ("listings", "eland-listings.csv")],
    "spreadsheet": [("members", "spreadsheet-nl.csv"), ("balances", "balances-nl.csv"),
                    ("listings", "listings-en.csv")],
    "cyclos": [("members", "cyclos-members.csv"), ("balances", "cyclos-balances.csv")],
    "ces": [("members", "ces-members.csv"), ("balances", "ces-balances.csv", "--hours", "--per-hour", "10")],
}


def test_every_example_file_is_imported_by_a_scenario():
    used = {step[1] for steps in SCENARIOS.values() for step in steps} | {"eland-contacts.csv"}
    assert used == {path.name for path in EXAMPLES.glob("*.csv")}


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_each_example_imports(lets, scenario):
    said = ""
    for kind, name, *more in SCENARIOS[scenario]:
        said += lets("import", kind, EXAMPLES / name, *more, "--at", AT)
        assert "imported " in said and "nothing imported" not in said
    assert "verified" in lets("ledger", "verify")
    assert "sum to zero" in lets("ledger", "check")
    names = {m.name: m for m in Member.select()}
    balance = lambda name: Account.get(Account.member == names[name]).balance_cents  # noqa: E731
    if scenario == "eland":
        # The interlets account is another group's; addresses come from the contacts export.
        assert sorted(names) == ["Fatima El Idrissi", "Jo Claes", "Mieke Peeters", "Wim Janssens"]
        assert [a.email for a in names["Mieke Peeters"].addresses] == ["mieke.peeters@example.org"]
        assert list(names["Wim Janssens"].addresses) == [] and names["Wim Janssens"].type == "guest"
        assert names["Fatima El Idrissi"].status == "active" and names["Mieke Peeters"].number == 101
        assert str(names["Mieke Peeters"].joined) == "2014-02-10"
        assert "1 leaving in the former system (line 4), imported as active: record each notice" in said
        assert "1 without an email address" in said and "skipped line 6: LETS Arnhem (interlets)" in said
        assert "not imported: cdate, comments, hobbies, postcode, login, mailinglist, password" in said
        assert sorted((l.kind, l.title) for l in Listing.select()) == [
            ("offer", "Fietsherstel"), ("offer", "Zelfgebakken brood"), ("request", "Hulp bij verhuizen")]
    if scenario == "spreadsheet":
        assert names["Renée Dubois"].language == "fr" and names["Renée Dubois"].adult is True
        assert PaperGuide.select().where(PaperGuide.member == names["Gerrit Bos"]).exists()
        assert names["Huishouden Smit"].type == "household"
        assert (balance("Renée Dubois"), balance("Gerrit Bos"), balance("Huishouden Smit")) == (-123450, 31275, 92175)
        assert {(l.title, l.category) for l in Listing.select()} == {
            ("French conversation", "lessons"), ("Lift to the station", "transport"), ("Homemade jam", "other")}
    if scenario == "cyclos":
        assert names["Bakkerij De Korenbloem"].type == "organisation" and "Smith, John" in names
        assert balance("Anna Schmidt") == 123450 and balance("Smith, John") == 0
        assert Account.get(Account.code == OPENING[0]).balance_cents == -50000
    if scenario == "ces":
        # Codes that are no numbers are recorded; the members get numbers of ours.
        assert sorted(m.number for m in names.values()) == [1, 2, 3]
        reasons = [e.reason for e in MemberEvent.select().order_by(MemberEvent.id)]
        assert reasons[0] == "imported from ces-members.csv; former number ZAWC0012"
        assert (balance("Thandi Mokoena"), balance("Pierre Lambert"), balance("Lies Vermeulen")) == (
            12500, -4500, -8000)


def test_bad_rows_are_named_by_line_and_nothing_is_imported(lets, tmp_path):
    lets("member", "add", "Piet Jansen", "piet@example.org")
    members = write(tmp_path / "leden.csv", [
        "Lidnummer;Naam;E-mail",
        "10;Goed Lid;goed@example.org",
        "11;;naamloos@example.org",
        "12;Fout Adres;geen adres",
        "13;Dubbel;goed@example.org",
        "1;Bezet Nummer;bezet@example.org",
        "14;Al Lid;PIET@example.org",
    ])
    said = lets("import", "members", members, code=1)
    for line, text in [(3, "no name"), (4, "'geen adres' is not an email address"),
                       (5, "goed@example.org is also on line 2"), (6, "member number 1 is taken by Piet Jansen"),
                       (7, "piet@example.org is already the address of member 1")]:
        assert f"leden.csv:{line}: {text}" in said
    assert "leden.csv:2:" not in said and "nothing imported: 5 rows with problems" in said
    assert Member.select().count() == 1 and Address.select().count() == 1

    balances = write(tmp_path / "saldi.csv", ["Lid;Saldo", "1;10,00", "99;5", "piet@example.org;7", "1;tien",
                                              "1;1.234"])
    said = lets("import", "balances", balances, code=1)
    assert "saldi.csv:3: no member with number 99" in said
    assert "saldi.csv:4: member 1 is also on line 2" in said
    assert "saldi.csv:5: balance: 'tien' is not an amount" in said
    assert "saldi.csv:6: balance: '1.234': a thousand and more, or less than two?" in said
    assert Transfer.select().count() == 0 and not Account.select().where(Account.code == OPENING[0]).exists()


def test_a_damaged_row_is_refused_by_its_line(lets, tmp_path):
    damaged = tmp_path / "leden.csv"
    damaged.write_bytes(b"Naam,E-mail\nAn,an@example.org\nB\x00o,bo@example.org\n")
    said = lets("import", "members", damaged, code=1)
    assert "leden.csv:3: column Naam holds a control character" in said and "nothing imported: 1 row" in said
    assert Member.select().count() == 0


def test_a_quote_that_is_never_closed_is_refused_by_its_line_rather_than_swallowing_the_rows_below(lets, tmp_path):
    # Before, "Kees, Bos became one member named with the two rows below it, and Els was lost.
    broken = write(tmp_path / "leden.csv", ["Naam,E-mail", "An,an@example.org", '"Kees, Bos', "Els,els@example.org"])
    said = lets("import", "members", broken, code=1)
    assert 'leden.csv:3: a quote (") opens on this line and is never closed' in said
    assert "nothing imported: 1 row" in said and Member.select().count() == 0


def test_a_file_whose_columns_are_not_separated_by_comma_semicolon_or_tab_says_so(lets, tmp_path):
    piped = write(tmp_path / "leden.csv", ["Nummer|Naam|E-mail", "20|Jan Vos|jan@example.org"])
    said = lets("import", "members", piped, code=1)
    assert ("leden.csv: the file has one column, 'Nummer|Naam|E-mail': its columns must be separated "
            "by , or ; or a tab; save it again as CSV") in said


def test_a_file_without_a_needed_column_says_which_and_map_names_it(lets, tmp_path):
    listing = write(tmp_path / "aanbod.csv", ["Wie,Wat,Soort,Tot", "1,Soep,aanbod,", "1,Oude soep,aanbod,2026-10-01"])
    lets("member", "add", "Piet Jansen", "piet@example.org")
    said = lets("import", "listings", listing, code=1)
    assert "no column for number or email" in said and "--map COLUMN=FIELD" in said
    said = lets("import", "listings", listing, "--map", "Wie=number", "--map", "Wat=title", "--map", "tot=expires",
                "--at", AT)
    assert "skipped line 3: expired on 2026-10-01" in said and "imported 1 listings, 1 skipped" in said
    offer = Listing.get()
    assert (offer.kind, offer.title, offer.category, str(offer.expires)) == ("offer", "Soep", "other", "2027-02-21")


def test_dry_run_says_what_would_be_done_and_changes_nothing(lets, tmp_path):
    members = write(tmp_path / "leden.csv", ["Naam,E-mail", "An,an@example.org", "Bo,bo@example.org"])
    said = lets("import", "members", members, "--dry-run")
    assert "dry run: would import 2 members, 0 skipped; nothing changed" in said
    said = lets("import", "members", members, "--dry-run", "--map", "E-mail=-")
    assert "not imported: E-mail" in said and "2 without an email address" in said
    assert Member.select().count() == 0
    lets("import", "members", members)
    balances = write(tmp_path / "saldi.csv", ["E-mail,Saldo", "an@example.org,5", "bo@example.org,-5"])
    assert "would import 2 opening balances" in lets("import", "balances", balances, "--dry-run")
    assert Transfer.select().count() == 0 and not Account.select().where(Account.code == OPENING[0]).exists()


def test_importing_the_same_files_again_is_refused_and_books_nothing_twice(lets, tmp_path):
    for kind, name, *more in SCENARIOS["spreadsheet"]:
        lets("import", kind, EXAMPLES / name, *more, "--at", AT)
    before = (Member.select().count(), Transfer.select().count(), Listing.select().count())
    said = lets("import", "members", EXAMPLES / "spreadsheet-nl.csv", code=1)
    assert "spreadsheet-nl.csv:2: renee@example.org is already the address of member 7" in said
    assert "spreadsheet-nl.csv:3: member number 8 is taken by Gerrit Bos" in said
    said = lets("import", "balances", EXAMPLES / "balances-nl.csv", code=1)
    assert "balances-nl.csv:3: member 8 Gerrit Bos has an opening balance already (transfer #2)" in said
    said = lets("import", "listings", EXAMPLES / "listings-en.csv", "--at", AT, code=1)
    assert "listings-en.csv:4: member 12 has this offer already: 'Homemade jam'" in said
    assert (Member.select().count(), Transfer.select().count(), Listing.select().count()) == before


@pytest.mark.parametrize("text, cents", [("12,50", 1250), ("12.5", 1250), ("-1.234,50", -123450),
                                         ("1,234.50", 123450), ("1 234,50", 123450), ("\u22127", -700),
                                         ("1.000.000", 100000000), ("0", 0)])
def test_amounts_are_read_with_a_decimal_comma_or_point(text, cents):
    assert values.amount(text) == cents


@pytest.mark.parametrize("text", ["1.234", "12,345", "1,2,3", "12.5.1", "tien", "", "1.23456,00", "0,005"])
def test_an_amount_that_could_be_read_two_ways_or_not_at_all_is_refused(text):
    with pytest.raises(ValueError):
        values.amount(text)


def test_a_balance_written_as_a_time_says_to_import_with_hours():
    with pytest.raises(ValueError, match=r"'-4:30' is a time, not an amount: for balances in hours add --hours"):
        values.amount("-4:30")


def test_hours_become_units_at_the_rate():
    assert values.amount("1,5", per_hour_cents=1000) == 1500
    assert values.amount("-4:30", per_hour_cents=1000) == -4500
    assert values.amount("0:20", per_hour_cents=1000) == 333


def test_a_file_in_cp1252_or_with_a_byte_order_mark_is_read(lets, tmp_path):
    (tmp_path / "a.csv").write_bytes("Naam;E-mail;Geboortedatum\nJosé Müller;jose@example.org;24-11-2008\n"
                                     .encode("cp1252"))
    (tmp_path / "b.csv").write_bytes(b"\xef\xbb\xbf" + "Nom,Courriel,Date de naissance\nZoë Lefèvre,zoe@example.org,"
                                     "23/11/2008\n".encode())
    (tmp_path / "c.csv").write_bytes("Name\tE-mail\nSam Taylor\tsam@example.org\n".encode())
    assert "cp1252, delimiter ';'" in lets("import", "members", tmp_path / "a.csv", "--at", AT)
    assert "utf-8, delimiter ','" in lets("import", "members", tmp_path / "b.csv", "--at", AT)
    assert "utf-8, delimiter '\\t'" in lets("import", "members", tmp_path / "c.csv", "--at", AT)
    # 18 the day after the import, and on the day of it; no birth date, not known.
    assert {m.name: m.adult for m in Member.select()} == {"José Müller": False, "Zoë Lefèvre": True,
                                                        "Sam Taylor": None}


def test_hours_are_worth_the_groups_guide_rate_unless_told_otherwise(lets, tmp_path):
    lets("member", "add", "Piet Jansen", "piet@example.org")
    hours = write(tmp_path / "uren.csv", ["Lid,Uren", "1,2:30"])
    said = lets("import", "balances", hours, "--hours", "--dry-run")   # settings.ini: guide_rate = 10
    assert "balances together 25.00" in said
    assert "balances together 5.00" in lets("import", "balances", hours, "--hours", "--per-hour", "2", "--dry-run")


@pytest.mark.parametrize("text, kind", [("aanbod", "offer"), ("Vraag", "request"), ("offre", "offer"),
                                        ("demande", "request"), ("1", "offer"), ("0", "request")])
def test_a_listings_kind_is_read_in_each_language_and_as_elas_writes_it(text, kind):
    assert values.listing_kind(text) == kind


def test_a_long_import_on_a_terminal_shows_a_progress_bar(tmp_path, database_url):
    members = write(tmp_path / "leden.csv", ["Naam,E-mail"] + [f"Lid {n},lid{n}@example.org" for n in range(60)])
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("LETS_")}, "PYTHONPATH": str(ROOT),
           "LETS_SETTINGS": str(ROOT / "settings.ini"), "LETS_DATABASE_URL": database_url,
           "LETS_SECURITY_SECRET_FILE": str(tmp_path / "secret.key")}
    lets = [sys.executable, "-m", "mailer.cli"]
    subprocess.run([*lets, "init"], env=env, cwd=tmp_path, check=True, capture_output=True)
    controller, terminal = pty.openpty()
    child = subprocess.Popen([*lets, "import", "members", str(members)], env=env, cwd=tmp_path, stdin=terminal,
                             stdout=terminal, stderr=terminal)
    os.close(terminal)
    shown, deadline = b"", time.monotonic() + 60
    try:
        # Read while it writes: a terminal holds a few kilobytes, then the child would wait on us.
        while time.monotonic() < deadline:
            ready, _, _ = select.select([controller], [], [], 1)
            if not ready:
                continue
            try:
                chunk = os.read(controller, 65536)
            except OSError:   # the child's end is closed: everything was read
                break
            if not chunk:
                break
            shown += chunk
    finally:
        os.close(controller)
        code = child.wait(timeout=60)
    assert code == 0, shown
    assert b"importing members" in shown and b"100%" in shown and b"imported 60 members, 0 skipped" in shown


def test_a_member_reads_the_opening_balance_in_their_own_language(group, lets):
    for kind, name, *more in SCENARIOS["spreadsheet"][:2]:
        lets("import", kind, EXAMPLES / name, *more, "--at", AT)
    group.mail("renee@example.org", "SALDO")
    reply = group.last("renee@example.org").text
    assert "-1\u202f234,50" in reply, reply      # French amounts: a narrow no-break space for thousands
    assert "solde d'ouverture repris de l'ancien système" in reply and "Soldes d'ouverture" in reply, reply
    group.mail("renee@example.org", "BOEKEN")
    assert "Soldes d'ouverture" in group.last("renee@example.org").text
