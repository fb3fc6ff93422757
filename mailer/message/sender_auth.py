"""Who really sent a money mail: DKIM signatures (RFC 6376) and the From domain's DMARC policy (RFC 7489).

Runs in the worker before its write transaction, and only for mail whose command moves
credit or acts on an activity (handlers.authenticated.CHECKED), so DNS is never waited
for while the database is locked. Every lookup is bounded (`TIMEOUT`) and answers are kept a few
minutes per name; a lookup that times out is a temperror, and a temperror changes
nothing: the token round trip authorises as it always did.

SPF is not evaluated: behind a relay or a provider's mailbox the connecting address is
theirs, not the sender's. So mail from a domain that publishes p=quarantine or p=reject
but does not sign with DKIM fails here, unless the receiving server named in
`[trades] trusted_authserv_id` says dmarc=pass.
"""
from __future__ import annotations

import logging
import re
import time
from dataclasses import dataclass

import dkim
from dkim.util import InvalidTagValueList, parse_tag_value

from handlers.authenticated import authenticated

from .domains import aligned, organisational

log = logging.getLogger(__name__)

# Seconds one DNS lookup may take: a resolver that does not answer must not hold the worker.
TIMEOUT = 2.0
# Seconds an answer (or the lack of one) is kept per name; a failed lookup is tried again sooner.
TTL = 300
FAILED_TTL = 30
# Signatures verified per mail, those of the From domain only: each costs a key lookup,
# and the names in d= are the sender's choice.
MAX_SIGNATURES = 3
# RFC 2606 and 6761: names without real DNS records, never asked about.
RESERVED = ("example", "invalid", "test", "localhost", "example.org", "example.com", "example.net")
POLICIES = ("none", "quarantine", "reject")
DMARC_RECORD = re.compile(r"^\s*v\s*=\s*DMARC1\s*(;|$)", re.I)


class Unavailable(Exception):
    """DNS did not answer in time (or answered SERVFAIL): nothing can be said either way."""


@dataclass(frozen=True)
class Verdict:
    """What the check found, kept with the transfer as its `sender_auth`."""
    dmarc: str                 # pass, fail, none (no DMARC record), temperror
    policy: str = ""           # the From domain's policy for failing mail: none, quarantine, reject
    dkim: str = "none"         # pass, fail, temperror, none: signatures aligned with the From domain
    signer: str = ""           # d= of the aligned signature that verified
    by: str = ""               # the trusted receiving server whose dmarc=pass made it a pass
    single_from: bool = True   # exactly one From address: who the mail is from is not in doubt
    # The passing signature covers the Message-ID, so the mail cannot be replayed under
    # another one (a Message-ID is processed once).
    signed_id: bool = False

    @property
    def blocks(self) -> bool:
        """The From domain asks receivers to refuse or quarantine mail that fails, and this one failed."""
        return self.dmarc == "fail" and self.policy in ("quarantine", "reject")

    @property
    def vouches(self) -> bool:
        """Our own check proves who wrote: a DKIM signature aligned with the From domain
        verified, under a DMARC record that passes."""
        return self.dmarc == "pass" and self.dkim == "pass" and self.single_from and self.signed_id

    def __str__(self) -> str:
        if self.dmarc == "temperror" and not self.policy:
            return "dmarc=temperror"   # the policy itself could not be looked up
        parts = [f"dmarc={self.dmarc}"]
        if self.policy:
            parts.append(f"p={self.policy}")
        if self.by:
            parts.append(f"by={self.by}")
        parts.append(f"dkim={self.dkim}")
        if self.signer:
            parts.append(f"d={self.signer}")
        return " ".join(parts)


def dns_txt(name: str) -> list[str]:
    """The TXT records at `name`, each as one string; [] when there are none. Raises
    Unavailable when DNS does not answer within TIMEOUT."""
    import dns.exception
    import dns.resolver

    if any(name == reserved or name.endswith("." + reserved) for reserved in RESERVED):
        return []
    try:
        answer = dns.resolver.resolve(name, "TXT", lifetime=TIMEOUT, search=False)
    except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer, dns.resolver.YXDOMAIN):
        return []
    except (dns.exception.Timeout, dns.resolver.NoNameservers, dns.resolver.NoResolverConfiguration) as exc:
        raise Unavailable(str(exc)) from None
    except dns.exception.DNSException:
        return []   # a name that cannot be asked about (too long, bad label) has no records
    return [b"".join(record.strings).decode("utf-8", "replace") for record in answer]


