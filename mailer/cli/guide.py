"""`lets member set-paper`, `lets guide print`: the guide and the circle news on paper (article 8.2.2)."""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import click

from .app import main, member, member_of, pass_app


@member.command("set-paper")
@click.argument("member_key")
@click.argument("state", type=click.Choice(["on", "off"]))
@click.option("--by", "entered_by", default="admin", help="Who decides, kept with the choice.")
@pass_app
def member_set_paper(app, member_key, state, entered_by):
    """Send a member the guide and the circle news on paper, or stop; [euro] paper_amount is
    added to the member's yearly euro contribution from the next yearly charge on.

    Example: lets member set-paper 12 on
    """
    from db import paper

    from ..message.compose import now_utc

    app.db()
    found = member_of(member_key)
    changed = paper.set_paper(found, state == "on", now=now_utc(), entered_by=entered_by)
    click.echo(f"{found.number} {found.name}: paper {state}" + ("" if changed else " (already)"))


@main.group()
def guide():
    """The guide on paper: the current offers and requests, and the circle news, to print."""


@guide.command("print")
@click.option("--output", "output", type=click.Path(dir_okay=False, writable=True),
              help="The file to write (default: HTML to standard output).")
@click.option("--format", "form", type=click.Choice(["html", "pdf"]), default="html", show_default=True,
              help="pdf needs Chromium (or Google Chrome) on the PATH.")
@click.option("--language", type=click.Choice(["nl", "en", "fr", "de"]), default=None,
              help="Defaults to the group's language.")
@click.option("--date", "day", type=click.DateTime(["%Y-%m-%d"]), default=None,
              help="The day the guide is of: listings current then (default today).")
@click.option("--news-since", "news_since", type=click.DateTime(["%Y-%m-%d"]), default=None,
              help="Circle news (announcements) from this day on; default the 90 days before --date.")
@pass_app
def guide_print(app, output, form, language, day, news_since):
    """Make the printable guide: offers and requests by category with the poster's number
    and name, and contact where the group shows addresses; then the circle news.

    Example: lets guide print --format pdf --output guide-2027-03.pdf
    """
    from db import paper

    from ..paper import guide as paper_guide
    from ..message.compose import now_utc
    from ..runs.dues import local_date

    settings = app.settings
    app.db()
    today = day.date() if day else local_date(settings, now_utc())
    since = news_since.date() if news_since else today - dt.timedelta(days=90)
    html = paper_guide.build(settings, today=today, language=language or settings.group.language,
                             news_since=since)
    if form == "pdf":
        if not output:
            raise click.ClickException("--format pdf needs --output FILE")
        try:
            paper_guide.to_pdf(html, Path(output))
        except (paper_guide.NoConverter, paper_guide.ConversionFailed) as exc:
            raise click.ClickException(str(exc)) from exc
    elif output:
        Path(output).write_text(html, encoding="utf-8")
    else:
        click.echo(html, nl=False)
    readers = paper.posted_to()
    click.echo(f"{len(readers)} members get it on paper"
               + (": " + ", ".join(str(m.number) for m in readers) if readers else ""), err=True)
