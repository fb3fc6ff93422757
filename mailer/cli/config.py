"""`lets check-config`: every problem with the settings at once, or what they amount to."""
from __future__ import annotations

import re
import sys

import click

from .. import settings as settings_module
from .app import main, pass_app


def _count(problems: list[str]) -> str:
    return f"{len(problems)} problem{'s' if len(problems) != 1 else ''}"


def require_files(settings) -> None:
    """Stop `lets serve` or `lets poll` before it starts when a file the settings name is missing."""
    problems = settings_module.file_problems(settings)
    if problems:
        raise click.ClickException("\n  ".join([f"{_count(problems)} in the settings:", *problems]))


def _hidden(url: str) -> str:
    """A database URL without its password: the summary may be pasted into a help request."""
    return re.sub(r"(://[^:/@]+):[^@]*@", r"\1:***@", url)


def summary(settings) -> list[str]:
    group, inbound, out, imap = settings.group, settings.inbound, settings.outbound, settings.imap
    lines = [f"group: {group.name} <{group.address}>, language {group.language}, time zone {group.timezone}",
             f"database: {_hidden(settings.database_url)}"]
    tls = f"STARTTLS offered with {settings.path(inbound.cert_file)}" if inbound.cert_file else "no STARTTLS"
    lines.append(f"inbound: lets serve takes SMTP on {inbound.host}:{inbound.port} ({tls})")
    if imap.host:
        security = "TLS" if imap.ssl else "STARTTLS" if imap.starttls else "no TLS"
        login = "OAuth2 token" if imap.auth == "oauth2" else "password"
        lines.append(f"inbound: lets poll reads {imap.user}@{imap.host}:{imap.port}/{imap.folder} "
                     f"({security}, {login})")
    if out.mode == "smtp":
        security = ("TLS" if out.implicit_tls or out.relay_port == 465 else "STARTTLS" if out.starttls
                    else "no TLS")
        login = (f"OAuth2 token as {out.relay_user}" if out.auth == "oauth2"
                 else f"password as {out.relay_user}" if out.relay_user else "no login")
        lines.append(f"outbound: relay {out.relay_host}:{out.relay_port} ({security}, {login})")
    else:
        lines.append(f"outbound: into the Maildir {settings.path(out.maildir)} (mail does not leave this machine)")
    return lines


def connections(settings) -> list[tuple[bool, str]]:
    """Log in at the relay and the mailbox the settings name, once, changing nothing:
    (worked, what happened) for each."""
    from imapclient.exceptions import IMAPClientError

    from ..connection_errors import in_words
    from ..inbound.imap import CONNECTION_ERRORS, log_in
    from ..outbound.outbox import RelayUnavailable, SmtpTransport

    done = []
    out, imap = settings.outbound, settings.imap
    if out.mode == "smtp":
        how = "an OAuth2 token" if out.auth == "oauth2" else "a password" if out.relay_user else "no login"
        transport = SmtpTransport(settings)
        try:
            transport.connect()
            done.append((True, f"relay: {out.relay_host}:{out.relay_port} took {how}"
                               + (f" for {out.relay_user}" if out.relay_user else "")))
        except RelayUnavailable as exc:
            done.append((False, f"relay: {exc}"))
        finally:
            transport.close()
    if imap.host:
        how = "an OAuth2 token" if imap.auth == "oauth2" else "a password"
        try:
            client = log_in(settings)
            try:
                messages = client.select_folder(imap.folder, readonly=True)[b"EXISTS"]
            finally:
                client.logout()
            done.append((True, f"mailbox: {imap.host}:{imap.port} took {how} for {imap.user}; "
                               f"{imap.folder} holds {messages} messages"))
        except (*CONNECTION_ERRORS, IMAPClientError) as exc:
            done.append((False, f"mailbox: {imap.host}:{imap.port}: {in_words(exc)}"))
    return done


@main.command("check-config")
@click.option("--connect", is_flag=True,
              help="Also log in at the relay and the IMAP mailbox, once; sends and moves nothing.")
@pass_app
def check_config(app, connect):
    """Check the settings file and LETS_ variables: unknown sections, keys and variables, values
    that are not allowed, files that are missing. Prints every problem and exits 1, or prints
    "settings OK" and what the settings amount to. `lets serve` and `lets poll` make the same
    checks before they start. With --connect it also logs in where the settings say (the
    relay, the mailbox), which tries a password or a token_command for real.

    Example: lets --settings /etc/lets/settings.ini check-config --connect
    """
    try:
        settings, problems, path = settings_module.examine(app.settings_path, files=True)
    except settings_module.SettingsError as exc:  # no file, or one configparser cannot read
        raise click.ClickException(str(exc)) from exc
    where = path.resolve() if path.exists() else f"{path} (not found: defaults and LETS_ variables only)"
    if problems:
        click.echo(f"{_count(problems)} in the settings: {where}", err=True)
        for problem in problems:
            click.echo(f"  {problem}", err=True)
        sys.exit(1)
    click.echo(f"settings OK: {where}")
    for line in summary(settings):
        click.echo(f"  {line}")
    if connect:
        failed = False
        for worked, said in connections(settings):
            click.echo(f"  {said}", err=not worked)
            failed = failed or not worked
        if failed:
            sys.exit(1)