class SenderCheck:
    """Verifies the senders of money mail for one process; keeps DNS answers a while.
    `txt` looks up TXT records (tests give a stub; the default asks DNS)."""

    def __init__(self, settings, txt=dns_txt, clock=time.monotonic):
        self.settings = settings
        self.txt = txt
        self.clock = clock
        self._cache: dict[str, tuple[float, list[str] | None]] = {}
        self._key_timed_out = False

    @property
    def enabled(self) -> bool:
        return bool(self.settings.trades.verify_senders)

    def check(self, raw: bytes, inbound) -> Verdict | None:
        """The verdict for a parsed mail (mailer.message.parse.Inbound) and its raw bytes, which
        DKIM signs; None when the mail names no sender."""
        if not inbound.sender:
            return None
        from_domain = inbound.sender.rpartition("@")[2]
        single = len(inbound.message.get_all("From") or []) == 1 and len(inbound.senders) == 1
        try:
            record, subdomain = self._record(from_domain)
        except Unavailable:
            return Verdict("temperror", single_from=single)
        strict = record is not None and record.get("adkim", "r").lower() == "s"
        result, signer, signed_id = self._dkim(raw, inbound.message, from_domain, strict)
        if record is None:
            return Verdict("none", dkim=result, signer=signer, single_from=single)
        policy = _policy(record, subdomain)
        dmarc = {"pass": "pass", "temperror": "temperror"}.get(result, "fail")
        if dmarc == "fail":
            trusted = self.settings.trades.trusted_authserv_id.strip().lower()
            if trusted and trusted != self.settings.inbound.authserv_id.strip().lower() \
                    and authenticated(inbound, trusted):
                # Our receiving server saw what we cannot: SPF for the connecting address.
                return Verdict("pass", policy, result, signer, by=trusted, single_from=single)
        return Verdict(dmarc, policy, result, signer, single_from=single, signed_id=signed_id)

    def _lookup(self, name: str) -> list[str]:
        name = name.strip(".").lower()
        now = self.clock()
        cached = self._cache.get(name)
        if cached is not None and cached[0] > now:
            if cached[1] is None:
                raise Unavailable(name)
            return cached[1]
        if len(self._cache) > 10_000:
            self._cache.clear()
        try:
            records = list(self.txt(name))
        except (Unavailable, TimeoutError, OSError) as exc:
            log.warning("DNS lookup of %s failed: %s", name, exc)
            self._cache[name] = (now + FAILED_TTL, None)
            raise Unavailable(name) from None
        self._cache[name] = (now + TTL, records)
        return records

    def _record(self, from_domain: str) -> tuple[dict | None, bool]:
        """The DMARC record for the From domain, else its organisational domain's; and
        whether it came from the organisational domain (its sp= then applies)."""
        record = _dmarc(self._lookup("_dmarc." + from_domain))
        if record is not None:
            return record, False
        organisation = organisational(from_domain)
        if organisation and organisation != from_domain.strip(".").lower():
            return _dmarc(self._lookup("_dmarc." + organisation)), True
        return None, False

    def _dkim(self, raw: bytes, message, from_domain: str, strict: bool) -> tuple[str, str, bool]:
        """(pass|fail|temperror|none, signing domain, whether it signs the Message-ID)
        over the signatures of the From domain."""
        if not message.get_all("DKIM-Signature"):
            return "none", "", False
        try:
            verifier = dkim.DKIM(raw, logger=log.getChild("dkimpy"), timeout=TIMEOUT)
        except dkim.DKIMException:
            return "fail", "", False
        signatures = [value for name, value in verifier.headers if name.lower() == b"dkim-signature"]
        tried, unavailable = 0, False
        for index, value in enumerate(signatures):
            try:
                signing = parse_tag_value(value).get(b"d", b"").decode("ascii", "replace")
            except (InvalidTagValueList, ValueError):
                continue
            if not aligned(signing, from_domain, strict=strict):
                continue
            if tried == MAX_SIGNATURES:
                break
            tried += 1
            self._key_timed_out = False
            try:
                if verifier.verify(idx=index, dnsfunc=self._dkim_key):
                    return "pass", signing.lower(), b"message-id" in verifier.include_headers
            except dkim.DKIMException:
                pass
            unavailable = unavailable or self._key_timed_out
        return ("temperror" if unavailable else "fail" if tried else "none"), "", False

    def _dkim_key(self, name: bytes, timeout: float = TIMEOUT) -> bytes | None:
        """dkimpy's `dnsfunc`: the key record for selector._domainkey.domain."""
        try:
            records = self._lookup(name.decode("ascii", "replace"))
        except Unavailable:
            self._key_timed_out = True
            raise dkim.DnsTimeoutError(name.decode("ascii", "replace")) from None
        return records[0].encode() if records else None


def _dmarc(records: list[str]) -> dict | None:
    """The one DMARC record among a name's TXT records, as its tags; None for none or
    several (RFC 7489 section 6.6.3)."""
    found = [record for record in records if DMARC_RECORD.match(record)]
    if len(found) != 1:
        return None
    tags = {}
    for part in found[0].split(";"):
        key, sep, value = part.partition("=")
        if sep:
            tags.setdefault(key.strip().lower(), value.strip())
    return tags


def _policy(record: dict, subdomain: bool) -> str:
    """The policy for failing mail. Applied to part of the mail only (pct below 100, or
    t=y in testing), it counts one step milder for all of it: we do not draw lots."""
    policy = record.get("p", "").lower()
    if subdomain and record.get("sp", "").lower() in POLICIES:
        policy = record["sp"].lower()
    if policy not in POLICIES:
        return "none"
    try:
        partial = int(record.get("pct", "100")) < 100
    except ValueError:
        partial = False
    if partial or record.get("t", "n").lower() == "y":
        policy = POLICIES[max(0, POLICIES.index(policy) - 1)]
    return policy
