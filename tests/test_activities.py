"""Activities by mail (issue 19): a repair café announced, published, joined, cancelled and
charged through the real pipeline, with literal mails and a fixed clock; its calendar
invitation read by `icalendar`, and the public feed of `lets agenda --ics`."""
import datetime as dt
import re

import icalendar
import pytest

from db import ledger, members
from db.models import Activity, InboundMessage, Signup, Transfer
from mailer.runs.scheduled import run_due
from tests.test_euro import lets

ORGANISER = "an@example.org"
REPAIR_CAFE = """Datum: 5 december 2026
Tijd: 14:00
Plaats: Buurthuis De Klif
Plaatsen: 3
Prijs: 2
Breng je kapotte broodrooster mee."""


def ok(result):
    assert result.exit_code == 0, result.output
    return result.output


@pytest.fixture
def jonas(group):
    return group.member("Jonas Becker", "jonas@example.org", language="de")


def preview_token(group, to=ORGANISER):
    mail = group.last(to)
    token = re.search(r"\[v-([a-z2-7]{24})\]", mail.subject).group(1)
    assert mail.message["Reply-To"] == f"lets+v-{token}@lets.example"
    return mail, token


def publish(group, subject="ACTIVITEIT: Repaircafé", body=REPAIR_CAFE, sender=ORGANISER):
    group.mail(sender, subject, body)
    _, token = preview_token(group, sender)
    group.mail(sender, f"Re: [v-{token}]", "JA", rcpt=[f"lets+v-{token}@lets.example"])
    return Activity.get(Activity.title == subject.split(":", 1)[1].strip())


def activity_address(group, to):
    mail = [m for m in group.outbox(to) if m.message["Reply-To"] and "+e-" in m.message["Reply-To"]][-1]
    return mail.message["Reply-To"]


def reply(group, sender, text, address=None):
    address = address or activity_address(group, sender)
    return group.mail(sender, "Re: Repaircafé", text, rcpt=[address])


def calendar_of(mail):
    part = next(p for p in mail.message.walk() if p.get_content_type() == "text/calendar")
    return part.get_param("method"), icalendar.Calendar.from_ical(part.get_content())


