"""Schema versions: a fresh database is created at the latest version; an old one is upgraded."""
from peewee import CharField

from db import database
from db.migrations import STEPS, current_version, migrate, upgrade


def test_fresh_database_is_at_the_latest_version_and_upgrade_is_idempotent(db):
    assert current_version() == STEPS[-1][0]
    assert upgrade() == []


def test_an_older_database_gets_the_missing_steps_once(db):
    phone = CharField(default="")
    steps = [*STEPS, (STEPS[-1][0] + 1, "members' phone numbers",
                      lambda m: migrate(m.add_column("member", "phone", phone)))]
    assert upgrade(steps) == [f"{steps[-1][0]}: members' phone numbers"]
    assert "phone" in [c.name for c in database.get_columns("member")]
    assert current_version() == steps[-1][0]
    assert upgrade(steps) == []
