"""BOEKEN / BOOKS / COMPTES: the group's accounts, open to every member (article 9.3.1).

Members' balances as `[privacy] books` allows (each member's, the highest and lowest, or
only the totals); the association's and the solidarity fund's accounts; the year's
contributions in the unit and in euros; the budgets with what is left; the journal's head.
No address is ever shown: an address is no part of the books, so `[privacy]
show_addresses` changes nothing here, and a member without email is listed like any other.
"""
from __future__ import annotations

from db import books

from . import Command, Context, Reply


def handle(command: Command, ctx: Context) -> list[Reply]:
    return [Reply("books/shown", {"books": books.build(ctx.settings.privacy.books, ctx.today)})]
