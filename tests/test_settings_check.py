"""Settings are checked at start: unknown names and values not allowed stop `lets serve`,
`lets poll` and `lets check-config`, each problem named with its value and what is allowed."""
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from mailer import settings as settings_module

from conftest import SETTINGS_INI, free_port

ROOT = Path(__file__).resolve().parent.parent


def lets(*args, env: dict, settings_file=SETTINGS_INI) -> subprocess.CompletedProcess:
    """The real `lets` in its own process, with only the LETS_ variables given."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith("LETS_")}
    environ.update(env, LETS_SETTINGS=str(settings_file))
    # A command that wrongly starts (serve, poll) fails the test by its timeout instead of hanging it.
    return subprocess.run([sys.executable, "-m", "mailer.cli", *args], env=environ, cwd=ROOT,
                          capture_output=True, text=True, timeout=60)


@pytest.fixture
def env(settings, db):
    """The tests' own settings, as LETS_ variables over the repository's settings.ini (and
    its database created, which a PostgreSQL schema's clean-up expects)."""
    return {"LETS_DATABASE_URL": settings.database_url, "LETS_SECURITY_SECRET": settings.security.secret,
            "LETS_OUTBOUND_MAILDIR": str(settings.path(settings.outbound.maildir)),
            "LETS_INBOUND_PORT": str(free_port()), "LETS_TRADES_VERIFY_SENDERS": "false"}


def test_the_repository_settings_and_the_tests_own_have_no_problem(env):
    _, problems, _ = settings_module.examine(SETTINGS_INI, environ={})
    assert problems == []
    _, problems, _ = settings_module.examine(SETTINGS_INI, environ=env, files=True)
    assert problems == []


@pytest.mark.parametrize("command", ["serve", "poll", "check-config"])
def test_a_misspelt_outbound_mode_stops_serve_poll_and_check_config_naming_the_allowed_modes(env, command):
    result = lets(command, env={**env, "LETS_OUTBOUND_MODE": "smpt",
                                "LETS_IMAP_HOST": "127.0.0.1", "LETS_IMAP_USER": "lets"})
    assert result.returncode == 1, result.stdout + result.stderr
    assert "LETS_OUTBOUND_MODE: 'smpt' is not one of maildir, smtp (did you mean 'smtp'?)" in result.stderr
    assert "Traceback" not in result.stderr


def test_unknown_sections_and_keys_are_named_with_a_suggestion(env, tmp_path):
    ini = tmp_path / "settings.ini"
    ini.write_text("[group]\nname = LETS Test\n\n[outbond]\nmode = smtp\n\n[digest]\nverify_tsl = false\n\n"
                   "[dkim]\nssl = true\nfavourite_colour = green\n")
    result = lets("check-config", env=env, settings_file=ini)
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        f"4 problems in the settings: {ini}",
        "  [outbond]: no such section (did you mean 'outbound'?)",
        "  [digest] verify_tsl: no such key",
        "  [dkim] ssl: no such key (it belongs under [imap])",
        "  [dkim] favourite_colour: no such key",
    ]


def test_a_misspelt_key_is_matched_first_with_the_keys_the_section_does_not_set(tmp_path):
    ini = tmp_path / "settings.ini"
    ini.write_text("[group]\nname = LETS Test\nunit = zon\nunitz = zonnen\n")
    with pytest.raises(settings_module.SettingsError) as caught:
        settings_module.load(ini, environ={})
    assert caught.value.problems == ["[group] unitz: no such key (did you mean 'units'?)"]


def test_keys_under_default_are_refused_rather_than_given_to_every_section(tmp_path):
    ini = tmp_path / "settings.ini"
    ini.write_text("[DEFAULT]\nport = 2525\n\n[inbound]\nhost = 127.0.0.1\n")
    with pytest.raises(settings_module.SettingsError) as caught:
        settings_module.load(ini, environ={})
    assert caught.value.problems == [
        "[DEFAULT]: lets-mail reads no defaults section; move port into the sections they belong to"]


