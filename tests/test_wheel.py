"""The built wheel is the whole program: installed into a fresh virtual environment outside
the checkout, `lets` writes its settings, serves SMTP, answers a mail and previews a digest
with nothing of the checkout on its path.

One wheel and one environment for the module (building and installing take most of its
time). The dependencies come from the package index pip is configured with.
"""
import email
import email.policy
import os
import shutil
import signal
import smtplib
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import free_port, wait_for

ROOT = Path(__file__).resolve().parent.parent
# What goes into the wheel is chosen by pyproject.toml; the copy only keeps the build's
# own files (build/, *.egg-info) out of the checkout, where parallel runs would share them.
NOT_SOURCE = shutil.ignore_patterns(".git", ".venv", "var", "build", "*.egg-info", "__pycache__",
                                    ".pytest_cache", ".hypothesis", "tests", "bench")


@pytest.fixture(scope="module")
def venv(tmp_path_factory) -> Path:
    """A virtual environment holding the wheel built from this checkout, and its dependencies."""
    work = tmp_path_factory.mktemp("wheel")
    source = work / "source"
    shutil.copytree(ROOT, source, symlinks=True, ignore=NOT_SOURCE)
    built = run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(work / "dist"), str(source)],
                env=clean_environment())
    assert built.returncode == 0, built.stderr[-3000:]
    wheel, = (work / "dist").glob("lets_mail-*.whl")
    environment = work / "venv"
    # Not --system-site-packages, and not our own venv: only what the wheel brings and
    # declares can be found.
    made = run([sys.executable, "-m", "venv", str(environment)], env=clean_environment())
    assert made.returncode == 0, made.stderr[-3000:]
    installed = run([str(environment / "bin" / "python"), "-m", "pip", "install", "--quiet", str(wheel)],
                    env=clean_environment())
    assert installed.returncode == 0, installed.stderr[-3000:]
    return environment


@pytest.fixture
def group(tmp_path) -> Path:
    folder = tmp_path / "group"
    folder.mkdir()
    return folder


def run(args, **kw) -> subprocess.CompletedProcess:
    return subprocess.run(args, capture_output=True, text=True, timeout=300, **kw)


def clean_environment() -> dict:
    """Ours without PYTHONPATH (which would put the checkout first) and without LETS_*."""
    return {name: value for name, value in os.environ.items()
            if not name.startswith("LETS_") and name not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")}


def lets(venv: Path, folder: Path, *args) -> subprocess.CompletedProcess:
    return run([str(venv / "bin" / "lets"), *args], cwd=folder, env=clean_environment())


def test_the_installed_wheel_reads_nothing_from_the_checkout(venv, group):
    where = run([str(venv / "bin" / "python"), "-c",
                 "import mailer.cli, mailer.message.compose; print(mailer.cli.__file__); print(mailer.message.compose.TEMPLATES)"],
                cwd=group, env=clean_environment())
    assert where.returncode == 0, where.stderr
    module, templates = where.stdout.split()
    assert Path(module).is_relative_to(venv) and Path(templates).is_relative_to(venv), where.stdout
    # The one tree's templates, its partials at the top, and each language's catalogue ship with it.
    assert (Path(templates) / "help" / "shown.txt").is_file() and (Path(templates) / "_listing.txt").is_file()
    assert (Path(templates) / "locale" / "nl" / "LC_MESSAGES" / "messages.po").is_file()


def test_lets_version_and_python_m_mailer_print_the_version_from_the_package_metadata(venv, group):
    assert lets(venv, group, "--version").stdout == "lets-mail 0.1.0\n"
    module = run([str(venv / "bin" / "python"), "-m", "mailer", "--version"], cwd=group, env=clean_environment())
    assert module.returncode == 0 and module.stdout == "lets-mail 0.1.0\n", module.stderr


def test_lets_init_in_an_empty_folder_writes_a_settings_file_that_serve_answers_mail_with(venv, group):
    initialised = lets(venv, group, "init")
    assert initialised.returncode == 0, initialised.stderr
    assert "wrote settings.ini" in initialised.stdout
    assert (group / "settings.ini").read_text() == (ROOT / "settings.ini").read_text()
    assert (group / "var" / "secret.key").is_file() and (group / "var" / "lets.db").is_file()
    added = lets(venv, group, "member", "add", "Sam Taylor", "sam@example.org", "--language", "en")
    assert added.returncode == 0 and added.stdout.strip() == "1", added.stderr

    preview = lets(venv, group, "digest", "preview", "sam@example.org")
    assert preview.returncode == 0, preview.stderr
    assert "Sam Taylor" in preview.stdout

    port = free_port()
    log = group / "serve.log"
    with open(log, "wb") as output:
        server = subprocess.Popen([str(venv / "bin" / "lets"), "serve", "--port", str(port)], cwd=group,
                                  env=clean_environment(), stdout=output, stderr=output)
    try:
        wait_for(lambda: accepting(server, port, log), timeout=30)
        with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
            client.sendmail("sam@example.org", ["lets@lets.example"],
                            b"From: Sam Taylor <sam@example.org>\r\nTo: lets@lets.example\r\nSubject: HELP\r\n"
                            b"Message-ID: <wheel-help@example.org>\r\n\r\nHELP\r\n")
        outbox = group / "var" / "outbox" / "new"
        reply, = wait_for(lambda: list(outbox.glob("*")) if outbox.is_dir() else [], timeout=30)
    finally:
        server.send_signal(signal.SIGTERM)
        assert server.wait(30) == 0, log.read_text()[-3000:]
    message = email.message_from_bytes(reply.read_bytes(), policy=email.policy.default)
    assert message["To"].addresses[0].addr_spec == "sam@example.org"
    assert "OFFER" in message.get_body(("plain",)).get_content()
    assert "Traceback" not in log.read_text()


def accepting(server: subprocess.Popen, port: int, log: Path) -> bool:
    assert server.poll() is None, log.read_text()[-3000:]
    try:
        with smtplib.SMTP("127.0.0.1", port, timeout=5) as client:
            return client.noop()[0] == 250
    except OSError:
        return False


def test_a_postgresql_url_without_its_driver_says_which_extra_to_install(venv, group):
    result = run([str(venv / "bin" / "lets"), "inbox"], cwd=group,
                 env={**clean_environment(), "LETS_DATABASE_URL": "postgresql://lets@127.0.0.1:5432/lets"})
    assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr
    assert result.stderr.splitlines() == [
        "Error: [database] url names a PostgreSQL database, whose driver (psycopg2) is not installed: "
        "install lets-mail with its postgres extra (pip install 'lets-mail[postgres]'), or use SQLite"], result.stderr
