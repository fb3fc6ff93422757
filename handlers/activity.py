"""ACTIVITEIT: / ACTIVITY: / ACTIVITÉ : / AKTIVITÄT: <title> from a member: an activity
announced by mail, and the replies to it.

The organiser gets a preview with a single-use token (group+v-TOKEN, "[v-TOKEN]") and
publishes with JA/YES/OUI; where the core group approves activities ([activities]
approval) it then waits for `lets activity approve`. Every other member then gets the
activity's mail, whose own address (group+e-CODE) takes IK KOM / I'M COMING / JE VIENS /
ICH KOMME [n] and AFMELDEN / CANCEL / ANNULER / ABMELDEN. Only in reply to that address is
CANCEL a place given up: without it, CANCEL/OPZEGGEN ends the membership
(handlers/cancel.py).

The organiser, in reply to the same address, asks for DEELNEMERS (the list), moves the
activity (VERPLAATSEN / MOVE / DÉPLACER / VERSCHIEBEN <date and time>) or calls it off
(AFLASSEN / CALL OFF / ANNULER L'ACTIVITÉ / ABSAGEN; with ALLE / ALL / TOUT the whole
series). Calling off tells everyone and cannot be undone, so it is asked again with a
token (the preview's columns hold it: group+v-TOKEN for one date, group+w-TOKEN for the
series).
"""
from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

from db import activities, announcements, tokens
from db.models import Activity, Budget, Member

from . import Command, Context, Refusal, Reply, nonmember
from .activity_fields import FieldError, read, read_moment
from .activity_repeat import describe, next_starts
from .answers import answer, find_token, token_address
from .authenticated import disowned
from .commands import fold

PREVIEW = "v"     # group+v-TOKEN@domain: the organiser's JA to the preview (or to calling one date off)
SERIES = "w"      # group+w-TOKEN@domain: the organiser's JA to calling a whole series off
REPLY = "e"       # group+e-CODE@domain: a member's IK KOM / AFMELDEN
WORDS = {"activiteit": "nl", "activity": "en", "activite": "fr", "aktivitat": "de", "aktivitaet": "de"}
START = re.compile(r"^\s*(activiteit|activity|activite|aktivitat|aktivitaet)\s*:\s*(.*)$", re.S)
COMING = re.compile(r"^(?:ik kom|i'?m coming|i m coming|i am coming|je viens|ich komme)(?:\s+(\d{1,3}))?\b")
COMING_COUNT = re.compile(r"\b(?:ik kom|i'?m coming|i m coming|i am coming|je viens|ich komme)\s+(\d{1,3})\b")
LEAVING = re.compile(r"^(?:afmelden|cancel|annuler|abmelden)\b")
WHO = re.compile(r"^(?:deelnemers|participants|teilnehmer|teilnehmende)\b")
CALL_OFF = re.compile(r"^(?:aflassen|afgelast|call off|called off|cancel (?:the )?activity|annuler l'?activite"
                      r"|activite annulee|absagen|abgesagt)(?:\s+(alle|all|tout|toutes|alles))?\b")
CALL_OFF_ANYWHERE = re.compile(r"\b" + CALL_OFF.pattern[1:])
MOVE = re.compile(r"^(?:verplaatsen|verplaats|move|moved|reschedule|deplacer|reporter|verschieben|verlegen)"
                  r"(?:\s+(?:naar|to|au|a|a la|auf|zum|nach|op|on))?\b\s*:?\s*(.*)$")
# How many of a series' coming dates a mail lists.
SHOWN_DATES = 6


def recognise(inbound, settings) -> Command | None:
    """An announcement in the subject, or an answer carrying a preview or activity token."""
    token = find_token(inbound, settings, prefix=PREVIEW)
    if token:
        return Command("activity-publish", None, token, inbound.reply_text)
    token = find_token(inbound, settings, prefix=SERIES)
    if token:
        return Command("activity-publish", None, SERIES + ":" + token, inbound.reply_text)
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


def _budget(name: str) -> Budget:
    """The budget an organiser named, by its name as written (accents and case aside)."""
    every = list(Budget.select().order_by(Budget.name))
    found = [b for b in every if fold(b.name) == fold(name).strip()]
    if not found:
        names = ", ".join(b.name for b in every)
        raise FieldError("payee", f"{name} ({names})" if names else name)
    return found[0]


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
        budget_name = fields.pop("budget_name")
        budget = _budget(budget_name) if fields["payee"] == "budget" else None
    except FieldError as error:
        raise Refusal("activity/invalid", problem=error.problem, title=title, value=error.value) from None
    language = command.language or organiser.language or "nl"
    activity, token = activities.draft(organiser, title=title, language=language, now=ctx.now, budget=budget,
                                       days=ctx.settings.activities.confirm_days, **fields)
    dates = [start for start, _ in next_starts(activity, ctx.settings, ctx.now, include_first=True)]
    return [Reply("activity/preview", {**context(activity, ctx.settings), "token": token,
                                       "expires": activity.preview_expires, "dates": dates[:SHOWN_DATES],
                                       "approval": _needs_approval(organiser, ctx.settings)},
                  headers={"Reply-To": token_address(ctx.settings, PREVIEW, token)})]


