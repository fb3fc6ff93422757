"""DKIM signatures on outgoing mail (RFC 6376), so receivers can tell our digests are ours;
the group's key, and the DNS records that go with it."""
from __future__ import annotations

import base64
import hashlib
import os
import time
from pathlib import Path

import dkim
from dkim.canonicalization import Relaxed

from ..settings import Settings

# The headers a receiver shows, threads by or acts on. RFC 8058 section 4: a one-click
# List-Unsubscribe counts only when the signature covers it and List-Unsubscribe-Post;
# Gmail and Yahoo offer the button only then.
SIGNED_HEADERS = (b"from", b"to", b"subject", b"date", b"message-id", b"in-reply-to",
                  b"references", b"reply-to", b"mime-version", b"content-type", b"auto-submitted",
                  b"list-id", b"list-unsubscribe", b"list-unsubscribe-post", b"list-post")
# Each name twice (RFC 6376 8.15): the second covers an empty slot, so a copy of the
# header added later (a second From or Subject shown instead of ours) breaks the signature.
# A header the message lacks is signed as absent: adding one breaks it too.
INCLUDE_HEADERS = SIGNED_HEADERS + SIGNED_HEADERS

# What `lets init` uses when [dkim] names no selector or key file.
DEFAULT_SELECTOR = "lets"
KEY_NAME = "dkim.pem"
# DNS character-strings hold at most 255 bytes (RFC 1035 3.3); a 2048-bit key is longer.
TXT_CHUNK = 255


class Signer:
    """Signs raw messages with the group's key once [dkim] selector is set; until then it
    passes them through."""

    def __init__(self, settings: Settings):
        self.selector = settings.dkim.selector.encode()
        self.domain = signing_domain(settings).encode()
        self.key = None
        if self.selector:
            path = key_path(settings)
            try:
                self.key = _private_key(path)
            except FileNotFoundError:
                raise DkimError(f"[dkim] selector is set but there is no key {path}: run `lets init`") from None

    @property
    def enabled(self) -> bool:
        return self.key is not None

    def sign(self, raw: bytes) -> bytes:
        """`raw` with a DKIM-Signature header on top (rsa-sha256, relaxed/relaxed: relays
        re-fold headers and rewrap whitespace; simple would break).

        dkimpy canonicalizes and selects the headers, OpenSSL (cryptography) signs:
        dkimpy's own RSA, in Python integers, took 14 ms a message against 1 ms."""
        if self.key is None:
            return raw
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import padding

        headers, body = dkim.rfc822_parse(raw)
        relaxed = Relaxed
        body_hash = base64.b64encode(hashlib.sha256(relaxed.canonicalize_body(body)).digest())
        stamp = str(int(time.time())).encode()
        # Folded at its spaces only: relaxed canonicalization unfolds them again.
        value = dkim.fold(b"; ".join((b"v=1", b"a=rsa-sha256", b"c=relaxed/relaxed", b"d=" + self.domain,
                                      b"s=" + self.selector, b"t=" + stamp, b"h=" + b" : ".join(INCLUDE_HEADERS),
                                      b"bh=" + body_hash, b"b=")), namelen=len("DKIM-Signature"))
        signed = dkim.select_headers(relaxed.canonicalize_headers(headers), INCLUDE_HEADERS)
        ((name, own),) = relaxed.canonicalize_headers([(b"DKIM-Signature", b" " + value)])
        # RFC 6376 3.7: the signature's own header last, without its trailing CRLF.
        data = b"".join(n + b":" + v for n, v in signed) + name + b":" + own.rstrip()
        signature = base64.b64encode(self.key.sign(data, padding.PKCS1v15(), hashes.SHA256()))
        # b= on lines of its own: whitespace inside it does not count (RFC 6376 3.5).
        folded = b"\r\n ".join(signature[i:i + 72] for i in range(0, len(signature), 72))
        return b"DKIM-Signature: " + value + b"\r\n " + folded + b"\r\n" + raw


def _private_key(path: Path):
    from cryptography.hazmat.primitives import serialization

    try:
        return serialization.load_pem_private_key(path.read_bytes(), password=None)
    except (ValueError, TypeError) as exc:
        raise DkimError(f"{path} is not an unencrypted PEM private key: {exc}") from None


def signing_domain(settings: Settings) -> str:
    return (settings.dkim.domain or settings.group.domain).lower()


def selector(settings: Settings) -> str:
    return settings.dkim.selector or DEFAULT_SELECTOR


def key_path(settings: Settings) -> Path:
    """The key file [dkim] names, else dkim.pem in the folder of the token secret (var/),
    where `lets init` keeps what it generates."""
    if settings.dkim.key_file:
        return settings.path(settings.dkim.key_file)
    return settings.path(settings.security.secret_file).parent / KEY_NAME


