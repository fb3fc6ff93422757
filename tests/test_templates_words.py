"""Every word a member reads is in the member's language.

Every mail template is rendered in Dutch, English and French with the values the code and
the database really put into it: transfers booked by the ledger (a gift to the solidarity
fund, a contribution, a reversal, a budget allocation), every transfer state, member
status, category code, system account and levy. The Dutch and French mails must hold no
English word. Names and texts that members write are chosen to belong to no language
("Yoga", "An de Vries"), so whatever English shows came from the code or the database.
"""
from __future__ import annotations

import datetime as dt
import html
import itertools
import re
from types import SimpleNamespace as Row
from urllib.parse import unquote

import pytest
from markupsafe import Markup

from db import books, budgets, contributions, importing, members
from db.contributions import LEVY_BY
from db.forget import FORMER, placeholder
from db.models import MEMBER_STATUSES, TRANSFER_STATES, Account, Listing, Member, Transfer
from handlers import Command, Context
from handlers import balance as balance_handler
from handlers.commands import LOOKUP, fold
from mailer.runs import contributions as contribution_runs
from mailer.runs import trades
from mailer.message.compose import TEMPLATES, Composer
from mailer.runs.digest import run_scheduled
from mailer.runs.euro import FINE_BY

from test_trades import confirm

# Common English words that never belong in a Dutch or French mail (none of them is a
# Dutch or French word too: "in", "is", "of", "on", "transport", "association",
# "contribution", "budget" and "active" are left out for that reason).
ENGLISH = frozenset("""
    the and with from your you our this that have has been will would please thank thanks could
    should what which when where there their here to by at
    fund funds solidarity donation booked pending payment payments balance leaving left
    member members account accounts entered administrators settlement reversal unpaid refund
    suspended expelled applicant declined cancelled expired withdrawn draft waiting weekly daily
    garden gardening cooking lessons children clothing goods pets creative paperwork household
    other odd jobs care unsubscribe
""".split())
WORD = re.compile(r"[^\W\d_]+")
# What a mail shows but nobody reads as prose: addresses, links, tokens, command lines for
# the administrators (`lets member settle 7 --euro`).
NOT_PROSE = re.compile(r"mailto:\S+|https?://\S+|[\w.+-]+@[\w.-]+|\[[a-z]-[a-z2-7]+\]|\blets [a-z].*$", re.M)
TAG = re.compile(r"<[^>]+>")
HREF_SUBJECT = re.compile(r"\?subject=([^\"&]+)")

MEMBER_TEXT = "Yoga"          # what members write: titles, descriptions, reasons, messages
WHEN = dt.datetime(2026, 11, 23, 10, 0)
# The ledger's own descriptions that the fixture below does not book itself, as the code
# writes them (mailer/runs/euro.py, db/departures.py, db/budgets.py).
MORE_DESCRIPTIONS = ["fine: euro contribution 2026 unpaid", "settlement on leaving: EUR 12.50",
                     f"claim Eco 2026-11: {MEMBER_TEXT}", importing.DESCRIPTION]
KINDS = ("offer", "request", "pay", "invoice", "donate", "cancel", "claim")


def english_words(text: str) -> list[tuple[str, str]]:
    """(word, line) for each English word of `text`; a command word in capitals is what
    the member types, in any language, and counts as none."""
    found = []
    for line in NOT_PROSE.sub(" ", text).splitlines():
        for word in WORD.findall(line):
            if word.isupper() and fold(word) in LOOKUP:
                continue
            if word.lower() in ENGLISH:
                found.append((word, line.strip()))
    return found


def readable(subject: str, text: str, html_body: str) -> str:
    """Everything of a mail a member reads: the subject, the text, the HTML's text and the
    subjects its mailto: links start a mail with."""
    subjects = [unquote(s) for s in HREF_SUBJECT.findall(html_body)]
    return "\n".join([subject, text, html.unescape(TAG.sub(" ", html_body)), *subjects])


def mail_templates() -> list[str]:
    """Every mail of the one template tree."""
    return sorted(str(path.relative_to(TEMPLATES).with_suffix("")) for path in TEMPLATES.glob("*/*.txt")
                  if path.parts[-2] != "locale" and not path.name.startswith("_"))



