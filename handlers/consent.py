"""JA / YES / OUI or NEE / NO / NON in reply to a confirmation: the payer's consent.

Consent counts only when the mail carries a token we sent to the payer's own mailbox
(in the plus-address it was sent to, or in the subject when a client drops Reply-To),
comes from that same address, is not automatic (the guard drops auto-replies before
this), and says yes or no on its first line. A forged From: without the token, a
replay, an expired token or In-Reply-To alone books nothing; nor does a mail that fails
the DMARC check of a From domain whose policy is quarantine or reject, token or not.
"""
from __future__ import annotations

import re

from db import ledger, listing_links
from db.members import normalise_address
from db.models import Account, Member, Transfer
from db.prepared import by_id

from . import Command, Context, Refusal, Reply, claim, proxy_invoice
from .authenticated import disowned, sender_auth
from .commands import fold
from .receipt import address, receipts

TOKEN = r"([a-z2-7]{24})"
SUBJECT_TOKEN = re.compile(r"\[t-" + TOKEN + r"\]", re.I)
# The one-word answers our mails ask for; announcements read a mode word after them.
YES = {"ja", "yes", "oui"}
NO = {"nee", "no", "non"}

# How people say yes and no around those words, compared folded (no case or accents),
# as whole words or phrases. Phrases are read first: "no problem" is a yes, "toch niet"
# a no, "weet ik niet" neither.
SAY_YES = {
    "nl": ("ja", "jawel", "jazeker", "jaja", "jep", "ok", "oke", "okay", "akkoord", "prima", "graag", "goed",
           "klopt", "correct", "bevestig", "bevestigd", "zeker", "natuurlijk", "top", "perfect", "uitstekend"),
    "en": ("yes", "yep", "yeah", "yup", "ok", "okay", "sure", "agreed", "agree", "confirm", "confirmed", "correct",
           "fine", "certainly", "absolutely", "definitely", "please"),
    "fr": ("oui", "ouais", "ok", "okay", "accord", "d'accord", "parfait", "volontiers", "confirme", "confirmer",
           "certainement", "absolument", "entendu", "exact", "correct", "impeccable"),
}
SAY_NO = {
    "nl": ("nee", "neen", "nooit", "annuleer", "annuleren", "weiger", "weigeren", "stop"),
    "en": ("no", "nope", "nah", "cancel", "decline", "declined", "refuse", "never"),
    "fr": ("non", "annuler", "annulez", "annule", "refuse", "refuser", "jamais"),
}
YES_PHRASES = ("geen probleem", "geen bezwaar", "waarom niet", "doe maar", "boek maar", "ga maar", "ga je gang",
               "no problem", "no worries", "why not", "go ahead", "of course", "please do",
               "pas de probleme", "pas de souci", "pourquoi pas", "sans probleme", "bien sur", "avec plaisir",
               "allez-y", "vas-y")
NO_PHRASES = ("liever niet", "toch niet", "niet doen", "niet boeken", "niet betalen", "wil niet", "wil dit niet",
              "niet nodig", "klopt niet", "laat maar", "laat maar zitten", "no thanks", "no thank you", "not now",
              "don't", "do not", "changed my mind", "non merci", "pas maintenant", "ne pas", "pas question",
              "veux pas", "pas besoin", "pas pour moi", "n'en veux pas")
# Neither: the member is unsure, or adds a condition we cannot book. Asked again.
UNSURE = ("misschien", "weet niet", "weet ik niet", "weet nog niet", "weet ik nog niet", "nog niet", "geen idee",
          "nadenken", "denk erover", "maar", "behalve", "alleen als", "tenzij", "think about", "not yet",
          "reflechir", "pas encore",
          "maybe", "perhaps", "not sure", "don't know", "do not know", "no idea", "but", "except", "only if",
          "unless", "peut-etre", "sais pas", "je ne sais", "aucune idee", "mais", "sauf", "seulement si")
_YES_WORDS = {word for words in SAY_YES.values() for word in words}
_NO_WORDS = {word for words in SAY_NO.values() for word in words}
# An answer is read from the member's first lines: what follows is explanation.
ANSWER_LINES = 3


def find_token(inbound, settings, prefix: str = "t") -> str | None:
    """The token a mail carries: envelope recipient, then To/Cc, then the subject.
    `prefix` tells the kinds of token apart: t for payments, a for announcements."""
    group = settings.group
    address = re.compile(re.escape(group.local_part) + rf"\+{prefix}-" + TOKEN + "@" + re.escape(group.domain), re.I)
    for text in (" ".join(inbound.rcpt_tos), inbound.header("To"), inbound.header("Cc")):
        found = address.search(text)
        if found:
            return found.group(1).lower()
    subject_token = SUBJECT_TOKEN if prefix == "t" else re.compile(rf"\[{prefix}-" + TOKEN + r"\]", re.I)
    found = subject_token.search(inbound.subject)
    return found.group(1).lower() if found else None


