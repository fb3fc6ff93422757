"""`lets contributions …`: the contribution in the unit: advance notice, the run, waivers, postponements."""
from __future__ import annotations

import click


from .app import main, member_of, moment, pass_app
from .words import member as member_words


@main.group()
def contributions():
    """The contribution in the unit: advance notice, the run, waivers."""


def _contribution_period(app, label, today=None):
    from db.contributions import ContributionError

    from ..runs import contributions as contribution_mail
    from ..message.compose import now_utc

    try:
        return contribution_mail.period_for(app.settings, label, today or now_utc().date())
    except ContributionError as exc:
        raise click.ClickException(str(exc)) from exc


AT = click.option("--at", "at", default=None, help="Act as if it were this UTC moment (ISO format; default now).")


@contributions.command("run")
@click.option("--period", "label", help="2026Q4, 2026-11 or 2026; default: the period containing today.")
@click.option("--early", is_flag=True, help="Charge a period before its last day (article 8.3.2 charges on it).")
@AT
@pass_app
def contributions_run(app, label, early, at):
    """Debit every member's contribution for the period to the association account, once.

    Safe to repeat, restart or run late: members charged or waived before are skipped.
    A period is charged on its last day; before it, only with --early.
    Example: lets contributions run --period 2026Q4
    """
    from ..runs import contributions as contribution_mail
    from ..runs.dues import local_date

    app.db()
    now = moment(at)
    today = local_date(app.settings, now)
    period = _contribution_period(app, label, today)
    if contribution_mail.not_yet_due(period, today) and not early:
        raise click.ClickException(f"{period.label} has not ended: it is charged on its last day, "
                                   f"{period.last_day.isoformat()} (article 8.3.2); add --early to charge it now")
    from db.contributions import candidates

    from .progress import progress

    members_to_see = candidates()
    with progress(f"{period.label} members", len(members_to_see)) as advance:
        outcome = contribution_mail.run(app.settings, period, now=now, candidates=members_to_see,
                                        on_member=advance)
    click.echo(f"{period.label}: charged {len(outcome.charged)}, skipped {outcome.skipped}")


@contributions.command("notify")
@click.option("--period", "label", help="2026Q4, 2026-11 or 2026; default: the period containing today.")
@AT
@pass_app
def contributions_notify(app, label, at):
    """Send each member who will be charged the amount and the date, once per period.

    Example: lets contributions notify --period 2026Q4
    """
    from ..runs import contributions as contribution_mail
    from ..runs.dues import local_date

    app.db()
    now = moment(at)
    period = _contribution_period(app, label, local_date(app.settings, now))
    from db.contributions import candidates

    from .progress import progress

    members_to_see, nobody_to_tell = candidates(), []
    with progress(f"{period.label} members", len(members_to_see)) as advance:
        sent = contribution_mail.notify(app.settings, period, now=now, candidates=members_to_see,
                                        on_member=advance, unreachable=nobody_to_tell)
    click.echo(f"{period.label}: notified {sent}" + (
        f"; {len(nobody_to_tell)} without an address or a coordinator to tell: "
        + ", ".join(member_words(m) for m in nobody_to_tell) + " (lets member set-coordinator)"
        if nobody_to_tell else ""))


@contributions.command("waive")
@click.argument("member_key")
@click.argument("label", required=False)
@click.option("--year", type=int, default=None, help="Waive the whole year (every period in it) instead.")
@click.option("--reason", required=True, help="Why the member pays nothing for this period.")
@click.option("--by", "entered_by", default="admin", help="Who grants the waiver.")
@AT
@pass_app
def contributions_waive(app, member_key, label, year, reason, entered_by, at):
    """Record that a member pays no contribution for a period or a year (article 8.2.4); the
    run then skips them and the member is told.

    Example: lets contributions waive 3 2026Q4 --reason "abroad all quarter"
    Example: lets contributions waive 3 --year 2027 --reason "long illness"
    """
    from db import contributions as contribution_rules

    from ..runs import contributions as contribution_mail

    if (label is None) == (year is None):
        raise click.ClickException("name a period (2026Q4) or --year, not both")
    app.db()
    member_row = member_of(member_key)
    period = _contribution_period(app, label or str(year))
    try:
        contribution_mail.waive(app.settings, member_row, period, reason, now=moment(at), entered_by=entered_by)
    except contribution_rules.ContributionError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"{member_row.name}: waived for {period.label}")


@contributions.command("postpone")
@click.argument("member_key")
@click.option("--until", "until", required=True, help="The day (YYYY-MM-DD) the contribution is charged from.")
@click.option("--reason", required=True, help="Why, in a sentence the member will read.")
@click.option("--by", "entered_by", default="admin", help="Who grants the postponement.")
@AT
@pass_app
def contributions_postpone(app, member_key, until, reason, entered_by, at):
    """Postpone a member's contribution (article 8.3.3): periods that end before --until are
    not charged then, but by the first run from that day; the member is told.

    Example: lets contributions postpone 3 --until 2027-09-01 --reason "waiting for benefits"
    """
    import datetime as dt

    from db import contributions as contribution_rules

    from ..runs import contributions as contribution_mail

    try:
        day = dt.date.fromisoformat(until)
    except ValueError:
        raise click.ClickException(f"--until {until!r} is not a date such as 2027-09-01") from None
    app.db()
    member_row = member_of(member_key)
    try:
        contribution_mail.postpone(app.settings, member_row, day, reason, now=moment(at), entered_by=entered_by)
    except contribution_rules.ContributionError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"{member_row.name}: contribution postponed until {day}")
