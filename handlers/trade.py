"""BETAAL / FACTUUR / SCHENK (PAY / INVOICE / DONATE, PAYER / FACTURE / DONNER, ZAHLE /
RECHNUNG / SPENDE): propose a transfer; the payer always confirms by replying to a mail that
carries a one-time token."""
from __future__ import annotations

import re
from dataclasses import dataclass

from db import coordinators, ledger, listing_links, members
from db.models import Account, Member
from db.money import AmountError, parse_amount

from . import Command, Context, Refusal, Reply
from .authenticated import disowned, sender_auth, vouched
from .commands import WORDS, fold
from .receipt import receipts

# "12 aan piet@example.org voor fietsherstel", "12,50 to 7 for lessons", "12 à Claire pour …",
# "5 AN Piet FÜR Suppe" (German members write the small words in capitals too).
TRADE = re.compile(r"^(?P<amount>\S+)\s+(?:aan|naar|to|à|a|au|an)\s+(?P<who>.+?)"
                   r"(?:\s+(?:voor|for|pour|für|fuer)\s+(?P<what>.+))?$", re.S | re.I)
# FACTUUR OPEN 12 aan … : the payee accepts the risk of a payer at the lower limit.
AT_PAYEE_RISK = re.compile(r"^(?:open|ouverte?|offen)\s+", re.I)
# "voor #7" or "voor soep #7": the listing the trade is about.
LISTING_NUMBER = re.compile(r"(?:^|\s)#(\d{1,9})\b")
# A currency sign or word around the amount: "€3", "EUR 3", "3 euro". Payments are in
# the group's unit; the amount is read, but such a payment always waits for the payer's
# JA, whose mail names the unit, even where the mail's authentication would suffice.
CURRENCY = r"(?:€|eur(?:o|os)?\b\.?)"


@dataclass
class Terms:
    """What a PAY / INVOICE / DONATE line says, read before anything is looked up."""
    amount_text: str = ""
    who: str = ""
    description: str = ""
    payee_risk: bool = False
    currency: bool = False          # the member wrote € or EUR
    problem: str = ""               # "format" when the line cannot be read at all


def unit_words(settings) -> list[str]:
    """The unit's names as members write them: the settings' singular and plural, and the
    plural forms of the languages ("zon", "zonnen", "zons")."""
    unit, units = settings.group.unit, settings.group.units
    words = {unit, units, unit + "s", unit + "en", unit + "nen", "unit", "units", "unité", "unités",
             "einheit", "einheiten"}
    return sorted((word for word in words if word), key=len, reverse=True)


def read(command: Command, settings) -> Terms:
    """Split "2,50 zon aan Piet voor soep" into its terms."""
    argument, terms = command.argument.strip(), Terms()
    if command.kind == "invoice" and AT_PAYEE_RISK.match(argument):
        argument, terms.payee_risk = AT_PAYEE_RISK.sub("", argument, count=1), True
    units = "|".join(re.escape(word) for word in unit_words(settings))
    # "Piet 3 zon voor soep": the member first, as people also say it ("betaal Piet 3").
    named_first = re.match(rf"^(?P<who>[^\d€]+?)\s+(?P<rest>(?:{CURRENCY}\s*)?\d.*)$", argument, re.I | re.S)
    if (named_first and not re.match(r"^(?:aan|naar|to|à|a|au)\b", argument, re.I)
            and not re.fullmatch(CURRENCY, named_first.group("who").strip(), re.I)):
        rest = named_first.group("rest")
        split = re.match(rf"^(?P<amount>(?:{CURRENCY}\s*)?\d\S*(?:\s*(?:{CURRENCY}|(?:{units})\b))?)(?P<tail>.*)$",
                         rest, re.I | re.S)
        if split:
            argument = f"{split.group('amount')} aan {named_first.group('who')}{split.group('tail')}"
    amount = re.match(rf"^(?P<before>{CURRENCY})?\s*(?P<number>[+-]?\d[^\s€]*?)\s*"
                      rf"(?P<after>{CURRENCY}|(?:{units})\b)?(?=\s|$)", argument, re.I)
    if amount:
        terms.currency = bool(amount.group("before") or (amount.group("after") or "").lower().startswith(("€", "eur")))
        argument = amount.group("number") + argument[amount.end():]
    if command.kind == "donate":
        terms.amount_text = argument.split()[0] if argument.split() else ""
        terms.description = "donation to the solidarity fund"
        return terms
    found = TRADE.match(argument)
    if not found:
        terms.problem = "format"
        return terms
    terms.amount_text, terms.who = found.group("amount"), found.group("who")
    terms.description = (found.group("what") or command.body.split("\n", 1)[0]).strip()
    return terms


