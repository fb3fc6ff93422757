"""ACTIVITEIT: / ACTIVITY: / ACTIVITÉ : / AKTIVITÄT: <title> from a member: an activity
announced by mail, and the replies to it.

The organiser gets a preview with a single-use token (group+v-TOKEN, "[v-TOKEN]") and
publishes with JA/YES/OUI; every member then gets the activity's mail, whose own address
(group+e-CODE) takes IK KOM / I'M COMING / JE VIENS / ICH KOMME [n] and AFMELDEN /
CANCEL / ANNULER / ABMELDEN. Only in reply to that address is CANCEL a place given up:
without it, CANCEL/OPZEGGEN ends the membership (handlers/cancel.py).
"""
from __future__ import annotations

import re

from db import activities, announcements
from db.models import Member

from . import Command, Context, Refusal, Reply, nonmember
from .activity_fields import FieldError, read
from .answers import NO, YES, find_token
from .commands import fold

PREVIEW = "v"     # group+v-TOKEN@domain: the organiser's JA to the preview
REPLY = "e"       # group+e-CODE@domain: a member's IK KOM / AFMELDEN
WORDS = {"activiteit": "nl", "activity": "en", "activite": "fr", "aktivitat": "de", "aktivitaet": "de"}
START = re.compile(r"^\s*(activiteit|activity|activite|aktivitat|aktivitaet)\s*:\s*(.*)$", re.S)
COMING = re.compile(r"^(?:ik kom|i'?m coming|i m coming|i am coming|je viens|ich komme)(?:\s+(\d{1,3}))?\b")
LEAVING = re.compile(r"^(?:afmelden|cancel|annuler|abmelden)\b")
WHO = re.compile(r"^(?:deelnemers|participants|teilnehmer|teilnehmende)\b")


def recognise(inbound, settings) -> Command | None:
    """An announcement in the subject, or an answer carrying a preview or activity token."""
    token = find_token(inbound, settings, prefix=PREVIEW)
    if token:
        return Command("activity-publish", None, token, inbound.reply_text)
    code = find_token(inbound, settings, prefix=REPLY)
    if code:
        return Command("activity-reply", None, code, inbound.reply_text)
    found = START.match(fold(inbound.subject)) if inbound.subject else None
    if found:
        title = " ".join(inbound.subject.split(":", 1)[1].split())
        return Command("activity", WORDS[found.group(1)], title, inbound.reply_text.strip())
    return None


def _member(command: Command, ctx: Context) -> Member:
    """The sender as a member who may take part; a non-member is told how to join."""
    if ctx.member is None:
        raise _NotMember()
    if ctx.member.status not in ("active", "leaving"):
        raise Refusal("member/inactive", status=ctx.member.status)
    return ctx.member


class _NotMember(Exception):
    pass


def handle(command: Command, ctx: Context) -> list[Reply]:
    """The organiser's announcement: checked whole, then a preview to confirm."""
    try:
        organiser = _member(command, ctx)
    except _NotMember:
        return nonmember.handle(command, ctx)
    title = command.argument[:200]
    try:
        fields = read(command.body, ctx.settings.group.timezone, ctx.now)
        if not title:
            raise FieldError("incomplete")
    except FieldError as error:
        raise Refusal("activity/invalid", problem=error.problem, title=title, value=error.value) from None
    language = command.language or organiser.language or "nl"
    activity, token = activities.draft(organiser, title=title, language=language, now=ctx.now,
                                       days=ctx.settings.activities.confirm_days, **fields)
    group = ctx.settings.group
    return [Reply("activity/preview", {**context(activity), "token": token, "expires": activity.preview_expires},
                  headers={"Reply-To": f"{group.local_part}+{PREVIEW}-{token}@{group.domain}"})]


