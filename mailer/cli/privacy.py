"""`lets member export|forget|set-status`: a member's data, and forgetting a departed member."""
from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import click

from db import membership, write_transaction
from db.models import MEMBER_STATUSES

from .app import member, member_of, pass_app



@member.command("export")
@click.argument("member_key")
@click.option("--output", type=click.Path(dir_okay=False, writable=True),
              help="Write the JSON here (default: standard output).")
@pass_app
def member_export(app, member_key, output):
    """Write everything the group holds about MEMBER (number or address) as JSON.

    Example: lets member export 12 --output member-12.json
    """
    from db.export import export

    app.db()
    text = json.dumps(export(member_of(member_key)), ensure_ascii=False, indent=2) + "\n"
    if output:
        path = Path(output)
        path.write_text(text, encoding="utf-8")
        # The file holds personal data: readable by its owner only.
        path.chmod(0o600)
        click.echo(f"wrote {path}", err=True)
    else:
        click.echo(text, nl=False)


@member.command("forget")
@click.argument("member_key")
@click.option("--force", is_flag=True, help="Also when the member has not left or the balance is not zero.")
@click.option("--keep-descriptions", is_flag=True,
              help="Keep the descriptions of the member's transfers (they are erased by default).")
@pass_app
def member_forget(app, member_key, force, keep_descriptions):
    """Anonymise a member who left: name, addresses, listings, mail and what others wrote about them.

    The ledger stays valid, and no old copy is left in the database's files or the SMTP
    spool (see the README for what remains elsewhere: the Maildir of sent mail, backups).
    Refused unless the status is left or expelled and the balance is zero (--force overrides).
    Example: lets member forget 12
    """
    from db.forget import ForgetError, forget

    from ..message.compose import now_utc

    app.db()
    row = member_of(member_key)
    # Mail the SMTP edge accepted and the worker has not taken yet is taken now, so that
    # forgetting finds it in the database; the spool then keeps no copy (db/forget.py).
    try:
        _take_spool(app.settings)
    except sqlite3.Error as exc:   # the spool's own errors (db/spool.py); nothing was forgotten yet
        raise click.ClickException(f"the SMTP spool could not be read: {exc}") from exc
    try:
        done = forget(row, now=now_utc(), group_language=app.settings.group.language,
                      force=force, erase_descriptions=not keep_descriptions)
    except ForgetError as exc:
        raise click.ClickException(str(exc)) from exc
    except sqlite3.Error as exc:   # emptying the spool, after the forgetting was committed
        raise click.ClickException(f"member {row.number} was forgotten, but the SMTP spool could not be "
                                   f"emptied: {exc}; run `lets member forget {row.number}` again") from exc
    click.echo(", ".join(f"{key.replace('_', ' ')}: {value}" for key, value in done.items()))
    if done.get("files_emptied") == "no":
        click.echo("another process kept reading while the files were emptied: old copies may remain in a "
                   f"write-ahead log; run `lets member forget {row.number}` again", err=True)


def _take_spool(settings) -> None:
    from db.spool import Spool, path_for

    from ..pipeline import take_spooled

    spool = Spool.existing(path_for(settings.database_url))
    if spool is None:
        return
    try:
        while take_spooled(spool):
            pass
    finally:
        spool.close()


@member.command("set-status")
@click.argument("member_key")
@click.argument("status", type=click.Choice(MEMBER_STATUSES))
@click.option("--reason", default="corrected by an administrator", help="Kept with the change.")
@click.option("--by", "entered_by", default="admin", help="Who makes the change.")
@pass_app
def member_set_status(app, member_key, status, reason, entered_by):
    """Correct a member's status directly, without mail; the change is kept with its reason.

    For the membership's own steps use approve, suspend, cancel and the like: they also tell
    the member. Example: lets member set-status 12 left --reason "moved abroad in 2025"
    """
    app.db()
    row = member_of(member_key)
    previous = row.status
    with write_transaction():
        membership.record(row, status, reason=reason, entered_by=entered_by)
    click.echo(f"member {row.number}: {previous} → {status}")