def recognise(inbound, settings) -> Command | None:
    token = find_token(inbound, settings)
    return Command("consent", None, token, inbound.reply_text) if token else None


def _words(line: str) -> str:
    """A line folded to words separated by single spaces, with apostrophes kept."""
    return " " + " ".join(re.sub(r"[^\w'-]+", " ", fold(line).replace("’", "'")).split()) + " "


def answer(text: str) -> str | None:
    """"yes", "no", or None when the member's first lines say neither or both.

    "Ja, graag!", "ja hoor", "Oui merci", "oui, d'accord.", "Yes please", "No thanks",
    "Nee, toch niet" (greetings and signatures are gone already: mailer/quotes.py)."""
    lines = [line for line in text.strip().splitlines() if line.strip()][:ANSWER_LINES]
    said = set()
    for line in lines:
        words = _words(line)
        # Phrases first: "boek maar" and "laat maar" hold the "maar" (but) of a condition.
        for phrases, meaning in ((YES_PHRASES, "yes"), (NO_PHRASES, "no")):
            for phrase in phrases:
                if f" {phrase} " in words:
                    said.add(meaning)
                    words = words.replace(f" {phrase} ", " ")
        if any(f" {phrase} " in words for phrase in UNSURE):
            return None
        for word in words.split():
            if word in _YES_WORDS:
                said.add("yes")
            elif word in _NO_WORDS:
                said.add("no")
        if said:
            break   # the first line that answers is the answer; the rest explains it
    return said.pop() if len(said) == 1 else None


def handle(command: Command, ctx: Context) -> list[Reply]:
    if not command.argument:
        # A bare JA/NEE to the group address: In-Reply-To alone authorises nothing.
        raise Refusal("consent/no-token")
    row = ledger.find_token(command.argument)
    if row is None:
        raise Refusal("consent/unknown")
    transfer = by_id(Transfer, row.transfer_id)
    if normalise_address(ctx.sender) != row.address:
        raise Refusal("consent/wrong-address")
    if disowned(ctx.mail):
        # A forged From with a token that leaked (a forwarded confirmation): the From
        # domain's DMARC policy disowns the mail. The token stays valid for the member.
        raise Refusal("consent/unauthenticated", transfer=transfer, address=ctx.sender)
    if row.used is not None or transfer.state not in ("pending", "draft"):
        raise Refusal("consent/already", transfer=transfer)
    if row.expires <= ctx.now or transfer.expires <= ctx.now:
        raise Refusal("consent/expired", transfer=transfer)
    said = answer(command.body)
    if said is None:
        raise Refusal("consent/unclear", transfer=transfer)
    if not ledger.use_token(row, ctx.now):
        raise Refusal("consent/already", transfer=transfer)
    if getattr(ctx.mail, "sender_auth", None) is not None:
        transfer = ledger.record_sender_auth(transfer, sender_auth(ctx.mail))
    if transfer.initiator == "claim":
        return claim.decide(transfer, said, row, ctx)
    if transfer.state == "draft":
        return proxy_invoice.decide(transfer, said, ctx)
    settings = ctx.settings
    if said == "no":
        transfer = ledger.decline(transfer, "rejected" if transfer.initiator == "payee" else "cancelled", ctx.now)
        replies = [Reply("consent/cancelled", {"transfer": transfer})]
        payee = _member(transfer.payee_id)
        if transfer.initiator == "payee" and address(payee, transfer):
            replies.append(Reply("consent/refused", {"transfer": transfer, "payer": _name(transfer.payer_id)},
                                 to=address(payee, transfer)))
        return replies
    if transfer.listing_id is None and ctx.mail is not None:
        # The confirmation may be what replies to the listing's mail or the digest.
        listing = listing_links.referenced([*ctx.mail.in_reply_to.split(), *ctx.mail.references],
                                           by_id(Account, transfer.payer_id), by_id(Account, transfer.payee_id))
        if listing is not None:
            transfer = ledger.link_listing(transfer, listing)
    try:
        booking = ledger.book(transfer, limits=settings.limits, now=ctx.now)
    except ledger.LedgerError as exc:
        if exc.code == "inactive":
            raise Refusal("trade/inactive", kind="pay", **exc.context) from None
        if exc.code != "over-lower":
            raise Refusal("consent/already", transfer=transfer) from None
        # The balance moved since the proposal. Rolled back with the rest of this mail:
        # the token stays valid, so JA may be sent again once there is room.
        raise Refusal("consent/over-lower", transfer=transfer, **exc.context) from None
    return receipts(booking, settings, ctx.now, answering=ctx.mail)


def _name(account_id: int) -> str:
    member = _member(account_id)
    return member.name if member else Account.get_by_id(account_id).name


def _member(account_id: int) -> Member | None:
    account = Account.get_by_id(account_id)
    return account.member if account.member_id else None
