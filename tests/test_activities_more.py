"""Activities beyond the single repair café (issue 19): an end time, a price in euros, a
budget as payee, recurring activities with single dates moved or called off, the core
group's approval, and the price booked at sign-up. Literal mails through the pipeline,
a fixed clock, the real MIME messages that went out."""
import datetime as dt
import re

import pytest

from db import budgets, euro, ledger, members
from db.models import Activity, EuroCharge, Signup, Transfer
from mailer.runs.scheduled import run_due
from mailer.settings import replace
from tests.conftest import Group
from tests.test_activities import ORGANISER, calendar_of, ok, preview_token, reply
from tests.test_euro import lets

MONTHLY = """Datum: zaterdag 5 december 2026
Tijd: 14:00-17:00
Plaats: Buurthuis De Klif
Plaatsen: 2
Prijs: 2 zonnen + € 3,50
Herhaling: elke eerste zaterdag van de maand"""


def with_settings(base, **sections) -> Group:
    """The same database and clock, the group's settings changed."""
    return Group(replace(base.settings, **sections), base.clock)


def publish(group, body, subject="ACTIVITEIT: Repaircafé", sender=ORGANISER):
    group.mail(sender, subject, body)
    _, token = preview_token(group, sender)
    group.mail(sender, f"Re: [v-{token}]", "Ja, graag!", rcpt=[f"lets+v-{token}@lets.example"])
    return Activity.select().where(Activity.title == subject.split(":", 1)[1].strip()).order_by(Activity.id).first()


def address_of(activity) -> str:
    return f"lets+e-{activity.code}@lets.example"


def local_hours(activity) -> str:
    from zoneinfo import ZoneInfo

    zone = ZoneInfo("Europe/Amsterdam")
    start = activity.start.replace(tzinfo=dt.timezone.utc).astimezone(zone)
    return f"{start:%Y-%m-%d %H:%M}"


def test_a_monthly_repair_cafe_opens_its_dates_keeps_its_hour_across_summer_time_and_grows(group, an, sam):
    group.mail(ORGANISER, "ACTIVITEIT: Repaircafé", MONTHLY)
    preview, token = preview_token(group)
    assert "zaterdag 5 december 2026, 14:00–17:00" in preview.text
    assert "Herhaalt: elke eerste zaterdag van de maand" in preview.text
    assert "Prijs: 2,00 zonnen + €\xa03,50" in preview.text
    assert "zaterdag 2 januari 2027, 14:00" in preview.text and "zaterdag 6 februari 2027, 14:00" in preview.text
    group.mail(ORGANISER, f"Re: {preview.subject}", "Ja!\n\nAn", rcpt=[f"lets+v-{token}@lets.example"])
    first = Activity.get(Activity.state == "published")
    series = list(Activity.select().where(Activity.series == first.id).order_by(Activity.start))
    # [activities] repeat_days = 90 from 23 November: December, January and February.
    assert [local_hours(a) for a in series] == ["2026-12-05 14:00", "2027-01-02 14:00", "2027-02-06 14:00"]
    assert len({a.code for a in series}) == 3 and all(a.state == "published" for a in series)
    invitation = group.last("sam@example.org")
    assert "Repeats: every first Saturday of the month" in invitation.text
    assert "This reply is for the first date, Saturday 5 December" in invitation.text
    assert "Saturday 2 January 2027, 14:00" in invitation.text

    # Each date is joined on its own: the January one through its AGENDA entry.
    group.mail("sam@example.org", "AGENDA")
    agenda = group.last("sam@example.org").text
    assert f"To sign up, send I'M COMING to {address_of(series[1])}." in agenda
    group.mail("sam@example.org", "Re: agenda", "I'm coming", rcpt=[address_of(series[1])])
    signed = group.last("sam@example.org")
    assert signed.subject == "You are signed up: Repaircafé" and "Saturday 2 January 2027, 14:00–17:00" in signed.text
    event = calendar_of(signed)[1].walk("VEVENT")[0]
    assert event.decoded("DTEND") - event.decoded("DTSTART") == dt.timedelta(hours=3)
    assert [s.activity_id for s in Signup.select()] == [series[1].id]

    # The scheduler opens the next dates as time goes on, at 14:00 local in summer time too.
    group.clock.now = dt.datetime(2027, 2, 10, 9, 0)
    run_due(group.settings, group.clock.now, group.processor.composer)
    run_due(group.settings, group.clock.now, group.processor.composer)
    dates = [local_hours(a) for a in Activity.select().where(Activity.series == first.id).order_by(Activity.start)]
    assert dates == ["2026-12-05 14:00", "2027-01-02 14:00", "2027-02-06 14:00", "2027-03-06 14:00",
                     "2027-04-03 14:00", "2027-05-01 14:00"]
    april = Activity.select().where(Activity.series == first.id).order_by(Activity.start)[4]
    assert april.start == dt.datetime(2027, 4, 3, 12, 0)      # CEST: 14:00 is 12:00 UTC


