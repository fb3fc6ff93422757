"""Templates → MIME: every mail we send, as text with an HTML alternative, in the reader's language.

A template `templates/<lang>/<kind>/<outcome>.txt` starts with a `Subject:` line and a
blank line. The HTML alternative is `<outcome>.html` when it exists, otherwise the text
wrapped by `templates/layout.html`. The header block goes through the stdlib email
package (compat32), the bodies through binascii (assemble.py): 0.3 ms a reply against
2 ms with the email.mime classes and 2.8 ms with EmailMessage on policy.default.
"""
from __future__ import annotations

import datetime as dt
import email.utils
import functools
import re
import secrets
from dataclasses import dataclass
from email.header import Header
from pathlib import Path

import jinja2
from babel.dates import format_date, format_datetime, format_skeleton
from babel.numbers import format_currency, format_decimal
from markupsafe import Markup, escape

from db import tokens
from db.money import to_decimal
from handlers import Term

from . import terms
from .assemble import assemble
from .catalogues import Catalogues
from ..settings import PROJECT_ROOT, Settings

TEMPLATES = PROJECT_ROOT / "templates"
LOCALES = {"nl": "nl_NL", "en": "en_GB", "fr": "fr_FR", "de": "de_DE"}


@dataclass
class Outgoing:
    key: str
    message_id: str
    mail_from: str
    recipient: str
    raw: bytes
    kind: str


# A token tag at the end of a subject: "[t-…]", "[a-…]", "[c-…]".
_TOKEN_TAG = re.compile(r"\s(\[[a-z]-[a-z2-7]{24}\])$")


def _subject_header(subject: str):
    """The Subject as written: plain when ASCII, else an encoded word. A token tag stays
    outside the encoded word, as plain ASCII, so the outbox can seal it (db/tokens.py)
    and mail programs still show it."""
    if subject.isascii():
        return subject
    tag = _TOKEN_TAG.search(subject)
    # A Header object, not its encoded string: the generator then folds it without an
    # empty first line, which readers show as a leading space.
    header = Header(subject[:tag.start()] if tag else subject, "utf-8", header_name="Subject")
    if tag:
        header.append(" " + tag.group(1), "us-ascii")
    return header


def header_safe(value: str) -> str:
    """One line: CR/LF in a member's name or title must never start a new header."""
    return re.sub(r"[\r\n\x00]+", " ", str(value)).strip()


