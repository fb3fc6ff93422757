"""The `lets` command line: one module per command group, the group itself in app.py."""
from .app import main

__all__ = ["main"]
