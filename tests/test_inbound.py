"""What the pipeline makes of real-world mail: charsets, HTML, quoted replies, automatic mail."""
import pytest

from db.models import InboundMessage, Listing, Member, OutboundMessage


def test_iso_8859_1_quoted_printable_with_accents(group, claire):
    raw = (b"From: =?iso-8859-1?q?Claire_Dubois?= <claire@example.org>\r\n"
           b"To: lets@lets.example\r\n"
           b"Subject: =?iso-8859-1?q?OFFRE:_Cr=E8me_br=FBl=E9e?=\r\n"
           b"Message-ID: <latin1@example.org>\r\n"
           b"MIME-Version: 1.0\r\n"
           b"Content-Type: text/plain; charset=iso-8859-1\r\n"
           b"Content-Transfer-Encoding: quoted-printable\r\n\r\n"
           b"Cat=E9gorie: cuisine\r\nD=E9licieuse, faite =E0 la maison.\r\n")
    group.receive(raw)
    listing = Listing.get()
    assert (listing.title, listing.category, listing.description) == (
        "Crème brûlée", "cooking", "Délicieuse, faite à la maison.")
    assert group.last("claire@example.org").subject == f"Votre offre est publiée : Crème brûlée [{listing.id}]"


def test_html_only_mail_is_read_as_text(group, sam):
    raw = ("From: sam@example.org\r\nTo: lets@lets.example\r\nSubject: OFFER: Piano lessons\r\n"
           "Message-ID: <html@example.org>\r\nMIME-Version: 1.0\r\n"
           "Content-Type: text/html; charset=utf-8\r\n\r\n"
           "<html><body><p>Category: music</p><p>Beginners <b>welcome</b>.</p></body></html>\r\n")
    group.receive(raw)
    listing = Listing.get()
    assert (listing.title, listing.category, listing.description) == ("Piano lessons", "creative", "Beginners welcome.")


def test_base64_multipart_with_attachment_uses_the_text_and_ignores_the_attachment(group, sam):
    raw = ("From: sam@example.org\r\nTo: lets@lets.example\r\nSubject: OFFER: Photos\r\n"
           "Message-ID: <att@example.org>\r\nMIME-Version: 1.0\r\n"
           'Content-Type: multipart/mixed; boundary="XX"\r\n\r\n'
           "--XX\r\nContent-Type: multipart/alternative; boundary=\"YY\"\r\n\r\n"
           "--YY\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n"
           "Q2F0ZWdvcnk6IGFydAooZGlnaXRhbCk=\r\n"
           "--YY\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<p>ignored html</p>\r\n--YY--\r\n"
           "--XX\r\nContent-Type: text/plain\r\nContent-Disposition: attachment; filename=a.txt\r\n\r\n"
           "Category: wrong\r\n--XX--\r\n")
    group.receive(raw)
    listing = Listing.get()
    assert (listing.category, listing.description) == ("creative", "(digital)")   # "Category: art"


@pytest.mark.parametrize("quote", [
    "Op ma 23 nov. 2026 om 10:00 schreef LETS Demo <lets@lets.example>:\n> SALDO\n",
    "Le lun. 23 nov. 2026 à 10:00, LETS Demo <lets@lets.example> a écrit :\n> SALDO\n",
    "On Mon, 23 Nov 2026 at 10:00, LETS Demo <lets@lets.example> wrote:\n> SALDO\n",
    "-----Original Message-----\nFrom: LETS Demo\nSent: Monday\nSubject: SALDO\n\nSALDO\n",
    "________________________________\nVan: LETS Demo <lets@lets.example>\nVerzonden: maandag\nOnderwerp: SALDO\n",
])
def test_a_reply_is_read_above_the_quoted_history(group, an, quote):
    group.mail("an@example.org", "Re: Je saldo", f"LIJST\n\n{quote}",
               headers={"In-Reply-To": "<earlier@lets.example>"})
    assert group.last("an@example.org").subject.startswith("Aanbod en vragen")


def test_reply_with_only_quoted_commands_gets_help_not_the_quoted_command(group, an):
    group.mail("an@example.org", "Re: hallo", "Dank je!\n\n> SALDO\n",
               headers={"In-Reply-To": "<earlier@lets.example>"})
    assert group.last("an@example.org").subject == "Zo werkt LETS Demo per mail"


@pytest.mark.parametrize("headers, mail_from, kind", [
    ({"Auto-Submitted": "auto-replied"}, None, "autoreply"),
    ({"Auto-Submitted": "auto-generated"}, None, "autoreply"),
    ({"Precedence": "bulk"}, None, "list"),
    ({"Precedence": "junk"}, None, "autoreply"),
    ({"X-Autoreply": "yes"}, None, "autoreply"),
    ({"X-Autorespond": "yes"}, None, "autoreply"),
    ({"X-Auto-Response-Suppress": "All"}, None, "autoreply"),
    ({"List-Id": "<club.example.org>"}, None, "list"),
    ({"X-Loop": "lets@lets.example"}, None, "own"),
    ({}, "", "bounce"),
])
def test_automatic_mail_is_recorded_with_a_reason_and_never_answered(group, an, headers, mail_from, kind):
    inbound = group.mail("an@example.org", "SALDO", "", headers=headers, mail_from=mail_from)
    row = group.inbound(inbound)
    assert (row.state, row.kind) == ("ignored", kind)
    assert row.reason
    assert OutboundMessage.select().count() == 0


