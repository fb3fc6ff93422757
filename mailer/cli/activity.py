"""`lets agenda` and `lets activity …`: the coming activities, as text or as an iCalendar
feed; the list of every activity; the core group's approval, a new date, calling off;
and the prices of activities that took place."""
from __future__ import annotations

import datetime as dt

import click

from .app import deliver_queued, main, moment, pass_app


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
        until = (activity.finish.replace(tzinfo=dt.timezone.utc).astimezone(zone).strftime("-%H:%M")
                 if activity.finish else "")
        output.write(f"#{activity.id}  {start:%Y-%m-%d %H:%M}{until}  {activity.title}{place}{room}\n".encode())
    if not coming:
        output.write(b"no coming activities\n")


@main.group()
def activity():
    """Activities members announce by mail: approve, move or cancel them; charge their prices."""


def _activity(number: int):
    from db.models import Activity

    found = Activity.get_or_none(Activity.id == number)
    if found is None:
        raise click.ClickException(f"there is no activity #{number} (lets activity list shows them)")
    return found


STATES = {"draft": "draft, not yet confirmed by its organiser", "pending": "waiting for the core group's approval",
          "published": "published", "refused": "not approved", "cancelled": "cancelled", "done": "held and charged"}


@activity.command("list")
@click.option("--all", "everything", is_flag=True, help="Also past, cancelled and unconfirmed activities.")
@click.option("--at", "at", default=None, help="The moment that counts as now (UTC, ISO format; default now).")
@pass_app
def activity_list(app, everything, at):
    """List activities: by default those coming and those waiting for approval, with their
    number, state, places taken and price.

    Example: lets activity list --all
    """
    from zoneinfo import ZoneInfo

    from db import activities
    from db.models import Activity

    from .words import euros, units

    now = moment(at)
    app.db()
    query = Activity.select().order_by(Activity.start, Activity.id)
    if not everything:
        query = query.where((Activity.state == "pending") | ((Activity.state == "published") & (Activity.start > now)))
    zone = ZoneInfo(app.settings.group.timezone)
    rows = list(query)
    for row in rows:
        start = row.start.replace(tzinfo=dt.timezone.utc).astimezone(zone)
        taken = activities.taken(row)
        places = f"{taken} of {row.capacity} places" if row.capacity else f"{taken} places"
        price = [units(app.settings, row.price_cents)] if row.price_cents else []
        if row.price_euro_cents:
            price.append(euros(app.settings, row.price_euro_cents))
        series = f", series #{row.series}" if row.series else ""
        click.echo(f"#{row.id}  {start:%Y-%m-%d %H:%M}  {row.title}  ({STATES.get(row.state, row.state)}; "
                   f"{places}{'; ' + ' + '.join(price) if price else ''}; by {row.organiser.name}{series})")
    if not rows:
        click.echo("no activities" + ("" if everything else " coming or waiting for approval (--all shows every one)"))


@activity.command("approve")
@click.argument("number", type=int)
@click.option("--at", "at", default=None, help="The moment of the approval (UTC, ISO format; default now).")
@pass_app
def activity_approve(app, number, at):
    """Publish activity NUMBER, which waits for the core group ([activities] approval =
    true): every member gets its mail and the organiser is told.

    Example: lets activity approve 7
    """
    from db import activities

    from ..runs import activities as run

    now = moment(at)
    app.db()
    found = _activity(number)
    try:
        readers = run.approve(app.settings, found, now)
    except activities.ActivityError as exc:
        state = STATES.get(found.state, found.state)
        raise click.ClickException(f"activity #{number} is {state}: there is nothing to approve"
                                   if exc.problem == "not-pending" else
                                   f"activity #{number} has already begun: it can no longer be published") from exc
    deliver_queued(app.settings)
    click.echo(f"activity #{number} published; its mail goes to {readers} member{'' if readers == 1 else 's'}")


