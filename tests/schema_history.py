"""Older schemas for upgrade tests: how to take a fresh database back to any earlier version.

Every migration step in db/migrations.py gets its undo here, so a test can build a real
version-N database and check that upgrading it gives exactly the fresh schema.
"""
from playhouse.migrate import SchemaMigrator, SqliteMigrator, migrate

from db import database
from db.models import (MODELS, Activity, AnnouncementDelivery, AnnouncementDraft, Budget, Claim, ConfirmToken,
                       ContributionPostponement, Departure,
                       EuroCharge, EuroPayment, EuroPostponement, EuroStep, ListingMail, Meeting, MeetingItem,
                       MeetingNotice, MemberCoordinator,
                       MemberEvent, PaperGuide, Sanction, Donor, DonorGift, SchemaVersion, Signup, SpoolMark)


def _before_membership(m):
    database.drop_tables([Claim, Budget, Departure, MemberEvent])
    migrate(m.drop_index("address", "address_member_id_email"),
            m.drop_index("address", "address_email"),
            m.add_index("address", ("email",), True))


def _before_listing_links(m):
    database.drop_tables([ListingMail])
    migrate(m.drop_index("outbound_message", "outbound_message_message_id"),
            m.drop_index("digest_delivery", "digest_delivery_outbound_key"),
            m.drop_column("transfer", "payee_risk"))


def _before_description_hash(m):
    migrate(m.drop_column("transfer", "description_hash"))


def _before_statement_indexes(m):
    migrate(m.drop_index("transfer", "transfer_payer_id_number"),
            m.drop_index("transfer", "transfer_payee_id_number"))


def _before_euro(m):
    database.drop_tables([EuroStep, EuroPostponement, EuroPayment, EuroCharge])
    migrate(m.drop_column("member", "income_category"))


def _before_announcements(m):
    database.drop_tables([AnnouncementDelivery, AnnouncementDraft])


def _before_confirm_tokens(m):
    database.drop_tables([ConfirmToken])


def _before_digest_state(m):
    migrate(m.drop_index("digest_delivery", "digest_delivery_message_id"),
            m.drop_index("digest_delivery", "digest_delivery_period_state"),
            *(m.drop_column("digest_delivery", name) for name in ("state", "lease", "sent", "error", "message_id")))


def _before_coordinators(m):
    database.drop_tables([MemberCoordinator])
    migrate(m.drop_column("transfer", "confirmed_by"))


def _before_spool_mark(m):
    database.drop_tables([SpoolMark])


def _before_category_codes(m):
    """Step 12 changes rows, not the schema: codes never turn back into what members typed.
    tests/test_categories.py writes free-text categories into a version-11 database itself."""


def _before_sender_auth(m):
    migrate(m.drop_column("transfer", "sender_auth"))


def _before_paper_guide(m):
    database.drop_tables([PaperGuide])


def _before_adult(m):
    migrate(m.drop_column("member", "adult"))


def _before_contribution_postponement(m):
    database.drop_tables([ContributionPostponement])


def _before_sanctions_and_donors(m):
    database.drop_tables([DonorGift, Donor, Sanction])


def _before_meetings(m):
    database.drop_tables([MeetingItem, MeetingNotice, Meeting])


def _before_activities(m):
    database.drop_tables([Signup, Activity])


def _before_activity_more(m):
    migrate(m.drop_index("activity", "activity_series"), m.drop_index("activity", "activity_budget_id"),
            *(m.drop_column("activity", name) for name in ("finish", "price_euro_cents", "series", "rule", "occurrence", "sequence")))
    # SQLite's own DROP COLUMN refuses a foreign key: peewee's rebuild of the table does it.
    legacy = {"legacy": True} if isinstance(m, SqliteMigrator) else {}
    migrate(m.drop_column("activity", "budget_id", **legacy), m.drop_column("signup", "sequence"))


# step → what undoes it; a new migration step adds its undo here (a test checks that).
UNDO = {2: _before_membership, 3: _before_listing_links, 4: _before_description_hash,
        5: _before_statement_indexes, 6: _before_euro,
        7: _before_announcements, 8: _before_confirm_tokens, 9: _before_digest_state,
        10: _before_coordinators, 11: _before_spool_mark, 12: _before_category_codes,
        13: _before_sender_auth, 14: _before_paper_guide, 15: _before_adult,
        16: _before_contribution_postponement, 17: _before_sanctions_and_donors,
        18: _before_meetings, 19: _before_activities, 20: _before_activity_more}
# Steps that change rows only: undoing them leaves the schema as it is.
DATA_STEPS = {12}


def downgrade_to(version: int) -> None:
    migrator = SchemaMigrator.from_database(database.obj)
    for number in sorted(UNDO, reverse=True):
        if number > version:
            UNDO[number](migrator)
    SchemaVersion.delete().execute()
    SchemaVersion.create(version=version)


def shape() -> dict:
    """Each table's columns and indexes, to compare an upgraded schema with a fresh one."""
    tables = {}
    for model in MODELS:
        name = model._meta.table_name
        columns = sorted((c.name, c.data_type.lower(), c.null) for c in database.get_columns(name))
        indexes = sorted((tuple(i.columns), i.unique) for i in database.get_indexes(name))
        tables[name] = (columns, indexes)
    return tables
