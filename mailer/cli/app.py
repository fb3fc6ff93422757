"""The `lets` group itself and what its command modules share: the settings and the database
loaded once (App), the member a command names, the moment it acts at."""
from __future__ import annotations

import datetime as dt
import inspect
import logging
import os
import re
from importlib import metadata
from pathlib import Path

import click
import peewee

from db import database

from .. import settings as settings_module
from ..settings import SettingsError
from ..startup import StartupError, open_database


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

    def db(self, must_exist: bool = True):
        """The database, connected. A SQLite file that is not there is made only by `lets
        init` (and `lets status`, which reports on it); any other command would make an
        empty file and fail on its first table ("no such table: …; try again later"), and
        `lets serve` would answer every member as a stranger, as a coordinator in the
        wrong folder or with a misspelt url met."""
        if not self._connected:
            url = self.settings.database_url
            if must_exist and url.startswith("sqlite:///") and ":memory:" not in url:
                path = Path(url[len("sqlite:///"):])
                # A folder that is a file, or that may not be written, open_database says
                # more precisely.
                if not path.exists() and not path.parent.is_file() and \
                        (not path.parent.exists() or os.access(path.parent, os.W_OK)):
                    # Without a settings file the defaults apply, relative to this folder.
                    here = "" if Path(self.settings_path or "settings.ini").exists() else \
                        f" (and no settings.ini in {Path.cwd()})"
                    raise click.ClickException(
                        f"there is no database at {path}{here}: run `lets init` in the group's folder first, "
                        "or check [database] url (LETS_DATABASE_URL) and --settings (LETS_SETTINGS)")
            try:
                open_database(self.settings.database_url)
            except StartupError as exc:
                raise click.ClickException(str(exc)) from exc
            self._connected = True
        return database


pass_app = click.make_pass_decorator(App)


class Command(click.Command):
    """A command whose --help keeps each `Example:` on a line of its own, as written: click
    rewraps a paragraph, which ran the examples into the sentence before them and broke
    them across lines where they could not be copied."""

    def format_help_text(self, ctx, formatter):
        text = inspect.cleandoc(self.help or "").partition("\f")[0]
        if "Example: " not in text:
            return super().format_help_text(ctx, formatter)
        pieces = []
        for paragraph in text.split("\n\n"):
            prose, *examples = re.split(r"\s*\bExample: ", paragraph)
            if prose.strip():
                pieces.append(prose)
            if examples:   # "\b": click leaves such a paragraph as it is
                pieces.append("\b\n" + "\n".join("Example: " + " ".join(e.split()) for e in examples))
        formatter.write_paragraph()
        with formatter.indentation():
            formatter.write_text("\n\n".join(pieces))


class Commands(click.Group):
    """A group whose --help shows each command's whole first sentence, wrapped, rather than
    cut at the terminal's width; its subgroups (`lets member`, `lets euro`) do the same."""

    group_class = type
    command_class = Command

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


@main.group()
def member():
    """Members and their membership: add and list them, decide on applications, suspend, expel,
    record a notice and settle on leaving, export or forget their data."""


# Shared by the member commands in members.py, privacy.py, sanctions.py and the others.
BY = click.option("--by", "entered_by", default="admin", help="Who decides, kept with the change.")


def member_of(key: str):
    """The member a command names by number or address, or a one-line error."""
    from db import members

    found = members.by_number_or_address(key)
    if found is None:
        raise click.ClickException(f"no member {key}")
    return found


def moment(value):
    """The moment a command acts at: `--at` (UTC, ISO format) or now."""
    from ..message.compose import now_utc

    if not value:
        return now_utc()
    try:
        return dt.datetime.fromisoformat(value).replace(tzinfo=None)
    except ValueError as exc:
        raise click.ClickException(f"--at {value!r}: expected e.g. 2026-11-30T07:30 (UTC)") from exc


def deliver_queued(settings) -> None:
    """Send what the command queued now, rather than leave it for `lets serve`."""
    from ..outbound.outbox import deliver_pending

    while deliver_pending(settings, limit=1000):
        pass


def ledger_error(exc, settings, payer=None) -> click.ClickException:
    """A refusal of the ledger's as a one-line error, in the words of the command line."""
    from .words import refusal

    return refusal(settings, exc, payer)
