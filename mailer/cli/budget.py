"""`lets budget …`: budgets in the unit for the core group and working groups."""
from __future__ import annotations

import click

from db import budgets, ledger, write_transaction
from db.money import AmountError, parse_amount, to_decimal

from db.models import Account

from ..message.compose import now_utc
from .app import ledger_error, main, member_of, pass_app
from .words import not_an_amount, units


@main.group()
def budget():
    """Budgets of the core group and working groups: create, allocate, list."""


@budget.command("create")
@click.argument("name")
@click.option("--holder", required=True, help="The member (number or address) who approves claims.")
@pass_app
def budget_create(app, name, holder):
    """Create a budget (a system account budget:NAME) whose holder approves claims by mail.

    Example: lets budget create ledenadministratie --holder 3
    """
    app.db()
    found = member_of(holder)
    try:
        with write_transaction():
            created = budgets.create(name, found)
    except budgets.BudgetError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"budget {created.name}: holder {found.number} {found.name}")


@budget.command("allocate")
@click.argument("name")
@click.argument("amount")
@click.option("--by", "entered_by", default="admin", help="Who allocates, shown in the journal.")
@pass_app
def budget_allocate(app, name, amount, entered_by):
    """Move AMOUNT of the unit from the association account into a budget.

    Example: lets budget allocate ledenadministratie 200
    """
    app.db()
    found = budgets.by_name(name)
    if found is None:
        raise click.ClickException(f"no budget {name}")
    try:
        booking = budgets.allocate(found, parse_amount(amount), settings=app.settings, now=now_utc(),
                                   entered_by=entered_by)
    except AmountError as exc:
        raise not_an_amount(amount, exc.code) from exc
    except ledger.LedgerError as exc:
        raise ledger_error(exc, app.settings, Account.get(Account.code == "association")) from exc
    click.echo(f"booked #{booking.transfer.number}; {found.name} holds {units(app.settings, budgets.balance(found))}")


@budget.command("list")
@click.option("--year", type=int, default=None, help="Allocated and spent in this year (default: this year).")
@pass_app
def budget_list(app, year):
    """Each budget with its holder, what was allocated and spent this year, and what is left.

    Example: lets budget list --year 2026
    """
    app.db()
    year = year or now_utc().year
    for row in budgets.summaries(year):
        holder = row.budget.holder
        click.echo(f"{row.budget.name:<24} holder {holder.number} {holder.name:<24} "
                   f"allocated {to_decimal(row.allocated):>9}  spent {to_decimal(row.spent):>9}  "
                   f"left {to_decimal(row.balance):>9}")
