"""Members write as people write: the cases that broke on ordinary mail, through the pipeline."""
import datetime as dt

import pytest

from db.models import InboundMessage, Listing, OutboundMessage, Transfer
from handlers.answers import answer
from handlers.dates import parse_date
from mailer.message.parse import parse
from mailer.pipeline import describe, understand
from mailer.message.quotes import strip_quotes


def _ask(group, sender: str, line: str):
    group.mail(sender, line)
    return group.last(sender)


def _answer(group, sender: str, ask, body: str, subject: str | None = None):
    return group.mail(sender, subject or "Re: " + ask.subject, body, rcpt=[ask.message["Reply-To"]],
                      headers={"In-Reply-To": ask.message["Message-ID"]})


@pytest.mark.parametrize("text, said", [
    ("Ja, graag!", "yes"), ("ja hoor\n\nAn", "yes"), ("Oui merci", "yes"), ("oui, d'accord.", "yes"),
    ("Yes please", "yes"), ("No thanks", "no"), ("Nee, toch niet", "no"), ("Non merci", "no"),
    ("No problem, go ahead", "yes"), ("misschien later", None), ("ja of nee, weet ik niet", None),
    ("Yes... no wait, no", None), ("Ja, maar alleen 4", None), ("Wat is dit? Ik ken geen Piet", None),
])
def test_consent_reads_the_usual_politeness_around_yes_and_no(text, said):
    assert answer(text) == said


def test_oui_d_accord_between_bonjour_and_a_signature_books(group, claire, piet):
    ask = _ask(group, "claire@example.org", "PAYER 4 zonnen à Piet pour la soupe")
    _answer(group, "claire@example.org", ask,
            "Bonjour,\n\noui, d\u2019accord.\n\nClaire\n-- \nClaire Dubois\nRue des Lilas 4\n")
    assert Transfer.get().state == "booked" and Transfer.get().amount_cents == 400


def test_ja_typed_below_the_quote_in_thunderbird_books(group, an, piet):
    ask = _ask(group, "an@example.org", "BETAAL 2,50 aan Piet voor soep")
    quote = "\n".join("> " + line for line in ask.text.splitlines())
    _answer(group, "an@example.org", ask, f"Op 02-12-2026 om 10:00 schreef LETS Demo:\n{quote}\n\nJA\n\nAn\n")
    assert Transfer.get().state == "booked" and Transfer.get().amount_cents == 250


def test_an_answer_typed_between_quoted_lines_is_read(group, an, piet):
    ask = _ask(group, "an@example.org", "BETAAL 2 zon aan Piet voor appels")
    lines = ask.text.splitlines()
    body = "\n".join(["> " + lines[0], "", "Ja hoor, klopt.", ""] + ["> " + line for line in lines[1:]])
    _answer(group, "an@example.org", ask, body)
    assert Transfer.get().state == "booked"


def test_an_unclear_answer_is_asked_again_each_time_in_other_words(group, an, piet):
    ask = _ask(group, "an@example.org", "BETAAL 2 aan Piet voor soep")
    for words in ("misschien later", "weet ik nog niet, moet even nadenken", "Ja of nee, geen idee"):
        _answer(group, "an@example.org", ask, words)
    subjects = [m.subject for m in group.outbox("an@example.org")]
    assert len(subjects) == 4 and all(s.startswith("JA of NEE?") for s in subjects[1:])
    assert Transfer.get().state == "pending"
    # The same words a third time within the day: an auto-responder, not a person.
    _answer(group, "an@example.org", ask, "misschien later")
    assert len(group.outbox("an@example.org")) == 4


@pytest.mark.parametrize("subject", ["AUTO: Ik ben er niet", "Automatisch antwoord: Bevestig", "Afwezig: x",
                                     "Out of Office: back Monday", "Réponse automatique : absent", "Absence : x"])
def test_the_well_known_auto_reply_subjects_stay_unanswered(group, an, subject):
    inbound = group.mail("an@example.org", subject, "Ik ben tot maandag afwezig.")
    assert group.inbound(inbound).state == "ignored" and not group.outbox("an@example.org")


def test_an_auto_responder_answering_our_listing_posts_nothing(group, an):
    group.mail("an@example.org", "AANBOD: Soep koken")
    ours = group.last("an@example.org")
    # No automatic header, and the subject is ours: "Re: Je aanbod staat erop: …".
    group.mail("an@example.org", "Re: Aanbod: fietsen", "Ik ben er niet tot 5 januari.",
               headers={"In-Reply-To": ours.message["Message-ID"]})
    assert Listing.select().count() == 1


