"""The group's data: members and their addresses, accounts, listings, and mail in and out."""
from __future__ import annotations

import datetime as dt

from peewee import (
    BigIntegerField,
    BlobField,
    BooleanField,
    CharField,
    DateField,
    DateTimeField,
    ForeignKeyField,
    IntegerField,
    Model,
    TextField,
)

from . import database
from .prepared import Prepared

MEMBER_TYPES = ("regular", "household", "guest", "honorary", "organisation")
MEMBER_STATUSES = ("applicant", "active", "suspended", "leaving", "left", "refused", "expelled")
LANGUAGES = ("nl", "en", "fr", "de")
DIGEST_PREFERENCES = ("weekly", "daily", "instant", "off")
LISTING_KINDS = ("offer", "request")
LEVELS = ("A", "S", "V")  # amateur, semi-skilled, professional (vakman)


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)


class BaseModel(Model):
    class Meta:
        database = database
        legacy_table_names = False


class Member(BaseModel):
    number = IntegerField(unique=True)
    name = CharField(max_length=200)
    type = CharField(max_length=20, default="regular")
    status = CharField(max_length=20, default="active")
    language = CharField(max_length=2, default="nl")
    digest = CharField(max_length=10, default="weekly")
    joined = DateField(default=dt.date.today)
    created = DateTimeField(default=utcnow)
    # The euro contribution's income category: A up to the minimum wage, B up to the
    # group's set income, C above (see [euro]).
    income_category = CharField(max_length=1, default="A")
    # 18 or older (article 5.1), as the applicant said: True, False, or None when not asked or not answered.
    adult = BooleanField(null=True)

    @property
    def primary_address(self) -> str | None:
        return _primary_address.scalar(self.id)


class Address(BaseModel):
    member = ForeignKeyField(Member, backref="addresses", on_delete="CASCADE")
    # Stored lower-cased: mail systems compare addresses case-insensitively in practice.
    # Not unique: the members of a household share one address, each with an account.
    email = CharField(max_length=320, index=True)
    primary = BooleanField(default=False)
    failing = BooleanField(default=False)

    class Meta:
        indexes = ((("member", "email"), True),)


# Asked for every reply to a member: the SQL is made once (prepared.py).
_primary_address = Prepared(lambda member: Address.select(Address.email).where(Address.member == member)
                            .order_by(Address.primary.desc(), Address.id).limit(1), 1, reads=["address"])


class Account(BaseModel):
    """One per member, plus system accounts (association, solidarity fund, budgets)."""
    code = CharField(max_length=50, unique=True)
    member = ForeignKeyField(Member, backref="accounts", null=True, unique=True)
    name = CharField(max_length=200)
    # Exact money: integer hundredths of the unit, never floats.
    balance_cents = BigIntegerField(default=0)


class InboundMessage(BaseModel):
    """Every mail we accepted, stored before we answered 250 and processed from here."""
    message_id = CharField(max_length=998, unique=True)
    raw = BlobField()
    # The envelope sender: "" is the null return path, NULL unknown (read from a mailbox).
    mail_from = CharField(max_length=998, null=True, default="")
    rcpt_tos = TextField(default="")
    received_at = DateTimeField(default=utcnow, index=True)
    # received → processed | ignored | failed
    state = CharField(max_length=12, default="received", index=True)
    reason = TextField(default="")
    kind = CharField(max_length=30, default="")
    sender = CharField(max_length=320, default="")
    member = ForeignKeyField(Member, null=True, backref="inbound", on_delete="SET NULL")
    processed_at = DateTimeField(null=True)

    class Meta:
        # The flood throttle counts a sender's mails of the last hour.
        indexes = ((("sender", "processed_at"), False),)


