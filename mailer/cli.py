"""The `lets` command line: the administrators' interface and the composition root."""
from __future__ import annotations

import json
import logging
import secrets
import signal
import sys
import threading

import click

from db import connect, database, members
from db.migrations import upgrade
from db.models import InboundMessage, Member, OutboundMessage

from . import settings as settings_module
from .settings import SettingsError

DEMO_MEMBERS = [
    ("An de Vries", "an@example.org", "regular", "nl"),
    ("Piet Jansen", "piet@example.org", "regular", "nl"),
    ("Claire Dubois", "claire@example.org", "regular", "fr"),
    ("Sam Taylor", "sam@example.org", "guest", "en"),
]


class App:
    """Settings loaded once and the database connected on first use."""

    def __init__(self, settings_path):
        self.settings_path = settings_path
        self._settings = None
        self._connected = False

    @property
    def settings(self):
        if self._settings is None:
            try:
                self._settings = settings_module.load(self.settings_path)
            except SettingsError as exc:
                raise click.ClickException(str(exc)) from exc
        return self._settings

    def db(self):
        if not self._connected:
            connect(self.settings.database_url)
            self._connected = True
        return database


pass_app = click.make_pass_decorator(App)


@click.group()
@click.option("--settings", "settings_path", envvar="LETS_SETTINGS", type=click.Path(dir_okay=False),
              help="The settings file (default ./settings.ini).")
@click.option("-v", "--verbose", is_flag=True, help="Log what happens.")
@click.pass_context
def main(ctx, settings_path, verbose):
    """Run a LETS group by email."""
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    ctx.obj = App(settings_path)


@main.command()
@click.option("--demo", is_flag=True, help="Add a few demo members when the group has none.")
@pass_app
def init(app, demo):
    """Create or upgrade the database and generate the token secret; safe to repeat.

    Example: lets init --demo
    """
    settings = app.settings
    secret_file = settings.path(settings.security.secret_file)
    if not settings.security.secret and not secret_file.exists():
        secret_file.parent.mkdir(parents=True, exist_ok=True)
        secret_file.write_text(secrets.token_urlsafe(32) + "\n")
        secret_file.chmod(0o600)
        click.echo(f"generated a token secret in {secret_file}")
    app.db()
    for line in upgrade() or ["schema is up to date"]:
        click.echo(line)
    members.ensure_system_accounts()
    if demo and not Member.select().exists():
        for name, address, kind, language in DEMO_MEMBERS:
            member = members.add(name, address, type=kind, language=language)
            click.echo(f"demo member {member.number}: {name} <{address}>")


@main.group()
def member():
    """Members: add, list."""


@member.command("add")
@click.argument("name")
@click.argument("address")
@click.option("--type", "kind", default="regular",
              type=click.Choice(["regular", "household", "guest", "honorary", "organisation"]))
@click.option("--language", default=None, type=click.Choice(["nl", "en", "fr"]),
              help="Defaults to the group's language.")
@pass_app
def member_add(app, name, address, kind, language):
    """Add a member and print the new member's number.

    Example: lets member add "An de Vries" an@example.org --language nl
    """
    app.db()
    try:
        new = members.add(name, address, type=kind, language=language or app.settings.group.language)
    except members.MemberError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(new.number)


@member.command("list")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
@pass_app
def member_list(app, as_json):
    """List members with their number, type, status, language and addresses.

    Example: lets member list --json
    """
    app.db()
    for row in Member.select().order_by(Member.number):
        addresses = [a.email for a in row.addresses]
        balance = members.account(row).balance_cents
        if as_json:
            click.echo(json.dumps({"number": row.number, "name": row.name, "type": row.type,
                                   "status": row.status, "language": row.language,
                                   "digest": row.digest, "addresses": addresses,
                                   "balance_cents": balance}))
        else:
            click.echo(f"{row.number:>5}  {row.name:<30} {row.type:<12} {row.status:<10} "
                       f"{row.language}  {', '.join(addresses)}")


@main.command()
@click.option("--port", type=int, default=None, help="Override [inbound] port.")
@pass_app
def serve(app, port):
    """Receive mail by SMTP, process it and deliver replies until stopped.

    Example: lets serve --port 2525
    """
    from .smtp import controller
    from .worker import Worker

    settings = app.settings
    app.db()
    upgrade()
    worker = Worker(settings)
    server = controller(settings, on_stored=worker.wake, port=port)
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    worker.start()
    server.start()
    click.echo(f"lets-mail: {settings.group.name} listening on {settings.inbound.host}:{server.port}; "
               f"outbound: {_outbound_description(settings)}", err=True)
    try:
        stop.wait()
    finally:
        server.stop()
        worker.stop()
        worker.join(timeout=30)


def _outbound_description(settings) -> str:
    if settings.outbound.mode == "smtp":
        return f"relay {settings.outbound.relay_host}:{settings.outbound.relay_port}"
    return f"maildir {settings.path(settings.outbound.maildir)}"


@main.command("check-mail")
@click.argument("files", nargs=-1, type=click.Path(dir_okay=False, allow_dash=True))
@pass_app
def check_mail(app, files):
    """Print, one JSON line per mail, what the pipeline understands of it; changes nothing.

    Example: lets check-mail archive/*.eml
    """
    from .pipeline import describe, understand

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
            raw = sys.stdin.buffer.read() if name == "-" else open(name, "rb").read()
        except OSError as exc:
            unreadable += 1
            click.echo(json.dumps({"file": name, "error": f"cannot read: {exc.strerror or exc}"}))
            continue
        try:
            record = describe(understand(raw, settings, lookup=lookup))
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
    app.db()
    query = InboundMessage.select().order_by(InboundMessage.id.desc()).limit(limit)
    if state:
        query = query.where(InboundMessage.state == state)
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
    for row in OutboundMessage.select().order_by(OutboundMessage.id.desc()).limit(limit):
        click.echo(f"{row.id:>6}  {row.created:%Y-%m-%d %H:%M}  {row.state:<7}  {row.kind:<22}  "
                   f"{row.recipient:<30}  {row.last_error}")


@main.command()
@pass_app
def process(app):
    """Process stored mail and deliver the outbox once, then stop (for cron or after an outage).

    Example: lets process
    """
    from .outbox import deliver_pending
    from .pipeline import Processor

    settings = app.settings
    app.db()
    processor = Processor(settings)
    total = 0
    while (done := processor.process_pending()):
        total += done
    sent = 0
    while (batch := deliver_pending(settings)):
        sent += batch
    click.echo(f"processed {total} mails, sent {sent}")


@main.command()
@pass_app
def poll(app):
    """Read the group's mail from the IMAP mailbox in [imap], answer it, and deliver replies until stopped.

    Messages are moved to the Processed, Ignored or Failed folder once stored.
    The password comes best from the environment:

    Example: LETS_IMAP_PASSWORD=... lets poll
    """
    from .imap import Poller
    from .worker import Worker

    settings = app.settings
    if not settings.imap.host or not settings.imap.user:
        raise click.ClickException("set [imap] host and user (or LETS_IMAP_HOST, LETS_IMAP_USER) first")
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
