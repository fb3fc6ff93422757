"""The reply splitter's header search, tried only at line starts (quotes._LineStarts),
finds exactly what the library's own `findall` finds, on mails made of the header lines
mail programs write in Dutch, English, French and German, quoted and not."""
import random

from mailer.message.quotes import LANGUAGES, _LineStarts, _Replies, strip_quotes

LINES = ["Op ma 23 nov. 2026 om 10:00 schreef An <an@example.org>:", "Op 23-11-2026 om 10:00 schreef An:",
         "On Mon, Nov 23, 2026 at 10:00 AM Sam <sam@example.org> wrote:", "On x wrote:",
         "Le lun. 23 nov. 2026 à 10:00, Claire <claire@example.org> a écrit :", "Am Montag schrieb An:",
         "From: An <an@example.org>", "*From:* An", "Sent: Monday", "To: lets", "Subject: x", "Date: today", "Cc: b",
         "Van: An", "Verzonden: maandag", "Aan: lets", "Onderwerp: AANBOD", "Datum: 23 november",
         "De : Claire", "Envoyé : lundi", "À : lets", "Objet : x", "-----Original Message-----",
         "----- Original Message -----", "> quoted", "> > From: x", ">", "> ", "JA", "Op", "", " ", "  "]


def library_pattern():
    return super(_Replies, _Replies(text="x", languages=list(LANGUAGES), keep_hyphen_lists=True)).HEADER_REGEX


def test_the_line_start_search_finds_what_findall_finds():
    pattern = library_pattern()
    scan = _LineStarts(pattern)
    rng = random.Random(20261124)
    found_any = 0
    for _ in range(3000):
        separator = rng.choice(["\n", "\r\n", "\n\n", "\n> "])
        text = separator.join(rng.choice(LINES) for _ in range(rng.randint(0, 12))) + rng.choice(["", "\n"])
        expected = pattern.findall(text)
        assert scan.findall(text) == expected, repr(text)
        found_any += bool(expected)
    assert found_any > 1000  # the texts do contain headers, of every kind


def test_a_reply_is_cut_at_its_quote_header():
    reply = "JA\n\nOn Mon, Nov 23, 2026 at 10:00 AM LETS <lets@lets.example> wrote:\n> Answer YES to pay.\n"
    assert strip_quotes(reply) == "JA"
    outlook = "Prima, tot dan.\n\nVan: LETS <lets@lets.example>\nVerzonden: maandag\nAan: An\nOnderwerp: x\n\nTekst\n"
    assert strip_quotes(outlook) == "Prima, tot dan."
