"""`lets show-dns`: the DNS records that let receivers trust the group's mail."""
from __future__ import annotations

import sys

import click

from ..outbound import dkim
from .app import main, pass_app


@main.command("show-dns")
@click.option("--check", is_flag=True,
              help="Ask DNS what is published instead; exit 1 unless the DKIM record carries the group's key.")
@pass_app
def show_dns(app, check):
    """Print the DKIM record to publish for the group's key, and SPF and DMARC suggestions.

    Zone-file lines; a long TXT value is split into strings of 255 characters, which DNS
    joins again. With --check, what DNS publishes now: set [dkim] selector once the DKIM
    record carries the key. Example: lets show-dns --check
    """
    from ..message.sender_auth import Unavailable, dns_txt

    try:
        if check:
            matches, lines = dkim.check(app.settings, dns_txt)
        else:
            matches, lines = True, [*dkim.records(app.settings), dkim.state(app.settings)]
    except dkim.DkimError as exc:
        raise click.ClickException(str(exc)) from exc
    except Unavailable as exc:
        raise click.ClickException(f"DNS did not answer: {exc}") from exc
    for line in lines:
        click.echo(line)
    sys.exit(0 if matches else 1)
