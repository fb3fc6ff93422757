"""Every older schema version upgrades to exactly the schema a fresh database gets."""
import pytest

from db.migrations import STEPS, current_version, upgrade

from schema_history import DATA_STEPS, UNDO, downgrade_to, shape


def test_every_migration_step_has_an_undo_for_the_upgrade_tests():
    assert sorted(UNDO) == [number for number, _, _ in STEPS[1:]]


@pytest.mark.parametrize("version", [number for number, _, _ in STEPS[:-1]])
def test_a_database_at_an_older_version_upgrades_to_the_fresh_schema(db, version):
    fresh = shape()
    downgrade_to(version)
    if any(number not in DATA_STEPS for number, _, _ in STEPS if number > version):
        assert shape() != fresh
    done = upgrade()
    assert done == [f"{number}: {description}" for number, description, _ in STEPS if number > version]
    assert current_version() == STEPS[-1][0]
    assert shape() == fresh
    assert upgrade() == []
