"""The group's category list: a code per category, its name in each language, and what members type for it.

Members write a category in any of the group's languages, with or without capitals,
accents or a plural ("Tuinieren", "GARDEN", "jardinage", "Gärten"); listings and ONLY
choices store the code, and every reader sees the name in their own language. The list
is the setting `[listings] categories`, one category per line:

    garden: Tuin | Garden | Jardin | Garten | tuinieren, gardening, jardinage, gartenarbeit

The German name came later: a line of four parts is read as before (Dutch, English,
French and the other words), and German readers see its English name.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import cached_property

LANGUAGES = ("nl", "en", "fr", "de")   # the order of the names on a line; as db.models.LANGUAGES
OTHER = "other"                  # where a listing goes whose category we do not know
CODE = re.compile(r"^[a-z][a-z0-9-]{0,39}$")
# What a typed word may be an inflection of: plurals and the like, tried when the word
# itself is no name ("kinderen" → "kind", "animaux" → "animal", "classes" → "class").
ENDINGS = (("eren", ""), ("aux", "al"), ("ies", "y"), ("en", ""), ("es", ""), ("s", ""), ("x", ""), ("e", ""))
# A typed word that starts with a name of at least this many letters is that category
# ("tuinieren" → tuin, "gardening" → garden); shorter names must match whole.
PREFIX_LENGTH = 4

DEFAULT_TEXT = """\
garden: Tuin | Garden | Jardin | Garten | tuinieren, tuinwerk, tuinman, moestuin, snoeien, gras maaien, planten, \
gardening, gardener, lawn, plants, jardinage, jardinier, potager, plantes, \
gartenarbeit, gärtnern, rasen mähen, pflanzen, gemüsegarten
transport: Vervoer | Transport | Transport | Transport | verhuizen, verhuizing, fiets, fietsen, auto, rijden, lift, \
moving, bike, bicycle, car, ride, déménagement, vélo, voiture, covoiturage, \
umzug, umziehen, fahrrad, mitfahrt, fahrdienst
odd-jobs: Klussen | Odd jobs | Bricolage | Handwerk | klus, klusjes, reparatie, repareren, timmeren, schilderen, \
jobs, repairs, repair, diy, handyman, painting, réparation, réparations, travaux, peinture, \
reparatur, reparaturen, reparieren, heimwerken, streichen, hausmeister
computer: Computer | Computers | Informatique | Computer | computerhulp, informatica, pc, laptop, internet, smartphone, \
telefoon, ict, it, ordinateur, ordi, téléphone, \
computerhilfe, handy, informatik
cooking: Koken | Cooking | Cuisine | Kochen | eten, maaltijd, maaltijden, bakken, taart, food, meals, baking, cakes, \
repas, pâtisserie, nourriture, alimentation, confiture, \
essen, mahlzeiten, backen, kuchen, lebensmittel
lessons: Lessen | Lessons | Cours | Unterricht | les, bijles, taalles, onderwijs, lesgeven, tutoring, teaching, classes, \
leçons, soutien scolaire, formation, \
nachhilfe, sprachunterricht, kurse, lehren
children: Kinderen | Children | Enfants | Kinder | kind, kinderopvang, oppas, oppassen, babysit, babysitten, \
childcare, kids, babysitting, enfant, garde d'enfants, baby-sitting, \
kinderbetreuung, kinderhüten, babysitter
care: Zorg | Care | Soins | Pflege | verzorging, gezondheid, massage, welzijn, boodschappen, gezelschap, health, \
wellbeing, company, shopping, santé, bien-être, compagnie, \
gesundheit, einkaufen, gesellschaft, wohlbefinden
clothing: Kleding | Clothing | Vêtements | Kleidung | kleren, naaien, verstellen, breien, clothes, sewing, mending, \
knitting, couture, tricot, retouches, \
kleider, nähen, stricken, flicken
goods: Spullen | Goods | Objets | Gegenstände | spul, lenen, uitlenen, gereedschap, meubels, boeken, tweedehands, things, \
lending, tools, furniture, books, second-hand, prêt, outils, meubles, livres, \
sachen, ausleihen, verleihen, werkzeug, möbel, bücher, gebraucht
pets: Huisdieren | Pets | Animaux | Haustiere | huisdier, dieren, hond, kat, uitlaten, animals, dog, cat, dog walking, \
chien, chat, \
tiere, hund, katze, gassi gehen
creative: Creatief | Creative | Créatif | Kreatives | creatieve, kunst, muziek, fotografie, knutselen, art, arts, music, \
photography, crafts, créative, musique, photo, artisanat, \
kreativ, musik, basteln
paperwork: Administratie | Paperwork | Administratif | Papierkram | papierwerk, belastingen, formulieren, brieven, \
vertalen, vertaling, administration, taxes, forms, letters, translation, papiers, impôts, formulaires, \
traduction, \
verwaltung, steuern, formulare, briefe, übersetzen, übersetzung
household: Huishouden | Household | Ménage | Haushalt | huishoudelijk, schoonmaken, poetsen, strijken, wassen, cleaning, \
ironing, laundry, housework, maison, nettoyage, repassage, lessive, \
putzen, bügeln, wäsche, reinigung
other: Overig | Other | Divers | Sonstiges | overige, anders, diversen, misc, miscellaneous, autre, autres, \
andere, anderes, verschiedenes
"""


class CategoryError(ValueError):
    pass


def key(text: str) -> str:
    """Lower case letters and digits only: "Odd jobs", "odd-jobs" and "ODDJOBS" are one key."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(c for c in decomposed if c.isalnum() and not unicodedata.combining(c))