def _needs_approval(organiser: Member, settings) -> bool:
    """Whether the core group publishes this organiser's activities; theirs it need not."""
    admins = {address.lower() for address in settings.group.admins}
    return settings.activities.approval and (organiser.primary_address or "").lower() not in admins


def publish(command: Command, ctx: Context) -> list[Reply]:
    """The organiser's JA/NEE to a question about their activity: the preview (publish it),
    or calling one date or the whole series off."""
    whole = command.argument.startswith(SERIES + ":")
    token = command.argument.split(":", 1)[1] if whole else command.argument
    activity = activities.find_preview(token)
    if activity is None or ctx.member is None or ctx.member.id != activity.organiser_id:
        raise Refusal("activity/token", problem="unknown", title="")
    if activity.preview_used is not None:
        raise Refusal("activity/token", problem="already", title=activity.title)
    if activity.preview_expires <= ctx.now:
        raise Refusal("activity/token", problem="expired", title=activity.title, calloff=activity.state != "draft")
    if disowned(ctx.mail):
        raise Refusal("activity/refused", problem="disowned", **context(activity, ctx.settings))
    said = answer(command.body)
    if said is None:
        raise Refusal("activity/token", problem="unclear", title=activity.title)
    if not activities.use_preview(activity, ctx.now):
        raise Refusal("activity/token", problem="already", title=activity.title)
    if activity.state == "published":
        return _call_off_answered(activity, said, whole, ctx)
    if said == "no":
        return [Reply("activity/dropped", {"title": activity.title})]
    if activity.start <= ctx.now:
        raise Refusal("activity/invalid", problem="past", title=activity.title, value="")
    if _needs_approval(ctx.member, ctx.settings):
        activities.await_approval(activity)
        about = {**context(activity, ctx.settings), "number": activity.id}
        return [Reply("activity/pending", about)] + [
            Reply("activity/approve", about, to=admin, language=ctx.settings.group.language)
            for admin in ctx.settings.group.admins]
    return go_live(activity, ctx.settings, ctx.now)


def go_live(activity: Activity, settings, now: dt.datetime) -> list[Reply]:
    """Publish: a recurring activity's first occurrences are opened, and every other member
    gets the activity's mail; the organiser is told how many. The replies to queue."""
    activities.publish(activity)
    occurrences = activities.add_occurrences(activity, next_starts(activity, settings, now), now) \
        if activity.rule else []
    address = activity_address(activity, settings)
    about = {**context(activity, settings), "code": activity.code,
             "dates": [activity.start] + [o.start for o in occurrences][:SHOWN_DATES - 1]}
    # Not to the organiser: the preview showed them the mail, and they are not asked to sign up.
    mails = [Reply("activity/announcement", {**about, "name": m.name}, to=m.email, bulk=True,
                   headers={"Reply-To": address}) for m in announcements.readers()
             if m.id != activity.organiser_id]
    # To the organiser: an answer to their JA, or (approved later) mailed by the caller. Its
    # replies go to the activity's address: PARTICIPANTS, MOVE TO, CALL OFF.
    return [Reply("activity/published", {**about, "readers": len(mails)}, headers={"Reply-To": address})] + mails


