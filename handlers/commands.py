"""The command table: which words, in which language, ask for which handler."""
from __future__ import annotations

import re
import unicodedata

from . import Command

# kind → words per language. Words are compared without case and accents. German words
# come as members type them: with umlauts (folded to u), and with ue/ae/oe where a
# keyboard has none (ZURUECKZIEHEN). A word two languages share (SALDO, LISTE, JA) keeps
# the language listed first: the German one only tells a member's command kind.
WORDS: dict[str, dict[str, tuple[str, ...]]] = {
    "offer": {"nl": ("aanbod",), "en": ("offer",), "fr": ("offre",), "de": ("angebot", "biete")},
    "request": {"nl": ("vraag",), "en": ("request", "wanted"), "fr": ("demande",), "de": ("gesuch", "suche")},
    "withdraw": {"nl": ("intrekken", "intrek"), "en": ("withdraw",), "fr": ("retirer",),
                 "de": ("zurückziehen", "zurueckziehen")},
    "renew": {"nl": ("verleng", "verlengen"), "en": ("renew",), "fr": ("prolonger",),
              "de": ("verlängern", "verlaengern", "verlängere", "verlaengere")},
    "list": {"nl": ("lijst",), "en": ("list",), "fr": ("liste",), "de": ("liste",)},
    "mine": {"nl": ("mijn",), "en": ("mine",), "fr": ("mes",), "de": ("meine",)},
    "balance": {"nl": ("saldo",), "en": ("balance",), "fr": ("solde",), "de": ("saldo", "kontostand")},
    "books": {"nl": ("boeken",), "en": ("books",), "fr": ("comptes",), "de": ("bücher", "buecher")},
    "help": {"nl": ("hulp",), "en": ("help",), "fr": ("aide",), "de": ("hilfe",)},
    "pay": {"nl": ("betaal", "betalen"), "en": ("pay",), "fr": ("payer", "paye"),
            "de": ("zahle", "zahlen", "bezahle", "bezahlen", "überweise", "ueberweise")},
    "invoice": {"nl": ("factuur",), "en": ("invoice",), "fr": ("facture",), "de": ("rechnung",)},
    "donate": {"nl": ("schenk", "schenken"), "en": ("donate",), "fr": ("donner", "don"), "de": ("spende", "spenden")},
    "consent": {"nl": ("ja", "nee"), "en": ("yes", "no"), "fr": ("oui", "non"), "de": ("ja", "nein")},
    "digest": {"en": ("digest",), "fr": ("resume",), "de": ("übersicht", "uebersicht")},
    "language": {"nl": ("taal",), "en": ("language",), "fr": ("langue",), "de": ("sprache",)},
    "only": {"nl": ("alleen",), "en": ("only",), "fr": ("seulement",), "de": ("nur",)},
    "respond": {"nl": ("reageer", "reageren"), "en": ("respond",), "fr": ("repondre",),
                "de": ("antworten", "antworte")},
    "objection": {"nl": ("bezwaar",), "en": ("object",), "fr": ("objection",), "de": ("einspruch",)},
    "join": {"nl": ("aanmelden",), "en": ("join",), "fr": ("adherer",), "de": ("anmelden", "beitreten")},
    "cancel": {"nl": ("opzeggen",), "en": ("cancel",), "fr": ("resilier",),
               "de": ("kündigen", "kuendigen", "kündigung", "kuendigung")},
    "claim": {"nl": ("declaratie", "declareer"), "en": ("claim",), "fr": ("declaration",), "de": ("abrechnung",)},
    # AGENDA ITEM is two words: AGENDA is the command word, handlers/agenda.py drops the ITEM.
    "agenda": {"nl": ("agendapunt",), "en": ("agenda",), "fr": ("point",), "de": ("tagesordnungspunkt",)},
}

# Commands whose argument is short: a line that says more is a sentence, not a command
# ("Mijn fiets is kapot" is not MIJN). Kinds not named take any argument.
MAX_ARGUMENT_WORDS = {"mine": 0, "balance": 0, "books": 0, "help": 1, "list": 3, "withdraw": 1, "renew": 1,
                      "donate": 1, "consent": 0,
                      "digest": 1, "language": 1, "only": 8, "join": 8, "cancel": 0}

# Commands that fit on one line: a reply to a digest may hold several, one per line.
LINE_KINDS = ("withdraw", "renew", "respond", "only", "digest", "language", "balance", "mine")

# Commands a short sentence may ask for: "Mijn saldo?", "Wat is mijn saldo", "help me
# please", "aide svp", "Quel est mon solde ?". Only those that change nothing and need
# no argument; the first listed wins ("mijn saldo" holds MIJN too).
SENTENCE_KINDS = ("balance", "list", "help")
SENTENCE_WORDS = 7

# Commands that mean nothing without their argument: a subject "Betalen" over a body
# "BETAAL 2 aan Piet voor soep" is a title, and the body's line is the command.
NEEDS_ARGUMENT = ("pay", "invoice", "donate", "withdraw", "renew", "respond", "language", "only", "claim",
                  "agenda")


