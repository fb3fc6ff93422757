"""The one way every inbound mail goes: store → parse → guard → identify → route → handle → persist.

`store` runs before the SMTP 250 (or before an IMAP message is moved); `process`
runs later from the stored copy, so a crash in between loses nothing and a restart
picks up what is still `received`. All changes a mail causes, its replies included,
commit in one transaction with its new state, so nothing is done twice.
"""
from __future__ import annotations

import logging
import sqlite3
import datetime as dt
from dataclasses import dataclass
from datetime import datetime

import peewee
from peewee import fn

from db import database, households, ledger, listing_links, members, tokens, write_transaction, writers_waiting
from db.claims import claim_many
from db.models import InboundMessage, Member, OutboundMessage, SpoolMark
from db.money import AmountError, parse_amount, to_decimal
from db.prepared import Prepared, prepared_insert
from db.spool import Spool
from db.spool import path_for as spool_path_for
from handlers import Command, Context, Refusal, Reply
from handlers.activity import recognise as recognise_activity
from handlers.announce import recognise as recognise_announcement
from handlers.cancel import recognise as recognise_cancel
from handlers.commands import route_all
from handlers import trade
from handlers.authenticated import CHECKED
from handlers.answers import answer
from handlers.consent import recognise as recognise_consent
from handlers.dispatch import handle
from handlers.proxy import recognise as recognise_proxy
from handlers.refuse import recognise as recognise_refusal
from handlers.fields import parse as parse_fields

from .message import guard, loops, throttle
from .message.compose import Composer, now_utc
from .message.language import detect as detect_language
from .message.parse import Inbound, message_id_from_bytes, parse
from .message.sender_auth import SenderCheck
from .outbound.outbox import enqueue
from .outbound.replies import compose as compose_reply
from .recipients import receive as receive_plus

log = logging.getLogger(__name__)

# Mails taken from the spool per transaction, and taken mails deleted from it at once.
SPOOL_TAKE = 200
SPOOL_FORGET = 1000

# Mails processed per transaction: one fsync a batch. The SMTP edge stores into its own
# spool, so a batch keeps no client waiting; another writer that waits (delivery, an
# administrator's command) ends it after the current mail (`give_way`).
BATCH = 32
# A mail larger than this is processed after the smaller mail waiting with it.
LARGE = 256 * 1024


def store(raw: bytes, mail_from: str | None = "", rcpt_tos=()) -> int | None:
    """Store a mail durably; its row id, or None when this Message-ID was stored before.

    `mail_from` is the envelope sender: "" the null return path (a bounce), None unknown
    (a mailbox), in which case `parse` reads the Return-Path header instead."""
    return store_many([(raw, mail_from, rcpt_tos)])[0]


def store_many(mails) -> list[int | None]:
    """Store several mails (raw, mail_from, rcpt_tos) in one transaction: one commit, so
    one fsync, for all of them. Each is its own savepoint, so a Message-ID stored before
    (None in the result) does not undo the others. Raises when the commit fails: then
    none of them is stored, and none may be answered 250."""
    ids = []
    with write_transaction():
        for raw, mail_from, rcpt_tos in mails:
            try:
                with database.atomic():
                    ids.append(_insert_inbound(message_id=message_id_from_bytes(raw), raw=raw,
                                               mail_from=mail_from, rcpt_tos=" ".join(rcpt_tos)).id)
            except peewee.IntegrityError:
                ids.append(None)
    return ids


_insert_inbound = prepared_insert(InboundMessage)


def take_spooled(spool, limit: int = 200) -> int:
    """Move up to `limit` mails from the edge's spool into inbound_message, as `received`;
    how many were taken. The mark moves in the same transaction, so a mail is taken
    once; a Message-ID stored before is passed over, as `store` does."""
    return _take(spool, limit)[0]


