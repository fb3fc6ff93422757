"""Applying by mail, approval and refusal, suspension, expulsion and reinstatement."""
import pytest
from click.testing import CliRunner

from db import ledger, members
from db.models import Listing, Member, MemberEvent, Transfer
from mailer.runs import membership
from mailer import settings as settings_module
from mailer.cli import main


@pytest.fixture
def settings(settings):
    return settings_module.replace(settings, limits={"newcomer_months": 0})


@pytest.fixture
def lets(settings, db, monkeypatch):
    """The CLI on the test's database; the clock of the CLI is real time."""
    monkeypatch.setenv("LETS_DATABASE_URL", settings.database.url)
    monkeypatch.setenv("LETS_SECURITY_SECRET", "test-secret-not-for-production")
    runner = CliRunner()

    def run(*args):
        result = runner.invoke(main, list(args), catch_exceptions=False)
        return result
    return run


def test_join_from_a_new_address_creates_an_applicant_thanks_in_dutch_and_tells_the_admins(group):
    group.mail("jan@example.net", "AANMELDEN Jan Smit")
    applicant = members.by_address("jan@example.net")
    assert (applicant.name, applicant.status, applicant.language) == ("Jan Smit", "applicant", "nl")
    thanks = group.last("jan@example.net")
    assert thanks.subject == "Je aanmelding bij LETS Demo is ontvangen"
    assert "Beste Jan Smit" in thanks.text
    told = group.last("beheer@lets.example")
    assert told.subject == f"Nieuwe aanmelding: Jan Smit (lid {applicant.number})"
    assert f"lets member approve {applicant.number}" in told.text


def test_join_in_french_answers_in_french_and_a_second_application_is_not_duplicated(group):
    group.mail("jeanne@example.net", "ADHÉRER Jeanne Martin")
    assert group.last("jeanne@example.net").subject.startswith("Votre demande d'adhésion")
    group.mail("jeanne@example.net", "adhérer Jeanne Martin")
    assert Member.select().where(Member.name == "Jeanne Martin").count() == 1
    again = group.last("jeanne@example.net")
    assert again.subject == "Votre adhésion à LETS Demo"
    assert "examinée par le groupe de coordination" in again.text
    assert len(group.outbox("beheer@lets.example")) == 1


def test_join_without_a_name_takes_the_display_name_or_asks_for_it(group):
    group.mail("Jo Smith <jo@example.net>", "JOIN")
    assert members.by_address("jo@example.net").name == "Jo Smith"
    group.mail("nobody@example.net", "Join")
    assert members.by_address("nobody@example.net") is None
    assert group.last("nobody@example.net").subject == "Joining LETS Demo: your name, please"


def test_join_is_answered_even_right_after_the_daily_non_member_explanation(group):
    group.mail("jo@example.net", "hello there")
    assert group.last("jo@example.net").subject == "LETS Demo: for members only"
    group.mail("jo@example.net", "JOIN Jo Smith")
    assert group.last("jo@example.net").subject == "Your application to LETS Demo has been received"


def test_a_member_who_sends_join_is_told_they_are_a_member(group, an):
    group.mail("an@example.org", "AANMELDEN An")
    assert group.last("an@example.org").subject == "Je bent al lid van LETS Demo"


def test_approve_makes_the_applicant_active_from_today_with_a_welcome_in_their_language(group, settings, clock):
    group.mail("jo@example.net", "JOIN Jo Smith")
    applicant = members.by_address("jo@example.net")
    membership.decide(settings, applicant, "approve", now=clock.now, entered_by="admin")
    member = Member.get_by_id(applicant.id)
    assert (member.status, member.joined) == ("active", clock.now.date())
    welcome = group.last("jo@example.net")
    assert welcome.subject == "Welcome to LETS Demo, Jo Smith!"
    for example in ("OFFER: Bicycle repair", "REQUEST:", "PAY 12 to", "INVOICE 12 to", "BALANCE", "DIGEST WEEKLY"):
        assert example in welcome.text
    assert MemberEvent.select().where(MemberEvent.member == member, MemberEvent.status == "active").count() == 1
    with pytest.raises(Exception, match="applies to applicant"):
        membership.decide(settings, member, "approve", now=clock.now, entered_by="admin")