def test_the_organiser_moves_one_date_by_mail_and_calendars_take_the_update(group, an, sam, claire):
    first = publish(group, MONTHLY)
    january = Activity.select().where(Activity.series == first.id).order_by(Activity.start)[1]
    group.mail("sam@example.org", "Re: agenda", "I'M COMING", rcpt=[address_of(january)])
    uid = str(calendar_of(group.last("sam@example.org"))[1].walk("VEVENT")[0]["UID"])
    group.mail("claire@example.org", "Re: agenda", "JE VIENS", rcpt=[address_of(january)])
    group.mail(ORGANISER, "Re: Repaircafé", "Verplaatsen naar 9 januari 2027 13:30\n\nGroet, An",
               rcpt=[address_of(january)])
    done = group.last(ORGANISER)
    assert done.subject == "Verplaatst: Repaircafé"
    assert "zaterdag 9 januari 2027, 13:30–16:30" in done.text and "2 leden" in done.text
    moved = group.last("sam@example.org")
    assert moved.subject == "New date: Repaircafé"
    assert "It was on Saturday 2 January 2027, 14:00" in moved.text and "Saturday 9 January 2027, 13:30" in moved.text
    method, calendar = calendar_of(moved)
    event = calendar.walk("VEVENT")[0]
    assert method == "REQUEST" and str(event["UID"]) == uid and event["SEQUENCE"] == 1
    assert event.decoded("DTSTART").hour == 13 and event.decoded("DTSTART").minute == 30
    assert group.last("claire@example.org").subject == "Nouvelle date : Repaircafé"
    # The series goes on from its rule, not from the moved date.
    group.clock.now = dt.datetime(2027, 2, 10, 9, 0)
    run_due(group.settings, group.clock.now, group.processor.composer)
    assert Activity.select().where(Activity.series == first.id).count() == 6
    # A date in the past, and a member who is not the organiser, change nothing.
    group.mail(ORGANISER, "Re: Repaircafé", "VERPLAATSEN NAAR 1 januari 2027", rcpt=[address_of(january)])
    assert "voorbij" in group.last(ORGANISER).text
    group.mail("sam@example.org", "Re: Repaircafé", "MOVE TO 16 January", rcpt=[address_of(january)])
    assert "Only the organiser can move" in group.last("sam@example.org").text
    assert local_hours(Activity.get_by_id(january.id)) == "2027-01-09 13:30"


