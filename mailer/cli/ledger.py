"""`lets ledger …`, `lets trade`, `lets set-limits`: the journal of transfers and the limits."""
from __future__ import annotations

import sys

import click


from .app import ledger_error, main, member_of, moment, pass_app


@main.group()
def ledger():
    """The journal of transfers: check, verify, reverse."""


@ledger.command("check")
@pass_app
def ledger_check(app):
    """Check that every balance equals its booked transfers and that all sum to zero.

    Exits 1 and names each problem when they do not. Example: lets ledger check
    """
    from db import ledger as journal

    app.db()
    problems = journal.check()
    for problem in problems:
        click.echo(problem, err=True)
    if problems:
        sys.exit(1)
    click.echo("balances match the booked transfers and sum to zero")


@ledger.command("verify")
@pass_app
def ledger_verify(app):
    """Recompute the journal's hash chain and name the first broken row.

    Example: lets ledger verify
    """
    from db import ledger as journal

    from db.models import Transfer

    from .progress import progress

    app.db()
    with progress("transfers", Transfer.select().where(Transfer.number.is_null(False)).count()) as advance:
        checked, broken = journal.verify(on_rows=advance)
    if broken:
        click.echo(f"broken after {checked} good transfers: {broken}", err=True)
        sys.exit(1)
    click.echo(f"{checked} booked transfers verified; head {journal.head_hash()}")


@ledger.command("reverse")
@click.argument("number", type=int)
@click.option("--by", "entered_by", default="admin", help="Who enters the correction.")
@pass_app
def ledger_reverse(app, number, entered_by):
    """Correct a booked transfer with a new, reversing one (the original stays).

    Example: lets ledger reverse 12
    """
    from db import ledger as journal

    from ..runs import trades
    from ..message.compose import now_utc

    app.db()
    try:
        booking = trades.reverse(app.settings, number, now=now_utc(), entered_by=entered_by)
    except journal.LedgerError as exc:
        raise ledger_error(exc, app.settings) from exc
    click.echo(f"booked #{booking.transfer.number}")


@main.command()
@click.argument("payer")
@click.argument("payee")
@click.argument("amount")
@click.argument("description")
@click.option("--by", "entered_by", default="admin", help="Who enters it, shown on statements.")
@click.option("--at", "at", default=None,
              help="When the trade was made (UTC, ISO format; default now), for a paper trade entered later.")
@pass_app
def trade(app, payer, payee, amount, description, entered_by, at):
    """Book a trade made on paper or by phone at once and mail both members a receipt.

    PAYER and PAYEE are member numbers, addresses, or a system account (solidarity).
    Example: lets trade 3 piet@example.org 12,50 "fietsherstel"
    Example: lets trade 3 7 20 "snoeien" --at 2027-03-14T10:00
    """
    from db import ledger as journal
    from db.money import AmountError, parse_amount

    from ..runs import trades
    from .words import not_an_amount
    from ..message.compose import now_utc

    now = moment(at) if at else now_utc()
    app.db()
    try:
        cents = parse_amount(amount)
        booking = trades.enter(app.settings, payer, payee, cents, description, now=now,
                               entered_by=entered_by)
    except AmountError as exc:
        raise not_an_amount(amount, exc.code) from exc
    except journal.LedgerError as exc:
        payer_account = None if exc.code != "over-lower" else trades.account_for(payer)
        raise ledger_error(exc, app.settings, payer_account) from exc
    if booking.state == "open":
        from .words import holder
        click.echo(f"kept open: {holder(booking.transfer.payee)} would go over the upper limit; it is booked by itself, "
                   f"oldest first, once there is room (transfer id {booking.transfer.id})")
    else:
        click.echo(f"booked #{booking.transfer.number}")


@main.command("set-limits")
@click.argument("member_key")
@click.option("--lower", help="The member's own lower limit, e.g. -500.")
@click.option("--upper", help="The member's own upper limit, e.g. 500.")
@pass_app
def set_limits(app, member_key, lower, upper):
    """Give one member limits of their own, overriding the member type's.

    Example: lets set-limits 3 --lower -500 --upper 800
    """
    from db import limits
    from db.money import AmountError, parse_amount

    app.db()
    member_row = member_of(member_key)

    def cents(text):
        if text is None:
            return None
        try:
            value = parse_amount(text.lstrip("-"), allow_zero=True)
        except AmountError as exc:
            raise not_an_amount(text, exc.code) from exc
        return -value if text.strip().startswith("-") else value

    from .words import member, not_an_amount, units
    from ..message.compose import now_utc

    limits.set_own(member_row, cents(lower), cents(upper))
    low, high = limits.for_member(member_row, app.settings.limits, now_utc().date())
    click.echo(f"{member(member_row)}: {units(app.settings, low)} to {units(app.settings, high)}")