def generate(path: Path) -> None:
    """A new 2048-bit RSA key (RFC 8301: 1024 at least, 2048 advised), readable by its owner only."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                            serialization.NoEncryption())
    path.parent.mkdir(parents=True, exist_ok=True)
    # O_EXCL: two `lets init` at once must not write one key over the other's published one.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(pem)


def public_key(path: Path) -> str:
    """The base64 of the key's public half, as DKIM's p= tag wants it (SubjectPublicKeyInfo)."""
    from cryptography.hazmat.primitives import serialization

    public = _private_key(path).public_key().public_bytes(serialization.Encoding.DER,
                                           serialization.PublicFormat.SubjectPublicKeyInfo)
    return base64.b64encode(public).decode("ascii")


def txt(value: str) -> str:
    """A TXT record's value as zone-file strings of at most 255 characters each."""
    chunks = [value[i:i + TXT_CHUNK] for i in range(0, len(value), TXT_CHUNK)]
    return " ".join(f'"{chunk}"' for chunk in chunks)


def records(settings: Settings) -> list[str]:
    """The DNS records that let receivers trust the group's mail, as zone-file lines with
    `;` comments: the DKIM key (to publish as it is), SPF and DMARC (suggestions)."""
    path = key_path(settings)
    if not path.exists():
        raise DkimError(f"no DKIM key in {path}: run `lets init` to generate one")
    domain, mail_domain = signing_domain(settings), settings.group.domain
    name = f"{selector(settings)}._domainkey.{domain}."
    lines = ["; DKIM: the public half of " + str(path),
             f"{name} IN TXT ( {txt('v=DKIM1; k=rsa; p=' + public_key(path))} )"]
    relay = settings.outbound.relay_host if settings.outbound.mode == "smtp" else ""
    lines += ["; SPF (a suggestion): the hosts that send mail from " + mail_domain
              + (f"; add the include: your provider documents for {relay}" if relay else "")
              + "; ~all until you are sure of the list, then -all",
              f'{mail_domain}. IN TXT "v=spf1 mx ~all"']
    admin = next((a for a in settings.group.admins if a), settings.group.address)
    lines += ["; DMARC (a suggestion): p=none and reports first; p=quarantine once the reports are clean"]
    if admin.rpartition("@")[2].lower() != mail_domain:
        lines.append(f"; reports to {admin} need its domain's consent (RFC 7489 7.1); "
                     f"an address at {mail_domain} needs none")
    lines.append(f'_dmarc.{mail_domain}. IN TXT "v=DMARC1; p=none; rua=mailto:{admin}"')
    return lines


def prepare(settings: Settings) -> list[str]:
    """What `lets init` does for DKIM: make the key when there is none, and say what to
    publish and set. Lines to show the administrator; none when the key was there."""
    path = key_path(settings)
    if path.exists():
        return []
    try:
        generate(path)
    except OSError as exc:
        # Mail goes out unsigned, as before: no reason to stop an upgrade.
        return [f"could not write a DKIM key in {path} ({exc.strerror or exc}); "
                "set [dkim] key_file to a file `lets init` may create"]
    return [f"generated a DKIM key in {path}", *records(settings), state(settings)]


def state(settings: Settings) -> str:
    """Whether outgoing mail is signed, and if not, what to set."""
    if settings.dkim.selector:
        return f"; outgoing mail is signed with this key (selector {settings.dkim.selector})"
    return (f"; outgoing mail is not signed yet: once the DKIM record is published, set [dkim] "
            f"selector = {DEFAULT_SELECTOR} (or LETS_DKIM_SELECTOR); `lets show-dns` shows these again")


def check(settings: Settings, txt) -> tuple[bool, list[str]]:
    """What DNS publishes for the group, against the key: (whether the DKIM record there
    carries this key, lines to show). `txt(name)` gives the TXT records at a name, each
    joined into one string (sender_auth.dns_txt)."""
    path = key_path(settings)
    if not path.exists():
        raise DkimError(f"no DKIM key in {path}: run `lets init` to generate one")
    domain, mail_domain = signing_domain(settings), settings.group.domain
    name = f"{selector(settings)}._domainkey.{domain}"
    published = [_tags(record).get("p", "") for record in txt(name) if _tags(record).get("v", "DKIM1") == "DKIM1"]
    ours = public_key(path)
    if ours in published:
        lines, matches = [f"DKIM: {name} carries this key"], True
    elif published:
        lines, matches = [f"DKIM: {name} carries another key than {path}"], False
    else:
        lines, matches = [f"DKIM: nothing at {name} yet (a new record may take a while to show)"], False
    spf = [r for r in txt(mail_domain) if r.lower().startswith("v=spf1")]
    lines.append(f"SPF: {spf[0]}" if spf else f"SPF: no record at {mail_domain}")
    dmarc = [r for r in txt(f"_dmarc.{mail_domain}") if r.replace(" ", "").upper().startswith("V=DMARC1")]
    lines.append(f"DMARC: {dmarc[0]}" if dmarc else f"DMARC: no record at _dmarc.{mail_domain}")
    return matches, lines


def _tags(record: str) -> dict[str, str]:
    """A DKIM record's tags (RFC 6376 3.6.1); whitespace inside a value does not count."""
    tags = {}
    for part in record.split(";"):
        key, eq, value = part.partition("=")
        if eq:
            tags[key.strip()] = "".join(value.split())
    return tags


class DkimError(Exception):
    pass
