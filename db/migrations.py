"""Schema versions: a fresh database gets today's tables, an older one its missing steps.

A step is (version, description, function(migrator)). Add a step whenever a model
changes shape, e.g. `lambda m: migrate(m.add_column("member", "phone", Member.phone))`; the
fresh path creates tables from the models directly, so every step must also be
reflected in db/models.py. A step that maps rows onto the group's settings (the category
list) is bound to them by `steps_for`.
"""
from __future__ import annotations

from playhouse.migrate import SchemaMigrator, migrate

from . import database, listings
from .categories import DEFAULT, Categories
from .models import (MODELS, Address, AnnouncementDelivery, AnnouncementDraft, Budget, Claim, ConfirmToken,
                     ContributionPostponement,
                     Departure, DigestDelivery, EuroCharge, EuroPayment, EuroPostponement, EuroStep, ListingMail,
                     Meeting, MeetingItem, MeetingNotice, Activity, Signup, Member, MemberCoordinator, MemberEvent, PaperGuide, Sanction, Donor, DonorGift, SchemaVersion,
                     SpoolMark, Transfer)


def _membership(migrator) -> None:
    # Household members share an address: the unique key moves from the address alone
    # to (member, address).
    migrate(migrator.drop_index(Address._meta.table_name, "address_email"),
            migrator.add_index(Address._meta.table_name, ("email",), False),
            migrator.add_index(Address._meta.table_name, ("member_id", "email"), True))
    database.create_tables([MemberEvent, Departure, Budget, Claim])


def _listing_links(migrator) -> None:
    database.create_tables([ListingMail])
    migrate(migrator.add_column("transfer", "payee_risk", Transfer.payee_risk),
            migrator.add_index("outbound_message", ("message_id",)),
            migrator.add_index("digest_delivery", ("outbound_key",)))


def _euro(migrator) -> None:
    migrate(migrator.add_column("member", "income_category", Member.income_category))
    database.create_tables([EuroCharge, EuroPayment, EuroPostponement, EuroStep])


def _digest_state(migrator) -> None:
    migrate(*(migrator.add_column("digest_delivery", name, getattr(DigestDelivery, name))
              for name in ("state", "lease", "sent", "error", "message_id")),
            migrator.add_index("digest_delivery", ("period", "state")))
    # Digests sent before this step went through the outbox, which keeps their Message-ID.
    database.execute_sql("UPDATE digest_delivery SET message_id = COALESCE((SELECT o.message_id FROM "
                         "outbound_message o WHERE o.key = digest_delivery.outbound_key), '')")


def _coordinators(migrator) -> None:
    migrate(migrator.add_column("transfer", "confirmed_by", Transfer.confirmed_by))
    database.create_tables([MemberCoordinator])


SCHEMA_STEPS: list[tuple[int, str, callable]] = [
    (1, "members, accounts, listings, inbound and outbound mail", None),
    (2, "membership lifecycle, households, budgets and claims", _membership),
    (3, "trades linked to listings, invoices at the payee's risk", _listing_links),
    (4, "transfer.description_hash: erasable descriptions under the hash chain",
     lambda m: migrate(m.add_column("transfer", "description_hash", Transfer.description_hash))),
    (5, "transfer (payer, number) and (payee, number) indexes: statements without a journal scan",
     lambda m: migrate(m.add_index("transfer", ("payer_id", "number"), False),
                       m.add_index("transfer", ("payee_id", "number"), False))),
    (6, "euro contributions: income category, charges, payments, postponements, steps", _euro),
    (7, "announcements by mail: drafts waiting for confirmation, deliveries of those sent at once",
     lambda m: database.create_tables([AnnouncementDraft, AnnouncementDelivery])),
    (8, "confirm tokens: a cancellation by mail waits for the member's tokened reply",
     lambda m: database.create_tables([ConfirmToken])),
    (9, "digest deliveries keep their own state and Message-ID: digests sent without outbox copies",
     _digest_state),
    (10, "coordinators confirm invoices for members without email: transfer.confirmed_by, member_coordinator",
     _coordinators),
    (11, "spool_mark: the SMTP edge stores into a spool file of its own, the worker takes from it",
     lambda m: database.create_tables([SpoolMark])),
]


def _activity_more(migrator) -> None:
    # Step 19 creates the activity table from today's model, so on a database that went
    # through it in the same upgrade these columns are there already.
    have = {column.name for column in database.get_columns("activity")}
    if "series" in have:
        return
    migrate(*(migrator.add_column("activity", getattr(Activity, name).column_name, getattr(Activity, name))
              for name in ("finish", "price_euro_cents", "budget", "series", "rule", "occurrence", "sequence")),
            migrator.add_column("signup", "sequence", Signup.sequence))


def steps_for(categories: Categories) -> list[tuple[int, str, callable]]:
    """Every step, those that map data bound to the group's category list ([listings] categories)."""
    return [*SCHEMA_STEPS,
            (12, "listing categories and ONLY choices become codes of the group's category list",
             lambda m: listings.recode(categories)),
            (13, "transfer.sender_auth: the DKIM/DMARC verdict of the mail that consented",
             lambda m: migrate(m.add_column("transfer", "sender_auth", Transfer.sender_auth))),
            (14, "paper_guide: members who get the guide and the circle news on paper",
             lambda m: database.create_tables([PaperGuide])),
            (15, "member.adult: whether an applicant said they are 18 or older (article 5.1)",
             lambda m: migrate(m.add_column("member", "adult", Member.adult))),
            (16, "contribution_postponement: the core group postpones a member's contribution in the unit",
             lambda m: database.create_tables([ContributionPostponement])),
            (17, "sanction, donor, donor_gift: the association's decisions against a member (article 22) "
                 "and the donor register (article 6)",
             lambda m: database.create_tables([Sanction, Donor, DonorGift])),
            (18, "meeting, meeting_notice, meeting_item: the general meeting announced by mail and its agenda "
                 "items (article 9.3)",
             lambda m: database.create_tables([Meeting, MeetingNotice, MeetingItem])),
            (19, "activity, signup: activities announced, joined and cancelled by mail, charged once held",
             lambda m: database.create_tables([Activity, Signup])),
            (20, "activity: end, euro price, budget payee, recurring series and calendar sequence; signup.sequence",
             _activity_more)]


STEPS = steps_for(DEFAULT)
LATEST = STEPS[-1][0]


def current_version() -> int:
    if not database.table_exists(SchemaVersion._meta.table_name):
        return 0
    row = SchemaVersion.select().order_by(SchemaVersion.version.desc()).first()
    return row.version if row else 0


def upgrade(steps=None, *, categories: Categories = DEFAULT) -> list[str]:
    """Bring the schema to the latest step; return what was done. Safe to run any number of times."""
    steps = steps_for(categories) if steps is None else steps
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