def test_calling_off_by_mail_is_asked_again_and_all_ends_the_series(group, an, sam, claire):
    first = publish(group, MONTHLY)
    december = Activity.get_by_id(first.id)
    reply(group, "sam@example.org", "I'M COMING")
    group.mail(ORGANISER, "Re: Repaircafé", "Aflassen\n\nHet buurthuis is dicht.", rcpt=[address_of(december)])
    ask = group.last(ORGANISER)
    token = re.search(r"\[v-([a-z2-7]{24})\]", ask.subject).group(1)
    assert ask.subject.startswith("Je activiteit aflassen? Repaircafé")
    assert "1 lid heeft een plaats" in ask.text and "zaterdag 5 december 2026, 14:00" in ask.text
    assert Activity.get_by_id(first.id).state == "published"
    group.mail(ORGANISER, f"Re: {ask.subject}", "nee", rcpt=[f"lets+v-{token}@lets.example"])
    assert "gaat door" in group.last(ORGANISER).subject and Activity.get_by_id(first.id).state == "published"
    group.mail(ORGANISER, "Re: Repaircafé", "Hoi,\n\nHelaas, aflassen graag: de zaal is niet vrij.\n\nAn",
               rcpt=[address_of(december)])
    token = re.search(r"\[v-([a-z2-7]{24})\]", group.last(ORGANISER).subject).group(1)
    group.mail(ORGANISER, "Re: aflassen", "Ja", rcpt=[f"lets+v-{token}@lets.example"])
    assert group.last(ORGANISER).subject == "Afgelast: Repaircafé"
    told = group.last("sam@example.org")
    assert told.subject == "Cancelled: Repaircafé" and calendar_of(told)[0] == "CANCEL"
    assert str(calendar_of(told)[1].walk("VEVENT")[0]["STATUS"]) == "CANCELLED"
    assert [a.state for a in Activity.select().where(Activity.series == first.id).order_by(Activity.start)] == [
        "cancelled", "published", "published"]

    # CALL OFF ALL, in reply to any date: every coming date, and no more are planned.
    january = Activity.select().where(Activity.series == first.id).order_by(Activity.start)[1]
    group.mail(ORGANISER, "Re: Repaircafé", "aflassen alle", rcpt=[address_of(january)])
    ask = group.last(ORGANISER)
    token = re.search(r"\[w-([a-z2-7]{24})\]", ask.subject).group(1)
    assert "elke komende datum" in ask.text and "zaterdag 6 februari 2027" in ask.text
    group.mail(ORGANISER, f"Re: {ask.subject}", "JA", rcpt=[f"lets+w-{token}@lets.example"])
    assert "geen nieuwe data meer" in group.last(ORGANISER).text
    group.clock.now = dt.datetime(2027, 2, 10, 9, 0)
    run_due(group.settings, group.clock.now, group.processor.composer)
    assert [a.state for a in Activity.select().where(Activity.series == first.id).order_by(Activity.start)] == [
        "cancelled", "cancelled", "cancelled"]
    # A member cannot call it off; the organiser's ANNULER without a place is pointed to CALL OFF.
    second = publish(group, "Date: 12 March 2027\nTime: 10:00", subject="ACTIVITY: Seed swap")
    group.mail("claire@example.org", "Re: Seed swap", "ANNULER L'ACTIVITÉ", rcpt=[address_of(second)])
    assert "Seul l'organisateur" in group.last("claire@example.org").text
    group.mail(ORGANISER, "Re: Seed swap", "afmelden", rcpt=[address_of(second)])
    assert "AFLASSEN" in group.last(ORGANISER).text


