"""The `lets` command line: the administrators' interface and the composition root."""
from __future__ import annotations

import json
import logging
import secrets
import shutil
import signal
import sqlite3
import sys
from importlib import metadata
from pathlib import Path

import click
import peewee

from db import database, listings, members
from db.migrations import upgrade
from db.models import InboundMessage, Member, OutboundMessage

from ..transport import dkim
from .. import settings as settings_module
from ..settings import SettingsError
from ..startup import ServeLock, StartupError, cannot_listen, open_database

# The settings.ini `lets init` writes where there is none: the checkout's own, shipped in
# the wheel as package data (see pyproject.toml).
EXAMPLE_SETTINGS = Path(__file__).resolve().parent.parent / "example" / "settings.ini"

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
            try:
                open_database(self.settings.database_url)
            except StartupError as exc:
                raise click.ClickException(str(exc)) from exc
            self._connected = True
        return database


pass_app = click.make_pass_decorator(App)


class Commands(click.Group):
    """A group whose --help shows each command's whole first sentence, wrapped, rather than
    cut at the terminal's width; its subgroups (`lets member`, `lets euro`) do the same."""

    group_class = type

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except (peewee.OperationalError, peewee.InterfaceError) as exc:
            # A database away or busy past its timeout is for the administrator to retry,
            # not a bug: say so in one line rather than with a traceback.
            said = " ".join(str(exc).split())  # PostgreSQL's messages span lines
            raise click.ClickException(f"the database did not answer: {said}; try again later") from exc

    def format_commands(self, ctx, formatter):
        rows = []
        for name in self.list_commands(ctx):
            command = self.get_command(ctx, name)
            if command is not None and not command.hidden:
                rows.append((name, command.get_short_help_str(limit=500)))
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


def _version() -> str:
    try:
        return metadata.version("lets-mail")
    except metadata.PackageNotFoundError:  # a checkout used without installing it
        return "unknown (not installed)"


@click.group(cls=Commands)
@click.version_option(_version(), "--version", prog_name="lets-mail", message="%(prog)s %(version)s")
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
    """Write a settings.ini where there is none, create or upgrade the database and
    generate the token secret and DKIM key; safe to repeat.

    A new DKIM key comes with the DNS records to publish (see lets show-dns).

    Example: lets init --demo
    """
    written = Path(app.settings_path or "settings.ini")
    if not written.exists():
        try:
            written.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(EXAMPLE_SETTINGS, written)
        except OSError as exc:
            raise click.ClickException(f"cannot write {written}: {exc.strerror or exc}") from exc
        click.echo(f"wrote {written}: set [group] name, address and language there")
    settings = app.settings
    secret_file = settings.path(settings.security.secret_file)
    if not settings.security.secret and not secret_file.exists():
        secret_file.parent.mkdir(parents=True, exist_ok=True)
        secret_file.write_text(secrets.token_urlsafe(32) + "\n")
        secret_file.chmod(0o600)
        click.echo(f"generated a token secret in {secret_file}")
    for line in dkim.prepare(settings):
        click.echo(line)
    app.db()
    categories = settings.listings.categories
    for line in upgrade(categories=categories) or ["schema is up to date"]:
        click.echo(line)
    members.ensure_system_accounts()
    # After an edit of [listings] categories: listings under a code that is gone move on.
    moved = listings.recode(categories)
    if moved:
        click.echo(f"{moved} listings moved onto the category list")
    if demo and not Member.select().exists():
        for name, address, kind, language in DEMO_MEMBERS:
            member = members.add(name, address, type=kind, language=language)
            click.echo(f"demo member {member.number}: {name} <{address}>")


@main.group()
def member():
    """Members and their membership: add and list them, decide on applications, suspend, expel,
    record a notice and settle on leaving, export or forget their data."""


# Shared by the member commands here and in cli_members.py and cli_sanctions.py.
BY = click.option("--by", "entered_by", default="admin", help="Who decides, kept with the change.")