def test_refuse_needs_a_reason_tells_it_politely_and_keeps_the_record(group, settings, clock):
    group.mail("jan@example.net", "AANMELDEN Jan Smit")
    applicant = members.by_address("jan@example.net")
    with pytest.raises(Exception, match="reason"):
        membership.decide(settings, applicant, "refuse", now=clock.now, entered_by="admin")
    membership.decide(settings, applicant, "refuse", reason="we werken alleen in Nijmegen", now=clock.now,
                      entered_by="admin")
    assert Member.get_by_id(applicant.id).status == "refused"
    refused = group.last("jan@example.net")
    assert refused.subject == "Je aanmelding bij LETS Demo" and "we werken alleen in Nijmegen" in refused.text
    group.mail("jan@example.net", "AANMELDEN Jan Smit")
    assert Member.select().count() == 1
    assert "niet aangenomen" in group.last("jan@example.net").text


def test_suspension_blocks_trading_and_digests_and_tells_the_reason_until_reinstated(group, settings, clock, an, sam):
    group.mail("sam@example.org", "PAY 5 to an@example.org for soup")
    ask = group.last("sam@example.org")
    membership.decide(settings, an, "suspend", reason="onbetaalde contributie", now=clock.now, entered_by="admin")
    told = group.last("an@example.org")
    assert told.subject == "Je lidmaatschap van LETS Demo is geschorst" and "onbetaalde contributie" in told.text
    # The payment proposed before the suspension is not booked now.
    group.mail("sam@example.org", "Re: " + ask.subject, "Yes\n", rcpt=[ask.message["Reply-To"]])
    assert Transfer.get().state == "pending"
    assert group.last("sam@example.org").subject == "An de Vries cannot receive proposals now"
    group.mail("an@example.org", "BETAAL 5 aan sam@example.org voor soep")
    assert group.last("an@example.org").subject == "Je lidmaatschap van LETS Demo"
    assert Transfer.select().count() == 1
    from db import digest
    assert [r.member.id for r in digest.due("weekly:x", ("weekly",), 0, 10)] == [sam.id]

    membership.decide(settings, an, "reinstate", now=clock.now, entered_by="admin")
    assert Member.get_by_id(an.id).status == "active"
    assert group.last("an@example.org").subject == "Je kunt weer meedoen in LETS Demo"
    group.mail("sam@example.org", "Re: " + ask.subject, "Yes\n", rcpt=[ask.message["Reply-To"]])
    assert Transfer.get().state == "booked"


def test_expulsion_withdraws_listings_and_tells_the_reason_in_french(group, settings, clock, claire):
    group.mail("claire@example.org", "OFFRE: Cours de piano")
    assert Listing.get().status == "active"
    membership.decide(settings, claire, "expel", reason="décision de l'assemblée", now=clock.now, entered_by="admin")
    assert Listing.get().status == "withdrawn" and Member.get_by_id(claire.id).status == "expelled"
    told = group.last("claire@example.org")
    assert told.subject == "Votre adhésion à LETS Demo a pris fin" and "décision de l'assemblée" in told.text
    with pytest.raises(ledger.LedgerError):
        ledger.propose(members.account(group.member("X", "x@example.org")), members.account(claire), 100, "x",
                       limits=settings.limits, now=clock.now)


def test_cli_approve_refuse_suspend_expel_reinstate(lets, group):
    group.mail("jo@example.net", "JOIN Jo Smith 18+")
    group.mail("jan@example.net", "AANMELDEN Jan Smit")
    assert lets("member", "approve", "jo@example.net").output.strip() == "1 Jo Smith: active"
    refused = lets("member", "refuse", "2")
    assert refused.exit_code != 0 and "--reason" in refused.output
    assert lets("member", "refuse", "2", "--reason", "vol").output.strip() == "2 Jan Smit: refused"
    assert lets("member", "suspend", "1", "--reason", "x").output.strip() == "1 Jo Smith: suspended"
    assert lets("member", "expel", "1", "--reason", "y").output.strip() == "1 Jo Smith: expelled"
    assert lets("member", "reinstate", "1").output.strip() == "1 Jo Smith: active"
    wrong = lets("member", "reinstate", "1")
    assert wrong.exit_code != 0 and "is active" in wrong.output
    assert lets("member", "approve", "99").exit_code != 0
    subjects = [s.subject for s in group.outbox("jo@example.net")]
    assert subjects[-4:] == ["Welcome to LETS Demo, Jo Smith!", "Your membership of LETS Demo is suspended",
                             "Your membership of LETS Demo has been ended", "You can take part in LETS Demo again"]


def test_help_lists_the_new_commands(group, an, sam):
    group.mail("an@example.org", "HULP")
    assert "OPZEGGEN" in group.last("an@example.org").text and "DECLARATIE 4" in group.last("an@example.org").text
    group.mail("sam@example.org", "HELP")
    assert "CANCEL" in group.last("sam@example.org").text and "CLAIM 4 for" in group.last("sam@example.org").text