def test_the_core_group_approves_or_refuses_before_members_see_anything(group, an, sam):
    core = with_settings(group, activities={"approval": True})
    core.mail(ORGANISER, "ACTIVITEIT: Ruilmarkt", "Datum: 12 december 2026\nTijd: 10:00\nPlaats: De Klif")
    preview, token = preview_token(core)
    assert "kijkt de kerngroep ernaar" in preview.text
    core.mail(ORGANISER, f"Re: [v-{token}]", "JA", rcpt=[f"lets+v-{token}@lets.example"])
    activity = Activity.get()
    assert activity.state == "pending" and "Wacht op de kerngroep" in core.last(ORGANISER).subject
    admin = core.last("beheer@lets.example")
    assert f"lets activity approve {activity.id}" in admin.text and "An de Vries" in admin.text
    assert not [m for m in core.outbox("sam@example.org") if "Ruilmarkt" in m.subject]
    listed = ok(lets(core.settings, "activity", "list", "--at", "2026-11-24T10:00"))
    assert f"#{activity.id}  2026-12-12 10:00  Ruilmarkt  (waiting for the core group's approval" in listed
    assert f"activity #{activity.id} published; its mail goes to 1 member" in ok(
        lets(core.settings, "activity", "approve", str(activity.id), "--at", "2026-11-24T10:00"))
    assert core.last("sam@example.org").subject == f"LETS Demo: Ruilmarkt [e-{activity.code}]"
    assert core.last(ORGANISER).subject == "Je activiteit is gepubliceerd: Ruilmarkt"
    assert "is published: there is nothing to approve" in lets(core.settings, "activity", "approve",
                                                                 str(activity.id)).output

    core.mail(ORGANISER, "ACTIVITEIT: Tweede markt", "Datum: 19 december 2026")
    _, token = preview_token(core)
    core.mail(ORGANISER, f"Re: [v-{token}]", "JA", rcpt=[f"lets+v-{token}@lets.example"])
    second = Activity.get(Activity.title == "Tweede markt")
    ok(lets(core.settings, "activity", "refuse", str(second.id), "--reason", "Er is al een markt die week."))
    declined = core.last(ORGANISER)
    assert declined.subject == "Activiteit niet gepubliceerd: Tweede markt"
    assert "Er is al een markt die week." in declined.text
    assert Activity.get_by_id(second.id).state == "refused"
    assert not [m for m in core.outbox("sam@example.org") if "Tweede markt" in m.subject]


def test_an_administrator_organising_needs_no_approval(group, an, sam):
    core = with_settings(group, activities={"approval": True}, group={"admins": (ORGANISER,)})
    core.mail(ORGANISER, "ACTIVITEIT: Ruilmarkt", "Datum: 12 december 2026")
    _, token = preview_token(core)
    core.mail(ORGANISER, f"Re: [v-{token}]", "JA", rcpt=[f"lets+v-{token}@lets.example"])
    assert Activity.get().state == "published"


def test_with_charge_at_signup_the_price_is_booked_at_once_and_paid_back_in_time(group, an, sam, claire, piet):
    paying = with_settings(group, activities={"charge": "signup"})
    activity = publish(paying, "Date: 12 December 2026\nTime: 10:00\nPlaces: 1\nPrice: 3", subject="ACTIVITY: Bread")
    paying.mail("sam@example.org", "Re: Bread", "I'm coming", rcpt=[address_of(activity)])
    signed = paying.last("sam@example.org")
    assert "3.00 zonnen was booked from your account now" in signed.text
    assert members.account(sam).balance_cents == -300 and members.account(an).balance_cents == 300
    paying.mail("claire@example.org", "Re: Bread", "Je viens", rcpt=[address_of(activity)])
    assert members.account(claire).balance_cents == 0             # waiting: nothing booked
    paying.mail("sam@example.org", "Re: Bread", "cancel", rcpt=[address_of(activity)])
    assert "What you paid for it is paid back" in paying.last("sam@example.org").text
    assert members.account(sam).balance_cents == 0 and members.account(claire).balance_cents == -300
    assert "was booked from votre" not in paying.last("claire@example.org").text
    # After the date nothing is booked a second time.
    paying.clock.now = dt.datetime(2026, 12, 13, 9, 0)
    run_due(paying.settings, paying.clock.now, paying.processor.composer)
    assert members.account(claire).balance_cents == -300 and Signup.get(Signup.member == claire.id).state == "charged"
    assert Transfer.select().where(Transfer.initiator == "activity").count() == 2
    assert ledger.verify()[1] is None


def test_a_sign_up_past_the_lower_limit_is_refused_with_nothing_booked(group, an, sam):
    paying = with_settings(group, activities={"charge": "signup"})
    activity = publish(paying, "Date: 12 December 2026\nPrice: 900", subject="ACTIVITY: Weekend away")
    paying.mail("sam@example.org", "Re: Weekend", "I'M COMING", rcpt=[address_of(activity)])
    refused = paying.last("sam@example.org")
    assert "past your limit" in refused.text and "You are not signed up" in refused.text
    assert Signup.select().count() == 0 and members.account(sam).balance_cents == 0