class OutboundMessage(BaseModel):
    """The outbox: written in the same transaction as the change a mail reports."""
    created = DateTimeField(default=utcnow, index=True)
    # A unique name for the message, so a delivery retried after a crash is recognised.
    key = CharField(max_length=64, unique=True)
    # Indexed: a reply's In-Reply-To is looked up here to find the digest it answers.
    message_id = CharField(max_length=998, index=True)
    mail_from = CharField(max_length=320)
    recipient = CharField(max_length=320)
    raw = BlobField()
    kind = CharField(max_length=30, default="")
    inbound = ForeignKeyField(InboundMessage, null=True, backref="replies", on_delete="SET NULL")
    # queued → sent | failed
    state = CharField(max_length=10, default="queued", index=True)
    attempts = IntegerField(default=0)
    next_attempt = DateTimeField(default=utcnow)
    last_error = TextField(default="")
    sent_at = DateTimeField(null=True)


class Listing(BaseModel):
    member = ForeignKeyField(Member, backref="listings")
    kind = CharField(max_length=10)
    title = CharField(max_length=200)
    description = TextField(default="")
    category = CharField(max_length=60, default="")
    level = CharField(max_length=1, default="")
    rate_cents = BigIntegerField(null=True)
    rate_text = CharField(max_length=200, default="")
    created = DateTimeField(default=utcnow, index=True)
    expires = DateField(index=True)
    # active → withdrawn | expired
    status = CharField(max_length=10, default="active", index=True)
    source = ForeignKeyField(InboundMessage, null=True, on_delete="SET NULL")


class Notice(BaseModel):
    """When we last told an address something we tell at most once in a while."""
    address = CharField(max_length=320)
    kind = CharField(max_length=30)
    sent_at = DateTimeField(default=utcnow)

    class Meta:
        indexes = ((("address", "kind"), True),)


class MailboxState(BaseModel):
    """How far `lets poll` got in one IMAP folder: UIDs are only comparable within one UIDVALIDITY."""
    mailbox = CharField(max_length=500, unique=True)   # user@host:port/folder
    uidvalidity = BigIntegerField(default=0)
    last_uid = BigIntegerField(default=0)
    checked_at = DateTimeField(null=True)


class SpoolMark(BaseModel):
    """How far the worker has taken mail from an inbound spool (db/spool.py), written in
    the transaction that stores what it took."""
    spool = CharField(max_length=64, primary_key=True)
    last_id = IntegerField()


class SchemaVersion(BaseModel):
    version = IntegerField()
    applied_at = DateTimeField(default=utcnow)


TRANSFER_STATES = ("pending", "open", "booked", "rejected", "expired", "cancelled", "draft")