def reply(command: Command, ctx: Context) -> list[Reply]:
    """IK KOM [n] or AFMELDEN in reply to an activity's mail; the organiser's DEELNEMERS,
    VERPLAATSEN and AFLASSEN."""
    activity = activities.by_code(command.argument)
    if activity is None:
        raise Refusal("activity/token", problem="unknown", title="")
    about = context(activity, ctx.settings)
    try:
        member = _member(command, ctx)
    except _NotMember:
        raise Refusal("activity/refused", problem="not-member", **about) from None
    first = next((line for line in command.body.splitlines() if line.strip()), "")
    said = " ".join(re.sub(r"[^\w'\s:.,/-]", " ", fold(first).replace("’", "'")).split())
    words = " ".join(re.sub(r"[^\w'\s]", " ", said).split())
    coming, leaving = COMING.match(words), LEAVING.match(words)
    if WHO.match(words):
        return [_participants(activity, member, about, ctx.settings)]
    if disowned(ctx.mail):      # written in the member's name: no place taken, given up or changed
        raise Refusal("activity/refused", problem="disowned", **about)
    organiser = member.id == activity.organiser_id
    # The organiser's "Helaas, aflassen graag": anywhere in the line, as a JA confirms it.
    calling_off, moving = (CALL_OFF_ANYWHERE.search(words) if organiser else CALL_OFF.match(words)), MOVE.match(said)
    if (calling_off or moving) and not organiser:
        raise Refusal("activity/refused", problem="not-organiser-change", **about)
    settings = ctx.settings.activities
    money = {"limits": ctx.settings.limits, "pay_now": settings.charge == "signup", "zone": ctx.settings.group.timezone}
    try:
        if calling_off:
            return [_ask_call_off(activity, bool(calling_off.group(1)), about, ctx)]
        if moving:
            return _move(activity, moving.group(1), about, ctx)
        if coming:
            # "I'm coming, with my daughter: I'M COMING 2": the number may come later in the line.
            counted = COMING_COUNT.search(words)
            places = int(coming.group(1) or (counted.group(1) if counted else 1))
            if places < 1:
                raise activities.ActivityError("unclear")
            row = activities.sign_up(activity, member, places, ctx.now, **money)
            change = "waiting" if row.state == "waiting" else "signed"
            return [_confirmation(row, activity, about, ctx)] + _organiser_told(activity, member, change, about, ctx.settings)
        if leaving:
            row, promoted = activities.cancel(activity, member, ctx.now, settings.cancel_hours, **money)
            # One mail for the organiser: the list below shows who moved up in the freed place.
            told = _organiser_told(activity, member, "cancelled", about, ctx.settings)
            return ([Reply("activity/cancelled", {**about, "was": row.was, "refunded": row.refunded},
                           headers=reply_to(activity, ctx.settings),
                           calendar=("CANCEL", activity.id, row.sequence) if row.was == "signed" else None)]
                    + [_promoted(each, activity, about, ctx.settings) for each in promoted
                       if each.member.primary_address]
                    + told)
        raise activities.ActivityError("unclear", is_organiser=organiser)
    except activities.ActivityError as error:
        if error.problem == "not-signed" and organiser:
            error.context["is_organiser"] = True      # they may have meant to call it off
        raise Refusal("activity/refused", problem=error.problem, **{**about, **error.context}) from None


def _ask_call_off(activity: Activity, whole: bool, about: dict, ctx: Context) -> Reply:
    """Calling off is asked again: a token on the preview's columns, answered JA."""
    activities.open_for(activity, ctx.now)
    whole = whole and bool(activity.series)
    token = tokens.new()
    Activity.update(preview_digest=tokens.digest(token), preview_used=None,
                    preview_expires=ctx.now + dt.timedelta(days=ctx.settings.activities.confirm_days)).where(
        Activity.id == activity.id).execute()
    prefix = SERIES if whole else PREVIEW
    rows = [a for a in activities.occurrences(activity.series, ctx.now) if a.state == "published"] \
        if whole else [activity]
    people = sum(len(activities.participants(each)) for each in rows)
    return Reply("activity/call-off-ask", {**about, "token": token, "prefix": prefix, "whole": whole,
                                           "dates": [each.start for each in rows], "people": people},
                 headers={"Reply-To": token_address(ctx.settings, prefix, token)})


def _call_off_answered(activity: Activity, said: str, whole: bool, ctx: Context) -> list[Reply]:
    about = context(activity, ctx.settings)
    if said == "no":
        return [Reply("activity/call-off-kept", about)]
    rows = [activity] if not whole else [a for a in activities.occurrences(activity.series, ctx.now)
                                         if a.state == "published"]
    replies, told = [], 0
    for each in rows:
        try:
            placed = activities.call_off(each, ctx.now, ctx.settings.limits)
        except activities.ActivityError as error:
            raise Refusal("activity/refused", problem=error.problem, **about) from None
        for row in placed:
            if row.member.primary_address and row.member_id != activity.organiser_id:
                replies.append(called_off(row, each, ctx.settings))
                told += 1
    if whole:
        activities.end_series(activity.series)
    return [Reply("activity/call-off-done", {**about, "told": told, "whole": whole, "dates": [a.start for a in rows]})
            ] + replies


def called_off(row, activity: Activity, settings) -> Reply:
    """A participant's (or waiting member's) notice that the activity will not take place."""
    member = row.member
    return Reply("activity/called-off", {**context(activity, settings), "name": member.name,
                                         "placed": row.state == "signed", "refunded": row.refunded},
                 to=member.primary_address,
                 calendar=("CANCEL", activity.id, row.sequence) if row.state == "signed" else None)