def test_a_section_or_key_written_twice_is_named_with_its_line(tmp_path):
    ini = tmp_path / "settings.ini"
    ini.write_text("[group]\nname = LETS Test\n\n[outbound]\nmode = smtp\nmode = maildir\n")
    with pytest.raises(settings_module.SettingsError, match=r"settings.ini line 6: \[outbound\] mode is set twice"):
        settings_module.load(ini, environ={})


def test_a_line_configparser_cannot_read_is_named_with_its_line_and_how_to_write_it(tmp_path):
    # Before: "File contains no section headers. file: PosixPath('settings.ini'), line: 2".
    ini = tmp_path / "settings.ini"
    ini.write_text("# the group\n[group\nname = LETS Test\n")
    with pytest.raises(settings_module.SettingsError) as caught:
        settings_module.load(ini, environ={})
    assert caught.value.problems == [
        f"{ini} line 2: '[group' comes before any section: a section is written in brackets, "
        "e.g. [group], and every key goes under one"]
    ini.write_text("[group]\nname = LETS Test\nunit zon\n\n[outbound\nmode = smtp\n")
    with pytest.raises(settings_module.SettingsError) as caught:
        settings_module.load(ini, environ={})
    assert caught.value.problems == [
        f"{ini} line 3: 'unit zon' is neither a section such as [group] nor a key = value",
        f"{ini} line 5: '[outbound' is neither a section such as [group] nor a key = value"]


def test_an_unknown_variable_of_a_known_section_is_refused_and_other_lets_variables_are_left_alone():
    environ = {"LETS_OUTBOUND_RELAY_PASWORD": "s3cret", "LETS_SETTINGS": str(SETTINGS_INI),
               "LETS_TEST_DATABASE": "postgresql://postgres@127.0.0.1:5432/test", "LETS_COLOUR": "green",
               "LETS_OUTBOUND_RELAY_PASSWORD": "s3cret"}
    _, problems, _ = settings_module.examine(SETTINGS_INI, environ=environ)
    assert problems == ["LETS_OUTBOUND_RELAY_PASWORD: [outbound] has no key 'relay_pasword' "
                        "(did you mean LETS_OUTBOUND_RELAY_PASSWORD?)"]


BAD = [
    ("LETS_INBOUND_PORT", "70000", "70000 is out of range: allowed 0 to 65535"),
    ("LETS_OUTBOUND_RELAY_PORT", "0", "0 is out of range: allowed 1 to 65535"),
    ("LETS_IMAP_PORT", "imaps", "'imaps' is not a whole number"),
    ("LETS_OUTBOUND_STARTTLS", "maybe", "'maybe' is not true or false (allowed: true, false, yes, no, on, off, 1, 0)"),
    ("LETS_TRADES_CONFIRM_DAYS", "-14", "-14 is out of range: allowed 0 or more"),
    ("LETS_LIMITS_REGULAR_LOWER", "300", "300 is out of range: allowed 0 or less"),
    ("LETS_DIGEST_SCHEDULE", "daily 07:00", "'daily 07:00' is not a schedule such as 'weekly monday 07:00'"),
    ("LETS_DIGEST_SCHEDULE", "weekly monday 25:00", "'weekly monday 25:00' is not a schedule"),
    ("LETS_GROUP_TIMEZONE", "Europe/Amsterdm", "'Europe/Amsterdm' is not a time zone name such as Europe/Amsterdam "
                                              "(did you mean 'Europe/Amsterdam'?)"),
    ("LETS_GROUP_LANGUAGE", "es", "'es' is not one of nl, en, fr, de"),
    ("LETS_GROUP_ADDRESS", "lets.example", "'lets.example' is not an email address"),
    ("LETS_GROUP_ADMINS", "beheer@lets.example, piet",
     "'beheer@lets.example,piet' holds 'piet', which is not an email address"),
    ("LETS_DATABASE_URL", "mysql://lets@db/lets", "'mysql://lets@db/lets' is not a database URL: sqlite:///path or "
                                                  "postgresql://"),
    ("LETS_CONTRIBUTIONS_PERIOD", "weekly", "'weekly' is not one of monthly, quarterly, yearly"),
    ("LETS_MEMBERSHIP_NOTICE_BY", "12-32", "'12-32' is not a day of the year such as 12-01"),
    ("LETS_DIGEST_BLOCKS", "offers,balanse", "'offers,balanse' holds 'balanse', which is not one of alerts"),
    ("LETS_IMAP_AUTH", "xoauth2", "'xoauth2' is not one of password, oauth2 (did you mean 'oauth2'?)"),
]