class Transfer(BaseModel):
    """One movement of credit from `payer` to `payee`; written only by db/ledger.py.

    pending: waiting for the payer's consent; open: consented, waiting for room under
    the payee's upper limit; booked: in the journal, never edited again (a correction
    is a reversing transfer); rejected, expired, cancelled: never booked. draft: an
    invoice a coordinator wrote for a member without email (VOOR), waiting for the
    coordinator's own tokened JA before the payer is asked (then pending)."""
    amount_cents = BigIntegerField()
    payer = ForeignKeyField(Account, backref="debits")
    payee = ForeignKeyField(Account, backref="credits")
    description = CharField(max_length=500)
    state = CharField(max_length=10, default="pending", index=True)
    # Who asked for it: payer (BETAAL, SCHENK), payee (FACTUUR), admin (lets trade), proxy.
    initiator = CharField(max_length=10, default="payer")
    entered_by = CharField(max_length=320, default="")
    source = ForeignKeyField(InboundMessage, null=True, backref="transfers", on_delete="SET NULL")
    listing = ForeignKeyField(Listing, null=True, backref="transfers", on_delete="SET NULL")
    reverses = ForeignKeyField("self", null=True, backref="reversals")
    created = DateTimeField(default=utcnow, index=True)
    expires = DateTimeField(null=True)
    reminded = DateTimeField(null=True)
    decided = DateTimeField(null=True)
    # The journal: a running number, and a hash over the content and the previous hash.
    number = IntegerField(null=True, unique=True)
    booked = DateTimeField(null=True)
    hash = CharField(max_length=64, null=True)
    prev_hash = CharField(max_length=64, null=True)
    # An invoice the payee chose to keep open "at the payee's risk" (FACTUUR OPEN) while
    # the payer is at the lower limit: booked automatically once the payer has room.
    payee_risk = BooleanField(default=False)
    # sha256 of the description, set at booking; the chain hashes this instead of the
    # text, so a forgotten member's descriptions can be erased and the chain still
    # verifies. NULL on rows booked before it existed: their chain hashes the text.
    description_hash = CharField(max_length=64, null=True)
    # "Name <address>" of the coordinator whose tokened JA pays an invoice for a payer
    # without email; shown on the payer's statement. Not in the hash chain.
    confirmed_by = CharField(max_length=320, default="")
    # How the mail that consented to it was authenticated (mailer/message/sender_auth.py): the
    # JA's verdict, or the payment's own when it needed none, e.g. "dmarc=pass p=reject
    # dkim=pass d=example.org"; empty when nothing was checked. Not in the hash chain.
    sender_auth = CharField(max_length=200, default="")

    class Meta:
        # A member's statement and SALDO: the newest booked transfers on either side,
        # found by index instead of walking the whole journal.
        indexes = ((("payer", "number"), False), (("payee", "number"), False))


class ConsentToken(BaseModel):
    """A single-use token mailed to a payer's address; only its SHA-256 is stored."""
    digest = CharField(max_length=64, unique=True)
    transfer = ForeignKeyField(Transfer, backref="tokens", on_delete="CASCADE")
    address = CharField(max_length=320)
    created = DateTimeField(default=utcnow)
    expires = DateTimeField()
    used = DateTimeField(null=True)


class MemberLimit(BaseModel):
    """An administrator's own limits for one member, overriding the member type's."""
    member = ForeignKeyField(Member, unique=True, backref="limit_overrides", on_delete="CASCADE")
    lower_cents = BigIntegerField(null=True)
    upper_cents = BigIntegerField(null=True)




class MemberPreference(BaseModel):
    """What a member chose by mail beyond Member.digest and Member.language."""
    member = ForeignKeyField(Member, backref="preference", unique=True, on_delete="CASCADE")
    # ALLEEN / ONLY: comma-separated categories the digest shows; empty means all.
    categories = TextField(default="")


class DigestRun(BaseModel):
    """One scheduled period ("weekly:2026-11-23"): started once, finished once."""
    period = CharField(max_length=40, unique=True)
    cutoff = DateTimeField()          # listings up to this moment (UTC) belong to the period
    started = DateTimeField(default=utcnow)
    finished = DateTimeField(null=True)
    sent = IntegerField(default=0)


class DigestDelivery(BaseModel):
    """A member's digest for a period; the unique key makes a resumed run skip it."""
    member = ForeignKeyField(Member, backref="digests", on_delete="CASCADE")
    period = CharField(max_length=40)
    cutoff = DateTimeField()
    outbound_key = CharField(max_length=64, default="", index=True)
    created = DateTimeField(default=utcnow)
    # outbox: the outbox row `outbound_key` carries it | sending: a run holds it until `lease`
    # and sends it from memory | sent | failed (mailer/outbound/digest_delivery.py)
    state = CharField(max_length=10, default="outbox")
    lease = DateTimeField(null=True)
    sent = DateTimeField(null=True)
    error = TextField(default="")
    # Made from member and period, so a digest rebuilt after a crash has the same one;
    # indexed: a reply's In-Reply-To is looked up here to find the digest it answers.
    message_id = CharField(max_length=255, default="", index=True)

    class Meta:
        indexes = ((("member", "period"), True), (("period", "state"), False))


