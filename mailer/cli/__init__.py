"""The `lets` command line: the group and what its commands share in app.py, one module per command group."""
from . import (  # noqa: F401  (each module registers its commands on the group)
    activity,
    announce,
    budget,
    config,
    contributions,
    coordinators,
    digest,
    dns,
    donors,
    euro,
    guide,
    importing,
    init,
    ledger,
    meeting,
    members,
    privacy,
    report,
    sanctions,
    serve,
    status,
    trades,
)
from .app import main

__all__ = ["main"]