def token_headers(settings, token: str) -> dict[str, str]:
    """Replies go to group+t-TOKEN@domain; only the payer's mailbox ever sees it."""
    group = settings.group
    return {"Reply-To": f"{group.local_part}+t-{token}@{group.domain}"}


def counterparty(who: str, ctx: Context) -> Member:
    """The member named by address, number or a name that matches exactly one member."""
    who = who.strip().strip("<>").rstrip(".,;")
    shared = members.at_address(who) if "@" in who else []
    if len(shared) > 1:
        # A household's address names several members: the number or the name says which.
        raise Refusal("trade/ambiguous", who=who[:80],
                      candidates=[{"number": m.number, "name": m.name} for m in shared[:10]])
    found = members.by_number_or_address(who) if ("@" in who or who.lstrip("#").isdigit()) else None
    if found is None and who.lstrip("#").isdigit():
        found = members.by_number_or_address(who.lstrip("#"))
    if found is not None:
        return found
    if "@" in who or who.lstrip("#").isdigit():
        raise Refusal("trade/unknown-member", who=who[:80])
    words = fold(who).split()
    candidates = [m for m in Member.select().where(Member.status != "left").order_by(Member.number)
                  if all(word in fold(m.name).split() for word in words)]
    exact = [m for m in candidates if fold(m.name) == fold(who)]
    if len(exact) == 1 or len(candidates) == 1:
        return (exact or candidates)[0]
    if not candidates:
        raise Refusal("trade/unknown-member", who=who[:80])
    raise Refusal("trade/ambiguous", who=who[:80],
                  candidates=[{"number": m.number, "name": m.name} for m in candidates[:10]])


def _word(command: Command) -> str:
    """The command word as the member wrote it (FACTUUR, not the internal `invoice`)."""
    return WORDS[command.kind].get(command.language or "en", WORDS[command.kind]["en"])[0].upper()


def _amount(text: str, command: Command) -> int:
    try:
        return parse_amount(text)
    except AmountError as exc:
        raise Refusal("trade/invalid", word=_word(command), problem=exc.code, text=text[:40]) from None


def _refusal(exc: ledger.LedgerError, kind: str) -> Refusal:
    return Refusal(f"trade/{exc.code}", kind=kind, **exc.context)


