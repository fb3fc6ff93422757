"""The general meeting (article 9.3) through the real command line and the real pipeline:
the invitation to every member who may vote, at least 14 days ahead, mailed once; agenda
items by mail until a week before, in each member's language; the core group's list."""
import datetime as dt
import json

from db import coordinators
from db.models import Meeting, Member
from handlers.agenda import text_of
from handlers.commands import route
from tests.test_euro import lets

COORDINATOR_ENV = {"LETS_TRADES_COORDINATORS": "cor@example.org"}
AGENDA = "1. Opening\n2. Jaarrekening 2026\n3. Rondvraag"


def ok(result):
    assert result.exit_code == 0, result.output
    return result.output


def announce(settings, tmp_path, *extra, at="2027-02-20T10:00", date="2027-03-12"):
    agenda = tmp_path / "agenda.txt"
    agenda.write_text(AGENDA, encoding="utf-8")
    return lets(settings, "meeting", "announce", "--date", date, "--file", str(agenda), "--at", at, *extra,
                env=COORDINATOR_ENV)


def set_status(member, status):
    Member.update(status=status).where(Member.id == member.id).execute()


def test_every_member_who_may_vote_is_invited_once_in_their_language_and_paper_members_through_the_coordinator(
        group, settings, tmp_path):
    an = group.member("An de Vries", "an@example.org", language="nl")
    sam = group.member("Sam Taylor", "sam@example.org", language="en")
    claire = group.member("Claire Dubois", "claire@example.org", language="fr")
    set_status(sam, "suspended")
    Member.update(digest="off").where(Member.id == claire.id).execute()
    for name, status in (("Aspirant", "applicant"), ("Weg", "left"), ("Geroyeerd", "expelled")):
        set_status(group.member(name, f"{name.lower()}@example.org", language="nl"), status)
    kees = group.member("Kees Zonder", None, language="nl")
    group.member("Cor Dinator", "cor@example.org", language="en")
    coordinators.name(kees, "cor@example.org")

    out = ok(announce(settings, tmp_path, "--place", "Wijkcentrum De Klif"))
    assert "meeting of 2027-03-12 announced: 5 members invited now; agenda items until 2027-03-05" in out

    nl = group.last("an@example.org")
    assert nl.subject == "Uitnodiging: algemene ledenvergadering van LETS Demo op 12 maart 2027"
    assert "Plaats: Wijkcentrum De Klif" in nl.text and "2. Jaarrekening 2026" in nl.text
    assert "tot en met 5 maart 2027" in nl.text and "AGENDAPUNT" in nl.text
    en = group.last("sam@example.org")
    assert en.subject == "Invitation: general meeting of LETS Demo on 12 March 2027"
    assert "Until 5 March 2027" in en.text and "AGENDA ITEM" in en.text and "3. Rondvraag" in en.text
    fr = group.last("claire@example.org")
    assert fr.subject == "Invitation : assemblée générale de LETS Demo le 12 mars 2027"
    assert "POINT" in fr.text and "Lieu :  Wijkcentrum De Klif" in fr.text
    passed_on = [m for m in group.outbox("cor@example.org") if "Kees Zonder" in m.text]
    assert len(passed_on) == 1 and "12 maart 2027" in passed_on[0].text
    for address in ("aspirant@example.org", "weg@example.org", "geroyeerd@example.org"):
        assert not group.outbox(address)

    sent = len(group.outbox())
    again = ok(announce(settings, tmp_path, at="2027-02-21T10:00"))
    assert "already announced: 0 members invited now" in again and len(group.outbox()) == sent
    group.member("Nieuw Lid", "nieuw@example.org", language="nl")
    assert "1 members invited now" in ok(announce(settings, tmp_path, at="2027-02-22T10:00"))
    assert len(group.outbox()) == sent + 1 and len(group.outbox("nieuw@example.org")) == 1
    other = tmp_path / "other.txt"
    other.write_text("Iets anders", encoding="utf-8")
    changed = lets(settings, "meeting", "announce", "--date", "2027-03-12", "--file", str(other),
                   "--at", "2027-02-22T10:00")
    assert changed.exit_code == 1 and "already announced with another place or agenda" in changed.output