def member_of(key: str):
    """The member a command names by number or address, or a one-line error."""
    from db import members

    found = members.by_number_or_address(key)
    if found is None:
        raise click.ClickException(f"no member {key}")
    return found


@member.command("add")
@click.argument("name")
@click.argument("address", required=False)
@click.option("--type", "kind", default=None,
              type=click.Choice(["regular", "household", "guest", "honorary", "organisation"]),
              help="Default: regular, or household with --household-of.")
@click.option("--language", default=None, type=click.Choice(["nl", "en", "fr"]),
              help="Defaults to the group's language.")
@click.option("--household-of", "household_of", default=None,
              help="A member (number or address) whose address the new member shares; ADDRESS may be left out.")
@pass_app
def member_add(app, name, address, kind, language, household_of):
    """Add a member and print the new member's number.

    Without ADDRESS the member has no email and trades through a coordinator (VOOR).
    Example: lets member add "An de Vries" an@example.org --language nl
    Example: lets member add "Bo de Vries" --household-of 1
    """
    app.db()
    housemate = None
    if household_of:
        housemate = members.by_number_or_address(household_of)
        if housemate is None:
            raise click.ClickException(f"no member {household_of}")
    try:
        new = members.add(name, address, type=kind or ("household" if housemate else "regular"),
                          language=language or app.settings.group.language, household_of=housemate)
    except members.MemberError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(new.number)


@member.command("list")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
@pass_app
def member_list(app, as_json):
    """List members with their number, type, status, language and addresses, "paper"
    for those who get the guide on paper, and a sanction that stands (warning, termination).

    Example: lets member list --json
    """
    from db import paper, sanctions

    app.db()
    on_paper = paper.readers()
    for row in Member.select().order_by(Member.number):
        addresses = [a.email for a in row.addresses]
        balance = members.account(row).balance_cents
        if as_json:
            click.echo(json.dumps({"number": row.number, "name": row.name, "type": row.type,
                                   "status": row.status, "language": row.language,
                                   "digest": row.digest, "addresses": addresses,
                                   "balance_cents": balance, "paper": row.id in on_paper,
                                   "adult": row.adult, "sanction": sanctions.described(row)}))
        else:
            sanction = sanctions.described(row)
            click.echo(f"{row.number:>5}  {row.name:<30} {row.type:<12} {row.status:<10} "
                       f"{row.language}  {', '.join(addresses)}" + ("  paper" if row.id in on_paper else "")
                       + (f"  [{sanction}]" if sanction else ""))


@main.command()
@click.option("--port", type=int, default=None, help="Override [inbound] port.")
@pass_app
def serve(app, port):
    """Receive mail by SMTP, process it and deliver replies until stopped.

    Example: lets serve --port 2525
    """
    from .config import require_files
    from ..health import Record
    from ..transport.smtp import controller
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
    from ..transport.web import start as start_web
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
    from ..transport.outbox import MAILDIR_ADVICE, DestinationUnavailable, deliver_pending
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


def _ledger_error(exc, settings, payer=None) -> click.ClickException:
    from .words import refusal

    return refusal(settings, exc, payer)


@main.group()
def ledger():
    """The journal of transfers: check, verify, reverse."""


@ledger.command("check")
@pass_app
def ledger_check(app):
    """Check that every balance equals its booked transfers and that all sum to zero.

    Exits 1 and names each problem when they do not. Example: lets ledger check
    """
    from db import ledger as journal

    app.db()
    problems = journal.check()
    for problem in problems:
        click.echo(problem, err=True)
    if problems:
        sys.exit(1)
    click.echo("balances match the booked transfers and sum to zero")


