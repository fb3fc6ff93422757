"""`lets report --html`: the year's report for the general meeting, figure for figure the
CSV's, with charts of the volume per month and per category and of the members' balances,
in the group's language, and a page a browser draws and prints."""
import csv
import datetime as dt
import io
import json
import re
import shutil
import subprocess
from html.parser import HTMLParser

import pytest

from db import budgets, euro, ledger, members, report
from db.models import Listing
from tests.test_euro import OLD, day, lets, settings  # noqa: F401  (the euro settings)

AT = "2028-01-15"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
# (month, payer, payee, units, category or None): a year of trades among eight members.
TRADES = [
    (1, 0, 1, 15, "garden"), (1, 2, 3, 20, "transport"), (2, 1, 4, 35, "odd-jobs"),
    (2, 5, 0, 10, None), (3, 3, 6, 25, "garden"), (3, 7, 2, 40, "lessons"), (4, 4, 5, 12, "transport"),
    (4, 6, 7, 18, "garden"), (5, 0, 2, 30, "odd-jobs"), (5, 1, 3, 22, None), (6, 2, 4, 50, "lessons"),
    (6, 3, 5, 8, "garden"), (7, 4, 6, 16, "transport"), (8, 5, 7, 45, "odd-jobs"), (8, 6, 0, 27, "garden"),
    (9, 7, 1, 33, "lessons"), (9, 0, 3, 14, "transport"), (10, 1, 5, 60, "odd-jobs"), (10, 2, 6, 9, None),
    (11, 3, 7, 21, "garden"), (11, 4, 0, 26, "lessons"), (12, 5, 1, 38, "transport"), (12, 6, 2, 11, "garden"),
]
NAMES = ["An de Vries", "Piet Jansen", "Claire Dubois", "Sam Taylor", "Mia Peeters", "Jo Claes",
         "Lea Martin", "Tom Maes"]


@pytest.fixture
def year(group, settings):
    """2027 in a group of eight: 23 trades over twelve months, most for an offer in a
    category, one in 2026 and one in 2028 that the report of 2027 leaves out; euro payments
    and a budget."""
    people = [group.member(name, f"m{i}@example.org", joined=OLD) for i, name in enumerate(NAMES)]
    accounts = [members.account(person) for person in people]
    listings = {}
    dated = [(dt.datetime(2027, month, 3, 10), *trade) for month, *trade in TRADES]
    outside = [(dt.datetime(2026, 12, 3, 10), 0, 1, 5, "garden"), (dt.datetime(2028, 1, 3, 10), 1, 0, 7, "garden")]
    for when, payer, payee, units, category in dated + outside:
        listing = None
        if category:
            listing = listings.get((payee, category)) or Listing.create(
                member=people[payee], kind="offer", title=f"{category} {payee}", category=category,
                expires=dt.date(2029, 1, 1))
            listings[(payee, category)] = listing
        transfer = ledger.propose(accounts[payer], accounts[payee], units * 100, f"trade {when:%m}",
                                  limits=settings.limits, now=when, initiator="payer", entered_by="admin",
                                  listing=listing)
        ledger.book(transfer, limits=settings.limits, now=when)
    day(settings, dt.date(2027, 1, 2))
    euro.record_payment(people[0], 1800, on=dt.date(2027, 2, 1), entered_by="t")
    tuin = budgets.create("tuin", people[0])
    budgets.allocate(tuin, 1000, settings=settings, now=dt.datetime(2027, 4, 1), entered_by="admin")
    return people


def csv_rows(settings, *args):
    result = lets(settings, "report", "--year", "2027", "--at", AT, "--csv", *args)
    assert result.exit_code == 0, result.output
    return [(row["section"], row["label"], int(row["value"]), row["kind"])
            for row in csv.DictReader(io.StringIO(result.output))]


class Figures(HTMLParser):
    """The figures a page carries: table cells with data-section, chart bars by chart."""

    def __init__(self):
        super().__init__()
        self.cells, self.bars, self.chart = [], {}, None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if "data-section" in attrs:
            self.cells.append((attrs["data-section"], attrs["data-label"], int(attrs["data-value"]),
                               attrs["data-kind"]))
        if tag == "svg" and "data-chart" in attrs:
            self.chart = attrs["data-chart"]
            self.bars[self.chart] = []
        if tag == "g" and "data-value" in attrs:
            self.bars[self.chart].append((attrs["data-label"], int(attrs["data-value"])))


def page(settings, env=None):
    result = lets(settings, "report", "--year", "2027", "--at", AT, "--html", env=env)
    assert result.exit_code == 0, result.output
    return result.output


def test_the_report_counts_the_volume_per_month_and_per_category_and_the_balances_in_bands(year):
    sections = {section.name: section for section in report.build(2027, today=dt.date(2028, 1, 15))}
    months = {row.label: row.value for row in sections["volume-month"].rows}
    assert list(months) == [f"2027-{m:02d}" for m in range(1, 13)]
    for month in range(1, 13):
        assert months[f"2027-{month:02d}"] == sum(u * 100 for m, _, _, u, _ in TRADES if m == month)
    categories = {row.label: row.value for row in sections["volume-category"].rows}
    assert categories == {"garden": 12500, "transport": 10000, "odd-jobs": 17000, "lessons": 14900, "none": 4100}
    assert [row.label for row in sections["volume-category"].rows][0] == "odd-jobs"     # the largest first
    assert sum(categories.values()) == dict((r.label, r.value) for r in sections["volume"].rows)["volume"]
    bands = sections["balance-distribution"].rows
    assert sum(row.value for row in bands) == len(NAMES)
    low, high = (int(n) for n in bands[0].label.split(" to "))
    width = high - low
    balances = [value for label, value in ((r.label, r.value) for r in sections["balances"].rows)
                if label.split(" ", 1)[0].isdigit()]
    for band in bands:
        low, high = (int(n) * 100 for n in band.label.split(" to "))
        assert high - low == width * 100
        assert band.value == sum(1 for cents in balances if low <= cents < high)