@pytest.mark.parametrize("subject", ["Automatic reply: SALDO", "Afwezig: SALDO", "Réponse automatique : SALDO",
                                     "Out of Office: SALDO"])
def test_out_of_office_subjects_are_not_answered(group, an, subject):
    inbound = group.mail("an@example.org", subject)
    assert group.inbound(inbound).kind == "autoreply"
    assert OutboundMessage.select().count() == 0


def test_our_own_address_as_sender_is_never_answered(group):
    inbound = group.mail("lets@lets.example", "HULP")
    assert (group.inbound(inbound).state, group.inbound(inbound).kind) == ("ignored", "own")
    assert OutboundMessage.select().count() == 0


BOUNCE = """From: MAILER-DAEMON@mx.example.net
To: lets@lets.example
Subject: Undelivered Mail Returned to Sender
Message-ID: <bounce-1@mx.example.net>
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="B"

--B
Content-Type: text/plain

This is the mail system. Your message could not be delivered.

--B
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.example.net

Final-Recipient: rfc822; gone@example.com
Original-Recipient: rfc822;gone@example.com
Action: failed
Status: 5.1.1
Diagnostic-Code: smtp; 550 5.1.1 User unknown

--B--
"""


def test_a_bounce_is_recorded_with_the_failed_recipient_and_not_answered(group):
    inbound = group.receive(BOUNCE, mail_from="")
    row = group.inbound(inbound)
    assert (row.state, row.kind) == ("ignored", "bounce")
    assert "gone@example.com" in row.reason
    assert OutboundMessage.select().count() == 0


def test_non_member_gets_one_polite_explanation_a_day_and_no_member_data(group, an, clock):
    group.mail("stranger@example.com", "LIJST")
    group.mail("stranger@example.com", "SALDO")
    sent = group.outbox("stranger@example.com")
    assert len(sent) == 1
    assert sent[0].subject == "LETS Demo: alleen voor leden"
    assert "An de Vries" not in sent[0].text and "an@example.org" not in sent[0].text
    clock.advance(hours=25)
    group.mail("stranger@example.com", "HELP")
    sent = group.outbox("stranger@example.com")
    assert len(sent) == 2
    assert sent[1].subject == "LETS Demo: for members only"   # the language of the command word


def test_non_member_mail_is_processed_but_changes_nothing(group):
    inbound = group.mail("stranger@example.com", "AANBOD: Gratis geld")
    assert group.inbound(inbound).state == "processed"
    assert Listing.select().count() == 0 and Member.select().count() == 0


@pytest.mark.parametrize("status, phrase", [
    ("applicant", "nog bekeken"), ("suspended", "geschorst"), ("left", "geen lid meer")])
def test_inactive_members_are_told_their_status_and_cannot_post(group, status, phrase):
    group.member("Jo", "jo@example.org", status=status)
    group.mail("jo@example.org", "AANBOD: Iets")
    assert Listing.select().count() == 0
    assert phrase in group.last("jo@example.org").text


def test_sender_addresses_are_matched_without_case(group, an):
    group.mail("An <AN@Example.ORG>", "SALDO")
    assert group.last("an@example.org").subject.startswith("Je saldo")


def test_balance_in_three_languages(group, an, sam, claire):
    group.mail("an@example.org", "SALDO")
    group.mail("sam@example.org", "balance")
    group.mail("claire@example.org", "Solde")
    assert group.last("an@example.org").subject == "Je saldo: 0,00 zonnen"
    assert group.last("sam@example.org").subject == "Your balance: 0.00 zonnen"
    assert group.last("claire@example.org").subject == "Votre solde : 0,00 zonnen"


@pytest.mark.parametrize("word, language", [("HULP", "nl"), ("HELP", "en"), ("AIDE", "fr")])
def test_help_is_sent_in_the_members_language_with_an_example_per_command(group, an, word, language):
    group.mail("an@example.org", word)
    text = group.last("an@example.org").text
    for command in ("AANBOD:", "VRAAG:", "INTREKKEN 12", "VERLENG 12", "LIJST", "MIJN", "SALDO", "HULP",
                    "BETAAL 12", "FACTUUR 12", "SCHENK 5", "DIGEST WEKELIJKS", "TAAL", "ALLEEN", "REAGEER 7",
                    "BEZWAAR"):
        assert command in text


def test_a_duplicate_message_id_is_processed_once(group, sam):
    first = group.mail("sam@example.org", "OFFER: Bread", message_id="<same@example.org>")
    second = group.mail("sam@example.org", "OFFER: Bread", message_id="<same@example.org>")
    assert first is not None and second is None
    assert Listing.select().count() == 1
    assert InboundMessage.select().count() == 1
    assert len(group.outbox("sam@example.org")) == 1


def test_header_injection_in_a_title_never_reaches_outgoing_headers(group, sam):
    group.mail("sam@example.org", "OFFER: Bread =?utf-8?q?=0D=0ABcc:_victim@example.com?=")
    reply = group.last("sam@example.org")
    assert reply.message["Bcc"] is None
    assert "victim@example.com" in reply.subject


def test_html_in_member_text_is_escaped_in_the_html_alternative(group, sam):
    group.mail("sam@example.org", "OFFER: <script>alert(1)</script>", "Category: x")
    html = group.last("sam@example.org").html
    assert "<script>" not in html and "&lt;script&gt;" in html
