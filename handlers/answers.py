"""How members say yes or no, and which token a reply carries: read by every answer to
a question we asked (a payment's confirmation, a receipt's refusal, a notice, an announcement)."""
from __future__ import annotations

import re

from .commands import fold

TOKEN = r"([a-z2-7]{24})"
SUBJECT_TOKEN = re.compile(r"\[t-" + TOKEN + r"\]", re.I)
# The one-word answers our mails ask for; announcements read a mode word after them.
YES = {"ja", "yes", "oui"}
NO = {"nee", "no", "non", "nein"}

# How people say yes and no around those words, compared folded (no case or accents:
# written here without umlauts, "naturlich", with the ue form beside it),
# as whole words or phrases. Phrases are read first: "no problem" is a yes, "toch niet"
# a no, "weet ik niet" neither.
SAY_YES = {
    "nl": ("ja", "jawel", "jazeker", "jaja", "jep", "ok", "oke", "okay", "akkoord", "prima", "graag", "goed",
           "klopt", "correct", "bevestig", "bevestigd", "zeker", "natuurlijk", "top", "perfect", "uitstekend"),
    "en": ("yes", "yep", "yeah", "yup", "ok", "okay", "sure", "agreed", "agree", "confirm", "confirmed", "correct",
           "fine", "certainly", "absolutely", "definitely", "please"),
    "fr": ("oui", "ouais", "ok", "okay", "accord", "d'accord", "parfait", "volontiers", "confirme", "confirmer",
           "certainement", "absolument", "entendu", "exact", "correct", "impeccable"),
    "de": ("ja", "jawohl", "jep", "jo", "ok", "okay", "gerne", "gern", "klar", "passt", "genau", "richtig",
           "stimmt", "einverstanden", "bestatige", "bestaetige", "bestatigt", "bestaetigt", "sicher",
           "naturlich", "natuerlich", "selbstverstandlich", "selbstverstaendlich", "perfekt", "prima", "super"),
}
SAY_NO = {
    "nl": ("nee", "neen", "nooit", "annuleer", "annuleren", "weiger", "weigeren", "stop"),
    "en": ("no", "nope", "nah", "cancel", "decline", "declined", "refuse", "never"),
    "fr": ("non", "annuler", "annulez", "annule", "refuse", "refuser", "jamais"),
    "de": ("nein", "nee", "niemals", "abbrechen", "stornieren", "storniere", "ablehnen", "lehne"),
}
YES_PHRASES = ("geen probleem", "geen bezwaar", "waarom niet", "doe maar", "boek maar", "ga maar", "ga je gang",
               "no problem", "no worries", "why not", "go ahead", "of course", "please do",
               "pas de probleme", "pas de souci", "pourquoi pas", "sans probleme", "bien sur", "avec plaisir",
               "allez-y", "vas-y",
               "in ordnung", "kein problem", "geht klar", "mach ruhig", "nur zu", "warum nicht", "sehr gerne",
               "ja bitte", "ja gerne", "aber gerne", "aber gern", "aber klar", "aber sicher")
NO_PHRASES = ("liever niet", "toch niet", "niet doen", "niet boeken", "niet betalen", "wil niet", "wil dit niet",
              "niet nodig", "klopt niet", "laat maar", "laat maar zitten", "no thanks", "no thank you", "not now",
              "don't", "do not", "changed my mind", "non merci", "pas maintenant", "ne pas", "pas question",
              "veux pas", "pas besoin", "pas pour moi", "n'en veux pas",
              "nein danke", "lieber nicht", "doch nicht", "nicht buchen", "nicht zahlen", "nicht bezahlen",
              "stimmt nicht", "will nicht", "mochte nicht", "moechte nicht", "bitte nicht", "nicht notig",
              "nicht noetig", "lass mal")
# Neither: the member is unsure, or adds a condition we cannot book. Asked again.
UNSURE = ("misschien", "weet niet", "weet ik niet", "weet nog niet", "weet ik nog niet", "nog niet", "geen idee",
          "nadenken", "denk erover", "maar", "behalve", "alleen als", "tenzij", "think about", "not yet",
          "reflechir", "pas encore",
          "maybe", "perhaps", "not sure", "don't know", "do not know", "no idea", "but", "except", "only if",
          "unless", "peut-etre", "sais pas", "je ne sais", "aucune idee", "mais", "sauf", "seulement si",
          "vielleicht", "weiss nicht", "weiß nicht", "weiss ich nicht", "weiß ich nicht", "noch nicht",
          "keine ahnung", "uberlegen", "ueberlegen", "aber", "außer", "ausser", "nur wenn", "es sei denn",
          "unsicher", "nicht sicher")
_YES_WORDS = {word for words in SAY_YES.values() for word in words}
_NO_WORDS = {word for words in SAY_NO.values() for word in words}
# An answer is read from the member's first lines: what follows is explanation.
ANSWER_LINES = 3


def token_address(settings, prefix: str, token: str) -> str:
    """Our plus address that carries `token` (group+PREFIX-TOKEN@domain), which find_token reads back."""
    group = settings.group
    return f"{group.local_part}+{prefix}-{token}@{group.domain}"


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


def _words(line: str) -> str:
    """A line folded to words separated by single spaces, with apostrophes kept."""
    return " " + " ".join(re.sub(r"[^\w'-]+", " ", fold(line).replace("’", "'")).split()) + " "


def answer(text: str) -> str | None:
    """"yes", "no", or None when the member's first lines say neither or both.

    "Ja, graag!", "ja hoor", "Oui merci", "oui, d'accord.", "Yes please", "No thanks",
    "Nee, toch niet", "Ja, gerne!", "Nein danke" (greetings and signatures are gone already: mailer/message/quotes.py)."""
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