@ledger.command("verify")
@pass_app
def ledger_verify(app):
    """Recompute the journal's hash chain and name the first broken row.

    Example: lets ledger verify
    """
    from db import ledger as journal

    from db.models import Transfer

    from .progress import progress

    app.db()
    with progress("transfers", Transfer.select().where(Transfer.number.is_null(False)).count()) as advance:
        checked, broken = journal.verify(on_rows=advance)
    if broken:
        click.echo(f"broken after {checked} good transfers: {broken}", err=True)
        sys.exit(1)
    click.echo(f"{checked} booked transfers verified; head {journal.head_hash()}")


@ledger.command("reverse")
@click.argument("number", type=int)
@click.option("--by", "entered_by", default="admin", help="Who enters the correction.")
@pass_app
def ledger_reverse(app, number, entered_by):
    """Correct a booked transfer with a new, reversing one (the original stays).

    Example: lets ledger reverse 12
    """
    from db import ledger as journal

    from ..runs import trades
    from ..message.compose import now_utc

    app.db()
    try:
        booking = trades.reverse(app.settings, number, now=now_utc(), entered_by=entered_by)
    except journal.LedgerError as exc:
        raise _ledger_error(exc, app.settings) from exc
    click.echo(f"booked #{booking.transfer.number}")


@main.command()
@click.argument("payer")
@click.argument("payee")
@click.argument("amount")
@click.argument("description")
@click.option("--by", "entered_by", default="admin", help="Who enters it, shown on statements.")
@pass_app
def trade(app, payer, payee, amount, description, entered_by):
    """Book a trade made on paper or by phone at once and mail both members a receipt.

    PAYER and PAYEE are member numbers, addresses, or a system account (solidarity).
    Example: lets trade 3 piet@example.org 12,50 "fietsherstel"
    """
    from db import ledger as journal
    from db.money import AmountError, parse_amount

    from ..runs import trades
    from .words import not_an_amount
    from ..message.compose import now_utc

    app.db()
    try:
        cents = parse_amount(amount)
        booking = trades.enter(app.settings, payer, payee, cents, description, now=now_utc(),
                               entered_by=entered_by)
    except AmountError as exc:
        raise not_an_amount(amount, exc.code) from exc
    except journal.LedgerError as exc:
        payer_account = None if exc.code != "over-lower" else trades.account_for(payer)
        raise _ledger_error(exc, app.settings, payer_account) from exc
    if booking.state == "open":
        click.echo(f"kept open: the payee is at the upper limit (transfer id {booking.transfer.id})")
    else:
        click.echo(f"booked #{booking.transfer.number}")


@main.group()
def trades():
    """Proposed trades: reminders and expiry."""


@trades.command("expire")
@pass_app
def trades_expire(app):
    """Remind payers once and expire unanswered proposals; run daily from the scheduler.

    Example: lets trades expire
    """
    from ..runs import trades as trade_mail
    from ..message.compose import now_utc

    app.db()
    reminded, expired = trade_mail.expire(app.settings, now_utc())
    click.echo(f"reminded {reminded}, expired {expired}")


@main.command("set-limits")
@click.argument("member_key")
@click.option("--lower", help="The member's own lower limit, e.g. -500.")
@click.option("--upper", help="The member's own upper limit, e.g. 500.")
@pass_app
def set_limits(app, member_key, lower, upper):
    """Give one member limits of their own, overriding the member type's.

    Example: lets set-limits 3 --lower -500 --upper 800
    """
    from db import limits
    from db.money import AmountError, parse_amount

    app.db()
    member_row = members.by_number_or_address(member_key)
    if member_row is None:
        raise click.ClickException(f"no member {member_key}")

    def cents(text):
        if text is None:
            return None
        try:
            value = parse_amount(text.lstrip("-"), allow_zero=True)
        except AmountError as exc:
            raise not_an_amount(text, exc.code) from exc
        return -value if text.strip().startswith("-") else value

    from .words import member, not_an_amount, units
    from ..message.compose import now_utc

    limits.set_own(member_row, cents(lower), cents(upper))
    low, high = limits.for_member(member_row, app.settings.limits, now_utc().date())
    click.echo(f"{member(member_row)}: {units(app.settings, low)} to {units(app.settings, high)}")


