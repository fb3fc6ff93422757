"""Digest content: the period's traded volume in the group summary, and the pending-confirmation alert."""
import datetime as dt

from db import ledger, members
from db.models import Account
from mailer import settings as settings_module
from mailer.runs.digest import run_scheduled

from test_digest import MONDAY_AFTER, digests, set_balance


def book(group, payer, payee, cents, what, when):
    ledger.transfer_now(members.account(payer), members.account(payee), cents, what,
                        limits=group.settings.limits, now=when, entered_by="test")


def test_the_summary_shows_the_volume_traded_between_members_in_the_period(group, an, sam, claire):
    book(group, an, sam, 9900, "Last month", MONDAY_AFTER - dt.timedelta(days=20))
    book(group, an, sam, 1250, "Fietsherstel", MONDAY_AFTER - dt.timedelta(days=2))
    book(group, claire, an, 700, "Soupe", MONDAY_AFTER - dt.timedelta(days=1))
    reversed_ = MONDAY_AFTER - dt.timedelta(days=1)
    book(group, sam, claire, 5000, "Typo", reversed_)
    ledger.reverse(ledger.head().number, now=reversed_, entered_by="test", limits=group.settings.limits)
    ledger.levy(members.account(an), Account.get(Account.code == "association"), 600, "Contribution",
                now=reversed_, entered_by="test", limits=group.settings.limits)
    run_scheduled(group.settings, MONDAY_AFTER, group.processor.composer)
    assert "Verhandeld tussen leden deze periode: 19,50 zonnen." in digests(group, "an@example.org")[0].text
    assert "Traded between members this period: 19.50 zonnen." in digests(group, "sam@example.org")[0].text
    french = digests(group, "claire@example.org")[0]
    assert "Échangé entre membres cette période : 19,50 zonnen." in french.text
    assert "Échangé entre membres cette période : 19,50 zonnen." in french.html


def test_the_volume_is_left_out_when_the_group_says_so(group, an):
    group.settings = settings_module.replace(group.settings, digest={"show_volume": False})
    run_scheduled(group.settings, MONDAY_AFTER, group.processor.composer)
    assert "Verhandeld" not in digests(group, "an@example.org")[0].text


def test_a_pending_proposal_puts_a_confirmation_alert_at_the_top_with_how_to_answer(group, an, sam, claire):
    group.clock.now = MONDAY_AFTER - dt.timedelta(days=1)
    group.mail("sam@example.org", "INVOICE 12,50 to an@example.org for Fietsherstel")
    group.mail("claire@example.org", "PAYER 3 à sam@example.org pour Confiture")
    set_balance(sam, 5000)
    group.clock.now = MONDAY_AFTER
    run_scheduled(group.settings, MONDAY_AFTER, group.processor.composer)
    dutch = digests(group, "an@example.org")[0]
    assert dutch.text.index("ACTIE GEVRAAGD") < dutch.text.index("JE SALDO")
    assert ('Er wacht een bevestiging op je: 12,50 zonnen aan Sam Taylor voor "Fietsherstel"'
            in dutch.text)
    assert 'Antwoord JA (of NEE) op de mail "Bevestig: …"' in dutch.text
    assert "Er wacht een bevestiging op je: 12,50 zonnen aan Sam Taylor voor &quot;Fietsherstel&quot;" in dutch.html
    assert "Une confirmation vous attend : 3,00 zonnen à Sam Taylor pour « Confiture »" in \
        digests(group, "claire@example.org")[0].text
    # Sam proposed the invoice but is not the one who must say YES.
    assert "confirmation is waiting" not in digests(group, "sam@example.org")[0].text


def test_an_answered_or_expired_proposal_raises_no_alert(group, an, sam):
    group.clock.now = MONDAY_AFTER - dt.timedelta(days=20)
    group.mail("sam@example.org", "INVOICE 12,50 to an@example.org for Old")
    group.clock.now = MONDAY_AFTER
    run_scheduled(group.settings, MONDAY_AFTER, group.processor.composer)
    assert "bevestiging" not in digests(group, "an@example.org")[0].text
