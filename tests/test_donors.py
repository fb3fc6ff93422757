"""The donor register (article 6): donors with periodic euro gifts, receipts in their
language, the report's euro income; a donor is never a member and gets no digest."""
import csv
import datetime as dt
import io

from db import members
from db.models import Donor, Member, OutboundMessage
from mailer.runs import digest
from tests.test_euro import OLD, lets, settings  # noqa: F401  (the euro settings)


def ok(result):
    assert result.exit_code == 0, result.output
    return result.output


def test_a_donor_is_registered_pays_gets_a_receipt_in_their_language_and_shows_in_the_report(group, settings):
    group.member("An de Vries", "an@example.org", language="nl", joined=OLD)
    number = ok(lets(settings, "donor", "add", "Stichting Buurtkracht", "Info@Buurtkracht.example",
                     "--amount", "25,00", "--every", "quarter")).strip()
    ok(lets(settings, "donor", "add", "Jane Giver", "jane@example.net", "--language", "en"))
    assert lets(settings, "donor", "add", "Again", "jane@example.net").exit_code == 1
    assert lets(settings, "donor", "add", "Half", "half@example.net", "--amount", "5").exit_code == 1

    ok(lets(settings, "donor", "paid", number, "25,00", "--date", "2027-01-05"))
    ok(lets(settings, "donor", "paid", "info@buurtkracht.example", "25", "--date", "2027-04-05"))
    ok(lets(settings, "donor", "paid", "jane@example.net", "10", "--date", "2027-12-31"))
    ok(lets(settings, "donor", "paid", "jane@example.net", "40", "--date", "2028-01-01"))
    assert lets(settings, "donor", "paid", "jane@example.net", "0").exit_code == 1

    receipt = group.last("info@buurtkracht.example")
    assert receipt.subject == "Ontvangstbewijs voor je gift aan LETS Demo"
    text = " ".join(receipt.text.replace("\xa0", " ").split())
    assert "op 5 april 2027 € 25,00 van je ontvangen (€ 50,00 in 2027 tot nu toe)" in text
    jane = group.outbox("jane@example.net")
    assert [m.subject for m in jane] == ["Receipt for your gift to LETS Demo"] * 2
    assert "so far" not in jane[-1].text

    rows = list(csv.DictReader(io.StringIO(ok(lets(settings, "donor", "list", "--csv", "--year", "2027")))))
    assert [(r["name"], r["every"], r["amount_cents"], r["given_cents"]) for r in rows] == [
        ("Stichting Buurtkracht", "quarter", "2500", "5000"), ("Jane Giver", "", "0", "1000")]
    assert "EUR 25.00 a quarter" in ok(lets(settings, "donor", "list", "--year", "2027"))

    report = list(csv.DictReader(io.StringIO(ok(lets(settings, "report", "--year", "2027", "--csv")))))
    assert {"section": "donors", "label": "gifts received", "value": "6000", "kind": "EUR"} in report
    assert {"section": "donors", "label": "donors who gave", "value": "2", "kind": "count"} in report
    assert "Donors' gifts 2028" in ok(lets(settings, "report", "--year", "2028"))

    # Never a member: no number, no account, no digest.
    assert Member.select().count() == 1 and members.by_address("jane@example.net") is None
    digest.run_scheduled(settings, dt.datetime(2027, 1, 11, 8), catch_up=True)
    assert not OutboundMessage.select().where(OutboundMessage.recipient == "jane@example.net",
                                              OutboundMessage.kind != "donor/receipt").exists()

    ok(lets(settings, "donor", "remove", "jane@example.net"))
    assert "Jane Giver" not in ok(lets(settings, "donor", "list"))
    assert Donor.select().count() == 2 and "6000" in ok(lets(settings, "report", "--year", "2027", "--csv"))
    assert lets(settings, "donor", "paid", "jane@example.net", "5").exit_code == 1