@pytest.fixture
def ledger(group, an, piet, claire, clock):
    """A ledger as the code writes it: An's gift to the solidarity fund (by mail, with her
    JA), a quarter's contribution for everyone, a budget allocation and the reversal of
    the gift by an administrator."""
    group.mail("an@example.org", "SCHENK 5")
    confirm(group, "an@example.org", group.last("an@example.org"), "JA")
    gift = Transfer.get(Transfer.state == "booked")
    contribution_runs.run(group.settings, contributions.parse_period("2026Q4"), now=WHEN)
    budget = budgets.create("Eco", piet)
    budgets.allocate(budget, 2000, settings=group.settings, now=WHEN, entered_by="admin")
    trades.reverse(group.settings, gift.number, now=WHEN, entered_by="admin")
    return list(Transfer.select().where(Transfer.state == "booked").order_by(Transfer.number))


def party_name(account_id: int) -> str:
    account = Account.get_by_id(account_id)
    return Member.get_by_id(account.member_id).name if account.member_id else account.name


def contexts(composer: Composer, language: str, rows: list[Transfer]):
    """One context per scenario: each value the code or the database may put in a slot
    comes round in turn (every state, status, category, system account, description);
    even scenarios fill every optional part of a mail, odd ones leave them out."""
    codes = composer.settings.listings.categories.codes
    descriptions = [row.description for row in rows] + MORE_DESCRIPTIONS
    parties = sorted({party_name(row.payer_id) for row in rows} | {party_name(row.payee_id) for row in rows}
                     | set(members.SYSTEM_ACCOUNTS.values()) | {importing.OPENING[1], FORMER["en"].format(number=3)})
    entered = [LEVY_BY, FINE_BY, "admin", "import", placeholder(3), "Piet Jansen <piet@example.org>"]
    problems = ("format", "zero", "negative", "too-large", "too-precise", "future")
    rounds = max(len(codes), len(TRANSFER_STATES), len(MEMBER_STATUSES), len(descriptions), len(parties))
    poster = Row(name="Claire Dubois", number=3, primary_address="claire@example.org")
    for i in range(rounds):
        full = i % 2 == 0
        pick = lambda values: values[i % len(values)]  # noqa: E731
        row = rows[i % len(rows)]
        transfer = Row(**{**row.__data__, "description": pick(descriptions), "state": pick(TRANSFER_STATES),
                          "expires": WHEN + dt.timedelta(days=14), "entered_by": pick(entered) if full else "",
                          "confirmed_by": "Piet Jansen <piet@example.org>" if full else "", "payee_risk": full})
        listing = Row(id=12 + i, title=MEMBER_TEXT, description=MEMBER_TEXT if full else "",
                      kind=pick(("offer", "request")), category=pick(codes), level="S" if full else "",
                      rate_text="10 zon" if full else "", expires=WHEN.date(), member=poster, status="active")
        item = {"id": listing.id, "title": MEMBER_TEXT, "category": listing.category, "level": "S",
                "rate_text": "10 zon", "poster": poster.name, "number": poster.number,
                "reply": "mailto:claire@example.org?subject=Re%3A%20Yoga"}
        groups = [(pick(codes), [item]), (codes[(i + 1) % len(codes)], [item])]
        fragments = {}
        for kind, block in (("offer", "offers"), ("request", "requests")):
            fragment = {**composer.common(language), "kind": kind, "groups": groups}
            fragments[block] = composer.env.get_template(
                composer.source("digest/_listings", "txt")).render(fragment)
            fragments[block + "_html"] = Markup(
                composer.env.get_template(composer.source("digest/_listings", "html")).render(fragment))
        payee, payer = pick(parties), parties[(i + 1) % len(parties)]
        yield {
            **fragments,
            "transfer": transfer, "listing": listing, "kind": pick(KINDS), "role": pick(("payer", "payee")),
            "payer": payer, "payee": payee, "party": pick(parties),
            "name": "An de Vries", "status": pick(MEMBER_STATUSES), "problem": pick(problems),
            "category": pick(codes), "categories": list(codes), "given_category": full,
            "unknown_category": MEMBER_TEXT if full else "", "unknown": [MEMBER_TEXT],
            "given": MEMBER_TEXT, "text": MEMBER_TEXT, "body": MEMBER_TEXT, "subject": MEMBER_TEXT,
            "reason": MEMBER_TEXT, "named": MEMBER_TEXT if full else "", "who": MEMBER_TEXT,
            "word": pick(("BETAAL", "PAY", "PAYER")), "on_behalf": "Piet Jansen" if full else "",
            "for_payer": "Piet Jansen" if full else "", "claimant": "An de Vries", "holder": "Piet Jansen",
            "budget": "Eco", "budgets": ["Eco"] if full else [], "month": "2026-11", "period": "2026Q4",
            "year": 2026, "euro_year": 2026, "amount": 1250, "balance": -2500 if full else 4000,
            "lower": -30000, "upper": 30000, "room": 1000, "left": 5000, "fine": 2000, "euro": 1250,
            "euro_owed": 1800 if full else 0, "owed": 1800, "owed_total": 3600 if full else 0, "paid": 900,
            "waived": 300 if full else 0, "surcharge": 250, "charges": [Row(kind=k, amount=1800) for k in (
                "contribution", "registration", "surcharge", "refund")], "iban": "NL00 BANK 0123 4567 89",
            "reference": "LETS-2026-0001-53", "reminder": 1, "reminder_after": 3, "months": 9, "since": WHEN,
            "date": WHEN.date(), "paid_on": WHEN.date(), "given_date": WHEN.date(), "deadline": WHEN.date(),
            "effective": WHEN.date(), "expires": WHEN, "immediate": full, "capped": full, "already": full,
            "approved": full, "below": full, "token": "abcdefghijkmnpqrstuvwxyz2", "mode": pick(("digest", "now")),
            "choice": pick(("weekly", "daily", "instant", "off")), "audience": 42, "count": 3, "days": 90,
            "limit": 60, "number": 7, "address": "an@example.org", "responder": poster,
            "responder_address": "claire@example.org" if full else "", "poster": poster,
            "member": Row(name="An de Vries", number=1), "members": [Row(name="An de Vries", number=1),
                                                                    Row(name="Bo de Vries", number=4)],
            "candidates": [{"number": 1, "name": "An de Vries"}, {"number": 4, "name": "Bo de Vries"}],
            "errors": [("level", MEMBER_TEXT), ("rate", MEMBER_TEXT), ("expires", MEMBER_TEXT),
                       ("expires-past", "2020-01-01")] if full else [],
            "advice": {"first": full, "balance": 28000, "limit": 30000, "side": pick(("upper", "lower")),
                       "matches": i % 3} if full else None,
            "active": [listing] if full else [], "expired": [listing] if full else [],
            "expiring": [listing] if full else [], "truncated": full, "show_addresses": full,
            "blocks": ["alerts", "offers", "requests", "balance", "transfers", "expiring", "summary",
                       "announcements"],
            "alerts": ["negative-no-offer", "positive-no-request", "expired", "pending"] if full else [],
            "pending": [{"amount": 500, "payee": payee, "description": pick(descriptions), "created": WHEN,
                         "expires": WHEN, "booked": 200 if full else 0, "owed_euro": 350 if full else 0}],
            "transfers": [{"number": 9, "date": WHEN.date(), "amount": -500, "description": d}
                          for d in descriptions],
            "summary": {"members": 42, "highest": 30000, "lowest": -30000, "volume": 12000},
            "announcements": [Row(subject=MEMBER_TEXT, body=MEMBER_TEXT)] if full else [],
            "activities": [{"title": "Yoga", "start": WHEN, "place": MEMBER_TEXT if full else "", "price": 200,
                            "signup": True, "free": i % 2, "address": "lets+e-abc@lets.example",
                            "mine": ("signed", "waiting", "")[i % 5 % 3]}] if i % 3 else [],
            "until": WHEN.date(), "only": composer.settings.listings.categories.names(language)[:2] if full else [],
            "unsubscribe": "lets+u-1-abc@lets.example", "head": "0123456789ab", "not_understood": full,
            "refuse": {"token": "abcdefghijkmnpqrstuvwxyz2", "until": WHEN} if full else None, "reversal": transfer,
            "done": full, "hint": pick(("pay", "invoice", "offer", "request", "balance", "withdraw")) if full else None,
        }