def _take(spool, limit: int) -> tuple[int, int]:
    """`take_spooled`: (how many were taken, the mark after)."""
    mark = _spool_mark.scalar(spool.identity) or 0
    spooled = spool.after(mark, limit)
    if not spooled:
        return 0, mark
    with write_transaction():
        # Read again under the write lock: another worker may have taken them meanwhile.
        mark = _spool_mark.scalar(spool.identity) or 0
        spooled = [mail for mail in spooled if mail[0] > mark]
        for _, raw, mail_from, rcpt_tos, received_at in spooled:
            try:
                with database.atomic():
                    _insert_inbound(message_id=message_id_from_bytes(raw), raw=raw, mail_from=mail_from,
                                    rcpt_tos=rcpt_tos, received_at=datetime.fromisoformat(received_at))
            except peewee.IntegrityError:
                pass
        if spooled:
            mark = spooled[-1][0]
            SpoolMark.insert(spool=spool.identity, last_id=mark).on_conflict(
                conflict_target=[SpoolMark.spool], update={SpoolMark.last_id: mark}).execute()
    return len(spooled), mark


def spooled(settings) -> int:
    """How many mails the SMTP edge has stored that the worker has not taken yet."""
    spool = Spool.existing(spool_path_for(settings.database_url))
    if spool is None:
        return 0
    try:
        return spool.count_after(_spool_mark.scalar(spool.identity) or 0)
    finally:
        spool.close()


_spool_mark = Prepared(lambda spool: SpoolMark.select(SpoolMark.last_id).where(SpoolMark.spool == spool), 1)


@dataclass
class Understood:
    """What the pipeline makes of a mail, before anything changes."""
    inbound: Inbound
    verdict: guard.Verdict | None
    member: Member | None
    command: Command | None
    language: str
    # Every command of the mail: a reply to a digest may hold one per line.
    commands: list[Command] = None
    # The members of a household when the sender's name did not say which one wrote.
    household: list[Member] = None
    settings: object = None
    # False when members could not be looked up (check-mail without a database).
    lookups: bool = True
    # The day a date without a year is counted from ("Geldig tot: 1 maart").
    today: dt.date | None = None


def understand(raw: bytes, settings, *, mail_from: str | None = None, rcpt_tos=(),
               lookup=members.by_address, parsed: Inbound | None = None,
               today: dt.date | None = None, senders: SenderCheck | None = None) -> Understood:
    inbound = parsed or parse(raw, mail_from=mail_from, rcpt_tos=rcpt_tos)
    if parsed is None:   # the worker checks the sender before its transaction (Processor._parse)
        verify_sender(raw, inbound, senders or SenderCheck(settings))
    verdict = guard.check(inbound, settings)
    household = []
    if lookup is members.by_address and inbound.sender:
        identified = households.identify(inbound.sender, inbound.sender_name)
        household = identified.ambiguous
        member = identified.member or (household[0] if household else None)
    else:
        member = lookup(inbound.sender) if inbound.sender else None
    command, commands = None, []
    if verdict is None:
        commands = read_commands(inbound, settings)
        command = commands[0]
    language = ((member.language if member else None) or (command and command.language)
                or (None if member else detect_language(inbound.subject, inbound.reply_text))
                or settings.group.language)
    return Understood(inbound, verdict, member, command, language, commands, household, settings,
                      lookups=lookup is members.by_address, today=today or now_utc().date())


def read_commands(inbound: Inbound, settings) -> list[Command]:
    """The commands of a mail, read from its text alone (no database)."""
    # A reply carrying a consent token is an answer to a proposal, whatever it says.
    # VOOR piet + a trade command on the next line: a coordinator acting for a member.
    special = (recognise_consent(inbound, settings) or recognise_announcement(inbound, settings)
               or recognise_cancel(inbound, settings) or recognise_activity(inbound, settings)
               or recognise_refusal(inbound, settings)
               or recognise_proxy(inbound))
    return [special] if special else route_all(
        inbound.subject, inbound.reply_text, is_reply=bool(inbound.in_reply_to),
        answers_us=loops.ours(inbound.in_reply_to.split() + list(inbound.references), settings),
        units=trade.unit_words(settings))


def verify_sender(raw: bytes, inbound: Inbound, senders: SenderCheck, known=lambda address: True) -> None:
    """Set `inbound.sender_auth` (DKIM, DMARC) when the mail's command moves credit (or
    acts on an activity: handlers/authenticated.py CHECKED) and
    `known(sender)`: the worker asks DNS only about the domains of members and coordinators,
    so nobody can slow it down with mail from domains whose DNS never answers."""
    if (senders.enabled and inbound.sender and read_commands(inbound, senders.settings)[0].kind in CHECKED
            and known(inbound.sender)):
        try:
            inbound.sender_auth = senders.check(raw, inbound)
        except Exception:   # a bug here must not lose the mail: unchecked, the token decides
            log.exception("checking the sender of %s failed", inbound.message_id)