def test_calling_off_pays_back_what_was_booked_at_signup(group, an, sam):
    paying = with_settings(group, activities={"charge": "signup"})
    activity = publish(paying, "Date: 12 December 2026\nPrice: 3", subject="ACTIVITY: Bread")
    paying.mail("sam@example.org", "Re: Bread", "I'm coming", rcpt=[address_of(activity)])
    assert "1 members told" in ok(lets(paying.settings, "activity", "cancel", str(activity.id),
                                       "--at", "2026-11-24T10:00"))
    assert "What you paid for your place is paid back" in paying.last("sam@example.org").text
    assert members.account(sam).balance_cents == 0 and members.account(an).balance_cents == 0
    assert "Afgelast: Bread" == paying.last(ORGANISER).subject
    assert ledger.verify()[1] is None


def test_a_price_in_euros_goes_into_the_euro_books_but_brings_no_reminder_or_fine(group, an, sam):
    activity = publish(group, "Date: 5 December 2026\nPrice: € 4,50", subject="ACTIVITY: Workshop")
    group.mail("sam@example.org", "Re: Workshop", "I'M COMING", rcpt=[address_of(activity)])
    assert "You also owe the association €4.50" in group.last("sam@example.org").text
    assert ok(lets(group.settings, "activity", "charge", "--date", "2026-12-05", "--at", "2026-12-06T09:00"))
    row = EuroCharge.get()
    assert (row.kind, row.amount_cents, row.year, row.member_id) == ("activity", 450, 2026, sam.id)
    assert "Workshop (2026-12-05)" in row.reason
    assert euro.outstanding_cents(sam, 2026) == 450 and euro.dues_outstanding_cents(sam, 2026) == 0
    assert members.account(sam).balance_cents == 0          # no price in the unit
    assert ok(lets(group.settings, "activity", "charge", "--date", "2026-12-05", "--at", "2026-12-06T09:00"))
    assert EuroCharge.select().count() == 1


def test_the_price_goes_to_a_named_budget_and_an_unknown_payee_is_refused(group, an, sam, claire):
    budgets.create("repaircafe", claire)
    activity = publish(group, "Datum: 5 december 2026\nPrijs: 2\nOntvanger: budget Repaircafé")
    assert activity.payee == "budget" and activity.budget.name == "repaircafe"
    reply(group, "sam@example.org", "I'M COMING")
    ok(lets(group.settings, "activity", "charge", "--date", "2026-12-05", "--at", "2026-12-06T09:00"))
    assert budgets.balance(budgets.by_name("repaircafe")) == 200 and members.account(an).balance_cents == 0
    group.mail(ORGANISER, "ACTIVITEIT: Markt", "Datum: 12 december 2026\nPrijs: 2\nOntvanger: Piet")
    refused = group.last(ORGANISER)
    assert "wie de prijs ontvangt" in refused.text and "repaircafe" in refused.text
    assert Activity.select().where(Activity.title == "Markt").count() == 0


@pytest.mark.parametrize("sender,subject,body,said", [
    (ORGANISER, "ACTIVITEIT: Ruilmarkt", "Datum: 12 december 2026\nHerhaling: af en toe",
     "hoe vaak de activiteit terugkomt: af en toe"),
    ("sam@example.org", "ACTIVITY: Walk", "Date: 12 December 2026\nRepeat: every Sunday until someday",
     "how often the activity comes back"),
    ("claire@example.org", "ACTIVITÉ : Balade", "Date : 12 décembre 2026\nHeure : 15h-14h", "la date"),
])
def test_bad_repeats_and_times_are_refused_in_the_members_language(group, an, sam, claire, sender, subject, body,
                                                                     said):
    group.mail(sender, subject, body)
    assert said in group.last(sender).text
    assert Activity.select().count() == 0


