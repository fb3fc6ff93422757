"""The administrators' membership decisions and the scheduled membership mail.

Each decision changes the member and queues the member's mail in one transaction.
Scheduled work (`run_due` in mailer/runs/scheduled.py): open departures are reviewed (a notice
that takes effect, a balance back at zero, a deadline passed, a settlement paid) and
leaving and settling members are reminded once a calendar month; members without an
active offer get a gentle reminder at most once per `[membership] offer_reminder_days`.
Both are idempotent: run twice or late, each mail goes once. A member without email is
told through their coordinator (mailer/runs/member_mail.py), or not at all.
"""
from __future__ import annotations

import datetime as dt

from db import departures, euro, members, membership, offering, write_transaction
from db.models import Departure, Member, Notice
from handlers.cancel import context as departure_context, told

from ..message.compose import Composer
from ..outbound.outbox import enqueue
from .euro import statement
from .member_mail import about
from .trades import queue

TEMPLATES = {"approve": "member/welcome", "refuse": "member/refused", "suspend": "member/suspended",
             "expel": "member/expelled", "reinstate": "member/reinstated"}


def send(settings, member: Member, template: str, context: dict, composer: Composer | None = None,
         to: str | None = None) -> None:
    """A mail to a member in the member's own language (a household shares the address, not
    the language); for a member without email, to their coordinator to pass on."""
    composer = composer or Composer(settings)
    context = {"name": member.name, "number": member.number, **context}
    address = to or member.primary_address
    if address:
        enqueue(composer.compose(template, member.language, context, to=address, kind=template))
        return
    reply = about(member, template, context, settings, composer)
    if reply is not None:
        queue([reply], settings, composer)


def tell_admins(settings, template: str, context: dict, composer: Composer | None = None) -> None:
    composer = composer or Composer(settings)
    for admin in settings.group.admins:
        enqueue(composer.compose(template, settings.group.language, context, to=admin, kind=template))


def decide(settings, member: Member, action: str, *, reason: str = "", now: dt.datetime,
           entered_by: str, meeting: bool = False) -> None:
    """approve, refuse, suspend, expel or reinstate, and tell the member (with the reason).
    `meeting`: the general meeting admits an applicant the core group refused."""
    with write_transaction():
        membership.change(member, action, reason=reason, entered_by=entered_by, now=now, meeting=meeting)
        if action == "approve":
            # The registration fee and this year's euro contribution; the notice follows
            # with the next euro run.
            euro.register_new_member(member, settings, on=now.date())
        send(settings, member, TEMPLATES[action], {"reason": reason.strip(), "status": member.status})


def cancel(settings, member: Member, *, now: dt.datetime, entered_by: str) -> Departure:
    """`lets member cancel`: the same as the member's OPZEGGEN."""
    with write_transaction():
        departure = departures.give_notice(member, now=now, settings=settings, entered_by=entered_by)
        _told(settings, departure, member)
    return departure


def _told(settings, departure: Departure, member: Member, composer: Composer | None = None) -> None:
    reply = told(departure, member, settings)
    send(settings, member, reply.template, reply.context, composer)


def settle(settings, member: Member, *, keep: bool, now: dt.datetime, entered_by: str) -> departures.Departure:
    """Keep a leaving member on, or settle the balance in euros: the member is then
    settling (told what to pay, and how) until it is paid, or leaves at once when nothing
    is owed."""
    with write_transaction():
        balance = members.account(member).balance_cents
        departure, euro_cents = departures.settle(member, keep=keep, now=now, settings=settings,
                                                  entered_by=entered_by)
        if keep:
            send(settings, member, "leaving/kept", {"balance": balance})
        elif departure.state == "settling":
            send(settings, member, "leaving/settling", settling_context(member, departure, settings, balance))
            # The settling mail is this month's word: the monthly reminder starts next month.
            Notice.get_or_create(address=f"leaving:{member.id}", kind=f"leaving:{now:%Y-%m}",
                                 defaults={"sent_at": now})
        else:
            send(settings, member, "leaving/settled", settled_context(member, departure))
    return departure


def settling_context(member: Member, departure: Departure, settings, balance: int = 0,
                     reminder: bool = False) -> dict:
    """What a settling member still pays: the statement of the settlement's year (the
    settled balance is a charge of its own, beside the year's contribution), all years
    together, the bank account and the reference. `balance`: the one just settled."""
    settlement = departures.settlement(departure)
    year = settlement.year if settlement is not None else departure.effective.year
    return {**statement(member, year, settings), "balance": balance,
            "euro": settlement.amount_cents if settlement is not None else 0,
            "owed_total": departures.euro_outstanding(member), "reminder": reminder}