@main.group()
def digest():
    """The periodic digest: preview, send."""


def _moment(value):
    import datetime as dt

    from ..message.compose import now_utc
    if not value:
        return now_utc()
    try:
        return dt.datetime.fromisoformat(value).replace(tzinfo=None)
    except ValueError as exc:
        raise click.ClickException(f"--at {value!r}: expected e.g. 2026-11-30T07:30 (UTC)") from exc


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
    found = members.by_number_or_address(member_key)
    if found is None:
        raise click.ClickException(f"no member {member_key}")
    try:
        outgoing = preview(app.settings, found, _moment(None))
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
    from ..transport.outbox import deliver_pending
    from ..runs.schedule import ScheduleError

    from .progress import progress
    from ..transport.fanout import sender_for

    settings = app.settings
    app.db()
    sender = sender_for(settings, deliver=not no_deliver)
    try:
        with progress("digests") as advance:
            queued = run_scheduled(settings, _moment(at), sender=sender, on_batch=advance)
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


@main.group()
def contributions():
    """The contribution in the unit: advance notice, the run, waivers."""


def _contribution_period(app, label, today=None):
    from db.contributions import ContributionError

    from ..runs import contributions as contribution_mail
    from ..message.compose import now_utc

    try:
        return contribution_mail.period_for(app.settings, label, today or now_utc().date())
    except ContributionError as exc:
        raise click.ClickException(str(exc)) from exc


AT = click.option("--at", "at", default=None, help="Act as if it were this UTC moment (ISO format; default now).")


@contributions.command("run")
@click.option("--period", "label", help="2026Q4, 2026-11 or 2026; default: the period containing today.")
@click.option("--early", is_flag=True, help="Charge a period before its last day (article 8.3.2 charges on it).")
@AT
@pass_app
def contributions_run(app, label, early, at):
    """Debit every member's contribution for the period to the association account, once.

    Safe to repeat, restart or run late: members charged or waived before are skipped.
    A period is charged on its last day; before it, only with --early.
    Example: lets contributions run --period 2026Q4
    """
    from ..runs import contributions as contribution_mail
    from ..runs.dues import local_date

    app.db()
    now = _moment(at)
    today = local_date(app.settings, now)
    period = _contribution_period(app, label, today)
    if contribution_mail.not_yet_due(period, today) and not early:
        raise click.ClickException(f"{period.label} has not ended: it is charged on its last day, "
                                   f"{period.last_day.isoformat()} (article 8.3.2); add --early to charge it now")
    from db.contributions import candidates

    from .progress import progress

    members_to_see = candidates()
    with progress(f"{period.label} members", len(members_to_see)) as advance:
        outcome = contribution_mail.run(app.settings, period, now=now, candidates=members_to_see,
                                        on_member=advance)
    click.echo(f"{period.label}: charged {len(outcome.charged)}, skipped {outcome.skipped}")


@contributions.command("notify")
@click.option("--period", "label", help="2026Q4, 2026-11 or 2026; default: the period containing today.")
@AT
@pass_app
def contributions_notify(app, label, at):
    """Send each member who will be charged the amount and the date, once per period.

    Example: lets contributions notify --period 2026Q4
    """
    from ..runs import contributions as contribution_mail
    from ..runs.dues import local_date

    app.db()
    now = _moment(at)
    period = _contribution_period(app, label, local_date(app.settings, now))
    from db.contributions import candidates

    from .progress import progress

    members_to_see = candidates()
    with progress(f"{period.label} members", len(members_to_see)) as advance:
        sent = contribution_mail.notify(app.settings, period, now=now, candidates=members_to_see,
                                        on_member=advance)
    click.echo(f"{period.label}: notified {sent}")