class Composer:
    def __init__(self, settings: Settings, templates: Path = TEMPLATES):
        self.settings = settings
        self.env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(str(templates)),
            # {% trans %} / _(): the words come from the reader's catalogue (catalogues.py).
            extensions=["jinja2.ext.i18n"],
            undefined=jinja2.StrictUndefined,
            autoescape=jinja2.select_autoescape(enabled_extensions=("html",), default_for_string=False),
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=True,
            # Read once per process: a stat of each template file for every mail of a digest
            # run cost more than building the mail. A changed template needs a restart.
            auto_reload=False,
            # A Term a handler put into the context (handlers.Term) prints in the reader's
            # language, like the filters below do for values taken straight from a row.
            finalize=self._finalize,
        )
        self.env.filters.update(money=self._money, date=self._date, datetime=self._datetime, euro=self._euro,
                                category=self._category, party=self._party, description=self._description,
                                entered_by=self._entered_by, transfer_state=self._transfer_state,
                                member_status=self._member_status, amount_problem=self._amount_problem)
        self.env.install_null_translations(newstyle=True)
        self.categories = settings.listings.categories
        self.templates = templates
        self.catalogues = Catalogues(templates / "locale")
        self._html_exists: dict[str, bool] = {}

    # -- formatting filters: numbers and dates as the reader's language writes them
    def _locale(self, ctx) -> str:
        return LOCALES.get(ctx.get("language", "nl"), "nl_NL")

    @jinja2.pass_context
    def _money(self, ctx, cents) -> str:
        return _format_money(cents or 0, self._locale(ctx))

    @jinja2.pass_context
    def _euro(self, ctx, cents) -> str:
        return _format_euro(cents or 0, self._locale(ctx))

    @jinja2.pass_context
    def _date(self, ctx, value, form="long") -> str:
        if isinstance(value, dt.datetime):
            value = value.date()  # babel drops the time too; a datetime would never hit the cache
        return _format_date(value, form, self._locale(ctx)) if value else ""

    @jinja2.pass_context
    def _datetime(self, ctx, value, form="medium") -> str:
        locale = self._locale(ctx)
        if locale.startswith("de"):
            # German writes the day as an ordinal after a comma: "Samstag, 5. Dezember".
            form = form.replace("d MMMM", "d. MMMM").replace("EEEE d", "EEEE, d")
        return format_datetime(value, format=form, locale=locale,
                               tzinfo=self.settings.group.timezone) if value else ""

    # -- words from the code or the database, in the reader's language (mailer/terms.py)
    @jinja2.pass_context
    def _category(self, ctx, code) -> str:
        return self.categories.name(str(code), ctx.get("language", "nl")) if code else ""

    @jinja2.pass_context
    def _party(self, ctx, name) -> str:
        return terms.party(str(name), ctx.get("language", "nl"))

    @jinja2.pass_context
    def _description(self, ctx, text) -> str:
        language = ctx.get("language", "nl")
        locale = LOCALES.get(language, "nl_NL")
        return terms.description(str(text), language, lambda cents: _format_euro(cents, locale))

    @jinja2.pass_context
    def _entered_by(self, ctx, who) -> str:
        return terms.entered_by(str(who), ctx.get("language", "nl"))

    @jinja2.pass_context
    def _transfer_state(self, ctx, state) -> str:
        return terms.transfer_state(str(state), ctx.get("language", "nl"))

    @jinja2.pass_context
    def _member_status(self, ctx, status) -> str:
        return terms.member_status(str(status), ctx.get("language", "nl"))

    @jinja2.pass_context
    def _amount_problem(self, ctx, code) -> str:
        return terms.amount_problem(str(code), ctx.get("language", "nl"))

    @jinja2.pass_context
    def _finalize(self, ctx, value):
        if type(value) is Term:
            return self.env.filters[value.kind](ctx, value.value)
        return value

    def common(self, language: str) -> dict:
        group = self.settings.group
        return {
            **self.catalogues.functions(language),
            "group": group.name, "group_address": group.address, "unit": group.unit,
            "units": group.units, "language": language, "admins": group.admins,
            # The group's guide price per hour (article 17.4), shown with offers without a price.
            "guide_rate": self.settings.listings.guide_rate_cents,
        }

    def _exists(self, name: str) -> bool:
        if name not in self._html_exists:
            self._html_exists[name] = (self.templates / name).exists()
        return self._html_exists[name]

    def source(self, template: str, suffix: str) -> str:
        """The file of `template` ("trade/confirm") in the one tree: "trade/confirm.txt"."""
        return f"{template}.{suffix}"

    def has_html(self, template: str, language: str) -> bool:
        """Whether `template` has its own HTML; without, the HTML is made from the text."""
        return self._exists(self.source(template, "html"))

    def render(self, template: str, language: str, context: dict) -> tuple[str, str, str]:
        """(subject, text, html) of `template` in `language`."""
        full = {**self.common(language), **context}
        rendered = self.env.get_template(self.source(template, "txt")).render(full)
        # The subject is the first line alone, then a blank line. A block tag at the end of
        # the subject line eats its newline (trim_blocks): the body would then run into the
        # subject, so such a template is refused rather than sent with its text as subject.
        head, _, text = rendered.partition("\n")
        if not head.startswith("Subject:") or not text.startswith("\n"):
            raise ValueError(f"{template}.txt ({language}) must start with a one-line Subject: and a blank line")
        text = text[1:]
        subject = header_safe(head[len("Subject:"):])
        if self.has_html(template, language):
            html = self.env.get_template(self.source(template, "html")).render(full, subject=subject)
        else:
            html = self.env.get_template("layout.html").render(
                full, subject=subject, paragraphs=text_to_html(text))
        return subject, text, html

    def compose(self, template: str, language: str, context: dict, *, to: str,
                reply_to_message=None, kind: str = "reply", headers: dict | None = None,
                mail_from: str | None = None, calendar: tuple[str, str] | None = None) -> Outgoing:
        """A complete message to `to`. `reply_to_message` is the inbound (message_id, references)."""
        subject, text, html = self.render(template, language, context)
        group = self.settings.group
        message_id = email.utils.make_msgid("lets", domain=group.domain)
        head = [
            ("From", email.utils.formataddr((header_safe(group.name), group.address), "utf-8")),
            ("To", header_safe(to)),
            ("Subject", _subject_header(subject)),
            ("Date", mail_date()),
            ("Message-ID", message_id),
        ]
        if reply_to_message is not None:
            parent_id, references = reply_to_message
            head += [("In-Reply-To", parent_id), ("References", " ".join([*references[-10:], parent_id])),
                     ("Auto-Submitted", "auto-replied")]
        else:
            head.append(("Auto-Submitted", "auto-generated"))
        # X-Loop lets a copy of our own mail that comes back be recognised and dropped.
        head += [("X-Loop", group.address), ("Content-Language", language)]
        head += [(name, header_safe(value)) for name, value in (headers or {}).items()]
        return Outgoing(
            key=secrets.token_hex(16),
            message_id=message_id,
            mail_from=mail_from or group.address,
            recipient=to,
            raw=tokens.seal(assemble(head, text, html, calendar), self.settings.secret()),
            kind=kind,
        )


