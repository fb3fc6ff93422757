"""Activities end to end (issue 19, "done when"): a group folder made with `lets init` and
`lets member add`, and a real `lets serve` on loopback for each day of the story, its clock
(and its worker's and deliverer's) set to that day by libfaketime (tests/faketime.py).
Members write by SMTP as their mail programs would; what they get back is read from the
outbox Maildir, the calendar parts with `icalendar`.

An (nl) announces a repair café with 3 places at 2 units and publishes it with JA to the
preview; Piet (nl), Sam (en), Claire (fr) and Jonas (de) sign up, and Jonas waits. Two
days before, Claire gives her place up and Jonas gets it; two hours before, Sam is too
late to. The day after, serve's own scheduler charges the three, once, and the books
verify. The same story in process, with a clock moved by hand: tests/test_activities.py."""
from __future__ import annotations

import datetime as dt
import email.policy
import email.utils
import os
import re
import subprocess
import sys
from contextlib import contextmanager
from email.message import EmailMessage
from pathlib import Path

import icalendar
import pytest

import faketime
from conftest import free_port, maildir_messages, send_smtp, wait_for
from db import connect, database, members
from db.models import Activity, InboundMessage, OutboundMessage, Signup, Transfer
from faults import Server
from mailer import settings as settings_module

GROUP = "lets@lets.example"
AN = ("An de Vries", "an@example.org", "nl")
PIET = ("Piet Jansen", "piet@example.org", "nl")
SAM = ("Sam Taylor", "sam@example.org", "en")
CLAIRE = ("Claire Dubois", "claire@example.org", "fr")
JONAS = ("Jonas Becker", "jonas@example.org", "de")
EVERYONE = (AN, PIET, SAM, CLAIRE, JONAS)

T0 = dt.datetime(2026, 12, 1, 10, 0)     # Tuesday: announced, published, four sign-ups
T1 = dt.datetime(2026, 12, 3, 12, 0)     # Thursday, two days before: Claire gives her place up
T2 = dt.datetime(2026, 12, 5, 11, 0)     # Saturday, two hours before: Sam is too late
T3 = dt.datetime(2026, 12, 6, 9, 0)      # Sunday, the day after: the scheduler charges
START = dt.datetime(2026, 12, 5, 13, 0)  # 14:00 in Amsterdam, in UTC as the database keeps it

REPAIR_CAFE = """Datum: 5 december 2026
Tijd: 14:00
Plaats: Buurthuis De Klif
Plaatsen: 3
Prijs: 2
Breng je kapotte broodrooster mee.

Groeten,
An
"""