def handle(command: Command, ctx: Context, *, entered_by: str = "") -> list[Reply]:
    """`entered_by` is the coordinator who writes for ctx.member (VOOR piet …)."""
    kind, settings = command.kind, ctx.settings
    if disowned(ctx.mail):
        # The From domain's DMARC policy disowns this mail: the member did not write it.
        raise Refusal("trade/unauthenticated", kind=kind, address=ctx.sender)
    own = members.account(ctx.member)
    terms = read(command, settings)
    payee_risk, description = terms.payee_risk, terms.description
    if terms.problem:
        raise Refusal("trade/invalid", word=_word(command), problem=terms.problem, text=command.argument[:80])
    amount = _amount(terms.amount_text, command)
    if kind == "donate":
        other, other_account = None, Account.get(Account.code == "solidarity")
    else:
        other = counterparty(terms.who, ctx)
        if other.id == ctx.member.id:
            raise Refusal("trade/same-account", kind=kind)
        if kind == "invoice" and payer_mailbox(other, settings)[0] is None:
            # Nobody could confirm it: a member without email pays through a coordinator.
            raise Refusal("trade/no-address", name=other.name)
        other_account = members.account(other)
    payer, payee = (other_account, own) if kind == "invoice" else (own, other_account)
    listing = _listing(description, ctx, payer, payee)
    if listing is not None and description.strip() == f"#{listing.id}":
        description = f"#{listing.id} {listing.title}"
    initiator = "payee" if kind == "invoice" else "proxy" if entered_by else "payer"
    # A coordinator's invoice (VOOR) is a draft until the coordinator's own tokened JA:
    # whoever forges the coordinator's From reaches only the coordinator, never the payer.
    draft = kind == "invoice" and bool(entered_by)
    confirmed_by = payer_mailbox(other, settings)[1] if kind == "invoice" and not draft else ""
    try:
        transfer = ledger.propose(payer, payee, amount, description, limits=settings.limits, now=ctx.now,
                                  initiator=initiator, confirm_days=settings.trades.confirm_days,
                                  source=ctx.inbound, listing=listing, entered_by=entered_by,
                                  payee_risk=payee_risk, draft=draft, confirmed_by=confirmed_by,
                                  sender_auth=sender_auth(ctx.mail))
    except ledger.LedgerError as exc:
        raise _refusal(exc, kind) from None
    if initiator == "payer" and not terms.currency and ctx.mail is not None and vouched(ctx.mail, settings):
        return receipts(_book(transfer, ctx, kind), settings, ctx.now, answering=ctx.mail)
    if kind == "invoice" and not draft:
        return ask_payer(transfer, other, ctx, on_behalf="")
    # The token goes to the sender's own mailbox: the payer's for a payment, the
    # coordinator's for a payment or an invoice written for a member without email.
    token = ledger.issue_token(transfer, ctx.sender, now=ctx.now, days=settings.trades.confirm_days)
    context = {"transfer": transfer, "token": token, "kind": kind, "on_behalf": _on_behalf(ctx, entered_by),
               "payer": _name(payer), "payee": _name(payee), "expires": transfer.expires}
    return [Reply("trade/proxy-invoice" if draft else "trade/confirm", context,
                  headers=token_headers(settings, token))]


def payer_mailbox(member: Member, settings) -> tuple[str | None, str]:
    """(the address that confirms an invoice to `member`, who confirms it for them): the
    member's own address, else the coordinator's; (None, "") when nobody can."""
    if member.primary_address:
        return member.primary_address, ""
    address = coordinators.for_member(member, settings.trades.coordinators)
    return address, coordinators.label(address) if address else ""


def ask_payer(transfer, payer: Member, ctx: Context, *, on_behalf: str) -> list[Reply]:
    """The invoice, with its token, to the payer's mailbox (never an address the mail
    named), and word to the sender that it went out. `on_behalf`: the payee a
    coordinator wrote it for."""
    settings = ctx.settings
    address, confirmed_by = payer_mailbox(payer, settings)
    if address is None:
        raise Refusal("trade/no-address", name=payer.name)
    token = ledger.issue_token(transfer, address, now=ctx.now, days=settings.trades.confirm_days)
    payee = _name(Account.get_by_id(transfer.payee_id))
    context = {"transfer": transfer, "token": token, "kind": "invoice", "on_behalf": on_behalf,
               "payer": payer.name, "payee": payee, "expires": transfer.expires,
               "for_payer": payer.name if confirmed_by else ""}
    ask = Reply("trade/invoice", context, to=address, headers=token_headers(settings, token))
    told = Reply("trade/invoice-sent", {"transfer": transfer, "payer": payer.name, "expires": transfer.expires,
                                        "on_behalf": on_behalf})
    return [ask, told]


def _on_behalf(ctx: Context, entered_by: str) -> str:
    return ctx.member.name if entered_by else ""


def _book(transfer, ctx: Context, kind: str) -> ledger.Booking:
    """The fast path: the mail itself is the payer's consent."""
    try:
        return ledger.book(transfer, limits=ctx.settings.limits, now=ctx.now)
    except ledger.LedgerError as exc:
        raise _refusal(exc, kind) from None


def _listing(description: str, ctx: Context, payer: Account, payee: Account):
    """The listing this trade is about: named as #7, or the listing mail it replies to."""
    named = LISTING_NUMBER.search(description)
    if named:
        found = listing_links.by_number(int(named.group(1)), payer, payee)
        if found is not None:
            return found
    if ctx.mail is None:
        return None
    return listing_links.referenced([*ctx.mail.in_reply_to.split(), *ctx.mail.references], payer, payee)


def _name(account: Account) -> str:
    return account.name if account.member_id is None else Member.get_by_id(account.member_id).name