def overrides(template: str, context: dict, language: str, balance: dict, composer: Composer) -> dict:
    """Where a name means something else in one template, the value its handler gives."""
    if template == "balance/shown":
        return {**context, **balance}
    if template.startswith("refuse/"):      # the refusal's last moment (handlers/refuse.py)
        return {**context, "until": WHEN}
    if template == "books/shown":         # the ledger's own figures, each way a group may show them
        return {**context, "books": books.build(books.SHOWN[context["listing"].id % 3], WHEN.date())}
    if template == "preferences/only-set":
        # Its handler names the categories in the member's language (handlers/preferences.py).
        return {**context, "categories": composer.settings.listings.categories.names(language)[:2]}
    if template == "list/shown":
        offers = [context["listing"]]
        return {**context, "offers": offers, "requests": offers if context["given_category"] else []}
    if template == "trade/inactive":      # the other party: a member, maybe one forgotten
        return {**context, "name": context["party"]}
    if template == "respond/sent":
        return {**context, "poster": context["poster"].name}
    if template.startswith("join/"):      # 18 or older: said, or not yet
        return {**context, "adult": context["immediate"]}
    if template == "euro/core-group-years":       # article 22.1: every unpaid year
        return {**context, "category": "B", "unpaid": [(2025, 1800), (2026, 2050)], "years": [2025, 2026]}
    if template.startswith("euro/"):      # the income category; the fine's transfer number
        return {**context, "category": "B", "transfer": context["transfer"].number}
    if template.startswith(("cancel/", "leaving/")):
        return {**context, "given": WHEN.date(), "continues": WHEN.date(), "notice_by": WHEN.date(),
                "cancel_months": 1 if context["immediate"] else 2}
    if template.startswith("donor/"):          # the donor's gifts so far this year
        return {**context, "year_total": context["amount"] * (2 if context["immediate"] else 1)}
    if template == "meeting/invitation" or template.startswith("agenda/"):     # article 9.3
        return {**context, "place": MEMBER_TEXT if context["immediate"] else "", "agenda": MEMBER_TEXT}
    if template in ("member/warned", "member/terminated", "member/appeal"):    # article 22
        return {**context, "appeal_until": WHEN.date(), "outcome": "overturned" if context["immediate"] else "upheld",
                "kind": "terminate" if context["immediate"] else "warning"}
    if template.startswith("activity/"):       # handlers/activity.py: the activity's public fields
        problems = {"activity/invalid": ("past", "capacity", "price", "incomplete", "unreadable", "payee", "repeat"),
                    "activity/token": ("already", "expired", "unclear", "unknown"),
                    "activity/refused": ("twice", "cancelled", "closed", "not-member", "not-signed", "too-late",
                                         "no-signup", "too-many", "unclear", "not-organiser", "limit",
                                         "not-organiser-change", "disowned", "move-past",
                                         "move-unreadable")}.get(template, ("",))
        repeats = ({"kind": "monthly-day", "interval": 1, "nth": 1, "until": WHEN.date()},
                   {"kind": "weekly", "interval": 2, "nth": None, "until": None},
                   {"kind": "monthly-day", "interval": 1, "nth": -1, "until": None},
                   {"kind": "monthly-date", "interval": 2, "nth": None, "until": None},
                   {"kind": "weekly", "interval": 1, "nth": None, "until": None},
                   {"kind": "monthly-day", "interval": 1, "nth": 2, "until": None},
                   {"kind": "monthly-day", "interval": 1, "nth": 3, "until": None},
                   {"kind": "monthly-day", "interval": 1, "nth": 4, "until": None})
        full = context["immediate"]
        return {**context, "title": "Yoga", "start": WHEN, "place": MEMBER_TEXT if full else "",
                "description": MEMBER_TEXT, "capacity": 3 if full else None, "price": 200 if full else None,
                "payee": "association" if full else "organiser", "organiser": "An de Vries", "signup": full,
                "readers": 3, "places": 2 if full else 1, "cancel_hours": 24, "hours": 24,
                "was": "signed" if full else "waiting", "code": "abcdefghijkmnpqrstuvwxyz2", "value": MEMBER_TEXT,
                "state": "waiting" if full else "signed", "taken": 2, "placed": full,
                "people": [{"name": "Piet Jansen", "places": 1, "waiting": False},
                           {"name": "Bo de Vries", "places": 2, "waiting": True}] if full else [],
                "problem": problems[len(context["problem"]) % len(problems)],
                "change": ("signed", "waiting", "cancelled", "")[len(context["problem"]) % 4], "who": "Piet Jansen",
                "activities": [{"title": "Yoga", "start": WHEN, "place": MEMBER_TEXT, "price": 200, "capacity": 3,
                                "free": 0 if full else 2, "signup": full,
                                "address": "lets+e-abcdefghijkmnpqrstuvwxyz2@lets.example"}] if full else [],
                "finish": WHEN + dt.timedelta(hours=3) if full else None, "same_day": True,
                "euro": 350 if full else None, "budget": "repaircafe",
                "repeat": repeats[len(context["problem"]) % len(repeats)] if full else None,
                "charge": "signup" if full else "after", "dates": [WHEN, WHEN + dt.timedelta(days=28)] if full else [],
                "paid": full, "refunded": full, "is_organiser": full, "calloff": full, "number": 7,
                "reason": MEMBER_TEXT if full else "", "before": WHEN - dt.timedelta(days=7), "told": 3,
                "token": "abcdefghijkmnpqrstuvwxyz2", "prefix": "v", "whole": full, "approval": full,
                "expires": WHEN, "booked": 200 if full else 0, "owed_euro": 350 if full else 0}
    return context


