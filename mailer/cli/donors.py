"""`lets donor …`: the donor register (article 6), gifts and their receipts."""
from __future__ import annotations

import csv
import sys

import click

from db import donors, write_transaction

from ..message.compose import Composer
from ..outbound.outbox import enqueue
from .app import main, pass_app
from .euro import _cents, _day


@main.group("donor")
def donor():
    """Donors (article 6): give euros to the association; not members, no account, no digest."""


def _donor(key: str):
    found = donors.find(key)
    if found is None:
        raise click.ClickException(f"no donor {key}")
    return found


def _period(row) -> str:
    return f"EUR {row.amount_cents / 100:.2f} a {row.every}" if row.every else "now and then"


@donor.command("add")
@click.argument("name")
@click.argument("address")
@click.option("--amount", default=None, help="The periodic gift in euros, e.g. 25,00.")
@click.option("--every", type=click.Choice(donors.EVERY), default=None, help="How often the gift comes.")
@click.option("--language", default=None, type=click.Choice(["nl", "en", "fr", "de"]),
              help="For the receipts; defaults to the group's language.")
@pass_app
def donor_add(app, name, address, amount, every, language):
    """Register a donor and print the donor's number.

    Example: lets donor add "Stichting Buurtkracht" info@buurtkracht.example --amount 25 --every quarter
    """
    app.db()
    try:
        with write_transaction():
            row = donors.add(name, address, language=language or app.settings.group.language,
                             amount_cents=_cents(amount) if amount else 0, every=every or "")
    except donors.DonorError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(row.id)


@donor.command("list")
@click.option("--csv", "as_csv", is_flag=True, help="number,name,address,language,amount_cents,every,given_cents")
@click.option("--year", type=int, default=None, help="The year of the gifts shown (default this year).")
@pass_app
def donor_list(app, as_csv, year):
    """The donors on the register with their periodic gift and what they gave in the year.

    Example: lets donor list --csv --year 2027 > donors.csv
    """
    from ..message.compose import now_utc

    app.db()
    year = year or now_utc().year
    writer = csv.writer(sys.stdout, lineterminator="\n") if as_csv else None
    if writer:
        writer.writerow(["number", "name", "address", "language", "amount_cents", "every", "given_cents"])
    for row in donors.current():
        given = donors.given(row, year)
        if writer:
            writer.writerow([row.id, row.name, row.address, row.language, row.amount_cents, row.every, given])
        else:
            click.echo(f"{row.id:>5}  {row.name:<30} {row.address:<32} {row.language}  {_period(row):<22} "
                       f"given {year}: EUR {given / 100:.2f}")


@donor.command("paid")
@click.argument("donor_key")
@click.argument("amount")
@click.option("--date", "on", default=None, help="The day the gift came in (default today).")
@click.option("--by", "entered_by", default="admin", help="Who records it.")
@pass_app
def donor_paid(app, donor_key, amount, on, entered_by):
    """Record a donor's gift and mail the donor a receipt in their language.

    Example: lets donor paid 3 25,00 --date 2027-01-05
    """
    app.db()
    row = _donor(donor_key)
    day = _day(on)
    cents = _cents(amount)
    try:
        with write_transaction():
            gift = donors.pay(row, cents, on=day, entered_by=entered_by)
            context = {"name": row.name, "amount": cents, "paid_on": day, "year": day.year,
                       "year_total": donors.given(row, day.year)}
            enqueue(Composer(app.settings).compose("donor/receipt", row.language, context, to=row.address,
                                                   kind="donor/receipt"))
    except donors.DonorError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"donor {row.id} {row.name}: EUR {gift.amount_cents / 100:.2f} on {day}; receipt to {row.address}")


@donor.command("remove")
@click.argument("donor_key")
@pass_app
def donor_remove(app, donor_key):
    """Take a donor off the register; their gifts stay in the report.

    Example: lets donor remove 3
    """
    from ..message.compose import now_utc

    app.db()
    row = _donor(donor_key)
    with write_transaction():
        donors.remove(row, on=now_utc().date())
    click.echo(f"donor {row.id} {row.name}: removed")
