"""The digest: per member, what is new since their previous one, fanned out crash-safely.

A run is one period ("weekly:2026-11-23"). Members are read in batches by id; each
batch's digests and their DigestDelivery rows commit in one transaction, and the
unique (member, period) key means a run killed at any point and started again
sends every due member exactly one digest for the period. Nothing holds more than
one batch in memory. The listing sections are the same for every reader of one
language who last had a digest at the same moment, so they are rendered once.
"""
from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import quote

from db import activities, database
from db import digest as queries
from db.categories import OTHER
from db.models import DigestDelivery, DigestRun, Member
from handlers.activity import activity_address

from ..message import bulkmime
from ..message.compose import Composer, Outgoing, now_utc
from ..message.subaddress import bulk_envelope, plus_address
from ..outbound import digest_delivery, fanout
from ..schedule import LENGTH, latest_slot

# Instant members get listings as they are posted and the rest of the digest weekly.
FREQUENCIES = {"weekly": ("weekly", "instant"), "daily": ("daily",)}
LISTING_BLOCKS = ("offers", "requests")
RESPOND = {"nl": "REAGEER", "en": "RESPOND", "fr": "RÉPONDRE", "de": "ANTWORTEN"}
# Mail per transaction and per parallel send: what a crash can duplicate, and (twice) the
# memory a run holds, whatever the number of members or listings.
BATCH_BYTES = 4 * 1024 * 1024


@dataclass(frozen=True)
class Run:
    frequency: str
    period: str
    cutoff: dt.datetime


