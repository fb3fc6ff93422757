"""`lets euro …`: income categories, payments, postponements, waivers, status, the run."""
from __future__ import annotations

import csv
import datetime as dt
import sys

import click

from db import euro, members
from db.models import Member

from .app import main, pass_app
from .words import euros
from .words import member as who


@main.group("euro")
def euro_group():
    """The euro contribution and registration fee: categories, payments, reminders."""


def _member(key: str) -> Member:
    """A member by number, address, or payment reference (LETS-2027-0042-53)."""
    found = euro.parse_reference(key)
    member = Member.get_or_none(Member.number == found[0]) if found else members.by_number_or_address(key)
    if member is None:
        raise click.ClickException(f"no member {key}")
    return member


def _cents(text: str) -> int:
    from db.money import AmountError, parse_amount

    try:
        return parse_amount(text.replace("€", ""))
    except AmountError as exc:
        from .words import not_an_amount

        raise not_an_amount(text, exc.code) from exc


def _day(value: str | None) -> dt.date:
    from ..message.compose import now_utc

    if not value:
        return now_utc().date()
    try:
        return dt.date.fromisoformat(value)
    except ValueError as exc:
        raise click.ClickException(f"{value!r}: expected a date such as 2027-03-01") from exc


def _moment(day: dt.date | None) -> dt.datetime:
    """The time a command acts at: now, or noon UTC of the --date given (so steps are stamped that day)."""
    from ..message.compose import now_utc

    if day is None:
        return now_utc()
    return dt.datetime.combine(day, dt.time(12))    # naive UTC, as now_utc()


@euro_group.command("category")
@click.argument("member_key")
@click.argument("category", type=click.Choice(euro.CATEGORIES, case_sensitive=False))
@pass_app
def euro_category(app, member_key, category):
    """Set a member's income category: A up to the minimum wage, B up to the set income, C above.

    Example: lets euro category 42 B
    """
    app.db()
    member = euro.set_category(_member(member_key), category)
    click.echo(f"{member.name}: income category {member.income_category}")


@euro_group.command("paid")
@click.argument("member_key")
@click.argument("amount")
@click.option("--date", "on", help="The day the money arrived (default today).")
@click.option("--year", type=int, help="Count it for this year (default: the oldest unpaid year).")
@click.option("--by", "entered_by", default="admin", help="Who records it.")
@pass_app
def euro_paid(app, member_key, amount, on, year, entered_by):
    """Record a payment in euros (part payments too) and mail the member a receipt.

    MEMBER is a number, an address or the payment reference. A leaving or settling member
    who owes nothing more after it leaves at once. Example: lets euro paid 42 27,00 --date 2027-02-03
    """
    from db import write_transaction

    from ..runs import euro as euro_mail
    from ..runs import membership
    from ..runs.trades import queue

    app.db()
    member, cents, day = _member(member_key), _cents(amount), _day(on)
    with write_transaction():
        rows = euro.record_payment(member, cents, on=day, entered_by=entered_by, year=year)
        receipt = euro_mail.receipt(member, rows, app.settings, day)
        queue([receipt] if receipt else [], app.settings)
        ended = membership.leave_if_done(app.settings, member, now=_moment(day if on else None))
    owed = euro.outstanding_by_year(member)
    # Said, not refused: a member may pay ahead. But [euro] amounts are written in cents,
    # and `lets euro paid 14 1800` booked € 1.800,00 with "still owed € 0,00" and no word.
    over = -sum(min(0, v) for v in owed.values())
    click.echo(f"{who(member)}: paid {euros(app.settings, cents)} for {', '.join(str(r.year) for r in rows)}; "
               f"still owed {euros(app.settings, sum(max(0, v) for v in owed.values()))}"
               + (f"; {euros(app.settings, over)} more than owed: AMOUNT is in euros, e.g. 18,00"
                  if over else "")
               + ("; the membership has ended" if ended else ""))


