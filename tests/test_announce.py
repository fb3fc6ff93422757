"""Announcements: by mail from an administrator, confirmed by a tokened reply, in three
languages; at once as bulk mail (exactly one per member) or in the next digest."""
import datetime as dt
import re

from db.models import Announcement, AnnouncementDelivery, AnnouncementDraft, Member, OutboundMessage
from mailer.runs.announce import send_unsent
from mailer.runs.digest import run_scheduled
from mailer.message.subaddress import plus_address

from test_digest import MONDAY_AFTER, digests

ADMIN = "beheer@lets.example"


def announcements_to(group, to=None):
    return [m for m in group.outbox(to) if m.message["List-Id"] and m.message["Subject"]
            and "overzicht" not in m.subject and "digest" not in m.subject and "résumé" not in m.subject]


def confirm_token(group, to=ADMIN):
    mail = group.last(to)
    token = re.search(r"\[a-([a-z2-7]{24})\]", mail.subject).group(1)
    assert mail.message["Reply-To"] == f"lets+a-{token}@lets.example"
    return mail, token


def answer(group, token, text, sender=ADMIN):
    return group.mail(sender, f"Re: confirm [a-{token}]", text, rcpt=[f"lets+a-{token}@lets.example"])


def test_an_administrator_announces_in_dutch_confirms_and_every_member_gets_one_copy_in_their_language(
        group, an, sam, claire):
    group.mail(ADMIN, "AAN ALLEN: Ledenvergadering 12 maart", "Iedereen welkom in het buurthuis.\nKoffie staat klaar.")
    mail, token = confirm_token(group)
    assert mail.subject.startswith("Bevestig je mededeling aan alle leden: Ledenvergadering 12 maart")
    assert "Iedereen welkom in het buurthuis." in mail.text and "3 leden" in mail.text
    assert Announcement.select().count() == 0 and send_unsent(group.settings, group.clock.now) == 0

    answer(group, token, "JA")
    assert "gaat nu naar 3 leden" in group.last(ADMIN).text
    assert send_unsent(group.settings, group.clock.now, group.processor.composer) == 3
    assert send_unsent(group.settings, group.clock.now, group.processor.composer) == 0
    dutch = announcements_to(group, "an@example.org")
    assert len(dutch) == 1 and dutch[0].subject == "LETS Demo: Ledenvergadering 12 maart"
    assert "Hallo An de Vries" in dutch[0].text and "Koffie staat klaar." in dutch[0].text
    assert "Hello Sam Taylor" in announcements_to(group, "sam@example.org")[0].text
    assert "Bonjour Claire Dubois" in announcements_to(group, "claire@example.org")[0].text
    message = dutch[0].message
    address_id = Member.get_by_id(an.id).addresses[0].id
    assert message["List-Id"] == "LETS Demo <lets.lets.example>"
    assert plus_address(group.settings, "u", address_id) in message["List-Unsubscribe"]
    assert message["Precedence"] == "bulk" and message["Auto-Submitted"] == "auto-generated"
    row = OutboundMessage.get(OutboundMessage.recipient == "an@example.org", OutboundMessage.kind == "announcement")
    assert row.mail_from == plus_address(group.settings, "b", address_id)


def test_to_all_in_english_with_yes_digest_goes_into_the_next_digest_only(group, an, sam):
    group.clock.now = MONDAY_AFTER - dt.timedelta(days=2)
    group.mail(ADMIN, "TO ALL: Garden day", "Bring gloves.")
    _, token = confirm_token(group)
    answer(group, token, "YES DIGEST")
    assert "goes into the next digest" in group.last(ADMIN).text
    assert send_unsent(group.settings, group.clock.now) == 0
    group.clock.now = MONDAY_AFTER
    run_scheduled(group.settings, MONDAY_AFTER, group.processor.composer)
    english = digests(group, "sam@example.org")[0]
    assert "Garden day" in english.text and "Bring gloves." in english.text
    assert "Garden day" in digests(group, "an@example.org")[0].text


def test_a_tous_in_french_with_resume_on_the_first_line_and_a_plain_oui(group, an, claire):
    group.mail(ADMIN, "À TOUS : Fête de printemps", "RÉSUMÉ\nRendez-vous au parc.")
    mail, token = confirm_token(group)
    assert mail.subject.startswith("Confirmez votre annonce à tous les membres : Fête de printemps")
    assert "prochain résumé" in mail.text and "RÉSUMÉ" not in mail.text.split("Rendez-vous")[0].split("Objet")[1]
    answer(group, token, "Oui")
    assert "paraîtra dans le prochain résumé" in group.last(ADMIN).text
    assert Announcement.get().mode == "digest" and Announcement.get().body == "Rendez-vous au parc."


def test_member_text_is_never_a_template_and_is_escaped_in_html(group, an):
    group.mail(ADMIN, "TO ALL: {{ group }} <b>news</b>", "{{ 7 * 7 }} {% if true %}x{% endif %}\n<script>alert(1)</script>")
    _, token = confirm_token(group)
    answer(group, token, "YES NOW")
    send_unsent(group.settings, group.clock.now, group.processor.composer)
    mail = announcements_to(group, "an@example.org")[0]
    assert "{{ 7 * 7 }} {% if true %}x{% endif %}" in mail.text and "49" not in mail.text
    assert mail.subject == "LETS Demo: {{ group }} <b>news</b>"
    assert "<script>" not in mail.html and "&lt;script&gt;alert(1)&lt;/script&gt;" in mail.html


