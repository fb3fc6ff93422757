"""OPZEGGEN / CANCEL / RÉSILIER must be confirmed by a tokened reply from the member's own
address: a forged From:, a token used from another address, a replay or an unclear answer
ends nobody's membership."""
import datetime as dt
import re

import pytest
from click.testing import CliRunner

from db import database, ledger, members
from db.models import ConfirmToken, Departure, Member
from mailer import settings as settings_module
from mailer.cli import main
from tests.conftest import SETTINGS_INI, Group

LONG_AGO = dt.date(2025, 1, 1)
TOKEN = re.compile(r"lets\+c-([a-z2-7]{24})@lets\.example")


@pytest.fixture
def settings(settings):
    return settings_module.replace(settings, limits={"newcomer_months": 0})


@pytest.fixture
def trio(group):
    return [group.member("An de Vries", "an@example.org", language="nl", joined=LONG_AGO),
            group.member("Sam Taylor", "sam@example.org", language="en", joined=LONG_AGO),
            group.member("Claire Dubois", "claire@example.org", language="fr", joined=LONG_AGO)]


def status(member):
    return Member.get_by_id(member.id).status


def answer(group, sender, ask, text, rcpt=None):
    return group.mail(sender, "Re: " + ask.subject, text + "\n\n> quoted\n",
                      rcpt=[rcpt or ask.message["Reply-To"]])


def test_the_notice_asks_for_confirmation_in_the_members_language_and_changes_nothing(group, trio):
    for member, word, subject in ((trio[0], "OPZEGGEN", "Bevestig je opzegging bij LETS Demo [c-"),
                                  (trio[1], "CANCEL", "Confirm your notice to LETS Demo [c-"),
                                  (trio[2], "RÉSILIER", "Confirmez votre résiliation à LETS Demo [c-")):
        group.mail(member.primary_address, word)
        ask = group.last(member.primary_address)
        assert ask.subject.startswith(subject)
        token = TOKEN.fullmatch(ask.message["Reply-To"]).group(1)
        assert ask.subject.endswith(f"[c-{token}]")
        assert status(member) == "active"
    assert Departure.select().count() == 0
    assert "YES" in group.last("sam@example.org").text
    assert "ends at once" not in group.last("sam@example.org").text


def test_the_members_yes_from_their_own_address_gives_the_notice_once(group, trio):
    sam = trio[1]
    group.mail("sam@example.org", "CANCEL")
    assert status(sam) == "active"
    ask = group.last("sam@example.org")
    answer(group, "sam@example.org", ask, "Yes")
    assert status(sam) == "left" and Departure.get().entered_by == "sam@example.org"
    assert group.last("sam@example.org").subject == "Your membership of LETS Demo has ended"
    sent = len(group.outbox())
    # A replay of the same answer (a new Message-ID) does nothing more.
    answer(group, "sam@example.org", ask, "Yes")
    assert Departure.select().count() == 1 and status(sam) == "left"
    # A former member is told the membership is not active, and no more.
    assert [s.subject for s in group.outbox()[sent:]] == ["Your membership of LETS Demo"]


def test_a_forged_from_reaches_only_the_real_mailbox_and_a_bare_yes_does_nothing(group, trio):
    an = trio[0]
    # Someone else writes OPZEGGEN with An's address in From: the token goes to An's mailbox.
    group.mail("an@example.org", "OPZEGGEN", mail_from="mallory@evil.example")
    assert group.last().recipient == "an@example.org"
    # Without the token, a JA "in reply" is no confirmation (In-Reply-To authorises nothing).
    group.mail("an@example.org", "Re: Bevestig je opzegging bij LETS Demo", "JA",
               headers={"In-Reply-To": "<whatever@lets.example>"})
    assert status(an) == "active" and Departure.select().count() == 0
    assert ConfirmToken.get().used is None


def test_the_token_from_another_address_is_refused_and_stays_valid_for_the_member(group, trio):
    an, sam = trio[0], trio[1]
    group.mail("an@example.org", "OPZEGGEN")
    ask = group.last("an@example.org")
    answer(group, "sam@example.org", ask, "YES")
    assert group.last("sam@example.org").subject == "We don't know this confirmation"
    assert status(an) == "active" and status(sam) == "active" and Departure.select().count() == 0
    answer(group, "an@example.org", ask, "ja")
    assert status(an) == "left"


