"""`lets report`: the year's accounts in the unit and in euros, as text or CSV."""
from __future__ import annotations

import csv
import sys

import click

from .cli import main, pass_app


def _amount(row, units: str) -> str:
    if row.kind == "count":
        return str(row.value)
    return f"{row.value / 100:.2f} {'EUR' if row.kind == 'EUR' else units}"


@main.command("report")
@click.option("--year", type=int, help="Default: this year.")
@click.option("--csv", "as_csv", is_flag=True, help="section,label,value,kind rows; amounts in cents.")
@pass_app
def report(app, year, as_csv):
    """Print the year's accounts: contributions, fines, volume traded, balances, euros due and paid.

    Example: lets report --year 2027 --csv > report-2027.csv
    """
    from db.report import build

    from .compose import now_utc

    app.db()
    sections = build(year or now_utc().year)
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