@pytest.mark.parametrize("text,rule", [
    ("elke eerste zaterdag van de maand", "FREQ=MONTHLY;INTERVAL=1;BYDAY=1SA"),
    ("every last Friday", "FREQ=MONTHLY;INTERVAL=1;BYDAY=-1FR"),
    ("chaque mardi jusqu'au 30 juin 2027", "FREQ=WEEKLY;INTERVAL=1;BYDAY=TU;UNTIL=20270630T235959"),
    ("jeden zweiten Mittwoch im Monat", "FREQ=MONTHLY;INTERVAL=1;BYDAY=2WE"),
    ("every other week", "FREQ=WEEKLY;INTERVAL=2"),
    ("om de 2 weken", "FREQ=WEEKLY;INTERVAL=2"),
    ("maandelijks", "FREQ=MONTHLY;INTERVAL=1"),
    ("wöchentlich", "FREQ=WEEKLY;INTERVAL=1"),
])
def test_repeat_rules_as_organisers_write_them(text, rule):
    from handlers.activity_repeat import read_rule

    assert read_rule(text, dt.date(2026, 11, 23)) == rule


def test_the_administrators_move_and_cancel_a_series_from_the_command_line(group, an, sam):
    first = publish(group, MONTHLY)
    group.mail("sam@example.org", "Re: Repaircafé", "I'M COMING", rcpt=[address_of(first)])
    out = ok(lets(group.settings, "activity", "move", str(first.id), "--to", "2026-12-12 10:00", "--until", "12:00",
                  "--at", "2026-11-24T10:00"))
    assert f"activity #{first.id} moved to 2026-12-12 10:00; 1 members told" in out
    assert "Saturday 12 December 2026, 10:00–12:00" in group.last("sam@example.org").text
    assert group.last(ORGANISER).subject == "Verplaatst: Repaircafé"
    out = ok(lets(group.settings, "activity", "cancel", str(first.id), "--series", "--at", "2026-11-24T10:00"))
    assert f"series #{first.id}: 3 coming dates cancelled, no more planned; 1 members told" in out
    assert "there is no activity #999" in lets(group.settings, "activity", "cancel", "999").output


def test_the_digest_shows_two_dates_of_a_weekly_activity_and_agenda_shows_them_all(group, an, sam):
    from mailer.runs.digest import run_scheduled
    from test_digest import MONDAY_AFTER

    publish(group, "When: Tuesday 1 December 2026\nTime: 19:30-21:00\nRepeat: every Tuesday",
            subject="ACTIVITY: Choir")
    assert Activity.select().count() == 12               # the Tuesdays within 90 days
    group.clock.now = MONDAY_AFTER
    run_scheduled(group.settings, MONDAY_AFTER, group.processor.composer)
    digest = [m for m in group.outbox("sam@example.org") if "digest" in m.subject][-1]
    assert digest.text.count(": Choir") == 2 and "Tuesday 1 December 2026, 19:30" in digest.text
    group.mail("sam@example.org", "AGENDA")
    assert group.last("sam@example.org").text.count(": Choir") == 12


@pytest.mark.parametrize("sender,body,subject,places", [
    ("piet@example.org", "Hallo An,\n\nIk kom graag!\n\nGroetjes,\nPiet\n\n"
     "Op ma 23 nov 2026 schreef LETS Demo <lets@lets.example>:\n> Beste Piet", "Je bent ingeschreven: Repaircafé", 1),
    ("sam@example.org", "Hi,\n\nI'm coming, with my daughter: I'M COMING 2\n\nCheers\nSam",
     "You are signed up: Repaircafé", 2),
    ("claire@example.org", "Bonjour,\n\nJe viens volontiers !\n\nCordialement,\nClaire\n\nEnvoyé de mon iPhone",
     "Vous êtes inscrit : Repaircafé", 1),
])
def test_sign_ups_as_members_write_them(group, an, sam, claire, piet, sender, body, subject, places):
    activity = publish(group, MONTHLY.replace("Plaatsen: 2", "Plaatsen: 5"))
    group.mail(sender, "Re: Repaircafé", body, rcpt=[address_of(activity)])
    assert group.last(sender).subject == subject
    assert Signup.get().places == places


