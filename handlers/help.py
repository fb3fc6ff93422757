"""HULP / HELP / AIDE, and anything not understood: one example per command."""
from __future__ import annotations

from . import Command, Context, Reply


def handle(command: Command, ctx: Context) -> list[Reply]:
    return [Reply("help/shown", {"not_understood": command.kind == "unknown"})]
