"""`lets serve`, `lets poll`, `lets process`: mail in, answered, and out; `lets check-mail`,
`lets inbox` and `lets outbox` to see what came and went."""
from __future__ import annotations

import json
import signal
import sqlite3
import sys
from pathlib import Path

import click

from db import members
from db.migrations import upgrade
from db.models import InboundMessage, OutboundMessage

from ..startup import ServeLock, StartupError, cannot_listen
from .app import main, pass_app


@main.command()
@click.option("--port", type=int, default=None, help="Override [inbound] port.")
@pass_app
def serve(app, port):
    """Receive mail by SMTP, process it and deliver replies until stopped.

    Example: lets serve --port 2525
    """
    from .config import require_files
    from ..health import Record
    from ..inbound.smtp import controller
    from ..worker import Stop
    from ..workerprocess import WATCH_EVERY, ChildFailing, WorkerProcess

    settings = app.settings
    require_files(settings)
    app.db()
    lock = ServeLock(settings)
    try:
        lock.take()
    except StartupError as exc:
        raise click.ClickException(str(exc)) from exc
    upgrade()
    worker = WorkerProcess(settings)
    server = controller(settings, on_stored=worker.wake, port=port)
    stop = Stop()  # set from the handlers without a lock: see worker.Stop
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, stop.from_signal)
    # The port first: a port in use stops us before there are children to stop. Mail the
    # server stores meanwhile is taken by the worker's first round, as after a restart.
    try:
        server.start()
    except OSError as exc:
        server.handler.close()
        raise click.ClickException(str(cannot_listen(settings.inbound.host, server.port, exc))) from exc
    worker.start()
    from ..message.compose import Composer
    from ..inbound.web import start as start_web
    try:
        # The worker composes in its own process; the endpoint's pages need a composer here.
        web = start_web(settings, Composer(settings))   # None without [digest] public_url
    except OSError as exc:
        server.stop()
        worker.stop()
        raise click.ClickException(str(cannot_listen(settings.web.host, settings.web.port, exc))) from exc
    tls = " (STARTTLS offered)" if settings.inbound.cert_file else ""
    click.echo(f"lets-mail: {settings.group.name} listening on {settings.inbound.host}:{server.port}{tls}; "
               f"outbound: {_outbound_description(settings)}", err=True)
    if web:
        click.echo(f"lets-mail: one-click unsubscribe on {settings.web.host}:{web.port}", err=True)
    record = Record(settings, "serve")  # for `lets status`
    try:
        while not stop.wait(WATCH_EVERY):
            worker.watch()  # starts a dead child again; here, in the thread that started them
            record.beat()
    except ChildFailing as exc:
        raise click.ClickException(str(exc)) from exc  # exit status 1, once all is stopped
    finally:
        if web:
            web.stop()
        server.stop()
        worker.stop()
        record.stop()
        lock.release()


def _outbound_description(settings) -> str:
    if settings.outbound.mode == "smtp":
        return f"relay {settings.outbound.relay_host}:{settings.outbound.relay_port}"
    return f"maildir {settings.path(settings.outbound.maildir)}"


def _category_code(record: dict, settings) -> dict:
    """An offer's or request's category as it will be stored: the code of the group's list
    it names (`other` when it names none), with the words as written beside it."""
    if record.get("kind") in ("offer", "request") and "category" in record.get("fields", {}):
        given = record["fields"]["category"]
        record["fields"]["category"] = settings.listings.categories.code_for(given)
        record["fields"]["category_given"] = given
    return record


@main.command("check-mail")
@click.argument("files", nargs=-1, type=click.Path(dir_okay=False, allow_dash=True))
@pass_app
def check_mail(app, files):
    """Print, one JSON line per mail, what the pipeline understands of it; changes nothing.

    Example: lets check-mail archive/*.eml
    """
    from ..pipeline import describe, understand

    settings = app.settings
    try:
        app.db()
        members.by_address("check-mail@invalid")
        lookup = members.by_address
    except Exception:  # no database yet: still parse, just without member lookups
        lookup = lambda address: None  # noqa: E731
    unreadable = 0
    for name in files or ("-",):
        try:
            raw = sys.stdin.buffer.read() if name == "-" else Path(name).read_bytes()
        except OSError as exc:
            unreadable += 1
            click.echo(json.dumps({"file": name, "error": f"cannot read: {exc.strerror or exc}"}))
            continue
        try:
            record = _category_code(describe(understand(raw, settings, lookup=lookup)), settings)
        except Exception as exc:
            record = {"error": f"{exc.__class__.__name__}: {exc}"}
        click.echo(json.dumps({"file": name, **record}, ensure_ascii=False))
    sys.exit(1 if unreadable else 0)