def settled_context(member: Member, departure: Departure) -> dict:
    settlement = departures.settlement(departure)
    return {"balance": members.account(member).balance_cents,
            "euro": settlement.amount_cents if settlement is not None else 0}


def leave_if_done(settings, member: Member, *, now: dt.datetime, composer: Composer | None = None) -> bool:
    """After a euro payment: a leaving or settling member who owes nothing more leaves now,
    and is told so. Call inside the payment's transaction."""
    departure = departures.current(member)
    if departure is None or departure.state not in ("leaving", "due", "settling"):
        return False
    _review(settings, departure, now, composer or Composer(settings), remind=False)
    return departure.state in ("left", "settled")


def review_departures(settings, now: dt.datetime, composer: Composer | None = None) -> int:
    """Take open departures a step further and remind leaving members; mails queued."""
    composer = composer or Composer(settings)
    queued = 0
    ids = [d.id for d in Departure.select(Departure.id).where(Departure.state.in_(departures.OPEN))]
    for departure_id in ids:
        with write_transaction():
            departure = Departure.get_by_id(departure_id)
            if departure.state not in departures.OPEN:
                continue
            queued += _review(settings, departure, now, composer)
    return queued


def _review(settings, departure: Departure, now: dt.datetime, composer: Composer, *, remind: bool = True) -> bool:
    """One departure a step further; True when its member (or the administrators) were told."""
    member = Member.get_by_id(departure.member_id)
    before = departure.state
    after = departures.review(departure, now=now, settings=settings)
    if after != before and after in ("left", "leaving"):
        _told(settings, departure, member, composer)
    elif after == "settled":
        send(settings, member, "leaving/settled", settled_context(member, departure), composer)
    elif after == "continued":
        # Article 5.5.2: not settled in time, the membership goes on as a regular one.
        send(settings, member, "leaving/continued", departure_context(departure, member), composer)
    elif after == "due" and before != "due":
        tell_admins(settings, "leaving/due", {**departure_context(departure, member),
                                              "continues": departures.continues_on(departure, settings)}, composer)
    elif remind and after == "leaving" and _remind(member, departure, now):
        send(settings, member, "leaving/reminder", departure_context(departure, member), composer)
    elif remind and after == "settling" and _remind(member, departure, now):
        send(settings, member, "leaving/settling", settling_context(member, departure, settings, reminder=True),
             composer)
    else:
        return False
    return True


def _remind(member: Member, departure: Departure, now: dt.datetime) -> bool:
    """Once per calendar month, not in the month the leaving period began."""
    month = f"{now:%Y-%m}"
    if month == f"{departure.given:%Y-%m}" or month == f"{departure.effective:%Y-%m}":
        return False
    _, created = Notice.get_or_create(address=f"leaving:{member.id}", kind=f"leaving:{month}",
                                      defaults={"sent_at": now})
    return created


def remind_offers(settings, now: dt.datetime, composer: Composer | None = None) -> int:
    """A gentle reminder, with the group's rule (article 17.1) and an example, to active
    members who offer nothing (`lets member no-offer` lists them)."""
    days = settings.membership.offer_reminder_days
    if days <= 0:
        return 0
    composer = composer or Composer(settings)
    today, quiet = now.date(), now - dt.timedelta(days=days)
    reminded = (Notice.select(Notice.address).where(Notice.kind == "offer-reminder", Notice.sent_at > quiet))
    query = offering.without_offer(today, joined_before=today - dt.timedelta(days=days))
    recent = {row.address for row in reminded}
    queued = 0
    for member in query.iterator():
        key = f"offers:{member.id}"
        if key in recent:
            continue
        with write_transaction():
            notice = Notice.get_or_none(Notice.address == key, Notice.kind == "offer-reminder")
            if notice is not None and notice.sent_at > quiet:
                continue
            if notice is None:
                Notice.create(address=key, kind="offer-reminder", sent_at=now)
            else:
                Notice.update(sent_at=now).where(Notice.id == notice.id).execute()
            send(settings, member, "offers/reminder", {}, composer)
        queued += 1
    return queued
