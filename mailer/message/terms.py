"""Words the code or the database puts into a mail, in the reader's language: the state of
a transfer, a member's status, the names of the group's own accounts, who entered a
transfer, what is wrong with an amount, and the ledger's own descriptions.

The ledger keeps the descriptions it wrote itself ("donation to the solidarity fund",
"contribution 2026Q4") as they were booked: they are under the hash chain, and the
command line and exports show them as stored. Mails show them in the reader's words;
a description a member wrote is shown as written.
"""
from __future__ import annotations

import re
from collections.abc import Callable
from decimal import Decimal

from db.forget import FORMER
from db.importing import DESCRIPTION as OPENING_DESCRIPTION, OPENING
from db.members import SYSTEM_ACCOUNTS

# As "X is now …" / "het is nu …" / "état : …" of a proposal.
TRANSFER_STATES = {
    "pending": {"nl": "wacht op bevestiging", "en": "waiting for confirmation", "fr": "en attente de confirmation",
                "de": "wartet auf Bestätigung"},
    "open": {"nl": "wacht op ruimte onder een limiet", "en": "waiting for room under a limit",
             "fr": "en attente de marge sous une limite", "de": "wartet auf Spielraum unter einem Limit"},
    "booked": {"nl": "geboekt", "en": "booked", "fr": "inscrite", "de": "gebucht"},
    "rejected": {"nl": "afgewezen", "en": "declined", "fr": "refusée", "de": "abgelehnt"},
    "expired": {"nl": "verlopen", "en": "expired", "fr": "expirée", "de": "abgelaufen"},
    "cancelled": {"nl": "geannuleerd", "en": "cancelled", "fr": "annulée", "de": "storniert"},
    "draft": {"nl": "nog niet bevestigd door de coördinator", "en": "not yet confirmed by the coordinator",
              "fr": "pas encore confirmée par le coordinateur",
              "de": "noch nicht von der Koordination bestätigt"},
}

# As "Piet is …" / "Piet is …" / "Piet est …".
MEMBER_STATUSES = {
    "applicant": {"nl": "nog geen lid (de aanmelding loopt)", "en": "not a member yet (the application is open)",
                  "fr": "pas encore membre (l'adhésion est à l'examen)",
                  "de": "noch kein Mitglied (die Anmeldung läuft)"},
    "active": {"nl": "lid", "en": "a member", "fr": "membre", "de": "Mitglied"},
    "suspended": {"nl": "geschorst", "en": "suspended", "fr": "suspendu(e)", "de": "gesperrt"},
    "leaving": {"nl": "aan het vertrekken (heeft opgezegd)", "en": "leaving the group (has given notice)",
                "fr": "sur le départ (a résilié son adhésion)",
                "de": "auf dem Weg hinaus (hat gekündigt)"},
    "left": {"nl": "geen lid meer", "en": "no longer a member", "fr": "sorti(e) du groupe",
             "de": "kein Mitglied mehr"},
    "refused": {"nl": "niet als lid aangenomen", "en": "not admitted as a member", "fr": "non admis(e) comme membre",
                "de": "nicht als Mitglied aufgenommen"},
    "expelled": {"nl": "uitgesloten", "en": "expelled", "fr": "exclu(e)", "de": "ausgeschlossen"},
}

# The group's own accounts (db.members.SYSTEM_ACCOUNTS), by code.
ACCOUNTS = {
    "association": {"nl": "Vereniging", "en": "Association", "fr": "Association", "de": "Verein"},
    "solidarity": {"nl": "Solidariteitsfonds", "en": "Solidarity fund", "fr": "Fonds de solidarité",
                   "de": "Solidaritätsfonds"},
    OPENING[0]: {"nl": "Beginsaldi", "en": "Opening balances", "fr": "Soldes d'ouverture", "de": "Anfangssalden"},
}
_ACCOUNT_BY_NAME = {name: ACCOUNTS[code] for code, name in {**SYSTEM_ACCOUNTS, OPENING[0]: OPENING[1]}.items()}
# A forgotten member's name, written in the group's language when it was forgotten.
_FORMER = re.compile("|".join(re.escape(f).replace(r"\{number\}", r"(\d+)") for f in FORMER.values()) + "$")
_FORMER_ADDRESS = re.compile(r"former-member-(\d+)@forgotten\.invalid$")

# Who entered a transfer, when the code did (db/contributions.LEVY_BY, mailer/runs/euro.FINE_BY)
# or an administrator at the command line (`--by`, default "admin"; `lets import`: "import").
ENTERED_BY = {
    "admin": {"nl": "de beheerders", "en": "the administrators", "fr": "les administrateurs",
              "de": "die Verwaltung"},
    "contributions": {"nl": "de inning van de contributie", "en": "the collection of contributions",
                      "fr": "le prélèvement des cotisations",
                      "de": "den Einzug der Mitgliedsbeiträge"},
    "euro": {"nl": "de jaarafsluiting van de contributie in euro", "en": "the year end of the euro contribution",
             "fr": "la clôture annuelle de la cotisation en euros",
             "de": "den Jahresabschluss des Beitrags in Euro"},
    "refund": {"nl": "de terugbetaling", "en": "the refund", "fr": "le remboursement",
               "de": "die Rückerstattung"},
    "import": {"nl": "de overname uit het vorige systeem", "en": "the import from the former system",
               "fr": "la reprise de l'ancien système",
               "de": "die Übernahme aus dem früheren System"},
    "activity": {"nl": "de prijs van een activiteit", "en": "an activity's price", "fr": "le prix d'une activité",
                 "de": "den Preis einer Aktivität"},
}