class Contribution(BaseModel):
    """One member's contribution for one period: charged (with its transfer) or waived.

    The unique (member, period) key, written in the same transaction as the transfer,
    is what makes a contribution run charge each member at most once per period."""
    member = ForeignKeyField(Member, backref="contributions", on_delete="CASCADE")
    period = CharField(max_length=10)          # 2026Q4, 2026-11 or 2026
    # charged | waived | refunded (a cancellation in the first month, article 5.4)
    state = CharField(max_length=10)
    amount_cents = BigIntegerField(default=0)
    transfer = ForeignKeyField(Transfer, null=True, backref="contributions")
    reason = TextField(default="")
    entered_by = CharField(max_length=320, default="")
    created = DateTimeField(default=utcnow)

    class Meta:
        indexes = ((("member", "period"), True),)


class Bounce(BaseModel):
    """A hard bounce that came back to an address's VERP return path."""
    address = ForeignKeyField(Address, backref="bounces", on_delete="CASCADE")
    inbound = ForeignKeyField(InboundMessage, null=True, on_delete="SET NULL")
    received = DateTimeField(default=utcnow)


class Announcement(BaseModel):
    """A message from the administrators to every member, at once or in the next digest."""
    subject = CharField(max_length=200)
    body = TextField()
    created = DateTimeField(default=utcnow, index=True)
    # digest: shown in digests whose period covers `created`; now: sent at once
    mode = CharField(max_length=10, default="digest")
    sent = DateTimeField(null=True)


class MemberEvent(BaseModel):
    """A change in a member's standing (approved, suspended, left …) with its reason: the record."""
    member = ForeignKeyField(Member, backref="events", on_delete="CASCADE")
    status = CharField(max_length=20)          # the status the member moved to
    previous = CharField(max_length=20, default="")
    reason = TextField(default="")
    entered_by = CharField(max_length=320, default="")
    created = DateTimeField(default=utcnow)


class Departure(BaseModel):
    """A member's notice of leaving, from the notice until the membership has ended.

    given → effective (the day the membership ends: at once, or the end of next year for
    a notice after the deadline) → left, or leaving until the balance is zero or the
    administrators settle it (deadline)."""
    member = ForeignKeyField(Member, backref="departures", on_delete="CASCADE")
    kind = CharField(max_length=10)            # cancel (within the first month) | notice
    given = DateField()
    effective = DateField()
    deadline = DateField(null=True)            # a leaving member's balance must be zero by then
    # waiting (effective later) | leaving (negative balance) | due (admins told) | settling (the
    # balance settled in euros, not yet paid) | left | settled | kept
    state = CharField(max_length=10, index=True)
    closed = DateTimeField(null=True)
    entered_by = CharField(max_length=320, default="")


class Budget(BaseModel):
    """A working group's budget in the unit: a system account and the member who approves claims."""
    name = CharField(max_length=60, unique=True)
    account = ForeignKeyField(Account, unique=True)
    holder = ForeignKeyField(Member, backref="budgets")
    created = DateTimeField(default=utcnow)


class Claim(BaseModel):
    """A member's claim for work done for the group, paid from a budget once its holder says yes."""
    member = ForeignKeyField(Member, backref="claims", on_delete="CASCADE")
    budget = ForeignKeyField(Budget, backref="claims")
    transfer = ForeignKeyField(Transfer, unique=True, backref="claims")
    work_month = CharField(max_length=7)       # 2026-11
    created = DateTimeField(default=utcnow)


class ListingMail(BaseModel):
    """An outgoing mail that presents one listing (its confirmation, an instant mail), so a
    trade that replies to it can be linked to the listing and its category."""
    message_id = CharField(max_length=998, unique=True)
    listing = ForeignKeyField(Listing, backref="mails", on_delete="CASCADE")


