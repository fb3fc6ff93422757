"""`lets digest preview|send`: the periodic digest, one member's or everyone's that is due."""
from __future__ import annotations

import click


from ..settings import SettingsError
from .app import main, member_of, moment, pass_app


@main.group()
def digest():
    """The periodic digest: preview, send."""


@digest.command("preview")
@click.argument("member_key")
@click.option("--html", is_flag=True, help="Print the HTML alternative instead of the text.")
@pass_app
def digest_preview(app, member_key, html):
    """Print the digest MEMBER (number or address) would get next; sends nothing.

    Example: lets digest preview 12
    """
    import email
    import email.policy

    from ..runs.digest import preview

    app.db()
    found = member_of(member_key)
    try:
        outgoing = preview(app.settings, found, moment(None))
    except (LookupError, SettingsError) as exc:
        raise click.ClickException(str(exc)) from exc
    message = email.message_from_bytes(outgoing.raw, policy=email.policy.default)
    click.echo(f"To: {message['To']}\nSubject: {message['Subject']}\n")
    click.echo(message.get_body(("html" if html else "plain",)).get_content())


@digest.command("send")
@click.option("--at", "at", default=None, help="Act as if it were this UTC moment (ISO format).")
@click.option("--no-deliver", is_flag=True, help="Only queue the digests in the outbox.")
@pass_app
def digest_send(app, at, no_deliver):
    """Queue the digests that are due (each member at most once a period), then deliver the outbox.

    A run that was interrupted continues where it stopped. Example: lets digest send
    """
    from ..runs.digest import run_scheduled
    from ..outbound.outbox import deliver_pending
    from ..schedule import ScheduleError

    from .progress import progress
    from ..outbound.fanout import sender_for

    settings = app.settings
    app.db()
    sender = sender_for(settings, deliver=not no_deliver)
    try:
        with progress("digests") as advance:
            queued = run_scheduled(settings, moment(at), sender=sender, on_batch=advance)
    except (ScheduleError, SettingsError) as exc:
        raise click.ClickException(str(exc)) from exc
    finally:
        if sender is not None:
            sender.close()
    # The digests the parallel sender delivered at once never pass through the outbox:
    # counting only the outbox said "sent 0 mails" after a run that delivered them all.
    sent = sender.accepted if sender is not None else 0
    while not no_deliver and (batch := deliver_pending(settings, limit=1000)):
        sent += batch
    click.echo(f"queued {queued} digests, sent {sent} mails")