def describe(understood: Understood) -> dict:
    """The dry-run record `lets check-mail` prints."""
    inbound, verdict, command = understood.inbound, understood.verdict, understood.command
    record = {
        "message_id": inbound.message_id,
        "kind": verdict.kind if verdict else command.kind,
        "sender": inbound.sender,
        "is_member": understood.member is not None,
        "member": understood.member.number if understood.member else None,
        "language": understood.language,
        "subject": inbound.subject,
        "text": inbound.reply_text,
        "fields": {},
    }
    if command and command.kind in ("offer", "request"):
        record["fields"] = parse_fields(command.argument, command.body, understood.today).as_dict()
    elif command and command.argument and command.kind not in ANSWERS:
        record["fields"] = {"argument": command.argument}
    if command and command.kind in ANSWERS:
        record["answer"] = answer(command.body) or "unclear"
    if command and command.kind in ("pay", "invoice", "donate"):
        record.update(_trade_terms(command, understood))
    if understood.commands and len(understood.commands) > 1:
        record["commands"] = [each.kind for each in understood.commands]
    if verdict:
        record["ignored_reason"] = verdict.reason
        if verdict.kind == "bounce":
            record["bounced"] = list(verdict.bounced)
    if inbound.defects:
        record["defects"] = inbound.defects
    if inbound.sender_auth is not None:
        record["sender_auth"] = str(inbound.sender_auth)
    return record


# Kinds whose mail is an answer to a question of ours: JA/NEE and the like.
ANSWERS = ("consent", "cancel-confirm", "announce-consent", "refuse", "activity-publish", "activity-reply")


def _trade_terms(command, understood: Understood) -> dict:
    """The amount, the other member and the description of a PAY / INVOICE / DONATE, as
    the handler will read them; `problem` says why one could not be read."""
    terms = trade.read(command, understood.settings)
    found = {"amount": None, "counterparty": terms.who or None, "description": terms.description,
             "currency_sign": terms.currency}
    try:
        found["amount"] = str(to_decimal(parse_amount(terms.amount_text)))
    except AmountError as exc:
        found["problem"] = f"amount: {exc.code}"
    if terms.problem:
        found["problem"] = terms.problem
    if terms.who and understood.lookups:
        try:
            other = trade.counterparty(terms.who, None)
            found["counterparty"] = other.primary_address or f"#{other.number}"
            found["counterparty_number"] = other.number
        except Refusal as refusal:
            found["problem"] = refusal.reply.template   # trade/unknown-member, trade/ambiguous
    return found


def _carries_live_token(command) -> bool:
    """A JA/NEE that carries a token we issued and that is still unused."""
    if command is None or command.kind != "consent" or not command.argument:
        return False
    row = ledger.find_token(command.argument)
    return row is not None and row.used is None