# db.money.AmountError codes, as "(…)" after "could not read … as an amount".
AMOUNT_PROBLEMS = {
    "format": {"nl": "geen getal", "en": "not a number", "fr": "pas un nombre", "de": "keine Zahl"},
    "zero": {"nl": "nul is geen bedrag", "en": "zero is not an amount", "fr": "zéro n'est pas un montant",
             "de": "null ist kein Betrag"},
    "negative": {"nl": "een bedrag is nooit negatief", "en": "an amount is never negative",
                 "fr": "un montant n'est jamais négatif", "de": "ein Betrag ist nie negativ"},
    "too-large": {"nl": "te groot", "en": "too large", "fr": "trop grand", "de": "zu groß"},
    "too-precise": {"nl": "hoogstens twee cijfers achter de komma", "en": "at most two decimals",
                    "fr": "deux décimales au plus", "de": "höchstens zwei Nachkommastellen"},
}

# The descriptions the ledger writes itself (db/ledger.py, db/contributions.py, db/budgets.py,
# db/departures.py, mailer/runs/euro.py, handlers/trade.py), as the pattern they were booked with.
DESCRIPTIONS: list[tuple[re.Pattern, dict[str, str]]] = [
    (re.compile(re.escape(OPENING_DESCRIPTION)),
     {"nl": "beginsaldo uit het vorige systeem", "en": OPENING_DESCRIPTION,
      "fr": "solde d'ouverture repris de l'ancien système",
      "de": "Anfangssaldo aus dem früheren System"}),
    (re.compile(r"donation to the solidarity fund"),
     {"nl": "schenking aan het solidariteitsfonds", "en": "donation to the solidarity fund",
      "fr": "don au fonds de solidarité", "de": "Spende an den Solidaritätsfonds"}),
    (re.compile(r"contribution (?P<period>\d{4}(?:Q[1-4]|-\d{2})?)"),
     {"nl": "contributie {period}", "en": "contribution {period}", "fr": "cotisation {period}",
      "de": "Mitgliedsbeitrag {period}"}),
    (re.compile(r"fine: euro contribution (?P<year>\d{4}) unpaid"),
     {"nl": "boete: contributie in euro {year} niet betaald", "en": "fine: euro contribution {year} unpaid",
      "fr": "amende : cotisation en euros {year} impayée",
      "de": "Strafgebühr: Beitrag in Euro {year} nicht bezahlt"}),
    (re.compile(r"settlement on leaving: EUR (?P<euro>\d+\.\d{2})"),
     {"nl": "afrekening bij vertrek: {euro}", "en": "settlement on leaving: {euro}",
      "fr": "règlement au départ : {euro}", "de": "Abrechnung beim Austritt: {euro}"}),
    (re.compile(r"budget allocation: (?P<budget>.+)", re.S),
     {"nl": "toewijzing aan budget {budget}", "en": "budget allocation: {budget}",
      "fr": "dotation du budget {budget}", "de": "Zuweisung an das Budget {budget}"}),
    (re.compile(r"claim (?P<budget>.+?) (?P<month>\d{4}-\d{2}): (?P<what>.*)", re.S),
     {"nl": "declaratie {budget} {month}: {what}", "en": "claim {budget} {month}: {what}",
      "fr": "déclaration {budget} {month} : {what}",
      "de": "Abrechnung {budget} {month}: {what}"}),
    (re.compile(r"reversal of #(?P<number>\d+): (?P<original>.*)", re.S),
     {"nl": "terugboeking van #{number}: {original}", "en": "reversal of #{number}: {original}",
      "fr": "contre-passation du n° {number} : {original}",
      "de": "Rückbuchung von #{number}: {original}"}),
]


def _pick(table: dict[str, dict[str, str]], value: str, language: str) -> str:
    words = table.get(value)
    return words.get(language, words["en"]) if words else value


def transfer_state(state: str, language: str) -> str:
    return _pick(TRANSFER_STATES, state, language)


def member_status(status: str, language: str) -> str:
    return _pick(MEMBER_STATUSES, status, language)


def amount_problem(code: str, language: str) -> str:
    return _pick(AMOUNT_PROBLEMS, code, language)


def party(name: str, language: str) -> str:
    """An account holder's name: a member's as written, the group's own accounts and
    forgotten members in the reader's words."""
    words = _ACCOUNT_BY_NAME.get(name)
    if words:
        return words.get(language, words["en"])
    former = _FORMER.match(name)
    if former:
        number = next(group for group in former.groups() if group)
        return FORMER.get(language, FORMER["en"]).format(number=number)
    return name


def entered_by(who: str, language: str) -> str:
    """Who entered a transfer: a coordinator as "Name <address>", or the code's own words."""
    former = _FORMER_ADDRESS.match(who)
    if former:
        return FORMER.get(language, FORMER["en"]).format(number=former.group(1))
    return _pick(ENTERED_BY, who, language)


def description(text: str, language: str, euro: Callable[[int], str]) -> str:
    """A transfer's description; those the ledger wrote itself in the reader's language.
    `euro` formats euro cents for the reader."""
    for pattern, words in DESCRIPTIONS:
        found = pattern.fullmatch(text)
        if not found:
            continue
        values = found.groupdict()
        if "original" in values:
            values["original"] = description(values["original"], language, euro)
        if "euro" in values:
            values["euro"] = euro(int(Decimal(values["euro"]) * 100))
        return words.get(language, words["en"]).format(**values)
    return text
