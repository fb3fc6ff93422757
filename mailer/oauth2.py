"""OAuth2 logins (Gmail, Microsoft 365): an access token from the operator's command, as XOAUTH2.

These providers no longer take a password for IMAP or SMTP submission. Getting and
refreshing tokens is a job of its own (a browser consent once, a refresh token kept
safe); tools such as oama do it. As mutt's `imap_oauth_refresh_command` and isync's
`PassCmd`, we run the operator's `token_command` for every connection and use what it
prints: access tokens live about an hour, a connection may be opened days apart.
"""
from __future__ import annotations

import subprocess
from pathlib import Path

# Long enough for a refresh over a slow network, short enough not to hang a delivery round.
TIMEOUT = 30.0


class TokenError(Exception):
    """The token command failed, took too long or printed nothing."""


def token(command: str, where: str, cwd: Path | None = None, timeout: float = TIMEOUT) -> str:
    """Run `command` with the shell and return the access token it prints (its first line)."""
    try:
        done = subprocess.run(command, shell=True, cwd=cwd, capture_output=True, text=True, timeout=timeout,
                              stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        raise TokenError(f"{where} {command!r} did not finish within {timeout:g} s") from None
    except OSError as exc:
        raise TokenError(f"{where} {command!r} could not be run: {exc}") from None
    said = " ".join(done.stderr.split())[-300:]
    if done.returncode != 0:
        raise TokenError(f"{where} {command!r} failed with status {done.returncode}"
                         + (f": {said}" if said else ""))
    lines = done.stdout.strip().splitlines()
    if not lines or not lines[0].strip():
        raise TokenError(f"{where} {command!r} printed no token" + (f" ({said})" if said else ""))
    return lines[0].strip()


def xoauth2(user: str, access_token: str) -> str:
    """The XOAUTH2 initial response, before base64 (Google's and Microsoft's SASL format)."""
    return f"user={user}\x01auth=Bearer {access_token}\x01\x01"