@main.command()
@click.option("--limit", default=30, show_default=True)
@click.option("--state", type=click.Choice(["received", "processed", "ignored", "failed"]))
@pass_app
def inbox(app, limit, state):
    """Show recent inbound mail with its state and the reason for it.

    Example: lets inbox --state ignored
    """
    from ..pipeline import spooled

    app.db()
    query = InboundMessage.select().order_by(InboundMessage.id.desc()).limit(limit)
    if state:
        query = query.where(InboundMessage.state == state)
    try:
        waiting = spooled(app.settings)
    except sqlite3.Error as exc:  # e.g. a spool this user may not open
        click.echo(f"the SMTP spool could not be read: {exc}")
        waiting = 0
    if waiting and state in (None, "received"):
        # Still in the SMTP server's spool (db/spool.py): accepted, not yet taken by the worker.
        click.echo(f"{waiting} accepted by SMTP, not yet taken from the spool")
    _trouble(app.settings, "worker")
    for row in query:
        click.echo(f"{row.id:>6}  {row.received_at:%Y-%m-%d %H:%M}  {row.state:<9}  {row.kind:<10}  "
                   f"{row.sender or row.mail_from or '-':<30}  {row.reason}")


@main.command()
@click.option("--limit", default=30, show_default=True)
@pass_app
def outbox(app, limit):
    """Show recent outgoing mail with its delivery state.

    Example: lets outbox --limit 10
    """
    app.db()
    _trouble(app.settings, "delivery")
    for row in OutboundMessage.select().order_by(OutboundMessage.id.desc()).limit(limit):
        click.echo(f"{row.id:>6}  {row.created:%Y-%m-%d %H:%M}  {row.state:<7}  {row.kind:<22}  "
                   f"{row.recipient:<30}  {row.last_error}")


def _trouble(settings, role: str) -> None:
    """The trouble `lets serve`'s worker or delivery process is in now, if any (mailer/health.py)."""
    from ..status import trouble

    said = trouble(settings, role)
    if said:
        click.echo(said)


@main.command()
@pass_app
def process(app):
    """Process stored mail and deliver the outbox once, then stop (for cron or after an outage).

    Example: lets process
    """
    from ..outbound.outbox import MAILDIR_ADVICE, DestinationUnavailable, deliver_pending
    from ..pipeline import Processor

    settings = app.settings
    app.db()
    processor = Processor(settings)
    total = 0
    try:
        while (done := processor.process_pending()):
            total += done
    finally:
        processor.close()
    sent = 0
    try:
        while (batch := deliver_pending(settings)):
            sent += batch
    except DestinationUnavailable as exc:
        raise click.ClickException(f"processed {total} mails, sent {sent}; {exc} ({MAILDIR_ADVICE})") from exc
    click.echo(f"processed {total} mails, sent {sent}")


@main.command()
@pass_app
def poll(app):
    """Read the group's mail from the IMAP mailbox in [imap], answer it, and deliver replies until stopped.

    Messages are moved to the Processed, Ignored or Failed folder once stored.
    The password comes best from the environment (LETS_IMAP_PASSWORD).

    Example: lets poll
    """
    from .config import require_files
    from ..inbound.imap import Poller
    from ..worker import Worker

    settings = app.settings
    if not settings.imap.host or not settings.imap.user:
        raise click.ClickException("set [imap] host and user (or LETS_IMAP_HOST, LETS_IMAP_USER) first")
    require_files(settings)
    app.db()
    upgrade()
    worker = Worker(settings)
    poller = Poller(settings, processor=worker.processor, on_stored=worker.wake)
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: poller.stop())
    worker.start()
    click.echo(f"lets-mail: {settings.group.name} reading {poller.name}; "
               f"outbound: {_outbound_description(settings)}", err=True)
    try:
        poller.run()
    finally:
        worker.stop()
        worker.join(timeout=30)
