"""Schema versions: a fresh database gets today's tables, an older one its missing steps.

A step is (version, description, function(migrator)). Add a step whenever a model
changes shape, e.g. `lambda m: migrate(m.add_column("member", "phone", Member.phone))`; the
fresh path creates tables from the models directly, so every step must also be
reflected in db/models.py.
"""
from __future__ import annotations

from playhouse.migrate import SchemaMigrator, migrate

from . import database
from .models import MODELS, AnnouncementDelivery, AnnouncementDraft, SchemaVersion

STEPS: list[tuple[int, str, callable]] = [
    (1, "members, accounts, listings, inbound and outbound mail", None),
    (2, "announcements by mail: drafts waiting for confirmation, deliveries of those sent at once",
     lambda m: database.create_tables([AnnouncementDraft, AnnouncementDelivery])),
]

LATEST = STEPS[-1][0]


def current_version() -> int:
    if not database.table_exists(SchemaVersion._meta.table_name):
        return 0
    row = SchemaVersion.select().order_by(SchemaVersion.version.desc()).first()
    return row.version if row else 0


def upgrade(steps=None) -> list[str]:
    """Bring the schema to the latest step; return what was done. Safe to run any number of times."""
    steps = STEPS if steps is None else steps
    latest = steps[-1][0]
    done = []
    with database.atomic():
        version = current_version()
        if version == 0:
            database.create_tables(MODELS)
            SchemaVersion.create(version=latest)
            return [f"created schema version {latest}"]
        migrator = SchemaMigrator.from_database(database.obj)
        for number, description, step in steps:
            if number > version:
                step(migrator)
                SchemaVersion.create(version=number)
                done.append(f"{number}: {description}")
    return done
