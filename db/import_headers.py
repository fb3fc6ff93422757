"""The column headers other systems export, per field of ours, for `lets import` (db/importing.py)."""
from __future__ import annotations

# Headers other systems export, per field, best first (compared as lower-case letters and
# digits: "E-mail" is "email"). eLAS/eLAND's user export writes letscode, name, fullname,
# accountrole, status, adate (as "activeringsdatum"); its messages export letscode,
# content, msg_type, validity; Cyclos and CES key members by a login name or an account code;
# a group's own spreadsheet may say Lidnummer, Naam, E-mail, Saldo.
NUMBER = ["letscode", "lidnummer", "lidnr", "nummer", "nr", "code", "member number", "member no", "number",
          "account number", "account id", "account", "numéro", "numero de membre", "login name", "username",
          "gebruikersnaam", "identifiant", "login"]
# In a balances or listings file a "Member" column may hold a number, a code or an address.
MEMBER = [*NUMBER, "member", "lid", "membre", "user", "gebruiker", "utilisateur", "account holder"]
EMAIL = ["email", "e-mail address", "email address", "e-mailadres", "mailadres", "mail", "courriel",
         "adresse e-mail", "adresse email"]
HEADERS = {
    "members": {
        "number": NUMBER,
        "name": ["fullname", "full name", "volledige naam", "nom complet", "display name"],
        "short_name": ["name", "naam", "nom", "member name", "member", "lid", "membre"],
        "first_name": ["first name", "voornaam", "prénom", "given name"],
        "last_name": ["last name", "achternaam", "familienaam", "nom de famille", "surname", "family name"],
        "email": EMAIL,
        "language": ["language", "taal", "langue", "lang", "voorkeurstaal"],
        "type": ["type", "member type", "soort", "soort lid", "type de membre", "accountrole", "role", "rol",
                 "group", "groep", "groupe"],
        "status": ["status", "statut", "state", "toestand", "account status"],
        "joined": ["joined", "lid sinds", "member since", "membre depuis", "activeringsdatum", "adate",
                   "activation date", "registration date", "date d'inscription", "date d'adhésion", "adhésion",
                   "join date", "date joined", "joined on", "datum lidmaatschap", "startdatum", "created", "creation date", "cdate"],
        "born": ["birthday", "birth date", "date of birth", "geboortedatum", "date de naissance"],
        "adult": ["adult", "18+", "meerderjarig", "majeur", "over 18"],
        "paper": ["paper", "on paper", "papier", "op papier", "sur papier"],
    },
    "balances": {
        "number": MEMBER,
        "email": EMAIL,
        "balance": ["balance", "saldo", "solde", "balans", "stand", "account balance", "current balance",
                    "huidig saldo", "opening balance", "beginsaldo", "solde d'ouverture", "amount", "bedrag",
                    "montant", "hours", "uren", "heures", "tijdsaldo"],
    },
    "listings": {
        "number": MEMBER,
        "email": EMAIL,
        "kind": ["kind", "msg_type", "msgtype", "type", "soort", "vraag of aanbod", "vraag/aanbod",
                 "offer/request", "offre/demande", "type d'annonce", "ad type"],
        "title": ["title", "titel", "titre", "content", "subject", "onderwerp", "objet", "wat"],
        "description": ["description", "omschrijving", "beschrijving", "details", "texte", "tekst", "text"],
        "category": ["category", "categorie", "catégorie", "rubriek", "rubrique", "cat"],
        "expires": ["expires", "validity", "geldig tot", "geldigheid", "vervaldatum", "expiry", "expiry date",
                    "expiration", "valid until", "date d'expiration", "valable jusqu'au", "einddatum", "end date"],
        "created": ["created", "cdate", "date", "datum", "geplaatst", "posted", "date de publication"],
    },
}
REQUIRED = {"members": [("name", "short_name", "first_name", "last_name")],
            "balances": [("number", "email"), ("balance",)],
            "listings": [("number", "email"), ("kind",), ("title",)]}