class EuroCharge(BaseModel):
    """Euros a member owes the association for one year: the contribution, the
    registration fee, a reminder's surcharge, or (negative) a refund of contributions.

    `key` names what it is for ("contribution:2027:42"), unique: writing it in the same
    transaction as the notice is what makes every scheduled step happen once."""
    member = ForeignKeyField(Member, backref="euro_charges", on_delete="CASCADE")
    year = IntegerField(index=True)
    # contribution | registration | surcharge | refund
    kind = CharField(max_length=15)
    amount_cents = BigIntegerField()
    key = CharField(max_length=60, unique=True)
    charged_on = DateField()
    reason = TextField(default="")
    created = DateTimeField(default=utcnow)


class EuroPayment(BaseModel):
    """Euros received from a member (payment), forgiven (waiver) or paid back (repayment,
    negative), counted against one year's charges."""
    member = ForeignKeyField(Member, backref="euro_payments", on_delete="CASCADE")
    year = IntegerField(index=True)
    # payment | waiver | repayment
    kind = CharField(max_length=10, default="payment")
    amount_cents = BigIntegerField()
    paid_on = DateField()
    reason = TextField(default="")
    entered_by = CharField(max_length=320, default="")
    created = DateTimeField(default=utcnow)


class EuroPostponement(BaseModel):
    """An administrator's postponement: reminders for the year count from `until`."""
    member = ForeignKeyField(Member, backref="euro_postponements", on_delete="CASCADE")
    year = IntegerField()
    until = DateField()
    reason = TextField()
    entered_by = CharField(max_length=320, default="")
    created = DateTimeField(default=utcnow)


class ContributionPostponement(BaseModel):
    """The core group's postponement of a member's contribution in the unit (article 8.3.3):
    periods ending before `until` are charged by the first run from `until` on."""
    member = ForeignKeyField(Member, backref="contribution_postponements", on_delete="CASCADE")
    until = DateField()
    reason = TextField()
    entered_by = CharField(max_length=320, default="")
    created = DateTimeField(default=utcnow)


class EuroStep(BaseModel):
    """A scheduled step taken for one member's year: notice, reminder-1, reminder-2, core, fine.
    The unique (member, year, step) key is written in the step's own transaction."""
    member = ForeignKeyField(Member, backref="euro_steps", on_delete="CASCADE")
    year = IntegerField()
    step = CharField(max_length=20)
    transfer = ForeignKeyField(Transfer, null=True, backref="euro_steps")
    created = DateTimeField(default=utcnow)

    class Meta:
        indexes = ((("member", "year", "step"), True),)


class AnnouncementDraft(BaseModel):
    """An announcement an administrator mailed, waiting for their confirmation by reply.

    Like a consent token: only the token's SHA-256 is stored, it works once, only from
    the address it was sent to, until `expires`."""
    digest = CharField(max_length=64, unique=True)
    address = CharField(max_length=320)
    language = CharField(max_length=2, default="nl")
    subject = CharField(max_length=200)
    body = TextField()
    mode = CharField(max_length=10, default="now")
    created = DateTimeField(default=utcnow)
    expires = DateTimeField()
    used = DateTimeField(null=True)
    announcement = ForeignKeyField(Announcement, null=True, on_delete="SET NULL")


class AnnouncementDelivery(BaseModel):
    """A member's copy of an announcement sent at once; the unique key makes a resumed run skip it."""
    announcement = ForeignKeyField(Announcement, backref="deliveries", on_delete="CASCADE")
    member = ForeignKeyField(Member, on_delete="CASCADE")
    outbound_key = CharField(max_length=64, default="")
    created = DateTimeField(default=utcnow)

    class Meta:
        indexes = ((("announcement", "member"), True),)


class ConfirmToken(BaseModel):
    """A single-use token mailed to a member's address asking to confirm an action by reply
    (`action`: cancel). Like a consent token: only its SHA-256 is stored, it works once,
    only from the address it went to, until `expires`."""
    digest = CharField(max_length=64, unique=True)
    action = CharField(max_length=20)
    member = ForeignKeyField(Member, backref="confirm_tokens", on_delete="CASCADE")
    address = CharField(max_length=320)
    created = DateTimeField(default=utcnow)
    expires = DateTimeField()
    used = DateTimeField(null=True)