@contributions.command("waive")
@click.argument("member_key")
@click.argument("label", required=False)
@click.option("--year", type=int, default=None, help="Waive the whole year (every period in it) instead.")
@click.option("--reason", required=True, help="Why the member pays nothing for this period.")
@click.option("--by", "entered_by", default="admin", help="Who grants the waiver.")
@AT
@pass_app
def contributions_waive(app, member_key, label, year, reason, entered_by, at):
    """Record that a member pays no contribution for a period or a year (article 8.2.4); the
    run then skips them and the member is told.

    Example: lets contributions waive 3 2026Q4 --reason "abroad all quarter"
    Example: lets contributions waive 3 --year 2027 --reason "long illness"
    """
    from db import contributions as contribution_rules

    from ..runs import contributions as contribution_mail

    if (label is None) == (year is None):
        raise click.ClickException("name a period (2026Q4) or --year, not both")
    app.db()
    member_row = members.by_number_or_address(member_key)
    if member_row is None:
        raise click.ClickException(f"no member {member_key}")
    period = _contribution_period(app, label or str(year))
    try:
        contribution_mail.waive(app.settings, member_row, period, reason, now=_moment(at), entered_by=entered_by)
    except contribution_rules.ContributionError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"{member_row.name}: waived for {period.label}")


@contributions.command("postpone")
@click.argument("member_key")
@click.option("--until", "until", required=True, help="The day (YYYY-MM-DD) the contribution is charged from.")
@click.option("--reason", required=True, help="Why, in a sentence the member will read.")
@click.option("--by", "entered_by", default="admin", help="Who grants the postponement.")
@AT
@pass_app
def contributions_postpone(app, member_key, until, reason, entered_by, at):
    """Postpone a member's contribution (article 8.3.3): periods that end before --until are
    not charged then, but by the first run from that day; the member is told.

    Example: lets contributions postpone 3 --until 2027-09-01 --reason "waiting for benefits"
    """
    import datetime as dt

    from db import contributions as contribution_rules

    from ..runs import contributions as contribution_mail

    try:
        day = dt.date.fromisoformat(until)
    except ValueError:
        raise click.ClickException(f"--until {until!r} is not a date such as 2027-09-01") from None
    app.db()
    member_row = members.by_number_or_address(member_key)
    if member_row is None:
        raise click.ClickException(f"no member {member_key}")
    try:
        contribution_mail.postpone(app.settings, member_row, day, reason, now=_moment(at), entered_by=entered_by)
    except contribution_rules.ContributionError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"{member_row.name}: contribution postponed until {day}")


@main.command()
@pass_app
def poll(app):
    """Read the group's mail from the IMAP mailbox in [imap], answer it, and deliver replies until stopped.

    Messages are moved to the Processed, Ignored or Failed folder once stored.
    The password comes best from the environment (LETS_IMAP_PASSWORD).

    Example: lets poll
    """
    from .config import require_files
    from ..transport.imap import Poller
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


from . import budget as cli_budget, members as cli_members  # noqa: E402,F401  (registers their commands)
from . import trades as cli_trades  # noqa: E402,F401  (registers its commands)
from . import privacy as cli_privacy  # noqa: E402,F401  (registers its commands)
from . import euro as cli_euro  # noqa: E402,F401  (registers its commands)
from . import report as cli_report  # noqa: E402,F401  (registers its commands)
from . import announce as cli_announce  # noqa: E402,F401  (registers its commands)
from . import coordinators as cli_coordinators  # noqa: E402,F401  (registers its commands)
from . import dns as cli_dns  # noqa: E402,F401  (registers its commands)
from . import guide as cli_guide  # noqa: E402,F401  (registers its commands)
from . import status as cli_status  # noqa: E402,F401  (registers its commands)
from . import sanctions as cli_sanctions, donors as cli_donors  # noqa: E402,F401  (registers their commands)
from . import meeting as cli_meeting  # noqa: E402,F401  (registers its commands)
from . import importing as cli_import  # noqa: E402,F401  (registers its commands)
from . import config as cli_config  # noqa: E402,F401  (registers its commands)

