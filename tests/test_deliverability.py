"""Deliverability: the DKIM key `lets init` makes and the DNS records it prints, signatures
that cover the list headers, headers as the RFCs write them, and SpamAssassin's verdict on
the mail we send most."""
import concurrent.futures
import email
import email.policy
import email.utils
import re
import shutil
import stat
import subprocess
from pathlib import Path

import dkim
import pytest
from click.testing import CliRunner

from db.models import OutboundMessage
from mailer.outbound import dkim as group_dkim
from mailer import settings as settings_module
from mailer.runs.announce import send_unsent
from mailer.cli import main
from mailer.runs.digest import run_scheduled
from mailer.outbound.outbox import deliver_pending

from conftest import SETTINGS_INI
from test_digest import MONDAY_AFTER, post

ADMIN = "beheer@lets.example"
# What RFC 6376 5.4.1 and RFC 8058 section 4 want covered, where the message has it.
MUST_SIGN = {"from", "to", "subject", "date", "message-id", "mime-version", "content-type",
             "list-id", "list-unsubscribe", "list-unsubscribe-post", "list-post", "in-reply-to", "references"}


@pytest.fixture
def runner(tmp_path, monkeypatch):
    monkeypatch.setenv("LETS_SETTINGS", str(SETTINGS_INI))
    monkeypatch.setenv("LETS_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    monkeypatch.setenv("LETS_SECURITY_SECRET_FILE", str(tmp_path / "var" / "secret.key"))
    for name in ("LETS_SECURITY_SECRET", "LETS_DKIM_SELECTOR", "LETS_DKIM_KEY_FILE", "LETS_DKIM_DOMAIN"):
        monkeypatch.delenv(name, raising=False)
    return CliRunner()


def lets(runner, *args, env=None):
    return runner.invoke(main, list(args), env=env, catch_exceptions=False)


def dkim_record(output: str) -> tuple[str, bytes]:
    """(name, TXT value joined from its strings) of the DKIM line in `lets show-dns` output."""
    (line,) = [line for line in output.splitlines() if "._domainkey." in line and not line.startswith(";")]
    strings = re.findall(r'"([^"]*)"', line)
    assert strings and all(len(s) <= 255 for s in strings), "DNS strings hold 255 characters at most"
    return line.split()[0], "".join(strings).encode()


def resolver(output: str):
    name, value = dkim_record(output)

    def dnsfunc(asked, timeout=5):
        return value if asked.decode() == name else None
    return dnsfunc


def test_lets_init_makes_a_dkim_key_once_and_prints_records_that_show_dns_repeats(runner, tmp_path):
    first = lets(runner, "init")
    assert first.exit_code == 0, first.output
    key = tmp_path / "var" / "dkim.pem"
    assert f"generated a DKIM key in {key}" in first.output
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    name, value = dkim_record(first.output)
    assert name == "lets._domainkey.lets.example."
    assert value.startswith(b"v=DKIM1; k=rsa; p=MII") and len(value) > 255, "a 2048-bit key needs two strings"
    assert 'lets.example. IN TXT "v=spf1 mx ~all"' in first.output
    assert '_dmarc.lets.example. IN TXT "v=DMARC1; p=none; rua=mailto:beheer@lets.example"' in first.output
    assert "set [dkim] selector = lets (or LETS_DKIM_SELECTOR)" in first.output
    pem = key.read_bytes()

    again = lets(runner, "init")
    assert again.exit_code == 0 and "DKIM" not in again.output and key.read_bytes() == pem
    shown = lets(runner, "show-dns")
    assert shown.exit_code == 0 and dkim_record(shown.output) == (name, value)
    assert "not signed yet" in shown.output

    # The selector alone turns signing on, with the key init made.
    signing = {"LETS_DKIM_SELECTOR": "lets", "LETS_SECURITY_SECRET_FILE": str(tmp_path / "var" / "secret.key")}
    assert "is signed with this key" in lets(runner, "show-dns", env=signing).output
    # The record as printed verifies what the key signs.
    settings = settings_module.load(SETTINGS_INI, environ=signing)
    raw = b"From: lets@lets.example\r\nTo: an@example.org\r\nSubject: hi\r\n\r\nHello.\r\n"
    assert dkim.verify(group_dkim.Signer(settings).sign(raw), dnsfunc=resolver(shown.output))


def test_show_dns_without_a_key_says_to_run_init_and_a_relay_is_named_in_the_spf_hint(runner, tmp_path):
    missing = lets(runner, "show-dns")
    assert missing.exit_code != 0 and "run `lets init`" in missing.output
    lets(runner, "init")
    relayed = lets(runner, "show-dns", env={"LETS_OUTBOUND_MODE": "smtp", "LETS_OUTBOUND_RELAY_HOST": "smtp.provider.example",
                                            "LETS_GROUP_ADMINS": "coordinator@gmail.example"})
    assert "add the include: your provider documents for smtp.provider.example" in relayed.output
    assert "rua=mailto:coordinator@gmail.example" in relayed.output
    assert "need its domain's consent (RFC 7489 7.1)" in relayed.output


def test_check_compares_what_dns_publishes_with_the_key(runner, tmp_path):
    lets(runner, "init")
    printed = lets(runner, "show-dns").output
    name, value = dkim_record(printed)
    settings = settings_module.load(SETTINGS_INI, environ={"LETS_SECURITY_SECRET_FILE": str(tmp_path / "var" / "secret.key")})
    zone = {name.rstrip("."): [value.decode()], "lets.example": ["v=spf1 mx ~all"],
            "_dmarc.lets.example": ["v=DMARC1; p=none; rua=mailto:beheer@lets.example"]}
    matches, lines = group_dkim.check(settings, lambda asked: zone.get(asked, []))
    assert matches and lines == ["DKIM: lets._domainkey.lets.example carries this key", "SPF: v=spf1 mx ~all",
                                 "DMARC: v=DMARC1; p=none; rua=mailto:beheer@lets.example"]
    # As a DNS web form may keep it: spaces where the strings were joined.
    zone[name.rstrip(".")] = [value.decode()[:100] + " " + value.decode()[100:]]
    assert group_dkim.check(settings, lambda asked: zone.get(asked, []))[0]
    other = tmp_path / "other.pem"
    group_dkim.generate(other)
    zone[name.rstrip(".")] = ["v=DKIM1; k=rsa; p=" + group_dkim.public_key(other)]
    matches, lines = group_dkim.check(settings, lambda asked: zone.get(asked, []))
    assert not matches and "carries another key" in lines[0]
    # Offline: the reserved .example names are never asked about, so nothing is published.
    offline = lets(runner, "show-dns", "--check")
    assert offline.exit_code == 1
    assert offline.output.splitlines() == ["DKIM: nothing at lets._domainkey.lets.example yet (a new record may "
                                           "take a while to show)", "SPF: no record at lets.example",
                                           "DMARC: no record at _dmarc.lets.example"]


def test_a_selector_without_its_key_is_a_clear_error(settings, tmp_path):
    lost = settings_module.replace(settings, dkim={"selector": "lets", "key_file": str(tmp_path / "gone.pem")})
    with pytest.raises(group_dkim.DkimError, match="no key .*gone.pem: run `lets init`"):
        group_dkim.Signer(lost)


def test_init_leaves_a_configured_key_alone(runner, tmp_path):
    own = tmp_path / "own.pem"
    group_dkim.generate(own)
    pem = own.read_bytes()
    done = lets(runner, "init", env={"LETS_DKIM_SELECTOR": "mail2026", "LETS_DKIM_KEY_FILE": str(own)})
    assert done.exit_code == 0 and "DKIM" not in done.output and own.read_bytes() == pem
    assert not (tmp_path / "var" / "dkim.pem").exists()
    shown = lets(runner, "show-dns", env={"LETS_DKIM_SELECTOR": "mail2026", "LETS_DKIM_KEY_FILE": str(own),
                                          "LETS_DKIM_DOMAIN": "mail.lets.example"})
    assert dkim_record(shown.output)[0] == "mail2026._domainkey.mail.lets.example."


@pytest.fixture
def signing(settings, tmp_path):
    """Settings that sign with a key of the test's own, with a public unsubscribe URL
    (List-Unsubscribe-Post) and a group name with an accent."""
    key = tmp_path / "dkim.pem"
    group_dkim.generate(key)
    return settings_module.replace(settings, dkim={"selector": "lets", "key_file": str(key)},
                                   digest={"public_url": "https://lets.example"}, limits={"newcomer_months": 0},
                                   group={"name": "LETS Zoë"})


@pytest.fixture
def sent(signing, db, clock):
    """A week of the group's mail as it went out (the Maildir outbox): a confirmation
    request, two receipts, an announcement and the digest."""
    from conftest import Group

    group = Group(signing, clock)
    for name, address, language in (("An de Vries", "an@example.org", "nl"), ("Piet Jansen", "piet@example.org", "nl"),
                                     ("Sam Taylor", "sam@example.org", "en")):
        group.member(name, address, language=language)
    post(group, "sam@example.org", "OFFER: Mowing lawns", "Category: tuin\nLevel: S\nRate: 10 zon/hour\n")
    group.mail("an@example.org", "BETAAL 12,50 aan piet@example.org voor fietsherstel")
    ask = group.last("an@example.org")
    group.mail("an@example.org", "Re: " + ask.subject, "Ja\n", rcpt=[ask.message["Reply-To"]],
               headers={"In-Reply-To": ask.message["Message-ID"]})
    group.mail(ADMIN, "AAN ALLEN: Ledenvergadering 12 maart", "Iedereen welkom in het buurthuis.\nKoffie staat klaar.")
    token = re.search(r"\[a-([a-z2-7]{24})\]", group.last(ADMIN).subject).group(1)
    group.mail(ADMIN, f"Re: [a-{token}]", "JA", rcpt=[f"lets+a-{token}@lets.example"])
    assert send_unsent(signing, clock.now, group.processor.composer) == 3
    clock.now = MONDAY_AFTER
    assert run_scheduled(signing, MONDAY_AFTER, group.processor.composer) == 3
    # The outbox stamps rows with the real time; deliver once all are due.
    latest = max(row.next_attempt for row in OutboundMessage.select())
    deliver_pending(signing, clock=lambda: max(latest, MONDAY_AFTER))
    mails = {}
    for path in (signing.path(signing.outbound.maildir) / "new").iterdir():
        raw = path.read_bytes()
        message = email.message_from_bytes(raw, policy=email.policy.default)
        mails[(str(message["To"]), str(message["Subject"]))] = raw
    return mails


def pick(mails, to, subject_start):
    (raw,) = [raw for (who, subject), raw in mails.items() if who == to and subject.startswith(subject_start)]
    return raw


def four(mails):
    """A digest, an announcement, a receipt and a confirmation request, as they went out."""
    return {"digest": pick(mails, "an@example.org", "LETS Zoë: je overzicht"),
            "announcement": pick(mails, "sam@example.org", "LETS Zoë: Ledenvergadering"),
            "receipt": pick(mails, "an@example.org", "Bewijs #1"),
            "confirmation request": pick(mails, "an@example.org", "Bevestig: betaal")}


def signed_headers(raw: bytes) -> set[str]:
    message = email.message_from_bytes(raw, policy=email.policy.compat32)
    tags = dict(part.strip().split("=", 1) for part in "".join(message["DKIM-Signature"].split()).split(";") if part)
    return {name.lower() for name in tags["h"].split(":")}


def test_what_goes_out_verifies_with_the_published_key_and_the_signature_covers_the_list_headers(signing, sent):
    published = resolver("\n".join(group_dkim.records(signing)))
    for kind, raw in four(sent).items():
        assert dkim.verify(raw, dnsfunc=published), kind
        present = {name.lower() for name in email.message_from_bytes(raw).keys()}
        assert MUST_SIGN & present <= signed_headers(raw), kind
    digest = four(sent)["digest"]
    assert {"list-id", "list-unsubscribe", "list-unsubscribe-post", "list-post"} <= signed_headers(digest)
    assert {"in-reply-to", "references"} <= signed_headers(four(sent)["receipt"])
    # Another unsubscribe target, or a second one added on top, breaks the signature.
    assert not dkim.verify(digest.replace(b"https://lets.example/u/", b"https://evil.example/u/"), dnsfunc=published)
    assert not dkim.verify(digest.replace(b"\r\nList-Unsubscribe:", b"\r\nList-Unsubscribe: <https://evil.example/>"
                                          b"\r\nList-Unsubscribe:", 1), dnsfunc=published)


# Mail::DKIM, the verifier of SpamAssassin and Amavis, with the key from the record the
# test gives it instead of a DNS query.
MAIL_DKIM = r"""
use strict; use warnings;
use Mail::DKIM::Verifier; use Mail::DKIM::PublicKey;
no warnings 'redefine';
*Mail::DKIM::PublicKey::fetch_async = sub {
    my ($class, %prms) = @_;
    my $key = $class->parse($ENV{DKIM_RECORD});
    $key->{Selector} = $prms{Selector}; $key->{Domain} = $prms{Domain}; $key->check;
    my $success = ($prms{Callbacks} || {})->{Success} || sub { $_[0] };
    return sub { $success->($key) };
};
binmode STDIN;
my $dkim = Mail::DKIM::Verifier->new();
while (<STDIN>) { s/\r?\n\z/\r\n/; $dkim->PRINT($_); }
$dkim->CLOSE;
print $dkim->result_detail, "\n";
"""


def mail_dkim_available() -> bool:
    return shutil.which("perl") is not None and subprocess.run(
        ["perl", "-MMail::DKIM::Verifier", "-e", "1"], capture_output=True).returncode == 0


@pytest.mark.skipif(not mail_dkim_available(), reason="apt-get install libmail-dkim-perl")
def test_mail_dkim_the_verifier_of_spamassassin_and_amavis_agrees(signing, sent):
    (value,) = [line for line in group_dkim.records(signing) if "._domainkey." in line]
    record = "".join(re.findall(r'"([^"]*)"', value))

    def verdict(raw):
        done = subprocess.run(["perl", "-e", MAIL_DKIM], input=raw, capture_output=True, timeout=60,
                              env={"DKIM_RECORD": record, "PATH": "/usr/bin:/bin"})
        return done.stdout.decode().strip() or done.stderr.decode()

    for kind, raw in four(sent).items():
        assert verdict(raw) == "pass", kind
    assert verdict(four(sent)["digest"].replace(b"Subject: ", b"Subject: Re: ", 1)).startswith("fail")


def test_list_id_keeps_its_id_plain_and_bulk_mail_names_where_to_post(sent):
    for kind, raw in four(sent).items():
        head = raw.split(b"\r\n\r\n", 1)[0].decode("ascii")
        message = email.message_from_bytes(raw, policy=email.policy.default)
        # RFC 5322 3.3: -0000 would mean "zone unknown".
        assert re.search(r"^Date: \w{3}, \d{2} \w{3} \d{4} \d{2}:\d{2}:\d{2} \+0000\r$", head, re.M), kind
        assert message["Date"].datetime.utcoffset().total_seconds() == 0
        if kind in ("digest", "announcement"):
            # RFC 2919: the name as a phrase, encoded alone; the id in plain angle brackets.
            assert re.search(r"^List-Id: =\?utf-8\?[bq]\?[^ ]+\?= <lets\.lets\.example>\r$", head, re.M), head
            assert message["List-Id"] == "LETS Zoë <lets.lets.example>"
            assert message["List-Post"] == "<mailto:lets@lets.example>"
        else:
            assert message["List-Id"] is None and message["List-Post"] is None, kind


def test_a_list_name_with_specials_is_quoted(settings):
    from mailer.message.subaddress import list_id

    named = settings_module.replace(settings, group={"name": "LETS St. Jans, Gent"})
    assert list_id(named) == '"LETS St. Jans, Gent" <lets.lets.example>'
    assert list_id(settings) == "LETS Demo <lets.lets.example>"


def spamassassin(raw: bytes, home: Path) -> tuple[float, str]:
    """SpamAssassin's score and rule names for `raw`, local rules only (-L: no DNS, no network)."""
    done = subprocess.run(["spamassassin", "-L"], input=raw, capture_output=True, timeout=120,
                          env={"HOME": str(home), "PATH": "/usr/bin:/bin:/usr/sbin:/sbin"})
    head = done.stdout.split(b"\r\n\r\n", 1)[0].split(b"\n\n", 1)[0].decode("utf-8", "replace")
    status = re.search(r"^X-Spam-Status: .*?score=(-?[\d.]+) .*?tests=(.*?)\s+autolearn", head, re.M | re.S)
    assert status, f"spamassassin judged nothing: {done.stderr.decode()[-500:]}"
    return float(status.group(1)), " ".join(status.group(2).split())


@pytest.mark.skipif(shutil.which("spamassassin") is None, reason="apt-get install spamassassin")
def test_spamassassin_scores_a_digest_an_announcement_a_receipt_and_a_confirmation_request_below_one(
        sent, tmp_path):
    messages = four(sent)
    # The check can fail: the same digest without its Message-ID and Date, and HTML only.
    digest = messages["digest"]
    head, body = digest.split(b"\r\n\r\n", 1)
    bare = b"\r\n".join(line for line in head.split(b"\r\n") if not line.startswith((b"Message-ID:", b"Date:")))
    html = body.split(b"Content-Type: text/html", 1)[1]
    messages["control: no Message-ID, no Date, HTML only"] = (
        re.sub(rb"Content-Type: multipart/alternative;\r\n boundary=\"[^\"]+\"", b"Content-Type: text/html",
               bare) + b"\r\nContent-Type: text/html" + html.rsplit(b"\r\n--", 1)[0])
    home = tmp_path / "home"
    home.mkdir()
    with concurrent.futures.ThreadPoolExecutor(len(messages)) as pool:
        verdicts = dict(zip(messages, pool.map(lambda raw: spamassassin(raw, home), messages.values())))
    control, control_tests = verdicts.pop("control: no Message-ID, no Date, HTML only")
    assert "MISSING_MID" in control_tests and "MIME_HTML_ONLY" in control_tests, control_tests
    for kind, (score, tests) in verdicts.items():
        assert score < 1, f"{kind}: {score} ({tests})"
        assert score < control, kind