class MemberCoordinator(BaseModel):
    """The coordinator an administrator named for a member without email: invoices to
    the member go to this address, whose tokened JA pays them (lets member set-coordinator)."""
    member = ForeignKeyField(Member, unique=True, backref="coordinator_rows", on_delete="CASCADE")
    address = CharField(max_length=320)


class PaperGuide(BaseModel):
    """A member who gets the guide and the circle news on paper (article 8.2.2), for
    [euro] paper_amount a year on top of the euro contribution (lets member set-paper)."""
    member = ForeignKeyField(Member, unique=True, backref="paper_rows", on_delete="CASCADE")
    since = DateTimeField(default=utcnow)
    entered_by = CharField(max_length=320, default="")


class Sanction(BaseModel):
    """The association's decision against a member (article 22, 5.5.3): a warning, a
    termination with notice, a suspension or an expulsion, with its reason. The member may
    appeal within a month to the general meeting (`appeal_until`); the meeting's outcome
    is kept in `outcome`: "" (none recorded), lodged, upheld or overturned."""
    member = ForeignKeyField(Member, backref="sanctions", on_delete="CASCADE")
    kind = CharField(max_length=20)            # warning, terminate, suspend, expel
    reason = TextField()
    previous = CharField(max_length=20, default="")   # the member's status before the decision
    effective = DateField(null=True)           # a termination: the day the membership ends
    appeal_until = DateField()
    outcome = CharField(max_length=20, default="")
    # closed: the appeal month is over (or the outcome is in) and the member's standing follows from it.
    closed = BooleanField(default=False)
    ended = BooleanField(default=False)        # a termination that took effect
    entered_by = CharField(max_length=320, default="")
    created = DateTimeField(default=utcnow)


class Donor(BaseModel):
    """A donor (article 6): gives euros to the association, periodically or now and then;
    not a member, no account in the unit, no digest."""
    name = CharField(max_length=200)
    address = CharField(max_length=320)
    language = CharField(max_length=2, default="nl")
    amount_cents = IntegerField(default=0)     # the promised periodic gift, 0 when none
    every = CharField(max_length=10, default="")   # year, quarter, month, or "" for none
    removed = DateField(null=True)
    created = DateTimeField(default=utcnow)


class DonorGift(BaseModel):
    """A gift a donor paid, with the day it came in; a receipt is mailed for it."""
    donor = ForeignKeyField(Donor, backref="gifts", on_delete="CASCADE")
    amount_cents = IntegerField()
    paid_on = DateField()
    entered_by = CharField(max_length=320, default="")
    created = DateTimeField(default=utcnow)


class Meeting(BaseModel):
    """A general meeting the core group announced (article 9.3): its day, place and
    agenda; members send agenda items until a week before it."""
    date = DateField(unique=True)
    place = CharField(max_length=200, default="")
    body = TextField()                           # the agenda, as the core group wrote it
    short_notice = BooleanField(default=False)   # announced less than 14 days ahead, on purpose
    entered_by = CharField(max_length=320, default="")
    created = DateTimeField(default=utcnow)


class MeetingNotice(BaseModel):
    """A member told of a meeting: the unique key makes a rerun mail nobody twice."""
    meeting = ForeignKeyField(Meeting, backref="notices", on_delete="CASCADE")
    member = ForeignKeyField(Member, backref="meeting_notices", on_delete="CASCADE")
    created = DateTimeField(default=utcnow)

    class Meta:
        indexes = ((("meeting", "member"), True),)


