"""`lets member …`: add and list members, approve or refuse applicants, suspend, expel, reinstate, cancel, settle."""
from __future__ import annotations

import json

import click

from db import departures, membership as standing, members
from db.models import Member
from db.money import to_decimal
from db.positive import not_positive

from ..message.compose import now_utc
from ..runs import membership
from .app import BY, member, member_of, moment, pass_app


def _decide(app, key: str, action: str, reason: str, entered_by: str, meeting: bool = False):
    app.db()
    found = member_of(key)
    try:
        membership.decide(app.settings, found, action, reason=reason or "", now=now_utc(), entered_by=entered_by,
                          meeting=meeting)
    except standing.MembershipError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"{found.number} {found.name}: {found.status}")


@member.command("approve")
@click.argument("member_key")
@BY
@click.option("--meeting", is_flag=True,
              help="The general meeting's decision: admits an applicant the core group refused (article 5.1).")
@pass_app
def member_approve(app, member_key, entered_by, meeting):
    """Admit an applicant: active from today, with a welcome mail on how the group works by mail.

    Warns when the applicant has not confirmed being 18 or older (article 5.1).
    Example: lets member approve 12
    Example: lets member approve 12 --meeting   (after lets member refuse 12)
    """
    if meeting and entered_by == "admin":
        entered_by = "general meeting"
    app.db()
    applicant = member_of(member_key)
    if applicant.adult is not True and applicant.status in standing.ALLOWED["approve"]:
        said = "said they are under 18" if applicant.adult is False else "has not confirmed being 18 or older"
        click.secho(f"WARNING: {applicant.number} {applicant.name} {said} (article 5.1: members are 18 or older)",
                    err=True, fg="red", bold=True)
    _decide(app, member_key, "approve", "", entered_by, meeting)


@member.command("refuse")
@click.argument("member_key")
@click.option("--reason", required=True, help="Why, in a sentence the applicant will read.")
@BY
@pass_app
def member_refuse(app, member_key, reason, entered_by):
    """Refuse an applicant politely; the application is kept as refused.

    Example: lets member refuse 12 --reason "we only serve Nijmegen and surroundings"
    """
    _decide(app, member_key, "refuse", reason, entered_by)


@member.command("suspend")
@click.argument("member_key")
@click.option("--reason", required=True, help="Why, in a sentence the member will read.")
@BY
@pass_app
def member_suspend(app, member_key, reason, entered_by):
    """Suspend a member: no trading and no digests until reinstated; the member is told why.

    Example: lets member suspend 7 --reason "unpaid contribution, see our letter"
    """
    _decide(app, member_key, "suspend", reason, entered_by)


@member.command("expel")
@click.argument("member_key")
@click.option("--reason", required=True, help="Why, in a sentence the member will read.")
@BY
@pass_app
def member_expel(app, member_key, reason, entered_by):
    """Expel a member: no trading, no digests, listings withdrawn; the member is told why.

    Example: lets member expel 7 --reason "decision of the general meeting of 3 March"
    """
    _decide(app, member_key, "expel", reason, entered_by)


@member.command("reinstate")
@click.argument("member_key")
@BY
@pass_app
def member_reinstate(app, member_key, entered_by):
    """Lift a suspension or expulsion: the member may trade again and is told so.

    Example: lets member reinstate 7
    """
    _decide(app, member_key, "reinstate", "", entered_by)


@member.command("cancel")
@click.argument("member_key")
@BY
@click.option("--at", "at", default=None,
              help="The moment the notice was given (UTC, ISO format; default now): a notice "
                   "handed in on paper before 1 December counts as timely.")
@pass_app
def member_cancel(app, member_key, entered_by, at):
    """Record a member's notice (as OPZEGGEN by mail): ends at once, or sets the leaving date.

    Example: lets member cancel 7 --at 2026-11-28T10:00
    """
    app.db()
    found = member_of(member_key)
    try:
        departure = membership.cancel(app.settings, found, now=moment(at), entered_by=entered_by)
    except departures.DepartureError as exc:
        from .words import member as who

        raise click.ClickException(f"{who(found)} is {found.status}"
                                   + (f"; notice given {exc.departure.given}" if exc.departure else "")) from exc
    click.echo(f"{found.number} {found.name}: {departure.kind}, {departure.state}, effective {departure.effective}"
               + (f", balance to zero by {departure.deadline}" if departure.deadline else ""))


@member.command("settle")
@click.argument("member_key")
@click.option("--euro", "mode", flag_value="euro",
              help="Book the balance to zero; the member leaves once its euro value and the year's contribution are paid.")
@click.option("--keep", "mode", flag_value="keep", help="Keep the member on: active again.")
@BY
@click.option("--at", "at", default=None, help="The moment of the decision (UTC, ISO format; default now).")
@pass_app
def member_settle(app, member_key, mode, entered_by, at):
    """Settle a leaving member: the negative balance in euros at the exchange rate, or keep them on.

    With --euro the member is settling, reminded monthly, until the euros are paid
    (`lets euro paid`); then the membership ends. Example: lets member settle 7 --euro
    """
    if mode is None:
        raise click.ClickException("choose --euro or --keep")
    app.db()
    found = member_of(member_key)
    try:
        departure = membership.settle(app.settings, found, keep=mode == "keep", now=moment(at),
                                      entered_by=entered_by)
    except departures.DepartureError as exc:
        from .words import euros, member as who

        if exc.code == "settling":
            raise click.ClickException(f"{who(found)} is already settling: owes "
                                       f"{euros(app.settings, departures.euro_outstanding(found))}") from exc
        raise click.ClickException(f"{who(found)} is {found.status}, not leaving") from exc
    if mode == "keep":
        click.echo(f"{found.number} {found.name}: kept on")
    elif departure.state == "settling":
        click.echo(f"{found.number} {found.name}: settling; owes EUR "
                   f"{departures.euros(departures.euro_outstanding(found))}, then leaves")
    else:
        click.echo(f"{found.number} {found.name}: left; nothing owed")