def test_replies_to_any_mail_about_a_place_are_about_that_place_never_the_membership(group, an, sam, claire):
    from mailer.runs.digest import run_scheduled
    from test_digest import MONDAY_AFTER

    activity = publish(group, "Date: 5 December 2026\nTime: 14:00\nPlaces: 1\nPrice: 2", subject="ACTIVITY: Bread")
    group.mail("sam@example.org", "Re: Bread", "I'M COMING", rcpt=[address_of(activity)])
    signed = group.last("sam@example.org")
    assert signed.message["Reply-To"] == address_of(activity)
    first = calendar_of(signed)[1].walk("VEVENT")[0]["SEQUENCE"]
    group.mail("claire@example.org", "Re: Bread", "JE VIENS", rcpt=[address_of(activity)])
    # The mail program answers the confirmation's Reply-To: the place is given up, not the membership.
    group.mail("sam@example.org", f"Re: {signed.subject}", "CANCEL", rcpt=[signed.message["Reply-To"]])
    gone = group.last("sam@example.org")
    assert gone.subject == "Place given up: Bread" and members.by_address("sam@example.org").status == "active"
    cancelled = calendar_of(gone)[1].walk("VEVENT")[0]["SEQUENCE"]
    promoted = group.last("claire@example.org")
    assert promoted.message["Reply-To"] == address_of(activity)
    assert "ANNULER" in promoted.text and "24 heures" in promoted.text
    # Taking the place again is a newer invitation than the cancellation the calendar holds.
    group.mail("claire@example.org", "Re: Bread", "ANNULER", rcpt=[promoted.message["Reply-To"]])
    group.mail("sam@example.org", "Re: Bread", "I'M COMING", rcpt=[gone.message["Reply-To"]])
    again = calendar_of(group.last("sam@example.org"))[1].walk("VEVENT")[0]["SEQUENCE"]
    assert first < cancelled < again
    # The digest tells Sam he has a place rather than inviting him to sign up.
    group.clock.now = MONDAY_AFTER
    run_scheduled(group.settings, MONDAY_AFTER, group.processor.composer)
    digest = [m for m in group.outbox("sam@example.org") if "digest" in m.subject][-1]
    assert f"You are signed up. To give your place up, send CANCEL to {address_of(activity)}." in digest.text
    assert "You are signed up." in digest.html
    # After the day, what was booked is mailed with the booking.
    group.clock.now = dt.datetime(2026, 12, 6, 9, 0)
    run_due(group.settings, group.clock.now, group.processor.composer)
    booked = group.last("sam@example.org")
    assert booked.subject == "Booked: Bread" and "2.00 zonnen was booked from your account" in booked.text
    assert members.account(sam).balance_cents == -200


@pytest.mark.parametrize("line,start,finish", [
    ("Date : samedi 12 décembre 2026 à 14h", "2026-12-12 14:00", None),
    ("When: Sunday 13 December at 10am", "2026-12-13 10:00", None),
    ("Datum: 6 maart 2027 om 14 uur", "2027-03-06 14:00", None),          # summer time is weeks later
    ("Datum: am 5. Dezember um 14 Uhr", "2026-12-05 14:00", None),
    ("Date : 12 décembre de 14h à 17h", "2026-12-12 14:00", "17:00"),
    ("Datum: zaterdag 12 december van 14:00 tot 17:00", "2026-12-12 14:00", "17:00"),
    ("When: 5 December 2026, 2 to 5pm", "2026-12-05 14:00", "17:00"),
    ("Date: 5 December 2026\nTime: 14:00, doors open 13:30", "2026-12-05 14:00", None),
])
def test_dates_and_times_as_organisers_write_them(line, start, finish):
    from zoneinfo import ZoneInfo

    from handlers.activity_fields import read

    zone = ZoneInfo("Europe/Amsterdam")
    found = read(line, "Europe/Amsterdam", dt.datetime(2026, 11, 23, 10, 0))

    def local(moment):
        return moment.replace(tzinfo=dt.timezone.utc).astimezone(zone)
    assert f"{local(found['start']):%Y-%m-%d %H:%M}" == start
    assert (f"{local(found['finish']):%H:%M}" if found["finish"] else None) == finish
