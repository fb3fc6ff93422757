"""`lets report`: the year's accounts in the unit and in euros, as text, CSV or a printable page."""
from __future__ import annotations

import csv
import sys

import click

from .app import main, pass_app


def _amount(row, units: str) -> str:
    if row.kind == "count":
        return str(row.value)
    return f"{row.value / 100:.2f} {'EUR' if row.kind == 'EUR' else units}"


@main.command("report")
@click.option("--year", type=int, help="Default: this year.")
@click.option("--csv", "as_csv", is_flag=True, help="section,label,value,kind rows; amounts in cents.")
@click.option("--html", "as_html", is_flag=True,
              help="One printable page with charts, in the group's language, for the general meeting.")
@click.option("--at", "at", default=None, help="Act as on this day (YYYY-MM-DD; default today).")
@pass_app
def report(app, year, as_csv, as_html, at):
    """Print the year's accounts: contributions, fines, volume traded (per month, per category),
    balances and their distribution, euros due and paid, budgets.

    Example: lets report --year 2027 --csv > report-2027.csv
    Example: lets report --year 2027 --html > jaarverslag-2027.html
    """
    import datetime as dt

    from db.report import build

    from ..message.compose import now_utc

    if as_csv and as_html:
        raise click.ClickException("choose --csv or --html, not both")
    try:
        today = dt.date.fromisoformat(at) if at else now_utc().date()
    except ValueError as exc:
        raise click.ClickException(f"--at {at!r}: expected a date such as 2028-03-01") from exc
    app.db()
    year = year or today.year
    sections = build(year, today=today)
    if as_html:
        from ..paper.report_html import render

        click.echo(render(app.settings, sections, year, today), nl=False)
        return
    if as_csv:
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(["section", "label", "value", "kind"])
        for section in sections:
            writer.writerows([section.name, row.label, row.value, row.kind] for row in section.rows)
        return
    for section in sections:
        click.echo(f"\n{section.title}")
        for row in section.rows:
            click.echo(f"  {row.label:<40} {_amount(row, app.settings.group.units):>16}")
