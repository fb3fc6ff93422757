"""Article 17.1: every member publishes at least one offer. `lets member no-offer` lists who
does not, and the offer reminder says it is the group's rule, in the member's language."""
import datetime as dt
import json

from mailer import settings as settings_module
from mailer.runs.membership import remind_offers
from tests.test_euro import lets

LONG_AGO = dt.date(2024, 1, 1)


def test_no_offer_lists_active_members_without_a_current_offer(group, settings, clock):
    an = group.member("An de Vries", "an@example.org", joined=LONG_AGO)
    group.member("Piet Jansen", "piet@example.org", joined=LONG_AGO)
    bo = group.member("Bo Peeters", "bo@example.org", joined=LONG_AGO)
    group.member("Ada Aanvrager", "ada@example.org", status="applicant")
    group.member("Xander Weg", "xander@example.org", status="expelled", joined=LONG_AGO)
    group.mail("piet@example.org", "AANBOD: Fietsherstel", "Categorie: vervoer")
    group.mail("bo@example.org", "AANBOD: Appeltaart", "Categorie: eten\nGeldig tot: 2026-12-10")
    # Today (23 November 2026) Bo's offer still runs; on 20 December it has run out.
    today = lets(settings, "member", "no-offer", "--date", "2026-11-23", "--json")
    assert today.exit_code == 0, today.output
    assert [json.loads(line)["number"] for line in today.output.splitlines()] == [an.number]
    later = lets(settings, "member", "no-offer", "--date", "2026-12-20", "--json")
    listed = [json.loads(line) for line in later.output.splitlines()]
    assert listed == [
        {"number": an.number, "name": "An de Vries", "address": "an@example.org", "language": "nl",
         "joined": "2024-01-01", "last_offer": None},
        {"number": bo.number, "name": "Bo Peeters", "address": "bo@example.org", "language": "nl",
         "joined": "2024-01-01", "last_offer": "2026-12-10"}]
    text = lets(settings, "member", "no-offer", "--date", "2026-12-20")
    assert f"{bo.number:>5}  Bo Peeters" in text.output and "last offer 2026-12-10" in text.output
    assert "last offer never" in text.output and "Piet" not in text.output and "Ada" not in text.output
    assert "2 active members without a current offer on 2026-12-20" in text.output


def test_the_offer_reminder_says_it_is_the_rule_of_the_group_in_each_language(group, settings, clock):
    settings = settings_module.replace(settings, membership={"offer_reminder_days": 30})
    group.member("An de Vries", "an@example.org", joined=LONG_AGO)
    group.member("Sam Taylor", "sam@example.org", language="en", joined=LONG_AGO)
    group.member("Claire Dubois", "claire@example.org", language="fr", joined=LONG_AGO)
    assert remind_offers(settings, clock.now) == 3
    dutch, english, french = (group.last(address) for address in
                              ("an@example.org", "sam@example.org", "claire@example.org"))
    assert dutch.subject == "Wat kun jij aanbieden in LETS Demo?"
    assert "een regel van\nLETS Demo (artikel 17.1 van het reglement) dat ieder lid minstens één aanbod\npubliceert" \
        in dutch.text and "AANBOD: Soep koken" in dutch.text
    assert english.subject == "What could you offer in LETS Demo?"
    assert "it is a rule of LETS Demo\n(article 17.1 of the regulations) that every member publishes at least one offer." \
        in english.text and "OFFER: Cooking soup" in english.text
    assert french.subject == "Que pourriez-vous proposer à LETS Demo ?"
    assert "c'est une règle de LETS Demo (article 17.1 du règlement) que chaque membre publie\nau moins une offre." \
        in french.text and "OFFRE: Soupe maison" in french.text
    assert "Auto-Submitted" in dutch.message and dutch.message.get_content_type() == "multipart/alternative"