@pytest.mark.parametrize("language", ["nl", "en", "fr", "de"])
def test_every_mail_template_speaks_only_the_readers_language(group, ledger, an, language):
    composer = Composer(group.settings)
    reply = balance_handler.handle(Command("balance", language), Context(
        settings=group.settings, sender="an@example.org", member=an, inbound=None, now=WHEN))[0]
    found = []
    for template, context in itertools.product(mail_templates(), list(contexts(composer, language, ledger))):
        context = overrides(template, context, language, reply.context, composer)
        subject, text, html_body = composer.render(template, language, context)
        if language == "en":
            continue      # rendered for its errors only
        found += [f"{template}: {word!r} in {line[:120]!r}"
                  for word, line in english_words(readable(subject, text, html_body))]
    assert not found, f"{len(set(found))} English words in {language} mails:\n" + "\n".join(sorted(set(found))[:60])


def test_the_web_pages_speak_only_the_readers_language(group):
    composer = Composer(group.settings)
    pages = sorted(path.name for path in (TEMPLATES / "web").glob("*.html"))
    assert pages
    for language, done in itertools.product(("nl", "fr"), (True, False)):
        for name in pages:
            page = composer.env.get_template(composer.source(f"web/{name[:-5]}", "html")).render(
                {**composer.common(language), "done": done})
            assert not english_words(readable("", "", page)), name


