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
from dataclasses import dataclass
from urllib.parse import quote

from db import database
from db import digest as queries
from db.models import DigestDelivery, DigestRun, Member

from . import bulkmime, fanout
from .compose import Composer, Outgoing, now_utc
from .schedule import LENGTH, latest_slot
from .subaddress import bulk_envelope, plus_address

# Instant members get listings as they are posted and the rest of the digest weekly.
FREQUENCIES = {"weekly": ("weekly", "instant"), "daily": ("daily",)}
LISTING_BLOCKS = ("offers", "requests")
RESPOND = {"nl": "REAGEER", "en": "RESPOND", "fr": "RÉPONDRE"}


@dataclass(frozen=True)
class Run:
    frequency: str
    period: str
    cutoff: dt.datetime


class Builder:
    """Composes digests for one run; caches what members of a run have in common."""

    def __init__(self, settings, composer: Composer, run: Run):
        self.settings, self.composer, self.run = settings, composer, run
        self.first_since = run.cutoff - LENGTH[run.frequency]
        self.summary = {**queries.summary(settings.digest.show_extremes), "volume": (
            queries.volume(self.first_since, run.cutoff) if settings.digest.show_volume else None)}
        self._listings: dict = {}
        self._fragments: dict = {}
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
            rows = [r for r in self.listings(since) if not only or r.category in only]
            for kind, block in (("offer", "offers"), ("request", "requests")):
                groups = [(category, [self.view(r, language) for r in items]) for category, items in
                          itertools.groupby([r for r in rows if r.kind == kind], key=lambda r: r.category)]
                context = {**self.composer.common(language), "kind": kind, "groups": groups}
                found[block] = self.shared.add(
                    "" if not groups else self.env_render(f"{language}/digest/_listings.txt", context))
                found[block + "_html"] = self.shared.add(
                    "" if not groups else self.env_render(f"{language}/digest/_listings.html", context), html=True)
            self._fragments[key] = found
        return self._fragments[key]

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

    def compose(self, recipient: queries.Recipient, own, announcements, transfers, pending=None) -> Outgoing:
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
            "since": since.date(), "until": self.run.cutoff.date(), "only": list(recipient.only),
            "unsubscribe": plus_address(self.settings, "u", recipient.address_id),
            **self.fragments(language, since, recipient.only),
        }
        return bulkmime.compose(self.composer, "digest/digest", language, context, to=recipient.email,
                                kind="digest", headers=headers, mail_from=mail_from, fragments=self.shared)

    def batch(self, recipients: list[queries.Recipient]) -> list[Outgoing]:
        ids = [r.member.id for r in recipients]
        previous = queries.previous_cutoffs(ids)
        for recipient in recipients:
            recipient.since = previous.get(recipient.member.id)
        today = self.run.cutoff.date()
        earliest = min((r.since or self.first_since) for r in recipients)
        own = queries.own_listings(ids, today, today + dt.timedelta(days=self.settings.listings.warn_days),
                                   earliest.date())
        transfers = queries.last_transfers(ids, earliest)
        announcements = queries.announcements(self.first_since, self.run.cutoff)
        pending = queries.pending_confirmations(ids, self.run.cutoff)
        return [self.compose(r, own, announcements, transfers, pending) for r in recipients]


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
    """Queue the digests of `run` for every due member not yet served; the number queued.

    With a `sender`, each batch goes out as soon as it is committed (see mailer/fanout.py)."""
    composer = composer or Composer(settings)
    with database.atomic():
        DigestRun.get_or_create(period=run.period, defaults={"cutoff": run.cutoff, "started": clock()})
    builder = Builder(settings, composer, run)
    after, queued = 0, 0
    while True:
        recipients = queries.due(run.period, FREQUENCIES[run.frequency], after, settings.digest.batch)
        if not recipients:
            break
        after = recipients[-1].member.id
        outgoing = builder.batch(recipients)
        now = clock()
        fanout.queue_batch(DigestDelivery, [
            {"member": r.member.id, "period": run.period, "cutoff": run.cutoff, "outbound_key": o.key,
             "created": now} for r, o in zip(recipients, outgoing)], outgoing, now, sender=sender)
        if sender is not None:
            sender.send(outgoing, now)
        queued += len(outgoing)
        on_batch(len(outgoing))
    if sender is not None:
        sender.flush()
    DigestRun.update(finished=clock(), sent=DigestRun.sent + queued).where(
        DigestRun.period == run.period).execute()
    return queued


def run_scheduled(settings, now: dt.datetime, composer: Composer | None = None, clock=None,
                  catch_up: bool = True, sender: fanout.Sender | None = None) -> int:
    """Queue every due digest; what `lets serve` calls on each turn of its loop."""
    return sum(send_run(settings, run, composer, clock=clock or (lambda: now), sender=sender)
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