@euro_group.command("waive")
@click.argument("member_key")
@click.argument("amount")
@click.option("--reason", required=True, help="Why the amount is forgiven.")
@click.option("--year", type=int, help="The year (default: the oldest unpaid year).")
@click.option("--by", "entered_by", default="admin", help="Who decides.")
@pass_app
def euro_waive(app, member_key, amount, reason, year, entered_by):
    """Forgive part or all of a member's euro debt for a year, with a reason.

    Example: lets euro waive 42 2,50 --reason "surcharge: bank delay"
    """
    app.db()
    member = _member(member_key)
    try:
        row = euro.waive(member, _cents(amount), reason, on=_day(None), entered_by=entered_by, year=year)
    except euro.WaiverTooLarge as exc:
        raise click.ClickException(f"{who(member)} owes {euros(app.settings, exc.owed)} for {exc.year}; "
                                   f"{euros(app.settings, exc.amount)} cannot be waived") from exc
    except euro.EuroError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"{who(member)}: waived {euros(app.settings, row.amount_cents)} for {row.year}; "
               f"still owed {euros(app.settings, euro.outstanding_cents(member, row.year))}")


@euro_group.command("postpone")
@click.argument("member_key")
@click.option("--until", "until", required=True, help="Reminders count from this day (YYYY-MM-DD).")
@click.option("--reason", required=True, help="Why the member may pay later.")
@click.option("--year", type=int, help="The year (default: the oldest unpaid year).")
@click.option("--by", "entered_by", default="admin", help="Who decides.")
@pass_app
def euro_postpone(app, member_key, until, reason, year, entered_by):
    """Give a member until a date: reminders, the core group's notice and the fine move with it.

    Example: lets euro postpone 42 --until 2027-06-30 --reason "paid in instalments"
    """
    from ..message.compose import now_utc

    app.db()
    member = _member(member_key)
    try:
        row = euro.postpone(member, _day(until), reason, entered_by=entered_by, now=now_utc(), year=year)
    except euro.EuroError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"{member.name}: {row.year} postponed until {row.until.isoformat()}")


STATUS_COLUMNS = ("number", "name", "category", "charged", "paid", "waived", "owed", "postponed", "step")


@euro_group.command("status")
@click.option("--year", type=int, help="Default: this year.")
@click.option("--csv", "as_csv", is_flag=True, help="Comma-separated, amounts in cents.")
@pass_app
def euro_status(app, year, as_csv):
    """List who owes what for a year: charged, paid, waived, still owed, the last step taken.

    Example: lets euro status --year 2027 --csv
    """
    from db.report import status

    app.db()
    year = year or _day(None).year
    rows = status(year)
    if as_csv:
        writer = csv.DictWriter(sys.stdout, fieldnames=STATUS_COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
        return
    if not rows:
        # An empty screen read as "something broke"; say why there is nothing to list.
        first = app.settings.euro.first_year
        if not first:
            click.echo("the euro contribution is off: [euro] first_year is not set")
        elif year < first:
            click.echo(f"nothing is due for {year}: the euro contribution starts in {first} ([euro] first_year)")
        else:
            click.echo(f"nobody has been charged in euros for {year} yet")
    for row in rows:
        postponed = f" postponed until {row['postponed']}" if row["postponed"] else ""
        click.echo(f"{row['number']:>5}  {row['name']:<30} {row['category']}  charged {row['charged'] / 100:>8.2f}"
                   f"  paid {row['paid'] / 100:>8.2f}  waived {row['waived'] / 100:>7.2f}"
                   f"  owed {row['owed'] / 100:>8.2f}  {row['step']}{postponed}")


@euro_group.command("run")
@click.option("--date", "on", help="Act as on this day (default today); for a run missed by days.")
@pass_app
def euro_run(app, on):
    """Send what is due: January notices, reminders with surcharges, the core group's notices, fines.

    `lets serve` does this daily; every step is taken once. Example: lets euro run
    """
    from ..runs import euro as euro_mail
    from ..runs.dues import local_date

    from .progress import progress

    app.db()
    now = _moment(_day(on) if on else None)
    try:
        with progress("members") as advance:
            outcome = euro_mail.run(app.settings, now, _day(on) if on else local_date(app.settings, now),
                                    on_member=advance)
    except euro.EuroError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"notices {outcome.notices}, reminders {outcome.reminders}, core group {outcome.core}, "
               f"fines {outcome.fines}")
