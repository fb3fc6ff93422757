"""`lets show-dns`: the DNS records that let receivers trust the group's mail."""
from __future__ import annotations

import click

from . import dkim
from .cli import main, pass_app


@main.command("show-dns")
@pass_app
def show_dns(app):
    """Print the DKIM record to publish for the group's key, and SPF and DMARC suggestions.

    Zone-file lines; a long TXT value is split into strings of 255 characters, which DNS
    joins again. Example: lets show-dns
    """
    try:
        lines = dkim.records(app.settings)
    except dkim.DkimError as exc:
        raise click.ClickException(str(exc)) from exc
    for line in [*lines, dkim.state(app.settings)]:
        click.echo(line)
