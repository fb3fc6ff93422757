"""`lets report --html`: the year's report for the general meeting as one printable page.

The figures are those of `lets report --csv` (db/report.py), each carried on its table
cell as data attributes, so the page can be checked against the CSV; the charts are
inline SVG from mailer/paper/report_charts.py. The words are in templates/report/year.html, each
language's in the catalogues (templates/locale/).
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from babel.dates import format_date
from babel.numbers import format_decimal

from db.report import COUNT, EUR, NO_CATEGORY, Section

from . import report_charts
from ..message.compose import LOCALES, Composer, _format_euro, _format_money

# The rows of the budgets section are "<budget> allocated|spent|left": the budget's name
# is the group's, the word after it is translated.
BUDGET_WORDS = ("allocated", "spent", "left")


@dataclass(frozen=True)
class Line:
    section: str
    label: str          # as in the CSV
    value: int
    kind: str
    key: str            # the word to translate (the label, or its last word for a budget)
    name: str           # what stays as it is: a budget's name, a category's name
    text: str           # the value as the reader writes it


def _text(value: int, kind: str, locale: str, units: str) -> str:
    if kind == COUNT:
        return str(value)
    if kind == EUR:
        return _format_euro(value, locale)
    return f"{_format_money(value, locale)} {units}"


def _line(section: Section, row, settings, language: str, locale: str) -> Line:
    key, name = row.label, ""
    if section.name == "budgets" and row.label.rsplit(" ", 1)[-1] in BUDGET_WORDS and " " in row.label:
        name, key = row.label.rsplit(" ", 1)
    elif section.name == "volume-category" and row.label != NO_CATEGORY:
        name, key = settings.listings.categories.name(row.label, language), ""
    elif section.name == "volume-month":
        year, month = (int(part) for part in row.label.split("-"))
        name, key = format_date(dt.date(year, month, 1), "LLLL", locale=locale), ""
    elif section.name == "balances" and row.label.startswith("budget:"):
        key, name = "budget", row.label.split(":", 1)[1]      # a budget's account, by its name
    elif section.name == "balance-distribution":
        name, key = row.label.replace(" to ", " … "), ""
    return Line(section.name, row.label, row.value, row.kind, key, name,
                _text(row.value, row.kind, locale, settings.group.units))


def _charts(lines: dict[str, list[Line]], locale: str) -> dict[str, report_charts.Chart]:
    def items(name, short=lambda line: line.name or line.key):
        return [(line.label, line.value, short(line), line.text) for line in lines.get(name, [])]

    def whole_units(cents: int) -> str:
        return format_decimal(cents // 100, "#,##0", locale=locale)

    def month(line: Line) -> str:
        year, number = (int(part) for part in line.label.split("-"))
        return format_date(dt.date(year, number, 1), "LLL", locale=locale)

    return {
        "volume-month": report_charts.columns(items("volume-month", month), whole_units, whole=100),
        "volume-category": report_charts.bars(items("volume-category")),
        "balance-distribution": report_charts.columns(items("balance-distribution"), str),
    }


def render(settings, sections: list[Section], year: int, today: dt.date) -> str:
    """The report page in the group's language."""
    language = settings.group.language
    locale = LOCALES.get(language, "nl_NL")
    lines = {section.name: [_line(section, row, settings, language, locale) for row in section.rows]
             for section in sections}
    composer = Composer(settings)
    return composer.env.get_template(composer.source("report/year", "html")).render(
        composer.common(language), year=year, today=today, sections=sections, lines=lines,
        charts=_charts(lines, locale))