def test_a_repair_cafe_with_three_places_is_joined_waited_for_cancelled_and_charged_once(
        group, an, sam, claire, piet, jonas, tmp_path):
    # The organiser announces; nothing is public until the preview is answered.
    group.mail(ORGANISER, "ACTIVITEIT: Repaircafé", REPAIR_CAFE)
    preview, token = preview_token(group)
    assert preview.subject.startswith("Publiceer je activiteit: Repaircafé")
    assert "zaterdag 5 december 2026, 14:00" in preview.text and "Buurthuis De Klif" in preview.text
    assert "Prijs: 2,00 zonnen" in preview.text and "JA" in preview.text
    assert Activity.get().state == "draft" and not group.outbox("sam@example.org")
    group.mail(ORGANISER, f"Re: [v-{token}]", "JA", rcpt=[f"lets+v-{token}@lets.example"])
    done = [m for m in group.outbox(ORGANISER) if m.subject == "Je activiteit is gepubliceerd: Repaircafé"]
    assert len(done) == 1 and "gaat nu naar 4 leden" in done[0].text
    activity = Activity.get()
    assert activity.state == "published" and activity.capacity == 3 and activity.price_cents == 200
    assert activity.start == dt.datetime(2026, 12, 5, 13, 0)          # 14:00 in Amsterdam, kept in UTC
    invitation = group.last("sam@example.org")
    assert invitation.subject == f"LETS Demo: Repaircafé [e-{activity.code}]" and "I'M COMING" in invitation.text
    assert "ICH KOMME" in group.last("jonas@example.org").text

    # Three sign up; the fourth waits.
    reply(group, "sam@example.org", "I'm coming!")
    signed = group.last("sam@example.org")
    assert signed.subject == "You are signed up: Repaircafé"
    assert "Signing up is your consent to pay: 2.00 zonnen" in signed.text
    method, calendar = calendar_of(signed)
    event = calendar.walk("VEVENT")[0]
    assert method == "REQUEST" and calendar["METHOD"] == "REQUEST"
    assert str(event["SUMMARY"]) == "Repaircafé" and str(event["LOCATION"]) == "Buurthuis De Klif"
    start = event.decoded("DTSTART")
    assert start.hour == 14 and str(start.tzinfo) == "Europe/Amsterdam"
    assert start.astimezone(dt.timezone.utc).replace(tzinfo=None) == activity.start
    uid = str(event["UID"])
    reply(group, "claire@example.org", "JE VIENS")
    assert group.last("claire@example.org").subject == "Vous êtes inscrit : Repaircafé"
    # A mail program that answers the From address: the subject's tag names the activity.
    group.mail("piet@example.org", f"Re: LETS Demo: Repaircafé [e-{activity.code}]", "IK KOM")
    assert str(calendar_of(group.last("piet@example.org"))[1].walk("VEVENT")[0]["UID"]) == uid
    reply(group, "jonas@example.org", "ICH KOMME")
    assert group.last("jonas@example.org").subject == "Auf der Warteliste: Repaircafé"
    assert [s.state for s in Signup.select().order_by(Signup.id)] == ["signed", "signed", "signed", "waiting"]

    # Two days before, Claire gives her place up: Jonas gets it, and is told.
    group.clock.now = dt.datetime(2026, 12, 3, 13, 0)
    reply(group, "claire@example.org", "ANNULER")
    gone = group.last("claire@example.org")
    assert "Rien ne sera facturé" in gone.text
    assert calendar_of(gone)[0] == "CANCEL" and str(calendar_of(gone)[1].walk("VEVENT")[0]["UID"]) == uid
    told = group.last("jonas@example.org")
    assert told.subject == "Ein Platz ist für dich frei geworden: Repaircafé"
    assert calendar_of(told)[0] == "REQUEST"

    # The day before: a reminder to each of the three, once; the organiser's list.
    group.clock.now = dt.datetime(2026, 12, 4, 8, 0)
    run_due(group.settings, group.clock.now, group.processor.composer)
    run_due(group.settings, group.clock.now, group.processor.composer)
    reminders = [m for m in group.outbox() if "Repaircafé" in m.subject and m.subject.startswith(
        ("Tomorrow", "Morgen", "Demain"))]
    assert sorted(m.recipient for m in reminders) == ["jonas@example.org", "piet@example.org", "sam@example.org"]
    reply(group, ORGANISER, "DEELNEMERS")
    people = group.last(ORGANISER)
    assert people.subject == "Deelnemers: Repaircafé" and "3 van 3 plaatsen bezet" in people.text
    assert "Sam Taylor, 1" in people.text and "Claire" not in people.text
    reply(group, "sam@example.org", "PARTICIPANTS")
    assert "Only the organiser" in group.last("sam@example.org").text

    # Two hours before, Sam is too late: refused, the place and its price stay.
    group.clock.now = dt.datetime(2026, 12, 5, 11, 0)
    reply(group, "sam@example.org", "CANCEL")
    late = group.last("sam@example.org")
    assert "until 24 hours before the start" in late.text and "so does its price" in late.text
    assert Signup.get(Signup.member == sam.id).state == "signed"

    # The public feed, before the day: the event, nobody's name.
    feed = tmp_path / "agenda.ics"
    ok(lets(group.settings, "agenda", "--ics", "--output", str(feed), "--at", "2026-12-05T11:00"))
    published = icalendar.Calendar.from_ical(feed.read_bytes())
    events = published.walk("VEVENT")
    assert [str(e["SUMMARY"]) for e in events] == ["Repaircafé"] and str(events[0]["UID"]) == uid
    assert b"Sam" not in feed.read_bytes() and b"ATTENDEE" not in feed.read_bytes()
    assert f"#{activity.id}  2026-12-05 14:00  Repaircafé  @ Buurthuis De Klif  (0 of 3 places free)" in ok(
        lets(group.settings, "agenda", "--at", "2026-12-05T11:00"))

    # The day after, the scheduler charges the three once; a rerun charges nothing.
    group.clock.now = dt.datetime(2026, 12, 6, 9, 0)
    run_due(group.settings, group.clock.now, group.processor.composer)
    run_due(group.settings, group.clock.now, group.processor.composer)
    assert "0 participants charged" in ok(lets(group.settings, "activity", "charge", "--date", "2026-12-05"))
    transfers = list(Transfer.select().where(Transfer.initiator == "activity"))
    assert sorted(members.account(m).balance_cents for m in (sam, piet, jonas)) == [-200, -200, -200]
    assert members.account(claire).balance_cents == 0 and members.account(an).balance_cents == 600
    assert len(transfers) == 3 and all(t.state == "booked" for t in transfers)
    assert Activity.get().state == "done"
    assert ledger.verify()[1] is None