def test_every_figure_on_the_page_is_the_csv_s(year, settings):
    rows = csv_rows(settings)
    figures = Figures()
    figures.feed(page(settings))
    assert figures.cells == rows
    for chart in ("volume-month", "volume-category", "balance-distribution"):
        assert figures.bars[chart] == [(label, value) for section, label, value, _ in rows if section == chart]


def test_the_page_speaks_the_group_s_language_and_writes_amounts_as_its_readers_do(year, settings):
    dutch = page(settings)
    assert "<html lang=\"nl\">" in dutch and "Jaarverslag 2027" in dutch and "Omzet per rubriek" in dutch
    assert "125,00 zonnen" in dutch and "Tuin" in dutch and "zonder rubriek" in dutch and ">maart<" in dutch and ">mrt<" in dutch
    assert "€\xa018,00" in dutch
    french = page(settings, env={"LETS_GROUP_LANGUAGE": "fr"})
    assert "Rapport annuel 2027" in french and "Jardin" in french and "sans rubrique" in french
    assert "18,00\xa0€" in french
    english = page(settings, env={"LETS_GROUP_LANGUAGE": "en"})
    assert "Annual report 2027" in english and "125.00 zonnen" in english and "€18.00" in english


def test_the_page_has_no_script_and_prints_on_a4(year, settings):
    html = page(settings)
    assert "<script" not in html
    assert "@media print" in html and "size: A4" in html
    assert html.count("<svg") == 3


def test_csv_and_html_together_are_refused(year, settings):
    result = lets(settings, "report", "--csv", "--html")
    assert result.exit_code != 0 and "choose --csv or --html" in result.output


# Measures the page as the browser laid it out, written into the DOM for --dump-dom.
MEASURE = """<script>
document.body.dataset.sizes = JSON.stringify([...document.querySelectorAll("svg.chart")].map(svg => {
  const box = svg.getBoundingClientRect();
  const bars = [...svg.querySelectorAll("g.bar")].map(g => {
    const r = g.querySelector("rect").getBoundingClientRect();
    return [g.dataset.value, r.width, r.height];
  });
  return {chart: svg.dataset.chart, width: box.width, height: box.height, bars: bars};
}));
</script>"""


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed")
def test_chromium_draws_the_charts_and_prints_the_page(year, settings, tmp_path):
    html = page(settings)
    report_file = tmp_path / "jaarverslag.html"
    report_file.write_text(html, encoding="utf-8")
    measured = tmp_path / "measured.html"
    measured.write_text(html.replace("</body>", MEASURE + "</body>"), encoding="utf-8")
    browser = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
               f"--user-data-dir={tmp_path / 'profile'}"]
    dom = subprocess.run([*browser, "--dump-dom", measured.as_uri()], capture_output=True, text=True,
                         timeout=120, check=True).stdout
    sizes = json.loads(re.search(r'data-sizes="([^"]*)"', dom).group(1).replace("&quot;", '"'))
    assert [chart["chart"] for chart in sizes] == ["volume-month", "volume-category", "balance-distribution"]
    for chart in sizes:
        assert chart["width"] > 300 and chart["height"] > 50, chart
        for value, width, height in chart["bars"]:
            # A bar for a figure above zero is drawn; one for zero is not.
            assert (width > 0 and height > 0) == (int(value) > 0), (chart["chart"], value, width, height)
    pdf = tmp_path / "jaarverslag.pdf"
    subprocess.run([*browser, "--no-pdf-header-footer", f"--print-to-pdf={pdf}", str(report_file)],
                   capture_output=True, timeout=120, check=True)
    assert pdf.read_bytes().startswith(b"%PDF") and pdf.stat().st_size > 10_000
    screenshot = tmp_path / "jaarverslag.png"
    subprocess.run([*browser, "--window-size=800,2400", f"--screenshot={screenshot}", report_file.as_uri()],
                   capture_output=True, timeout=120, check=True)
    assert screenshot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_a_dutch_or_french_report_holds_no_english_word(year, settings):
    from tests.test_templates_words import english_words, readable

    def words(language):
        html = page(settings, env={"LETS_GROUP_LANGUAGE": language})
        return english_words(readable("", "", html.split("</style>", 1)[1]))

    assert words("en")          # the check sees the English page's words
    assert words("nl") == [] and words("fr") == []


def test_every_row_of_a_section_has_a_name_of_its_own_and_the_opening_account_is_named(year, settings, tmp_path):
    """Found on a tour: the Dutch and French pages called the euro section's refunds and the
    money paid back by the same word, and showed the opening account as `opening`."""
    saldi = tmp_path / "saldi.csv"
    saldi.write_text("Lidnummer;Saldo\n1;5\n2;-7,50\n")
    imported = lets(settings, "import", "balances", str(saldi), "--at", "2026-12-01T10:00")
    assert imported.exit_code == 0, imported.output
    for language, opening in (("nl", "Beginsaldi"), ("fr", "Soldes d'ouverture"), ("en", "Opening balances")):
        html = page(settings, env={"LETS_GROUP_LANGUAGE": language})
        for section in re.findall(r'<section id="([^"]+)">(.*?)</section>', html, re.S):
            labels = re.findall(r"<tr><td>(.*?)</td>", section[1], re.S)
            assert len(labels) == len(set(labels)), (language, section[0], labels)
        assert f"<tr><td>{opening}</td>" in html, language