class Builder:
    """Composes digests for one run; caches what members of a run have in common."""

    def __init__(self, settings, composer: Composer, run: Run):
        self.settings, self.composer, self.run = settings, composer, run
        self.categories = settings.listings.categories
        self.first_since = run.cutoff - LENGTH[run.frequency]
        self.summary = {**queries.summary(settings.digest.show_extremes), "volume": (
            queries.volume(self.first_since, run.cutoff) if settings.digest.show_volume else None)}
        self._listings: dict = {}
        self._fragments: dict = {}
        self._coming: list[dict] | None = None
        self._places: dict[int, dict[int, str]] | None = None
        self.shared = bulkmime.Fragments()

    def listings(self, since: dt.datetime) -> list:
        if since not in self._listings:
            self._listings[since] = queries.new_listings(since, self.run.cutoff)
        return self._listings[since]

    def fragments(self, language: str, since: dt.datetime, only: tuple[str, ...]) -> dict:
        """The offers and requests sections, text and HTML, for one kind of reader."""
        key = (language, since, only)
        if key not in self._fragments:
            found = {}
            rows = [r for r in self.listings(since) if not only or self.category(r) in only]
            for kind, block in (("offer", "offers"), ("request", "requests")):
                # Categories in the order of the group's list, as its members know it.
                ordered = sorted((r for r in rows if r.kind == kind),
                                 key=lambda r: (self.categories.position(self.category(r)), r.id))
                groups = [(category, [self.view(r, language) for r in items]) for category, items in
                          itertools.groupby(ordered, key=self.category)]
                context = {**self.composer.common(language), "kind": kind, "groups": groups}
                source = self.composer.source
                found[block] = self.shared.add(
                    "" if not groups else self.env_render(source("digest/_listings", "txt"), context))
                found[block + "_html"] = self.shared.add(
                    "" if not groups else self.env_render(source("digest/_listings", "html"), context),
                    html=True)
            self._fragments[key] = found
        return self._fragments[key]

    def category(self, listing) -> str:
        """The listing's category code; one the list no longer has counts as `other`
        until `lets init` moves it there."""
        return listing.category if self.categories.known(listing.category) else OTHER

    def env_render(self, name: str, context: dict) -> str:
        return self.composer.env.get_template(name).render(context)

    def view(self, listing, language: str) -> dict:
        """A listing as the digest shows it, with a mailto: link that starts a reply."""
        if self.settings.privacy.show_addresses and listing.poster_email:
            to, subject = listing.poster_email, f"Re: {listing.title} [{listing.id}]"
        else:  # the group relays, so the poster's address stays private
            to, subject = self.settings.group.address, f"{RESPOND[language]} {listing.id}"
        return {"id": listing.id, "title": listing.title, "category": listing.category,
                "level": listing.level, "rate_text": listing.rate_text, "poster": listing.member.name,
                "number": listing.member.number, "reply": f"mailto:{to}?subject={quote(subject)}"}

    def compose(self, recipient: queries.Recipient, own, announcements, transfers, pending=None,
                coming=()) -> Outgoing:
        member, language = recipient.member, recipient.member.language
        counts, expiring, expired = own
        pending = (pending or {}).get(member.id, [])
        since = recipient.since or self.first_since
        blocks = [b for b in self.settings.digest.blocks
                  if not (member.digest == "instant" and b in LISTING_BLOCKS)]
        active = counts.get(member.id, {"offer": 0, "request": 0})
        balance = recipient.balance_cents
        alerts = []
        if balance < 0 and not active["offer"]:
            alerts.append("negative-no-offer")
        if balance > 0 and not active["request"]:
            alerts.append("positive-no-request")
        if expired.get(member.id):
            alerts.append("expired")
        if pending:
            alerts.append("pending")
        headers, mail_from = bulk_envelope(self.settings, recipient.address_id)
        context = {
            "member": member, "blocks": blocks, "alerts": alerts, "balance": balance,
            "transfers": transfers.get(member.id, []),
            "expiring": expiring.get(member.id, []), "expired": expired.get(member.id, []),
            "summary": self.summary, "announcements": announcements, "pending": pending,
            "activities": [{**a, "mine": self.places().get(member.id, {}).get(a["id"], "")} for a in coming],
            "since": since.date(), "until": self.run.cutoff.date(),
            "only": [self.categories.name(code, language) for code in recipient.only],
            "unsubscribe": plus_address(self.settings, "u", recipient.address_id),
            **self.fragments(language, since, recipient.only),
        }
        return bulkmime.compose(self.composer, "digest/digest", language, context, to=recipient.email,
                                kind="digest", headers=headers, mail_from=mail_from, fragments=self.shared,
                                message_id=digest_delivery.message_id(self.settings, member.id, self.run.period))

    def batch(self, recipients: list[queries.Recipient]) -> list[Outgoing]:
        return list(self.build(recipients))

    def build(self, recipients: list[queries.Recipient]) -> Iterator[Outgoing]:
        """Each recipient's digest in turn, from a few queries for all of them."""
        ids = [r.member.id for r in recipients]
        previous = queries.previous_cutoffs(ids, self.run.cutoff)
        for recipient in recipients:
            recipient.since = previous.get(recipient.member.id)
        today = self.run.cutoff.date()
        earliest = min((r.since or self.first_since) for r in recipients)
        own = queries.own_listings(ids, today, today + dt.timedelta(days=self.settings.listings.warn_days),
                                   earliest.date())
        transfers = queries.last_transfers(ids, earliest)
        announcements = queries.announcements(self.first_since, self.run.cutoff)
        pending = queries.pending_confirmations(ids, self.run.cutoff)
        coming = self.coming()
        return (self.compose(r, own, announcements, transfers, pending, coming) for r in recipients)

    def coming(self) -> list[dict]:
        """The coming activities (public fields), each with the address that takes IK KOM."""
        if self._coming is None:
            self._coming = [{"id": a.id, "title": a.title, "start": a.start, "place": a.place, "price": a.price_cents,
                             "signup": a.signup, "free": activities.free(a),
                             "address": activity_address(a, self.settings)}
                            for a in activities.coming(self.run.cutoff, limit=10, per_series=2)]
        return self._coming

    def places(self) -> dict[int, dict[int, str]]:
        """member id → {activity id: signed | waiting} for the coming activities in the digest."""
        if self._places is None:
            ids = [a["id"] for a in self.coming()]
            self._places = {}
            for member_id, activity_id, state in activities.held_places(ids):
                self._places.setdefault(member_id, {})[activity_id] = state
        return self._places


def due_runs(settings, now: dt.datetime, catch_up: bool = True) -> list[Run]:
    """The periods whose moment has come and whose run has not finished.

    Without `catch_up` (the schedule of `lets serve`), a frequency that never ran
    starts at its next slot: a group's first start must not mail everyone at once."""
    runs = []
    for frequency in FREQUENCIES:
        period, cutoff = latest_slot(settings, frequency, now)
        if not catch_up and not DigestRun.select().where(DigestRun.period.startswith(frequency + ":")).exists():
            DigestRun.get_or_create(period=period, defaults={"cutoff": cutoff, "started": now, "finished": now})
            continue
        row = DigestRun.get_or_none(DigestRun.period == period)
        if row is None or row.finished is None:
            runs.append(Run(frequency, period, cutoff))
    return runs


