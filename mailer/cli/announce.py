"""`lets announce`: an administrator's announcement to every member, at once or in the next digest."""
from __future__ import annotations

import click

from .app import main, pass_app


@main.command()
@click.option("--subject", help="The announcement's subject.")
@click.option("--file", "body_file", type=click.File("r", encoding="utf-8"),
              help="The text, a UTF-8 file ('-' reads standard input).")
@click.option("--now", "mode", flag_value="now", help="Send it to every member at once (the default).")
@click.option("--digest", "mode", flag_value="digest", help="Put it in the next digest instead.")
@click.option("--resume", is_flag=True, help="Only finish announcements an interrupted run left unsent.")
@click.option("--no-deliver", is_flag=True, help="Only queue the messages in the outbox.")
@pass_app
def announce(app, subject, body_file, mode, resume, no_deliver):
    """Announce something to every member: mailed at once, or shown in the next digest.

    Members who turned bulk mail off (DIGEST UIT / unsubscribed) get no copy. A run that
    was interrupted is finished by `lets announce --resume` or by `lets serve`.
    Example: lets announce --subject "Ledenvergadering 12 maart" --file vergadering.txt --now
    """
    from db import announcements

    from ..runs import announce as announce_mail
    from .progress import progress
    from ..message.compose import header_safe, now_utc
    from ..outbound.fanout import sender_for
    from ..outbound.outbox import deliver_pending

    settings = app.settings
    app.db()
    if not resume:
        body = body_file.read().strip() if body_file else ""
        subject = " ".join(header_safe(subject or "").split())[:200]
        if not subject or not body:
            raise click.ClickException("an announcement needs --subject and a non-empty --file")
        row = announcements.publish(subject, body, mode or "now", now_utc())
        if row.mode == "digest":
            click.echo(f"announcement {row.id} will be in the next digest")
            return
    sender = sender_for(settings, deliver=not no_deliver)
    try:
        with progress("announcement") as advance:
            queued = announce_mail.send_unsent(settings, now_utc(), sender=sender, on_batch=advance)
    finally:
        if sender is not None:
            sender.close()
    sent = sender.accepted if sender is not None else 0
    while not no_deliver and (batch := deliver_pending(settings, limit=1000)):
        sent += batch   # what the parallel sender left to the outbox (temporary failures, a rate limit)
    click.echo(f"queued {queued} announcement mails, sent {sent} mails")