@activity.command("refuse")
@click.argument("number", type=int)
@click.option("--reason", default="", help="Why, in words the organiser reads in their mail.")
@pass_app
def activity_refuse(app, number, reason):
    """Turn down activity NUMBER, which waits for the core group: the organiser is told,
    with the reason; nothing goes to the members.

    Example: lets activity refuse 7 --reason "We already have a market that day."
    """
    from db import activities

    from ..runs import activities as run

    app.db()
    found = _activity(number)
    try:
        run.refuse(app.settings, found, reason.strip())
    except activities.ActivityError as exc:
        raise click.ClickException(f"activity #{number} is {STATES.get(found.state, found.state)}: "
                                   "there is nothing to refuse") from exc
    deliver_queued(app.settings)
    click.echo(f"activity #{number} not published; {found.organiser.name} is told")


@activity.command("move")
@click.argument("number", type=int)
@click.option("--to", "to", required=True, help="The new start, in the group's time: YYYY-MM-DD HH:MM.")
@click.option("--until", "until", default=None, help="The new end time, HH:MM (default: the same length as before).")
@click.option("--at", "at", default=None, help="The moment of the change (UTC, ISO format; default now).")
@pass_app
def activity_move(app, number, to, until, at):
    """Move activity NUMBER (one date of a recurring one) to a new date and time: everyone
    signed up or waiting, and the organiser, is told; calendars get the update.

    Example: lets activity move 12 --to "2027-03-13 14:00" --until 17:00
    """
    from zoneinfo import ZoneInfo

    from db import activities

    from ..runs import activities as run

    now = moment(at)
    app.db()
    found = _activity(number)
    zone = ZoneInfo(app.settings.group.timezone)
    try:
        local = dt.datetime.fromisoformat(to)
        end = dt.time.fromisoformat(until) if until else None
    except ValueError as exc:
        raise click.ClickException(f"--to {to!r} --until {until!r}: expected e.g. --to \"2027-03-13 14:00\" "
                                   "--until 17:00") from exc
    start = local.replace(tzinfo=zone).astimezone(dt.timezone.utc).replace(tzinfo=None)
    if end is not None:
        finish = dt.datetime.combine(local.date(), end, tzinfo=zone).astimezone(dt.timezone.utc).replace(tzinfo=None)
        if finish <= start:
            raise click.ClickException(f"--until {until} is not after the start {local:%H:%M}")
    else:
        finish = start + (found.finish - found.start) if found.finish else None
    try:
        told = run.move(app.settings, found, start, finish, now)
    except activities.ActivityError as exc:
        reason = {"past": f"{to} has passed", "cancelled": "it is cancelled"}.get(exc.problem, "it has already begun")
        raise click.ClickException(f"activity #{number} cannot move: {reason}") from exc
    deliver_queued(app.settings)
    click.echo(f"activity #{number} moved to {local:%Y-%m-%d %H:%M}; {told} members told")


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
    deliver_queued(app.settings)
    click.echo(f"{charged} participant{'' if charged == 1 else 's'} charged"
               + (f", {refused} refused by the ledger (limits)" if refused else ""))


@activity.command("cancel")
@click.argument("number", type=int)
@click.option("--series", is_flag=True, help="Cancel every coming date of NUMBER's recurring activity and plan no more.")
@click.option("--at", "at", default=None, help="The moment of the cancellation (UTC, ISO format; default now).")
@pass_app
def activity_cancel(app, number, series, at):
    """Cancel activity NUMBER (the # that `lets agenda` shows) before it starts: everyone
    signed up or waiting is told in their language, calendars get METHOD:CANCEL, and
    nothing is charged (a price paid at sign-up is paid back).

    Example: lets activity cancel 3
    Example: lets activity cancel 3 --series
    """
    from db import activities

    from ..runs import activities as run

    now = moment(at)
    app.db()
    found = _activity(number)
    if series:
        if not found.series:
            raise click.ClickException(f"activity #{number} does not repeat: cancel it without --series")
        cancelled, told = run.end_series(app.settings, found, now)
        deliver_queued(app.settings)
        click.echo(f"series #{found.series}: {cancelled} coming dates cancelled, no more planned; {told} members told")
        return
    try:
        told = run.call_off(app.settings, found, now)
    except activities.ActivityError as exc:
        raise click.ClickException(f"activity #{number} is {STATES.get(found.state, found.state)}: "
                                   "nothing to cancel") from exc
    deliver_queued(app.settings)
    click.echo(f"activity #{number} cancelled; {told} members told")