def test_a_member_who_is_no_administrator_gets_a_polite_refusal_and_nothing_is_drafted(group, an):
    group.mail("an@example.org", "AAN ALLEN: Mijn fiets is te koop", "Wie wil hem?")
    refusal = group.last("an@example.org")
    assert refusal.subject == "Alleen beheerders kunnen alle leden schrijven"
    assert "beheer@lets.example" in refusal.text
    assert AnnouncementDraft.select().count() == 0


def test_a_stranger_gets_only_the_how_to_join_explanation(group, an):
    group.mail("stranger@example.net", "TO ALL: Buy now", "Spam.")
    assert AnnouncementDraft.select().count() == 0
    assert group.last("stranger@example.net").message["Subject"] != ""
    assert "Buy now" not in group.last("stranger@example.net").text


def test_the_confirmation_works_once_only_from_the_administrators_address_and_no_cancels(group, an, settings):
    group.mail(ADMIN, "AAN ALLEN: Eerste", "Tekst.")
    _, token = confirm_token(group)
    answer(group, token, "JA", sender="an@example.org")      # a member who saw the token: not theirs
    assert group.last("an@example.org").subject == "Alleen beheerders kunnen alle leden schrijven"
    answer(group, token, "MISSCHIEN")
    assert group.last(ADMIN).subject == "Niet begrepen: Eerste"
    answer(group, token, "NEE")
    assert group.last(ADMIN).subject == "Mededeling geannuleerd: Eerste"
    answer(group, token, "JA")
    assert group.last(ADMIN).subject == "Al beantwoord: Eerste"
    answer(group, "a" * 24, "JA")
    assert group.last(ADMIN).subject == "Deze bevestiging kennen we niet"
    assert Announcement.select().count() == 0


def test_an_expired_confirmation_publishes_nothing(group, an):
    group.mail(ADMIN, "TO ALL: Late", "Text.")
    _, token = confirm_token(group)
    group.clock.advance(days=group.settings.announce.confirm_days, minutes=1)
    answer(group, token, "YES")
    assert group.last(ADMIN).subject == "Expired: Late"
    assert Announcement.select().count() == 0


def test_members_who_turned_bulk_mail_off_get_no_announcement(group, an, sam):
    sam.digest = "off"
    sam.save()
    group.mail(ADMIN, "TO ALL: Hello", "Text.")
    _, token = confirm_token(group)
    answer(group, token, "YES")
    assert send_unsent(group.settings, group.clock.now, group.processor.composer) == 1
    assert [d.member.id for d in AnnouncementDelivery.select()] == [an.id]


def test_lets_announce_sends_at_once_through_the_outbox_or_keeps_it_for_the_digest(group, an, sam, tmp_path,
                                                                                  monkeypatch):
    from click.testing import CliRunner

    from conftest import SETTINGS_INI
    from mailer.cli import main

    for key, value in {"LETS_SETTINGS": str(SETTINGS_INI), "LETS_DATABASE_URL": group.settings.database_url,
                       "LETS_SECURITY_SECRET": group.settings.security.secret,
                       "LETS_OUTBOUND_MAILDIR": group.settings.outbound.maildir}.items():
        monkeypatch.setenv(key, value)
    body = tmp_path / "body.txt"
    body.write_text("Tekst van de mededeling.\n", encoding="utf-8")
    runner = CliRunner()
    result = runner.invoke(main, ["announce", "--subject", "Later", "--file", str(body), "--digest"])
    assert result.exit_code == 0 and "next digest" in result.output
    result = runner.invoke(main, ["announce", "--subject", "Nu", "--file", str(body)])
    assert result.exit_code == 0 and "queued 2 announcement mails" in result.output, result.output
    sent = OutboundMessage.select().where(OutboundMessage.kind == "announcement")
    assert sorted(r.recipient for r in sent) == ["an@example.org", "sam@example.org"]
    assert {r.state for r in sent} == {"sent"}
    assert [a.mode for a in Announcement.select().order_by(Announcement.id)] == ["digest", "now"]
    refused = runner.invoke(main, ["announce", "--subject", "", "--file", str(body)])
    assert refused.exit_code != 0 and "needs --subject" in refused.output


def test_a_second_administrator_cannot_confirm_the_first_ones_announcement(group, an):
    from mailer import settings as settings_module
    group.settings = settings_module.replace(group.settings, group={"admins": (ADMIN, "other@lets.example")})
    group.processor.settings = group.settings
    group.mail(ADMIN, "TO ALL: Mine", "Text.")
    _, token = confirm_token(group)
    answer(group, token, "YES", sender="other@lets.example")
    assert group.last("other@lets.example").subject == "Deze bevestiging kennen we niet"
    assert Announcement.select().count() == 0