def _forms(word: str):
    """What `word` may be a plural or inflection of, longest first."""
    for ending, replacement in ENDINGS:
        if word.endswith(ending) and len(word) - len(ending) >= 3:
            stem = word[:-len(ending)] + replacement
            yield stem
            if len(stem) >= 4 and stem[-1] == stem[-2] and stem[-1] not in "aeiou":
                yield stem[:-1]       # Dutch doubles the consonant: klussen → kluss → klus


@dataclass(frozen=True)
class Category:
    code: str
    names: tuple[str, ...]            # in LANGUAGES order; "" where the line names none
    aliases: tuple[str, ...] = ()

    def name(self, language: str) -> str:
        """The name in `language`; the English one where the list has none in it."""
        index = LANGUAGES.index(language) if language in LANGUAGES else 1
        return (self.names[index] if index < len(self.names) else "") or self.names[1]


@dataclass(frozen=True)
class Categories:
    items: tuple[Category, ...]

    @cached_property
    def _by_code(self) -> dict[str, Category]:
        return {category.code: category for category in self.items}

    @cached_property
    def _index(self) -> tuple[dict[str, str], dict[str, str]]:
        """(key → code) of every code, name and alias; (form → code) of their inflections,
        kept only where no other category claims the same form."""
        exact: dict[str, str] = {}
        for category in self.items:
            for word in (category.code, *filter(None, category.names), *category.aliases):
                k = key(word)
                if k and exact.setdefault(k, category.code) != category.code:
                    raise CategoryError(f"{word!r} names both {exact[k]} and {category.code}")
        forms: dict[str, str | None] = {}
        for k, code in exact.items():
            for form in _forms(k):
                if form not in exact:
                    forms[form] = code if forms.get(form, code) == code else None
        return exact, {form: code for form, code in forms.items() if code}

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(category.code for category in self.items)

    def find(self, text: str) -> str | None:
        """The code of the category `text` names, in any language; None when it names none."""
        exact, forms = self._index
        whole = key(text)
        if not whole:
            return None
        words = [key(word) for word in re.split(r"[\s,;/&+]+", text) if len(key(word)) >= 3]
        for candidate in (whole, *words):
            for form in (candidate, *_forms(candidate)):
                if form in exact:
                    return exact[form]
                if form in forms:
                    return forms[form]
        for candidate in (whole, *words):
            starts = [k for k in exact if len(k) >= PREFIX_LENGTH and candidate.startswith(k)]
            if starts:
                return exact[max(starts, key=len)]
        return None

    def code_for(self, text: str) -> str:
        """The code to store for what a member typed: `other` when it names no category."""
        return self.find(text) or OTHER

    def known(self, code: str) -> bool:
        return code in self._by_code

    def name(self, code: str, language: str) -> str:
        """The category's name for a reader of `language`; a code no longer in the list
        reads as "other" until `lets init` moves its listings there."""
        category = self._by_code.get(code) or self._by_code.get(OTHER)
        return category.name(language) if category else code

    def names(self, language: str) -> list[str]:
        return [category.name(language) for category in self.items]

    def position(self, code: str) -> int:
        """Where the category stands in the group's list, for showing categories in its order."""
        codes = self.codes
        return codes.index(code) if code in codes else codes.index(OTHER)


def parse(text: str) -> Categories:
    """The list from its settings text: one `code: nl | en | fr | de | alias, alias…` a line
    (or separated by `;`, as an environment variable holds it); the German name and the
    aliases may be left out, and `code: nl | en | fr | alias, alias…` has no German name."""
    items = []
    for number, line in enumerate(re.split(r"[\n;]", text), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        code, colon, rest = line.partition(":")
        code = code.strip().lower()
        parts = [part.strip() for part in rest.split("|")]
        if not colon or not CODE.match(code):
            raise CategoryError(f"category {number}: {line[:60]!r} does not start with a code such as garden:")
        if len(parts) not in (3, 4, 5) or not all(parts[:3]):
            raise CategoryError(f"category {code}: write its Dutch, English and French name separated by |, "
                                "then optionally | its German name, and | other words members may use, "
                                "separated by commas")
        german = parts[3] if len(parts) == 5 else ""
        aliases = tuple(a.strip() for a in parts[-1].split(",") if a.strip()) if len(parts) > 3 else ()
        items.append(Category(code, (parts[0], parts[1], parts[2], german), aliases))
    categories = Categories(tuple(items))
    if len(set(categories.codes)) != len(items):
        raise CategoryError("a category code appears twice")
    if OTHER not in categories.codes:
        raise CategoryError(f"the list needs a category with the code {OTHER}: where unknown categories go")
    categories._index  # noqa: B018 - a name used by two categories is a settings error, found now
    return categories


DEFAULT = parse(DEFAULT_TEXT)