def _move(activity: Activity, text: str, about: dict, ctx: Context) -> list[Reply]:
    """The organiser's new date (and time) for this activity, or this date of a series."""
    try:
        start, finish = read_moment(text, activity, ctx.settings.group.timezone, ctx.now)
    except FieldError as error:
        raise Refusal("activity/refused", problem="move-" + error.problem, value=error.value or text,
                      **about) from None
    before = activity.start
    told = moved(activity, activities.move(activity, start, finish, ctx.now), before, ctx.settings)
    return [Reply("activity/move-done", {**context(activity, ctx.settings), "before": before,
                                         "told": len(told)})] + told


def moved(activity: Activity, rows, before: dt.datetime, settings) -> list[Reply]:
    """Everyone signed up or waiting (the organiser aside) told of the new date; a signed
    place's mail carries the calendar's update (the same UID, the next SEQUENCE)."""
    about = context(activity, settings)
    return [Reply("activity/moved", {**about, "name": row.member.name, "before": before,
                                     "placed": row.state == "signed"}, to=row.member.primary_address,
                  headers=reply_to(activity, settings),
                  calendar=("REQUEST", activity.id, row.sequence) if row.state == "signed" else None)
            for row in rows if row.member.primary_address and row.member_id != activity.organiser_id]


def _participants(activity: Activity, member: Member, about: dict, settings) -> Reply:
    """The organiser's list: who comes, who waits. Nobody else sees names."""
    if member.id != activity.organiser_id:
        raise Refusal("activity/refused", problem="not-organiser", **about)
    return Reply("activity/participants", _list(activity, about), headers=reply_to(activity, settings))


def _organiser_told(activity: Activity, member: Member, change: str, about: dict, settings) -> list[Reply]:
    """The organiser hears of every change to the list (article 18: they plan the places):
    who signed up, waits or cancelled, and the list as it now stands."""
    organiser = activity.organiser
    if member.id == organiser.id or not organiser.primary_address:
        return []
    return [Reply("activity/participants", {**_list(activity, about), "change": change, "who": member.name},
                  to=organiser.primary_address, headers=reply_to(activity, settings))]


def _list(activity: Activity, about: dict) -> dict:
    rows = activities.participants(activity)
    return {**about, "taken": activities.taken(activity), "change": "", "who": "", "people": [
        {"name": row.member.name, "places": row.places, "waiting": row.state == "waiting"} for row in rows]}


def _confirmation(row, activity: Activity, about: dict, ctx: Context) -> Reply:
    headers = reply_to(activity, ctx.settings)
    if row.state == "waiting":
        return Reply("activity/waiting", {**about, "places": row.places}, headers=headers)
    return Reply("activity/signed", {**about, "places": row.places, "paid": row.transfer_id is not None,
                                     "cancel_hours": ctx.settings.activities.cancel_hours},
                 headers=headers, calendar=("REQUEST", activity.id, row.sequence))


def _promoted(row, activity: Activity, about: dict, settings) -> Reply:
    member = row.member
    return Reply("activity/promoted", {**about, "places": row.places, "name": member.name,
                                       "paid": row.transfer_id is not None,
                                       "cancel_hours": settings.activities.cancel_hours},
                 to=member.primary_address, headers=reply_to(activity, settings),
                 calendar=("REQUEST", activity.id, row.sequence))


def reply_to(activity: Activity, settings) -> dict:
    """Every mail about a member's place answers to the activity's own address, so a reply
    to it (CANCEL, I'M COMING) is about this activity, never the membership."""
    return {"Reply-To": activity_address(activity, settings)}


def activity_address(activity: Activity, settings) -> str:
    """The activity's own address: IK KOM, AFMELDEN and the organiser's words go there."""
    return token_address(settings, REPLY, activity.code)


def context(activity: Activity, settings) -> dict:
    """What every activity mail shows: public fields only. Times are the group's."""
    zone = ZoneInfo(settings.group.timezone)
    local = activity.start.replace(tzinfo=dt.timezone.utc).astimezone(zone)
    finish = activity.finish.replace(tzinfo=dt.timezone.utc).astimezone(zone) if activity.finish else None
    return {"title": activity.title, "start": activity.start, "finish": activity.finish,
            "same_day": finish is None or finish.date() == local.date(), "place": activity.place,
            "description": activity.description, "capacity": activity.capacity, "price": activity.price_cents,
            "euro": activity.price_euro_cents, "payee": activity.payee,
            "budget": activity.budget.name if activity.budget_id else "", "organiser": activity.organiser.name,
            "signup": activity.signup, "repeat": describe(activity.rule), "charge": settings.activities.charge,
            # What some of the mails add; these are their values where they do not.
            "dates": [], "paid": False, "refunded": False, "is_organiser": False}
