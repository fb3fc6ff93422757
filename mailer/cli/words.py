"""Amounts, members and refusals as a coordinator reads them on the command line."""
from __future__ import annotations

import click

from ..message.compose import LOCALES, _format_euro, _format_money
from ..message.terms import ACCOUNTS, amount_problem


def _locale(settings) -> str:
    return LOCALES.get(settings.group.language, "nl_NL")


def units(settings, cents: int) -> str:
    """"15,00 zonnen" in a Dutch group, "15.00 hours" in an English one: as the members read it."""
    group = settings.group
    return f"{_format_money(cents, _locale(settings))} {group.unit if abs(cents) == 100 else group.units}"


def euros(settings, cents: int) -> str:
    return _format_euro(cents, _locale(settings)).replace("\xa0", " ")


def member(row) -> str:
    """"An de Vries (member 3)": the name a coordinator knows, the number they type."""
    return f"{row.name} (member {row.number})"


def holder(account) -> str:
    """Whose account it is: a member by name and number, or the group's own account by its name."""
    if account is None:
        return "the payer"
    if account.member_id is not None:
        return member(account.member)
    return ACCOUNTS.get(account.code, {}).get("en", account.code)


def not_an_amount(text: str, code: str) -> click.ClickException:
    return click.ClickException(f"{text!r} is not an amount: {amount_problem(code, 'en')}")


def refusal(settings, exc, payer=None) -> click.ClickException:
    """A ledger refusal (db/ledger.py LedgerError) in words, amounts in the group's unit."""
    context = exc.context
    said = {
        "same-account": lambda: "payer and payee are the same account",
        "amount": lambda: "the amount must be more than zero",
        "no-description": lambda: "a transfer needs a description",
        "inactive": lambda: f"{context.get('name')} is {context.get('status')} and cannot trade now",
        "not-pending": lambda: f"the transfer is already {context.get('state')}",
        "no-such-transfer": lambda: f"there is no transfer #{context.get('number')}",
        "unknown-member": lambda: f"no member or account {context.get('who')!r}",
        "over-lower": lambda: (
            f"{holder(payer)} would go below the lower limit of {units(settings, context['lower'])}: "
            f"the balance is {units(settings, context['balance'])}, "
            f"room for at most {units(settings, context['room'])}"),
    }.get(exc.code)
    return click.ClickException(said() if said else str(exc))