@functools.lru_cache(maxsize=4096)
def _format_money(cents: int, locale: str) -> str:
    # babel re-parses the locale and pattern on every call (~0.1 ms); a digest run
    # formats the same few amounts thousands of times.
    return format_decimal(to_decimal(cents), format="#,##0.00", locale=locale)


@functools.lru_cache(maxsize=1024)
def _format_date(value, form: str, locale: str) -> str:
    # Most dates in a day's mail are the same few (today, an expiry date): 0.1 ms each in babel.
    if form == "day":   # a yearly day without its year: "1 december", "December 1", "1 décembre"
        return format_skeleton("MMMMd", value, locale=locale)
    return format_date(value, format=form, locale=locale)


@functools.lru_cache(maxsize=1024)
def _format_euro(cents: int, locale: str) -> str:
    # "€ 12,50" in Dutch, "€12.50" in English, "12,50 €" in French.
    return format_currency(to_decimal(cents), "EUR", locale=locale)


_URL = re.compile(r"(mailto:[^\s<>()]+|https?://[^\s<>()]+)")


def text_to_html(text: str) -> list[Markup]:
    """Paragraphs of escaped text with links made clickable, for the HTML layout."""
    out = []
    for block in re.split(r"\n\s*\n", text.strip()):
        # Plain strings, made Markup once per paragraph: a Markup per piece cost more
        # than the rest of a receipt's HTML.
        pieces = [f'<a href="{escape(piece)}">{escape(piece.split("?")[0])}</a>' if i % 2 else str(escape(piece))
                  for i, piece in enumerate(_URL.split(block))]
        out.append(Markup("".join(pieces).replace("\n", "<br>\n")))
    return out


def mail_date() -> str:
    """The Date header: now, in UTC as "+0000". formatdate(localtime=False) writes "-0000",
    which RFC 5322 3.3 reserves for a time whose zone is unknown."""
    return email.utils.format_datetime(dt.datetime.now(dt.timezone.utc))


def now_utc() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