def send_run(settings, run: Run, composer: Composer | None = None, clock=now_utc,
             on_batch=lambda count: None, sender: fanout.Sender | None = None) -> int:
    """Build the digests of `run` for every due member not yet served; the number built.

    With a `sender` each batch goes out from memory as soon as its delivery rows are
    committed, and digests a dead run left unsent are rebuilt (mailer/outbound/digest_delivery.py);
    without, they are queued in the outbox."""
    composer = composer or Composer(settings)
    with database.atomic():
        DigestRun.get_or_create(period=run.period, defaults={"cutoff": run.cutoff, "started": clock()})
    builder = Builder(settings, composer, run)
    queued = _recover(settings, run, builder, clock, sender, on_batch)
    after = 0
    while recipients := queries.due(run.period, FREQUENCIES[run.frequency], after, settings.digest.batch):
        after = recipients[-1].member.id
        for pairs in _chunks(recipients, builder.build(recipients)):
            now = clock()
            rows = [{"member": r.member.id, "period": run.period, "cutoff": run.cutoff, "outbound_key": o.key,
                     "message_id": o.message_id, "created": now} for r, o in pairs]
            outgoing = [o for _, o in pairs]
            if sender is None:
                fanout.queue_batch(DigestDelivery, rows, outgoing, now)
            else:
                with database.atomic():
                    sender.flush()    # the batch before is recorded in this commit: one fsync, not two
                    digest_delivery.claim(rows, now)
                sender.send(outgoing, now, record=digest_delivery.record)
            queued += len(outgoing)
            on_batch(len(outgoing))
    if sender is not None:
        sender.flush()
    finished = None if digest_delivery.unfinished(run.period) else clock()
    DigestRun.update(finished=finished, sent=DigestRun.sent + queued).where(
        DigestRun.period == run.period).execute()
    return queued


def _recover(settings, run: Run, builder: Builder, clock, sender: fanout.Sender | None, on_batch) -> int:
    """Rebuild the digests of `run` that a dead run claimed and never recorded; send them,
    or without a sender hand them to the outbox."""
    resent, after = 0, 0
    while recipients := queries.abandoned(run.period, clock(), after, settings.digest.batch):
        after = recipients[-1].member.id
        now = clock()
        with database.atomic():
            if sender is not None:
                sender.flush()
            taken = digest_delivery.reclaim(run.period, [r.member.id for r in recipients], now)
        recipients = [r for r in recipients if r.member.id in taken]
        for pairs in _chunks(recipients, builder.build(recipients)):
            outgoing = [o for _, o in pairs]
            if sender is None:
                with database.atomic():
                    digest_delivery.to_outbox(outgoing, now)
            else:
                sender.send(outgoing, now, record=digest_delivery.record)
            resent += len(pairs)
            on_batch(len(pairs))
    if sender is not None:
        sender.flush()
    digest_delivery.give_up_abandoned(run.period, clock())
    return resent


def _chunks(recipients, built: Iterator[Outgoing]) -> Iterator[list[tuple[queries.Recipient, Outgoing]]]:
    """(recipient, digest) pairs in batches of at most BATCH_BYTES of mail: with 500 new
    listings a digest is ~400 KB, and only the batch being sent and the one being built
    are ever in memory."""
    pairs, size = [], 0
    for recipient, outgoing in zip(recipients, built):
        pairs.append((recipient, outgoing))
        size += len(outgoing.raw)
        if size >= BATCH_BYTES:
            yield pairs
            pairs, size = [], 0
    if pairs:
        yield pairs


def run_scheduled(settings, now: dt.datetime, composer: Composer | None = None, clock=None,
                  catch_up: bool = True, sender: fanout.Sender | None = None,
                  on_batch=lambda count: None) -> int:
    """Queue every due digest; what `lets serve` calls on each turn of its loop."""
    return sum(send_run(settings, run, composer, clock=clock or (lambda: now), sender=sender, on_batch=on_batch)
               for run in due_runs(settings, now, catch_up=catch_up))


def preview(settings, member: Member, now: dt.datetime, composer: Composer | None = None) -> Outgoing:
    """The digest `member` would get in the next run, without queueing it."""
    composer = composer or Composer(settings)
    frequency = "daily" if member.digest == "daily" else "weekly"
    period, _ = latest_slot(settings, frequency, now)
    run = Run(frequency, f"preview:{period}", now)
    recipients = [r for r in queries.due(run.period, ("weekly", "daily", "instant", "off"), member.id - 1, 1)
                  if r.member.id == member.id]
    if not recipients:
        raise LookupError(f"member {member.number} has no usable address")
    return Builder(settings, composer, run).batch(recipients)[0]
