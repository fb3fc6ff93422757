"""Bulk MIME built in bytes reads, for a mail program, exactly as Composer.compose's."""
import email
import email.policy

import pytest

from mailer.message import bulkmime
from mailer.message.compose import TEMPLATES, Composer
from mailer.message.subaddress import bulk_envelope


def parse(raw):
    return email.message_from_bytes(raw, policy=email.policy.default)


def composer_with_echo(settings, folder, html):
    """A composer whose only template puts `text` in a message, to compare the two builders."""
    (folder / "test").mkdir(parents=True)
    if html:
        (folder / "test" / "echo.html").write_text("<pre>{{ text }}</pre>\n", encoding="utf-8")
    (folder / "test" / "echo.txt").write_text("Subject: Résumé {{ group }}\n\n{{ text }}\n", encoding="utf-8")
    (folder / "layout.html").write_text((TEMPLATES / "layout.html").read_text(encoding="utf-8"), encoding="utf-8")
    return Composer(settings, templates=folder)


@pytest.mark.parametrize("html", [True, False])
def test_bulk_messages_match_the_composers_and_shared_sections_encode_as_inside(group, an, tmp_path, html):
    fragments = bulkmime.Fragments()
    section = "NIEUW AANBOD\n\n  [7] Fietsherstel · niveau S · " + "lange regel " * 20 + "\n  éèà ü  \n"
    context = {"text": f"Kop\n{fragments.add(section)}Slot met spatie aan het eind  "}
    plain = {"text": f"Kop\n{section}Slot met spatie aan het eind  "}
    composer = composer_with_echo(group.settings, tmp_path / "templates", html)
    headers, mail_from = bulk_envelope(group.settings, an.addresses[0].id)
    ours = bulkmime.compose(composer, "test/echo", "nl", context, to="an@example.org", kind="digest",
                            headers=headers, mail_from=mail_from, fragments=fragments)
    theirs = composer.compose("test/echo", "nl", plain, to="an@example.org", kind="digest",
                              headers=headers, mail_from=mail_from)
    a, b = parse(ours.raw), parse(theirs.raw)
    for name in ("From", "To", "Subject", "List-Id", "List-Unsubscribe", "Precedence", "Auto-Submitted",
                 "X-Loop", "Content-Language", "MIME-Version"):
        assert str(a[name]).strip() == str(b[name]).strip(), name
    # Line ends compared as a mail program reads them: on the wire both are CRLF.
    for kind in ("plain", "html"):
        assert (a.get_body((kind,)).get_content().replace("\r\n", "\n")
                == b.get_body((kind,)).get_content().replace("\r\n", "\n"))
    assert ours.raw.count(b"\n") == ours.raw.count(b"\r\n"), "bulk mail is built with CRLF line ends"
    head, _, bodies = ours.raw.partition(b"\r\n\r\n")
    assert max(len(line) for line in head.split(b"\r\n")) <= 998
    assert max(len(line) for line in bodies.split(b"\r\n")) <= 78   # quoted-printable: 76 and "="


def test_long_and_non_ascii_headers_are_folded_and_encoded(group):
    folded = bulkmime.header("List-Unsubscribe", "<mailto:" + "x" * 30 + "@a.example>, <https://a.example/u/" + "y" * 40 + ">")
    assert all(len(line) <= 78 for line in folded.split("\r\n")) and folded.count("\r\n ") == 1
    assert parse(folded.encode() + b"\r\n")["List-Unsubscribe"].startswith("<mailto:")
    encoded = bulkmime.header("Subject", "Résumé de la semaine\r\nBcc: evil@example.net")
    assert encoded.startswith("Subject: =?utf-8?") and "\r\nBcc" not in encoded
    assert str(parse(encoded.encode() + b"\r\n")["Subject"]) == "Résumé de la semaine Bcc: evil@example.net"
