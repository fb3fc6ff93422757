"""A real Postfix MTA for the tests: its own configuration, queue and log in a temp dir, loopback only.

The group's provider is played by this Postfix: it accepts mail on a loopback port and relays
each domain to the loopback server the test names (our inbound server, or a sink for members).
"""
from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from conftest import free_port

MAIN_CF = """\
compatibility_level = 3.6
queue_directory = {root}/queue
data_directory = {root}/data
command_directory = /usr/sbin
daemon_directory = /usr/lib/postfix/sbin
meta_directory = /etc/postfix
shlib_directory = /usr/lib/postfix
mail_owner = postfix
setgid_group = postdrop
myhostname = mx.provider.test
mydomain = provider.test
myorigin = $myhostname
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mydestination =
local_transport = error:no local delivery on this relay
alias_maps =
alias_database =
relay_domains = {domains}
transport_maps = inline:{{ {transports} }}
mynetworks = 127.0.0.0/8
smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination
smtp_tls_security_level = none
smtp_dns_support_level = disabled
# A test wants a verdict in seconds, not Postfix's production retry schedule.
queue_run_delay = 1s
minimal_backoff_time = 1s
maximal_backoff_time = 2s
# Postfix logs to syslog by default; these machines may have none, so log to a file.
maillog_file = {root}/maillog
maillog_file_prefixes = {root}
"""

# The master.cf services a relay needs; no chroot, since the queue lives in a temp dir.
MASTER_CF = """\
127.0.0.1:{port} inet n - n - - smtpd
pickup    unix  n - n 60 1 pickup
cleanup   unix  n - n - 0 cleanup
qmgr      unix  n - n 300 1 qmgr
rewrite   unix  - - n - - trivial-rewrite
bounce    unix  - - n - 0 bounce
defer     unix  - - n - 0 bounce
trace     unix  - - n - 0 bounce
verify    unix  - - n - 1 verify
flush     unix  n - n 1000? 0 flush
proxymap  unix  - - n - - proxymap
smtp      unix  - - n - - smtp
relay     unix  - - n - - smtp
showq     unix  n - n - - showq
error     unix  - - n - - error
retry     unix  - - n - - error
discard   unix  - - n - - discard
anvil     unix  - - n - 1 anvil
scache    unix  - - n - 1 scache
postlog   unix-dgram n - n - 1 postlogd
"""


def binary() -> str:
    """The postfix command; a missing one fails the test with how to install it."""
    found = shutil.which("postfix") or ("/usr/sbin/postfix" if os.path.exists("/usr/sbin/postfix") else None)
    if not found:
        raise AssertionError("postfix is not installed: apt-get install postfix, with debconf "
                             "postfix/main_mailer_type 'No configuration' (see README, Development)")
    return found


class Postfix:
    """A relay that sends each of `routes` (domain → loopback port) to that port."""

    def __init__(self, routes: dict[str, int]):
        self.root = Path(tempfile.mkdtemp(prefix="lets-postfix-"))
        # Postfix's daemons run as the `postfix` user and must reach the queue below root.
        self.root.chmod(0o755)
        self.port = free_port()
        self.config = self.root / "conf"
        for sub in ("conf", "queue", "data"):
            (self.root / sub).mkdir()
        owner = pwd.getpwnam("postfix")
        os.chown(self.root / "data", owner.pw_uid, owner.pw_gid)
        transports = ", ".join(f"{domain}=smtp:[127.0.0.1]:{port}" for domain, port in routes.items())
        (self.config / "main.cf").write_text(MAIN_CF.format(
            root=self.root, domains=", ".join(routes), transports=transports))
        (self.config / "master.cf").write_text(MASTER_CF.format(port=self.port))

    def _postfix(self, *command: str) -> subprocess.CompletedProcess:
        return subprocess.run([binary(), "-c", str(self.config), *command],
                              capture_output=True, text=True, timeout=60)

    def start(self, timeout: float = 20.0) -> None:
        done = self._postfix("start")
        if done.returncode != 0:
            raise AssertionError(f"postfix did not start: {done.stderr} {self.log()}")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return
            except OSError:
                time.sleep(0.05)  # master is still binding its port
        raise AssertionError(f"postfix did not listen on {self.port}: {self.log()}")

    def queue(self) -> str:
        """What Postfix still holds (empty output when every mail has left)."""
        done = subprocess.run(["postqueue", "-c", str(self.config), "-p"], capture_output=True, text=True,
                              timeout=30)
        return done.stdout

    def log(self) -> str:
        path = self.root / "maillog"
        return path.read_text(errors="replace")[-3000:] if path.exists() else ""

    def cleanup(self) -> None:
        self._postfix("stop")
        shutil.rmtree(self.root, ignore_errors=True)
