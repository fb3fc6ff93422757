"""`lets import …`: members, opening balances and listings from another system's CSV export."""
from __future__ import annotations

import sys
from pathlib import Path

import click

from db import importing, ledger
from db.money import to_decimal

from .app import main, moment, pass_app

# Below this many rows an import takes a blink: a progress bar would only flicker.
BAR_FROM = 50


@main.group("import")
def import_group():
    """Move from another system (eLAS/eLAND, Cyclos, CES, a spreadsheet): members, opening
    balances and listings from CSV files, all or nothing."""


def _options(command):
    for option in reversed([
        click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path)),
        click.option("--map", "mapping", multiple=True, metavar="COLUMN=FIELD",
                     help="Read COLUMN as FIELD (COLUMN=- leaves it out); may be repeated."),
        click.option("--dry-run", is_flag=True, help="Check the whole file and say what would be done; change nothing."),
        click.option("--at", "at", default=None,
                     help="The moment of the import (UTC, ISO format; default now): joined and listing dates "
                          "default to its day, opening balances are booked at it."),
        click.option("--by", "entered_by", default="import", help="Who imports, kept with what is made."),
    ]):
        command = option(command)
    return command


@import_group.command("members")
@_options
@click.option("--contacts", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="eLAS/eLAND's contacts export (letscode, abbrev, value): the members' addresses.")
@pass_app
def import_members(app, file, mapping, dry_run, at, entered_by, contacts):
    """Add the members in FILE: name, email, number, language, type, status, joined, 18+, paper.

    A number of the former system is kept as the member number when it is a number and
    free, else recorded, so that balances and listings can name the member by it.
    Example: lets import members leden.csv --map Lidnr=number --dry-run
    Example: lets import members elas-users.csv --contacts elas-contacts.csv
    """
    _run(app, "members", file, mapping, dry_run, at, entered_by,
         contacts=contacts.read_bytes() if contacts else None)


@import_group.command("balances")
@_options
@click.option("--hours", is_flag=True,
              help="The balances are in hours (1,5 or 1:30), each worth --per-hour units.")
@click.option("--per-hour", default=None, help="Units per hour with --hours; default [listings] guide_rate.")
@pass_app
def import_balances(app, file, mapping, dry_run, at, entered_by, hours, per_hour):
    """Book each member's balance in FILE as one transfer with the opening account.

    The opening account holds what the balances do not sum to; the ledger still sums to
    zero and a member is never booked twice.
    Example: lets import balances saldi.csv --dry-run
    Example: lets import balances tijdsaldi.csv --hours --per-hour 10
    """
    rate = None
    if hours:
        rate = _per_hour(app, per_hour)
    elif per_hour is not None:
        raise click.ClickException("--per-hour goes with --hours")
    _run(app, "balances", file, mapping, dry_run, at, entered_by, per_hour_cents=rate)


@import_group.command("listings")
@_options
@pass_app
def import_listings(app, file, mapping, dry_run, at, entered_by):
    """Post the offers and requests in FILE for the members they name (number or address).

    A category the group's list does not know goes to "other", as by mail; a listing
    without an end date runs [listings] days; one that has expired is skipped.
    Example: lets import listings vraag-aanbod.csv
    """
    _run(app, "listings", file, mapping, dry_run, at, entered_by)


def _per_hour(app, given) -> int:
    from db.money import AmountError, parse_amount

    if given is None:
        cents = app.settings.listings.guide_rate_cents
        if not cents:
            raise click.ClickException("--hours needs --per-hour N: the group has no [listings] guide_rate")
        return cents
    try:
        return parse_amount(given)
    except AmountError as exc:
        raise click.ClickException(f"--per-hour {given!r} is not an amount ({exc.code})") from exc


def _run(app, kind, file, mapping, dry_run, at, entered_by, **extra):
    settings = app.settings
    now = moment(at)
    app.db()
    options = importing.Options(today=now.date(), language=settings.group.language,
                                categories=settings.listings.categories, listing_days=settings.listings.days,
                                **extra)
    try:
        plan = importing.plan(kind, file.read_bytes(), source=file.name, options=options, mapping=mapping)
    except importing.ImportRefused as exc:
        raise _refused(exc, file) from None
    _describe(plan, file)
    noun = {"members": "members", "balances": "opening balances", "listings": "listings"}[kind]
    if dry_run:
        click.echo(f"dry run: would import {len(plan.items)} {noun}, {len(plan.skipped)} skipped; nothing changed")
        return
    try:
        if sys.stderr.isatty() and len(plan.items) >= BAR_FROM:
            with click.progressbar(length=len(plan.items), label=f"importing {noun}", file=sys.stderr) as bar:
                done = importing.apply(plan, now=now, entered_by=entered_by, limits=settings.limits,
                                       progress=bar.update)
        else:
            done = importing.apply(plan, now=now, entered_by=entered_by, limits=settings.limits)
    except importing.ImportRefused as exc:   # someone else wrote the same member meanwhile
        raise _refused(exc, file) from None
    click.echo(f"imported {done} {noun}, {len(plan.skipped)} skipped")
    if kind == "balances":
        problems = ledger.check()
        click.echo("the ledger sums to zero" if not problems else "; ".join(problems))


def _describe(plan, file) -> None:
    table = plan.table
    click.echo(f"{file.name}: {len(table.rows)} rows, {table.encoding}, delimiter {table.delimiter!r}")
    click.echo("columns: " + ", ".join(f"{column} → {target}" for column, target in table.columns.items()))
    if table.unused:
        click.echo("not imported: " + ", ".join(table.unused))
    for line, why in plan.skipped:
        click.echo(f"skipped line {line}: {why}")
    for note in plan.notes:
        click.echo(note)
    if plan.kind == "balances":
        total = plan.total_cents
        click.echo(f"balances together {to_decimal(total)}; the opening account takes {to_decimal(-total)}"
                   + ("" if total == 0 else " (the file's balances do not sum to zero)"))


def _refused(exc, file) -> click.ClickException:
    """Every problem on a line of its own, as FILE:LINE: so an editor can jump to it."""
    for line, text in exc.problems:
        click.echo(f"{file.name}:{line}: {text}" if line else f"{file.name}: {text}", err=True)
    bad = len({line for line, _ in exc.problems if line})
    return click.ClickException(f"nothing imported: {_rows(bad)} with problems" if bad else "nothing imported")


def _rows(count: int) -> str:
    return f"{count} row" + ("" if count == 1 else "s")