def test_the_cli_charges_an_activity_once_by_date(group, an, sam):
    activity = publish(group, "ACTIVITY: Garden day", "When: 5 December 2026\nTime: 10am\nPrice: 1.5")
    reply(group, "sam@example.org", "I'M COMING 2")
    assert "You have 2 places" in group.last("sam@example.org").text
    assert Activity.get_by_id(activity.id).start == dt.datetime(2026, 12, 5, 9, 0)
    assert "0 participants charged" in ok(lets(group.settings, "activity", "charge", "--date", "2026-12-04",
                                               "--at", "2026-12-06T09:00"))
    assert "1 participant charged" in ok(lets(group.settings, "activity", "charge", "--date", "2026-12-05",
                                               "--at", "2026-12-06T09:00"))
    assert "0 participants charged" in ok(lets(group.settings, "activity", "charge", "--date", "2026-12-05",
                                               "--at", "2026-12-06T09:00"))
    assert members.account(sam).balance_cents == -300 and ledger.verify()[1] is None


@pytest.mark.parametrize("subject,body,problem", [
    ("ACTIVITEIT: Repaircafé", "Datum: 1 maart 2026\nTijd: 14:00", "De datum en het uur van deze activiteit zijn voorbij"),
    ("ACTIVITY: Repair café", "When: next blue moon", "We could not read the date: next blue moon."),
    ("ACTIVITÉ : Repair café", "Date : 5 décembre 2026\nPlaces : 0", "doit être un nombre entier d'au moins 1 : 0"),
    ("AKTIVITÄT: Reparatur-Café", "Datum: 5. Dezember 2026\nPreis: viel", "Wir konnten den Preis nicht lesen"),
    ("ACTIVITY: Repair café", "Place: the hall", "We could not read the date"),
])
def test_bad_announcements_are_refused_in_the_members_language_and_nothing_is_kept(
        group, an, sam, claire, jonas, subject, body, problem):
    sender = {"ACTIVITEIT": ORGANISER, "ACTIVITY": "sam@example.org", "ACTIVITÉ ": "claire@example.org",
              "AKTIVITÄT": "jonas@example.org"}[subject.split(":")[0]]
    group.mail(sender, subject, body)
    assert problem in group.last(sender).text
    assert Activity.select().count() == 0


def test_sign_up_twice_for_a_cancelled_or_past_activity_and_as_a_non_member(group, an, sam, claire):
    activity = publish(group)
    address = activity_address(group, "sam@example.org")
    reply(group, "sam@example.org", "I'M COMING")
    reply(group, "sam@example.org", "I'M COMING")
    assert "already signed up" in group.last("sam@example.org").text
    group.mail("stranger@example.net", "Re: Repaircafé", "IK KOM", rcpt=[address])
    assert "Alleen leden van LETS Demo" in group.last("stranger@example.net").text
    reply(group, "claire@example.org", "ANNULER", address)
    assert "pas inscrit" in group.last("claire@example.org").text
    reply(group, "claire@example.org", "Peut-être", address)
    assert "JE VIENS" in group.last("claire@example.org").text
    Activity.update(state="cancelled").where(Activity.id == activity.id).execute()
    reply(group, "claire@example.org", "JE VIENS", address)
    assert "a été annulée" in group.last("claire@example.org").text
    Activity.update(state="published").where(Activity.id == activity.id).execute()
    group.clock.now = dt.datetime(2026, 12, 5, 15, 0)
    reply(group, "claire@example.org", "JE VIENS", address)
    assert "a déjà eu lieu" in group.last("claire@example.org").text
    assert Signup.select().count() == 1


def test_cancel_in_reply_to_an_activity_gives_up_a_place_and_alone_it_ends_the_membership(group, an, sam):
    publish(group)
    reply(group, "sam@example.org", "I'M COMING")
    reply(group, "sam@example.org", "CANCEL")
    assert group.last("sam@example.org").subject == "Place given up: Repaircafé"
    assert Signup.get().state == "cancelled" and members.by_address("sam@example.org").status == "active"
    group.mail("sam@example.org", "CANCEL")
    notice = group.last("sam@example.org")
    assert "[c-" in notice.subject and "end your membership" in notice.text
    assert Signup.get().state == "cancelled"


def test_a_preview_answered_no_publishes_nothing_and_only_the_organiser_can_publish(group, an, sam):
    group.mail(ORGANISER, "ACTIVITEIT: Repaircafé", REPAIR_CAFE)
    _, token = preview_token(group)
    group.mail("sam@example.org", f"Re: [v-{token}]", "YES", rcpt=[f"lets+v-{token}@lets.example"])
    assert "We know no activity" in group.last("sam@example.org").text
    group.mail(ORGANISER, f"Re: [v-{token}]", "NEE", rcpt=[f"lets+v-{token}@lets.example"])
    assert "niet gepubliceerd" in group.last(ORGANISER).subject
    assert Activity.get().state == "draft" and not group.outbox("sam@example.org")[1:]


