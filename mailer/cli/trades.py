"""`lets trades expire|by-category`: proposals reminded and expired; what the group trades, per category."""
from __future__ import annotations

import datetime as dt
import json

import click

from .app import main, pass_app


@main.group()
def trades():
    """Proposed trades: reminders and expiry."""


@trades.command("expire")
@pass_app
def trades_expire(app):
    """Remind payers once and expire unanswered proposals; run daily from the scheduler.

    Example: lets trades expire
    """
    from ..runs import trades as trade_mail
    from ..message.compose import now_utc

    app.db()
    reminded, expired = trade_mail.expire(app.settings, now_utc())
    click.echo(f"reminded {reminded}, expired {expired}")


@trades.command("by-category")
@click.option("--since", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="Only trades booked on or after this day (YYYY-MM-DD).")
@click.option("--language", type=click.Choice(["nl", "en", "fr", "de"]), default=None,
              help="The language of the category names; default the group's.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line, with the category's code and name.")
@pass_app
def trades_by_category(app, since, language, as_json):
    """Booked trades and their volume per listing category, largest first.

    Categories are named as in [listings] categories; trades linked to no listing are shown
    as "(none)"; levies and reversed transfers are not counted.
    Example: lets trades by-category --since 2026-01-01
    """
    from db import listing_links
    from db.money import to_decimal

    categories = app.settings.listings.categories
    language = language or app.settings.group.language
    app.db()
    rows = listing_links.volume_by_category(since.date() if isinstance(since, dt.datetime) else None)
    for category, count, cents in rows:
        name = categories.name(category, language) if category else ""
        if as_json:
            click.echo(json.dumps({"category": category, "name": name, "trades": count, "amount_cents": cents},
                                  ensure_ascii=False))
        else:
            click.echo(f"{name or '(none)':<30} {count:>6}  {to_decimal(cents):>12}")
