"""TLS client contexts for the relay and the mailbox: verified by default, a CA file if given."""
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
