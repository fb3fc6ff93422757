"""Step 3 upgrades a database made before trades could be linked to listings."""
from db import database
from db.migrations import STEPS, current_version, upgrade

from schema_history import downgrade_to


def test_a_version_2_database_gets_the_listing_link_table_column_and_indexes(db):
    downgrade_to(2)
    assert "payee_risk" not in [c.name for c in database.get_columns("transfer")]

    done = upgrade()

    assert done[0] == f"3: {STEPS[2][1]}"
    assert current_version() == STEPS[-1][0]
    assert "payee_risk" in [c.name for c in database.get_columns("transfer")]
    assert database.table_exists("listing_mail")
    assert any(i.columns == ["message_id"] for i in database.get_indexes("outbound_message"))
    assert upgrade() == []
