"""The `lets` command line, the settings contract, and that every template renders."""
import json
from pathlib import Path

import click
import peewee
import pytest
from click.testing import CliRunner

from db.models import Member
from mailer import settings as settings_module
from mailer.cli import main
from mailer.message.compose import TEMPLATES

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def runner(tmp_path, monkeypatch):
    monkeypatch.setenv("LETS_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    monkeypatch.setenv("LETS_SECURITY_SECRET_FILE", str(tmp_path / "secret.key"))
    monkeypatch.setenv("LETS_SETTINGS", str(ROOT / "settings.ini"))
    # Nothing of a test in the checkout's own var/: the mail a command sends, the DKIM key.
    monkeypatch.setenv("LETS_OUTBOUND_MAILDIR", str(tmp_path / "outbox"))
    monkeypatch.setenv("LETS_DKIM_KEY_FILE", str(tmp_path / "dkim.pem"))
    monkeypatch.delenv("LETS_SECURITY_SECRET", raising=False)
    return CliRunner()


def lets(runner, *args, input=None):
    result = runner.invoke(main, list(args), input=input, catch_exceptions=False)
    return result


def test_init_is_idempotent_and_generates_a_secret(runner, tmp_path):
    first = lets(runner, "init", "--demo")
    assert first.exit_code == 0, first.output
    assert "created schema version" in first.output and "demo member 1" in first.output
    assert (tmp_path / "secret.key").read_text().strip()
    second = lets(runner, "init", "--demo")
    assert second.exit_code == 0
    assert "schema is up to date" in second.output and "demo member" not in second.output


def test_member_add_prints_the_number_and_list_shows_it(runner):
    lets(runner, "init")
    added = lets(runner, "member", "add", "Piet Jansen", "Piet@Example.org", "--type", "household")
    assert added.exit_code == 0 and added.output.strip() == "1"
    duplicate = lets(runner, "member", "add", "Someone", "piet@example.org")
    assert duplicate.exit_code != 0
    assert duplicate.output.strip() == ("Error: piet@example.org already belongs to Piet Jansen (member 1); "
                                        "a housemate who shares it is added with --household-of 1")
    listed = lets(runner, "member", "list", "--json")
    record = json.loads(listed.output.splitlines()[0])
    assert record["addresses"] == ["piet@example.org"] and record["type"] == "household"


def test_check_mail_prints_one_json_line_per_file_and_never_crashes(runner, tmp_path):
    lets(runner, "init", "--demo")
    offer = tmp_path / "offer.eml"
    offer.write_bytes(b"From: an@example.org\r\nSubject: AANBOD: Soep\r\n\r\nCategorie: eten\r\nLekker.\r\n")
    garbage = tmp_path / "garbage.eml"
    garbage.write_bytes(b"\x00\xff\xfe not a mail at all \x00\n\n\n--")
    bounce = tmp_path / "bounce.eml"
    bounce.write_bytes((ROOT / "tests" / "test_inbound.py").read_text().split('BOUNCE = """')[1]
                       .split('"""')[0].encode())
    result = lets(runner, "check-mail", str(offer), str(garbage), str(bounce))
    assert result.exit_code == 0
    records = [json.loads(line) for line in result.output.splitlines()]
    assert [r["kind"] for r in records] == ["offer", "unknown", "bounce"]
    assert records[0]["is_member"] is True and records[0]["language"] == "nl"
    assert records[0]["fields"]["title"] == "Soep" and records[0]["fields"]["category"] == "cooking"
    assert records[0]["fields"]["category_given"] == "eten"
    assert records[0]["text"] == "Categorie: eten\nLekker."
    assert records[1]["ignored_reason"]
    assert records[2]["bounced"] == ["gone@example.com"]
    assert Member.select().count() == 4  # nothing changed: no new rows of any kind
    from db.models import InboundMessage, Listing
    assert InboundMessage.select().count() == 0 and Listing.select().count() == 0


def test_check_mail_reads_stdin_and_reports_unreadable_files(runner, tmp_path):
    result = lets(runner, "check-mail", "-", str(tmp_path / "missing.eml"),
                  input=b"From: x@example.com\r\nSubject: HELP\r\n\r\n")
    lines = [json.loads(line) for line in result.output.splitlines()]
    assert lines[0]["kind"] == "help" and lines[0]["is_member"] is False
    assert "error" in lines[1]
    assert result.exit_code == 1


def test_inbox_shows_state_and_reason(runner, tmp_path):
    lets(runner, "init", "--demo")
    from mailer.pipeline import Processor, store
    settings = settings_module.load()
    inbound = store(b"From: an@example.org\r\nAuto-Submitted: auto-replied\r\nSubject: x\r\n\r\n", "an@example.org")
    Processor(settings).process(inbound)
    out = lets(runner, "inbox").output
    assert "ignored" in out and "Auto-Submitted: auto-replied" in out


def test_mail_still_in_the_smtp_spool_is_counted_by_inbox_and_taken_by_process(runner, tmp_path):
    from db.spool import Spool, path_for
    lets(runner, "init", "--demo")
    settings = settings_module.load()
    spool = Spool(path_for(settings.database_url))
    spool.store_many([(b"From: an@example.org\r\nSubject: SALDO\r\nMessage-ID: <s1@example.org>\r\n\r\n",
                       "an@example.org", ["lets@lets.example"])])
    spool.close()
    assert "1 accepted by SMTP, not yet taken from the spool" in lets(runner, "inbox").output
    assert "processed 1 mails" in lets(runner, "process").output
    out = lets(runner, "inbox").output
    assert "not yet taken" not in out and "processed" in out


def test_settings_are_overridden_by_lets_variables(tmp_path):
    env = {"LETS_INBOUND_PORT": "2525", "LETS_GROUP_NAME": "LETS Nijmegen", "LETS_OUTBOUND_STARTTLS": "no",
           "LETS_GROUP_ADMINS": "a@x.org, b@x.org"}
    loaded = settings_module.load(ROOT / "settings.ini", environ=env)
    assert loaded.inbound.port == 2525 and loaded.group.name == "LETS Nijmegen"
    assert loaded.outbound.starttls is False and loaded.group.admins == ("a@x.org", "b@x.org")
    with pytest.raises(settings_module.SettingsError):
        settings_module.load(ROOT / "settings.ini", environ={"LETS_INBOUND_PORT": "many"})


def test_every_settings_key_has_a_comment_above_it():
    lines = (ROOT / "settings.ini").read_text().splitlines()
    for i, line in enumerate(lines):
        if "=" in line and not line.startswith("#"):
            assert lines[i - 1].startswith("#"), f"no comment above: {line}"


def _commands(group, prefix=()):
    for name, command in group.commands.items():
        yield prefix + (name,), command
        if isinstance(command, click.Group):
            yield from _commands(command, prefix + (name,))


def test_every_command_has_help_with_an_example():
    for path, command in _commands(main):
        assert command.help, f"lets {' '.join(path)} has no help"
        if not isinstance(command, click.Group):
            assert "Example: lets" in command.help, f"lets {' '.join(path)} has no example"


def _all_templates():
    for path in sorted(TEMPLATES.glob("*/*/*.txt")):
        yield str(path.relative_to(TEMPLATES).with_suffix(""))


@pytest.mark.parametrize("language", ["nl", "en", "fr"])
def test_every_template_exists_in_every_language(language):
    names = {name.split("/", 1)[1] for name in _all_templates()}
    mine = {name.split("/", 1)[1] for name in _all_templates() if name.startswith(language + "/")}
    assert names == mine


def test_a_database_that_is_away_gets_one_line_not_a_traceback(runner, monkeypatch):
    monkeypatch.setenv("LETS_DATABASE_URL", "postgresql://postgres@127.0.0.1:1/test")  # nothing listens there
    result = runner.invoke(main, ["inbox"])
    assert result.exit_code == 1
    assert "Error: the database did not answer:" in result.output and "try again later" in result.output
    assert "Traceback" not in result.output and not isinstance(result.exception, peewee.PeeweeException)


def test_a_command_before_init_or_on_a_misspelt_database_path_says_to_run_init_and_makes_no_file(runner, tmp_path,
                                                                                                  monkeypatch):
    # Before: an empty file was made, then "the database did not answer: no such table:
    # paper_guide; try again later".
    missing = tmp_path / "nergens" / "lets.db"
    monkeypatch.setenv("LETS_DATABASE_URL", f"sqlite:///{missing}")
    result = runner.invoke(main, ["member", "list"])
    assert result.exit_code == 1
    assert result.output.strip() == (f"Error: there is no database at {missing}: run `lets init` in the group's "
                                     "folder first, or check [database] url (LETS_DATABASE_URL) and --settings "
                                     "(LETS_SETTINGS)")
    assert not missing.parent.exists()
    assert lets(runner, "init").exit_code == 0 and lets(runner, "member", "list").exit_code == 0
    # In a folder without settings.ini (not the group's), the defaults name var/lets.db here.
    monkeypatch.delenv("LETS_SETTINGS")
    monkeypatch.delenv("LETS_DATABASE_URL")
    monkeypatch.chdir(tmp_path)
    elsewhere = runner.invoke(main, ["member", "list"])
    assert elsewhere.exit_code == 1 and (f"there is no database at {tmp_path / 'var' / 'lets.db'} (and no "
                                         f"settings.ini in {tmp_path}): run `lets init`") in elsewhere.output


def test_a_database_busy_past_the_timeout_gets_one_line_and_changes_nothing(runner, tmp_path, monkeypatch):
    import db
    from conftest import write_lock_held_elsewhere

    assert lets(runner, "init", "--demo").exit_code == 0
    monkeypatch.setitem(db.SQLITE_PRAGMAS, "busy_timeout", 300)
    with write_lock_held_elsewhere(str(tmp_path / "cli.db")):
        result = runner.invoke(main, ["budget", "create", "tuin", "--holder", "1"])
    assert result.exit_code == 1
    assert "Error: the database did not answer: database is locked" in result.output
    assert "Traceback" not in result.output
    assert "tuin" not in lets(runner, "budget", "list").output


def test_init_in_an_empty_folder_writes_the_annotated_settings_and_never_overwrites_them(tmp_path, monkeypatch):
    for name in [name for name in __import__("os").environ if name.startswith("LETS_")]:
        monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    first = CliRunner().invoke(main, ["init"], catch_exceptions=False)
    assert first.exit_code == 0, first.output
    assert "wrote settings.ini: set [group] name, address and language there" in first.output
    assert (tmp_path / "settings.ini").read_text() == (ROOT / "settings.ini").read_text()
    assert (tmp_path / "var" / "lets.db").is_file() and (tmp_path / "var" / "secret.key").is_file()
    # Not yet the records to publish: they would name the example's domain, lets.example.
    assert "lets.example" not in first.output and "_domainkey" not in first.output
    assert (f"generated a DKIM key in {tmp_path / 'var' / 'dkim.pem'}; once [group] address is set in "
            "settings.ini, `lets show-dns` prints the DNS records to publish") in first.output

    (tmp_path / "settings.ini").write_text("[group]\nname = LETS Tuin\n")
    again = CliRunner().invoke(main, ["init"], catch_exceptions=False)
    assert again.exit_code == 0 and "wrote" not in again.output, again.output
    assert (tmp_path / "settings.ini").read_text() == "[group]\nname = LETS Tuin\n"


def test_init_writes_the_settings_where_lets_settings_names_them(tmp_path, monkeypatch):
    for name in [name for name in __import__("os").environ if name.startswith("LETS_")]:
        monkeypatch.delenv(name)
    target = tmp_path / "etc" / "lets" / "settings.ini"
    monkeypatch.setenv("LETS_SETTINGS", str(target))
    result = CliRunner().invoke(main, ["init"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert f"wrote {target}" in result.output and target.read_text() == (ROOT / "settings.ini").read_text()
    # Relative paths are taken from the settings file's folder.
    assert (target.parent / "var" / "lets.db").is_file()


def test_lets_version_prints_the_package_version(runner):
    from importlib import metadata

    result = lets(runner, "--version")
    assert result.exit_code == 0 and result.output == f"lets-mail {metadata.version('lets-mail')}\n"