# -- article 5.1: 18 or older, and the general meeting over the core group's refusal ------

@pytest.fixture
def lets_at(settings, clock, monkeypatch):
    """The CLI on the test's clock."""
    from mailer.cli import members as cli_members
    from mailer.message import compose
    from tests.conftest import SETTINGS_INI

    for module in (compose, cli_members):
        monkeypatch.setattr(module, "now_utc", lambda: clock.now)
    env = {"LETS_DATABASE_URL": settings.database.url, "LETS_SECURITY_SECRET": settings.security.secret,
           "LETS_OUTBOUND_MAILDIR": settings.outbound.maildir}

    def run(*args):
        from db import database
        result = CliRunner().invoke(main, ["--settings", str(SETTINGS_INI), *args], env=env)
        database.connect(reuse_if_open=True)
        return result
    return run


def listed(lets_at) -> dict:
    import json
    return {row["name"]: row for row in map(json.loads, lets_at("member", "list", "--json").output.splitlines())}


def test_applicants_are_asked_whether_they_are_18_and_the_meeting_may_admit_whom_the_core_group_refused(
        group, clock, lets_at):
    import datetime as dt

    clock.now = dt.datetime(2027, 3, 1, 10)
    group.mail("jan@example.net", "AANMELDEN Jan Smit")
    group.mail("jo@example.net", "JOIN Jo Smith 18+")
    group.mail("lea@example.fr", "ADHÉRER Léa Martin")
    jan, jo, lea = (members.by_address(a) for a in ("jan@example.net", "jo@example.net", "lea@example.fr"))
    assert jo.name == "Jo Smith" and (jan.adult, jo.adult, lea.adult) == (None, True, None)
    asked = group.last("jan@example.net")
    assert 'Ben jij 18 of ouder? Antwoord dan op deze mail met "ja"' in asked.text
    assert "You said you are 18 or older" in group.last("jo@example.net").text
    told = [s.text for s in group.outbox("beheer@lets.example")]
    assert "18 jaar of ouder: nog niet bevestigd" in told[0] and "18 jaar of ouder: ja" in told[1]
    assert {name: row["adult"] for name, row in listed(lets_at).items()} == {
        "Jan Smit": None, "Jo Smith": True, "Léa Martin": None}

    # The applicants answer the question by replying.
    clock.now = dt.datetime(2027, 3, 2, 10)
    group.mail("jan@example.net", "Re: " + asked.subject, "Ja hoor.\n\n> Ben jij 18 of ouder?\n")
    assert group.last("jan@example.net").subject == "Genoteerd: je bent 18 jaar of ouder"
    french = group.last("lea@example.fr")
    group.mail("lea@example.fr", "Re: " + french.subject, "non, j'ai 16 ans\n")
    assert group.last("lea@example.fr").subject == "C'est noté : vous avez moins de 18 ans"
    assert {name: row["adult"] for name, row in listed(lets_at).items()} == {
        "Jan Smit": True, "Jo Smith": True, "Léa Martin": False}

    # Approving warns loudly when 18+ is not confirmed, but the decision is the core group's.
    approved = lets_at("member", "approve", "jan@example.net")
    assert approved.exit_code == 0 and "WARNING" not in approved.output
    young = lets_at("member", "approve", str(lea.number))
    assert young.exit_code == 0 and "WARNING" in young.output and "said they are under 18" in young.output

    # Refused by the core group; only the general meeting can still admit Jo.
    clock.now = dt.datetime(2027, 3, 5, 10)
    assert lets_at("member", "refuse", str(jo.number), "--reason", "we know nobody who knows you").exit_code == 0
    again = lets_at("member", "approve", str(jo.number))
    assert again.exit_code == 1 and "only the general meeting may admit them now: add --meeting" in again.output
    assert Member.get_by_id(jo.id).status == "refused"
    clock.now = dt.datetime(2027, 4, 12, 20)
    admitted = lets_at("member", "approve", str(jo.number), "--meeting")
    assert admitted.exit_code == 0 and admitted.output.strip().endswith(f"{jo.number} Jo Smith: active")
    event = MemberEvent.select().where(MemberEvent.member == jo).order_by(MemberEvent.id.desc()).first()
    assert (event.previous, event.status, event.entered_by, event.reason) == (
        "refused", "active", "general meeting", "admitted by the general meeting")
    assert Member.get_by_id(jo.id).joined == dt.date(2027, 4, 12)
    assert group.last("jo@example.net").subject == "Welcome to LETS Demo, Jo Smith!"
    assert "is active; approve applies to applicant or refused members" in \
        lets_at("member", "approve", str(jo.number), "--meeting").output
