"""`lets member warn|terminate|appeal`: the association's sanctions (article 22, 5.5.3)."""
from __future__ import annotations

import click

from db import sanctions as rules

from ..runs import sanctions
from .app import BY, member, member_of, moment, pass_app


AT = click.option("--at", "at", default=None, help="The moment of the decision (UTC, ISO format; default now).")


def _show(found, sanction) -> None:
    appeal = f", appeal until {sanction.appeal_until}" if sanction.outcome in ("", "lodged") else ""
    effective = f", membership ends {sanction.effective}" if sanction.effective else ""
    click.echo(f"{found.number} {found.name}: {found.status}; {sanction.kind}"
               + (f" {sanction.outcome}" if sanction.outcome else "") + effective + appeal)


@member.command("warn")
@click.argument("member_key")
@click.option("--reason", required=True, help="Why, in a sentence the member will read.")
@BY
@AT
@pass_app
def member_warn(app, member_key, reason, entered_by, at):
    """Give a member a recorded warning (article 22), mailed with the right to appeal within a month.

    Example: lets member warn 7 --reason "three trades not confirmed despite reminders"
    """
    app.db()
    found = member_of(member_key)
    try:
        sanction = sanctions.decide(app.settings, found, "warning", reason=reason, now=moment(at),
                                    entered_by=entered_by)
    except rules.SanctionError as exc:
        raise click.ClickException(str(exc)) from exc
    _show(found, sanction)


@member.command("terminate")
@click.argument("member_key")
@click.option("--reason", required=True, help="Why, in a sentence the member will read.")
@click.option("--year-end", "year_end", is_flag=True,
              help="At 31 December, with at least four weeks' notice (article 5.5.3).")
@click.option("--year", type=int, default=None, help="With --year-end: which year's end (default this year).")
@click.option("--months", type=int, default=None, help="With this many months' notice, at least 4 (article 22.1).")
@BY
@AT
@pass_app
def member_terminate(app, member_key, reason, year_end, year, months, entered_by, at):
    """End a membership by the association's decision, with notice; the member is told why,
    may appeal within a month to the general meeting, and is suspended meanwhile (22.2).

    Example: lets member terminate 7 --reason "no trades and no answer in two years" --year-end
    Example: lets member terminate 7 --reason "…" --year-end --year 2027   (under four weeks before this year end)
    Example: lets member terminate 7 --reason "…" --months 4
    """
    if year_end == (months is not None):
        raise click.ClickException("choose --year-end or --months")
    now = moment(at)
    try:
        if year_end:
            effective = rules.year_end(now.date(), year)
        elif months < rules.MIN_MONTHS:
            raise rules.SanctionError(f"at least {rules.MIN_MONTHS} months' notice (article 22.1)")
        else:
            effective = rules.add_months(now.date(), months)
        app.db()
        found = member_of(member_key)
        sanction = sanctions.decide(app.settings, found, "terminate", reason=reason, now=now,
                                    entered_by=entered_by, effective=effective)
    except rules.SanctionError as exc:
        raise click.ClickException(str(exc)) from exc
    _show(found, sanction)


@member.command("appeal")
@click.argument("member_key")
@click.option("--outcome", required=True, type=click.Choice(rules.OUTCOMES),
              help="lodged: the member appealed, stays suspended until the meeting; upheld or overturned: "
                   "the general meeting's decision (overturned gives the member back their standing).")
@BY
@AT
@pass_app
def member_appeal(app, member_key, outcome, entered_by, at):
    """Record a member's appeal against the newest decision (warning, termination, suspension,
    expulsion) and the general meeting's outcome; the member is told the outcome.

    Example: lets member appeal 7 --outcome overturned --by "general meeting of 3 March"
    """
    app.db()
    found = member_of(member_key)
    try:
        sanction = sanctions.appeal(app.settings, found, outcome, now=moment(at), entered_by=entered_by)
    except rules.SanctionError as exc:
        raise click.ClickException(str(exc)) from exc
    _show(found, sanction)