def fold(word: str) -> str:
    """Lower case without accents: ADHÉRER and adherer are one word."""
    decomposed = unicodedata.normalize("NFKD", word.lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _lookup() -> dict[str, tuple[str, str]]:
    """Folded word → (kind, language); a word two languages share keeps the first."""
    found: dict[str, tuple[str, str]] = {}
    for kind, languages in WORDS.items():
        for language, words in languages.items():
            for word in words:
                found.setdefault(fold(word), (kind, language))
    return found


LOOKUP = _lookup()

# "Re:", "Antw:", "AW:", "Fwd:", "TR:", "RE :" and the like, possibly repeated or bracketed.
REPLY_PREFIX = re.compile(r"^\s*((re|antw|aw|sv|fwd?|tr|doorst|wg|réf|ref)\s*(\[\d+\])?\s*:\s*)+", re.I)
COMMAND_LINE = re.compile(r"^\s*[*#>]*\s*([^\W\d_]+)\s*:?\s*(.*)$", re.S)


def strip_reply_prefix(subject: str) -> tuple[str, bool]:
    match = REPLY_PREFIX.match(subject)
    if not match:
        return subject.strip(), False
    return subject[match.end():].strip(), True


def match(line: str) -> tuple[str, str, str] | None:
    """(kind, language, argument) when `line` starts with a command word."""
    found = COMMAND_LINE.match(line)
    if not found:
        return None
    hit = LOOKUP.get(fold(found.group(1)))
    if not hit:
        return None
    kind, language = hit
    argument = found.group(2).strip()
    if len(argument.split()) > MAX_ARGUMENT_WORDS.get(kind, 10**6):
        return None
    return kind, language, argument


# "Hoeveel zonnen heb ik nog?", "How many zonnen do I have left?", "Combien de zonnen me
# reste-t-il ?", "Wie viel Zon habe ich noch?": a question for the balance in the unit's own name.
HOW_MANY = {"hoeveel": "nl", "many": "en", "much": "en", "combien": "fr", "viel": "de", "wieviel": "de"}


def sentence(line: str, units=()) -> tuple[str, str] | None:
    """(kind, language) of the one read-only command a short sentence asks for. `units`:
    the names of the group's unit, as a balance question names them."""
    words = re.findall(r"[^\W\d_]+|\d+", fold(line))
    if not words or len(words) > SENTENCE_WORDS or any(word.isdigit() for word in words):
        return None
    asked = [HOW_MANY[word] for word in words if word in HOW_MANY]
    if asked and {fold(unit) for unit in units} & set(words):
        return "balance", asked[0]
    found = {LOOKUP[word] for word in words if word in LOOKUP and LOOKUP[word][0] in SENTENCE_KINDS}
    for kind in SENTENCE_KINDS:
        hits = [hit for hit in found if hit[0] == kind]
        if hits:
            return hits[0]
    return None


def _first_line(text: str) -> tuple[str, str]:
    lines = text.strip().split("\n", 1)
    return lines[0].strip(), (lines[1] if len(lines) > 1 else "").strip()


def route(subject: str, text: str, *, is_reply: bool = False, answers_us: bool = False, units=()) -> Command:
    """Find the command in the subject or, for replies and empty subjects, the first body
    line; failing both, a short sentence that asks for one read-only command.

    `answers_us`: the mail replies to one of our mails. Its "Re: …" subject is then our
    own subject, not the member's command: an auto-responder that answers "Aanbod en
    vragen" must not post an offer. Only the body counts."""
    subject, prefixed = strip_reply_prefix(subject)
    first, rest = _first_line(text)
    body_first = prefixed or is_reply or not subject
    candidates = [(first, rest), (subject, text)] if body_first else [(subject, text), (first, rest)]
    if answers_us and prefixed:
        candidates = [(first, rest)]
    bare = None
    for line, body in candidates:
        if line:
            hit = match(line)
            if hit:
                kind, language, argument = hit
                if not argument and kind in NEEDS_ARGUMENT:
                    bare = bare or Command(kind, language, argument, body.strip())
                    continue
                return Command(kind, language, argument, body.strip())
    if bare is not None:
        return bare
    for line, body in candidates:
        hit = sentence(line, units) if line else None
        if hit:
            return Command(hit[0], hit[1], "", body.strip())
    return Command("unknown", None, "", text.strip())


def route_all(subject: str, text: str, *, is_reply: bool = False, answers_us: bool = False,
              units=()) -> list[Command]:
    """Every command of a mail: consecutive one-line commands at the top of the body
    ("VERLENG 12", "INTREKKEN 7", "REAGEER 9 Graag!") are each a command; otherwise
    the one command `route` finds."""
    commands = []
    for line in text.strip().splitlines():
        if not line.strip():
            continue
        hit = match(line)
        if not hit or hit[0] not in LINE_KINDS:
            break
        kind, language, argument = hit
        commands.append(Command(kind, language, argument, ""))
    if len(commands) > 1:
        return commands
    return [route(subject, text, is_reply=is_reply, answers_us=answers_us, units=units)]
