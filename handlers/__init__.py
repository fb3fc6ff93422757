"""What each kind of message does. Handlers know no sockets and no templates engine:
they change the database and return the replies to send, as template names and context."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Command:
    """A member's command as the router understood it."""
    kind: str                 # offer, request, withdraw, renew, list, mine, balance, help, unknown
    language: str | None      # language of the command word, None when not recognised
    argument: str = ""        # the rest of the command line, after the command word
    body: str = ""            # the lines after the command line (or the body under a subject command)


@dataclass
class Reply:
    """One mail to send: template `<kind>/<outcome>` rendered in the recipient's language."""
    template: str
    context: dict[str, Any] = field(default_factory=dict)
    to: str | None = None          # an address; None means the sender of the inbound mail
    language: str | None = None    # None: the recipient member's language, else the command's
    headers: dict[str, str] = field(default_factory=dict)
    # Bulk mail (instant listings, announcements): List-* headers and a VERP return path.
    bulk: bool = False
    # The one listing this mail presents: a trade that replies to it is linked to it.
    listing_id: int | None = None
    # The mail this one answers, as (Message-ID, References), for threading. A reply
    # without `to` answers the inbound mail; one with `to` answers none unless named here.
    answers: tuple[str, tuple[str, ...]] | None = None
    # An iCalendar part for an activity: (METHOD, activity id, the sign-up's own sequence),
    # METHOD REQUEST or CANCEL.
    calendar: tuple[str, int, int] | None = None


@dataclass(frozen=True)
class Term:
    """A word the code or the database chose, printed in the reader's language: `kind` is
    party (an account holder's name), description, entered_by, transfer_state,
    member_status or category (mailer/message/compose.py prints it through mailer/message/terms.py)."""
    kind: str
    value: str

    def __str__(self) -> str:
        return self.value


class Refusal(Exception):
    """A member's mistake: nothing is changed, and this reply explains what to do instead."""

    def __init__(self, template: str, **context):
        super().__init__(template)
        self.reply = Reply(template, context)


@dataclass
class Context:
    """What a handler may know about the mail it handles."""
    settings: Any
    sender: str
    member: Any               # db.models.Member, or None for a non-member
    inbound: Any              # db.models.InboundMessage, or None in a dry run
    now: dt.datetime          # UTC, naive
    mail: Any = None          # the parsed mail (mailer.message.parse.Inbound): subject, rcpt_tos, references…

    @property
    def today(self) -> dt.date:
        return self.now.date()
