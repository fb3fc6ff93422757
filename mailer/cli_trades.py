"""`lets trades by-category`: what the group trades, per category of the listings traded."""
from __future__ import annotations

import datetime as dt
import json

import click

from .cli import pass_app, trades


@trades.command("by-category")
@click.option("--since", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="Only trades booked on or after this day (YYYY-MM-DD).")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
@pass_app
def trades_by_category(app, since, as_json):
    """Booked trades and their volume per listing category, largest first.

    Trades linked to no listing are shown as "(none)"; levies and reversed transfers
    are not counted. Example: lets trades by-category --since 2026-01-01
    """
    from db import listing_links
    from db.money import to_decimal

    app.db()
    rows = listing_links.volume_by_category(since.date() if isinstance(since, dt.datetime) else None)
    for category, count, cents in rows:
        if as_json:
            click.echo(json.dumps({"category": category, "trades": count, "amount_cents": cents}))
        else:
            click.echo(f"{category or '(none)':<30} {count:>6}  {to_decimal(cents):>12}")