@pytest.mark.parametrize("variable, value, said", BAD, ids=[f"{v}={x}" for v, x, _ in BAD])
def test_a_value_that_is_not_allowed_is_named_with_what_is_allowed(variable, value, said):
    with pytest.raises(settings_module.SettingsError) as caught:
        settings_module.load(SETTINGS_INI, environ={variable: value})
    assert len(caught.value.problems) == 1, caught.value.problems
    assert caught.value.problems[0].startswith(f"{variable}: {said}"), caught.value.problems[0]


def test_every_problem_is_named_at_once_by_check_config(env, tmp_path):
    ini = tmp_path / "settings.ini"
    ini.write_text(SETTINGS_INI.read_text().replace("port = 8025", "port = 99999")
                   .replace("timezone = Europe/Amsterdam", "timezone = Europe/Amsterdm")
                   .replace("key_file =\n# The signing", "key_file = var/missing-dkim.pem\n# The signing"))
    del env["LETS_INBOUND_PORT"]  # else it wins over the file's
    result = lets("check-config", env={**env, "LETS_OUTBOUND_MODE": "smtp", "LETS_LISTINGS_WARN_DAYS": "-1"},
                  settings_file=ini)
    assert result.returncode == 1
    lines = [line.strip() for line in result.stderr.splitlines()]
    assert lines[0] == f"5 problems in the settings: {ini}", result.stderr
    assert set(lines[1:]) == {
        "[group] timezone: 'Europe/Amsterdm' is not a time zone name such as Europe/Amsterdam "
        "(did you mean 'Europe/Amsterdam'?)",
        "[inbound] port: 99999 is out of range: allowed 0 to 65535 (0: any free port)",
        "LETS_LISTINGS_WARN_DAYS: -1 is out of range: allowed 0 or more",
        "[outbound] relay_host: empty, but mode = smtp needs the relay (submission server)",
        f"[dkim] key_file: 'var/missing-dkim.pem': {tmp_path / 'var/missing-dkim.pem'} does not exist",
    }


def test_check_config_says_ok_with_the_file_and_a_summary_without_the_database_password(env):
    result = lets("check-config", env={
        **env, "LETS_DATABASE_URL": "postgresql://lets:hunter2@db.lets.example:5432/lets",
        "LETS_OUTBOUND_MODE": "smtp", "LETS_OUTBOUND_RELAY_HOST": "smtp.gmail.com",
        "LETS_OUTBOUND_RELAY_USER": "lets@gmail.com", "LETS_OUTBOUND_AUTH": "oauth2",
        "LETS_OUTBOUND_TOKEN_COMMAND": "echo a-token"})
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        f"settings OK: {SETTINGS_INI}",
        "  group: LETS Demo <lets@lets.example>, language nl, time zone Europe/Amsterdam",
        "  database: postgresql://lets:***@db.lets.example:5432/lets",
        f"  inbound: lets serve takes SMTP on 127.0.0.1:{env['LETS_INBOUND_PORT']} (no STARTTLS)",
        "  outbound: relay smtp.gmail.com:587 (STARTTLS, OAuth2 token as lets@gmail.com)",
    ]
    assert "hunter2" not in result.stdout + result.stderr


def test_oauth2_without_a_token_command_and_a_token_command_without_oauth2_are_refused():
    with pytest.raises(settings_module.SettingsError) as caught:
        settings_module.load(SETTINGS_INI, environ={
            "LETS_OUTBOUND_AUTH": "oauth2", "LETS_OUTBOUND_RELAY_USER": "lets@gmail.com",
            "LETS_IMAP_HOST": "imap.gmail.com", "LETS_IMAP_TOKEN_COMMAND": "oama access lets@gmail.com"})
    assert caught.value.problems == [
        "[outbound] token_command: empty, but auth = oauth2 needs a command that prints an access token",
        "[imap] token_command: set, but auth = 'password': set auth = oauth2 to use it, or empty it",
    ]


