"""Broken and hostile input: every mail gets a clear answer or a recorded silence, never a traceback."""
import json

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings as hsettings, strategies as st

from db.models import InboundMessage, Listing, OutboundMessage
from mailer.cli import main
from mailer.message.parse import parse
from mailer.pipeline import describe, understand


def nested(depth: int) -> bytes:
    head = b"From: an@example.org\r\nSubject: SALDO\r\nMIME-Version: 1.0\r\n"
    parts = b""
    for level in range(depth):
        parts += f'Content-Type: multipart/mixed; boundary="b{level}"\r\n\r\n--b{level}\r\n'.encode()
    parts += b"Content-Type: text/plain\r\n\r\nhidden deep down\r\n"
    for level in reversed(range(depth)):
        parts += f"--b{level}--\r\n".encode()
    return head + parts


HOSTILE = {
    "empty": b"",
    "no headers": b"just some text\r\n",
    "nul bytes": b"From: an@example.org\r\nSubject: SAL\x00DO\r\n\r\nbody\x00with\x00nuls\r\n",
    "invalid utf-8": b"From: an@example.org\r\nSubject: AANBOD: Caf\xc3\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n\xff\xfe\xc3\r\n",
    "unknown charset": b"From: an@example.org\r\nSubject: =?x-klingon?q?AANBOD:_Qapla?=\r\nContent-Type: text/plain; charset=x-klingon\r\n\r\nCategorie: tuin\r\n",
    "wrong charset": b"From: an@example.org\r\nSubject: AANBOD: Cr\xe8me\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nCat\xe9gorie: eten\r\n",
    "broken base64": b"From: an@example.org\r\nSubject: HULP\r\nContent-Type: text/plain\r\nContent-Transfer-Encoding: base64\r\n\r\n!!!not base64***\r\n",
    "missing boundary": b"From: an@example.org\r\nSubject: HULP\r\nContent-Type: multipart/mixed\r\n\r\n--x\r\nhello\r\n",
    "deep nesting": nested(200),
    "malformed from": b"From: <<<@@@>>>\r\nSubject: HULP\r\n\r\n",
    "header without colon": b"From an@example.org\r\nThis is not a header\r\n\r\nHULP\r\n",
    "long single line": b"From: an@example.org\r\nSubject: AANBOD: Lang\r\n\r\n" + b"x" * 10_000_000 + b"\r\n",
    "huge attachment": (b"From: an@example.org\r\nSubject: AANBOD: Foto\r\nMIME-Version: 1.0\r\n"
                        b'Content-Type: multipart/mixed; boundary="Z"\r\n\r\n--Z\r\nContent-Type: text/plain\r\n\r\n'
                        b"Categorie: kunst\r\n--Z\r\nContent-Type: application/octet-stream\r\n"
                        b"Content-Transfer-Encoding: base64\r\n\r\n" + b"QUFB\r\n" * 500_000 + b"--Z--\r\n"),
}


@pytest.mark.parametrize("name", HOSTILE)
def test_hostile_mail_is_processed_or_ignored_with_a_reason_never_failed(group, an, name):
    inbound = group.receive(HOSTILE[name], mail_from="an@example.org")
    row = InboundMessage.get_by_id(inbound)
    assert row.state in ("processed", "ignored"), row.reason
    if row.state == "ignored":
        assert row.reason
        assert OutboundMessage.select().count() == 0
    for sent in group.outbox():
        assert sent.message["Subject"]  # a real, readable reply


def test_deep_nesting_is_not_walked_past_the_limit():
    assert "hidden deep down" not in parse(nested(200)).text
    assert "hidden deep down" in parse(nested(3)).text


def test_huge_attachment_is_ignored_and_the_offer_listed(group, an):
    group.receive(HOSTILE["huge attachment"], mail_from="an@example.org")
    assert Listing.get().category == "creative"   # "Categorie: kunst"


@hsettings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(raw=st.binary(max_size=3000))
def test_fuzz_any_bytes_parse_and_describe_without_raising(settings, raw):
    record = describe(understand(raw, settings, lookup=lambda address: None))
    json.dumps(record)
    assert record["kind"]


HEADER_NAMES = st.sampled_from(["From", "To", "Subject", "Content-Type", "Content-Transfer-Encoding",
                                "Message-ID", "In-Reply-To", "References", "Auto-Submitted", "Return-Path",
                                "MIME-Version", "Content-Disposition"])


@hsettings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(headers=st.lists(st.tuples(HEADER_NAMES, st.text(max_size=80)), max_size=10),
       body=st.text(max_size=500))
def test_fuzz_mail_shaped_input_never_raises(settings, headers, body):
    raw = "".join(f"{name}: {value}\r\n" for name, value in headers) + "\r\n" + body
    record = describe(understand(raw.encode("utf-8", "surrogatepass"), settings, lookup=lambda address: None))
    assert isinstance(record["text"], str)


@hsettings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(raw=st.binary(max_size=2000))
def test_fuzz_check_mail_prints_one_json_line_for_any_file(tmp_path, monkeypatch, raw):
    monkeypatch.setenv("LETS_DATABASE_URL", f"sqlite:///{tmp_path / 'fuzz.db'}")
    monkeypatch.setenv("LETS_SECURITY_SECRET", "fuzz")
    path = tmp_path / "fuzz.eml"
    path.write_bytes(raw)
    result = CliRunner().invoke(main, ["check-mail", str(path)], catch_exceptions=False)
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert len(lines) == 1 and "kind" in json.loads(lines[0])


def test_a_flooding_address_is_told_once_then_ignored_without_slowing_others(group, an, sam, settings, clock):
    from mailer import settings as settings_module
    group.processor.settings = settings_module.replace(settings, inbound={"max_per_hour": 3})
    for i in range(6):
        group.mail("an@example.org", "SALDO")
        clock.advance(seconds=10)
    group.mail("sam@example.org", "BALANCE")
    replies = [s.subject for s in group.outbox("an@example.org")]
    assert len(replies) == 4 and replies[-1] == "Even pauze: te veel mails"
    assert InboundMessage.select().where(InboundMessage.kind == "flood").count() == 3
    assert group.last("sam@example.org").subject.startswith("Your balance")
    clock.advance(hours=1)
    group.mail("an@example.org", "SALDO")
    assert group.last("an@example.org").subject.startswith("Je saldo")
