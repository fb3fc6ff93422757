"""`lets init`: a settings file, the database, the token secret and the DKIM key; demo members."""
from __future__ import annotations

import secrets
import shutil
from pathlib import Path

import click

from db import listings, members
from db.migrations import upgrade
from db.models import Member

from ..outbound import dkim
from .app import main, pass_app

# The settings.ini `lets init` writes where there is none: the checkout's own, shipped in
# the wheel as package data (see pyproject.toml).
EXAMPLE_SETTINGS = Path(__file__).resolve().parent.parent / "example" / "settings.ini"

DEMO_MEMBERS = [
    ("An de Vries", "an@example.org", "regular", "nl"),
    ("Piet Jansen", "piet@example.org", "regular", "nl"),
    ("Claire Dubois", "claire@example.org", "regular", "fr"),
    ("Sam Taylor", "sam@example.org", "guest", "en"),
]


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
    written_now = not written.exists()
    if written_now:
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
    made = dkim.prepare(settings)
    if not written_now or len(made) < 2:
        for line in made:
            click.echo(line)
    else:
        # The records would name the example's domain (lets.example), not yet the group's.
        click.echo(f"{made[0]}; once [group] address is set in {written}, `lets show-dns` prints "
                   "the DNS records to publish")
    app.db(must_exist=False)
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
