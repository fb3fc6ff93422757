"""TLS contexts: for the relay and the mailbox (verified by default, a CA file if given), and
the certificate `lets serve` offers with STARTTLS."""
from __future__ import annotations

import ssl


def client_context(verify: bool = True, ca_file: str = "") -> ssl.SSLContext:
    """A context that checks the server's certificate and name unless told not to.

    `ca_file` trusts a private CA (or a self-signed server certificate) instead of the
    system's store; `verify=False` is for a server on the same machine only.
    """
    context = ssl.create_default_context(cafile=ca_file or None)
    if not verify:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


def server_context(cert_file, key_file) -> ssl.SSLContext:
    """The context STARTTLS upgrades an inbound session with: our certificate (chain) and key.
    Sending servers present none, and most accept ours whatever its issuer (RFC 7435,
    opportunistic TLS): the point is that the mail is not readable on the way."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert_file, key_file)
    return context
