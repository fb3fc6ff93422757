"""Why a connection to the relay or the mailbox failed, in the words a coordinator reads in
`lets check-config --connect`, `lets outbox` and the log: "the login was refused (535 …)"
rather than Python's "SMTPAuthenticationError: (535, b'…')"."""
from __future__ import annotations

import smtplib
import socket
import ssl

from imapclient.exceptions import LoginError

from .oauth2 import TokenError


def _text(value) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def in_words(exc: BaseException) -> str:
    """One line saying what went wrong, most specific first."""
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        return f"the login was refused ({exc.smtp_code} {_text(exc.smtp_error)})"
    if isinstance(exc, LoginError):
        return f"the login was refused ({_text(exc)})"
    if isinstance(exc, smtplib.SMTPResponseException):
        return f"the relay answered {exc.smtp_code} {_text(exc.smtp_error)}"
    if isinstance(exc, TokenError):
        return f"no OAuth2 token: {exc}"
    if isinstance(exc, ConnectionRefusedError):
        return "the connection was refused: nothing answers on that port"
    if isinstance(exc, socket.gaierror):
        return f"the host name is not known ({exc.strerror})"
    if isinstance(exc, (TimeoutError, socket.timeout)):
        return "no answer in time"
    if isinstance(exc, ssl.SSLCertVerificationError):
        return f"its TLS certificate is not trusted ({exc.verify_message})"
    if isinstance(exc, ssl.SSLError):
        return f"TLS failed ({exc.reason or exc})"
    if isinstance(exc, smtplib.SMTPServerDisconnected):
        return f"the relay closed the connection ({exc})" if str(exc) else "the relay closed the connection"
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror[0].lower() + exc.strerror[1:]
    return str(exc) or exc.__class__.__name__
