"""Who sent a money mail: the optional fast path, and the refusal of mail its domain disowns.

The fast path is off unless `[trades] trusted_authserv_id` names our receiving server, or
`[trades] verify_dkim` trusts our own check (mailer/message/sender_auth.py). Then a BETAAL / PAY
/ PAYER (or a donation) is booked without the confirmation round trip when the topmost
Authentication-Results header (RFC 8601) carries that authserv-id and says dmarc=pass
for the From domain, or dkim=pass with a signing domain (header.d, or the domain of
header.i) aligned with the From domain; or when our own check found an aligned DKIM
signature that verifies under a DMARC record. Anything else, including a header we
cannot parse, falls back to the tokened confirmation: this path can only save a round
trip, never refuse one.

The refusal: mail that fails the DMARC check of a From domain whose policy is quarantine
or reject moves no credit, whatever token it carries (`disowned`).
"""
from __future__ import annotations

import authres

# The kinds of command whose mail is checked before it is handled: those that move
# credit, and the answers (JA) that book what they propose.
MOVES_CREDIT = ("pay", "invoice", "donate", "claim", "proxy", "consent", "refuse")
# Checked too: the replies to an activity (a sign-up may book its price; the organiser's
# words move or call it off for everyone) and the organiser's JA that publishes or calls off.
CHECKED = (*MOVES_CREDIT, "activity-reply", "activity-publish")


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
    parsed mail (mailer.message.parse.Inbound): its sender is the one reading of From that the
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


def vouched(mail, settings) -> bool:
    """Whether a payment's own mail is its payer's consent (the fast path). A header that
    names `[inbound] authserv_id` is never read: that id is our own SMTP edge's, which
    adds no such header, so one in the mail came with it."""
    trusted = settings.trades.trusted_authserv_id.strip().lower()
    if trusted and trusted != settings.inbound.authserv_id.strip().lower() and authenticated(mail, trusted):
        return True
    verdict = getattr(mail, "sender_auth", None)
    return bool(settings.trades.verify_dkim and verdict is not None and verdict.vouches)


def disowned(mail) -> bool:
    """The mail failed the DMARC check of its From domain, which asks receivers to
    refuse or quarantine such mail: someone else wrote it in the member's name."""
    verdict = getattr(mail, "sender_auth", None)
    return verdict is not None and verdict.blocks


def sender_auth(mail) -> str:
    """The verdict as kept with a transfer: "dmarc=pass p=reject dkim=pass d=example.org"."""
    verdict = getattr(mail, "sender_auth", None)
    return str(verdict) if verdict is not None else ""