class Group:
    """The group's folder and database, its `lets` and `lets serve` at a given moment, and
    the mail it delivered."""

    def __init__(self, folder: Path, database_url: str):
        self.folder = folder
        self.database_url = database_url
        self.outbox = folder / "var" / "outbox"    # [outbound] maildir of the settings lets init wrote

    def env(self, at: dt.datetime) -> dict[str, str]:
        return {**faketime.environment(at), "LETS_SETTINGS": str(self.folder / "settings.ini"),
                "LETS_DATABASE_URL": self.database_url}

    def lets(self, at: dt.datetime, *args) -> str:
        """`lets ARGS` run by the operator in the group's folder on a server whose clock says
        `at`; its output, once it succeeded."""
        done = subprocess.run([sys.executable, "-m", "mailer.cli", *args], env=self.env(at), cwd=self.folder,
                              capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, f"lets {' '.join(args)}: {done.stderr}{done.stdout}"
        return done.stdout

    @contextmanager
    def serving(self, at: dt.datetime, log: Path):
        """`lets serve` on a free loopback port, from `at` on; stopped by SIGTERM, cleanly."""
        settings = settings_module.replace(settings_module.load(self.folder / "settings.ini"),
                                           database={"url": self.database_url})
        server = Server(settings, free_port(), log, **self.env(at))
        server.start()
        try:
            yield server.port
        finally:
            server.stop()

    def mail(self, to: str) -> list[EmailMessage]:
        return [m for m in maildir_messages(self.outbox) if m["To"].addresses[0].addr_spec == to]

    def wait(self, to: str, subject: str, containing: str = "") -> EmailMessage:
        """The one mail to `to` whose subject starts with `subject` (and whose text holds
        `containing`), once it is there."""
        found = wait_for(lambda: [m for m in self.mail(to) if str(m["Subject"]).startswith(subject)
                                  and containing in text(m)], timeout=20)
        assert len(found) == 1, [str(m["Subject"]) for m in found]
        return found[0]


@pytest.fixture
def group(tmp_path, database_url, monkeypatch) -> Group:
    """`lets init` and five members, on the first day of the story. The database is the
    suite's (a SQLite file, or a PostgreSQL schema with LETS_TEST_DATABASE)."""
    for name in list(os.environ):
        if name.startswith("LETS_"):
            monkeypatch.delenv(name)
    folder = tmp_path / "group"
    folder.mkdir()
    made = Group(folder, database_url)
    assert "wrote " in made.lets(T0, "init")
    for name, address, language in EVERYONE:
        made.lets(T0, "member", "add", name, address, "--language", language)
    connect(database_url)
    yield made
    database.close()


def text(mail: EmailMessage) -> str:
    return mail.get_body(("plain",)).get_content().replace("\r\n", "\n")


def write(port: int, who: tuple, to: str, subject: str, body: str, at: dt.datetime,
          answering: EmailMessage | None = None) -> None:
    """A mail from `who` by SMTP, as a mail program writes it; an answer is threaded and
    quotes the whole mail it answers below the words."""
    name, address, _ = who
    mail = EmailMessage()
    mail["From"] = email.utils.formataddr((name, address))
    mail["To"] = to
    mail["Subject"] = subject
    mail["Date"] = email.utils.format_datetime(at.replace(tzinfo=dt.timezone.utc))
    mail["Message-ID"] = email.utils.make_msgid(domain="example.org")
    if answering is not None:
        mail["In-Reply-To"] = mail["References"] = answering["Message-ID"]
        quoted = "\n".join(">" + (" " + line if line else "") for line in text(answering).splitlines())
        body += f"\n\n{answering['Date']}, {answering['From']}:\n{quoted}\n"
    mail.set_content(body)
    assert send_smtp(port, mail.as_bytes(policy=email.policy.SMTP), address, [to]) == {}


def answer(port: int, mail: EmailMessage, who: tuple, words: str, at: dt.datetime) -> None:
    """`who` answers `mail`: to its Reply-To, "Re:" its subject, signed with a first name."""
    write(port, who, mail["Reply-To"].addresses[0].addr_spec, f"Re: {mail['Subject']}",
          f"{words}\n\n{who[0].split()[0]}", at, answering=mail)


def event(mail: EmailMessage, method: str) -> icalendar.Event:
    """The one event of the mail's text/calendar part, whose METHOD must be `method`."""
    parts = [p for p in mail.walk() if p.get_content_type() == "text/calendar"]
    assert len(parts) == 1, [p.get_content_type() for p in mail.walk()]
    parsed = icalendar.Calendar.from_ical(parts[0].get_content())
    assert parts[0].get_param("method") == method and str(parsed["METHOD"]) == method
    found, = parsed.walk("VEVENT")
    return found


def no_calendar(mail: EmailMessage) -> bool:
    return all(p.get_content_type() != "text/calendar" for p in mail.walk())


def on_the_day(at: dt.datetime, *moments: dt.datetime) -> None:
    """Each moment (naive UTC) is within two minutes after `at`."""
    for moment in moments:
        assert moment is not None and at <= moment <= at + dt.timedelta(minutes=2), (at, moments)


def all_on_the_day(at: dt.datetime, mails: list[EmailMessage]) -> None:
    """serve's three processes kept the day's clock: the SMTP edge stored each mail, the
    worker processed it and wrote the answers, the deliverer delivered them, at `at` and
    not at the machine's real time; the members read that Date."""
    inbound = list(InboundMessage.select().where(InboundMessage.received_at >= at - dt.timedelta(hours=1)))
    outbound = list(OutboundMessage.select().where(OutboundMessage.created >= at - dt.timedelta(hours=1)))
    assert inbound and outbound
    on_the_day(at, *(m.received_at for m in inbound), *(m.processed_at for m in inbound),
               *(m.created for m in outbound), *(m.sent_at for m in outbound),
               *(m["Date"].datetime.astimezone(dt.timezone.utc).replace(tzinfo=None) for m in mails))


def signups() -> list[tuple[str, str]]:
    return [(s.member.primary_address, s.state) for s in Signup.select().order_by(Signup.id)]


def test_a_repair_cafe_announced_joined_given_up_and_charged_by_serve_over_six_days(group, tmp_path):
    log = tmp_path / "serve.log"

    # Tuesday 1 December: An announces; the preview asks her to publish, and she does.
    with group.serving(T0, log) as port:
        write(port, AN, GROUP, "ACTIVITEIT: Repaircafé", REPAIR_CAFE, T0)
        preview = group.wait(AN[1], "Publiceer je activiteit: Repaircafé")
        assert not group.mail(SAM[1]), "nothing is public before An answers"
        answer(port, preview, AN, "JA", T0)
        published = group.wait(AN[1], "Je activiteit is gepubliceerd: Repaircafé")
        # The others get it, in their language, with the words to sign up (An saw it in her preview).
        invitations = {who: group.wait(who[1], "LETS Demo: Repaircafé [e-") for who in EVERYONE if who != AN}

        # Three sign up by answering it; the fourth waits.
        answer(port, invitations[PIET], PIET, "IK KOM", T0)
        piet = group.wait(PIET[1], "Je bent ingeschreven: Repaircafé")
        answer(port, invitations[SAM], SAM, "I'm coming!", T0)
        sam = group.wait(SAM[1], "You are signed up: Repaircafé")
        answer(port, invitations[CLAIRE], CLAIRE, "JE VIENS", T0)
        claire = group.wait(CLAIRE[1], "Vous êtes inscrit : Repaircafé")
        answer(port, invitations[JONAS], JONAS, "ICH KOMME", T0)
        jonas = group.wait(JONAS[1], "Auf der Warteliste: Repaircafé")
        # An hears of each, with the list as it then stands.
        listed = group.wait(AN[1], "Deelnemers: Repaircafé", "Jonas Becker heeft zich aangemeld")
    all_on_the_day(T0, [preview, published, *invitations.values(), piet, sam, claire, jonas, listed])

    token = re.fullmatch(r"Publiceer je activiteit: Repaircafé \[v-([a-z2-7]{24})\]", str(preview["Subject"]))
    assert token and preview["Reply-To"].addresses[0].addr_spec == f"lets+v-{token.group(1)}@lets.example"
    assert "zaterdag 5 december 2026, 14:00" in text(preview) and "Buurthuis De Klif" in text(preview)
    assert "Prijs: 2,00 zonnen" in text(preview) and "\n  JA\n" in text(preview)
    assert "Je activiteit gaat nu naar 4 leden." in text(published)
    assert not [m for m in group.mail(AN[1]) if str(m["Subject"]).startswith("LETS Demo: Repaircafé [e-")]
    activity = Activity.get()
    assert activity.state == "published" and activity.start == START
    for (name, address, language), words in zip(EVERYONE[1:], ("IK KOM", "I'M COMING", "JE VIENS", "ICH KOMME")):
        mail = invitations[(name, address, language)]
        assert str(mail["Subject"]) == f"LETS Demo: Repaircafé [e-{activity.code}]"
        assert mail["Reply-To"].addresses[0].addr_spec == f"lets+e-{activity.code}@lets.example"
        assert mail["Content-Language"] == language and f"\n  {words}\n" in text(mail), text(mail)
    assert "Mit deiner Anmeldung stimmst du zu, 2,00 zonnen pro Platz zu zahlen" in text(invitations[JONAS])

    assert "Signing up is your consent to pay: 2.00 zonnen" in text(sam)
    assert "reply CANCEL to the activity's mail, at the latest 24 hours\nbefore the start" in text(sam)
    invited = event(sam, "REQUEST")
    uid = str(invited["UID"])
    assert str(invited["SUMMARY"]) == "Repaircafé" and str(invited["LOCATION"]) == "Buurthuis De Klif"
    start = invited.decoded("DTSTART")
    assert (start.hour, start.minute, str(start.tzinfo)) == (14, 0, "Europe/Amsterdam")
    assert start.astimezone(dt.timezone.utc).replace(tzinfo=None) == START
    assert invited.decoded("DTSTAMP").date() == T0.date()     # the worker's clock, too
    assert str(invited["ATTENDEE"]) == "mailto:sam@example.org"
    for mail in (piet, claire):
        assert str(event(mail, "REQUEST")["UID"]) == uid
    assert "Je inschrijving is je akkoord om te betalen: 2,00 zonnen" in text(piet)
    assert "Votre inscription vaut accord de paiement : 2,00 zonnen" in text(claire)
    assert no_calendar(jonas) and "du stehst auf der Warteliste" in text(jonas)
    assert "3 van 3 plaatsen bezet" in text(listed) and "Jonas Becker, 1 (wachtlijst)" in text(listed)
    assert signups() == [(PIET[1], "signed"), (SAM[1], "signed"), (CLAIRE[1], "signed"), (JONAS[1], "waiting")]

    # Thursday 3 December, two days before: Claire gives her place up; Jonas gets it.
    with group.serving(T1, log) as port:
        answer(port, invitations[CLAIRE], CLAIRE, "ANNULER", T1)
        gone = group.wait(CLAIRE[1], "Place annulée : Repaircafé")
        promoted = group.wait(JONAS[1], "Ein Platz ist für dich frei geworden: Repaircafé")
        listed = group.wait(AN[1], "Deelnemers: Repaircafé", "Claire Dubois heeft zich afgemeld")
    all_on_the_day(T1, [gone, promoted, listed])
    assert "Rien ne sera facturé" in text(gone)
    withdrawn = event(gone, "CANCEL")
    assert str(withdrawn["UID"]) == uid and str(withdrawn["STATUS"]) == "CANCELLED"
    assert withdrawn.decoded("DTSTART") == start
    assert text(promoted).startswith("Hallo Jonas Becker,\n\nJemand hat sich abgemeldet: du bist jetzt für")
    assert "2,00 zonnen werden nach der Aktivität" in text(promoted)
    moved_up = event(promoted, "REQUEST")
    assert str(moved_up["UID"]) == uid and moved_up.decoded("DTSTART") == start
    assert "3 van 3 plaatsen bezet" in text(listed)
    assert "Jonas Becker, 1\n" in text(listed) and "Claire Dubois, 1" not in text(listed)
    assert signups() == [(PIET[1], "signed"), (SAM[1], "signed"), (CLAIRE[1], "cancelled"), (JONAS[1], "signed")]

    # Saturday 5 December, two hours before: Sam is too late; his place and its price stay.
    sent_to_an = len(group.mail(AN[1]))
    with group.serving(T2, log) as port:
        answer(port, invitations[SAM], SAM, "CANCEL", T2)
        late = group.wait(SAM[1], "About the activity: Repaircafé")
    all_on_the_day(T2, [late])
    assert "A place can be given up until 24 hours before the start; that time has passed." in text(late)
    assert "Your place stays yours, and so does its price." in text(late) and no_calendar(late)
    assert len(group.mail(AN[1])) == sent_to_an, "nothing changed on An's list"
    assert signups() == [(PIET[1], "signed"), (SAM[1], "signed"), (CLAIRE[1], "cancelled"), (JONAS[1], "signed")]

    # That morning the public agenda and the digest show it: full, and nobody's name.
    feed = group.lets(T2, "agenda", "--ics")
    public, = icalendar.Calendar.from_ical(feed).walk("VEVENT")
    assert str(public["UID"]) == uid and str(public["SUMMARY"]) == "Repaircafé"
    assert public.decoded("DTSTART") == start and str(public["LOCATION"]) == "Buurthuis De Klif"
    assert not any(word in feed for word in ("METHOD", "ATTENDEE", "Sam", "sam@", "Piet", "Jonas"))
    assert (f"#{activity.id}  2026-12-05 14:00  Repaircafé  @ Buurthuis De Klif  (0 of 3 places free)"
            in group.lets(T2, "agenda"))
    digest = group.lets(T2, "digest", "preview", SAM[1])
    assert ("COMING ACTIVITIES\nSaturday 5 December 2026, 14:00: Repaircafé (Buurthuis De Klif)\n"
            "  Price: 2.00 zonnen\n") in digest, digest
    assert f"lets+e-{activity.code}@lets.example" in digest

    # Sunday 6 December: lets serve's own scheduler charges the three, once.
    with group.serving(T3, log):
        wait_for(lambda: Activity.get_by_id(activity.id).state == "done", timeout=20)
    charges = list(Transfer.select().where(Transfer.initiator == "activity").order_by(Transfer.id))
    assert [(t.payer.member.primary_address, t.payee.member.primary_address, t.amount_cents, t.state)
            for t in charges] == [(who[1], AN[1], 200, "booked") for who in (PIET, SAM, JONAS)]
    on_the_day(T3, *(t.created for t in charges))
    assert {who: members.account(members.by_address(who[1])).balance_cents for who in EVERYONE} == {
        AN: 600, PIET: -200, SAM: -200, CLAIRE: 0, JONAS: -200}
    assert signups() == [(PIET[1], "charged"), (SAM[1], "charged"), (CLAIRE[1], "cancelled"), (JONAS[1], "charged")]
    # Charging again books nothing; the journal's chain and the balances hold.
    assert group.lets(T3, "activity", "charge", "--date", "2026-12-05") == "0 participants charged\n"
    assert Transfer.select().where(Transfer.initiator == "activity").count() == 3
    assert group.lets(T3, "ledger", "verify").startswith("3 booked transfers verified; head ")
    group.lets(T3, "ledger", "check")
    # What the members see of it, in their next digest.
    assert "YOUR BALANCE: -2.00 zonnen" in group.lets(T3, "digest", "preview", SAM[1])
    assert "06/12/2026  -2.00  Repaircafé (2026-12-05)" in group.lets(T3, "digest", "preview", SAM[1])
    organiser = group.lets(T3, "digest", "preview", AN[1])
    assert "JE SALDO: 6,00 zonnen" in organiser and organiser.count("06-12-2026  2,00  Repaircafé") == 3
    assert "KOMENDE ACTIVITEITEN" not in organiser
