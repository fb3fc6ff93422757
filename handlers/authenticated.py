"""The optional fast path: a payment whose own mail our receiving server authenticated.

Off unless `[trades] trusted_authserv_id` names our receiving server. Then a BETAAL /
PAY / PAYER (or a donation) is booked without the confirmation round trip when the
topmost Authentication-Results header (RFC 8601) carries that authserv-id and says
dmarc=pass for the From domain, or dkim=pass with a signing domain (header.d, or the
domain of header.i) aligned with the From domain. Anything else, including a header we
cannot parse, falls back to the tokened confirmation: this path can only save a round
trip, never refuse one.
"""
from __future__ import annotations

import authres


def _domain(value: str) -> str:
    return value.rpartition("@")[2].strip().strip(".").lower()


def aligned(signing: str, from_domain: str) -> bool:
    """Relaxed alignment: the From domain is the signing domain or below it. A bare
    top-level domain is never a signing domain we accept."""
    return "." in signing and (from_domain == signing or from_domain.endswith("." + signing))


def _passes(result, from_domain: str) -> bool:
    properties = {f"{p.type}.{p.name}".lower(): (p.value or "") for p in result.properties}
    method, outcome = (result.method or "").lower(), (result.result or "").lower()
    if outcome != "pass":
        return False
    if method == "dmarc":
        return _domain(properties.get("header.from", from_domain)) == from_domain
    if method == "dkim":
        signing = properties.get("header.d") or _domain(properties.get("header.i", ""))
        return aligned(_domain(signing), from_domain)
    return False


def authenticated(mail, trusted_authserv_id: str) -> bool:
    """True when the mail's From is vouched for by our own receiving server. `mail` is the
    parsed mail (mailer.parse.Inbound): its sender is the one reading of From that the
    rest of the pipeline acts on, so what is vouched for is who the payment is from."""
    if not trusted_authserv_id or not mail.sender:
        return False
    message = mail.message
    if len(message.get_all("From") or []) != 1 or len(mail.senders) != 1:
        return False    # DMARC says nothing about which of several From addresses wrote
    senders = [mail.sender]
    headers = message.get_all("Authentication-Results") or []
    if not headers:
        return False
    # Only the topmost header counts. Each receiving server adds its header above those
    # already present, so the topmost is the one our server (the last hop before us)
    # wrote; every header below it was in the mail when it arrived and may be forged by
    # the sender, with our authserv-id in it. RFC 8601 section 5 asks the receiving
    # server to delete such forgeries, which is why the setting must stay empty unless
    # it does and always adds its own.
    try:
        parsed = authres.AuthenticationResultsHeader.parse_value(" ".join(str(headers[0]).split()))
    except (authres.AuthResError, ValueError, TypeError):
        return False
    if (parsed.authserv_id or "").lower() != trusted_authserv_id.strip().lower():
        return False
    from_domain = _domain(senders[0])
    return any(_passes(result, from_domain) for result in parsed.results)
