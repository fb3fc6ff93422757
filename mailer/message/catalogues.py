"""The templates' words in each language: gettext catalogues under templates/locale/.

One template tree holds the layout; `{% trans %}` marks its words, English as written
(the msgids), and templates/locale/<lang>/LC_MESSAGES/messages.po holds each language's
own. The .po files are read and compiled in memory once per process, so a translator's
edit needs no build step and no binary file lives in the repository.
"""
from __future__ import annotations

import functools
import io
from pathlib import Path

import jinja2
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations
from markupsafe import Markup


class Catalogues:
    def __init__(self, root: Path):
        self.root = root

    @functools.lru_cache(maxsize=None)
    def translations(self, language: str) -> NullTranslations:
        """The language's catalogue, or none (the English msgids) where there is no file."""
        path = self.root / language / "LC_MESSAGES" / "messages.po"
        if not path.exists():
            return NullTranslations()
        with path.open("rb") as po:
            catalog = read_po(po, locale=language)
        compiled = io.BytesIO()
        write_mo(compiled, catalog, use_fuzzy=False)    # a fuzzy entry is not a translation
        compiled.seek(0)
        return Translations(compiled)

    @functools.lru_cache(maxsize=None)
    def functions(self, language: str) -> dict:
        """gettext and ngettext for a render in `language`, as Jinja's newstyle i18n calls
        them: the variables are filled in here, and in HTML the words are escaped as text."""
        translations = self.translations(language)

        @jinja2.pass_context
        def gettext(ctx, message: str, **variables) -> str:
            text = translations.gettext(message)
            return (Markup(text) if ctx.eval_ctx.autoescape else text) % variables

        @jinja2.pass_context
        def ngettext(ctx, singular: str, plural: str, number: int, **variables) -> str:
            variables.setdefault("num", number)
            text = translations.ngettext(singular, plural, number)
            return (Markup(text) if ctx.eval_ctx.autoescape else text) % variables

        return {"gettext": gettext, "ngettext": ngettext, "_": gettext}
