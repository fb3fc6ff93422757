"""A real Dovecot IMAP server for the tests: own config, users and maildirs in a temp dir, loopback only."""
from __future__ import annotations

import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from conftest import free_port

USER, PASSWORD = "lets", "imap-test-password"

CONFIG = """\
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = yes
ssl_cert = <{cert}
ssl_key = <{key}
auth_mechanisms = {mechanisms}
disable_plaintext_auth = no
first_valid_uid = 1
first_valid_gid = 1
mail_uid = {mail_user}
mail_gid = {mail_group}
default_internal_user = {internal_user}
default_internal_group = {internal_group}
default_login_user = {login_user}
mail_location = maildir:{root}/mail/%u
passdb {{
  driver = passwd-file
  args = {root}/passwd
}}
userdb {{
  driver = static
  args = home={root}/home/%u
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = 0
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {port}
    ssl = yes
  }}
}}
service anvil {{
  chroot =
}}
"""


def binary() -> str:
    """The dovecot binary; a missing one fails the test with how to install it."""
    found = shutil.which("dovecot") or ("/usr/sbin/dovecot" if os.path.exists("/usr/sbin/dovecot") else None)
    if not found:
        raise AssertionError("dovecot is not installed: apt-get install dovecot-imapd (see README, Development)")
    return found


class Dovecot:
    """`start()`/`stop()` may be called repeatedly: the mail survives a restart, as on a real server."""

    def __init__(self, certificate, mechanisms: str = "plain login"):
        # With "xoauth2" among the mechanisms, PASSWORD is also the user's access token:
        # Dovecot checks an XOAUTH2 bearer token against the passdb as it checks a password.
        self.root = Path(tempfile.mkdtemp(prefix="lets-dovecot-"))
        # Dovecot's unprivileged login processes must reach base_dir.
        self.root.chmod(0o755)
        self.port = free_port()
        self.process: subprocess.Popen | None = None
        if os.geteuid() == 0:
            # As root Dovecot drops privileges: mail as its own `dovecot` user, logins as `dovenull`.
            mail_user, login_user = "dovecot", "dovenull"
        else:
            mail_user = login_user = pwd.getpwuid(os.geteuid()).pw_name  # rootless
        group = pwd.getpwnam(mail_user).pw_gid
        for sub in ("mail", "home"):
            (self.root / sub).mkdir()
            if os.geteuid() == 0:
                os.chown(self.root / sub, pwd.getpwnam(mail_user).pw_uid, group)
        (self.root / "passwd").write_text(f"{USER}:{{PLAIN}}{PASSWORD}::::::\n")
        (self.root / "dovecot.conf").write_text(CONFIG.format(
            root=self.root, cert=certificate.cert, key=certificate.key, port=self.port, mechanisms=mechanisms,
            mail_user=mail_user, mail_group=mail_user if os.geteuid() == 0 else group,
            internal_user=mail_user, internal_group=mail_user if os.geteuid() == 0 else group,
            login_user=login_user))

    def start(self, timeout: float = 10.0) -> None:
        # Its own process group, so stop() ends the IMAP sessions too, as a restart does.
        self.process = subprocess.Popen([binary(), "-F", "-c", str(self.root / "dovecot.conf")],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                        start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"dovecot exited: {self.process.stderr.read().decode()} {self.log()}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return
            except OSError:
                time.sleep(0.05)  # the server is still binding its port
        raise AssertionError(f"dovecot did not listen on {self.port}: {self.log()}")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            # Dovecot's session processes outlive a master that is told to stop: end them all.
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(10)
        if self.process is not None:
            self.process.stderr.close()
        self.process = None

    def log(self) -> str:
        path = self.root / "dovecot.log"
        return path.read_text(errors="replace")[-3000:] if path.exists() else ""

    def cleanup(self) -> None:
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)
