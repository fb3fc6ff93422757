"""`lets status`: whether `lets serve` is alive and mail moves, for a person or a monitor."""
from __future__ import annotations

import json
import sys

import click

from .app import main, pass_app

# The exit status when something is stuck (1 is click's for a failed command).
STUCK = 2


@main.command()
@click.option("--json", "as_json", is_flag=True, help="One JSON object instead of lines of text.")
@pass_app
def status(app, as_json):
    """Show whether lets serve's processes run, the oldest unprocessed mail and undelivered
    reply, and the last scheduled run; exit 2, with one line per problem, when something is stuck.

    For a monitor (cron, a systemd timer). Example: lets status --json
    """
    from ..status import check, lines

    app.db(must_exist=False)  # binds the models only: a database that cannot be read is one of the problems
    report = check(app.settings)
    if as_json:
        click.echo(json.dumps({**report, "healthy": not report["problems"]}))
    else:
        for line in lines(report):
            click.echo(line)
    sys.exit(STUCK if report["problems"] else 0)
