"""`lets agenda` and `lets activity charge`: the coming activities, as text or as an
iCalendar feed, and the prices of activities that took place."""
from __future__ import annotations

import datetime as dt

import click

from .app import main, moment, pass_app


@main.command("agenda")
@click.option("--ics", is_flag=True, help="Write an iCalendar feed (public fields only) instead of text.")
@click.option("--output", type=click.File("wb"), default="-", help="Where to write it (default: standard output).")
@click.option("--at", "at", default=None, help="The moment the agenda starts from (UTC, ISO format; default now).")
@pass_app
def agenda(app, ics, output, at):
    """Print the coming activities, or write them as an iCalendar feed a website can publish:
    title, time, place and description, never who takes part.

    Example: lets agenda --ics --output public/agenda.ics
    """
    from db import activities

    from ..message.calendar import feed

    now = moment(at)
    app.db()
    coming = activities.coming(now, limit=500)
    if ics:
        output.write(feed(app.settings, coming))
        return
    from zoneinfo import ZoneInfo

    zone = ZoneInfo(app.settings.group.timezone)
    for activity in coming:
        start = activity.start.replace(tzinfo=dt.timezone.utc).astimezone(zone)
        free = activities.free(activity)
        room = "" if free is None else f"  ({free} of {activity.capacity} places free)"
        place = f"  @ {activity.place}" if activity.place else ""
        output.write(f"#{activity.id}  {start:%Y-%m-%d %H:%M}  {activity.title}{place}{room}\n".encode())
    if not coming:
        output.write(b"no coming activities\n")


@main.group()
def activity():
    """Activities members announce by mail: their prices once they have taken place."""


@activity.command("charge")
@click.option("--date", "day", default=None, help="Charge activities held on or before this day, YYYY-MM-DD "
                                                   "(default: yesterday, the group's day).")
@click.option("--at", "at", default=None, help="The moment of the bookings (UTC, ISO format; default now).")
@pass_app
def activity_charge(app, day, at):
    """Book the price of every activity held on or before --date, once for each signed
    participant, to the organiser or the association; a rerun books nothing twice. What
    `lets serve` does every day by itself.

    Example: lets activity charge --date 2027-03-06
    """
    from ..runs import activities as run
    from ..runs.dues import local_date

    now = moment(at)
    try:
        until = dt.date.fromisoformat(day) if day else local_date(app.settings, now) - dt.timedelta(days=1)
    except ValueError as exc:
        raise click.ClickException(f"--date {day!r}: expected e.g. 2027-03-06") from exc
    app.db()
    charged, refused = run.charge(app.settings, until, now)
    click.echo(f"{charged} participants charged" + (f", {refused} refused by the ledger (limits)" if refused else ""))


@activity.command("cancel")
@click.argument("number", type=int)
@click.option("--at", "at", default=None, help="The moment of the cancellation (UTC, ISO format; default now).")
@pass_app
def activity_cancel(app, number, at):
    """Cancel activity NUMBER (the # that `lets agenda` shows) before it starts: everyone
    signed up or waiting is told in their language, calendars get METHOD:CANCEL, and
    nothing is charged.

    Example: lets activity cancel 3
    """
    from db import activities
    from db.models import Activity

    from ..outbound.outbox import deliver_pending
    from ..runs import activities as run

    now = moment(at)
    app.db()
    found = Activity.get_or_none(Activity.id == number)
    if found is None:
        raise click.ClickException(f"there is no activity #{number}")
    try:
        told = run.call_off(app.settings, found, now)
    except activities.ActivityError as exc:
        raise click.ClickException(f"activity #{number} is {exc.problem}: nothing to cancel") from exc
    while deliver_pending(app.settings, limit=1000):
        pass
    click.echo(f"activity #{number} cancelled; {told} members told")