class Processor:
    """Turns stored mail into replies in the outbox. One per process."""

    def __init__(self, settings, composer: Composer | None = None, clock=now_utc):
        self.settings = settings
        self.composer = composer or Composer(settings)
        self.clock = clock
        self.spool_path = spool_path_for(settings.database_url)
        self.spool: Spool | None = None
        self.forgotten = 0   # the spool holds no mail up to this id
        self.senders = SenderCheck(settings)   # keeps DNS answers for a few minutes

    def take_spooled(self) -> int:
        """Take what the SMTP edge spooled (db/spool.py); how many mails."""
        if self.spool is None:
            self.spool = Spool.existing(self.spool_path)
            if self.spool is None:
                return 0
        try:
            taken, mark = _take(self.spool, SPOOL_TAKE)
            # The taken mails may go (the mark keeps them from coming back): while idle, or
            # now and then under a stream, not after every batch, as each delete is an fsync.
            if mark > self.forgotten and (not taken or mark - self.forgotten >= SPOOL_FORGET):
                self.spool.forget(mark)
                self.forgotten = mark
        except sqlite3.Error as exc:
            # The spool's own errors (a full disk, its lock held past the timeout): what it
            # holds stays there for the next turn; mail already taken is processed meanwhile.
            log.warning("the inbound spool could not be read or cleaned: %s", exc)
            return 0
        return taken

    def close(self) -> None:
        if self.spool is not None:
            self.spool.close()
            self.spool, self.forgotten = None, 0

    def pending(self, limit: int = 100):
        # Large mail after small mail: a member's SALDO must not wait behind a 9 MB
        # newsletter someone sent us, whatever their order of arrival.
        return (InboundMessage.select(InboundMessage.id).where(InboundMessage.state == "received")
                .order_by(fn.LENGTH(InboundMessage.raw) > LARGE, InboundMessage.id).limit(limit))

    def process_pending(self, limit: int = 100, batch: int = BATCH) -> int:
        self.take_spooled()
        ids = [row.id for row in self.pending(limit)]
        done, parsed = 0, {}
        while ids:
            chunk = ids[:batch]
            parsed.update(self._parse([i for i in chunk if i not in parsed]))
            states = self.process_many(chunk, give_way=writers_waiting, parsed=parsed)
            done += sum(state != "claimed" for state in states)
            ids = ids[len(states):]
        return done

    def process(self, inbound_id: int) -> str:
        """Process one stored mail; its final state. A bug marks it failed, never half-done."""
        return self.process_many([inbound_id])[0]

    def process_many(self, inbound_ids, give_way=None, parsed: dict | None = None) -> list[str]:
        """Process stored mails in one transaction, each in its own savepoint; their states.

        One commit (one fsync) for the batch instead of one per mail. A mail whose
        handling raises rolls back only its savepoint and is marked failed in the same
        transaction; the others stand. When the database itself fails, the whole batch
        rolls back and stays `received` for the next attempt.

        When `give_way()` says another writer waits (on SQLite: delivery, an
        administrator's command, a mailbox poller storing), the batch ends after the
        current mail; the states are then those of the first mails only, and the rest
        stay `received`."""
        states = []
        parsed = parsed if parsed is not None else self._parse(inbound_ids)
        # Several workers may run: each row is claimed for the whole transaction, so a
        # mail is handled once even when two workers pick it at the same moment. On
        # SQLite the write lock is taken at BEGIN, so a second worker waits and then
        # sees the new state rather than failing at its first write.
        with write_transaction():
            rows = claim_many(InboundMessage, inbound_ids)
            for inbound_id in inbound_ids:
                if states and give_way is not None and give_way():
                    break
                try:
                    with database.atomic():
                        states.append(self._process_claimed(rows.get(inbound_id), parsed.get(inbound_id)))
                except (peewee.OperationalError, peewee.InterfaceError):
                    raise  # the database is away: leave the batch `received` for the next attempt
                except Exception as exc:
                    log.exception("processing inbound %s failed", inbound_id)
                    InboundMessage.update(state="failed",
                                          reason=f"internal error: {exc.__class__.__name__}: {exc}"[:2000],
                                          processed_at=self.clock()).where(InboundMessage.id == inbound_id).execute()
                    states.append("failed")
        return states

    def _parse(self, inbound_ids) -> dict[int, Inbound]:
        """Parse before the write transaction: parsing is a function of the stored bytes
        alone, and on SQLite the SMTP server waits for the write lock while we hold it.
        The sender of money mail is checked here too: DNS is not waited for under the lock."""
        parsed = {}
        # Read at once: no cursor stays open while DNS is asked below.
        for row in list(InboundMessage.select(InboundMessage.id, InboundMessage.raw, InboundMessage.mail_from,
                                              InboundMessage.rcpt_tos)
                        .where(InboundMessage.id.in_(list(inbound_ids)), InboundMessage.state == "received")):
            try:
                raw = bytes(row.raw)
                parsed[row.id] = parse(raw, mail_from=row.mail_from, rcpt_tos=row.rcpt_tos.split())
            except Exception:  # parse never raises; if it did, the mail fails in its own savepoint
                continue
            verify_sender(raw, parsed[row.id], self.senders, known=self._known)
        return parsed

    def _known(self, address: str) -> bool:
        """A member's address or a coordinator's: whose money mail is worth a DNS lookup."""
        coordinators = {each.lower() for each in self.settings.trades.coordinators}
        return address in coordinators or members.by_address(address) is not None

    def _process_claimed(self, row: InboundMessage | None, parsed: Inbound | None = None) -> str:
        if row is None:
            return "claimed"
        if row.state != "received":
            return row.state
        self._process(row, parsed)
        return row.state

    def _process(self, row: InboundMessage, parsed: Inbound | None = None) -> None:
        now = self.clock()
        understood = understand(bytes(row.raw), self.settings, mail_from=row.mail_from,
                                rcpt_tos=row.rcpt_tos.split(), parsed=parsed, today=now.date())
        inbound, verdict, member, command = (understood.inbound, understood.verdict,
                                             understood.member, understood.command)
        row.sender, row.member, row.processed_at = inbound.sender, member, now
        # Mail to a signed plus address (unsubscribe, VERP bounce) is handled before the
        # guard: a bounce is exactly what the guard would otherwise drop unread.
        plus = receive_plus(self.settings, understood, row, self, now)
        if plus is not None:
            row.state, row.kind, row.reason = plus
            _save(row)
            return
        if verdict is not None:
            row.state, row.kind, row.reason = "ignored", verdict.kind, verdict.reason
            if verdict.bounced:
                row.reason += ": " + ", ".join(verdict.bounced)
            _save(row)
            return
        # A tokened answer to our own mail is never throttled: whoever forges the member's
        # From to flood the limit must not make the member's real JA go unheard.
        flood = None if _carries_live_token(command) else throttle.check(inbound.sender, now, self.settings,
                                                                          row.mail_from)
        if flood is not None:
            row.state, row.kind, row.reason = "ignored", "flood", flood.reason
            if flood.notify:
                self.queue(Reply("flood/throttled", {"limit": self.settings.inbound.max_per_hour},
                                 language=understood.language), understood, row)
            _save(row)
            return
        loop = loops.check(understood, now, self.settings)
        if loop is not None:
            row.state, row.kind, row.reason = "ignored", "loop", loop
            _save(row)
            return
        if understood.household and command.kind not in ("consent", "cancel-confirm", "refuse"):
            # A tokened answer names its member; anything else needs to know which member wrote.
            names = [{"name": m.name, "number": m.number} for m in understood.household]
            self.queue(Reply("household/which", {"members": names, "address": inbound.sender}),
                       understood, row)
            row.state, row.kind, row.reason = "processed", command.kind, "household member not identified"
            _save(row)
            return
        ctx = Context(settings=self.settings, sender=inbound.sender, member=member, inbound=row, now=now,
                      mail=inbound)
        replies, outcomes = [], []
        for each in understood.commands:
            try:
                with database.atomic():
                    replies += handle(each, ctx)
                outcomes.append("handled")
            except Refusal as refusal:
                replies.append(refusal.reply)
                outcomes.append(f"refused: {refusal.reply.template}")
        outcome = "; ".join(outcomes)
        for reply in replies:
            self.queue(reply, understood, row)
        row.state, row.kind = "processed", command.kind
        row.reason = outcome if replies else f"{outcome}; no reply due"
        _save(row)
        if command.kind in ANSWERS and command.argument:
            # The member's answer carries our token (in its To, often in its subject); an
            # unclear answer leaves it valid. Kept, like the outbox, with the token sealed.
            secret = self.settings.secret()
            InboundMessage.update(raw=tokens.seal(bytes(row.raw), secret),
                                  rcpt_tos=tokens.seal(row.rcpt_tos.encode(), secret).decode()).where(
                InboundMessage.id == row.id).execute()

    def queue(self, reply: Reply, understood: Understood, row: InboundMessage | None) -> OutboundMessage:
        to = reply.to or understood.inbound.sender
        recipient = members.by_address(to) if reply.to else understood.member
        language = (recipient.language if recipient else None) or reply.language or understood.language
        parent = reply.answers or ((understood.inbound.message_id, understood.inbound.references)
                                   if not reply.to else None)
        outgoing = compose_reply(self.settings, self.composer, reply, to=to, language=language, parent=parent)
        if reply.listing_id is not None:
            listing_links.record(outgoing.message_id, reply.listing_id)
        return enqueue(outgoing, inbound=row)


# What processing sets on a stored mail; saving only these never rewrites the raw bytes.
def _save(row: InboundMessage) -> None:
    _update_processed.execute(row.state, row.kind, row.reason, row.sender, row.member_id, row.processed_at, row.id)


_update_processed = Prepared(lambda state, kind, reason, sender, member, processed_at, row_id: InboundMessage.update(
    state=state, kind=kind, reason=reason, sender=sender, member=member, processed_at=processed_at).where(
    InboundMessage.id == row_id), 7)