def test_no_keeps_the_membership_and_spends_the_token(group, trio):
    claire = trio[2]
    group.mail("claire@example.org", "RÉSILIER")
    ask = group.last("claire@example.org")
    answer(group, "claire@example.org", ask, "Non")
    assert group.last("claire@example.org").subject == "Vous restez membre de LETS Demo"
    answer(group, "claire@example.org", ask, "Oui")
    assert group.last("claire@example.org").subject == "Confirmation inconnue"
    assert status(claire) == "active" and Departure.select().count() == 0


def test_an_unclear_answer_changes_nothing_and_the_token_still_works(group, trio):
    an = trio[0]
    group.mail("an@example.org", "OPZEGGEN")
    ask = group.last("an@example.org")
    answer(group, "an@example.org", ask, "misschien later")
    assert group.last("an@example.org").subject == "Niet begrepen: je opzegging bij LETS Demo"
    assert status(an) == "active"
    # A mail program that drops Reply-To: the token in the subject is enough.
    group.mail("an@example.org", "Re: " + ask.subject, "JA\n", rcpt=["lets@lets.example"])
    assert status(an) == "left"


def test_an_expired_token_gives_no_notice(group, trio, settings, clock):
    sam = trio[1]
    group.mail("sam@example.org", "CANCEL")
    ask = group.last("sam@example.org")
    clock.advance(days=settings.membership.confirm_days, seconds=1)
    answer(group, "sam@example.org", ask, "YES")
    assert group.last("sam@example.org").subject == "Expired: your notice to LETS Demo"
    assert status(sam) == "active" and Departure.select().count() == 0


def test_the_administrators_cancel_needs_no_confirmation(group, trio, settings, monkeypatch):
    monkeypatch.setenv("LETS_DATABASE_URL", settings.database.url)
    monkeypatch.setenv("LETS_SECURITY_SECRET", "x")
    monkeypatch.setenv("LETS_OUTBOUND_MAILDIR", settings.outbound.maildir)
    result = CliRunner().invoke(main, ["--settings", str(SETTINGS_INI), "member", "cancel", "2",
                                         "--at", "2026-11-23T10:00"])
    database.connect(reuse_if_open=True)
    assert result.exit_code == 0, result.output
    assert status(trio[1]) == "left" and ConfirmToken.select().count() == 0


def test_the_notice_mails_state_the_groups_own_deadline_and_first_months(group, settings, clock):
    """Articles 5.4 and 5.5.2 as the group set them: a group with notice by 15 November and
    two months to cancel says so, in each language, never the default 1 December."""
    group = Group(settings_module.replace(settings, membership={"notice_by": "11-15", "cancel_months": 2}), clock)
    old = group.member("An de Vries", "an@example.org", language="nl", joined=LONG_AGO)
    new = group.member("Claire Dubois", "claire@example.org", language="fr", joined=dt.date(2026, 10, 1))
    sam = group.member("Sam Taylor", "sam@example.org", language="en", joined=LONG_AGO)
    clock.now = dt.datetime(2026, 11, 10, 9, 0)
    group.mail("claire@example.org", "RÉSILIER")
    assert "Vous êtes membre depuis moins de 2 mois" in group.last("claire@example.org").text
    clock.now = dt.datetime(2026, 11, 20, 9, 0)
    group.mail("an@example.org", "OPZEGGEN")
    assert "Opzeggen kan tot 15 november;" in group.last("an@example.org").text
    group.mail("sam@example.org", "CANCEL")
    ask = group.last("sam@example.org")
    assert "Notice must be given by 15 November;" in ask.text
    answer(group, "sam@example.org", ask, "Yes")
    told = group.last("sam@example.org")
    assert "Notice must be given by 15 November;" in told.text and "31 December 2027" in told.text
    assert "by 1 December" not in ask.text + told.text
    assert Departure.get().state == "waiting" and status(sam) == "active"      # until the end of 2027
    assert status(old) == "active" and status(new) == "active"


def test_a_member_leaving_in_credit_is_told_how_to_pass_the_balance_on_first(group, trio, settings):
    an = trio[0]
    ledger.transfer_now(members.account(trio[1]), members.account(an), 1250, "soep", limits=settings.limits,
                        now=dt.datetime(2026, 11, 20, 9, 0), entered_by="admin")
    group.mail("an@example.org", "OPZEGGEN")
    text = group.last("an@example.org").text
    assert "Je saldo is 12,50 zonnen." in text and "(SCHENK 12,50)" in text and "vóór je bevestigt" in text
    # A member in the red is not invited to give anything away.
    group.mail("sam@example.org", "CANCEL")
    assert "DONATE" not in group.last("sam@example.org").text