@pytest.mark.parametrize("subject, body, kind", [
    ("Mijn saldo?", "", "balance"), ("saldo graag", "", "balance"), ("Wat is mijn saldo", "", "balance"),
    ("", "Wat is mijn saldo?\n\nGroetjes, An", "balance"), ("help me please", "", "help"), ("aide svp", "", "help"),
    ("Quel est mon solde\u00a0?", "", "balance"), ("What's my balance?", "", "balance"),
    ("Mijn fiets is kapot", "", "unknown"),
])
def test_a_short_sentence_with_one_command_word(group, an, subject, body, kind):
    raw = f"From: an@example.org\r\nSubject: {subject}\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{body}"
    assert describe(understand(raw.encode(), group.settings))["kind"] == kind


@pytest.mark.parametrize("line, amount", [
    ("BETAAL 2 zon aan Piet", "2.00"), ("BETAAL 4 zonnen aan Piet", "4.00"), ("BETAAL €3 aan Piet", "3.00"),
    ("BETAAL EUR 3 aan Piet", "3.00"), ("BETAAL 2,50 aan Piet", "2.50"), ("BETAAL 2.50 aan Piet", "2.50"),
    ("PAY 3 zon to Piet", "3.00"), ("PAYER 4 zonnen à Piet", "4.00"),
])
def test_amounts_with_the_unit_or_a_currency_sign(group, an, piet, line, amount):
    raw = f"From: an@example.org\r\nSubject: {line} voor soep\r\n\r\n".encode()
    record = describe(understand(raw, group.settings))
    assert (record["amount"], record["counterparty"], record["description"]) == (amount, "piet@example.org", "soep")
    group.receive(raw)
    assert Transfer.get().amount_cents == int(amount.replace(".", ""))


def test_a_payment_written_with_a_euro_sign_waits_for_the_payers_ja_even_when_authenticated(group, an, piet, settings):
    from mailer import settings as settings_module
    group.settings = settings_module.replace(settings, trades={"trusted_authserv_id": "mx.lets.example"})
    group.processor.settings = group.settings
    group.mail("an@example.org", "BETAAL €3 aan Piet voor soep",
               headers={"Authentication-Results": "mx.lets.example; dkim=pass header.d=example.org; "
                                                  "dmarc=pass header.from=example.org"})
    assert Transfer.get().state == "pending"


@pytest.mark.parametrize("text", ["1 maart 2027", "1 March 2027", "March 1st", "1er mars 2027", "01/03/2027",
                                  "zondag 1 maart 2027", "1 mrt. 2027"])
def test_dates_in_words(text):
    assert parse_date(text, dt.date(2026, 11, 23)) == dt.date(2027, 3, 1)


def test_an_offer_valid_until_a_date_in_french_words_with_typographic_characters(group, claire, clock):
    group.mail("claire@example.org", "OFFRE\u00a0: Cours de piano",
               "Cat\u00e9gorie\u202f: cours\nValable jusqu\u2019au\u00a0: 1er mars 2027\n\nJe donne des cours.")
    listing = Listing.get()
    assert listing.title == "Cours de piano" and listing.expires == dt.date(2027, 3, 1)


def test_typography_is_normalised_once_at_the_edge():
    inbound = parse("From: a@example.org\r\nSubject: OFFRE\u00a0: caf\u00e9\r\nContent-Type: text/plain; "
                    "charset=utf-8\r\n\r\n\u201cjusqu\u2019au\u201d \u2013 fin\u200b".encode())
    assert inbound.subject == "OFFRE : café" and inbound.text == "\"jusqu'au\" - fin"


def test_a_thunderbird_reply_below_the_quote_keeps_only_the_members_words():
    text = ("Op 02-12-2026 om 10:00 schreef LETS Demo:\n> Je vroeg om 5,00 zonnen\n>\n>   JA\n\n"
            "JA\n\nGroeten,\nAn\n")
    assert strip_quotes(text) == "JA"


def test_outlook_top_posting_with_oorspronkelijk_bericht():
    text = ("Ja graag\n\nMet vriendelijke groet,\nPiet Jansen\n\n-----Oorspronkelijk bericht-----\n"
            "Van: LETS Demo <lets@lets.example>\nVerzonden: woensdag 2 december 2026 10:00\n"
            "Aan: piet@example.org\nOnderwerp: Bevestig\n\nJe vroeg om 5,00 zonnen\n\n  JA\n")
    assert strip_quotes(text) == "Ja graag"


def test_a_subject_with_a_vertical_tab_is_answered(group, an):
    inbound = group.mail("an@example.org", "SALDO\x0bnu", "")
    assert group.inbound(inbound).state == "processed"
    assert group.last("an@example.org").subject


