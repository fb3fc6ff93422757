"""Step 3 upgrades a database made before trades could be linked to listings."""
from playhouse.migrate import SchemaMigrator

from db import database
from db.migrations import STEPS, current_version, migrate, upgrade
from db.models import ListingMail, SchemaVersion


def test_a_version_2_database_gets_the_listing_link_table_column_and_indexes(db):
    migrator = SchemaMigrator.from_database(database.obj)
    database.drop_tables([ListingMail])
    migrate(migrator.drop_index("outbound_message", "outbound_message_message_id"),
            migrator.drop_index("digest_delivery", "digest_delivery_outbound_key"),
            migrator.drop_column("transfer", "payee_risk"))
    SchemaVersion.delete().execute()
    SchemaVersion.create(version=2)

    done = upgrade()

    assert done and done == [f"3: {STEPS[2][1]}"]
    assert current_version() == 3
    assert "payee_risk" in [c.name for c in database.get_columns("transfer")]
    assert database.table_exists("listing_mail")
    assert any(i.columns == ["message_id"] for i in database.get_indexes("outbound_message"))
    assert upgrade() == []