def test_a_dutch_and_a_french_member_read_only_their_own_language(group, an, claire, piet, clock):
    """Through the pipeline: offers in English categories, a gift to the solidarity fund,
    its reversal, a contribution, the statement, the list, ONLY and the digest."""
    group.mail("piet@example.org", "AANBOD: Yoga", "Categorie: GARDEN\n")
    group.mail("claire@example.org", "OFFRE: Yoga", "Catégorie: pets\n")
    group.mail("an@example.org", "VRAAG: Yoga", "Categorie: lessons\n")
    for sender, donate in (("an@example.org", "SCHENK 5"), ("claire@example.org", "DONNER 5")):
        group.mail(sender, donate)
        confirm(group, sender, group.last(sender), "JA" if "an@" in sender else "OUI")
    gift = Transfer.select().where(Transfer.state == "booked").order_by(Transfer.number).first()
    trades.reverse(group.settings, gift.number, now=clock.now, entered_by="admin")
    contribution_runs.run(group.settings, contributions.parse_period("2026Q4"), now=clock.now)
    for sender, commands in (("an@example.org", ("SALDO", "LIJST", "LIJST garden", "ALLEEN garden, pets")),
                             ("claire@example.org", ("SOLDE", "LISTE", "LISTE tuin", "SEULEMENT Garden"))):
        for command in commands:
            group.mail(sender, command)
    Listing.update(created=clock.now).execute()
    clock.now = dt.datetime(2026, 11, 30, 6, 30)
    run_scheduled(group.settings, clock.now, group.processor.composer)
    read = {"an@example.org": [], "claire@example.org": []}
    for mail in group.outbox():
        if mail.recipient in read:
            read[mail.recipient].append(mail)
    assert len(read["an@example.org"]) >= 9 and len(read["claire@example.org"]) >= 9
    found = [f"{mail.recipient} {mail.subject!r}: {word!r} in {line[:100]!r}"
             for mails in read.values() for mail in mails
             for word, line in english_words(readable(mail.subject, mail.text, mail.html))]
    assert not found, "\n".join(found)
    dutch = "\n".join(m.text for m in read["an@example.org"])
    french = "\n".join(m.text for m in read["claire@example.org"])
    assert "Solidariteitsfonds" in dutch and "schenking aan het solidariteitsfonds" in dutch
    assert "terugboeking van #" in dutch and "contributie 2026Q4" in dutch
    assert "Fonds de solidarité" in french and "don au fonds de solidarité" in french
    assert "(Tuin)" in dutch and "(Huisdieren)" in dutch and "(Jardin)" in french and "(Animaux)" in french