def publish(command: Command, ctx: Context) -> list[Reply]:
    """The organiser's JA/NEE to the preview; JA sends the activity to every member."""
    activity = activities.find_preview(command.argument)
    if activity is None or ctx.member is None or ctx.member.id != activity.organiser_id:
        raise Refusal("activity/token", problem="unknown", title="")
    if activity.preview_used is not None:
        raise Refusal("activity/token", problem="already", title=activity.title)
    if activity.preview_expires <= ctx.now:
        raise Refusal("activity/token", problem="expired", title=activity.title)
    words = fold(re.sub(r"[^\w\s]", " ", command.body.strip().split("\n", 1)[0])).split()
    if not words or words[0] not in YES | NO:
        raise Refusal("activity/token", problem="unclear", title=activity.title)
    if not activities.use_preview(activity, ctx.now):
        raise Refusal("activity/token", problem="already", title=activity.title)
    if words[0] in NO:
        return [Reply("activity/dropped", {"title": activity.title})]
    if activity.start <= ctx.now:
        raise Refusal("activity/invalid", problem="past", title=activity.title, value="")
    activities.publish(activity)
    group = ctx.settings.group
    address = f"{group.local_part}+{REPLY}-{activity.code}@{group.domain}"
    mails = [Reply("activity/announcement", {**context(activity), "code": activity.code, "name": m.name},
                   to=m.email, bulk=True, headers={"Reply-To": address}) for m in announcements.readers()]
    return [Reply("activity/published", {**context(activity), "readers": len(mails)})] + mails


def reply(command: Command, ctx: Context) -> list[Reply]:
    """IK KOM [n] or AFMELDEN in reply to an activity's mail."""
    activity = activities.by_code(command.argument)
    if activity is None:
        raise Refusal("activity/token", problem="unknown", title="")
    about = context(activity)
    try:
        member = _member(command, ctx)
    except _NotMember:
        raise Refusal("activity/refused", problem="not-member", **about) from None
    first = next((line for line in command.body.splitlines() if line.strip()), "")
    said = " ".join(re.sub(r"[^\w'\s]", " ", fold(first).replace("’", "'")).split())
    coming, leaving = COMING.match(said), LEAVING.match(said)
    if WHO.match(said):
        return [_participants(activity, member, about)]
    try:
        if coming:
            places = int(coming.group(1) or 1)
            if places < 1:
                raise activities.ActivityError("unclear")
            row = activities.sign_up(activity, member, places, ctx.now)
            change = "waiting" if row.state == "waiting" else "signed"
            return [_confirmation(row, activity, about, ctx)] + _organiser_told(activity, member, change, about)
        if leaving:
            row, promoted = activities.cancel(activity, member, ctx.now, ctx.settings.activities.cancel_hours)
            # One mail for the organiser: the list below shows who moved up in the freed place.
            told = _organiser_told(activity, member, "cancelled", about)
            return ([Reply("activity/cancelled", {**about, "was": row.was},
                           calendar=("CANCEL", activity.id) if row.was == "signed" else None)]
                    + [_promoted(each, activity, about) for each in promoted if each.member.primary_address]
                    + told)
        raise activities.ActivityError("unclear")
    except activities.ActivityError as error:
        raise Refusal("activity/refused", problem=error.problem, **about, **error.context) from None


def _participants(activity, member: Member, about: dict) -> Reply:
    """The organiser's list: who comes, who waits. Nobody else sees names."""
    if member.id != activity.organiser_id:
        raise Refusal("activity/refused", problem="not-organiser", **about)
    return Reply("activity/participants", _list(activity, about))


def _organiser_told(activity, member: Member, change: str, about: dict) -> list[Reply]:
    """The organiser hears of every change to the list (article 18: they plan the places):
    who signed up, waits or cancelled, and the list as it now stands."""
    organiser = activity.organiser
    if member.id == organiser.id or not organiser.primary_address:
        return []
    return [Reply("activity/participants", {**_list(activity, about), "change": change, "who": member.name},
                  to=organiser.primary_address)]


def _list(activity, about: dict) -> dict:
    rows = activities.participants(activity)
    return {**about, "taken": activities.taken(activity), "change": "", "who": "", "people": [
        {"name": row.member.name, "places": row.places, "waiting": row.state == "waiting"} for row in rows]}


def _confirmation(row, activity, about: dict, ctx: Context) -> Reply:
    if row.state == "waiting":
        return Reply("activity/waiting", {**about, "places": row.places})
    return Reply("activity/signed", {**about, "places": row.places,
                                     "cancel_hours": ctx.settings.activities.cancel_hours},
                 calendar=("REQUEST", activity.id))


def _promoted(row, activity, about: dict) -> Reply:
    member = row.member
    return Reply("activity/promoted", {**about, "places": row.places, "name": member.name},
                 to=member.primary_address, calendar=("REQUEST", activity.id))


def context(activity) -> dict:
    """What every activity mail shows: public fields only."""
    return {"title": activity.title, "start": activity.start, "place": activity.place,
            "description": activity.description, "capacity": activity.capacity, "price": activity.price_cents,
            "payee": activity.payee, "organiser": activity.organiser.name, "signup": activity.signup}

