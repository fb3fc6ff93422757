"""Trades linked to the listing they answer, and the volume the group trades per category."""
import datetime as dt
import json

import pytest
from click.testing import CliRunner

from db import listing_links
from db.models import Listing, Transfer
from mailer import settings as settings_module
from mailer.cli import main
from mailer.runs.digest import run_scheduled
from tests.conftest import SETTINGS_INI
from tests.test_ledger import _env
from tests.test_trades import confirm


@pytest.fixture
def settings(settings):
    return settings_module.replace(settings, limits={"newcomer_months": 0})


def post(group, sender, subject, body):
    group.mail(sender, subject, body)
    return Listing.select().order_by(Listing.id.desc()).first()


def reply_to(group, sender, sent, subject, body=""):
    """A new command written as a reply to one of our mails."""
    return group.mail(sender, subject, body, headers={"In-Reply-To": sent.message["Message-ID"],
                                                      "References": sent.message["Message-ID"]})


def test_pay_replying_to_an_instant_listing_mail_links_the_transfer(group, an, piet):
    an.digest = "instant"
    an.save()
    offer = post(group, "piet@example.org", "AANBOD: Snoeien", "Categorie: tuin\n")
    instant = group.last("an@example.org")
    assert "Snoeien" in instant.text
    reply_to(group, "an@example.org", instant, "BETAAL 12 aan piet voor snoeien")
    confirm(group, "an@example.org", group.last("an@example.org"), "JA")
    transfer = Transfer.get()
    assert (transfer.state, transfer.listing_id) == ("booked", offer.id)


def test_invoice_replying_to_the_posters_own_confirmation_links_it(group, an, piet):
    offer = post(group, "piet@example.org", "AANBOD: Fietsherstel", "Categorie: vervoer\n")
    posted = group.last("piet@example.org")
    reply_to(group, "piet@example.org", posted, "Re: " + posted.subject, "FACTUUR 20 aan an voor band plakken\n")
    assert Transfer.get().listing_id == offer.id


def test_confirmation_that_replies_to_the_listing_mail_links_it(group, an, piet):
    an.digest = "instant"
    an.save()
    offer = post(group, "piet@example.org", "AANBOD: Soep", "Categorie: eten\n")
    instant = group.last("an@example.org")
    group.mail("an@example.org", "BETAAL 5 aan piet voor soep")
    ask = group.last("an@example.org")
    assert Transfer.get().listing_id is None
    # The mail program threads the confirmation under the listing mail too.
    group.mail("an@example.org", "Re: " + ask.subject, "JA\n", rcpt=[ask.message["Reply-To"]],
               headers={"In-Reply-To": ask.message["Message-ID"],
                        "References": f"{instant.message['Message-ID']} {ask.message['Message-ID']}"})
    assert Transfer.get().listing_id == offer.id


def test_pay_replying_to_a_digest_links_the_payees_listing_shown_in_it(group, an, piet, clock):
    offer = post(group, "piet@example.org", "AANBOD: Klusjes", "Categorie: klussen\n")
    Listing.update(created=clock.now).where(Listing.id == offer.id).execute()
    monday = dt.datetime(2026, 11, 30, 6, 30)
    clock.now = monday
    run_scheduled(group.settings, monday, group.processor.composer)
    digest = [m for m in group.outbox("an@example.org") if m.message["List-Id"]][-1]
    assert "Klusjes" in digest.text
    reply_to(group, "an@example.org", digest, "Re: " + digest.subject, "BETAAL 15 aan piet voor klusjes\n")
    assert Transfer.get().listing_id == offer.id


def test_short_number_links_the_listing_and_names_it(group, an, piet):
    offer = post(group, "piet@example.org", "AANBOD: Bijles wiskunde", "Categorie: les\n")
    group.mail("an@example.org", f"BETAAL 10 aan piet voor #{offer.id}")
    transfer = Transfer.get()
    assert transfer.listing_id == offer.id
    assert transfer.description == f"#{offer.id} Bijles wiskunde"


def test_listing_of_a_third_member_is_not_linked(group, an, piet, sam):
    other = post(group, "sam@example.org", "OFFER: Lessons", "Category: les\n")
    group.mail("an@example.org", f"BETAAL 10 aan piet voor #{other.id}")
    assert Transfer.get().listing_id is None


def test_request_of_the_payer_links_too(group, an, piet):
    request = post(group, "an@example.org", "VRAAG: Verhuishulp", "Categorie: klussen\n")
    posted = group.last("an@example.org")
    reply_to(group, "an@example.org", posted, "Re: " + posted.subject, "BETAAL 30 aan piet voor sjouwen\n")
    assert Transfer.get().listing_id == request.id


def test_volume_by_category_counts_booked_trades_and_the_cli_prints_it(group, an, piet, settings):
    garden = post(group, "piet@example.org", "AANBOD: Snoeien", "Categorie: tuin\n")
    for text in (f"BETAAL 12 aan piet voor #{garden.id}", f"BETAAL 3,50 aan piet voor #{garden.id}",
                 "BETAAL 1 aan piet voor koffie", "BETAAL 9 aan piet voor niets"):
        group.mail("an@example.org", text)
        confirm(group, "an@example.org", group.last("an@example.org"), "JA" if "niets" not in text else "NEE")
    assert listing_links.volume_by_category() == [("garden", 2, 1550), ("", 1, 100)]
    assert listing_links.volume_by_category(dt.date(2099, 1, 1)) == []
    result = CliRunner().invoke(main, ["--settings", str(SETTINGS_INI), "trades", "by-category",
                                       "--since", "2026-01-01"], env=_env(settings))
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    # Named in the group's language (nl), or in the one asked for.
    assert lines[0].split() == ["Tuin", "2", "15.50"]
    assert lines[1].split() == ["(none)", "1", "1.00"]
    result = CliRunner().invoke(main, ["--settings", str(SETTINGS_INI), "trades", "by-category", "--language",
                                       "fr", "--json"], env=_env(settings))
    assert json.loads(result.output.splitlines()[0]) == {"category": "garden", "name": "Jardin", "trades": 2,
                                                         "amount_cents": 1550}