def test_less_than_14_days_notice_is_refused_in_one_line_unless_short_notice(group, settings, tmp_path):
    group.member("An de Vries", "an@example.org", language="nl")
    late = announce(settings, tmp_path, at="2027-02-27T10:00")       # 13 days ahead
    assert late.exit_code == 1
    assert late.output.strip().splitlines() == [
        "Error: the meeting of 2027-03-12 is 13 days away, less than the 14 days' notice of article 9.3 "
        "(add --short-notice to announce it anyway)"]
    assert Meeting.select().count() == 0 and not group.outbox()
    past = announce(settings, tmp_path, at="2027-03-12T10:00")
    assert past.exit_code == 1 and "not in the future" in past.output
    assert "1 members invited" in ok(announce(settings, tmp_path, "--short-notice", at="2027-02-27T10:00"))
    assert Meeting.get().short_notice
    # Exactly 14 days ahead is enough notice.
    assert "announced" in ok(announce(settings, tmp_path, at="2027-03-12T09:00", date="2027-03-26"))


def test_agenda_items_by_mail_until_a_week_before_in_each_language_and_the_core_groups_list(
        group, settings, tmp_path, clock):
    an = group.member("An de Vries", "an@example.org", language="nl")
    sam = group.member("Sam Taylor", "sam@example.org", language="en")
    group.member("Claire Dubois", "claire@example.org", language="fr")
    set_status(sam, "suspended")
    clock.now = dt.datetime(2027, 2, 10, 9, 0)

    group.mail("an@example.org", "AGENDAPUNT Begroting 2027")
    assert group.last("an@example.org").subject == "Er is geen algemene ledenvergadering aangekondigd"

    ok(announce(settings, tmp_path, "--place", "De Klif"))
    clock.now = dt.datetime(2027, 2, 21, 9, 0)
    group.mail("an@example.org", "AGENDAPUNT Begroting 2027")
    receipt = group.last("an@example.org")
    assert receipt.subject == "Agendapunt ontvangen voor de algemene ledenvergadering van 12 maart 2027"
    assert "Begroting 2027" in receipt.text and "tot en met 5 maart 2027" in receipt.text

    # Suspended, still a voter; AGENDA ITEM is two words, the colon form works too.
    group.mail("sam@example.org", "Agenda", "AGENDA ITEM: Rules for trading with neighbouring groups")
    receipt = group.last("sam@example.org")
    assert receipt.subject == "Agenda item received for the general meeting of 12 March 2027"
    assert "  Rules for trading with neighbouring groups" in receipt.text

    clock.now = dt.datetime(2027, 3, 5, 23, 0)       # the last day
    group.mail("claire@example.org", "POINT", "Le prix de l'heure")
    assert group.last("claire@example.org").subject == "Point reçu pour l'assemblée générale du 12 mars 2027"

    clock.now = dt.datetime(2027, 3, 6, 8, 0)
    group.mail("claire@example.org", "POINT Les statuts")
    late = group.last("claire@example.org")
    assert late.subject == "Trop tard pour l'ordre du jour de l'assemblée générale du 12 mars 2027"
    assert "jusqu'au\n5 mars 2027" in late.text or "jusqu'au 5 mars 2027" in late.text

    listed = json.loads(ok(lets(settings, "meeting", "items", "--json", "--at", "2027-03-06T10:00")))
    assert listed["meeting"] == "2027-03-12" and listed["place"] == "De Klif"
    assert [(i["number"], i["name"], i["date"], i["text"]) for i in listed["items"]] == [
        (an.number, "An de Vries", "2027-02-21", "Begroting 2027"),
        (sam.number, "Sam Taylor", "2027-02-21", "Rules for trading with neighbouring groups"),
        (3, "Claire Dubois", "2027-03-05", "Le prix de l'heure")]
    text = ok(lets(settings, "meeting", "items", "--date", "2027-03-12"))
    assert "meeting of 2027-03-12, De Klif: 3 agenda items" in text
    assert f"{an.number} An de Vries 2027-02-21: Begroting 2027" in text


def test_the_agenda_command_words_in_three_languages():
    for subject, language in (("AGENDAPUNT: Begroting", "nl"), ("Agenda item Begroting", "en"),
                              ("AGENDA ITEM: Begroting", "en"), ("AGENDA: Begroting", "en"), ("Point : Begroting", "fr")):
        command = route(subject, "")
        assert (command.kind, command.language, text_of(command)) == ("agenda", language, "Begroting"), subject
    # The word alone over a body: the body is the item.
    assert text_of(route("Agendapunt", "Begroting\nvan 2027")) == "Begroting\nvan 2027"