def test_a_multipart_two_thousand_levels_deep_is_answered_not_failed(group, an):
    raw = (b"From: an@example.org\r\nTo: lets@lets.example\r\nSubject: SALDO\r\nMessage-ID: <deep@example.org>\r\n"
           b"MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b0\r\n\r\n")
    for level in range(1, 2001):
        raw += f"--b{level - 1}\r\nContent-Type: multipart/mixed; boundary=b{level}\r\n\r\n".encode()
    row = group.inbound(group.receive(raw, mail_from="an@example.org"))
    assert row.state == "processed" and row.kind == "balance"
    assert group.last("an@example.org")


def test_a_payment_like_mail_without_a_command_gets_help(group, an):
    group.mail("an@example.org", "soep", "Hoi, ik wil Piet betalen voor de soep van gisteren.\n\nAn")
    assert InboundMessage.get().kind == "unknown"
    assert group.last("an@example.org").subject


def test_forged_mail_that_floods_the_limit_does_not_silence_the_members_real_ja(group, an, piet, settings, clock):
    from mailer import settings as settings_module
    group.processor.settings = settings_module.replace(settings, inbound={"max_per_hour": 5})
    ask = _ask(group, "an@example.org", "BETAAL 3 aan Piet voor soep")
    for _ in range(8):   # anyone can write From: an@example.org
        group.mail("an@example.org", "HULP")
        clock.advance(seconds=5)
    _answer(group, "an@example.org", ask, "Ja, graag!")
    assert Transfer.get().state == "booked"


@pytest.mark.parametrize("sender, subject, body, question, example", [
    ("an@example.org", "soep", "Hoi, ik wil Piet betalen voor de soep van gisteren.\n\nAn",
     "Wilde je iemand betalen?", "BETAAL 12 aan piet@example.org voor fietsherstel"),
    ("sam@example.org", "", "Hi, I can repair bikes if anyone needs that. Sam",
     "Did you want to offer something?", "OFFER: Bicycle repair"),
    ("claire@example.org", "Question", "Je cherche quelqu'un pour garder mon chat.",
     "Vous cherchez quelque chose ?", "DEMANDE:"),
])
def test_mail_not_understood_gets_help_with_the_example_that_fits_first(group, an, sam, claire, sender, subject,
                                                                           body, question, example):
    group.mail(sender, subject, body)
    help_mail = group.last(sender)
    text = help_mail.text
    assert question in text and example in text
    assert text.index(question) < text.index(example) < text.index(example, text.index(example) + 1)
    assert question in help_mail.html


def test_a_huge_html_mail_does_not_hold_up_a_members_saldo(group, an, sam):
    from mailer.pipeline import store
    html = "<html><body>" + "<div><p>Nieuws <b>van</b> de buurt</p></div>\n" * 200_000 + "</body></html>"
    big = store(("From: sam@example.org\r\nTo: lets@lets.example\r\nSubject: nieuwsbrief\r\nMessage-ID: <big@x>\r\n"
                 "Content-Type: text/html; charset=utf-8\r\n\r\n" + html).encode(), "sam@example.org",
                ["lets@lets.example"])
    small = store(b"From: an@example.org\r\nTo: lets@lets.example\r\nSubject: SALDO\r\nMessage-ID: <small@x>\r\n\r\n",
                  "an@example.org", ["lets@lets.example"])
    assert group.processor.process_pending() == 2
    first = OutboundMessage.select().order_by(OutboundMessage.id).first()
    assert first.inbound_id == small and first.recipient == "an@example.org"
    assert group.inbound(big).state == "processed"


def test_a_payment_to_a_leaving_member_does_not_tell_the_payer_her_status(group, an, piet, clock):
    from db.models import Member
    Member.update(status="suspended").where(Member.id == piet.id).execute()
    group.mail("an@example.org", "BETAAL 3 aan piet@example.org voor soep")
    refusal = group.last("an@example.org")
    assert "Piet Jansen" in refusal.text and "niets geboekt" in refusal.text
    for word in ("geschorst", "suspended", "vertrekt", "leaving", "status"):
        assert word not in refusal.text.lower() and word not in refusal.subject.lower()


def test_mail_forged_from_another_envelope_does_not_throttle_the_member(group, an, settings, clock):
    from mailer import settings as settings_module
    group.processor.settings = settings_module.replace(settings, inbound={"max_per_hour": 5})
    for _ in range(8):   # From: an@example.org, sent by someone else
        group.mail("an@example.org", "HULP", mail_from="mallory@evil.example")
        clock.advance(seconds=5)
    group.mail("an@example.org", "SALDO")
    assert group.last("an@example.org").subject.startswith("Je saldo")