class MeetingItem(BaseModel):
    """An agenda item a member sent by mail (AGENDAPUNT / AGENDA ITEM / POINT)."""
    meeting = ForeignKeyField(Meeting, backref="items", on_delete="CASCADE")
    member = ForeignKeyField(Member, backref="meeting_items", on_delete="CASCADE")
    body = TextField()
    created = DateTimeField(default=utcnow)


class Activity(BaseModel):
    """An activity a member organises (a market, a repair café, a workshop): announced by
    mail, published when the organiser confirms the preview, joined and left by reply.

    `code` is the activity's public reply token (group+e-CODE@domain): who signs up is read
    from the sender, so it is no secret and is kept in clear. Only the SHA-256 of the
    organiser's preview token is kept (`preview_digest`), as for every confirmation."""
    title = CharField(max_length=200)
    organiser = ForeignKeyField(Member, backref="activities", on_delete="CASCADE")
    start = DateTimeField()                       # UTC, naive, like every moment we keep
    place = CharField(max_length=200, default="")
    description = TextField(default="")
    capacity = IntegerField(null=True)            # None: as many as come
    signup = BooleanField(default=True)
    price_cents = IntegerField(null=True)         # in hundredths of the unit
    payee = CharField(max_length=12, default="organiser")   # organiser, association or budget
    state = CharField(max_length=10, default="draft")       # draft, pending, published, refused, cancelled, done
    language = CharField(max_length=2, default="nl")
    code = CharField(max_length=24, unique=True)
    preview_digest = CharField(max_length=64, unique=True)
    preview_expires = DateTimeField()
    preview_used = DateTimeField(null=True)
    created = DateTimeField(default=utcnow)
    finish = DateTimeField(null=True)             # None: the calendar shows two hours
    price_euro_cents = IntegerField(null=True)    # owed to the association, in its euro books
    budget = ForeignKeyField(Budget, null=True, backref="activities")   # the payee when payee is "budget"
    # A recurring activity: every occurrence is a row of its own (its own places, sign-ups
    # and code), sharing `series` (the first occurrence's id) and the rule (an RFC 5545 RRULE).
    series = IntegerField(null=True, index=True)
    rule = CharField(max_length=200, default="")
    occurrence = DateTimeField(null=True)         # the start the rule gave it (RECURRENCE-ID), kept when moved
    sequence = IntegerField(default=0)            # iCalendar SEQUENCE: raised when moved or cancelled


class Signup(BaseModel):
    """A member's place at an activity: signed, waiting (the activity was full),
    cancelled, or charged (the price booked after the activity took place)."""
    activity = ForeignKeyField(Activity, backref="signups", on_delete="CASCADE")
    member = ForeignKeyField(Member, backref="signups", on_delete="CASCADE")
    places = IntegerField(default=1)
    state = CharField(max_length=10, default="signed")
    created = DateTimeField(default=utcnow)
    changed = DateTimeField(default=utcnow)
    transfer = ForeignKeyField(Transfer, null=True, on_delete="SET NULL")
    reminded = DateTimeField(null=True)           # the day-before reminder went out
    # Added to the activity's SEQUENCE in this member's calendar: raised when the place is
    # given up or taken again, so the calendar takes each newer invitation.
    sequence = IntegerField(default=0)

    class Meta:
        indexes = ((("activity", "member"), True),)


MODELS = [Member, Address, Account, InboundMessage, OutboundMessage, Listing, Notice, SchemaVersion,
          Transfer, ConsentToken, MemberLimit, MemberPreference, DigestRun, DigestDelivery, Bounce,
          Announcement, Contribution, MailboxState, MemberEvent, Departure, Budget, Claim, ListingMail,
          EuroCharge, EuroPayment, EuroPostponement, EuroStep, AnnouncementDraft, AnnouncementDelivery,
          ConfirmToken, MemberCoordinator, SpoolMark, PaperGuide, ContributionPostponement,
          Sanction, Donor, DonorGift, Meeting, MeetingNotice, MeetingItem,
          Activity, Signup]