def test_a_missing_certificate_key_or_token_program_stops_serve_before_it_listens(env, tls_certificate):
    result = lets("serve", env={**env, "LETS_INBOUND_CERT_FILE": str(tls_certificate.cert),
                                "LETS_INBOUND_KEY_FILE": "/nonexistent/key.pem",
                                "LETS_OUTBOUND_MODE": "smtp", "LETS_OUTBOUND_RELAY_HOST": "127.0.0.1",
                                "LETS_OUTBOUND_RELAY_USER": "lets@gmail.com", "LETS_OUTBOUND_AUTH": "oauth2",
                                "LETS_OUTBOUND_TOKEN_COMMAND": "no-such-token-program --account lets",
                                "LETS_OUTBOUND_CA_FILE": "/nonexistent/ca.pem"})
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Error: 3 problems in the settings:" in result.stderr
    assert "[outbound] ca_file: '/nonexistent/ca.pem': /nonexistent/ca.pem does not exist" in result.stderr
    assert "[inbound] key_file: '/nonexistent/key.pem': /nonexistent/key.pem does not exist" in result.stderr
    assert ("[outbound] token_command: 'no-such-token-program --account lets': the program "
            "'no-such-token-program' is not found or not executable") in result.stderr
    assert "listening" not in result.stderr


def test_a_key_that_is_not_the_certificates_stops_serve(env, tls_certificate, tmp_path):
    other = tmp_path / "other.pem"
    other.write_text(tls_certificate.cert.read_text())  # a certificate where the key should be
    result = lets("serve", env={**env, "LETS_INBOUND_CERT_FILE": str(tls_certificate.cert),
                                "LETS_INBOUND_KEY_FILE": str(other)})
    assert result.returncode == 1, result.stdout + result.stderr
    assert "[inbound] cert_file:" in result.stderr and "are not a PEM certificate and its private key" in result.stderr


def test_poll_without_a_secret_is_stopped_with_what_to_run(env, tmp_path):
    del env["LETS_SECURITY_SECRET"]
    result = lets("poll", env={**env, "LETS_SECURITY_SECRET_FILE": str(tmp_path / "secret.key"),
                               "LETS_IMAP_HOST": "127.0.0.1", "LETS_IMAP_USER": "lets"})
    assert result.returncode == 1
    assert (f"[security] secret_file: {tmp_path / 'secret.key'} does not exist: run `lets init` to generate it, "
            "or set LETS_SECURITY_SECRET") in result.stderr


def test_the_readmes_oauth2_example_has_no_problem(tmp_path):
    readme = (ROOT / "README.md").read_text()
    example = re.search(r"\*\*OAuth2 .*?```ini\n(.*?)```", readme, re.S).group(1)
    ini = tmp_path / "settings.ini"
    ini.write_text(example)
    loaded, problems, _ = settings_module.examine(ini, environ={})
    assert problems == []
    assert (loaded.imap.auth, loaded.imap.host, loaded.imap.user) == ("oauth2", "imap.gmail.com", "lets@gmail.com")
    assert (loaded.outbound.mode, loaded.outbound.auth, loaded.outbound.token_command) == (
        "smtp", "oauth2", "oama access lets@gmail.com")


def test_check_config_connect_says_in_words_why_a_relay_and_a_mailbox_cannot_be_reached(env):
    closed = free_port()          # nothing listens there
    result = lets("check-config", "--connect", env={
        **env, "LETS_OUTBOUND_MODE": "smtp", "LETS_OUTBOUND_RELAY_HOST": "127.0.0.1",
        "LETS_OUTBOUND_RELAY_PORT": str(closed), "LETS_OUTBOUND_STARTTLS": "false",
        "LETS_IMAP_HOST": "no-such-host.invalid", "LETS_IMAP_USER": "lets", "LETS_IMAP_PASSWORD": "x"})
    said = result.stdout + result.stderr
    assert result.returncode == 1, said
    assert f"relay: 127.0.0.1:{closed}: the connection was refused: nothing answers on that port" in said
    assert "mailbox: no-such-host.invalid:993: the host name is not known (" in said, said
    assert "gaierror" not in said
    assert "ConnectionRefusedError" not in said