@member.command("departures")
@pass_app
def member_departures(app):
    """List the notices under way: waiting, leaving, due for a decision, settling; balance and euros owed.

    Example: lets member departures
    """
    from db.models import Departure

    app.db()
    rows = (Departure.select().where(Departure.state.in_(departures.OPEN)).order_by(Departure.given, Departure.id))
    for row in rows:
        found = row.member
        balance = members.account(found).balance_cents
        until = {"waiting": f"effective {row.effective}", "leaving": f"balance to zero by {row.deadline}",
                 "due": f"deadline {row.deadline} passed", "settling": "until the euros are paid"}[row.state]
        if row.state == "due":
            until += f"; a regular member again from {departures.continues_on(row, app.settings)}"
        click.echo(f"{found.number:>5}  {found.name:<30} {row.kind:<7} given {row.given}  {row.state:<9} "
                   f"{until}  balance {to_decimal(balance)}  EUR owed {departures.euros(departures.euro_outstanding(found))}")


@member.command("not-positive")
@pass_app
def member_not_positive(app):
    """Members whose balance was below zero all the time in the last [membership] positive_years.

    Example: lets member not-positive
    """
    app.db()
    rows = not_positive(now_utc().date(), app.settings.membership.positive_years)
    for row in rows:
        click.echo(f"{row.member.number:>5}  {row.member.name:<30} balance {to_decimal(row.balance):>9}  "
                   f"highest {to_decimal(row.highest):>9}")
    click.echo(f"{len(rows)} members not positive in {app.settings.membership.positive_years} years", err=True)


@member.command("no-offer")
@click.option("--date", "on", type=click.DateTime(["%Y-%m-%d"]), default=None,
              help="The day to look at (default today): offers that run until before it do not count.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
@pass_app
def member_no_offer(app, on, as_json):
    """Active members without a current offer (article 17.1: every member publishes at least
    one), with the day their newest offer ran until, or "never".

    Example: lets member no-offer --json
    """
    from db import offering

    app.db()
    today = on.date() if on else now_utc().date()
    rows = list(offering.without_offer(today))
    for row in rows:
        last = offering.last_offer(row)
        if as_json:
            click.echo(json.dumps({"number": row.number, "name": row.name, "address": row.primary_address,
                                   "language": row.language, "joined": row.joined.isoformat(),
                                   "last_offer": last.isoformat() if last else None}, ensure_ascii=False))
        else:
            click.echo(f"{row.number:>5}  {row.name:<30} {row.primary_address or '-':<32} "
                       f"last offer {last.isoformat() if last else 'never'}")
    if not as_json:
        click.echo(f"{len(rows)} active members without a current offer on {today.isoformat()}", err=True)


@member.command("add")
@click.argument("name")
@click.argument("address", required=False)
@click.option("--type", "kind", default=None,
              type=click.Choice(["regular", "household", "guest", "honorary", "organisation"]),
              help="Default: regular, or household with --household-of.")
@click.option("--language", default=None, type=click.Choice(["nl", "en", "fr", "de"]),
              help="Defaults to the group's language.")
@click.option("--household-of", "household_of", default=None,
              help="A member (number or address) whose address the new member shares; ADDRESS may be left out.")
@pass_app
def member_add(app, name, address, kind, language, household_of):
    """Add a member and print the new member's number.

    Without ADDRESS the member has no email and trades through a coordinator (VOOR).
    Example: lets member add "An de Vries" an@example.org --language nl
    Example: lets member add "Bo de Vries" --household-of 1
    """
    app.db()
    housemate = None
    if household_of:
        housemate = member_of(household_of)
    try:
        new = members.add(name, address, type=kind or ("household" if housemate else "regular"),
                          language=language or app.settings.group.language, household_of=housemate)
    except members.MemberError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(new.number)


@member.command("list")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
@pass_app
def member_list(app, as_json):
    """List members with their number, type, status, language and addresses, "paper"
    for those who get the guide on paper, and a sanction that stands (warning, termination).

    Example: lets member list --json
    """
    from db import paper, sanctions

    app.db()
    on_paper = paper.readers()
    for row in Member.select().order_by(Member.number):
        addresses = [a.email for a in row.addresses]
        balance = members.account(row).balance_cents
        if as_json:
            click.echo(json.dumps({"number": row.number, "name": row.name, "type": row.type,
                                   "status": row.status, "language": row.language,
                                   "digest": row.digest, "addresses": addresses,
                                   "balance_cents": balance, "paper": row.id in on_paper,
                                   "adult": row.adult, "sanction": sanctions.described(row)}))
        else:
            sanction = sanctions.described(row)
            click.echo(f"{row.number:>5}  {row.name:<30} {row.type:<12} {row.status:<10} "
                       f"{row.language}  {', '.join(addresses)}" + ("  paper" if row.id in on_paper else "")
                       + (f"  [{sanction}]" if sanction else ""))
