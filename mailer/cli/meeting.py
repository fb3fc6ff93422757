"""`lets meeting announce|items`: the general meeting's invitation and its agenda items (article 9.3)."""
from __future__ import annotations

import datetime as dt
import json

import click

from .app import deliver_queued, main, moment, pass_app


@main.group()
def meeting():
    """The general meeting: the invitation by mail and the agenda items members send."""


def _date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError as exc:
        raise click.ClickException(f"--date {value!r}: expected e.g. 2027-03-12") from exc


@meeting.command("announce")
@click.option("--date", "day", required=True, help="The day of the meeting, YYYY-MM-DD.")
@click.option("--file", "agenda_file", required=True, type=click.File("r", encoding="utf-8"),
              help="The agenda and what else members should know, a UTF-8 file ('-' reads standard input).")
@click.option("--place", default="", help="Where the meeting is held.")
@click.option("--short-notice", is_flag=True, help="Announce it although it is less than 14 days away.")
@click.option("--by", "entered_by", default="admin", help="Who announces it, kept with the meeting.")
@click.option("--at", "at", default=None, help="The moment of the announcement (UTC, ISO format; default now).")
@pass_app
def meeting_announce(app, day, agenda_file, place, short_notice, entered_by, at):
    """Invite every member who may vote (suspended ones too; members on paper through their
    coordinator) to the general meeting, each in their language, with the day, the place,
    the agenda and how to send agenda items until a week before. At least 14 days ahead
    (article 9.3) unless --short-notice. A rerun for the same day mails only members not yet told.

    Example: lets meeting announce --date 2027-03-12 --place "Wijkcentrum De Klif" --file agenda.txt
    """
    from db import meetings, write_transaction

    from ..runs import meeting as meeting_mail

    date = _date(day)
    now = moment(at)
    agenda = agenda_file.read().strip()
    if not agenda:
        raise click.ClickException("the agenda file is empty")
    app.db()
    try:
        with write_transaction():
            found, new = meetings.announce(date, place, agenda, today=now.date(), short_notice=short_notice,
                                           entered_by=entered_by)
    except meetings.MeetingError as exc:
        raise click.ClickException(str(exc)) from exc
    mailed, unreachable = meeting_mail.invite(app.settings, found)
    deliver_queued(app.settings)
    state = "announced" if new else "already announced"
    click.echo(f"meeting of {found.date} {state}: {mailed} members invited now"
               + (f", {unreachable} on paper without a coordinator not reached" if unreachable else "")
               + f"; agenda items until {meetings.items_close(found)}")


@meeting.command("items")
@click.option("--date", "day", default=None, help="The meeting's day (default the next meeting).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
@click.option("--at", "at", default=None, help="Today, for the next meeting (UTC, ISO format; default now).")
@pass_app
def meeting_items(app, day, as_json, at):
    """List the agenda items members sent for a meeting: member number, name, date and text.

    Example: lets meeting items --json
    """
    from db import meetings
    from db.models import Meeting


    app.db()
    found = (Meeting.get_or_none(Meeting.date == _date(day)) if day
             else meetings.upcoming(moment(at).date()))
    if found is None:
        raise click.ClickException("no meeting announced" + (f" for {day}" if day else " ahead"))
    rows = [{"number": item.member.number, "name": item.member.name, "date": item.created.date().isoformat(),
             "text": item.body} for item in meetings.items(found)]
    if as_json:
        click.echo(json.dumps({"meeting": found.date.isoformat(), "place": found.place, "items": rows},
                              ensure_ascii=False, indent=2))
        return
    click.echo(f"meeting of {found.date}" + (f", {found.place}" if found.place else "")
               + f": {len(rows)} agenda items")
    for row in rows:
        click.echo(f"{row['number']} {row['name']} {row['date']}: {' '.join(row['text'].split())}")