def test_agenda_alone_lists_coming_activities_and_agenda_item_still_reaches_the_meeting(group, an, sam):
    publish(group)
    group.mail("sam@example.org", "AGENDA")
    listing = group.last("sam@example.org")
    assert listing.subject == "Coming activities of LETS Demo" and "Repaircafé (Buurthuis De Klif)" in listing.text
    assert "Places left: 3" in listing.text
    group.mail(ORGANISER, "AGENDA")
    assert "Komende activiteiten" in group.last(ORGANISER).subject
    group.mail("sam@example.org", "AGENDA ITEM: Rules for trading with neighbouring groups")
    assert group.last("sam@example.org").subject != "Coming activities of LETS Demo"
    row = InboundMessage.select().order_by(InboundMessage.id.desc()).get()
    assert row.kind == "agenda" and "agenda/no-meeting" in row.reason


def test_the_digest_shows_coming_activities_and_an_i_m_coming_to_its_address_signs_up(group, an, sam):
    from mailer.runs.digest import run_scheduled
    from test_digest import MONDAY_AFTER

    activity = publish(group)
    group.clock.now = MONDAY_AFTER
    run_scheduled(group.settings, MONDAY_AFTER, group.processor.composer)
    digest = [m for m in group.outbox("sam@example.org") if "digest" in m.subject][-1]
    address = f"lets+e-{activity.code}@lets.example"
    assert "COMING ACTIVITIES" in digest.text and "Repaircafé (Buurthuis De Klif)" in digest.text
    assert f"To sign up, send I'M COMING to {address}." in digest.text and "Repaircafé" in digest.html
    assert "KOMENDE ACTIVITEITEN" in [m for m in group.outbox(ORGANISER) if "overzicht" in m.subject][-1].text
    group.mail("sam@example.org", "Repair café", "I'M COMING", rcpt=[address])
    assert group.last("sam@example.org").subject == "You are signed up: Repaircafé"


def test_the_administrators_cancel_an_activity_everyone_is_told_and_nothing_is_charged(group, an, sam, claire):
    activity = publish(group, body=REPAIR_CAFE.replace("Plaatsen: 3", "Plaatsen: 1"))
    reply(group, "sam@example.org", "I'M COMING")
    reply(group, "claire@example.org", "JE VIENS")
    assert "activity #%d cancelled; 2 members told" % activity.id in ok(
        lets(group.settings, "activity", "cancel", str(activity.id), "--at", "2026-11-24T10:00"))
    told = group.last("sam@example.org")
    assert told.subject == "Cancelled: Repaircafé" and calendar_of(told)[0] == "CANCEL"
    french = group.last("claire@example.org")
    assert french.subject == "Annulé : Repaircafé" and "agenda" not in french.text
    assert "is cancelled" in lets(group.settings, "activity", "cancel", str(activity.id)).output
    reply(group, "sam@example.org", "I'M COMING")
    assert "was cancelled" in group.last("sam@example.org").text
    assert "0 participants charged" in ok(lets(group.settings, "activity", "charge", "--date", "2026-12-05",
                                               "--at", "2026-12-06T09:00"))
    assert members.account(sam).balance_cents == 0


def test_the_organiser_hears_of_every_change_to_the_list_in_their_own_language(group, an, sam, claire):
    publish(group)
    reply(group, "sam@example.org", "I'M COMING")
    told = group.last(ORGANISER)
    assert told.subject == "Deelnemers: Repaircafé" and told.text.startswith("Sam Taylor heeft zich aangemeld.")
    assert "Sam Taylor, 1" in told.text
    reply(group, "claire@example.org", "JE VIENS 2")
    reply(group, "sam@example.org", "CANCEL")
    told = group.last(ORGANISER)
    assert told.text.startswith("Sam Taylor heeft zich afgemeld.")
    assert "Claire Dubois, 2" in told.text and "Sam Taylor" not in told.text.split("\n", 2)[2]
    # The organiser's own place is no news to them.
    sent = len(group.outbox(ORGANISER))
    reply(group, ORGANISER, "IK KOM")
    assert [m.subject for m in group.outbox(ORGANISER)[sent:]] == [group.last(ORGANISER).subject]
    assert not group.last(ORGANISER).subject.startswith("Deelnemers")


def test_the_cli_charges_the_groups_yesterday_by_default_also_just_after_midnight(group, an, sam):
    publish(group)                                   # Saturday 5 December 2026, 14:00 in Amsterdam
    reply(group, "sam@example.org", "I'M COMING")
    # 00:30 on Sunday in Amsterdam is still Saturday in UTC: yesterday is the activity's day.
    assert "0 participants charged" in ok(lets(group.settings, "activity", "charge", "--at", "2026-12-05T22:30"))
    assert "1 participant charged" in ok(lets(group.settings, "activity", "charge", "--at", "2026-12-05T23:30"))
    assert members.account(sam).balance_cents == -200
