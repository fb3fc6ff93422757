"""HULP / HELP / AIDE / HILFE, and anything not understood: one example per command, and, for
mail we did not understand, first the example that fits what the member seemed to want."""
from __future__ import annotations

import re

from . import Command, Context, Reply
from .commands import fold

# What a member who wrote no command seems to want, from the words of the mail (folded,
# compared as word beginnings), in the order tried: "ik wil Piet betalen voor de soep"
# gets the payment example. The examples are the help mail's own (templates/*/help/).
INTENTS = (
    ("invoice", ("factuur", "factureer", "rekening sturen", "invoice", "bill ", "facture", "facturer", "rechnung")),
    ("pay", ("betaal", "betalen", "betaling", "overmaken", "overboeken", "pay", "paid", "payment", "payer", "paie",
             "paiement", "regler", "virement", "verser", "zahl", "bezahl", "uberweis", "ueberweis")),
    ("withdraw", ("intrekken", "verwijder", "weghalen", "haal", "withdraw", "remove", "delete", "take down",
                  "retirer", "supprimer", "enlever", "zuruckzieh", "zurueckzieh", "losch", "loesch", "entfern")),
    ("offer", ("aanbieden", "bied", "ik kan", "i can", "offering", "offer", "je peux", "propose", "proposer",
               "anbieten", "biete", "ich kann")),
    ("request", ("zoek", "gezocht", "nodig", "wie kan", "looking for", "need", "wanted", "anyone", "cherche",
                 "besoin", "quelqu'un", "suche", "gesucht", "brauche", "wer kann", "jemand")),
    ("balance", ("saldo", "balance", "solde", "hoeveel", "how much", "how many", "combien", "kontostand", "wie viel",
                 "wieviel")),
)


def intent(text: str) -> str | None:
    """The kind of command a mail without one seems to ask for, or None."""
    words = " " + " ".join(re.sub(r"[^\w'@.]+", " ", fold(text)).split()) + " "
    for kind, beginnings in INTENTS:
        if any(f" {beginning}" in words for beginning in beginnings):
            return kind
    return None


def handle(command: Command, ctx: Context) -> list[Reply]:
    unknown = command.kind == "unknown"
    subject = ctx.mail.subject if ctx.mail is not None else ""
    hint = intent(f"{subject}\n{command.body}") if unknown else None
    return [Reply("help/shown", {"not_understood": unknown, "hint": hint})]
