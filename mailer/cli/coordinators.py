"""`lets member set-coordinator`: who confirms invoices for a member without email."""
from __future__ import annotations

import click

from .app import member, member_of, pass_app


@member.command("set-coordinator")
@click.argument("member_key")
@click.argument("address", required=False)
@click.option("--clear", is_flag=True, help="Forget the named coordinator.")
@pass_app
def member_set_coordinator(app, member_key, address, clear):
    """Name the coordinator whose tokened JA pays invoices to a member without email.

    ADDRESS must be in [trades] coordinators. Without a named coordinator, invoices
    go to the coordinator who last traded for the member with VOOR / FOR / POUR.
    Example: lets member set-coordinator 12 coord@example.org
    """
    from db import coordinators
    from db.members import normalise_address

    app.db()
    found = member_of(member_key)
    if clear:
        coordinators.unname(found)
        click.echo(f"{found.number} {found.name}: no named coordinator")
        return
    if not address:
        raise click.ClickException("give the coordinator's ADDRESS, or --clear")
    if found.primary_address:
        raise click.ClickException(f"{found.name} has an address of their own and confirms invoices there")
    allowed = {normalise_address(a) for a in app.settings.trades.coordinators}
    if normalise_address(address) not in allowed:
        raise click.ClickException(f"{address} is not in [trades] coordinators")
    coordinators.name(found, address)
    click.echo(f"{found.number} {found.name}: invoices go to {normalise_address(address)}")
